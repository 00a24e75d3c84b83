"""TrawlEmbedding, and the OpenAI-compatible settings the README gives
(llama-index-embeddings-openai-like and the openai SDK on Trawl's /v1),
against the real server, offline."""

from __future__ import annotations

import numpy as np
import openai
import pytest
from llama_index.embeddings.openai_like import OpenAILikeEmbedding
from trawl_client import Trawl

from llama_index.vector_stores.trawl import TrawlEmbedding

MODEL = "all-minilm-l6-v2"
TEXTS = ["A man is eating food.", "A monkey is playing drums.", "", "Ünïcödé text."]


def reference(url: str, texts: list[str]) -> np.ndarray:
    with Trawl(url) as trawl:
        return np.array(trawl.embed(texts).embeddings)


def openai_like(url: str, **kwargs: object) -> OpenAILikeEmbedding:
    """The settings that work against Trawl (see the README)."""
    return OpenAILikeEmbedding(model_name=MODEL, api_base=f"{url}/v1", api_key="unused", **kwargs)


def test_trawl_embedding(url: str) -> None:
    expected = reference(url, TEXTS)
    embedding = TrawlEmbedding(url, embed_batch_size=3)
    np.testing.assert_allclose(embedding.get_text_embedding_batch(TEXTS), expected, atol=1e-6)
    np.testing.assert_allclose(embedding.get_query_embedding(TEXTS[1]), expected[1], atol=1e-6)
    short = TrawlEmbedding(url, dimensions=64).get_text_embedding(TEXTS[0])
    assert len(short) == 64 and np.linalg.norm(short) == pytest.approx(1.0, abs=1e-5)
    assert "api_key" not in TrawlEmbedding(url, api_key="secret").to_dict()


async def test_trawl_embedding_async(url: str) -> None:
    expected = reference(url, TEXTS)
    embedding = TrawlEmbedding(url, embed_batch_size=2)
    got = await embedding.aget_text_embedding_batch(TEXTS)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    np.testing.assert_allclose(
        await embedding.aget_query_embedding(TEXTS[3]), expected[3], atol=1e-6
    )


def test_openai_like_embedding(url: str) -> None:
    expected = reference(url, TEXTS)
    embedding = openai_like(url, embed_batch_size=2048)
    np.testing.assert_allclose(embedding.get_text_embedding_batch(TEXTS), expected, atol=1e-6)
    np.testing.assert_allclose(embedding.get_query_embedding(TEXTS[0]), expected[0], atol=1e-6)
    chunked = openai_like(url, embed_batch_size=3)
    np.testing.assert_allclose(chunked.get_text_embedding_batch(TEXTS), expected, atol=1e-6)


async def test_openai_like_embedding_async(url: str) -> None:
    expected = reference(url, TEXTS[:2])
    got = await openai_like(url).aget_text_embedding_batch(TEXTS[:2])
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_openai_embedding_with_model_name(url: str) -> None:
    """llama-index-embeddings-openai's OpenAIEmbedding works too, given the
    model as ``model_name`` (``model=`` is checked against OpenAI's models)."""
    from llama_index.embeddings.openai import OpenAIEmbedding

    embedding = OpenAIEmbedding(model_name=MODEL, api_base=f"{url}/v1", api_key="unused")
    np.testing.assert_allclose(
        embedding.get_text_embedding_batch(TEXTS[:2]), reference(url, TEXTS[:2]), atol=1e-6
    )


def test_openai_sdk(url: str) -> None:
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused")
    assert [model.id for model in client.models.list()] == [MODEL]
    with pytest.raises(openai.NotFoundError) as missing:
        client.embeddings.create(model="text-embedding-3-small", input="x")
    assert missing.value.status_code == 404 and missing.value.code == "model_not_found"
    wrong = OpenAILikeEmbedding(
        model_name="text-embedding-3-small", api_base=f"{url}/v1", api_key="unused", max_retries=0
    )
    with pytest.raises(openai.NotFoundError):
        wrong.get_text_embedding("x")
