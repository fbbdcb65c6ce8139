"""``python -m wsbridge sim-opend``: an OpenD for futu-api, backed by the sim exchange.

Prints ``sim-opend ready: <host>:<port>`` once listening; stops cleanly on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import logging
import signal
import sys

from wsbridge.config import ConfigError

DEFAULT_UNLOCK_PASSWORD = "123456"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="wsbridge sim-opend",
        description="A Futu OpenD simulator on the wsbridge sim exchange: futu-api's "
                    "OpenQuoteContext / OpenSecTradeContext connect to it as to OpenD.")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default %(default)s)")
    parser.add_argument("--port", type=int, default=11111,
                        help="port (default %(default)s; 0 picks a free one)")
    parser.add_argument("--journal", default=None,
                        help="SQLite file keeping orders, trades and positions across "
                             "restarts (default: in memory)")
    parser.add_argument("--seed", type=int, default=1,
                        help="market seed: the same seed gives the same prices")
    parser.add_argument("--tick-ms", type=int, default=500,
                        help="market tick in milliseconds (default %(default)s)")
    parser.add_argument("--unlock-password", default=DEFAULT_UNLOCK_PASSWORD,
                        help="the REAL account's trade password (default %(default)s)")
    parser.add_argument("--log-level", default="info",
                        choices=["debug", "info", "warning", "error"])
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error("--port must be 0..65535")
    if not 1 <= args.tick_ms <= 60_000:
        parser.error("--tick-ms must be 1..60000")
    if not args.unlock_password:
        parser.error("--unlock-password must not be empty")
    return args


def build_exchange(args: argparse.Namespace):
    from wsbridge.simulators.exchange import Exchange
    from wsbridge.simulators.exchange.settings import SimSettings

    settings = SimSettings(seed=args.seed, tick_interval_ms=args.tick_ms, journal=args.journal)
    return Exchange(settings, journal_path=args.journal)


async def serve(args: argparse.Namespace) -> int:
    from wsbridge.simulators.opend import protos
    from wsbridge.simulators.opend.server import OpenDServer
    from wsbridge.simulators.opend.venue import Venue

    protos.import_futu()
    try:
        venue = Venue(build_exchange(args), args.journal)
    except ConfigError as exc:
        print(f"sim-opend: error: {exc}", file=sys.stderr)
        return 2
    md5 = hashlib.md5(args.unlock_password.encode("utf-8")).hexdigest()
    server = OpenDServer(venue, md5, tick_seconds=args.tick_ms / 1000)
    try:
        host, port = await server.start(args.host, args.port)
    except (OSError, OverflowError) as exc:
        venue.close()
        print(f"sim-opend: error: cannot listen on {args.host}:{args.port}: "
              f"{getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    print(f"sim-opend ready: {host}:{port}", flush=True)
    await stop.wait()
    await server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s sim-opend %(message)s")
    try:
        return asyncio.run(serve(args))
    except KeyboardInterrupt:
        return 0
    except ImportError as exc:
        print(f"sim-opend: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
