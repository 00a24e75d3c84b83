"""The committed OpenAPI document is the one the binary serves, so the
generated code cannot fall behind the server unnoticed."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

COMMITTED = Path(__file__).resolve().parents[1] / "openapi.json"


def differences(committed: dict, served: dict) -> list[str]:
    """Paths, operations and schemas that differ, for the failure message."""
    found = []
    for section, key in (("paths", "paths"), ("components.schemas", "components")):
        old = committed.get(key, {})
        new = served.get(key, {})
        if key == "components":
            old, new = old.get("schemas", {}), new.get("schemas", {})
        for name in sorted(set(old) | set(new)):
            if old.get(name) != new.get(name):
                state = "added" if name not in old else "removed" if name not in new else "changed"
                found.append(f"{section} {name}: {state}")
    rest = {k for k in set(committed) | set(served) if k not in ("paths", "components")}
    found += [f"{k}: changed" for k in sorted(rest) if committed.get(k) != served.get(k)]
    return found


def test_committed_document_is_the_served_one(url: str) -> None:
    served = httpx.get(f"{url}/openapi.json", timeout=30).raise_for_status().json()
    committed = json.loads(COMMITTED.read_text())
    if committed != served:
        listed = "\n  ".join(differences(committed, served) or ["(the documents differ)"])
        raise AssertionError(
            f"{COMMITTED} is not the document the server serves:\n  {listed}\n"
            "Run scripts/gen-python-client (it rewrites openapi.json and trawl_client/_generated/) "
            "and commit the result."
        )
