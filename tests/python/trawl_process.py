"""The real ``trawl`` binary on a free loopback port, for the Python tests.

The binary is ``$TRAWL_BIN``, else ``target/debug/trawl`` (what ``cargo test``
builds), else ``target/release/trawl``; the model and ONNX Runtime are the
repository's (``$TRAWL_MODEL_DIR``, ``$TRAWL_ORT_LIB`` override them).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT_SECS = 60


class TrawlNotRunnable(RuntimeError):
    """The binary, the model or ONNX Runtime is missing."""


def binary() -> Path:
    if os.environ.get("TRAWL_BIN"):
        return Path(os.environ["TRAWL_BIN"])
    for build in ("debug", "release"):
        candidate = REPO / "target" / build / "trawl"
        if candidate.exists():
            return candidate
    raise TrawlNotRunnable("no trawl binary: build it (cargo build) or set TRAWL_BIN")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(*extra: str) -> Iterator[str]:
    """Starts ``trawl serve`` with ``extra`` flags; yields its URL once ready."""
    exe = binary()
    model_dir = Path(os.environ.get("TRAWL_MODEL_DIR", REPO / "models" / "all-minilm-l6-v2"))
    ort_lib = Path(
        os.environ.get("TRAWL_ORT_LIB", REPO / "vendor" / "onnxruntime" / "libonnxruntime.so.1.31.1")
    )
    for needed in (exe, model_dir, ort_lib):
        if not needed.exists():
            raise TrawlNotRunnable(f"{needed} is missing: run `make setup` and build the server")
    with tempfile.TemporaryDirectory(prefix="trawl-pytest-") as tmp:
        port = free_port()
        log_path = Path(tmp) / "server.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [
                    str(exe), "serve",
                    "--addr", f"127.0.0.1:{port}",
                    "--data-dir", str(Path(tmp) / "data"),
                    "--model-dir", str(model_dir),
                    "--ort-lib", str(ort_lib),
                    "--encoder-threads", "1",
                    "--log-json",
                    *extra,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPO,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + READY_TIMEOUT_SECS
            while True:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"trawl exited with {process.returncode}:\n{log_path.read_text()[-4000:]}"
                    )
                try:
                    with urllib.request.urlopen(url + "/readyz", timeout=5) as response:
                        if json.loads(response.read()).get("ready"):
                            break
                except (urllib.error.URLError, ConnectionError, json.JSONDecodeError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"trawl not ready after {READY_TIMEOUT_SECS} s:\n{log_path.read_text()[-4000:]}"
                    )
                time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
