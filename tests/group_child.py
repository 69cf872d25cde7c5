"""Child process of test_groups: a consumer that polls, "processes" each
batch by appending it to a log file (flushed per batch, so the lines
survive a SIGKILL), then commits and logs the commit.

Log lines, one per event, fields separated by spaces:

    S <ms>                              started (before the manager exists)
    B <ms> <live_before> <rows>         a batch; rows are p:offset:ordering_ts,...
    C <ms> <p:offset,...>               commit() returned this
    E <event_ms> <level> <message>      a line of the "kafkars" logger
    X <ms>                              about to close (no row processed after)
    Z <ms>                              closed

Modes: ``committed`` reads the topic with SourceTopic.from_committed (assign
mode) and exits once live with nothing new for ``idle`` seconds;
``subscribe`` joins the group with subscribe=True and runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time

from kafkars import ConsumerManager, SourceTopic


class _ToLog(logging.Handler):
    def __init__(self, out) -> None:  # type: ignore[no-untyped-def]
        super().__init__(logging.INFO)
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        t = getattr(record, "kafkars_time_ms", int(record.created * 1000))
        msg = record.getMessage().replace("\n", " ")
        self.out.write(f"E {t} {record.levelname} {msg}\n")
        self.out.flush()


def now_ms() -> int:
    return int(time.time() * 1000)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("bootstrap")
    ap.add_argument("topic")
    ap.add_argument("group")
    ap.add_argument("log")
    ap.add_argument("--mode", choices=["committed", "subscribe"], required=True)
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--idle", type=float, default=3.0)
    ap.add_argument("--protocol", default=None, help="group.protocol (default: kafkars' choice)")
    ap.add_argument("--work", type=float, default=0.0, help="seconds of 'processing' per batch, after logging it")
    a = ap.parse_args()

    out = open(a.log, "a", buffering=1 << 16)
    out.write(f"S {now_ms()}\n")
    out.flush()
    log = logging.getLogger("kafkars")
    log.setLevel(logging.INFO)
    log.addHandler(_ToLog(out))
    log.propagate = False

    stop = False

    def on_term(signum, frame):  # type: ignore[no-untyped-def]
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)

    cfg = {"bootstrap.servers": a.bootstrap, "group.id": a.group}
    if a.protocol:
        cfg["group.protocol"] = a.protocol
    if a.mode == "committed":
        topics = [SourceTopic.from_committed(a.topic, fallback="earliest")]
        m = ConsumerManager(cfg, topics, batch_size=a.batch_size, ordering_timestamp=True)
    else:
        topics = [SourceTopic.from_earliest(a.topic)]
        m = ConsumerManager(cfg, topics, batch_size=a.batch_size, ordering_timestamp=True, subscribe=True)
    idle_since = time.monotonic()
    while not stop:
        live_before = m.is_live()
        b = m.poll(200)
        if b.num_rows:
            p = b.column("partition").to_pylist()
            o = b.column("offset").to_pylist()
            ts = b.column("ordering_timestamp").cast("int64").to_pylist()
            rows = ",".join(f"{x}:{y}:{z}" for x, y, z in zip(p, o, ts))
            out.write(f"B {now_ms()} {int(live_before)} {rows}\n")
            out.flush()
            if a.work:
                time.sleep(a.work)  # the batch's side effects happen; a kill now re-processes it
            done = m.commit()
            out.write(f"C {now_ms()} " + ",".join(f"{k[1]}:{v}" for k, v in sorted(done.items())) + "\n")
            out.flush()
            idle_since = time.monotonic()
        elif a.mode == "committed" and m.is_live() and time.monotonic() - idle_since > a.idle:
            break
    out.write(f"X {now_ms()}\n")
    out.flush()
    m.close()
    out.write(f"Z {now_ms()}\n")
    out.close()


if __name__ == "__main__":
    sys.exit(main())
