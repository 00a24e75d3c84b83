"""The one exception raised for an error answer of the server."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import httpx


class TrawlError(Exception):
    """An error answer: the HTTP status and the server's error body.

    Every error the server answers is ``{"error": {"code", "message",
    "details"?}}``; ``code`` is stable and machine-readable
    (``collection_not_found``, ``dimension_mismatch``, ``invalid_filter``,
    ``unauthorized``, ...), ``message`` names the offending field or limit,
    ``details`` holds structured context when there is any. An answer
    without that body (from a proxy, say) gets the status's name as its code
    (``bad_gateway``) and the start of its text as the message.

    Network failures are not answers: they raise ``httpx`` exceptions
    (``httpx.ConnectError``, ``httpx.TimeoutException``).

    Attributes:
        status: The HTTP status code.
        code: The error code.
        message: The error message.
        details: Structured context, or ``None``.
        retry_after: Seconds to wait before retrying, from the
            ``Retry-After`` header of a 429 or 503 answer, or ``None``.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status, code, message, details)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"

    def __repr__(self) -> str:
        return (
            f"TrawlError(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, details={self.details!r})"
        )

    @classmethod
    def from_response(cls, response: httpx.Response) -> TrawlError:
        """Reads the error from an answer with a 4xx or 5xx status."""
        status = response.status_code
        retry_after = _seconds(response.headers.get("retry-after"))
        try:
            error = response.json()["error"]
            return cls(
                status,
                str(error["code"]),
                str(error["message"]),
                error.get("details"),
                retry_after,
            )
        except (ValueError, KeyError, TypeError):
            pass
        try:
            name = HTTPStatus(status).phrase
        except ValueError:
            name = f"HTTP {status}"
        text = response.text.strip()[:500] or name
        return cls(
            status, name.lower().replace(" ", "_").replace("-", "_"), text, None, retry_after
        )


def _seconds(value: str | None) -> float | None:
    """``Retry-After`` in seconds (the server sends a number; a date is ignored)."""
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
