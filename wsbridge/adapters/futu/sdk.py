"""The one place futu-api is imported (the back end's SDK; its parsing/ never imports it).

Importing futu has side effects this module undoes: a SIGINT handler that calls
``os._exit`` (the server handles signals itself), console logging to stdout (sent to the
server's own log instead), and non-daemon worker threads that would keep a stopping
process alive.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import ModuleType

_setup_done = False
_lock = threading.Lock()


def load() -> ModuleType:
    """``import futu`` once, configured for running inside a server process."""
    global _setup_done
    with _lock:
        try:
            previous = signal.getsignal(signal.SIGINT)
        except ValueError:
            previous = None
        try:
            import futu
        except ImportError as exc:
            raise ImportError(f"the futu back end needs futu-api ({exc}): "
                              "pip install 'wsbridge[futu]'") from None
        if _setup_done:
            return futu
        if previous is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, previous)
        futu.SysConfig.set_all_thread_daemon(True)
        from futu.common.ft_logger import logger as ft_logger

        ft_logger.enable_console_log(False)  # stdout carries the server's ready line
        console = logging.getLogger("FTConsoleLog")
        console.propagate = True
        console.setLevel(logging.WARNING)
        _setup_done = True
        return futu
