"""Command line: ``python -m wsbridge --app_type=md|td|all [--config=FILE]``.

``all`` (the default) starts the md and td servers as supervised child processes and
prints the web page's URL. Tools such as the protocol simulators are subcommands.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from wsbridge import config as config_module
from wsbridge.config import ConfigError

DEFAULT_FILES = {"md": "config_md.yaml", "td": "config_td.yaml"}


def run_async(coro) -> None:
    """Run a coroutine on uvloop when it is installed, else asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(coro)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(coro)


def fail(message: str) -> None:
    click.echo(f"wsbridge: error: {message}", err=True)
    sys.exit(2)


def default_config(app_type: str) -> str | None:
    path = Path(DEFAULT_FILES[app_type])
    return str(path) if path.is_file() else None


@click.group(invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--app_type", "--app-type", "app_type", type=click.Choice(["md", "td", "all"]),
              default="all", show_default=True, help="Which server(s) to run.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Server config (YAML). Default: config_md.yaml / config_td.yaml if present.")
@click.option("--md-config", type=click.Path(dir_okay=False), help="md config for --app_type=all.")
@click.option("--td-config", type=click.Path(dir_okay=False), help="td config for --app_type=all.")
@click.option("--host", help="Override the config's bind address.")
@click.option("--port", type=int, help="Override the config's port (0: any free port).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]),
              help="Override the config's log level.")
@click.pass_context
def main(ctx: click.Context, app_type: str, config_path: str | None, md_config: str | None,
         td_config: str | None, host: str | None, port: int | None,
         log_level: str | None) -> None:
    """wsbridge: CTP's WebSocket protocol in front of CTP, IB, Futu and a built-in sim."""
    if ctx.invoked_subcommand is not None:
        return
    if app_type == "all":
        if config_path or port is not None:
            fail("--config/--port apply to one server; use --md-config/--td-config with all")
        from wsbridge.supervisor import supervise

        paths = {"md": md_config or default_config("md"),
                 "td": td_config or default_config("td")}
        for app, path in paths.items():  # fail fast, before any child starts
            try:
                check_backend(config_module.load(path, app))
            except (ConfigError, LookupError, ImportError) as exc:
                fail(str(exc))
        sys.exit(supervise(paths, host=host, log_level=log_level))
    serve_one(app_type, config_path or default_config(app_type), host, port, log_level)


def check_backend(config: config_module.ServerConfig) -> None:
    """Load the back end and parse its section, as the server will."""
    from wsbridge.adapters.base import load_adapter

    adapter_class = load_adapter(config.backend)
    adapter_class.parse_settings(config.backend_settings, config.backend)


def serve_one(app_type: str, path: str | None, host: str | None, port: int | None,
              log_level: str | None) -> None:
    from wsbridge import logs
    from wsbridge.server.app import Server

    try:
        config = config_module.load(path, app_type)
        if host is not None:
            config.host = host
        if port is not None:
            config.port = port
        logs.setup(log_level or config.log_level, app_type)
        server = Server(config)
    except (ConfigError, LookupError, ImportError) as exc:
        fail(str(exc))
        return

    def ready(url: str) -> None:
        insecure = config.host not in ("127.0.0.1", "localhost", "::1") and not config.tokens
        if insecure:
            click.echo(f"wsbridge: warning: {app_type} listens on {config.host} with no "
                       "access tokens: anyone who can reach it can trade", err=True)
        click.echo(f"wsbridge {app_type} ready: {url}")
        sys.stdout.flush()

    try:
        run_async(server.run(ready))
    except ConfigError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        pass


def _delegate(name: str, target: str, help_text: str) -> None:
    """A subcommand whose options belong to the tool itself (``target``: module:function)."""

    @main.command(name, help=help_text, add_help_option=False,
                  context_settings={"ignore_unknown_options": True,
                                    "allow_interspersed_args": False})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def command(args: tuple[str, ...]) -> None:
        import importlib

        module_name, _, function = target.partition(":")
        sys.exit(getattr(importlib.import_module(module_name), function)(list(args)))


_delegate("sim-tws", "wsbridge.simulators.tws.cli:main",
          "A TWS API simulator on the sim exchange (for ib-insync); --help for options.")
_delegate("sim-opend", "wsbridge.simulators.opend.cli:main",
          "A Futu OpenD simulator on the sim exchange (for futu-api); --help for options.")
