"""``TrawlVectorStore``: a LangChain vector store on a Trawl collection."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore
from trawl_client import DEFAULT_URL, Trawl, TrawlError

from ._filters import to_trawl_filter
from .embeddings import TrawlEmbeddings, _PerLoop

__all__ = ["TrawlVectorStore"]

ORIGINAL_ID_KEY = "_langchain_id"
"""Payload key holding a document's id as given, when Trawl would return it
in another form (a UUID written in upper case, braced or without hyphens
comes back hyphenated in lower case)."""

MODES = ("dense", "lexical", "hybrid")
METRICS = ("cosine", "dot", "l2")


class TrawlVectorStore(VectorStore):
    """A LangChain vector store on a collection of a Trawl server.

    Args:
        embedding: How texts become vectors.

            * A LangChain ``Embeddings`` (``OpenAIEmbeddings``, a local
              model, ...): vectors are computed here and sent; the
              collection is created on the first write with that dimension.
            * ``None``, or a :class:`~langchain_trawl.TrawlEmbeddings` of the
              same server: the server embeds with its own model. Points
              are sent as text, searches are text searches, and hybrid
              search fuses every retriever the server has for a text.

        url: The server's address.
        collection_name: The collection (created on the first write if it
            does not exist; an alias of one works too).
        api_key: The server's API key, if it has one.
        content_key: The payload field that holds a document's text. The
            collections this store creates keep their full-text (BM25)
            index on it; for an existing collection give its full-text
            field (``text`` for one created with ``text=True`` by
            ``trawl-client``).
        metric: ``cosine`` (default), ``dot`` or ``l2``: the metric of a
            collection this store creates, and how scores become
            relevance scores.
        payload_indexes: Payload indexes of a collection this store creates
            (``{"source": "keyword", "year": "integer"}``); filters on
            indexed fields are answered from the index.
        search_mode: How :meth:`similarity_search` and its relatives search
            when no ``mode`` is given: ``dense`` (vectors), ``lexical``
            (BM25 over ``content_key``) or ``hybrid`` (both, fused).
        fusion: How a hybrid search fuses its stages: ``"dbsf"`` (the
            default, as the server's own hybrid mode), ``"rrf"``,
            ``{"rrf": {"k": 60}}`` or ``{"weights": [dense, lexical]}``.
        batch_size: Documents embedded and written per request.
        timeout: Seconds to wait for each answer of the server.

    Metadata is stored at the top level of each point's payload, the text
    in ``content_key``; a metadata key equal to ``content_key`` or
    ``_langchain_id`` is refused. Ids are strings (LangChain's); each is
    returned exactly as it was given.
    """

    def __init__(
        self,
        embedding: Embeddings | None = None,
        url: str = DEFAULT_URL,
        collection_name: str = "langchain",
        api_key: str | None = None,
        *,
        content_key: str = "page_content",
        metric: str = "cosine",
        payload_indexes: dict[str, str] | None = None,
        search_mode: str = "dense",
        fusion: str | dict[str, Any] | None = None,
        batch_size: int = 256,
        timeout: float = 60.0,
    ) -> None:
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
        _check_mode(search_mode)
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if embedding is not None and not isinstance(embedding, Embeddings):
            raise TypeError(
                "embedding must be a LangChain Embeddings or None (the server embeds), "
                f"not {type(embedding).__name__}"
            )
        self.url = url.rstrip("/")
        self.collection_name = collection_name
        self.content_key = content_key
        self.metric = metric
        self.payload_indexes = dict(payload_indexes or {})
        self.search_mode = search_mode
        self.fusion = fusion
        self.batch_size = batch_size
        self.server_embeds = embedding is None or (
            isinstance(embedding, TrawlEmbeddings)
            and embedding.url == self.url
            and embedding.dimensions is None
        )
        self._embedding: Embeddings = (
            embedding
            if embedding is not None
            else TrawlEmbeddings(self.url, api_key, timeout=timeout)
        )
        self._client = Trawl(self.url, api_key, timeout)
        self._async = _PerLoop(self.url, api_key, timeout)

    @property
    def embeddings(self) -> Embeddings:
        """The embeddings of queries (a :class:`TrawlEmbeddings` of the
        server when the server embeds)."""
        return self._embedding

    @property
    def client(self) -> Trawl:
        """The blocking ``trawl_client.Trawl`` this store uses."""
        return self._client

    def close(self) -> None:
        """Closes the blocking client's connections."""
        self._client.close()

    async def aclose(self) -> None:
        """Closes the asyncio client's connections (of the running loop)."""
        await self._async.aclose()

    # Writing.

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Embeds and stores texts (replacing documents of the same ids).

        Args:
            texts: The texts.
            metadatas: One metadata mapping per text (stored as the payload).
            ids: One id per text; a missing (``None``) id gets a new UUID.
            batch_size: Overrides the store's ``batch_size``.

        Returns:
            The ids, in the order of ``texts``.
        """
        texts, metadatas, ids = self._prepare(texts, metadatas, ids)
        batch_size = self._batch_size(kwargs)
        for start in range(0, len(texts), batch_size):
            end = start + batch_size
            vectors = None
            if not self.server_embeds:
                vectors = self._embedding.embed_documents(texts[start:end])
            points = self._points(texts[start:end], metadatas[start:end], ids[start:end], vectors)
            try:
                self._client.upsert(self.collection_name, points)
            except TrawlError as error:
                if not _missing_collection(error):
                    raise
                self._create_collection(vectors)
                self._client.upsert(self.collection_name, points)
        return ids

    async def aadd_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """As :meth:`add_texts`, with the asyncio client (and the embedding's
        ``aembed_documents``)."""
        texts, metadatas, ids = self._prepare(texts, metadatas, ids)
        batch_size = self._batch_size(kwargs)
        client = self._async.get()
        for start in range(0, len(texts), batch_size):
            end = start + batch_size
            vectors = None
            if not self.server_embeds:
                vectors = await self._embedding.aembed_documents(texts[start:end])
            points = self._points(texts[start:end], metadatas[start:end], ids[start:end], vectors)
            try:
                await client.upsert(self.collection_name, points)
            except TrawlError as error:
                if not _missing_collection(error):
                    raise
                try:
                    await client.create_collection(self.collection_name, **self._schema(vectors))
                except TrawlError as create_error:
                    if create_error.code != "collection_exists":
                        raise
                await client.upsert(self.collection_name, points)
        return ids

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Deletes documents by id, or those matching ``filter=`` (see
        :meth:`similarity_search` for filters); with neither, every document
        (the collection stays). Ids that do not exist are ignored.

        Returns:
            True.
        """
        body = self._delete_body(ids, kwargs)
        if body == {"ids": []}:
            return True
        try:
            self._client.delete_points(self.collection_name, **body)
        except TrawlError as error:
            if not _missing_collection(error):
                raise
        return True

    async def adelete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """As :meth:`delete`, with the asyncio client."""
        body = self._delete_body(ids, kwargs)
        if body == {"ids": []}:
            return True
        try:
            await self._async.get().delete_points(self.collection_name, **body)
        except TrawlError as error:
            if not _missing_collection(error):
                raise
        return True

    def delete_collection(self) -> None:
        """Deletes the collection and its files (nothing happens if it does
        not exist). The next write creates it again."""
        try:
            self._client.delete_collection(self.collection_name)
        except TrawlError as error:
            if not _missing_collection(error):
                raise

    async def adelete_collection(self) -> None:
        """As :meth:`delete_collection`, with the asyncio client."""
        try:
            await self._async.get().delete_collection(self.collection_name)
        except TrawlError as error:
            if not _missing_collection(error):
                raise

    # Reading by id.

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """The documents with these ids that exist, in the order of ``ids``."""
        if not ids:
            return []
        try:
            records = self._client.get_points(self.collection_name, list(ids))
        except TrawlError as error:
            if _missing_collection(error):
                return []
            raise
        return self._in_order(ids, [self._document(r.id, r.payload) for r in records])

    async def aget_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """As :meth:`get_by_ids`, with the asyncio client."""
        if not ids:
            return []
        try:
            records = await self._async.get().get_points(self.collection_name, list(ids))
        except TrawlError as error:
            if _missing_collection(error):
                return []
            raise
        return self._in_order(ids, [self._document(r.id, r.payload) for r in records])

    # Searching.

    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        """The ``k`` documents most similar to ``query``.

        Args:
            query: The query text.
            k: How many documents.
            filter: Trawl's filter JSON (``{"must": [...]}``) or the simple
                form (``{"source": "a.txt", "year": {"$gte": 2020}}``).
            mode: ``dense``, ``lexical`` or ``hybrid`` (default: the
                store's ``search_mode``).
            fusion: For ``hybrid``: overrides the store's ``fusion``.
            params: Search parameters (``{"ef", "exact", ...}``) of a dense search.
        """
        return [doc for doc, _ in self.similarity_search_with_score(query, k, **kwargs)]

    async def asimilarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        """As :meth:`similarity_search`, with the asyncio client."""
        return [doc for doc, _ in await self.asimilarity_search_with_score(query, k, **kwargs)]

    def similarity_search_with_score(
        self, query: str, k: int = 4, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """As :meth:`similarity_search`, with each document's score: the
        cosine similarity for ``dense`` (``dot``: the dot product, ``l2``:
        the negated distance), BM25 for ``lexical``, the fused score for
        ``hybrid``. Higher is better."""
        options = _Options.read(self, kwargs)
        vector = None
        if options.mode != "lexical" and not self.server_embeds:
            vector = self._embedding.embed_query(query)
        return self._run(self._request(query, vector, k, options))

    async def asimilarity_search_with_score(
        self, query: str, k: int = 4, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """As :meth:`similarity_search_with_score`, with the asyncio client."""
        options = _Options.read(self, kwargs)
        vector = None
        if options.mode != "lexical" and not self.server_embeds:
            vector = await self._embedding.aembed_query(query)
        return await self._arun(self._request(query, vector, k, options))

    def similarity_search_by_vector(
        self, embedding: list[float], k: int = 4, **kwargs: Any
    ) -> list[Document]:
        """The ``k`` documents nearest a query vector (``filter``, ``params`` as
        for :meth:`similarity_search`)."""
        return [
            doc for doc, _ in self.similarity_search_with_score_by_vector(embedding, k, **kwargs)
        ]

    async def asimilarity_search_by_vector(
        self, embedding: list[float], k: int = 4, **kwargs: Any
    ) -> list[Document]:
        """As :meth:`similarity_search_by_vector`, with the asyncio client."""
        options = _Options.read(self, {**kwargs, "mode": "dense"})
        hits = await self._arun(self._request(None, embedding, k, options))
        return [doc for doc, _ in hits]

    def similarity_search_with_score_by_vector(
        self, embedding: list[float], k: int = 4, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """As :meth:`similarity_search_by_vector`, with scores."""
        options = _Options.read(self, {**kwargs, "mode": "dense"})
        return self._run(self._request(None, embedding, k, options))

    def search(self, query: str, search_type: str, **kwargs: Any) -> list[Document]:
        """As LangChain's ``search``, with two more search types: ``hybrid``
        and ``lexical`` (``similarity_search`` with that ``mode``)."""
        if search_type in ("hybrid", "lexical"):
            return self.similarity_search(query, mode=search_type, **kwargs)
        return super().search(query, search_type, **kwargs)

    async def asearch(self, query: str, search_type: str, **kwargs: Any) -> list[Document]:
        """As :meth:`search`, with the asyncio client."""
        if search_type in ("hybrid", "lexical"):
            return await self.asimilarity_search(query, mode=search_type, **kwargs)
        return await super().asearch(query, search_type, **kwargs)

    def max_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        **kwargs: Any,
    ) -> list[Document]:
        """``k`` documents chosen among the ``fetch_k`` nearest for relevance
        and diversity (maximal marginal relevance: ``lambda_mult`` 1 is
        relevance only, 0 diversity only). Takes ``filter`` and ``params``."""
        vector = self._embedding.embed_query(query)
        return self.max_marginal_relevance_search_by_vector(
            vector, k, fetch_k, lambda_mult, **kwargs
        )

    async def amax_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        **kwargs: Any,
    ) -> list[Document]:
        """As :meth:`max_marginal_relevance_search`, with the asyncio client."""
        vector = await self._embedding.aembed_query(query)
        return await self.amax_marginal_relevance_search_by_vector(
            vector, k, fetch_k, lambda_mult, **kwargs
        )

    def max_marginal_relevance_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        **kwargs: Any,
    ) -> list[Document]:
        """As :meth:`max_marginal_relevance_search`, from a query vector."""
        options = _Options.read(self, {**kwargs, "mode": "dense"})
        request = self._request(None, embedding, max(k, fetch_k), options, with_vector=True)
        return _mmr(embedding, self._run(request, vectors=True), k, lambda_mult)

    async def amax_marginal_relevance_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        **kwargs: Any,
    ) -> list[Document]:
        """As :meth:`max_marginal_relevance_search_by_vector`, with the asyncio client."""
        options = _Options.read(self, {**kwargs, "mode": "dense"})
        request = self._request(None, embedding, max(k, fetch_k), options, with_vector=True)
        return _mmr(embedding, await self._arun(request, vectors=True), k, lambda_mult)

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        """Scores as LangChain's relevance scores, from 0 (dissimilar) to 1:
        for ``cosine`` the similarity (LangChain's ``1 - cosine distance``)
        with negative similarities taken as 0; for ``l2``
        ``1 - distance / √2`` (Trawl scores ``-distance``), at least 0;
        for ``dot`` the score as it is (in [-1, 1] for unit vectors)."""
        if self.metric == "l2":
            return lambda score: max(0.0, 1.0 + score / math.sqrt(2))
        if self.metric == "cosine":
            return lambda score: min(1.0, max(0.0, score))
        return lambda score: score

    # Construction.

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings | None,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> TrawlVectorStore:
        """A store (``kwargs`` as for the constructor; ``collection_name``
        defaults to a new name) holding ``texts``."""
        store = cls._from_kwargs(embedding, kwargs)
        store.add_texts(texts, metadatas, ids=ids)
        return store

    @classmethod
    async def afrom_texts(
        cls,
        texts: list[str],
        embedding: Embeddings | None,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> TrawlVectorStore:
        """As :meth:`from_texts`, with the asyncio client."""
        store = cls._from_kwargs(embedding, kwargs)
        await store.aadd_texts(texts, metadatas, ids=ids)
        return store

    @classmethod
    def _from_kwargs(cls, embedding: Embeddings | None, kwargs: dict[str, Any]) -> TrawlVectorStore:
        kwargs.setdefault("collection_name", f"langchain-{uuid.uuid4().hex[:16]}")
        return cls(embedding, **kwargs)

    # Internals.

    def _prepare(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None,
        ids: Sequence[str | None] | None,
    ) -> tuple[list[str], list[dict[str, Any]], list[str]]:
        texts = list(texts)
        if metadatas is None:
            metadatas = [{} for _ in texts]
        elif len(metadatas) != len(texts):
            raise ValueError(f"{len(metadatas)} metadatas for {len(texts)} texts")
        if ids is None:
            ids = [None] * len(texts)
        elif len(ids) != len(texts):
            raise ValueError(f"{len(ids)} ids for {len(texts)} texts")
        filled = [str(uuid.uuid4()) if given is None else given for given in ids]
        for given in filled:
            if not isinstance(given, str):
                raise TypeError(f"ids are strings, not {type(given).__name__} ({given!r})")
        return texts, [dict(m or {}) for m in metadatas], filled

    def _batch_size(self, kwargs: dict[str, Any]) -> int:
        batch_size = kwargs.pop("batch_size", None) or self.batch_size
        if kwargs:
            raise TypeError(f"unexpected arguments: {', '.join(sorted(kwargs))}")
        return batch_size

    def _points(
        self,
        texts: list[str],
        metadatas: list[dict[str, Any]],
        ids: list[str],
        vectors: list[list[float]] | None,
    ) -> list[dict[str, Any]]:
        if vectors is not None and len(vectors) != len(texts):
            raise ValueError(
                f"the embedding returned {len(vectors)} vectors for {len(texts)} texts"
            )
        points = []
        for i, (text, metadata, point_id) in enumerate(zip(texts, metadatas, ids)):
            for reserved in (self.content_key, ORIGINAL_ID_KEY):
                if reserved in metadata:
                    raise ValueError(
                        f"document {point_id!r}: the metadata key {reserved!r} is reserved "
                        "(the store keeps the text and the id as given there); rename it, "
                        "or choose another content_key"
                    )
            payload = {**metadata, self.content_key: text}
            if _normalised_uuid(point_id) not in (None, point_id):
                payload[ORIGINAL_ID_KEY] = point_id
            point: dict[str, Any] = {"id": point_id, "payload": payload}
            if vectors is None:
                point["text"] = text
            else:
                point["vector"] = [float(x) for x in vectors[i]]
            points.append(point)
        return points

    def _schema(self, vectors: list[list[float]] | None) -> dict[str, Any]:
        vector: dict[str, Any] = {"metric": self.metric}
        if vectors is not None:
            vector["dims"] = len(vectors[0])
        schema: dict[str, Any] = {"vector": vector, "text": {"field": self.content_key}}
        if self.payload_indexes:
            schema["payload_indexes"] = self.payload_indexes
        return schema

    def _create_collection(self, vectors: list[list[float]] | None) -> None:
        try:
            self._client.create_collection(self.collection_name, **self._schema(vectors))
        except TrawlError as error:
            if error.code != "collection_exists":
                raise

    def _delete_body(self, ids: list[str] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        filter = to_trawl_filter(kwargs.pop("filter", None))
        if kwargs:
            raise TypeError(f"unexpected arguments: {', '.join(sorted(kwargs))}")
        if ids is not None and filter is not None:
            raise ValueError("delete takes ids or filter, not both")
        if ids is not None:
            return {"ids": list(ids)}
        return {"filter": filter if filter is not None else {}}

    def _request(
        self,
        query: str | None,
        vector: list[float] | None,
        k: int,
        options: _Options,
        *,
        with_vector: bool = False,
    ) -> tuple[str, dict[str, Any]]:
        """The client method and its arguments for a search."""
        fields: dict[str, Any] = {"filter": options.filter, "limit": k}
        if with_vector:
            fields["with_vector"] = True
        if vector is not None:
            vector = [float(x) for x in vector]
        if options.mode == "lexical":
            return "query", {**fields, "lexical": query}
        if options.mode == "hybrid":
            if vector is None:
                return "query", {
                    **fields,
                    "text": query,
                    "mode": "hybrid",
                    "fusion": options.fusion,
                }
            stages = [{"vector": vector}, {"lexical": query}]
            return "query", {**fields, "prefetch": stages, "fusion": options.fusion or "dbsf"}
        if vector is None:
            return "search", {**fields, "text": query, "params": options.params}
        return "search", {**fields, "vector": vector, "params": options.params}

    def _run(
        self, request: tuple[str, dict[str, Any]], *, vectors: bool = False
    ) -> list[tuple[Document, Any]]:
        method, fields = request
        try:
            answer = getattr(self._client, method)(self.collection_name, **fields)
        except TrawlError as error:
            if _missing_collection(error):
                return []
            raise
        return self._hits(answer.hits, vectors)

    async def _arun(
        self, request: tuple[str, dict[str, Any]], *, vectors: bool = False
    ) -> list[tuple[Document, Any]]:
        method, fields = request
        try:
            answer = await getattr(self._async.get(), method)(self.collection_name, **fields)
        except TrawlError as error:
            if _missing_collection(error):
                return []
            raise
        return self._hits(answer.hits, vectors)

    def _hits(self, hits: Sequence[Any], vectors: bool) -> list[tuple[Document, Any]]:
        if vectors:
            return [(self._document(hit.id, hit.payload), hit.vector) for hit in hits]
        return [(self._document(hit.id, hit.payload), float(hit.score)) for hit in hits]

    def _document(self, point_id: int | str, payload: Any) -> Document:
        """A document from a point: its text from ``content_key``, the rest
        of the payload as metadata."""
        fields = dict(payload.to_dict()) if hasattr(payload, "to_dict") else {}
        content = fields.pop(self.content_key, "")
        original = fields.pop(ORIGINAL_ID_KEY, None)
        if isinstance(content, list):
            content = "\n".join(str(part) for part in content)
        elif not isinstance(content, str):
            content = str(content)
        doc_id = original if isinstance(original, str) else str(point_id)
        return Document(id=doc_id, page_content=content, metadata=fields)

    @staticmethod
    def _in_order(ids: Sequence[str], documents: list[Document]) -> list[Document]:
        """``documents`` in the order of ``ids``, each once."""
        by_id: dict[str, Document] = {}
        for doc in documents:
            key = doc.id or ""
            by_id[key] = doc
            by_id.setdefault(_normalised_uuid(key) or key, doc)
        ordered: list[Document] = []
        taken: set[str] = set()
        for wanted in ids:
            doc = by_id.get(wanted) or by_id.get(_normalised_uuid(wanted) or wanted)
            if doc is not None and (doc.id or "") not in taken:
                taken.add(doc.id or "")
                ordered.append(doc)
        return ordered


class _Options:
    """The search options of a call's keyword arguments."""

    def __init__(
        self,
        mode: str,
        filter: dict[str, Any] | None,
        fusion: Any,
        params: dict[str, Any] | None,
    ) -> None:
        self.mode = mode
        self.filter = filter
        self.fusion = fusion
        self.params = params

    @classmethod
    def read(cls, store: TrawlVectorStore, kwargs: dict[str, Any]) -> _Options:
        kwargs = dict(kwargs)
        mode = kwargs.pop("mode", None) or store.search_mode
        _check_mode(mode)
        options = cls(
            mode,
            to_trawl_filter(kwargs.pop("filter", None)),
            kwargs.pop("fusion", None) or store.fusion,
            kwargs.pop("params", None),
        )
        if kwargs:
            raise TypeError(
                f"unexpected search arguments: {', '.join(sorted(kwargs))} "
                "(TrawlVectorStore takes filter, mode, fusion and params)"
            )
        return options


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")


def _missing_collection(error: TrawlError) -> bool:
    return error.status == 404 and error.code == "collection_not_found"


def _normalised_uuid(point_id: str) -> str | None:
    """The form in which Trawl returns ``point_id`` if it may read it as a
    UUID (hyphenated, lower case), else ``None``."""
    try:
        return str(uuid.UUID(point_id))
    except ValueError:
        return None


def _mmr(
    query: list[float], candidates: list[tuple[Document, Any]], k: int, lambda_mult: float
) -> list[Document]:
    if not candidates:
        return []
    import numpy as np
    from langchain_core.vectorstores.utils import maximal_marginal_relevance

    vectors = [vector for _, vector in candidates]
    chosen = maximal_marginal_relevance(
        np.asarray(query, dtype=np.float32), vectors, lambda_mult=lambda_mult, k=k
    )
    return [candidates[i][0] for i in chosen]
