"""Command line of the benchmark."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson

from wsbridge.bench import report
from wsbridge.bench.run import Options, run
from wsbridge.bench.ticks import MAX_INSTRUMENTS


def parse_args(argv: list[str] | None) -> tuple[Options, argparse.Namespace]:
    defaults = Options()
    parser = argparse.ArgumentParser(
        prog="python -m wsbridge.bench",
        description="Market-data fan-out of a real wsbridge md server, next to three "
                    "bare-server ceilings on the same bytes (see docs/benchmarks.md).")
    parser.add_argument("--quick", action="store_true",
                        help="a few seconds, small numbers: checks that it works")
    parser.add_argument("--clients", type=lambda s: [int(x) for x in s.split(",")],
                        help="client counts, comma separated (default 1,10,100,1000)")
    parser.add_argument("--seconds", type=float, help=f"per phase (default {defaults.seconds})")
    parser.add_argument("--repeats", type=int,
                        help=f"runs of each flat-out phase (default {defaults.repeats})")
    parser.add_argument("--batch", type=int,
                        help=f"ticks per loop turn flat out (default {defaults.batch})")
    parser.add_argument("--instruments", type=int,
                        help=f"instruments per client (default {defaults.instruments})")
    parser.add_argument("--workers", type=int,
                        help=f"client processes (default {defaults.workers})")
    parser.add_argument("--idle", type=int,
                        help=f"idle connections to hold, 0 to skip (default {defaults.idle})")
    parser.add_argument("--idle-seconds", type=float,
                        help=f"how long to watch them (default {defaults.idle_seconds})")
    parser.add_argument("--no-ceilings", action="store_true", help="wsbridge phases only")
    parser.add_argument("--markdown", action="store_true", help="tables as Markdown")
    parser.add_argument("--json", type=Path, help="also write every number to this file")
    parser.add_argument("--workdir", type=Path, help="keep the processes' logs here")
    args = parser.parse_args(argv)
    options = Options.quick() if args.quick else Options()
    for name in ("clients", "seconds", "repeats", "batch", "instruments", "workers", "idle",
                 "idle_seconds"):
        value = getattr(args, name)
        if value is not None:
            setattr(options, name, value)
    if args.no_ceilings:
        options.ceilings = False
    if any(n < 1 for n in options.clients) or options.workers < 1 or options.seconds <= 0 \
            or options.repeats < 1:
        parser.error("client counts, workers, repeats and seconds must be positive")
    if not 1 <= options.instruments <= MAX_INSTRUMENTS:
        parser.error(f"--instruments must be 1..{MAX_INSTRUMENTS}")
    return options, args


def main(argv: list[str] | None = None) -> None:
    options, args = parse_args(argv)
    print(f"wsbridge benchmark: clients {', '.join(map(str, options.clients))}, "
          f"{options.seconds:g} s per phase", flush=True)
    results = run(options, args.workdir, progress=lambda line: print(line, flush=True))
    print()
    print(report.render(results, markdown=args.markdown))
    if args.json:
        args.json.write_bytes(orjson.dumps(results.to_dict(), option=orjson.OPT_INDENT_2))
    if not all(p.consistent for p in results.phases):
        sys.exit(1)
