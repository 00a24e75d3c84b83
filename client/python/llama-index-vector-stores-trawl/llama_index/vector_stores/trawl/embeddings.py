"""``TrawlEmbedding``: LlamaIndex embeddings computed by a Trawl server's model."""

from __future__ import annotations

from typing import Any, Optional

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.bridge.pydantic import Field, PrivateAttr
from trawl_client import DEFAULT_URL, Trawl

from ._loop import PerLoop

MAX_INPUTS = 256
"""Texts per ``/embed`` request: the server's ``--max-inputs`` default."""


class TrawlEmbedding(BaseEmbedding):
    """Embeddings from the model a Trawl server serves, through ``POST /embed``.

    Args:
        url: The server's address.
        api_key: The server's API key, if it has one.
        dimensions: A Matryoshka prefix length; ``None`` for full vectors.
        embed_batch_size: Texts per request (at most the server's
            ``--max-inputs``, 256 by default).
        timeout: Seconds to wait for each answer.

    Queries and documents are embedded alike (the model has no query prefix).
    """

    url: str = Field(default=DEFAULT_URL, description="The Trawl server's address.")
    api_key: Optional[str] = Field(default=None, exclude=True, description="The API key.")
    dimensions: Optional[int] = Field(default=None, description="A Matryoshka prefix length.")
    timeout: float = Field(default=60.0, description="Seconds to wait for each answer.")

    _client: Trawl = PrivateAttr()
    _async: PerLoop = PrivateAttr()

    def __init__(
        self,
        url: str = DEFAULT_URL,
        api_key: Optional[str] = None,
        *,
        dimensions: Optional[int] = None,
        embed_batch_size: int = MAX_INPUTS,
        timeout: float = 60.0,
        model_name: str = "trawl",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            url=url.rstrip("/"),
            api_key=api_key,
            dimensions=dimensions,
            embed_batch_size=embed_batch_size,
            timeout=timeout,
            model_name=model_name,
            **kwargs,
        )
        self._client = Trawl(self.url, api_key, timeout)
        self._async = PerLoop(self.url, api_key, timeout)

    @classmethod
    def class_name(cls) -> str:
        return "TrawlEmbedding"

    def _kind(self) -> dict[str, Any]:
        if self.dimensions is None:
            return {"kind": "float"}
        return {"kind": "matryoshka", "dims": self.dimensions}

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), MAX_INPUTS):
            answer = self._client.embed(texts[start : start + MAX_INPUTS], **self._kind())
            vectors.extend([float(x) for x in vector] for vector in answer.embeddings)
        return vectors

    async def _aget_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        client = self._async.get()
        vectors: list[list[float]] = []
        for start in range(0, len(texts), MAX_INPUTS):
            answer = await client.embed(texts[start : start + MAX_INPUTS], **self._kind())
            vectors.extend([float(x) for x in vector] for vector in answer.embeddings)
        return vectors

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return (await self._aget_text_embeddings([text]))[0]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._get_text_embedding(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return await self._aget_text_embedding(query)
