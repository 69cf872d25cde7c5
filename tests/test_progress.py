"""The progress bar picks tqdm's text bar in a notebook without ipywidgets
(tqdm.auto would warn and draw a broken widget), the notebook widget when
ipywidgets is there, and a plain stderr line without tqdm.

A Jupyter kernel is simulated headlessly: ``IPython.get_ipython()`` returns
a shell whose class is named ZMQInteractiveShell, as in a real kernel.
"""

from __future__ import annotations

import sys
import types
import warnings

import pytest
import tqdm as tqdm_module

from kafkars import _progress
from kafkars._progress import Progress


class ZMQInteractiveShell:  # the class name a Jupyter kernel's shell has
    pass


class TerminalInteractiveShell:  # plain `ipython` in a terminal
    pass


def _fake_ipython(monkeypatch: pytest.MonkeyPatch, shell: object | None) -> None:
    mod = types.ModuleType("IPython")
    mod.get_ipython = lambda: shell  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", mod)


def _no_ipywidgets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import raises ImportError


def test_notebook_without_ipywidgets_uses_the_text_bar(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _fake_ipython(monkeypatch, ZMQInteractiveShell())
    _no_ipywidgets(monkeypatch)
    assert _progress._in_notebook()
    assert _progress._tqdm() is tqdm_module.tqdm
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # tqdm's "IProgress not found" warning would fail here
        p = Progress(1000, "kafkars replay")
        p.update(400)
        p.update(600)
        p.close()
    err = capsys.readouterr().err
    assert "kafkars replay" in err and "1.00k/1.00k" in err, err
    assert "IProgress" not in err and "ipywidgets" not in err, err


def test_notebook_with_ipywidgets_uses_the_widget(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_ipython(monkeypatch, ZMQInteractiveShell())
    monkeypatch.setitem(sys.modules, "ipywidgets", types.ModuleType("ipywidgets"))
    monkeypatch.delitem(sys.modules, "tqdm.notebook", raising=False)
    from tqdm.notebook import tqdm as notebook_tqdm

    assert _progress._tqdm() is notebook_tqdm


@pytest.mark.parametrize("shell", [None, TerminalInteractiveShell()], ids=["plain python", "terminal ipython"])
def test_outside_a_notebook_uses_the_text_bar(shell: object | None, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_ipython(monkeypatch, shell)
    assert not _progress._in_notebook()
    assert _progress._tqdm() is tqdm_module.tqdm


def test_without_ipython_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "IPython", None)
    assert not _progress._in_notebook()
    assert _progress._tqdm() is tqdm_module.tqdm


def test_without_tqdm_prints_a_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _fake_ipython(monkeypatch, ZMQInteractiveShell())
    monkeypatch.setitem(sys.modules, "tqdm", None)
    assert _progress._tqdm() is None
    p = Progress(2000, "kafkars replay")
    p.update(1500)
    p.close()
    err = capsys.readouterr().err
    assert "kafkars replay: 1,500/2,000 records" in err, err
