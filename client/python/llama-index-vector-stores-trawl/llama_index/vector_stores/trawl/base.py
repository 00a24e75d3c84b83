"""``TrawlVectorStore``: a LlamaIndex vector store on a Trawl collection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Dict, List, Optional, Union

from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.indices.query.embedding_utils import get_top_k_mmr_embeddings
from llama_index.core.schema import BaseNode, MetadataMode, TextNode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
    VectorStoreQueryResult,
)
from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict
from trawl_client import DEFAULT_URL, AsyncTrawl, Trawl, TrawlError

from ._filters import to_trawl_filter
from ._loop import PerLoop

DOC_ID_KEY = "doc_id"
"""The payload field holding a node's source document id (indexed)."""

METRICS = ("cosine", "dot", "l2")

_DENSE = (VectorStoreQueryMode.DEFAULT,)
_LEXICAL = (VectorStoreQueryMode.TEXT_SEARCH,)
_HYBRID = (VectorStoreQueryMode.HYBRID, VectorStoreQueryMode.SEMANTIC_HYBRID)
_MMR = (VectorStoreQueryMode.MMR,)


class TrawlVectorStore(BasePydanticVectorStore):
    """A LlamaIndex vector store on a collection of a Trawl server.

    Nodes are stored as LlamaIndex's own vector stores store them
    (``node_to_metadata_dict``): the node's metadata at the top level of
    the point's payload, with ``_node_content``, ``_node_type``,
    ``doc_id``, ``ref_doc_id`` and ``document_id``; the node's text in
    ``text_key``, the field of the collection's full-text (BM25) index.

    A node with an embedding is sent as a vector; one without (from an
    ``IngestionPipeline`` with no embedding step) is sent as text for the
    server to embed with its own model. A query with an embedding searches
    by vector; one without searches by ``query_str`` on the server (give
    ``is_embedding_query=False`` so that retrievers do not embed queries).

    Args:
        collection_name: The collection (created on the first write if it
            does not exist: cosine, the first vectors' dimension or the
            model's, the full-text index on ``text_key``, a keyword index on
            ``doc_id``).
        url: The server's address.
        api_key: The server's API key, if it has one.
        text_key: The payload field of the node's text.
        metric: ``cosine`` (default), ``dot`` or ``l2`` for a collection
            this store creates.
        payload_indexes: More payload indexes for a collection this store
            creates (``{"year": "integer"}``).
        hybrid_fusion: How hybrid queries fuse the dense and lexical stages
            when the query gives no ``alpha``: ``"dbsf"`` (default, as the
            server's own hybrid mode), ``"rrf"``, ``{"rrf": {"k": 60}}``.
        batch_size: Nodes per upsert.
        timeout: Seconds to wait for each answer.
        flat_metadata: Refuse nested metadata (``node_to_metadata_dict``'s check).
        is_embedding_query: False when queries are embedded by the server.
    """

    stores_text: bool = True
    flat_metadata: bool = False

    collection_name: str
    url: str = DEFAULT_URL
    api_key: Optional[str] = Field(default=None, exclude=True)
    text_key: str = "text"
    metric: str = "cosine"
    payload_indexes: Dict[str, str] = Field(default_factory=dict)
    hybrid_fusion: Optional[Union[str, Dict[str, Any]]] = None
    batch_size: int = 256
    timeout: float = 60.0

    _client: Trawl = PrivateAttr()
    _async: PerLoop = PrivateAttr()

    def __init__(
        self,
        collection_name: str,
        url: str = DEFAULT_URL,
        api_key: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            collection_name=collection_name, url=url.rstrip("/"), api_key=api_key, **kwargs
        )
        if self.metric not in METRICS:
            raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {self.metric!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}")
        self._client = Trawl(self.url, api_key, self.timeout)
        self._async = PerLoop(self.url, api_key, self.timeout)

    @classmethod
    def class_name(cls) -> str:
        return "TrawlVectorStore"

    @property
    def client(self) -> Trawl:
        """The blocking ``trawl_client.Trawl`` this store uses."""
        return self._client

    @property
    def aclient(self) -> AsyncTrawl:
        """The ``trawl_client.AsyncTrawl`` of the running event loop."""
        return self._async.get()

    def close(self) -> None:
        """Closes the blocking client's connections."""
        self._client.close()

    async def aclose(self) -> None:
        """Closes the asyncio client's connections (of the running loop)."""
        await self._async.aclose()

    # Writing.

    def add(self, nodes: Sequence[BaseNode], **add_kwargs: Any) -> List[str]:
        """Stores nodes (replacing those of the same ids); returns their ids."""
        points = [self._point(node) for node in nodes]
        for start in range(0, len(points), self.batch_size):
            batch = points[start : start + self.batch_size]
            try:
                self._client.upsert(self.collection_name, batch)
            except TrawlError as error:
                if not _missing_collection(error):
                    raise
                try:
                    self._client.create_collection(self.collection_name, **self._schema(batch))
                except TrawlError as create_error:
                    if create_error.code != "collection_exists":
                        raise
                self._client.upsert(self.collection_name, batch)
        return [node.node_id for node in nodes]

    async def async_add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> List[str]:
        """As :meth:`add`, with the asyncio client."""
        client = self._async.get()
        points = [self._point(node) for node in nodes]
        for start in range(0, len(points), self.batch_size):
            batch = points[start : start + self.batch_size]
            try:
                await client.upsert(self.collection_name, batch)
            except TrawlError as error:
                if not _missing_collection(error):
                    raise
                try:
                    await client.create_collection(self.collection_name, **self._schema(batch))
                except TrawlError as create_error:
                    if create_error.code != "collection_exists":
                        raise
                await client.upsert(self.collection_name, batch)
        return [node.node_id for node in nodes]

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        """Deletes the nodes of a source document."""
        self._ignore_missing(
            self._client.delete_points, self.collection_name, filter=_doc_filter(ref_doc_id)
        )

    async def adelete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        """As :meth:`delete`, with the asyncio client."""
        try:
            await self._async.get().delete_points(
                self.collection_name, filter=_doc_filter(ref_doc_id)
            )
        except TrawlError as error:
            if not _missing_collection(error):
                raise

    def delete_nodes(
        self,
        node_ids: Optional[List[str]] = None,
        filters: Optional[MetadataFilters] = None,
        **delete_kwargs: Any,
    ) -> None:
        """Deletes the nodes with these ids and matching ``filters`` (both
        if both are given; at least one is needed: :meth:`clear` deletes
        everything)."""
        if node_ids is not None and not node_ids:
            return
        filter = self._selection(node_ids, filters, required=True)
        self._ignore_missing(self._client.delete_points, self.collection_name, filter=filter)

    async def adelete_nodes(
        self,
        node_ids: Optional[List[str]] = None,
        filters: Optional[MetadataFilters] = None,
        **delete_kwargs: Any,
    ) -> None:
        """As :meth:`delete_nodes`, with the asyncio client."""
        if node_ids is not None and not node_ids:
            return
        filter = self._selection(node_ids, filters, required=True)
        try:
            await self._async.get().delete_points(self.collection_name, filter=filter)
        except TrawlError as error:
            if not _missing_collection(error):
                raise

    def clear(self) -> None:
        """Deletes the collection (the next write creates it again)."""
        self._ignore_missing(self._client.delete_collection, self.collection_name)

    async def aclear(self) -> None:
        """As :meth:`clear`, with the asyncio client."""
        try:
            await self._async.get().delete_collection(self.collection_name)
        except TrawlError as error:
            if not _missing_collection(error):
                raise

    # Reading.

    def get_nodes(
        self,
        node_ids: Optional[List[str]] = None,
        filters: Optional[MetadataFilters] = None,
    ) -> List[BaseNode]:
        """The nodes with these ids (in their order) and matching
        ``filters``; every node when neither is given."""
        if node_ids is not None and not node_ids:
            return []
        filter = self._selection(node_ids, filters, required=False)
        try:
            records = list(
                self._client.iter_points(self.collection_name, filter=filter, batch=1000)
            )
        except TrawlError as error:
            if _missing_collection(error):
                return []
            raise
        return _in_order(node_ids, [self._node(r.id, r.payload) for r in records])

    async def aget_nodes(
        self,
        node_ids: Optional[List[str]] = None,
        filters: Optional[MetadataFilters] = None,
    ) -> List[BaseNode]:
        """As :meth:`get_nodes`, with the asyncio client."""
        if node_ids is not None and not node_ids:
            return []
        filter = self._selection(node_ids, filters, required=False)
        try:
            records = [
                r
                async for r in self._async.get().iter_points(
                    self.collection_name, filter=filter, batch=1000
                )
            ]
        except TrawlError as error:
            if _missing_collection(error):
                return []
            raise
        return _in_order(node_ids, [self._node(r.id, r.payload) for r in records])

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """The nodes nearest the query.

        Modes: ``DEFAULT`` (by ``query_embedding``, else by ``query_str``
        embedded on the server), ``TEXT_SEARCH`` (BM25 over the nodes'
        text), ``HYBRID`` / ``SEMANTIC_HYBRID`` (a dense and a lexical
        stage, fused: with ``alpha`` by the weights ``[alpha, 1 - alpha]``
        of min-max normalised scores, else by ``hybrid_fusion``; returns
        ``hybrid_top_k`` nodes, else ``similarity_top_k``; with
        ``hybrid_top_k`` the dense stage passes on ``similarity_top_k``
        candidates, and the lexical stage ``sparse_top_k`` when given, each
        stage 100 otherwise), ``MMR`` (maximal marginal relevance among
        the ``mmr_prefetch_k`` nearest, by default ``mmr_prefetch_factor``
        (4) × ``similarity_top_k``, with ``mmr_threshold``). ``filters``,
        ``doc_ids`` and ``node_ids`` restrict every mode.
        """
        if query.mode in _MMR:
            vector = query.query_embedding
            if vector is None:
                vector = self._client.embed(self._query_text(query)).embeddings[0]
            method, fields = self._mmr_request(query, vector, kwargs)
            return self._mmr_result(query, vector, self._search(method, fields))
        method, fields = self._request(query)
        return self._result(self._search(method, fields))

    async def aquery(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """As :meth:`query`, with the asyncio client."""
        if query.mode in _MMR:
            vector = query.query_embedding
            if vector is None:
                answer = await self._async.get().embed(self._query_text(query))
                vector = answer.embeddings[0]
            method, fields = self._mmr_request(query, vector, kwargs)
            return self._mmr_result(query, vector, await self._asearch(method, fields))
        method, fields = self._request(query)
        return self._result(await self._asearch(method, fields))

    # Internals.

    def _point(self, node: BaseNode) -> Dict[str, Any]:
        if self.text_key in node.metadata:
            raise ValueError(
                f"node {node.node_id!r}: the metadata key {self.text_key!r} is the store's "
                "text_key (the node's text is kept there); rename it or choose another text_key"
            )
        payload = node_to_metadata_dict(node, remove_text=True, flat_metadata=self.flat_metadata)
        text = node.get_content(metadata_mode=MetadataMode.NONE)
        payload[self.text_key] = text
        point: Dict[str, Any] = {"id": node.node_id, "payload": payload}
        if node.embedding is None:
            point["text"] = text
        else:
            point["vector"] = [float(x) for x in node.embedding]
        return point

    def _schema(self, batch: List[Dict[str, Any]]) -> Dict[str, Any]:
        vector: Dict[str, Any] = {"metric": self.metric}
        dims = next((len(p["vector"]) for p in batch if "vector" in p), None)
        if dims is not None:
            vector["dims"] = dims
        return {
            "vector": vector,
            "text": {"field": self.text_key},
            "payload_indexes": {DOC_ID_KEY: "keyword", **self.payload_indexes},
        }

    def _selection(
        self,
        node_ids: Optional[List[str]],
        filters: Optional[MetadataFilters],
        *,
        required: bool,
        doc_ids: Optional[List[str]] = None,
    ) -> Optional[Dict[str, Any]]:
        """The filter of nodes by id, source document and metadata (an empty
        list of ids restricts nothing, as LlamaIndex's retrievers mean it)."""
        must: List[Dict[str, Any]] = []
        if node_ids:
            must.append({"has_id": list(node_ids)})
        if doc_ids:
            must.append({"key": DOC_ID_KEY, "match": {"any": list(doc_ids)}})
        if filters is not None and filters.filters:
            must.append(to_trawl_filter(filters))
        if not must:
            if required:
                raise ValueError("give node_ids or filters (clear() deletes every node)")
            return None
        return {"must": must}

    def _query_text(self, query: VectorStoreQuery) -> str:
        if not query.query_str:
            raise ValueError(
                f"a {_mode_name(query)} query without query_embedding needs query_str "
                "(for the server to embed)"
            )
        return query.query_str

    def _request(self, query: VectorStoreQuery) -> tuple[str, Dict[str, Any]]:
        """The client method and its arguments for a query."""
        filter = self._selection(
            query.node_ids, query.filters, required=False, doc_ids=query.doc_ids
        )
        fields: Dict[str, Any] = {"filter": filter, "limit": query.similarity_top_k}
        vector = None
        if query.query_embedding is not None:
            vector = [float(x) for x in query.query_embedding]
        if query.mode in _DENSE:
            if vector is not None:
                return "search", {**fields, "vector": vector}
            return "search", {**fields, "text": self._query_text(query)}
        if query.mode in _LEXICAL:
            return "query", {**fields, "lexical": self._query_text(query)}
        if query.mode in _HYBRID:
            text = self._query_text(query)
            dense: Dict[str, Any] = {"vector": vector} if vector is not None else {"text": text}
            lexical: Dict[str, Any] = {"lexical": text}
            if query.hybrid_top_k is not None:
                dense["limit"] = query.similarity_top_k
                fields["limit"] = query.hybrid_top_k
            if query.sparse_top_k is not None:
                lexical["limit"] = query.sparse_top_k
            if query.alpha is not None:
                fusion: Any = {"weights": [query.alpha, 1.0 - query.alpha]}
            else:
                fusion = self.hybrid_fusion or "dbsf"
            return "query", {**fields, "prefetch": [dense, lexical], "fusion": fusion}
        raise ValueError(
            f"query mode {_mode_name(query)!r} is not supported by TrawlVectorStore "
            "(default, text_search, hybrid, semantic_hybrid, mmr)"
        )

    def _mmr_request(
        self, query: VectorStoreQuery, vector: List[float], kwargs: Dict[str, Any]
    ) -> tuple[str, Dict[str, Any]]:
        prefetch = kwargs.get("mmr_prefetch_k")
        if prefetch is None:
            prefetch = query.similarity_top_k * kwargs.get("mmr_prefetch_factor", 4)
        filter = self._selection(
            query.node_ids, query.filters, required=False, doc_ids=query.doc_ids
        )
        return "search", {
            "filter": filter,
            "limit": max(int(prefetch), query.similarity_top_k),
            "vector": [float(x) for x in vector],
            "with_vector": True,
        }

    def _search(self, method: str, fields: Dict[str, Any]) -> List[Any]:
        try:
            return getattr(self._client, method)(self.collection_name, **fields).hits
        except TrawlError as error:
            if _missing_collection(error):
                return []
            raise

    async def _asearch(self, method: str, fields: Dict[str, Any]) -> List[Any]:
        try:
            answer = await getattr(self._async.get(), method)(self.collection_name, **fields)
        except TrawlError as error:
            if _missing_collection(error):
                return []
            raise
        return answer.hits

    def _result(self, hits: List[Any]) -> VectorStoreQueryResult:
        nodes = [self._node(hit.id, hit.payload) for hit in hits]
        return VectorStoreQueryResult(
            nodes=nodes,
            similarities=[float(hit.score) for hit in hits],
            ids=[node.node_id for node in nodes],
        )

    def _mmr_result(
        self, query: VectorStoreQuery, vector: List[float], hits: List[Any]
    ) -> VectorStoreQueryResult:
        if not hits:
            return VectorStoreQueryResult(nodes=[], similarities=[], ids=[])
        scores, chosen = get_top_k_mmr_embeddings(
            [float(x) for x in vector],
            [hit.vector for hit in hits],
            similarity_top_k=query.similarity_top_k,
            embedding_ids=list(range(len(hits))),
            mmr_threshold=query.mmr_threshold,
        )
        nodes = [self._node(hits[i].id, hits[i].payload) for i in chosen]
        return VectorStoreQueryResult(
            nodes=nodes,
            similarities=[float(s) for s in scores],
            ids=[node.node_id for node in nodes],
        )

    def _node(self, point_id: Union[int, str], payload: Any) -> BaseNode:
        """A node from a point's payload (a plain ``TextNode`` for a point
        that was not written by LlamaIndex)."""
        fields = dict(payload.to_dict()) if hasattr(payload, "to_dict") else {}
        text = fields.get(self.text_key)
        if isinstance(text, list):
            text = "\n".join(str(part) for part in text)
        elif text is not None and not isinstance(text, str):
            text = str(text)
        if "_node_content" in fields:
            return metadata_dict_to_node(fields, text=text)
        fields.pop(self.text_key, None)
        return TextNode(id_=str(point_id), text=text or "", metadata=fields)

    def _ignore_missing(self, call: Any, *args: Any, **kwargs: Any) -> None:
        try:
            call(*args, **kwargs)
        except TrawlError as error:
            if not _missing_collection(error):
                raise


def _mode_name(query: VectorStoreQuery) -> str:
    return str(getattr(query.mode, "value", query.mode))


def _doc_filter(ref_doc_id: str) -> Dict[str, Any]:
    return {"must": [{"key": DOC_ID_KEY, "match": {"value": ref_doc_id}}]}


def _missing_collection(error: TrawlError) -> bool:
    return error.status == 404 and error.code == "collection_not_found"


def _in_order(node_ids: Optional[List[str]], nodes: List[BaseNode]) -> List[BaseNode]:
    """``nodes`` in the order of ``node_ids`` (as they are without ids)."""
    if node_ids is None:
        return nodes
    by_id = {node.node_id: node for node in nodes}
    ordered = [by_id.pop(node_id) for node_id in node_ids if node_id in by_id]
    return ordered + list(by_id.values())
