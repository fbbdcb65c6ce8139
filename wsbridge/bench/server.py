"""``python -m wsbridge.bench.server ...``: ``python -m wsbridge ...`` with ``bench-inject``.

The same command line, the same :func:`wsbridge.cli.main` and the same server; the only
difference is that the benchmark's back end is registered first, so a config can say
``backend: bench-inject``.
"""

from __future__ import annotations

from wsbridge.bench.inject import register_backend


def main() -> None:
    register_backend()
    from wsbridge.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
