"""The CTP back end (openctp-ctp): the whole CTP trader and md API over the WebSocket.

openctp is imported only after :func:`~wsbridge.adapters.ctp.locale.require_openctp` has
checked that it can load: a missing package or a missing zh_CN.GB18030 locale is a one-line
ImportError for this back end, not an aborted process.
"""

from wsbridge.adapters.ctp.locale import require_openctp

require_openctp()

from wsbridge.adapters.ctp.adapter import CtpAdapter  # noqa: E402

__all__ = ["CtpAdapter"]
