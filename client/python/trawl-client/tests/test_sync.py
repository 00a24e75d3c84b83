"""The blocking client against the real server."""

from __future__ import annotations

import tarfile
import time
from pathlib import Path

import pytest
from conftest import SCHEMA, documents, new_name

from trawl_client import Trawl, TrawlError
from trawl_client.models import (
    UNSET,
    CollectionInfo,
    ConditionMatch,
    ConditionRange,
    Filter,
    MatchEquals,
    Operation,
    Range,
    SearchResponse,
    UpsertResult,
)


def payload(hit) -> dict:
    return hit.payload.to_dict()


def test_health_and_readiness(trawl: Trawl) -> None:
    assert trawl.health().status == "ok"
    ready = trawl.readiness()
    assert ready.ready and ready.model_loaded and ready.storage_open


def test_collection_lifecycle(trawl: Trawl, name: str) -> None:
    ack = trawl.create_collection(name, payload_indexes={"topic": "keyword"})
    assert (ack.name, ack.status) == (name, "created")
    info = trawl.get_collection(name)
    assert isinstance(info, CollectionInfo)
    assert info.points == 0
    assert info.vector.dims == len(trawl.embed("x").embeddings[0])
    assert info.payload_indexes.to_dict() == {"topic": "keyword"}
    assert name in [c.name for c in trawl.list_collections()]
    assert trawl.collection_exists(name)

    with pytest.raises(TrawlError) as caught:
        trawl.create_collection(name)
    assert (caught.value.status, caught.value.code) == (409, "collection_exists")

    assert trawl.delete_collection(name).status == "deleted"
    assert not trawl.collection_exists(name)
    assert name not in [c.name for c in trawl.list_collections()]


def test_upsert_batched_shows_progress(trawl: Trawl, name: str, capsys) -> None:
    trawl.create_collection(name, **SCHEMA)
    points = documents()
    # A generator has no length: the bar's total comes from `total`.
    written = trawl.upsert_batched(name, (p for p in points), batch_size=10, total=len(points))
    assert written == len(points)
    err = capsys.readouterr().err
    assert f"{len(points)}/{len(points)}" in err
    assert trawl.count(name) == len(points)
    # Quiet, and a list: its length is the total.
    assert trawl.upsert_batched(name, points[:5], batch_size=2, progress=False) == 5
    assert capsys.readouterr().err == ""
    with pytest.raises(ValueError):
        trawl.upsert_batched(name, points, batch_size=0)


def test_search_by_text_with_filter(trawl: Trawl, docs: str) -> None:
    answer = trawl.search(
        docs,
        text="a sleepy kitten",
        limit=5,
        filter={"must": [{"key": "n", "range": {"gte": 32}}]},
    )
    assert isinstance(answer, SearchResponse)
    assert len(answer.hits) == 5
    assert all(payload(hit)["n"] >= 32 for hit in answer.hits)
    assert payload(answer.hits[0])["topic"] == "cat"
    scores = [hit.score for hit in answer.hits]
    assert scores == sorted(scores, reverse=True)

    trains = trawl.search(
        docs,
        text="a sleepy kitten",
        limit=3,
        filter={"must": [{"key": "topic", "match": {"value": "train"}}]},
        with_payload=False,
    )
    assert [hit.payload for hit in trains.hits] == [UNSET] * 3
    topics = {p["id"]: p["payload"]["topic"] for p in documents()}
    assert {topics[hit.id] for hit in trains.hits} == {"train"}


def test_search_by_vector(trawl: Trawl, docs: str) -> None:
    vector = trawl.embed("The chef bakes fresh bread.").embeddings[0]
    answer = trawl.search(docs, vector=vector, limit=1, with_vector=True)
    hit = answer.hits[0]
    assert payload(hit)["text"] == "The chef bakes fresh bread."
    assert hit.score == pytest.approx(1.0, abs=1e-3)
    assert len(hit.vector) == len(vector)


def test_numpy_vectors_are_sent_as_lists(trawl: Trawl, docs: str) -> None:
    np = pytest.importorskip("numpy")
    vector = np.asarray(trawl.embed("The chef bakes fresh bread.").embeddings[0], dtype=np.float32)
    hit = trawl.search(docs, vector=vector, limit=1).hits[0]
    assert payload(hit)["text"] == "The chef bakes fresh bread."
    assert hit.score == pytest.approx(1.0, abs=1e-3)


def test_generated_models_as_arguments(trawl: Trawl, docs: str) -> None:
    condition = Filter(
        must=[
            ConditionRange(key="n", range_=Range(gte=48)),
            ConditionMatch(key="topic", match=MatchEquals(value="space")),
        ]
    )
    answer = trawl.search(docs, text="stars", filter=condition, limit=10)
    assert answer.hits
    assert all(payload(h)["n"] >= 48 and payload(h)["topic"] == "space" for h in answer.hits)
    assert trawl.count(docs, filter=condition) == 4


