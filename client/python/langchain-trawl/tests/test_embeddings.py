"""TrawlEmbeddings, and the OpenAI-compatible settings the README gives
(LangChain's OpenAIEmbeddings and the openai SDK on Trawl's /v1), against
the real server, offline."""

from __future__ import annotations

import numpy as np
import openai
import pytest
from conftest import new_name
from langchain_openai import OpenAIEmbeddings
from trawl_client import Trawl

from langchain_trawl import TrawlEmbeddings, TrawlVectorStore

MODEL = "all-minilm-l6-v2"
TEXTS = ["A man is eating food.", "A monkey is playing drums.", "", "Ünïcödé text."]


def reference(url: str, texts: list[str]) -> np.ndarray:
    with Trawl(url) as trawl:
        return np.array(trawl.embed(texts).embeddings)


def openai_embeddings(url: str, **kwargs: object) -> OpenAIEmbeddings:
    """The settings that work against Trawl (see the README)."""
    return OpenAIEmbeddings(
        model=MODEL,
        base_url=f"{url}/v1",
        api_key="unused",
        check_embedding_ctx_length=False,
        **kwargs,
    )


def test_trawl_embeddings(url: str) -> None:
    expected = reference(url, TEXTS)
    embeddings = TrawlEmbeddings(url, batch_size=3)
    got = np.array(embeddings.embed_documents(TEXTS))
    assert got.shape == (4, 384)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    np.testing.assert_allclose(embeddings.embed_query(TEXTS[1]), expected[1], atol=1e-6)
    short = TrawlEmbeddings(url, dimensions=64).embed_query(TEXTS[0])
    assert len(short) == 64 and np.linalg.norm(short) == pytest.approx(1.0, abs=1e-5)
    assert embeddings.embed_documents([]) == []
    with pytest.raises(ValueError, match="batch_size"):
        TrawlEmbeddings(url, batch_size=0)


async def test_trawl_embeddings_async(url: str) -> None:
    expected = reference(url, TEXTS)
    embeddings = TrawlEmbeddings(url, batch_size=2)
    np.testing.assert_allclose(await embeddings.aembed_documents(TEXTS), expected, atol=1e-6)
    np.testing.assert_allclose(await embeddings.aembed_query(TEXTS[3]), expected[3], atol=1e-6)


def test_langchain_openai_embeddings(url: str) -> None:
    expected = reference(url, TEXTS)
    embeddings = openai_embeddings(url)
    np.testing.assert_allclose(embeddings.embed_documents(TEXTS), expected, atol=1e-6)
    np.testing.assert_allclose(embeddings.embed_query(TEXTS[0]), expected[0], atol=1e-6)
    # Several requests (chunk_size texts each) give the same vectors.
    chunked = openai_embeddings(url, chunk_size=2)
    np.testing.assert_allclose(chunked.embed_documents(TEXTS), expected, atol=1e-6)


async def test_langchain_openai_embeddings_async(url: str) -> None:
    expected = reference(url, TEXTS[:2])
    got = await openai_embeddings(url).aembed_documents(TEXTS[:2])
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_openai_embeddings_in_the_store(url: str) -> None:
    """Vectors from Trawl's /v1/embeddings, computed client-side, rank as the
    server's own text search does."""
    texts = ["The cat sleeps on the sofa.", "The train leaves at dawn.", "Bake the bread."]
    client_side = TrawlVectorStore(openai_embeddings(url), url, new_name("oai"))
    server_side = TrawlVectorStore(url=url, collection_name=new_name("srv"))
    try:
        for store in (client_side, server_side):
            store.add_texts(texts, ids=["cat", "train", "bread"])
        for query in ("a kitten", "railway", "oven"):
            a = client_side.similarity_search_with_score(query, k=3)
            b = server_side.similarity_search_with_score(query, k=3)
            assert [doc.id for doc, _ in a] == [doc.id for doc, _ in b]
            np.testing.assert_allclose([s for _, s in a], [s for _, s in b], atol=1e-5)
    finally:
        client_side.delete_collection()
        server_side.delete_collection()


def test_openai_sdk(url: str) -> None:
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused")
    assert [model.id for model in client.models.list()] == [MODEL]

    answer = client.embeddings.create(model=MODEL, input=TEXTS[:2])
    np.testing.assert_allclose(
        [item.embedding for item in answer.data], reference(url, TEXTS[:2]), atol=1e-6
    )
    # Token ids of the served model's own tokenizer, taken as given: with
    # [CLS] (101) and [SEP] (102) they are the text "hello world".
    ids = client.embeddings.create(model=MODEL, input=[[101, 7592, 2088, 102]])
    np.testing.assert_allclose(ids.data[0].embedding, reference(url, ["hello world"])[0], atol=1e-5)

    with pytest.raises(openai.NotFoundError) as missing:
        client.embeddings.create(model="text-embedding-3-small", input="x")
    assert missing.value.status_code == 404 and missing.value.code == "model_not_found"
    with pytest.raises(openai.APIStatusError) as too_many:
        client.embeddings.create(model=MODEL, input=["x"] * 2049)
    assert too_many.value.status_code == 413
