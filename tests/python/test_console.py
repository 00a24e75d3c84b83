"""The web console (``/console``) in headless Chromium against the real binary.

The server is started from ``TRAWL_BIN`` (default ``target/debug/trawl``, else
``target/release/trawl``) with the console files built into it, an API key,
and the model in ``TRAWL_MODEL_DIR`` / ``TRAWL_ORT_LIB`` (defaults: the
repository's ``models/all-minilm-l6-v2`` and ``vendor/onnxruntime``). A
collection with a full-text index is seeded over HTTP; the browser then asks
for the key, shows the collection, runs hybrid and filtered queries (hits
checked against the API's own answers), pages through the points and watches
the metrics update. A screenshot goes to ``target/test-output/console.png``.

Needs Chromium and chromedriver (Debian: ``chromium``, ``chromium-driver``;
or ``CHROMIUM_BIN`` / ``CHROMEDRIVER``) and Selenium (PyPI ``selenium``); the
browser test is skipped, saying why, where any is missing. ``TRAWL_CONSOLE_DIR``
in the environment makes the server read the files from that directory
instead (to check edits without rebuilding).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import trawl_process

REPO = Path(__file__).resolve().parents[2]
OUTPUT_DIR = REPO / "target" / "test-output"
SCREENSHOT = OUTPUT_DIR / "console.png"
API_KEY = "console-test-key-6f2b9d41c0e7"
KEY_STORAGE = "trawl.console.apiKey"
COLLECTION = "articles"
OTHER_COLLECTION = "notes"
WAIT = 20  # seconds any one thing may take in the browser

TOPICS = ["space", "cooking", "music", "sport"]
TEXTS = [
    ("space", "The telescope photographed a distant spiral galaxy."),
    ("space", "Astronauts repaired the solar panels of the space station."),
    ("space", "A rocket launched a weather satellite into orbit."),
    ("space", "The rover found traces of ancient water on Mars."),
    ("space", "Saturn's rings are made of ice and rock."),
    ("cooking", "Knead the bread dough for ten minutes before it rises."),
    ("cooking", "Slow-cooked tomato sauce needs garlic and fresh basil."),
    ("cooking", "Whisk the eggs with sugar to bake a sponge cake."),
    ("cooking", "Grill the fish with lemon and a pinch of salt."),
    ("cooking", "A good risotto is stirred until the rice is creamy."),
    ("music", "The orchestra rehearsed the symphony for the concert."),
    ("music", "She tuned her guitar before the evening gig."),
    ("music", "The drummer kept a steady beat throughout the song."),
    ("music", "A string quartet played Haydn in the old church."),
    ("music", "The jazz pianist improvised a long solo."),
    ("sport", "The striker scored twice in the football final."),
    ("sport", "Marathon runners trained for months before the race."),
    ("sport", "The tennis match went to a fifth set tie-break."),
    ("sport", "Cyclists climbed the mountain stage of the tour."),
    ("sport", "The swimmer broke the national record in the pool."),
]


BIG_ID = 18446744073709551557  # a u64 past 2^53: JavaScript numbers would lose its digits


def point_id(i: int):
    """Ids 1..18, a large u64 and a string: every kind of id in the UI."""
    if i == len(TEXTS) - 1:
        return "guide-20"
    if i == len(TEXTS) - 2:
        return BIG_ID
    return i + 1


def id_text(pid) -> str:
    """How the console writes an id in `data-hit-id` / `data-point-id`."""
    return pid if isinstance(pid, str) else json.dumps(pid)


# ------------------------------------------------------------------- server


class Server:
    def __init__(self, url: str):
        self.url = url

    def call(self, method: str, path: str, body=None, key: str | None = API_KEY, raw=False):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if body is not None:
            request.add_header("content-type", "application/json")
        if key:
            request.add_header("authorization", f"Bearer {key}")
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = response.read()
            return (response, payload) if raw else json.loads(payload)


@pytest.fixture(scope="module")
def server():
    if os.environ.get("TRAWL_CONSOLE_DIR"):
        print(f"console files read from TRAWL_CONSOLE_DIR={os.environ['TRAWL_CONSOLE_DIR']}")
    try:
        with trawl_process.running("--api-key", API_KEY) as url:
            srv = Server(url)
            seed(srv)
            yield srv
    except trawl_process.TrawlNotRunnable as missing:
        pytest.skip(str(missing))


def seed(srv: Server) -> None:
    srv.call("PUT", f"/collections/{COLLECTION}", {
        "vector": {"metric": "cosine"},
        "payload_indexes": {"topic": "keyword", "year": "integer"},
        "text": {"field": "text", "language": "en"},
    })
    points = [
        {"id": point_id(i), "text": text, "payload": {"topic": topic, "year": 2000 + i}}
        for i, (topic, text) in enumerate(TEXTS)
    ]
    assert srv.call("PUT", f"/collections/{COLLECTION}/points", {"points": points}) == {"upserted": len(TEXTS)}
    # A second collection, after the first by name: the console selects the first.
    srv.call("PUT", f"/collections/{OTHER_COLLECTION}", {"vector": {"metric": "cosine"}})
    srv.call("PUT", f"/collections/{OTHER_COLLECTION}/points", {
        "points": [{"id": 1, "text": "A note to self.", "payload": {"n": 1}}],
    })


# ------------------------------------------------------- files, no browser


def test_console_files_are_served_without_key_and_with_csp(server):
    """The page and its assets need no key, carry the CSP, and the page holds
    nothing the CSP would block (inline scripts, styles or handlers)."""
    expected = {
        "/console": "text/html",
        "/console/index.html": "text/html",
        "/console/console.js": "text/javascript",
        "/console/console.css": "text/css",
    }
    for path, kind in expected.items():
        response, body = server.call("GET", path, key=None, raw=True)
        assert response.status == 200, path
        assert response.headers["content-type"].startswith(kind), (path, response.headers["content-type"])
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp, csp
        assert "frame-ancestors 'none'" in csp, csp
        assert body, path
    _, html = server.call("GET", "/console", key=None, raw=True)
    html = html.decode()
    assert 'aria-label="Search"' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert not re.search(r"\sstyle\s*=", html), "inline style attribute"
    assert not re.search(r"<style\b", html), "inline <style>"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "external resource"
    _, js = server.call("GET", "/console/console.js", key=None, raw=True)
    assert b"eval(" not in js and b"new Function" not in js
    # Unknown files are 404 and the API itself still needs the key.
    with pytest.raises(urllib.error.HTTPError) as missing:
        server.call("GET", "/console/secret.txt", key=None)
    assert missing.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as refused:
        server.call("GET", "/collections", key=None)
    assert refused.value.code == 401


# ------------------------------------------------------------------ browser


@pytest.fixture(scope="module")
def driver():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
    from selenium.webdriver.chrome.service import Service

    chromium = os.environ.get("CHROMIUM_BIN") or shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
    if not chromium or not chromedriver:
        pytest.skip(
            "headless Chromium not available: install Debian's `chromium` and `chromium-driver` "
            "(or set CHROMIUM_BIN and CHROMEDRIVER)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1100",
        "--disable-extensions",
        "--no-first-run",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    browser.set_page_load_timeout(WAIT)
    try:
        yield browser
    finally:
        browser.quit()


def test_console_in_headless_chromium(server, driver, capsys):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    def wait(condition, message, timeout=WAIT):
        # Elements re-rendered while a condition reads them are read again.
        return WebDriverWait(
            driver, timeout, poll_frequency=0.05,
            ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
        ).until(lambda d: condition(), message)

    def find(css):
        return driver.find_element(By.CSS_SELECTOR, css)

    def find_all(css):
        return driver.find_elements(By.CSS_SELECTOR, css)

    def text_of(element) -> str:
        return element.get_attribute("textContent") or ""

    def shown_hit_ids() -> list[str]:
        return [h.get_attribute("data-hit-id") for h in find_all("#hits li[data-hit-id]")]

    def api_query(body) -> list[dict]:
        return server.call("POST", f"/collections/{COLLECTION}/query", body)["hits"]

    started = time.monotonic()

    # 1. The page asks for the key: nothing is shown without it.
    driver.get(server.url + "/console")
    key_input = wait(lambda: next((e for e in find_all('input[aria-label="API key"]') if e.is_displayed()), None),
                     "the console did not ask for the API key")
    assert key_input.get_attribute("type") == "password"
    assert not find_all("#collection-list li"), "collections shown without a key"

    # A wrong key is refused with the server's message.
    key_input.send_keys("not-the-key-0123456789", Keys.ENTER)
    wait(lambda: "refused" in find("#key-message").text and find("#key-panel").is_displayed(),
         "a wrong key was not reported")
    assert driver.execute_script(f"return sessionStorage.getItem('{KEY_STORAGE}')") is None

    # 2. The right key: kept in sessionStorage only.
    key_input = find('input[aria-label="API key"]')
    key_input.clear()
    key_input.send_keys(API_KEY, Keys.ENTER)
    wait(lambda: not find("#key-panel").is_displayed(), "the key form did not close after a good key")
    assert driver.execute_script(f"return sessionStorage.getItem('{KEY_STORAGE}')") == API_KEY
    assert driver.execute_script("return window.localStorage.length") == 0
    assert driver.execute_script("return document.cookie") == ""

    # 3. The seeded collection with its point count, the first one selected.
    listed = [c["name"] for c in server.call("GET", "/collections")["collections"]]
    assert listed[0] == COLLECTION
    seeded = f'button[data-collection="{COLLECTION}"]'
    wait(lambda: find_all(seeded), "the seeded collection is not listed")
    wait(lambda: re.search(rf"\b{len(TEXTS)} points\b", find(seeded).text),
         f"no point count in the list: {find(seeded).text!r}")
    assert find(f'button[data-collection="{OTHER_COLLECTION}"]').is_displayed()
    wait(lambda: find(seeded).get_attribute("aria-current") == "true", "the first collection is not selected")
    wait(lambda: find("#collection-title").text == COLLECTION, "the selected collection is not shown")

    # 4. A typed query: hybrid by default (the collection has a text index),
    #    hits as the API answers them, with scores and per-stage explanations.
    mode = wait(lambda: find("#search-mode") if find("#search-mode").get_attribute("value") else None,
                "the search mode was not set")
    assert mode.get_attribute("value") == "hybrid"
    options = [o.get_attribute("value") for o in mode.find_elements(By.TAG_NAME, "option")]
    assert set(options) == {"hybrid", "dense", "lexical"}, options
    query = "rocket launch into orbit"
    search = find('input[aria-label="Search"]')
    search.send_keys(query, Keys.ENTER)
    wait(lambda: shown_hit_ids(), "no hits for the typed query")
    expected = api_query({"text": query, "mode": "hybrid", "limit": 10, "with_payload": True, "explain": True})
    assert expected, "the API answered no hits"
    assert shown_hit_ids() == [id_text(h["id"]) for h in expected]
    assert shown_hit_ids()[0] == "3", "the rocket text should rank first"
    for hit, element in zip(expected, find_all("#hits li[data-hit-id]")):
        score = element.find_element(By.CSS_SELECTOR, ".hit-score")
        assert float(score.get_attribute("data-score")) == pytest.approx(hit["score"], rel=1e-5)
        assert f"{hit['score']:.4f}" in score.text
        rows = element.find_elements(By.CSS_SELECTOR, "table.explain tbody tr")
        assert len(rows) == len(hit["explain"]), text_of(element)
        for stage, row in zip(hit["explain"], rows):
            cells = row.find_elements(By.CSS_SELECTOR, "th, td")
            assert cells[0].text.startswith(f"{stage['stage']}:")
            assert cells[1].text == str(stage["rank"])
            assert cells[2].text == f"{stage['score']:.4f}"
        assert json.loads(text_of(element.find_element(By.CSS_SELECTOR, ".payload pre"))) == hit["payload"]
    top = find_all("#hits li[data-hit-id]")[0]
    stages = text_of(top.find_element(By.CSS_SELECTOR, "table.explain"))
    assert "dense" in stages and "lexical" in stages, stages
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(SCREENSHOT))
    with capsys.disabled():
        print(f"\nconsole screenshot: {SCREENSHOT}")

    # 5. A filtered query: every hit satisfies the filter, as the API answers.
    query_filter = {"must": [{"key": "topic", "match": {"value": "music"}}]}
    filter_box = find('textarea[aria-label="Filter"]')
    filter_box.send_keys("{not json")
    search.send_keys(Keys.ENTER)
    wait(lambda: "not valid JSON" in find("#filter-error").text, "invalid JSON in the filter was not caught")
    filter_box.clear()
    filter_box.send_keys(json.dumps(query_filter))
    search.clear()
    search.send_keys("a concert with instruments", Keys.ENTER)
    wait(lambda: "filtered" in find("#search-summary").text and shown_hit_ids(), "no hits for the filtered query")
    expected = api_query({"text": "a concert with instruments", "mode": "hybrid", "limit": 10,
                          "with_payload": True, "explain": True, "filter": query_filter})
    assert shown_hit_ids() == [id_text(h["id"]) for h in expected]
    assert len(shown_hit_ids()) == 5  # all the music points, none other
    for element in find_all("#hits li[data-hit-id]"):
        payload = json.loads(text_of(element.find_element(By.CSS_SELECTOR, ".payload pre")))
        assert payload["topic"] == "music", payload

    # A filter the server refuses: its message is shown.
    filter_box.clear()
    filter_box.send_keys(json.dumps({"must": [{"key": "topic", "range": {"gte": 3}}]}))
    search.send_keys(Keys.ENTER)
    wait(lambda: find("#search-error").is_displayed() and "invalid_filter" in find("#search-error").text,
         "the server's filter error was not shown")
    assert "keyword" in find("#search-error").text
    filter_box.clear()

    # 6. Points, two pages through scroll, as the API pages them.
    find("#tab-points").click()
    first_page = server.call("POST", f"/collections/{COLLECTION}/points/scroll", {"limit": 10})
    wait(lambda: len(find_all("#points li[data-point-id]")) == 10, "the first page of points is not shown")
    page1 = [p.get_attribute("data-point-id") for p in find_all("#points li[data-point-id]")]
    assert page1 == [id_text(p["id"]) for p in first_page["points"]]
    assert first_page["next"]
    find("#points-next").click()
    wait(lambda: find("#points-status").get_attribute("data-page") == "2", "the second page did not load")
    page2 = [p.get_attribute("data-point-id") for p in find_all("#points li[data-point-id]")]
    second_page = server.call("POST", f"/collections/{COLLECTION}/points/scroll",
                              {"limit": 10, "cursor": first_page["next"]})
    assert page2 == [id_text(p["id"]) for p in second_page["points"]]
    assert set(page1) | set(page2) == {id_text(point_id(i)) for i in range(len(TEXTS))}
    assert not set(page1) & set(page2)
    assert str(BIG_ID) in page2
    first_point = json.loads(text_of(find("#points li[data-point-id] .payload pre")))
    assert first_point == second_page["points"][0]["payload"]

    # 7. Details: memory by part in human units.
    find("#tab-details").click()
    wait(lambda: find_all("#details .memory-table tr[data-part='vectors']"), "no memory by part")
    info = server.call("GET", f"/collections/{COLLECTION}")
    vectors_row = find("#details .memory-table tr[data-part='vectors']")
    assert re.search(r"\d+(\.\d+)? (B|KiB|MiB|GiB)", vectors_row.text), vectors_row.text
    assert info["memory"]["ram"]["vectors"] > 0
    assert "384" in find("#details").text  # the vector's dimensions

    # 8. Metrics: polled, and they move as requests arrive.
    find("#tab-metrics").click()
    card = wait(lambda: next(iter(find_all('#metrics [data-metric="requests"]')), None), "no metrics shown")
    assert card.is_displayed()
    polls = int(find("#metrics").get_attribute("data-polls"))
    requests = float(find("#metrics").get_attribute("data-requests"))
    for _ in range(3):
        server.call("POST", f"/collections/{COLLECTION}/points/count", {})
    wait(lambda: int(find("#metrics").get_attribute("data-polls")) > polls
         and float(find("#metrics").get_attribute("data-requests")) >= requests + 3,
         "the metrics did not update", timeout=15)
    latency = find('#metrics [data-metric="search-latency"]').text
    assert "p95" in latency and "–" not in latency.split("\n")[1], latency
    # The collection list's counts follow the metrics.
    server.call("PUT", f"/collections/{OTHER_COLLECTION}/points", {
        "points": [{"id": 2, "text": "Another note.", "payload": {"n": 2}}],
    })
    wait(lambda: "2 points" in find(f'button[data-collection="{OTHER_COLLECTION}"]').text,
         "the point count in the collection list did not follow the metrics", timeout=15)

    # 9. The page ran within its Content-Security-Policy.
    violations = [e for e in driver.get_log("browser")
                  if "Content Security Policy" in e.get("message", "") or "Refused to" in e.get("message", "")]
    assert not violations, violations

    # 10. Forgetting the key clears it and asks again.
    find("#forget-key").click()
    wait(lambda: find("#key-panel").is_displayed(), "forgetting the key did not ask for it again")
    assert driver.execute_script(f"return sessionStorage.getItem('{KEY_STORAGE}')") is None
    assert not find_all("#collection-list li")

    assert time.monotonic() - started < 60
