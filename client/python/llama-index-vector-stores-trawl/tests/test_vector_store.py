"""TrawlVectorStore with llama-index-core against the real server: add,
query (dense, text search, hybrid, MMR), metadata filters, deletes, nodes,
async, server-side embedding."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import new_name
from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
)
from trawl_client import Trawl, TrawlError

from llama_index.vector_stores.trawl import TrawlEmbedding, TrawlVectorStore

TEXTS = [
    "The cat sleeps on the sofa.",
    "A kitten chases a mouse in the garden.",
    "The night train crosses the long bridge.",
    "A freight train runs late on the mountain line.",
    "The chef stirs the tomato soup.",
    "My grandmother bakes fresh bread.",
    "The telescope observes a distant galaxy.",
    "The space probe photographs the rings of Saturn.",
]
TOPICS = ["cat", "cat", "train", "train", "cooking", "cooking", "space", "space"]


def make_nodes(embedding: TrawlEmbedding | None) -> list[TextNode]:
    """One node per text, two per source document (``doc-<topic>``)."""
    vectors = embedding.get_text_embedding_batch(TEXTS) if embedding else [None] * len(TEXTS)
    nodes = []
    for n, (text, topic, vector) in enumerate(zip(TEXTS, TOPICS, vectors)):
        node = TextNode(
            id_=f"node-{n}",
            text=text,
            metadata={
                "topic": topic,
                "n": n,
                "weight": n / 4,
                "tags": [topic, "even" if n % 2 == 0 else "odd"],
                "note": "" if n == 0 else ("kitchen notes" if topic == "cooking" else "misc"),
            },
            embedding=vector,
        )
        node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=f"doc-{topic}")
        nodes.append(node)
    return nodes


@pytest.fixture(scope="module")
def embedding(url: str) -> TrawlEmbedding:
    return TrawlEmbedding(url)


@pytest.fixture
def store(url: str, embedding: TrawlEmbedding) -> Iterator[TrawlVectorStore]:
    """A store holding the nodes, embedded here (through /embed)."""
    store = TrawlVectorStore(new_name(), url=url)
    assert store.add(make_nodes(embedding)) == [f"node-{n}" for n in range(8)]
    yield store
    store.clear()
    store.close()


def query(
    store: TrawlVectorStore,
    embedding: TrawlEmbedding | None,
    text: str,
    k: int = 8,
    **fields: object,
) -> list[str]:
    vector = embedding.get_query_embedding(text) if embedding else None
    result = store.query(
        VectorStoreQuery(query_embedding=vector, query_str=text, similarity_top_k=k, **fields)
    )
    assert len(result.ids) == len(result.nodes) == len(result.similarities)
    return result.ids


def test_add_and_query(url: str, store: TrawlVectorStore, embedding: TrawlEmbedding) -> None:
    vector = embedding.get_query_embedding("a sleepy kitten")
    result = store.query(VectorStoreQuery(query_embedding=vector, similarity_top_k=2))
    assert sorted(result.ids) == ["node-0", "node-1"]
    assert result.similarities[0] >= result.similarities[1] > 0
    node = result.nodes[result.ids.index("node-0")]
    assert node.get_content() == TEXTS[0]
    assert node.metadata == make_nodes(None)[0].metadata
    assert node.ref_doc_id == "doc-cat"
    assert node.embedding is None
    # The point: the node's text in `text` (the full-text field), metadata
    # at the top level, the node as LlamaIndex stores it.
    with Trawl(url) as trawl:
        payload = trawl.get_point(store.collection_name, "node-0").payload.to_dict()
    assert payload["text"] == TEXTS[0] and payload["topic"] == "cat"
    assert payload["doc_id"] == payload["ref_doc_id"] == "doc-cat"
    assert {"_node_content", "_node_type"} <= set(payload)


def test_index_and_retriever(url: str, name: str, embedding: TrawlEmbedding) -> None:
    store = TrawlVectorStore(name, url=url)
    documents = [
        Document(text=text, metadata={"topic": topic}, id_=f"doc-{n}")
        for n, (text, topic) in enumerate(zip(TEXTS, TOPICS))
    ]
    index = VectorStoreIndex.from_documents(
        documents,
        storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=embedding,
    )
    try:
        [hit] = index.as_retriever(similarity_top_k=1).retrieve("rings of a planet")
        assert hit.node.ref_doc_id == "doc-7" and hit.node.get_content() == TEXTS[7]
        trains = MetadataFilters(filters=[MetadataFilter(key="topic", value="train")])
        hits = index.as_retriever(similarity_top_k=5, filters=trains).retrieve("bread")
        assert sorted(h.node.ref_doc_id for h in hits) == ["doc-2", "doc-3"]
        hybrid = index.as_retriever(
            similarity_top_k=1, vector_store_query_mode="hybrid", alpha=0.5
        ).retrieve("Saturn")
        assert hybrid[0].node.ref_doc_id == "doc-7"
        index.delete_ref_doc("doc-7")
        assert (
            index.as_retriever(similarity_top_k=1).retrieve("rings of a planet")[0].node.ref_doc_id
            != "doc-7"
        )
    finally:
        store.clear()


def test_server_side_embedding(url: str, name: str, embedding: TrawlEmbedding) -> None:
    """Nodes without embeddings are embedded by the server; queries without
    embeddings are searched by text."""
    store = TrawlVectorStore(name, url=url, is_embedding_query=False)
    # A pipeline without an embedding step (given the store, a pipeline
    # would pass it only the nodes that have embeddings).
    nodes = IngestionPipeline(transformations=[SentenceSplitter()]).run(
        documents=[
            Document(text=text, metadata={"topic": topic}, id_=f"doc-{n}")
            for n, (text, topic) in enumerate(zip(TEXTS, TOPICS))
        ]
    )
    assert all(node.embedding is None for node in nodes)
    store.add(nodes)
    try:
        with Trawl(url) as trawl:
            assert trawl.count(name) == len(TEXTS)
        result = store.query(VectorStoreQuery(query_str="a sleepy kitten", similarity_top_k=2))
        assert sorted(n.ref_doc_id for n in result.nodes) == ["doc-0", "doc-1"]
        # The server's vectors are /embed's: the client-side query scores the same.
        by_vector = store.query(
            VectorStoreQuery(
                query_embedding=embedding.get_query_embedding("a sleepy kitten"),
                similarity_top_k=2,
            )
        )
        assert by_vector.ids == result.ids
        assert by_vector.similarities == pytest.approx(result.similarities, abs=1e-5)
        # A retriever of an index on the store does not embed the query.
        index = VectorStoreIndex.from_vector_store(store, embed_model=embedding)
        [hit] = index.as_retriever(similarity_top_k=1).retrieve("tomato soup")
        assert hit.node.ref_doc_id == "doc-4"
        mmr = store.query(
            VectorStoreQuery(
                query_str="cat",
                similarity_top_k=2,
                mode=VectorStoreQueryMode.MMR,
                mmr_threshold=0.1,
            )
        )
        assert len(mmr.ids) == 2
    finally:
        store.clear()


def test_text_search_and_hybrid(store: TrawlVectorStore, embedding: TrawlEmbedding) -> None:
    text = VectorStoreQueryMode.TEXT_SEARCH
    hybrid = VectorStoreQueryMode.HYBRID
    assert query(store, None, "Saturn", mode=text) == ["node-7"]
    assert query(store, embedding, "tomato soup", k=1, mode=hybrid) == ["node-4"]
    # Lexical only (alpha 0) and dense only (alpha 1).
    assert query(store, embedding, "Saturn", k=1, mode=hybrid, alpha=0.0) == ["node-7"]
    assert query(store, embedding, "a galaxy far away", k=1, mode=hybrid, alpha=1.0) == ["node-6"]
    both = query(
        store,
        embedding,
        "train",
        k=3,
        mode=VectorStoreQueryMode.SEMANTIC_HYBRID,
        hybrid_top_k=4,
        sparse_top_k=2,
    )
    # Three from the dense stage, the two "train" nodes from the lexical one.
    assert len(both) == 3 and set(both) >= {"node-2", "node-3"}
    # Hybrid with the server embedding the query.
    assert query(store, None, "tomato soup", k=1, mode=hybrid) == ["node-4"]
    with pytest.raises(ValueError, match="'sparse' is not supported"):
        query(store, embedding, "x", mode=VectorStoreQueryMode.SPARSE)
    with pytest.raises(ValueError, match="'svm' is not supported"):
        query(store, embedding, "x", mode="svm")
    with pytest.raises(ValueError, match="needs query_str"):
        store.query(VectorStoreQuery(similarity_top_k=1, mode=text))


def test_mmr(store: TrawlVectorStore, embedding: TrawlEmbedding) -> None:
    vector = embedding.get_query_embedding("a cat")
    plain = store.query(VectorStoreQuery(query_embedding=vector, similarity_top_k=2))
    assert sorted(plain.ids) == ["node-0", "node-1"]
    diverse = store.query(
        VectorStoreQuery(
            query_embedding=vector,
            similarity_top_k=2,
            mode=VectorStoreQueryMode.MMR,
            mmr_threshold=0.1,
        ),
        mmr_prefetch_k=8,
    )
    assert diverse.ids[0] in plain.ids and diverse.ids[1] not in plain.ids
    relevant = store.query(
        VectorStoreQuery(query_embedding=vector, similarity_top_k=2, mode="mmr", mmr_threshold=1.0)
    )
    assert relevant.ids == plain.ids


def f(key: str, value: object, op: FilterOperator = FilterOperator.EQ) -> MetadataFilter:
    return MetadataFilter(key=key, value=value, operator=op)


def matching(store: TrawlVectorStore, *filters: object, condition: str = "and") -> list[str]:
    metadata_filters = MetadataFilters(filters=list(filters), condition=FilterCondition(condition))
    return sorted(node.node_id for node in store.get_nodes(filters=metadata_filters))


def test_metadata_filters(store: TrawlVectorStore, embedding: TrawlEmbedding) -> None:
    op = FilterOperator
    assert matching(store, f("topic", "space")) == ["node-6", "node-7"]
    assert matching(store, f("n", 2)) == ["node-2"]
    assert matching(store, f("weight", 0.5)) == ["node-2"]  # floats: matched as a range
    assert matching(store, f("topic", "cat", op.NE), f("n", 3, op.LTE)) == ["node-2", "node-3"]
    assert matching(store, f("n", 6, op.GT)) == ["node-7"]
    assert matching(store, f("n", 6, op.GTE)) == ["node-6", "node-7"]
    assert matching(store, f("n", 1, op.LT)) == ["node-0"]
    assert matching(store, f("weight", 1.5, op.GTE)) == ["node-6", "node-7"]
    assert matching(store, f("topic", ["cat", "space"], op.IN)) == [
        "node-0",
        "node-1",
        "node-6",
        "node-7",
    ]
    assert matching(store, f("weight", [0.25, 1.75], op.IN)) == ["node-1", "node-7"]
    assert matching(store, f("topic", ["cat", "train", "cooking"], op.NIN)) == ["node-6", "node-7"]
    assert matching(store, f("tags", "odd", op.CONTAINS), f("topic", "cooking")) == ["node-5"]
    assert matching(store, f("tags", ["space", "nope"], op.ANY)) == ["node-6", "node-7"]
    assert matching(store, f("tags", ["space", "odd"], op.ALL)) == ["node-7"]
    assert matching(store, f("note", "Kitchen", op.TEXT_MATCH)) == ["node-4", "node-5"]
    assert matching(store, f("note", "NOTES", op.TEXT_MATCH_INSENSITIVE)) == ["node-4", "node-5"]
    assert matching(store, f("note", None, op.IS_EMPTY)) == ["node-0"]
    assert matching(store, f("n", 0), f("n", 7), condition="or") == ["node-0", "node-7"]
    assert matching(store, f("topic", "cat"), f("topic", "train"), condition="not") == [
        "node-4",
        "node-5",
        "node-6",
        "node-7",
    ]
    nested = MetadataFilters(filters=[f("topic", "cat"), f("n", 7)], condition=FilterCondition.OR)
    assert matching(store, nested, f("tags", "odd")) == ["node-1", "node-7"]
    # In queries, with doc_ids and node_ids.
    trains = MetadataFilters(filters=[f("topic", "train")])
    assert sorted(query(store, embedding, "x", filters=trains)) == ["node-2", "node-3"]
    assert sorted(query(store, embedding, "x", doc_ids=["doc-cat", "doc-space"])) == [
        "node-0",
        "node-1",
        "node-6",
        "node-7",
    ]
    assert query(store, embedding, "x", node_ids=["node-5"], filters=None) == ["node-5"]
    assert query(store, None, "Saturn", mode=VectorStoreQueryMode.TEXT_SEARCH, filters=trains) == []

    with pytest.raises(ValueError, match=r"metadata filter on 'topic': GT takes a number"):
        matching(store, f("topic", "a", op.GT))
    with pytest.raises(ValueError, match="takes a non-empty list"):
        matching(store, f("topic", "a", op.IN))
    with pytest.raises(ValueError, match="TEXT_MATCH takes a string"):
        matching(store, f("n", 1, op.TEXT_MATCH))


def test_nodes_and_deletes(url: str, store: TrawlVectorStore) -> None:
    nodes = store.get_nodes(node_ids=["node-5", "node-2", "missing"])
    assert [n.node_id for n in nodes] == ["node-5", "node-2"]
    assert nodes[0].get_content() == TEXTS[5]
    assert len(store.get_nodes()) == 8
    store.delete("doc-cat")
    assert len(store.get_nodes()) == 6
    store.delete_nodes(node_ids=["node-2", "node-4"])
    store.delete_nodes(filters=MetadataFilters(filters=[f("topic", "space")]))
    store.delete_nodes(
        node_ids=["node-3", "node-5"], filters=MetadataFilters(filters=[f("n", 5)])
    )  # both: node-5 only
    assert [n.node_id for n in store.get_nodes()] == ["node-3"]
    with pytest.raises(ValueError, match="give node_ids or filters"):
        store.delete_nodes()
    store.delete_nodes(node_ids=[])  # nothing
    assert store.get_nodes(node_ids=[]) == []
    assert len(store.get_nodes()) == 1
    store.clear()
    with Trawl(url) as trawl:
        assert not trawl.collection_exists(store.collection_name)
    # A store without its collection: nothing is found, deletes do nothing.
    assert store.get_nodes() == []
    assert store.query(VectorStoreQuery(query_str="x", similarity_top_k=1)).ids == []
    store.delete("doc-cat")
    store.delete_nodes(node_ids=["node-1"])
    store.clear()


def test_ids_points_and_errors(url: str, name: str, embedding: TrawlEmbedding) -> None:
    store = TrawlVectorStore(name, url=url)
    upper = "5F0C2F3E-1111-4222-8333-444455556666"
    node = TextNode(id_=upper, text="A monkey is playing drums.", metadata={"a": 1})
    node.embedding = embedding.get_text_embedding(node.text)
    store.add([node])
    try:
        [found] = store.get_nodes(node_ids=[upper])
        assert found.node_id == upper  # as given, from the stored node
        assert query(store, embedding, "drums", k=1) == [upper]
        # A point written by other means reads as a plain TextNode.
        with Trawl(url) as trawl:
            trawl.upsert(name, [{"id": 7, "text": "Plain point.", "payload": {"source": "x"}}])
        plain = store.get_nodes(node_ids=[7])  # type: ignore[list-item]
        assert plain[0].node_id == "7" and plain[0].get_content() == "Plain point."
        assert plain[0].metadata == {"source": "x"}

        with pytest.raises(ValueError, match="'text' is the store's text_key"):
            store.add([TextNode(text="x", metadata={"text": "y"})])
        with pytest.raises(TrawlError) as wrong:
            store.add([TextNode(text="x", embedding=[0.1, 0.2])])
        assert wrong.value.status == 422 and "dimension" in wrong.value.message
    finally:
        store.clear()
    with pytest.raises(ValueError, match="metric must be one of"):
        TrawlVectorStore(name, url=url, metric="hamming")


async def test_async(url: str, name: str, embedding: TrawlEmbedding) -> None:
    store = TrawlVectorStore(name, url=url)
    nodes = make_nodes(None)
    vectors = await embedding.aget_text_embedding_batch(TEXTS)
    for node, vector in zip(nodes, vectors):
        node.embedding = vector
    assert await store.async_add(nodes) == [n.node_id for n in nodes]
    try:
        vector = await embedding.aget_query_embedding("a sleepy kitten")
        result = await store.aquery(VectorStoreQuery(query_embedding=vector, similarity_top_k=2))
        assert sorted(result.ids) == ["node-0", "node-1"]
        lexical = await store.aquery(
            VectorStoreQuery(query_str="Saturn", mode=VectorStoreQueryMode.TEXT_SEARCH)
        )
        assert lexical.ids == ["node-7"]
        mmr = await store.aquery(
            VectorStoreQuery(
                query_str="cat",
                similarity_top_k=2,
                mode=VectorStoreQueryMode.MMR,
                mmr_threshold=0.1,
            )
        )
        assert len(mmr.ids) == 2
        await store.adelete("doc-cat")
        await store.adelete_nodes(node_ids=["node-2"])
        remaining = await store.aget_nodes()
        assert sorted(n.node_id for n in remaining) == [f"node-{n}" for n in range(3, 8)]
        got = await store.aget_nodes(
            filters=MetadataFilters(filters=[f("topic", "space")]), node_ids=["node-7", "node-6"]
        )
        assert [n.node_id for n in got] == ["node-7", "node-6"]
    finally:
        await store.aclear()
        await store.aclose()
    assert (await store.aget_nodes()) == []
