"""``TrawlEmbeddings``: LangChain embeddings computed by a Trawl server's model."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from langchain_core.embeddings import Embeddings
from trawl_client import DEFAULT_URL, AsyncTrawl, Trawl

__all__ = ["TrawlEmbeddings"]

MAX_INPUTS = 256
"""Texts per ``/embed`` request: the server's ``--max-inputs`` default."""


class TrawlEmbeddings(Embeddings):
    """Embeddings from the model a Trawl server serves, through ``POST /embed``.

    Args:
        url: The server's address.
        api_key: The server's API key, if it has one.
        dimensions: A Matryoshka prefix length (``kind: matryoshka``);
            ``None`` for the model's full vectors.
        batch_size: Texts per request (at most the server's ``--max-inputs``,
            256 by default).
        timeout: Seconds to wait for each answer.

    Given to :class:`~langchain_trawl.TrawlVectorStore` as its ``embedding``
    (same ``url``, no ``dimensions``), it makes the store let the server
    embed: points are sent as text and searched by text.
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        api_key: str | None = None,
        *,
        dimensions: int | None = None,
        batch_size: int = MAX_INPUTS,
        timeout: float = 60.0,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.dimensions = dimensions
        self.batch_size = batch_size
        self.timeout = timeout
        self._client = Trawl(self.url, api_key, timeout)
        self._async: _PerLoop = _PerLoop(self.url, api_key, timeout)

    def __repr__(self) -> str:
        return f"TrawlEmbeddings(url={self.url!r}, dimensions={self.dimensions!r})"

    def _kind(self) -> dict[str, Any]:
        if self.dimensions is None:
            return {"kind": "float"}
        return {"kind": "matryoshka", "dims": self.dimensions}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """The embeddings of ``texts``, in order."""
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            answer = self._client.embed(texts[start : start + self.batch_size], **self._kind())
            vectors.extend(_floats(answer.embeddings))
        return vectors

    def embed_query(self, text: str) -> list[float]:
        """The embedding of one text (the model embeds queries and documents alike)."""
        return self.embed_documents([text])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """As :meth:`embed_documents`, with the asyncio client."""
        client = self._async.get()
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            answer = await client.embed(texts[start : start + self.batch_size], **self._kind())
            vectors.extend(_floats(answer.embeddings))
        return vectors

    async def aembed_query(self, text: str) -> list[float]:
        """As :meth:`embed_query`, with the asyncio client."""
        return (await self.aembed_documents([text]))[0]

    def close(self) -> None:
        """Closes the blocking client's connections."""
        self._client.close()


def _floats(embeddings: Sequence[Any]) -> list[list[float]]:
    return [[float(x) for x in vector] for vector in embeddings]


class _PerLoop:
    """An :class:`AsyncTrawl` for the running event loop.

    An ``httpx.AsyncClient`` keeps connections that belong to the loop that
    opened them; a store used from several loops (``asyncio.run`` twice, or
    a test runner's loop per test) gets a client of its own in each.
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
