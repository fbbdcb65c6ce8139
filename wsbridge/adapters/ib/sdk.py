"""The one place the IB SDK is imported: ib-insync, or ib_async (its maintained fork).

Both expose the same API; a missing SDK is an ImportError for this back end only.
"""

from __future__ import annotations

try:
    import ib_insync as ib_sdk
except ImportError:  # pragma: no cover - depends on what is installed
    try:
        import ib_async as ib_sdk  # type: ignore[no-redef]
    except ImportError:
        raise ImportError(
            "the ib back end needs ib-insync: pip install 'wsbridge[ib]'") from None

IB = ib_sdk.IB
Contract = ib_sdk.Contract
Order = ib_sdk.Order
RequestError = ib_sdk.RequestError

__all__ = ["IB", "Contract", "Order", "RequestError", "ib_sdk"]
