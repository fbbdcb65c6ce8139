"""``python -m wsbridge.bench``: measure market-data fan-out; see docs/benchmarks.md."""

from wsbridge.bench.cli import main

main()
