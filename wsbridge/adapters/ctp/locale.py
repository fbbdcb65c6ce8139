"""The zh_CN.GB18030 locale openctp-ctp needs, checked before openctp is imported.

openctp's SWIG layer builds a ``std::locale("zh_CN.GB18030")`` when its module loads; a
machine without that locale gets an uncaught C++ exception and the whole process aborts.
:func:`require_openctp` turns that into an ImportError with a one-line fix instead.
"""

from __future__ import annotations

import importlib.util
import locale as _locale
import sys

LOCALE = "zh_CN.GB18030"
INSTALL_HINT = (
    "on Debian/Ubuntu: sudo apt-get install locales && echo 'zh_CN.GB18030 GB18030' | "
    "sudo tee -a /etc/locale.gen && sudo locale-gen"
)


def has_gb18030() -> bool:
    """Whether the C library can load the zh_CN.GB18030 locale."""
    if sys.platform == "win32":  # openctp's Windows build converts with the code page
        return True
    previous = _locale.setlocale(_locale.LC_CTYPE)
    try:
        _locale.setlocale(_locale.LC_CTYPE, LOCALE)
    except _locale.Error:
        return False
    finally:
        _locale.setlocale(_locale.LC_CTYPE, previous)
    return True


def require_openctp() -> None:
    """Raise ImportError (one line) unless openctp-ctp can be imported safely."""
    if importlib.util.find_spec("openctp_ctp") is None:
        raise ImportError("the ctp back end needs openctp-ctp: pip install 'wsbridge[ctp]'")
    if not has_gb18030():
        raise ImportError(
            f"the ctp back end needs the {LOCALE} locale (openctp-ctp aborts without it); "
            + INSTALL_HINT
        )
