"""Draws the documentation figures: python -m devtools.figures"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "docs" / "figures"


def frontier() -> None:
    """Three partitions' records on a time axis; the slowest partition's last
    record is the frontier; records before it are released in order."""
    parts = {
        "partition 0": [0.5, 1.2, 2.0, 3.1, 4.4, 5.0, 6.3, 7.1],
        "partition 1": [0.8, 1.9, 2.6, 4.0, 5.6, 6.9],
        "partition 2": [0.3, 1.5, 2.4],  # slow: its next record is still on its way
    }
    frontier_t = max(parts["partition 2"])
    fig, ax = plt.subplots(figsize=(8, 3.1), dpi=120)
    for y, (name, ts) in enumerate(parts.items()):
        for t in ts:
            released = t < frontier_t or (t == frontier_t and name == "partition 2")
            ax.scatter(t, y, s=90, marker="o", color="#2a9d8f" if released else "#e9c46a",
                       edgecolor="black", linewidth=0.6, zorder=3)
        ax.hlines(y, 0, 7.5, color="#cccccc", zorder=1)
    ax.axvline(frontier_t, color="#e76f51", linewidth=2, zorder=2)
    ax.text(frontier_t + 0.05, 2.45, "frontier: last record\nof the slowest partition", color="#e76f51", fontsize=8, va="top")
    ax.scatter([], [], s=60, color="#2a9d8f", edgecolor="black", label="released (in key order)")
    ax.scatter([], [], s=60, color="#e9c46a", edgecolor="black", label="held until the frontier passes")
    ax.set_yticks(range(len(parts)), list(parts))
    ax.set_xticks(range(8), [f"10:0{i}" for i in range(8)])
    ax.set_xlabel("record timestamp")
    ax.set_ylim(-0.7, 2.7)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.32), ncol=2, fontsize=8, frameon=False)
    ax.spines[["top", "right", "left"]].set_visible(False)
    fig.tight_layout()
    OUT.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT / "frontier.png")


def soak(csv: Path = OUT.parent / "data" / "soak-rss.csv") -> None:
    """RSS and goroutines over the soak replay (tests/test_soak.py output)."""
    import csv as _csv

    rows = list(_csv.DictReader(csv.open()))
    recs = [int(r["records"]) / 1e6 for r in rows]
    rss = [int(r["rss_kb"]) / 1024 for r in rows]
    gor = [int(r["goroutines"]) for r in rows]
    fig, ax = plt.subplots(figsize=(8, 3), dpi=120)
    ax.plot(recs, rss, marker="o", markersize=3, color="#264653", label="process RSS (MB)")
    ax.set_xlabel("records replayed (millions)")
    ax.set_ylabel("RSS (MB)")
    ax.set_ylim(0, max(rss) * 1.3)
    ax2 = ax.twinx()
    ax2.step(recs, gor, where="post", color="#e76f51", label="goroutines")
    ax2.set_ylim(0, max(gor) * 4)
    ax2.set_ylabel("goroutines")
    ax.set_title("soak: 20 million records, batch_size=1000, small buffers")
    lines = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(lines, [line.get_label() for line in lines], loc="lower right", frameon=False, fontsize=8)
    ax.spines[["top"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(OUT / "soak-rss.png")


if __name__ == "__main__":
    import sys

    what = sys.argv[1:] or ["frontier", "soak"]
    if "frontier" in what:
        frontier()
        print(f"wrote {OUT / 'frontier.png'}")
    if "soak" in what:
        soak()
        print(f"wrote {OUT / 'soak-rss.png'}")
