"""A server with an API key: the store and the embedding send it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from conftest import new_name, start_server, stop
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores import VectorStoreQuery
from trawl_client import TrawlError

from llama_index.vector_stores.trawl import TrawlEmbedding, TrawlVectorStore

KEY = secrets.token_hex(16)


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    address, process = start_server(tmp_path_factory.mktemp("locked"), {"TRAWL_API_KEY": KEY})
    yield address
    stop(process)


async def test_api_key(locked: str) -> None:
    store = TrawlVectorStore(new_name(), url=locked, api_key=KEY)
    assert "api_key" not in store.to_dict()
    store.add([TextNode(id_="cat", text="The cat sleeps."), TextNode(id_="train", text="A train.")])
    assert store.query(VectorStoreQuery(query_str="a kitten")).ids == ["cat"]
    assert (await store.aquery(VectorStoreQuery(query_str="railway"))).ids == ["train"]
    assert len(TrawlEmbedding(locked, KEY).get_text_embedding("x")) == 384

    without = TrawlVectorStore(store.collection_name, url=locked)
    with pytest.raises(TrawlError) as refused:
        without.get_nodes()
    assert (refused.value.status, refused.value.code) == (401, "unauthorized")
    store.clear()
