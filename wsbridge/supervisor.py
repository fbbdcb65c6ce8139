"""``--app_type=all``: run the md and td servers as child processes and keep them up.

A child that dies is restarted after a back-off (1 s doubling to 30 s, reset once it
has stayed up for a minute). Ctrl-C or SIGTERM stops both children cleanly and exits 0.
When both are listening, the web page's URL is printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time

import click

READY = re.compile(r"^wsbridge (md|td) ready: (\S+)")
BACKOFF_FIRST, BACKOFF_MAX, STABLE_AFTER = 1.0, 30.0, 60.0
STOP_TIMEOUT = 10.0
CONFIG_ERROR = 2  # a child that exits with this will fail again: do not loop on it


class Child:
    """One supervised server process."""

    def __init__(self, app_type: str, argv: list[str]) -> None:
        self.app_type = app_type
        self.argv = argv
        self.process: asyncio.subprocess.Process | None = None
        self.url: str | None = None
        self.started = 0.0
        self.backoff = BACKOFF_FIRST

    async def start(self) -> None:
        self.url = None
        self.started = time.monotonic()
        self.process = await asyncio.create_subprocess_exec(
            *self.argv, stdout=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL,
            # Own process group: a terminal's Ctrl-C reaches only the supervisor, which
            # then stops the children in order.
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)


def child_argv(app_type: str, path: str | None, host: str | None,
               log_level: str | None) -> list[str]:
    argv = [sys.executable, "-m", "wsbridge", f"--app_type={app_type}"]
    if path:
        argv.append(f"--config={path}")
    if host:
        argv.append(f"--host={host}")
    if log_level:
        argv.append(f"--log-level={log_level}")
    return argv


def supervise(paths: dict[str, str | None], host: str | None = None,
              log_level: str | None = None) -> int:
    """Run both servers until stopped; returns the exit status."""
    children = [Child(app, child_argv(app, paths[app], host, log_level)) for app in ("md", "td")]
    return asyncio.run(_supervise(children))


async def _supervise(children: list[Child]) -> int:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    announced = False
    status = 0

    async def watch(child: Child) -> None:
        nonlocal announced, status
        while not stopping.is_set():
            await child.start()
            assert child.process is not None and child.process.stdout is not None
            async for line in child.process.stdout:
                text = line.decode(errors="replace").rstrip()
                click.echo(text)
                match = READY.match(text)
                if match:
                    child.url = match.group(2)
                    if not announced and all(c.url for c in children):
                        announced = True
                        announce(children)
            code = await child.process.wait()
            if stopping.is_set():
                return
            if code == CONFIG_ERROR:
                click.echo(f"wsbridge: {child.app_type} server cannot start; stopping", err=True)
                status = CONFIG_ERROR
                stopping.set()
                return
            if time.monotonic() - child.started > STABLE_AFTER:
                child.backoff = BACKOFF_FIRST
            click.echo(f"wsbridge: {child.app_type} server exited with status {code}; "
                       f"restarting in {child.backoff:g}s", err=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), child.backoff)
            child.backoff = min(child.backoff * 2, BACKOFF_MAX)

    watchers = [asyncio.ensure_future(watch(c)) for c in children]
    await stopping.wait()
    for child in children:
        child.stop()
    for child in children:
        if child.process is not None and child.process.returncode is None:
            try:
                await asyncio.wait_for(child.process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                child.process.kill()
                await child.process.wait()
    await asyncio.gather(*watchers, return_exceptions=True)
    click.echo("wsbridge: stopped")
    return status


def announce(children: list[Child]) -> None:
    urls = {c.app_type: c.url for c in children}
    page = urls["td"].replace("wss://", "https://").replace("ws://", "http://")
    click.echo("")
    click.echo(f"  Web trading page:  {page}")
    click.echo(f"  Market data (md):  {urls['md']}")
    click.echo(f"  Trading (td):      {urls['td']}")
    click.echo(f"  Stop with Ctrl-C.  (pid {os.getpid()})")
    click.echo("")
    sys.stdout.flush()
