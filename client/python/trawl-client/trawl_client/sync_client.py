"""The blocking client, :class:`Trawl`.

It has one method per route of the API, plus a few built on them
(:meth:`Trawl.iter_points`, :meth:`Trawl.upsert_batched`,
:meth:`Trawl.get_points`). Arguments that are JSON objects (filters, points,
query stages, collection schemas) take plain mappings in the API's JSON shape
or the generated models of :mod:`trawl_client.models`; answers are generated
models. An error answer raises :class:`~trawl_client.TrawlError`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence, Sized
from pathlib import Path
from typing import Any, TypeVar, cast

import httpx
from tqdm.auto import tqdm

from . import _calls
from ._batches import CHUNK_BYTES, check_batch_size, chunks
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

__all__ = ["Trawl"]

T = TypeVar("T")


class Trawl:
    """A blocking client of a Trawl server.

    Args:
        url: The server's address.
        api_key: The server's API key (``--api-key``), sent as
            ``Authorization: Bearer <key>``; ``None`` for a server without keys.
        timeout: Seconds to wait for each answer (or an ``httpx.Timeout``;
            ``None`` waits without limit). The server gives up on a request
            after ``--request-timeout-secs`` (30 by default) on its own.
        headers: Headers sent with every request.
        httpx_args: More arguments for the underlying ``httpx.Client``.

    Use it as a context manager, or call :meth:`close`, to close its
    connections::

        with Trawl("http://127.0.0.1:6390") as trawl:
            print(trawl.list_collections())
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

    def close(self) -> None:
        """Closes the connections."""
        self._api.get_httpx_client().close()

    def __enter__(self) -> Trawl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, call: Call[T]) -> T:
        response = self._api.get_httpx_client().request(**call.request())
        return call.finish(self._api, response)

    # Service.

    def health(self) -> Health:
        """``GET /healthz``: the server's status and version."""
        return self._run(_calls.health())

    def readiness(self) -> Readiness:
        """``GET /readyz``: whether the model is loaded and storage open
        (``ready`` false while starting; no error is raised for that)."""
        return self._run(_calls.readiness())

    # Collections.

    def create_collection(
        self,
        name: str,
        *,
        vector: Json | None = None,
        vectors: Mapping[str, Json] | None = None,
        payload_indexes: Mapping[str, str] | None = None,
        text: Json | bool | None = None,
    ) -> CollectionAck:
        """``PUT /collections/{name}``: creates a collection.

        Args:
            name: 1 to 64 of ``[A-Za-z0-9_-]``, starting with a letter or digit.
            vector: The unnamed vector's schema (``{"dims"?, "metric",
                "layout", "hnsw", "muvera"?}``). When neither ``vector`` nor
                ``vectors`` is given, ``{}``: the server's model's dimension,
                cosine, float layout, so that points can be given as text.
            vectors: Named vectors, by name: dense schemas (with
                ``"encoder"`` to be filled from text) or ``{"kind": "sparse"}``.
            payload_indexes: Payload fields to index: ``keyword``,
                ``integer``, ``float``, ``bool`` or ``text``.
            text: A full-text (BM25) index for lexical and hybrid queries:
                ``True`` for the defaults (field ``text``, English), or
                ``{"field", "language"}``.

        Raises:
            TrawlError: 409 ``collection_exists`` when the name is taken; 422
                for an invalid schema.
        """
        return self._run(_calls.create_collection(name, vector, vectors, payload_indexes, text))

    def get_collection(self, name: str) -> CollectionInfo:
        """``GET /collections/{name}``: schema, point counts, memory and disk use."""
        return self._run(_calls.get_collection(name))

    def collection_exists(self, name: str) -> bool:
        """Whether a collection (or an alias) of that name exists."""
        try:
            self.get_collection(name)
        except TrawlError as error:
            if error.status == 404:
                return False
            raise
        return True

    def list_collections(self) -> list[CollectionSummary]:
        """``GET /collections``: every collection, by name."""
        return self._run(_calls.list_collections())

    def delete_collection(self, name: str) -> CollectionAck:
        """``DELETE /collections/{name}``: deletes a collection and its files
        (by its own name, not through an alias)."""
        return self._run(_calls.delete_collection(name))

    def list_aliases(self) -> list[AliasEntry]:
        """``GET /aliases``: every alias and the collection it names."""
        return self._run(_calls.list_aliases())

    def update_aliases(self, actions: Sequence[Json]) -> list[AliasEntry]:
        """``POST /aliases``: applies ``{"create": {"alias", "collection"}}``
        and ``{"delete": {"alias"}}`` actions in order, all or none; returns
        the aliases afterwards."""
        return self._run(_calls.update_aliases(actions))

    # Points.

    def upsert(
        self, collection: str, points: Iterable[Json], *, wait: bool = True
    ) -> UpsertResult | Operation:
        """``PUT /collections/{name}/points``: inserts or replaces points.

        Args:
            collection: The collection (or an alias).
            points: ``{"id", "vector" | "text" | "multivector", "vectors"?,
                "payload"?}`` each; ``text`` is embedded by the server.
            wait: ``True``: answer once every point is written (durably).
                ``False``: answer once the points are queued on disk, with
                an :class:`~trawl_client.models.Operation` to poll with
                :meth:`get_operation`.

        Returns:
            ``UpsertResult`` (``upserted``) when waiting, else the ``Operation``.
        """
        return self._run(_calls.upsert(collection, points, wait))

    def upsert_batched(
        self,
        collection: str,
        points: Iterable[Json],
        *,
        batch_size: int = 256,
        progress: bool = True,
        total: int | None = None,
    ) -> int:
        """Upserts points from any iterable, ``batch_size`` per request, with a progress bar.

        Each batch is written (durably) before the next is read from
        ``points``, so a generator of any length is fine. The server embeds
        at most ``--max-inputs`` (256) texts at a time and accepts at most
        ``--max-upsert-points`` (10,000) points per request; a batch of a few
        hundred keeps each request well inside the request timeout. A failed
        batch raises :class:`~trawl_client.TrawlError`; the batches before it
        are stored.

        Args:
            collection: The collection (or an alias).
            points: Points as for :meth:`upsert`.
            batch_size: Points per request.
            progress: Show a ``tqdm`` progress bar (on stderr).
            total: The number of points, for the bar; taken from
                ``len(points)`` when ``points`` has a length.

        Returns:
            The number of points written.
        """
        check_batch_size(batch_size)
        if total is None and isinstance(points, Sized):
            total = len(points)
        written = 0
        with tqdm(
            total=total, disable=not progress, unit="point", desc=f"upsert {collection}"
        ) as bar:
            for chunk in chunks(points, batch_size):
                result = cast(UpsertResult, self.upsert(collection, chunk))
                written += result.upserted
                bar.update(len(chunk))
        return written

    def get_operation(self, id: str) -> Operation:
        """``GET /operations/{id}``: the state of an upsert made with ``wait=False``."""
        return self._run(_calls.get_operation(id))

    def get_point(self, collection: str, id: PointId) -> PointRecord:
        """``GET /collections/{name}/points/{id}``: one point, its vectors and payload.

        A string id made only of digits cannot travel in the path (it would
        name the integer id): fetch it with :meth:`get_points`.

        Raises:
            TrawlError: 404 ``point_not_found``.
        """
        return self._run(_calls.get_point(collection, id))

    def get_points(
        self,
        collection: str,
        ids: Sequence[PointId],
        *,
        with_payload: bool | None = None,
        with_vectors: bool | None = None,
    ) -> list[PointRecord]:
        """The points with these ids that exist, in id order (a scroll with a
        ``has_id`` filter; ids of every kind)."""
        found: list[PointRecord] = []
        for chunk in chunks(ids, 1000):
            found.extend(
                self.iter_points(
                    collection,
                    filter=_calls.has_id(chunk),
                    batch=len(chunk),
                    with_payload=with_payload,
                    with_vectors=with_vectors,
                )
            )
        return found

    def delete_points(
        self, collection: str, ids: Sequence[PointId] | None = None, *, filter: Json | None = None
    ) -> int:
        """``POST /collections/{name}/points/delete``: deletes points by
        ``ids`` or by ``filter``; returns how many existed."""
        return self._run(_calls.delete_points(collection, ids, filter))

    def set_payload(
        self,
        collection: str,
        payload: Mapping[str, Any],
        *,
        ids: Sequence[PointId] | None = None,
        filter: Json | None = None,
    ) -> int:
        """``POST /collections/{name}/points/payload``: sets these top-level
        keys in the payloads of the points chosen by ``ids`` or ``filter``,
        keeping their other keys; returns how many points were updated."""
        return self._run(_calls.set_payload(collection, payload, ids, filter, replace=False))

    def replace_payload(
        self,
        collection: str,
        payload: Mapping[str, Any],
        *,
        ids: Sequence[PointId] | None = None,
        filter: Json | None = None,
    ) -> int:
        """``PUT /collections/{name}/points/payload``: replaces the payloads
        of the chosen points with ``payload``; returns how many were updated."""
        return self._run(_calls.set_payload(collection, payload, ids, filter, replace=True))

    def delete_payload(
        self,
        collection: str,
        keys: Sequence[str],
        *,
        ids: Sequence[PointId] | None = None,
        filter: Json | None = None,
    ) -> int:
        """``POST /collections/{name}/points/payload/delete``: removes these
        top-level keys from the chosen points' payloads; returns how many
        points were updated."""
        return self._run(_calls.delete_payload(collection, keys, ids, filter))

    def scroll(
        self,
        collection: str,
        *,
        filter: Json | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        with_payload: bool | None = None,
        with_vectors: bool | None = None,
    ) -> ScrollResponse:
        """``POST /collections/{name}/points/scroll``: one page of points in
        id order (``limit`` 1 to 10,000, default 100); its ``next`` is the
        ``cursor`` of the following page, ``None`` on the last. See
        :meth:`iter_points` to follow the pages."""
        return self._run(
            _calls.scroll(collection, filter, limit, cursor, with_payload, with_vectors)
        )

    def iter_points(
        self,
        collection: str,
        *,
        filter: Json | None = None,
        batch: int = 100,
        with_payload: bool | None = None,
        with_vectors: bool | None = None,
    ) -> Iterator[PointRecord]:
        """Every point (or every point matching ``filter``), in id order,
        fetched ``batch`` at a time by following the scroll's cursor.

        Every point present for the whole iteration is yielded exactly once,
        whatever is written meanwhile (see the scroll in docs/api.md).
        """
        check_batch_size(batch)
        cursor: str | None = None
        while True:
            page = self.scroll(
                collection,
                filter=filter,
                limit=batch,
                cursor=cursor,
                with_payload=with_payload,
                with_vectors=with_vectors,
            )
            yield from page.points
            if not isinstance(page.next_, str):
                return
            cursor = page.next_

    def count(
        self, collection: str, *, filter: Json | None = None, exact: bool | None = None
    ) -> int:
        """``POST /collections/{name}/points/count``: the number of points
        (matching ``filter``); ``exact=False`` accepts the planner's estimate."""
        return self._run(_calls.count(collection, filter, exact))

    def facet(
        self, collection: str, key: str, *, filter: Json | None = None, limit: int | None = None
    ) -> list[FacetValue]:
        """``POST /collections/{name}/facet``: the values of an indexed
        keyword, integer or bool field with their point counts, most
        frequent first."""
        return self._run(_calls.facet(collection, key, filter, limit))

    # Search.

    def search(
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
        """``POST /collections/{name}/search``: the points nearest a query.

        Args:
            collection: The collection (or an alias).
            vector: A query vector; or
            text: a query text, embedded by the server; or
            multivector: query token vectors (multi-vector collections).
            using: The named vector searched (default the unnamed one).
            filter: ``{"must"?, "should"?, "must_not"?}`` conditions on the
                payload and ids.
            limit: Hits returned (server default 10).
            with_payload: Return payloads (server default true).
            with_vector: Return stored vectors (server default false).
            params: ``{"ef"?, "exact"?, "oversample"?, "rerank"?}``.

        Returns:
            The hits, best first, and the server's time.
        """
        return self._run(
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

    def search_batch(self, collection: str, searches: Sequence[Json]) -> list[SearchResponse]:
        """``POST /collections/{name}/search/batch``: several searches (each
        a :meth:`search` body) in one request, answered in order."""
        return self._run(_calls.search_batch(collection, searches))

    def query(
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
        """``POST /collections/{name}/query``: retrieval stages, fused.

        Either ``prefetch`` stages (each ``{"using"?, "vector" | "text" |
        "multivector" | "point" | "sparse" | "lexical", "filter"?,
        "limit"?, "params"?}``), combined by ``fusion``; or one stage given
        by the top-level arguments; or ``text`` with ``mode``:
        ``"dense"`` (the default), ``"lexical"`` (BM25 over the full-text
        index) or ``"hybrid"`` (every retriever the text can query, fused).

        Args:
            collection: The collection (or an alias).
            prefetch: The stages.
            text, vector, multivector, point, lexical, sparse, using: The
                top-level stage (``point`` finds the points most like that one).
            mode: How a top-level ``text`` is searched.
            fusion: ``"rrf"``, ``"dbsf"``, ``{"rrf": {"k": 60}}`` or
                ``{"weights": [...]}`` (one weight per stage).
            rerank: ``{"using"?, "text"? | "vector"? | "multivector"?,
                "limit"?}``: rescore the first candidates exactly on a vector.
            filter: Applies to every stage.
            limit: Hits returned (server default 10).
            with_payload: Return payloads (server default true).
            with_vector: Return stored vectors (server default false).
            explain: Add each hit's rank and score in every stage.
            params: Tuning of the top-level stage.
        """
        return self._run(
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

    def embed(
        self,
        inputs: str | Sequence[str],
        *,
        kind: str | None = None,
        dims: int | None = None,
        bits: int | None = None,
        binary_encoding: str | None = None,
    ) -> EmbedResponse:
        """``POST /embed``: embeddings of texts.

        Args:
            inputs: A text or texts.
            kind: ``float`` (default), ``matryoshka`` (with ``dims``),
                ``binary`` (with ``bits`` 1, 2 or 4) or ``multivector``.
            dims: The Matryoshka prefix length.
            bits: Bits per dimension of binary codes.
            binary_encoding: ``base64`` (default) or ``u64``.
        """
        return self._run(_calls.embed(inputs, kind, dims, bits, binary_encoding))

    def embeddings(
        self,
        input: Input,
        *,
        model: str | None = None,
        dimensions: int | None = None,
        encoding_format: str | None = None,
    ) -> OpenAiEmbeddingsResponse:
        """``POST /v1/embeddings``: the OpenAI-compatible form of :meth:`embed`.

        Args:
            input: A text, texts, or token ids of the served model's own
                tokenizer (one list of ids, or a list of such lists).
            model: The served model's id (see :meth:`list_models`); absent
                means the served model, another gets 404 ``model_not_found``.
            dimensions: A Matryoshka prefix length.
            encoding_format: ``float`` (default) or ``base64``.
        """
        return self._run(_calls.embeddings(input, model, dimensions, encoding_format))

    def list_models(self) -> list[OpenAiModel]:
        """``GET /v1/models``: the served model, in OpenAI's shape (with its
        ``dimensions`` and ``max_tokens``)."""
        return self._run(_calls.list_models())

    def get_model(self, model: str) -> OpenAiModel:
        """``GET /v1/models/{model}``: the served model by id (an
        organisation prefix such as ``sentence-transformers/`` and case are
        ignored); 404 ``model_not_found`` for another."""
        return self._run(_calls.get_model(model))

    # Snapshots.

    def create_snapshot(self, collection: str) -> SnapshotAck:
        """``POST /collections/{name}/snapshots``: takes a snapshot."""
        return self._run(_calls.create_snapshot(collection))

    def list_snapshots(self, collection: str) -> list[SnapshotDescription]:
        """``GET /collections/{name}/snapshots``: the collection's snapshots."""
        return self._run(_calls.list_snapshots(collection))

    def delete_snapshot(self, collection: str, snapshot: str) -> SnapshotDeleted:
        """``DELETE /collections/{name}/snapshots/{snapshot}``."""
        return self._run(_calls.delete_snapshot(collection, snapshot))

    def download_snapshot(
        self, collection: str, snapshot: str, path: str | os.PathLike[str]
    ) -> Path:
        """``GET /collections/{name}/snapshots/{snapshot}``: streams the
        archive (a tar file) to ``path``, through ``path`` + ``.part``
        renamed when complete; returns ``path``."""
        target = Path(path)
        partial = target.with_name(target.name + ".part")
        with self._api.get_httpx_client().stream(
            **_calls.download_snapshot(collection, snapshot)
        ) as response:
            if response.status_code >= 400:
                response.read()
                raise TrawlError.from_response(response)
            with open(partial, "wb") as file:
                for chunk in response.iter_bytes(CHUNK_BYTES):
                    file.write(chunk)
        partial.replace(target)
        return target

    def restore_snapshot(self, collection: str, path: str | os.PathLike[str]) -> RestoreAck:
        """``PUT /collections/{name}/snapshots/restore``: streams an archive
        from ``path`` and replaces (or creates) the collection with it once
        the server has checked it whole."""
        size = os.path.getsize(path)
        with open(path, "rb") as file:
            return self._run(_calls.restore_snapshot(collection, file, size))
