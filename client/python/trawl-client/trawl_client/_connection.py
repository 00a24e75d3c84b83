"""The connection both clients share: the generated client, configured."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from ._generated.client import Client

DEFAULT_URL = "http://127.0.0.1:6390"
"""The address ``trawl serve`` listens on by default."""


def generated_client(
    url: str,
    api_key: str | None,
    timeout: float | httpx.Timeout | None,
    headers: Mapping[str, str] | None,
    httpx_args: Mapping[str, Any] | None,
) -> Client:
    """The generated client for a server at ``url``, the key sent as a bearer token."""
    sent = dict(headers or {})
    if api_key is not None:
        sent["Authorization"] = f"Bearer {api_key}"
    return Client(
        base_url=url.rstrip("/"),
        headers=sent,
        timeout=timeout
        if isinstance(timeout, httpx.Timeout) or timeout is None
        else httpx.Timeout(timeout),
        httpx_args=dict(httpx_args or {}),
    )
