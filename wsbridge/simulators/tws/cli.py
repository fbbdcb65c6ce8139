"""``python -m wsbridge sim-tws``: a TWS API endpoint on the sim exchange."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

import yaml

from wsbridge.config import ConfigError, from_dict


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wsbridge sim-tws",
        description="Speak the TWS API socket protocol (as TWS / IB Gateway do) on top of "
                    "the embedded sim exchange, so ib-insync and the ib back end run "
                    "without an IB account. SIGUSR1 drops / restores TWS's link to IB "
                    "(error 1100, then 1101).")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default %(default)s)")
    parser.add_argument("--port", type=int, default=7497,
                        help="API port; 0 picks a free one (default %(default)s, TWS paper)")
    parser.add_argument("--account", default="DU1234567",
                        help="the account TWS manages (default %(default)s)")
    parser.add_argument("--journal", metavar="PATH",
                        help="SQLite journal: orders, trades and positions survive a restart "
                             "(default: in memory)")
    parser.add_argument("--seed", type=int, default=None,
                        help="market seed; the same seed shows the same prices")
    parser.add_argument("--tick-interval-ms", type=int, default=None,
                        help="one market tick (default: the sim exchange's, 500)")
    parser.add_argument("--base-currency", default="USD",
                        help="the account's base currency (default %(default)s)")
    parser.add_argument("--config", metavar="FILE",
                        help="YAML whose 'sim:' section configures the exchange (instruments, "
                             "funds, ...) as for the sim back end")
    parser.add_argument("--log-level", default="info",
                        choices=["debug", "info", "warning", "error"])
    return parser


def _settings(args: argparse.Namespace):
    from wsbridge.simulators.exchange import SimSettings

    section: dict = {}
    if args.config:
        try:
            raw = yaml.safe_load(Path(args.config).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{args.config}: {exc}") from None
        section = dict((raw.get("sim") if isinstance(raw, dict) else None) or {})
    if args.seed is not None:
        section["seed"] = args.seed
    if args.tick_interval_ms is not None:
        section["tick_interval_ms"] = args.tick_interval_ms
    section["journal"] = None  # the path is passed to the exchange itself
    return from_dict(SimSettings, section, "sim")


async def _serve(args: argparse.Namespace) -> None:
    from wsbridge.simulators.exchange import Exchange
    from wsbridge.simulators.tws.broker import Broker
    from wsbridge.simulators.tws.server import TwsServer
    from wsbridge.simulators.tws.store import Store

    settings = _settings(args)
    exchange = Exchange(settings, journal_path=args.journal)
    store = Store(f"{args.journal}.tws" if args.journal else None)
    broker = Broker(exchange, args.account, store, base_currency=args.base_currency)
    server = TwsServer(broker, tick_interval=settings.tick_interval_ms / 1000)
    try:
        host, port = await server.start(args.host, args.port)
    except OSError as exc:
        exchange.close()
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: "
                          f"{exc.strerror or exc}") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    if hasattr(signal, "SIGUSR1"):  # lose / regain the link to "IB", as TWS reports it
        loop.add_signal_handler(signal.SIGUSR1, server.toggle_link)
    print(f"wsbridge sim-tws ready: {host}:{port} (account {args.account})", flush=True)
    try:
        await stop.wait()
    finally:
        await server.close()
        exchange.close()
        store.close()


def main(argv: list[str] | None = None) -> int:
    """Run the simulator until SIGTERM / Ctrl-C; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s sim-tws %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(_serve(args))
    except ConfigError as exc:
        print(f"wsbridge sim-tws: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
