"""``python -m bench``: see bench/harness.py (bench/run.sh sets up the tools first)."""

from bench.harness import main

main()
