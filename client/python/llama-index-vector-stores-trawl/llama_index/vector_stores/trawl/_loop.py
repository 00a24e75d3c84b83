"""An ``AsyncTrawl`` per event loop."""

from __future__ import annotations

import asyncio

from trawl_client import AsyncTrawl


class PerLoop:
    """An :class:`AsyncTrawl` for the running event loop.

    An ``httpx.AsyncClient`` keeps connections that belong to the loop that
    opened them; an object used from several loops (``asyncio.run`` twice,
    or a test runner's loop per test) gets a client of its own in each.
    """

    def __init__(self, url: str, api_key: str | None, timeout: float) -> None:
        self._url = url
        self._api_key = api_key
        self._timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: AsyncTrawl | None = None

    def get(self) -> AsyncTrawl:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = AsyncTrawl(self._url, self._api_key, self._timeout)
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        if self._client is not None and self._loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = None
        self._loop = None
