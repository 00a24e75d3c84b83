"""Fixtures: the real `trawl` binary on a loopback port.

The binary is ``$TRAWL_BIN``, else ``target/debug/trawl`` when it exists,
else ``target/release/trawl``; the model and ONNX Runtime are the
repository's (``$TRAWL_MODEL_DIR``, ``$TRAWL_ORT_LIB`` override them).
Relative paths are taken from the repository's root.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

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


def start_server(
    workdir: Path, env: dict[str, str] | None = None
) -> tuple[str, subprocess.Popen[bytes]]:
    """Starts the binary on a free loopback port with a fresh data directory
    in ``workdir`` (``env``: more variables, such as ``TRAWL_API_KEY``);
    returns its address once ``/readyz`` answers 200."""
    exe = binary()
    if not exe.exists():
        pytest.fail(f"{exe} is missing: build it (cargo build -p trawl-server) or set TRAWL_BIN")
    model_dir = _from_repo(os.environ.get("TRAWL_MODEL_DIR", "models/all-minilm-l6-v2"))
    ort_lib = _from_repo(
        os.environ.get("TRAWL_ORT_LIB", "vendor/onnxruntime/libonnxruntime.so.1.31.1")
    )
    # The server reads TRAWL_* variables as flags: none leaks in from the caller.
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
    ]
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=sink, env=child_env, cwd=workdir
        )
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
        url = f"http://{addr}"
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                    return url, process
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"trawl did not become ready:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
    except BaseException:
        stop(process)
        raise


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of the server every test shares (no API key)."""
    address, process = start_server(tmp_path_factory.mktemp("trawl"))
    yield address
    stop(process)


def new_name(prefix: str = "li") -> str:
    """A collection name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def name() -> str:
    return new_name()
