"""Every Python code block in docs/ runs against the local broker.

The blocks of one page run in order in one namespace (a page may build on
its earlier blocks). "localhost:9092" becomes the test broker's address
and "http://localhost:8081" the test schema registry's; the topics the docs
use (trades, quotes, news; orders in Avro; trades-copy, trades-dlq,
orders-out and fills-out, empty, for the producing guide) are created and filled with the
demo's data set first.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from devtools.demo import dataset
from devtools.kafkatool import KafkaTool, Record
from devtools.registry import LocalRegistry
from devtools.serde import avro_serializer

pytestmark = pytest.mark.broker

DOCS = Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(path: Path) -> list[tuple[int, str]]:
    text = path.read_text()
    return [(text[: m.start()].count("\n") + 2, m.group(1)) for m in BLOCK.finditer(text)]


PAGES = sorted(p for p in DOCS.rglob("*.md") if python_blocks(p))


ORDER_SCHEMA = """{"type": "record", "name": "Order", "namespace": "shop",
 "fields": [{"name": "id", "type": "long"}, {"name": "sym", "type": "string"},
            {"name": "qty", "type": "int"}, {"name": "px", "type": "double"}]}"""


@pytest.fixture(scope="session")
def docs_topics(tool: KafkaTool, registry: LocalRegistry) -> None:
    for name, parts in [("trades", 8), ("quotes", 4), ("news", 1), ("orders", 2), ("trades-copy", 8), ("trades-dlq", 1), ("orders-out", 1), ("fills-out", 1)]:
        tool.create_topic(name, parts)
    t0 = int(time.time() * 1000) - 2 * 3_600_000
    tool.produce(dataset(20_000, t0))
    enc = avro_serializer(registry.url, ORDER_SCHEMA, topic="orders")
    tool.produce(Record("orders", enc({"id": i, "sym": f"S{i % 7}", "qty": i % 100, "px": 100 + i / 100}),
                        partition=i % 2, ts=t0 + i * 1000) for i in range(2000))


def test_docs_have_examples() -> None:
    assert len(PAGES) >= 6, PAGES


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_doc_examples_run(page: Path, kafka, registry: LocalRegistry, docs_topics: None, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for line, code in python_blocks(page):
        code = code.replace("localhost:9092", kafka.bootstrap).replace("http://localhost:8081", registry.url)
        try:
            exec(compile(code, f"{page.relative_to(DOCS)}:{line}", "exec"), namespace)  # noqa: S102
        except Exception as exc:
            raise AssertionError(f"{page.relative_to(DOCS)}, block at line {line} failed: {exc!r}\n{code}") from exc
