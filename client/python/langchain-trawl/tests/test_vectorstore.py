"""TrawlVectorStore beyond the standard suite: server-side embedding, hybrid
and lexical search, filters, MMR, ids, errors; against the real server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import new_name
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding
from trawl_client import Trawl, TrawlError
from trawl_client.models import ConditionMatch, Filter, MatchEquals

from langchain_trawl import TrawlEmbeddings, TrawlVectorStore

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
METADATAS = [
    {"topic": topic, "n": n, "weight": n / 4, "tags": [topic, "even" if n % 2 == 0 else "odd"]}
    for n, topic in enumerate(TOPICS)
]
IDS = [f"doc-{n}" for n in range(len(TEXTS))]


@pytest.fixture
def server_store(url: str) -> Iterator[TrawlVectorStore]:
    """A store whose server embeds, holding TEXTS."""
    store = TrawlVectorStore(url=url, collection_name=new_name("server"))
    store.add_texts(TEXTS, METADATAS, ids=IDS)
    yield store
    store.delete_collection()
    store.close()


@pytest.fixture
def client_store(url: str) -> Iterator[TrawlVectorStore]:
    """A store that embeds here (with the server's model through /embed, at
    a Matryoshka prefix so that the vectors are not the server's own)."""
    embedding = TrawlEmbeddings(url, dimensions=128)
    store = TrawlVectorStore(embedding, url, new_name("client"))
    assert not store.server_embeds
    store.add_texts(TEXTS, METADATAS, ids=IDS)
    yield store
    store.delete_collection()
    store.close()


def topics(documents: list[Document]) -> list[str]:
    return [doc.metadata["topic"] for doc in documents]


def test_server_side_embedding(url: str, server_store: TrawlVectorStore) -> None:
    assert server_store.server_embeds
    assert isinstance(server_store.embeddings, TrawlEmbeddings)
    with Trawl(url) as trawl:
        info = trawl.get_collection(server_store.collection_name)
        # The collection holds the model's 384-dimension vectors and a
        # full-text index on the documents' text.
        assert info.points == len(TEXTS)
        record = trawl.get_point(server_store.collection_name, "doc-0")
        assert len(record.vector) == 384
        assert record.payload["page_content"] == TEXTS[0]

    hits = server_store.similarity_search_with_score("a sleepy kitten", k=2)
    assert topics([doc for doc, _ in hits]) == ["cat", "cat"]
    assert 0 < hits[1][1] <= hits[0][1] <= 1
    best = hits[0][0]
    assert best.page_content in TEXTS[:2]
    assert best.metadata == METADATAS[IDS.index(best.id)]

    # The vector the server stored is the one /embed gives for the text.
    vector = TrawlEmbeddings(url).embed_query(TEXTS[4])
    [(doc, score)] = server_store.similarity_search_with_score_by_vector(vector, k=1)
    assert doc.id == "doc-4" and score == pytest.approx(1.0, abs=1e-5)


def test_trawl_embeddings_of_the_same_server_embed_there(url: str) -> None:
    assert TrawlVectorStore(TrawlEmbeddings(url), url, "x").server_embeds
    assert TrawlVectorStore(TrawlEmbeddings(url + "/"), url, "x").server_embeds
    assert not TrawlVectorStore(TrawlEmbeddings(url, dimensions=64), url, "x").server_embeds


def test_client_side_embedding(url: str, client_store: TrawlVectorStore) -> None:
    with Trawl(url) as trawl:
        assert len(trawl.get_point(client_store.collection_name, "doc-0").vector) == 128
    docs = client_store.similarity_search("locomotive on a railway", k=2)
    assert topics(docs) == ["train", "train"]


@pytest.mark.parametrize("store_name", ["server_store", "client_store"])
def test_hybrid_and_lexical(store_name: str, request: pytest.FixtureRequest) -> None:
    store: TrawlVectorStore = request.getfixturevalue(store_name)
    # "Saturn" is a word of one document only: BM25 finds it first.
    lexical = store.similarity_search_with_score("Saturn", k=3, mode="lexical")
    assert [doc.id for doc, _ in lexical] == ["doc-7"]
    assert lexical[0][1] > 0

    hybrid = store.similarity_search("tomato soup for dinner", k=3, mode="hybrid")
    assert hybrid[0].id == "doc-4"
    assert store.search("rings of Saturn", "hybrid", k=1)[0].id == "doc-7"
    assert store.search("Saturn", "lexical", k=1)[0].id == "doc-7"

    weighted = store.similarity_search(
        "the galaxy", k=2, mode="hybrid", fusion={"weights": [0.5, 0.5]}
    )
    assert weighted[0].id == "doc-6"
    filtered = store.similarity_search(
        "train", k=5, mode="hybrid", filter={"topic": "train", "n": {"$gt": 2}}
    )
    assert [doc.id for doc in filtered] == ["doc-3"]

    retriever = store.as_retriever(search_kwargs={"k": 1, "mode": "hybrid"})
    assert retriever.invoke("bread from the oven")[0].id == "doc-5"


def test_store_wide_search_mode(url: str, server_store: TrawlVectorStore) -> None:
    lexical = TrawlVectorStore(
        url=url, collection_name=server_store.collection_name, search_mode="lexical"
    )
    assert [doc.id for doc in lexical.similarity_search("Saturn", k=3)] == ["doc-7"]
    with pytest.raises(ValueError, match="mode must be one of"):
        TrawlVectorStore(url=url, collection_name="x", search_mode="fuzzy")
    with pytest.raises(ValueError, match="mode must be one of"):
        lexical.similarity_search("x", mode="fuzzy")


def ids_for(store: TrawlVectorStore, filter: object, k: int = 8) -> list[str]:
    return sorted(doc.id for doc in store.similarity_search("anything", k=k, filter=filter))


def test_filters(server_store: TrawlVectorStore) -> None:
    store = server_store
    # The simple form.
    assert ids_for(store, {"topic": "space"}) == ["doc-6", "doc-7"]
    assert ids_for(store, {"topic": "space", "n": 7}) == ["doc-7"]
    assert ids_for(store, {"topic": ["cat", "space"]}) == ["doc-0", "doc-1", "doc-6", "doc-7"]
    assert ids_for(store, {"n": {"$gte": 3, "$lt": 5}}) == ["doc-3", "doc-4"]
    assert ids_for(store, {"weight": 0.5}) == ["doc-2"]  # a float: matched as a range
    assert ids_for(store, {"weight": {"$in": [0.25, 1.5]}}) == ["doc-1", "doc-6"]
    assert ids_for(store, {"topic": {"$ne": "cat"}, "n": {"$lte": 3}}) == ["doc-2", "doc-3"]
    assert ids_for(store, {"topic": {"$nin": ["cat", "train", "cooking"]}}) == ["doc-6", "doc-7"]
    assert ids_for(store, {"tags": "odd", "topic": "cooking"}) == ["doc-5"]  # list fields
    assert ids_for(store, {"$or": [{"n": 0}, {"n": 7}]}) == ["doc-0", "doc-7"]
    assert ids_for(store, {"$and": [{"topic": "cat"}, {"$not": {"n": 0}}]}) == ["doc-1"]
    assert ids_for(store, {"missing": {"$exists": False}, "n": {"$lt": 1}}) == ["doc-0"]
    assert ids_for(store, {"n": {"$eq": 2}}) == ["doc-2"]
    # Trawl's own filter JSON, as a mapping or a model of trawl_client.
    trawl_filter = {"must": [{"key": "topic", "match": {"value": "train"}}]}
    assert ids_for(store, trawl_filter) == ["doc-2", "doc-3"]
    model = Filter(must=[ConditionMatch(key="topic", match=MatchEquals(value="cooking"))])
    assert ids_for(store, model) == ["doc-4", "doc-5"]
    assert ids_for(store, {}) == sorted(IDS)

    with pytest.raises(ValueError, match=r"unknown operator '\$like'"):
        store.similarity_search("x", filter={"topic": {"$like": "c%"}})
    with pytest.raises(ValueError, match="cannot match null"):
        store.similarity_search("x", filter={"topic": None})
    with pytest.raises(ValueError, match=r"\$gt takes a number"):
        store.similarity_search("x", filter={"topic": {"$gt": "a"}})
    with pytest.raises(TypeError, match="filter must be a mapping"):
        store.similarity_search("x", filter="topic = 'cat'")
    with pytest.raises(TrawlError) as refused:  # the server names the condition
        store.similarity_search("x", filter={"must": [{"key": "topic", "range": {"gt": "a"}}]})
    assert refused.value.status in (400, 422)


def test_delete_by_filter_and_everything(server_store: TrawlVectorStore) -> None:
    assert server_store.delete(filter={"topic": {"$in": ["cat", "train"]}})
    assert ids_for(server_store, None) == ["doc-4", "doc-5", "doc-6", "doc-7"]
    with pytest.raises(ValueError, match="ids or filter, not both"):
        server_store.delete(["doc-4"], filter={"topic": "cooking"})
    assert server_store.delete()
    assert server_store.similarity_search("anything") == []


def test_max_marginal_relevance(url: str, name: str) -> None:
    store = TrawlVectorStore(url=url, collection_name=name)
    texts = [
        "The cat sleeps on the sofa.",
        "The cat sleeps on the couch.",
        "The cat is sleeping on the sofa.",
        "A dog barks at the postman.",
        "The train leaves the station.",
    ]
    store.add_texts(texts, [{"i": i} for i in range(len(texts))], ids=[str(i) for i in range(5)])
    try:
        plain = store.similarity_search("a cat asleep on a sofa", k=2)
        assert {doc.id for doc in plain} <= {"0", "1", "2"}
        diverse = store.max_marginal_relevance_search(
            "a cat asleep on a sofa", k=2, fetch_k=5, lambda_mult=0.1
        )
        assert diverse[0].id in {"0", "1", "2"}
        assert diverse[1].id in {"3", "4"}  # not a second sleeping cat
        relevant = store.max_marginal_relevance_search(
            "a cat asleep on a sofa", k=2, fetch_k=5, lambda_mult=1.0
        )
        assert [doc.id for doc in relevant] == [doc.id for doc in plain]
        only_dogs = store.max_marginal_relevance_search("a cat", k=2, filter={"i": 3})
        assert [doc.id for doc in only_dogs] == ["3"]
        retriever = store.as_retriever(
            search_type="mmr", search_kwargs={"k": 2, "fetch_k": 5, "lambda_mult": 0.1}
        )
        assert [doc.id for doc in retriever.invoke("a cat asleep on a sofa")] == [
            doc.id for doc in diverse
        ]
    finally:
        store.delete_collection()


def test_relevance_scores(server_store: TrawlVectorStore) -> None:
    scored = server_store.similarity_search_with_relevance_scores("a kitten and a mouse", k=3)
    assert scored[0][0].id == "doc-1"
    assert all(0 <= score <= 1 for _, score in scored)
    kept = server_store.similarity_search_with_relevance_scores(
        "a kitten and a mouse", k=8, score_threshold=scored[0][1] - 1e-6
    )
    assert [doc.id for doc, _ in kept] == ["doc-1"]


def test_ids_come_back_as_given(url: str, name: str) -> None:
    store = TrawlVectorStore(DeterministicFakeEmbedding(size=8), url, name)
    ids = [
        "5F0C2F3E-1111-4222-8333-444455556666",  # upper case
        "{5f0c2f3e-1111-4222-8333-444455556667}",  # braced
        "5f0c2f3e111142228333444455556668",  # simple
        "5f0c2f3e-1111-4222-8333-444455556669",  # canonical
        "doc-17#chunk-3",
        "17",
        "ünïcödé id",
    ]
    texts = [f"text {i}" for i in range(len(ids))]
    assert store.add_texts(texts, ids=ids) == ids
    try:
        # In the order asked, each exactly as it was given.
        asked = list(reversed(ids)) + ["missing", "5F0C2F3E-1111-4222-8333-444455556666"]
        assert [doc.id for doc in store.get_by_ids(asked)] == list(reversed(ids))
        assert [doc.page_content for doc in store.get_by_ids(ids)] == texts
        # The stored point is the UUID; the metadata shows nothing of the mapping.
        with Trawl(url) as trawl:
            assert (
                trawl.get_point(name, "5f0c2f3e-1111-4222-8333-444455556666").payload[
                    "_langchain_id"
                ]
                == ids[0]
            )
            assert "_langchain_id" not in trawl.get_point(name, ids[3]).payload.to_dict()
        for i, text in enumerate(texts):
            [doc] = store.similarity_search(text, k=1)
            assert doc.id == ids[i] and doc.metadata == {}
        # Any form of a UUID names the same document.
        assert [d.id for d in store.get_by_ids(["5f0c2f3e-1111-4222-8333-444455556666"])] == [
            ids[0]
        ]
        store.delete([ids[0], ids[2], "17"])
        assert [doc.id for doc in store.get_by_ids(ids)] == [ids[1], ids[3], ids[4], ids[6]]
        # A point written by other means with an integer id: its id as a string.
        with Trawl(url) as trawl:
            trawl.upsert(
                name, [{"id": 99, "vector": [1.0] * 8, "payload": {"page_content": "int"}}]
            )
        [found] = store.similarity_search_by_vector([1.0] * 8, k=1)
        assert (found.id, found.page_content) == ("99", "int")
        assert store.get_by_ids(["99"]) == []  # the string id "99" is another point
        # Documents without ids get UUIDs.
        [generated] = store.add_documents([Document(page_content="no id")])
        assert str(__import__("uuid").UUID(generated)) == generated
        assert store.get_by_ids([generated])[0].page_content == "no id"
    finally:
        store.delete_collection()


def test_errors(url: str, name: str) -> None:
    store = TrawlVectorStore(DeterministicFakeEmbedding(size=8), url, name)
    with pytest.raises(ValueError, match="'page_content' is reserved"):
        store.add_texts(["x"], [{"page_content": "y"}])
    with pytest.raises(ValueError, match="'_langchain_id' is reserved"):
        store.add_texts(["x"], [{"_langchain_id": "y"}])
    with pytest.raises(ValueError, match="2 metadatas for 1 texts"):
        store.add_texts(["x"], [{}, {}])
    with pytest.raises(TypeError, match="unexpected search arguments: k_nearest"):
        store.similarity_search("x", k_nearest=3)
    with pytest.raises(TypeError, match="embedding must be a LangChain Embeddings"):
        TrawlVectorStore("all-minilm-l6-v2", url, name)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="metric must be one of"):
        TrawlVectorStore(url=url, collection_name=name, metric="hamming")
    # Nothing is there yet: searches find nothing, deletes do nothing.
    assert store.similarity_search("x") == []
    assert store.max_marginal_relevance_search("x") == []
    assert store.get_by_ids(["a"]) == []
    assert store.delete(["a"]) is True
    assert store.delete([]) is True
    store.add_texts(["x"], ids=["a"])
    try:
        # Vectors of another dimension: the server's answer names both.
        other = TrawlVectorStore(DeterministicFakeEmbedding(size=4), url, name)
        with pytest.raises(TrawlError) as wrong:
            other.add_texts(["y"])
        assert wrong.value.status == 422 and "dimension" in wrong.value.message
        # Text on a collection of another dimension than the model's.
        with pytest.raises(TrawlError) as text_refused:
            TrawlVectorStore(url=url, collection_name=name).similarity_search("y")
        assert text_refused.value.status == 422
    finally:
        store.delete_collection()
    store.delete_collection()  # twice: no error