def test_hybrid_query(trawl: Trawl, docs: str) -> None:
    hybrid = trawl.query(
        docs, text="fresh bread from the baker", mode="hybrid", limit=5, explain=True
    )
    assert payload(hybrid.hits[0])["topic"] == "cooking"
    # Every hit says where each stage (the dense vector, the full-text index) placed it.
    assert all(hit.explain for hit in hybrid.hits)
    assert {score.stage for hit in hybrid.hits for score in hit.explain} == {0, 1}

    lexical = trawl.query(docs, text="bread", mode="lexical", limit=10)
    assert lexical.hits
    assert all("bread" in payload(hit)["text"] for hit in lexical.hits)

    fused = trawl.query(
        docs,
        prefetch=[
            {"text": "comet in the night sky", "limit": 20},
            {"lexical": "comet", "limit": 20},
        ],
        fusion={"weights": [0.5, 0.5]},
        filter={"must": [{"key": "topic", "match": {"value": "space"}}]},
        limit=3,
    )
    assert "comet" in payload(fused.hits[0])["text"]
    assert all(payload(hit)["topic"] == "space" for hit in fused.hits)

    reranked = trawl.query(
        docs,
        prefetch=[{"lexical": "train"}, {"text": "railway"}],
        fusion="rrf",
        rerank={"text": "a train crossing a bridge", "limit": 20},
        limit=1,
    )
    assert "bridge" in payload(reranked.hits[0])["text"]

    alike = trawl.query(docs, point=0, limit=3)
    assert 0 not in [hit.id for hit in alike.hits]


def test_search_batch(trawl: Trawl, docs: str) -> None:
    results = trawl.search_batch(
        docs, [{"text": "galaxy", "limit": 2}, {"text": "soup", "limit": 3}]
    )
    assert [len(r.hits) for r in results] == [2, 3]
    assert payload(results[1].hits[0])["topic"] == "cooking"


def test_scroll_and_iter_points(trawl: Trawl, docs: str) -> None:
    first = trawl.scroll(docs, limit=7)
    assert len(first.points) == 7 and isinstance(first.next_, str)

    points = list(trawl.iter_points(docs, batch=7))
    ids = [p.id for p in points]
    assert ids == sorted(ids) == list(range(64))
    assert points[3].payload["topic"] == "space"
    assert not points[3].vector

    cats = list(
        trawl.iter_points(
            docs, filter={"must": [{"key": "topic", "match": {"value": "cat"}}]}, batch=5
        )
    )
    assert [p.id for p in cats] == list(range(0, 64, 4))

    with_vectors = list(trawl.iter_points(docs, batch=50, with_payload=False, with_vectors=True))
    assert len(with_vectors) == 64
    assert all(len(p.vector) > 0 and not p.payload for p in with_vectors)


def test_count(trawl: Trawl, docs: str) -> None:
    assert trawl.count(docs) == 64
    assert trawl.count(docs, filter={"must": [{"key": "n", "range": {"lt": 10}}]}) == 10
    cats_and_trains = {"must": [{"key": "topic", "match": {"any": ["cat", "train"]}}]}
    assert trawl.count(docs, filter=cats_and_trains) == 32
    # The planner's estimate, from the payload index alone.
    assert 0 < trawl.count(docs, filter=cats_and_trains, exact=False) <= 64


def test_facet(trawl: Trawl, docs: str) -> None:
    values = trawl.facet(docs, "topic")
    assert {v.value: v.count for v in values} == {
        topic: 16 for topic in ("cat", "train", "cooking", "space")
    }


def test_points_get_update_delete(trawl: Trawl, name: str) -> None:
    trawl.create_collection(name, **SCHEMA)
    points = documents()[:12] + [
        {"id": "doc-7#2", "text": "A string id.", "payload": {"topic": "misc", "n": 100}},
        {"id": "17", "text": "A string of digits.", "payload": {"topic": "misc", "n": 101}},
    ]
    assert trawl.upsert(name, points) == UpsertResult(upserted=14)

    point = trawl.get_point(name, 5)
    assert point.id == 5 and point.payload["n"] == 5
    assert trawl.get_point(name, "doc-7#2").payload["n"] == 100
    with pytest.raises(ValueError):
        trawl.get_point(name, "17")
    found = trawl.get_points(name, [3, "17", 999, "doc-7#2"])
    assert [p.id for p in found] == [3, "17", "doc-7#2"]

    assert trawl.set_payload(name, {"seen": True}, ids=[1, 2]) == 2
    assert trawl.get_point(name, 1).payload.to_dict() == {
        "topic": "train",
        "n": 1,
        "seen": True,
        "text": points[1]["text"],
    }
    assert (
        trawl.delete_payload(name, ["seen"], filter={"must": [{"key": "n", "range": {"lte": 1}}]})
        == 2
    )
    assert "seen" not in trawl.get_point(name, 1).payload
    assert trawl.replace_payload(name, {"topic": "cat", "n": 2}, ids=[2]) == 1
    assert trawl.get_point(name, 2).payload.to_dict() == {"topic": "cat", "n": 2}

    assert trawl.delete_points(name, [0, 1, 999]) == 2
    assert (
        trawl.delete_points(name, filter={"must": [{"key": "topic", "match": {"value": "misc"}}]})
        == 2
    )
    assert trawl.count(name) == 10
    with pytest.raises(TrawlError) as caught:
        trawl.get_point(name, 0)
    assert (caught.value.status, caught.value.code) == (404, "point_not_found")


