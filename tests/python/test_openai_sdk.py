"""The OpenAI Python SDK against the real binary's OpenAI-compatible routes.

Tools written for OpenAI list the models first and send up to 2,048 inputs a
request (LangChain's ``OpenAIEmbeddings`` sends 1,000); both must work, and
the SDK's answers must equal Trawl's own ``/embed``.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

import trawl_process

openai = pytest.importorskip("openai", reason="the openai package is not installed (scripts/setup-test)")

MODEL = "all-minilm-l6-v2"


@pytest.fixture(scope="module")
def url():
    try:
        with trawl_process.running() as url:
            yield url
    except trawl_process.TrawlNotRunnable as missing:
        pytest.skip(str(missing))


def native(url: str, texts: list[str]) -> list[list[float]]:
    request = urllib.request.Request(
        url + "/embed",
        data=json.dumps({"inputs": texts}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["embeddings"]


def close(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(abs(x - y) < 1e-5 for x, y in zip(a, b))


def test_the_sdk_lists_and_retrieves_the_model(url):
    client = openai.OpenAI(base_url=url + "/v1", api_key="unused")
    models = client.models.list()
    assert [m.id for m in models.data] == [MODEL]
    assert models.data[0].owned_by == "trawl"
    assert client.models.retrieve(MODEL).id == MODEL
    with pytest.raises(openai.NotFoundError) as refused:
        client.models.retrieve("text-embedding-3-small")
    assert "all-minilm-l6-v2" in str(refused.value)


def test_the_sdk_embeds_texts_token_ids_and_a_thousand_inputs(url):
    client = openai.OpenAI(base_url=url + "/v1", api_key="unused")
    texts = ["A man is eating food.", "A monkey is playing drums."]
    answer = client.embeddings.create(model=MODEL, input=texts)
    assert answer.model == MODEL
    mine = native(url, texts)
    assert all(close(d.embedding, m) for d, m in zip(answer.data, mine))
    # The SDK asks for base64 unless told otherwise (and decodes it): both agree.
    floats = client.embeddings.create(model=MODEL, input=texts[0], encoding_format="float")
    assert close(floats.data[0].embedding, mine[0])

    ids = client.embeddings.create(model=MODEL, input=[[101, 7592, 2088, 102]])
    assert close(ids.data[0].embedding, native(url, ["hello world"])[0])

    many = [f"document number {i} about the sea" for i in range(1000)]
    answer = client.embeddings.create(model=MODEL, input=many)
    assert [d.index for d in answer.data] == list(range(1000))
    assert close(answer.data[999].embedding, native(url, [many[999]])[0])

    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="text-embedding-ada-002", input="x")
