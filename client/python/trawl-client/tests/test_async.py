"""The asyncio client against the real server."""

from __future__ import annotations

import tarfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conftest import SCHEMA, documents, new_name

from trawl_client import AsyncTrawl, TrawlError
from trawl_client.models import ScrollResponse

pytestmark = pytest.mark.anyio


async def stream(points: list[dict]) -> AsyncIterator[dict]:
    for point in points:
        yield point


async def test_async_collection_and_points(url: str, name: str, capsys) -> None:
    points = documents()
    async with AsyncTrawl(url) as trawl:
        assert (await trawl.readiness()).ready
        assert (await trawl.create_collection(name, **SCHEMA)).status == "created"
        assert name in [c.name for c in await trawl.list_collections()]

        written = await trawl.upsert_batched(name, stream(points), batch_size=16, total=len(points))
        assert written == len(points)
        assert f"{len(points)}/{len(points)}" in capsys.readouterr().err
        assert await trawl.count(name) == len(points)

        answer = await trawl.search(
            name,
            text="a sleepy kitten",
            limit=4,
            filter={"must": [{"key": "n", "range": {"lt": 32}}]},
        )
        assert all(hit.payload["n"] < 32 for hit in answer.hits)
        assert answer.hits[0].payload["topic"] == "cat"

        hybrid = await trawl.query(name, text="tomato soup", mode="hybrid", limit=3, explain=True)
        assert "soup" in hybrid.hits[0].payload["text"]
        fused = await trawl.query(
            name,
            prefetch=[{"text": "rings of a planet"}, {"lexical": "saturn"}],
            fusion={"rrf": {"k": 10}},
            limit=1,
        )
        assert "Saturn" in fused.hits[0].payload["text"]

        page = await trawl.scroll(name, limit=10)
        assert isinstance(page, ScrollResponse) and isinstance(page.next_, str)
        ids = [point.id async for point in trawl.iter_points(name, batch=10)]
        assert ids == list(range(64))
        space = [
            point.id
            async for point in trawl.iter_points(
                name, filter={"must": [{"key": "topic", "match": {"value": "space"}}]}, batch=3
            )
        ]
        assert space == list(range(3, 64, 4))

        found = await trawl.get_points(name, [5, 6, 1000], with_vectors=True)
        assert [p.id for p in found] == [5, 6] and all(p.vector for p in found)
        assert (await trawl.get_point(name, 7)).payload["n"] == 7

        assert (
            await trawl.set_payload(name, {"flag": 1}, filter={"must": [{"has_id": [1, 2, 3]}]})
            == 3
        )
        assert await trawl.count(name, filter={"must": [{"key": "flag", "exists": True}]}) == 3

        assert (
            await trawl.delete_points(
                name, filter={"must": [{"key": "topic", "match": {"value": "cat"}}]}
            )
            == 16
        )
        assert await trawl.delete_points(name, [1, 2]) == 2
        assert await trawl.count(name) == 64 - 18

        assert (await trawl.delete_collection(name)).status == "deleted"
        assert not await trawl.collection_exists(name)


async def test_async_errors(url: str, name: str) -> None:
    async with AsyncTrawl(url) as trawl:
        with pytest.raises(TrawlError) as caught:
            await trawl.get_collection(new_name("missing"))
        assert (caught.value.status, caught.value.code) == (404, "collection_not_found")

        await trawl.create_collection(name, vector={"dims": 3, "metric": "dot"})
        with pytest.raises(TrawlError) as caught:
            await trawl.upsert(name, [{"id": 1, "vector": [1.0, 2.0]}])
        assert (caught.value.status, caught.value.code) == (422, "dimension_mismatch")
        with pytest.raises(TrawlError) as caught:
            await trawl.embed("x", kind="binary", bits=3)
        assert (caught.value.status, caught.value.code) == (422, "invalid_value")
        assert caught.value.details == {"field": "bits"}


async def test_async_embeddings(url: str) -> None:
    async with AsyncTrawl(url) as trawl:
        answer = await trawl.embed(["one", "two", "three"], kind="matryoshka", dims=8)
        assert [len(e) for e in answer.embeddings] == [8, 8, 8]
        openai = await trawl.embeddings("hello", encoding_format="base64")
        assert isinstance(openai.data[0].embedding, str)
        assert [m.id for m in await trawl.list_models()] == [openai.model]
        assert (await trawl.get_model(openai.model)).id == openai.model


async def test_async_snapshots_and_aliases(url: str, name: str, tmp_path: Path) -> None:
    async with AsyncTrawl(url) as trawl:
        await trawl.create_collection(name, **SCHEMA)
        await trawl.upsert(name, documents()[:10])
        snapshot = await trawl.create_snapshot(name)
        archive = await trawl.download_snapshot(name, snapshot.name, tmp_path / "snap.tar")
        assert archive.stat().st_size >= snapshot.bytes_
        with tarfile.open(archive) as tar:
            assert tar.getnames()[0] == "snapshot.json"
        copy = new_name("copy")
        assert (await trawl.restore_snapshot(copy, archive)).points == 10
        assert await trawl.count(copy) == 10
        assert [s.name for s in await trawl.list_snapshots(name)] == [snapshot.name]
        await trawl.delete_snapshot(name, snapshot.name)
        assert await trawl.list_snapshots(name) == []

        alias = new_name("alias")
        await trawl.update_aliases([{"create": {"alias": alias, "collection": copy}}])
        assert alias in [a.alias for a in await trawl.list_aliases()]
        assert await trawl.count(alias) == 10
