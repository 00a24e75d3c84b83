"""API keys: a second server started with --api-key."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from conftest import Server, new_name, start_server

from trawl_client import AsyncTrawl, Trawl, TrawlError

KEY = secrets.token_hex(16)


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("locked"), env={"TRAWL_API_KEY": KEY})
    yield server
    server.stop()


def test_without_key_is_refused(locked: Server) -> None:
    with Trawl(locked.url) as trawl:
        assert trawl.health().status == "ok"  # probes stay open
        with pytest.raises(TrawlError) as caught:
            trawl.list_collections()
        assert (caught.value.status, caught.value.code) == (401, "unauthorized")
    with Trawl(locked.url, api_key="not-the-key-0123456789") as trawl:
        with pytest.raises(TrawlError) as caught:
            trawl.create_collection(new_name())
        assert caught.value.status == 401


def test_with_key(locked: Server) -> None:
    name = new_name()
    with Trawl(locked.url, api_key=KEY) as trawl:
        trawl.create_collection(name)
        trawl.upsert(name, [{"id": 1, "text": "locked away"}])
        assert [hit.id for hit in trawl.search(name, text="locked").hits] == [1]


@pytest.mark.anyio
async def test_async_with_and_without_key(locked: Server) -> None:
    async with AsyncTrawl(locked.url) as trawl:
        with pytest.raises(TrawlError) as caught:
            await trawl.count("anything")
        assert caught.value.status == 401
    async with AsyncTrawl(locked.url, api_key=KEY) as trawl:
        assert isinstance(await trawl.list_collections(), list)
