"""A server with an API key: the store and the embeddings send it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from conftest import new_name, start_server, stop
from langchain_openai import OpenAIEmbeddings
from trawl_client import TrawlError

from langchain_trawl import TrawlEmbeddings, TrawlVectorStore

KEY = secrets.token_hex(16)


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    address, process = start_server(tmp_path_factory.mktemp("locked"), {"TRAWL_API_KEY": KEY})
    yield address
    stop(process)


async def test_api_key(locked: str) -> None:
    store = TrawlVectorStore(url=locked, collection_name=new_name(), api_key=KEY)
    store.add_texts(["The cat sleeps.", "The train leaves."], ids=["cat", "train"])
    assert store.similarity_search("a kitten", k=1)[0].id == "cat"
    assert (await store.asimilarity_search("railway", k=1))[0].id == "train"
    assert len(TrawlEmbeddings(locked, KEY).embed_query("x")) == 384
    assert len(await TrawlEmbeddings(locked, KEY).aembed_query("x")) == 384
    openai = OpenAIEmbeddings(
        model="all-minilm-l6-v2",
        base_url=f"{locked}/v1",
        api_key=KEY,
        check_embedding_ctx_length=False,
    )
    assert len(openai.embed_query("x")) == 384

    without = TrawlVectorStore(url=locked, collection_name=store.collection_name)
    with pytest.raises(TrawlError) as refused:
        without.similarity_search("a kitten")
    assert (refused.value.status, refused.value.code) == (401, "unauthorized")
    store.delete_collection()
