"""The asyncio client, :class:`AsyncTrawl`: the methods of
:class:`~trawl_client.Trawl`, awaited."""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping, Sequence, Sized
from pathlib import Path
from typing import Any, TypeVar, cast

import httpx
from tqdm.auto import tqdm

from . import _calls
from ._batches import CHUNK_BYTES, async_chunks, check_batch_size, chunks, read_chunks
from ._calls import Call, Input, Json, PointId
from ._connection import DEFAULT_URL, generated_client
from ._generated.client import Client
from ._generated.models import (
    AliasEntry,
    CollectionAck,
    CollectionInfo,
    CollectionSummary,
    EmbedResponse,
    FacetValue,
    Health,
    OpenAiEmbeddingsResponse,
    OpenAiModel,
    Operation,
    PointRecord,
    Readiness,
    RestoreAck,
    ScrollResponse,
    SearchResponse,
    SnapshotAck,
    SnapshotDeleted,
    SnapshotDescription,
    UpsertResult,
)
from .errors import TrawlError

__all__ = ["AsyncTrawl"]

T = TypeVar("T")


class AsyncTrawl:
    """An asyncio client of a Trawl server: the methods of :class:`Trawl`, awaited.

    Args:
        url: The server's address.
        api_key: The server's API key, sent as ``Authorization: Bearer <key>``.
        timeout: Seconds to wait for each answer (or an ``httpx.Timeout``).
        headers: Headers sent with every request.
        httpx_args: More arguments for the underlying ``httpx.AsyncClient``.

    Use it as an async context manager, or await :meth:`aclose`::

        async with AsyncTrawl("http://127.0.0.1:6390") as trawl:
            print(await trawl.list_collections())
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        api_key: str | None = None,
        timeout: float | httpx.Timeout | None = 60.0,
        *,
        headers: Mapping[str, str] | None = None,
        httpx_args: Mapping[str, Any] | None = None,
    ) -> None:
        self._api = generated_client(url, api_key, timeout, headers, httpx_args)

    @property
    def generated(self) -> Client:
        """The generated client, for the functions of ``trawl_client._generated.api``."""
        return self._api

    async def aclose(self) -> None:
        """Closes the connections."""
        await self._api.get_async_httpx_client().aclose()

    async def __aenter__(self) -> AsyncTrawl:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _run(self, call: Call[T]) -> T:
        response = await self._api.get_async_httpx_client().request(**call.request())
        return call.finish(self._api, response)

    # Service.

    async def health(self) -> Health:
        """As :meth:`Trawl.health`."""
        return await self._run(_calls.health())

    async def readiness(self) -> Readiness:
        """As :meth:`Trawl.readiness`."""
        return await self._run(_calls.readiness())

    # Collections.

    async def create_collection(
        self,
        name: str,
        *,
        vector: Json | None = None,
        vectors: Mapping[str, Json] | None = None,
        payload_indexes: Mapping[str, str] | None = None,
        text: Json | bool | None = None,
    ) -> CollectionAck:
        """As :meth:`Trawl.create_collection`."""
        return await self._run(
            _calls.create_collection(name, vector, vectors, payload_indexes, text)
        )

    async def get_collection(self, name: str) -> CollectionInfo:
        """As :meth:`Trawl.get_collection`."""
        return await self._run(_calls.get_collection(name))

    async def collection_exists(self, name: str) -> bool:
        """As :meth:`Trawl.collection_exists`."""
        try:
            await self.get_collection(name)
        except TrawlError as error:
            if error.status == 404:
                return False
            raise
        return True

    async def list_collections(self) -> list[CollectionSummary]:
        """As :meth:`Trawl.list_collections`."""
        return await self._run(_calls.list_collections())

    async def delete_collection(self, name: str) -> CollectionAck:
        """As :meth:`Trawl.delete_collection`."""
        return await self._run(_calls.delete_collection(name))

    async def list_aliases(self) -> list[AliasEntry]:
        """As :meth:`Trawl.list_aliases`."""
        return await self._run(_calls.list_aliases())

    async def update_aliases(self, actions: Sequence[Json]) -> list[AliasEntry]:
        """As :meth:`Trawl.update_aliases`."""
        return await self._run(_calls.update_aliases(actions))

    # Points.

    async def upsert(
        self, collection: str, points: Iterable[Json], *, wait: bool = True
    ) -> UpsertResult | Operation:
        """As :meth:`Trawl.upsert`."""
        return await self._run(_calls.upsert(collection, points, wait))

    async def upsert_batched(
        self,
        collection: str,
        points: Iterable[Json] | AsyncIterable[Json],
        *,
        batch_size: int = 256,
        progress: bool = True,
        total: int | None = None,
    ) -> int:
        """As :meth:`Trawl.upsert_batched`; ``points`` may also be an async iterable."""
        check_batch_size(batch_size)
        if total is None and isinstance(points, Sized):
            total = len(points)
        written = 0
        with tqdm(
            total=total, disable=not progress, unit="point", desc=f"upsert {collection}"
        ) as bar:
            async for chunk in async_chunks(points, batch_size):
                result = cast(UpsertResult, await self.upsert(collection, chunk))
                written += result.upserted
                bar.update(len(chunk))
        return written

    async def get_operation(self, id: str) -> Operation:
        """As :meth:`Trawl.get_operation`."""
        return await self._run(_calls.get_operation(id))

    async def get_point(self, collection: str, id: PointId) -> PointRecord:
        """As :meth:`Trawl.get_point`."""
        return await self._run(_calls.get_point(collection, id))

    async def get_points(
        self,
        collection: str,
        ids: Sequence[PointId],
        *,
        with_payload: bool | None = None,
        with_vectors: bool | None = None,
    ) -> list[PointRecord]:
        """As :meth:`Trawl.get_points`."""
        found: list[PointRecord] = []
        for chunk in chunks(ids, 1000):
            async for point in self.iter_points(
                collection,
                filter=_calls.has_id(chunk),
                batch=len(chunk),
                with_payload=with_payload,
                with_vectors=with_vectors,
            ):
                found.append(point)
        return found

    async def delete_points(
        self, collection: str, ids: Sequence[PointId] | None = None, *, filter: Json | None = None
    ) -> int:
        """As :meth:`Trawl.delete_points`."""
        return await self._run(_calls.delete_points(collection, ids, filter))

    async def set_payload(
        self,
        collection: str,
        payload: Mapping[str, Any],
        *,
        ids: Sequence[PointId] | None = None,
        filter: Json | None = None,
    ) -> int:
        """As :meth:`Trawl.set_payload`."""
        return await self._run(_calls.set_payload(collection, payload, ids, filter, replace=False))

    async def replace_payload(
        self,
        collection: str,
        payload: Mapping[str, Any],
        *,
        ids: Sequence[PointId] | None = None,
        filter: Json | None = None,
    ) -> int:
        """As :meth:`Trawl.replace_payload`."""
        return await self._run(_calls.set_payload(collection, payload, ids, filter, replace=True))

    async def delete_payload(
        self,
        collection: str,
        keys: Sequence[str],
        *,
        ids: Sequence[PointId] | None = None,
        filter: Json | None = None,
    ) -> int:
        """As :meth:`Trawl.delete_payload`."""
        return await self._run(_calls.delete_payload(collection, keys, ids, filter))

    async def scroll(
        self,
        collection: str,
        *,
        filter: Json | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        with_payload: bool | None = None,
        with_vectors: bool | None = None,
    ) -> ScrollResponse:
        """As :meth:`Trawl.scroll`."""
        return await self._run(
            _calls.scroll(collection, filter, limit, cursor, with_payload, with_vectors)
        )

    async def iter_points(
        self,
        collection: str,
        *,
        filter: Json | None = None,
        batch: int = 100,
        with_payload: bool | None = None,
        with_vectors: bool | None = None,
    ) -> AsyncIterator[PointRecord]:
        """As :meth:`Trawl.iter_points`, an async iterator (``async for``)."""
        check_batch_size(batch)
        cursor: str | None = None
        while True:
            page = await self.scroll(
                collection,
                filter=filter,
                limit=batch,
                cursor=cursor,
                with_payload=with_payload,
                with_vectors=with_vectors,
            )
            for point in page.points:
                yield point
            if not isinstance(page.next_, str):
                return
            cursor = page.next_

    async def count(
        self, collection: str, *, filter: Json | None = None, exact: bool | None = None
    ) -> int:
        """As :meth:`Trawl.count`."""
        return await self._run(_calls.count(collection, filter, exact))

    async def facet(
        self, collection: str, key: str, *, filter: Json | None = None, limit: int | None = None
    ) -> list[FacetValue]:
        """As :meth:`Trawl.facet`."""
        return await self._run(_calls.facet(collection, key, filter, limit))

    # Search.

    async def search(
        self,
        collection: str,
        *,
        vector: Sequence[float] | None = None,
        text: str | None = None,
        multivector: Sequence[Sequence[float]] | None = None,
        using: str | None = None,
        filter: Json | None = None,
        limit: int | None = None,
        with_payload: bool | None = None,
        with_vector: bool | None = None,
        params: Json | None = None,
    ) -> SearchResponse:
        """As :meth:`Trawl.search`."""
        return await self._run(
            _calls.search(
                collection,
                dict(
                    vector=vector,
                    text=text,
                    multivector=multivector,
                    using=using,
                    filter=filter,
                    limit=limit,
                    with_payload=with_payload,
                    with_vector=with_vector,
                    params=params,
                ),
            )
        )

    async def search_batch(self, collection: str, searches: Sequence[Json]) -> list[SearchResponse]:
        """As :meth:`Trawl.search_batch`."""
        return await self._run(_calls.search_batch(collection, searches))

    async def query(
        self,
        collection: str,
        *,
        prefetch: Sequence[Json] | None = None,
        text: str | None = None,
        mode: str | None = None,
        vector: Sequence[float] | None = None,
        multivector: Sequence[Sequence[float]] | None = None,
        point: PointId | None = None,
        lexical: str | None = None,
        sparse: Json | None = None,
        using: str | None = None,
        fusion: str | Json | None = None,
        rerank: Json | None = None,
        filter: Json | None = None,
        limit: int | None = None,
        with_payload: bool | None = None,
        with_vector: bool | None = None,
        explain: bool | None = None,
        params: Json | None = None,
    ) -> SearchResponse:
        """As :meth:`Trawl.query`."""
        return await self._run(
            _calls.query(
                collection,
                dict(
                    prefetch=prefetch,
                    text=text,
                    mode=mode,
                    vector=vector,
                    multivector=multivector,
                    point=point,
                    lexical=lexical,
                    sparse=sparse,
                    using=using,
                    fusion=fusion,
                    rerank=rerank,
                    filter=filter,
                    limit=limit,
                    with_payload=with_payload,
                    with_vector=with_vector,
                    explain=explain,
                    params=params,
                ),
            )
        )

    # Embeddings.

    async def embed(
        self,
        inputs: str | Sequence[str],
        *,
        kind: str | None = None,
        dims: int | None = None,
        bits: int | None = None,
        binary_encoding: str | None = None,
    ) -> EmbedResponse:
        """As :meth:`Trawl.embed`."""
        return await self._run(_calls.embed(inputs, kind, dims, bits, binary_encoding))

    async def embeddings(
        self,
        input: Input,
        *,
        model: str | None = None,
        dimensions: int | None = None,
        encoding_format: str | None = None,
    ) -> OpenAiEmbeddingsResponse:
        """As :meth:`Trawl.embeddings`."""
        return await self._run(_calls.embeddings(input, model, dimensions, encoding_format))

    async def list_models(self) -> list[OpenAiModel]:
        """As :meth:`Trawl.list_models`."""
        return await self._run(_calls.list_models())

    async def get_model(self, model: str) -> OpenAiModel:
        """As :meth:`Trawl.get_model`."""
        return await self._run(_calls.get_model(model))

    # Snapshots.

    async def create_snapshot(self, collection: str) -> SnapshotAck:
        """As :meth:`Trawl.create_snapshot`."""
        return await self._run(_calls.create_snapshot(collection))

    async def list_snapshots(self, collection: str) -> list[SnapshotDescription]:
        """As :meth:`Trawl.list_snapshots`."""
        return await self._run(_calls.list_snapshots(collection))

    async def delete_snapshot(self, collection: str, snapshot: str) -> SnapshotDeleted:
        """As :meth:`Trawl.delete_snapshot`."""
        return await self._run(_calls.delete_snapshot(collection, snapshot))

    async def download_snapshot(
        self, collection: str, snapshot: str, path: str | os.PathLike[str]
    ) -> Path:
        """As :meth:`Trawl.download_snapshot` (the file is written with blocking writes)."""
        target = Path(path)
        partial = target.with_name(target.name + ".part")
        client = self._api.get_async_httpx_client()
        async with client.stream(**_calls.download_snapshot(collection, snapshot)) as response:
            if response.status_code >= 400:
                await response.aread()
                raise TrawlError.from_response(response)
            with open(partial, "wb") as file:
                async for chunk in response.aiter_bytes(CHUNK_BYTES):
                    file.write(chunk)
        partial.replace(target)
        return target

    async def restore_snapshot(self, collection: str, path: str | os.PathLike[str]) -> RestoreAck:
        """As :meth:`Trawl.restore_snapshot` (the file is read with blocking reads)."""
        size = os.path.getsize(path)
        return await self._run(_calls.restore_snapshot(collection, read_chunks(path), size))
