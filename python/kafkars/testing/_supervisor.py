"""Keep a child process (the Kafka JVM) from outliving the process that wanted it.

Usage: ``python -I path/to/_supervisor.py <log_path> -- <command...>``
(:func:`command` builds that line). It is run as a file in isolated mode,
not as ``-m kafkars.testing._supervisor``: it needs only the standard
library, and must not import kafkars (whose native library holds a Go
runtime, which a process should not fork under, and this one forks the
child with a ``preexec_fn``).

A JVM started directly by a test process survives that process being killed
with SIGKILL or crashing: nothing tells the JVM, and it keeps its ports and
memory until someone notices. The owner therefore starts this small
supervisor with a pipe on its stdin and keeps the write end open without ever
writing. The kernel closes that pipe however the owner ends (clean exit,
exception, SIGKILL, segfault), so EOF on stdin is a reliable "owner is gone"
signal, unlike polling the parent pid, which races with reparenting.

On EOF, or on SIGTERM/SIGINT/SIGHUP to the supervisor itself (how the owner
asks for a graceful stop), the child's whole process group gets SIGTERM, then
SIGKILL after a grace period. If the child exits by itself, the supervisor
exits with the child's status.

The child runs in a new session (hence its own process group) so that a
terminal's Ctrl-C reaches it only through the supervisor, and so that killing
the group catches anything the JVM may have spawned.

If the supervisor itself is SIGKILLed (say a CI timeout kills the test
runner's whole process group, which does not include the child's new
session), nobody is left to forward anything; on Linux the child therefore
also gets PR_SET_PDEATHSIG, so the kernel SIGKILLs it when the supervisor
dies.

Once the child is running its pid is written as one line to stdout, so the
owner can still kill the group directly if the supervisor itself is gone.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from collections.abc import Callable
from types import FrameType

GRACE_SECONDS = 15.0
POLL_SECONDS = 0.2

_stop_requested = False


def _request_stop(signum: int, frame: FrameType | None) -> None:
    global _stop_requested
    _stop_requested = True


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _exit_status(returncode: int) -> int:
    """Map Popen's negative 'killed by signal' codes to the shell's 128+N."""
    return 128 - returncode if returncode < 0 else returncode


def _stdin_closed(fd: int) -> bool:
    """True once the owner's end of the pipe is closed; swallows any stray bytes."""
    readable, _, _ = select.select([fd], [], [], POLL_SECONDS)
    if not readable:
        return False
    try:
        return os.read(fd, 65536) == b""
    except OSError:
        return True


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn arming PR_SET_PDEATHSIG on Linux; None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def arm() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:  # we died before the signal was armed
            os._exit(1)

    return arm


def _terminate(child: subprocess.Popen[bytes]) -> int:
    # The child is the leader of its own session, so its pid is the pgid.
    _killpg(child.pid, signal.SIGTERM)
    try:
        return child.wait(timeout=GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        _killpg(child.pid, signal.SIGKILL)
        return child.wait()
    finally:
        # Stragglers the JVM may have forked (none expected) go too.
        _killpg(child.pid, signal.SIGKILL)


def supervise(log_path: str, command: list[str]) -> int:
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _request_stop)

    with open(log_path, "ab", buffering=0) as log:
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent(),
        )
    try:
        sys.stdout.write(f"{child.pid}\n")
        sys.stdout.flush()
    except OSError:
        pass  # the owner stopped listening; stdin EOF will tell us the rest

    stdin_fd = sys.stdin.fileno()
    while not _stop_requested:
        returncode = child.poll()
        if returncode is not None:
            return _exit_status(returncode)
        try:
            if _stdin_closed(stdin_fd):
                break
        except (OSError, ValueError):
            break
    return _exit_status(_terminate(child))


def command(log_path: str, child: list[str]) -> list[str]:
    """The command line that runs ``child`` under this supervisor, its
    output appended to ``log_path``."""
    return [sys.executable, "-I", os.path.abspath(__file__), log_path, "--", *child]


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print(f"usage: python -I {os.path.abspath(__file__)} <log_path> -- <command...>", file=sys.stderr)
        return 2
    return supervise(argv[0], argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