def test_from_texts_and_l2(url: str) -> None:
    store = TrawlVectorStore.from_texts(
        TEXTS[:4],
        None,
        METADATAS[:4],
        ids=IDS[:4],
        url=url,
        metric="l2",
        payload_indexes={"topic": "keyword"},
    )
    try:
        assert store.collection_name.startswith("langchain-")
        with Trawl(url) as trawl:
            info = trawl.get_collection(store.collection_name).to_dict()
        assert "topic" in str(info.get("payload_indexes"))
        [(doc, score)] = store.similarity_search_with_score(
            TEXTS[2], k=1, filter={"topic": "train"}
        )
        assert doc.id == "doc-2" and score == pytest.approx(0.0, abs=1e-3)  # -distance
        [(_, relevance)] = store.similarity_search_with_relevance_scores(TEXTS[2], k=1)
        assert relevance == pytest.approx(1.0, abs=1e-3)
    finally:
        store.delete_collection()


async def test_async(url: str, name: str) -> None:
    store = await TrawlVectorStore.afrom_texts(
        TEXTS, None, METADATAS, ids=IDS, url=url, collection_name=name
    )
    try:
        docs = await store.asimilarity_search("a sleepy kitten", k=2, filter={"n": {"$lt": 4}})
        assert topics(docs) == ["cat", "cat"]
        scored = await store.asimilarity_search_with_score("Saturn", k=2, mode="lexical")
        assert [doc.id for doc, _ in scored] == ["doc-7"]
        hybrid = await store.asearch("tomato soup", "hybrid", k=1)
        assert hybrid[0].id == "doc-4"
        mmr = await store.amax_marginal_relevance_search("cat", k=2, fetch_k=8, lambda_mult=0.1)
        assert len(mmr) == 2 and len(set(topics(mmr))) == 2
        relevance = await store.asimilarity_search_with_relevance_scores("kitten", k=1)
        assert 0 < relevance[0][1] <= 1
        vector = await store.embeddings.aembed_query(TEXTS[5])
        assert (await store.asimilarity_search_by_vector(vector, k=1))[0].id == "doc-5"
        assert [d.id for d in await store.aget_by_ids(["doc-3", "nope", "doc-1"])] == [
            "doc-3",
            "doc-1",
        ]
        await store.adelete(filter={"topic": "cat"})
        assert await store.aget_by_ids(["doc-0", "doc-1"]) == []
        await store.adelete(["doc-2"])
        assert len(await store.asimilarity_search("x", k=10)) == 5
    finally:
        await store.adelete_collection()
        await store.aclose()
    assert await store.asimilarity_search("x") == []