def test_upsert_without_waiting(trawl: Trawl, name: str) -> None:
    trawl.create_collection(name)
    queued = trawl.upsert(name, documents()[:8], wait=False)
    assert isinstance(queued, Operation) and queued.points == 8
    deadline = time.monotonic() + 30
    while (operation := trawl.get_operation(queued.id)).status not in ("done", "failed"):
        assert time.monotonic() < deadline, "the operation did not finish in 30 s"
        time.sleep(0.05)
    assert operation.status == "done" and operation.written == 8
    assert trawl.count(name) == 8


def test_error_answers(trawl: Trawl, docs: str) -> None:
    with pytest.raises(TrawlError) as caught:
        trawl.search(new_name("missing"), text="x")
    error = caught.value
    assert (error.status, error.code) == (404, "collection_not_found")
    assert "missing" in error.message

    with pytest.raises(TrawlError) as caught:
        trawl.upsert(docs, [{"id": 1000, "vector": [0.5, 0.5]}])
    assert (caught.value.status, caught.value.code) == (422, "dimension_mismatch")
    assert caught.value.details is not None
    assert trawl.count(docs) == 64

    with pytest.raises(TrawlError) as caught:
        trawl.search(docs, text="x", filter={"must": [{"key": "topic", "range": {"gte": 1}}]})
    assert (caught.value.status, caught.value.code) == (422, "invalid_filter")
    assert "topic" in str(caught.value)


def test_embeddings(trawl: Trawl) -> None:
    answer = trawl.embed(["A man is eating food.", "A monkey is playing drums."])
    assert len(answer.embeddings) == 2 and answer.truncated == [False, False]
    dims = len(answer.embeddings[0])
    assert sum(x * x for x in answer.embeddings[0]) == pytest.approx(1.0, abs=1e-4)
    assert len(trawl.embed("x", kind="matryoshka", dims=4).embeddings[0]) == 4
    binary = trawl.embed("x", kind="binary", bits=2)
    assert isinstance(binary.embeddings[0], str) and len(binary.scales[0]) == 2

    openai = trawl.embeddings(["hello world", "again"], dimensions=128)
    assert [d.index for d in openai.data] == [0, 1]
    assert len(openai.data[0].embedding) == 128
    assert len(trawl.embeddings("hello").data[0].embedding) == dims

    # Token ids travel as given: one list per input.
    by_ids = trawl.embeddings([[101, 102], [101, 102, 102]])
    assert [len(d.embedding) for d in by_ids.data] == [dims, dims]

    (model,) = trawl.list_models()
    assert model.dimensions == dims and model.id == openai.model
    assert trawl.get_model(model.id.upper()).id == model.id
    with pytest.raises(TrawlError) as caught:
        trawl.embeddings("hello", model="no-such-model")
    assert (caught.value.status, caught.value.code) == (404, "model_not_found")


def test_aliases(trawl: Trawl, docs: str) -> None:
    alias = new_name("alias")
    entries = trawl.update_aliases([{"create": {"alias": alias, "collection": docs}}])
    assert (alias, docs) in [(e.alias, e.collection) for e in entries]
    assert trawl.count(alias) == 64
    trawl.update_aliases([{"delete": {"alias": alias}}])
    assert alias not in [e.alias for e in trawl.list_aliases()]


def test_snapshot_download_and_restore(trawl: Trawl, name: str, tmp_path: Path) -> None:
    trawl.create_collection(name, **SCHEMA)
    trawl.upsert(name, documents()[:20])
    snapshot = trawl.create_snapshot(name)
    assert snapshot.points == 20
    assert snapshot.name in [s.name for s in trawl.list_snapshots(name)]

    archive = trawl.download_snapshot(name, snapshot.name, tmp_path / "docs.tar")
    assert archive.stat().st_size >= snapshot.bytes_
    with tarfile.open(archive) as tar:
        assert tar.getnames()[0] == "snapshot.json"
    copy = new_name("copy")
    restored = trawl.restore_snapshot(copy, archive)
    assert restored.collection == copy and restored.points == 20
    assert trawl.count(copy) == 20
    assert payload(trawl.search(copy, text="bread", limit=1).hits[0])["topic"] == "cooking"

    assert trawl.delete_snapshot(name, snapshot.name).name == snapshot.name
    with pytest.raises(TrawlError) as caught:
        trawl.download_snapshot(name, snapshot.name, tmp_path / "gone.tar")
    assert (caught.value.status, caught.value.code) == (404, "snapshot_not_found")
    assert not (tmp_path / "gone.tar").exists()
    with pytest.raises(TrawlError) as caught:
        trawl.restore_snapshot(new_name("bad"), _corrupt(archive))
    assert (caught.value.status, caught.value.code) == (400, "invalid_snapshot")


def _corrupt(archive: Path) -> Path:
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad = archive.with_name("bad.tar")
    bad.write_bytes(bytes(data))
    return bad
