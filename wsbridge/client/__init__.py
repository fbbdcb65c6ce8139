"""Clients: an asyncio Python client; the browser's ES module lives in web/."""

from wsbridge.client.client import Client, ClientError, body_of, error_of

__all__ = ["Client", "ClientError", "body_of", "error_of"]
