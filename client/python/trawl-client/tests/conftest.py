"""Fixtures: the real `trawl` binary on a loopback port, and a filled collection.

The binary is ``$TRAWL_BIN``, else ``target/debug/trawl`` when it exists (what
``cargo test`` builds), else ``target/release/trawl``; the model and ONNX
Runtime are the repository's (``$TRAWL_MODEL_DIR``, ``$TRAWL_ORT_LIB``
override them). Relative paths are taken from the repository's root.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from trawl_client import Trawl

REPO = Path(__file__).resolve().parents[4]
START_TIMEOUT_SECS = 120


def _from_repo(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else REPO / path


def binary() -> Path:
    """The `trawl` binary the tests run."""
    if os.environ.get("TRAWL_BIN"):
        return _from_repo(os.environ["TRAWL_BIN"])
    debug = REPO / "target" / "debug" / "trawl"
    return debug if debug.exists() else REPO / "target" / "release" / "trawl"


@dataclass
class Server:
    """A running `trawl serve`."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(workdir: Path, *extra: str, env: dict[str, str] | None = None) -> Server:
    """Starts the binary on a free loopback port with a fresh data directory
    in ``workdir`` and waits until ``/readyz`` answers 200."""
    exe = binary()
    if not exe.exists():
        pytest.fail(f"{exe} is missing: build it (cargo build -p trawl-server) or set TRAWL_BIN")
    model_dir = _from_repo(os.environ.get("TRAWL_MODEL_DIR", "models/all-minilm-l6-v2"))
    ort_lib = _from_repo(
        os.environ.get("TRAWL_ORT_LIB", "vendor/onnxruntime/libonnxruntime.so.1.31.1")
    )
    # The server reads TRAWL_* variables as flags: none leaks in from the
    # caller's environment (an API key there would lock the tests out).
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("TRAWL_")}
    child_env.update(env or {})
    log = workdir / "server.log"
    command = [
        str(exe),
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--data-dir",
        str(workdir / "data"),
        "--model-dir",
        str(model_dir),
        "--ort-lib",
        str(ort_lib),
        "--encoder-threads",
        "1",
        "--log-json",
        *extra,
    ]
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=sink, env=child_env, cwd=workdir
        )
    server = Server("", process, log)
    deadline = time.monotonic() + START_TIMEOUT_SECS
    try:
        addr = None
        while addr is None:
            if process.poll() is not None:
                raise RuntimeError(
                    f"trawl exited with {process.returncode}:\n{log.read_text()[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"trawl logged no address in {START_TIMEOUT_SECS} s")
            for line in log.read_text().splitlines():
                try:
                    fields = json.loads(line).get("fields", {})
                except ValueError:
                    continue
                if fields.get("message") == "listening":
                    addr = fields["addr"]
            time.sleep(0.05)
        server.url = f"http://{addr}"
        while True:
            try:
                if httpx.get(f"{server.url}/readyz", timeout=5).status_code == 200:
                    return server
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"trawl did not become ready:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
    except BaseException:
        server.stop()
        raise


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The server every test shares (no API key)."""
    running = start_server(tmp_path_factory.mktemp("trawl"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def url(server: Server) -> str:
    return server.url


@pytest.fixture(scope="session")
def trawl(url: str) -> Iterator[Trawl]:
    with Trawl(url, timeout=60) as client:
        yield client


def new_name(prefix: str = "t") -> str:
    """A collection name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def name() -> str:
    return new_name()


# Sixty-four sentences on four topics, interleaved: point i is about
# TOPICS[i % 4], so every range of ids holds every topic.
_SENTENCES = {
    "cat": (
        ["The cat", "A kitten", "The old tabby", "My cat"],
        ["sleeps on the sofa", "chases a mouse", "purrs by the fire", "naps in the sun"],
    ),
    "train": (
        ["The train", "A freight train", "The night express", "The local train"],
        [
            "leaves the station at dawn",
            "runs late on the mountain line",
            "crosses the long bridge",
            "stops at every platform",
        ],
    ),
    "cooking": (
        ["The chef", "My grandmother", "A baker", "The cook"],
        [
            "bakes fresh bread",
            "stirs the tomato soup",
            "slices onions for dinner",
            "roasts vegetables in the oven",
        ],
    ),
    "space": (
        ["The telescope", "An astronomer", "The space probe", "A satellite"],
        [
            "observes a distant galaxy",
            "photographs the rings of Saturn",
            "tracks a passing comet",
            "measures starlight from a nebula",
        ],
    ),
}
TOPICS = list(_SENTENCES)


def documents() -> list[dict]:
    """The points, as upsert bodies: id, text, payload ``{topic, n}``."""
    by_topic = {
        topic: [f"{subject} {predicate}." for subject in subjects for predicate in predicates]
        for topic, (subjects, predicates) in _SENTENCES.items()
    }
    points = []
    for i in range(64):
        topic = TOPICS[i % 4]
        points.append(
            {"id": i, "text": by_topic[topic][i // 4], "payload": {"topic": topic, "n": i}}
        )
    return points


SCHEMA = {
    "payload_indexes": {"topic": "keyword", "n": "integer"},
    "text": True,
}


@pytest.fixture(scope="session")
def docs(trawl: Trawl) -> str:
    """A collection holding :func:`documents`, with a full-text index; tests only read it."""
    collection = new_name("docs")
    trawl.create_collection(collection, **SCHEMA)
    trawl.upsert_batched(collection, documents(), batch_size=32, progress=False)
    return collection


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio (through anyio's pytest plugin, which comes with httpx)."""
    return "asyncio"
