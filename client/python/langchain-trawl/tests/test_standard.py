"""LangChain's own standard tests of vector stores (``langchain-tests``),
run whole against the real server, sync and async."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import new_name
from langchain_tests.integration_tests import VectorStoreIntegrationTests

from langchain_trawl import TrawlVectorStore


class TestTrawlVectorStoreStandard(VectorStoreIntegrationTests):
    """Vectors from the suite's own small fake embeddings, computed here."""

    @pytest.fixture
    def vectorstore(self, url: str) -> Iterator[TrawlVectorStore]:  # type: ignore[override]
        store = TrawlVectorStore(
            embedding=self.get_embeddings(), url=url, collection_name=new_name("std")
        )
        try:
            yield store
        finally:
            store.delete_collection()
            store.close()
