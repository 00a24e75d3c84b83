#!/usr/bin/env python3
"""Slow and hostile clients against a running Trawl, and what a good client sees meanwhile.

Python standard library only. Run it against a release server on 127.0.0.1:

    target/release/trawl serve --data-dir /tmp/trawl-attack &
    scripts/attack.py --url http://127.0.0.1:6390

Phases (each prints one line; the exit status is 1 when a check fails):

1. idle: --idle-conns keep-alive connections each make one request and stay
   open; a good client then searches. Checks: every search 200, the idle
   connections still open (the idle timeout is longer than the phase).
2. slow: --header-conns connections trickle their request heads and
   --body-conns trickle their bodies (one byte per --trickle-secs, reconnecting
   when cut off) for --duration seconds, while a good client searches once a
   second and asks /healthz. Checks: no search refused, /healthz under 1 s,
   every attacker cut off within --header-timeout / --body-timeout (the
   server's settings) plus --slack.
3. declared: `Content-Length: 2147483648` and no body. Check: 413 JSON in under 1 s.
4. urllib: a 64 MiB body through urllib.request, which writes the whole body
   before it reads. Check: the client reads the 413 JSON.
5. bare-lf: `GET /healthz` and a hidden `DELETE` of the collection, lines
   ending in bare LF. Checks: 400, and the collection and its point still there.
"""

import argparse
import asyncio
import json
import socket
import statistics
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
    return ok


class Api:
    def __init__(self, url, key):
        self.url = url.rstrip("/")
        parts = urllib.parse.urlsplit(self.url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.key = key

    def headers(self):
        headers = {"content-type": "application/json"}
        if self.key:
            headers["authorization"] = f"Bearer {self.key}"
        return headers

    def call(self, method, path, body=None, timeout=30):
        """(status, parsed JSON or None, seconds)."""
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=self.headers())
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, text = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read()
        elapsed = time.monotonic() - started
        try:
            return status, json.loads(text), elapsed
        except ValueError:
            return status, None, elapsed

    def auth_line(self):
        return f"Authorization: Bearer {self.key}\r\n" if self.key else ""


class GoodClient(threading.Thread):
    """Searches once a second and asks /healthz, until stopped."""

    def __init__(self, api, collection):
        super().__init__(daemon=True)
        self.api, self.collection = api, collection
        self.stop = threading.Event()
        self.statuses, self.search_secs, self.health_secs = {}, [], []

    def run(self):
        query = {"vector": [1.0, 0.0, 0.0, 0.0], "limit": 10}
        while not self.stop.is_set():
            tick = time.monotonic()
            try:
                status, _, secs = self.api.call("POST", f"/collections/{self.collection}/search", query)
                self.search_secs.append(secs)
            except OSError as error:
                status = type(error).__name__
            self.statuses[status] = self.statuses.get(status, 0) + 1
            try:
                status, _, secs = self.api.call("GET", "/healthz", timeout=5)
                self.health_secs.append(secs if status == 200 else float("inf"))
            except OSError:
                self.health_secs.append(float("inf"))
            self.stop.wait(max(0.0, 1.0 - (time.monotonic() - tick)))

    def summary(self):
        searches = sum(self.statuses.values())
        return (
            f"good client: {searches} searches {self.statuses}, "
            f"search max {max(self.search_secs, default=0) * 1000:.0f} ms, "
            f"/healthz max {max(self.health_secs, default=0) * 1000:.0f} ms"
        )

    def assert_served(self):
        check(set(self.statuses) == {200}, f"the good client was refused: {self.statuses}")
        check(max(self.health_secs, default=0) < 1.0, "/healthz took 1 s or more")


async def trickler(api, head, body_length, trickle, until, lifetimes, answers):
    """One attacker: sends `head` (all of it when `body_length`, else all but its
    end), then one byte per `trickle` seconds, reconnecting when cut off."""
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.open_connection(api.host, api.port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        started = time.monotonic()
        answer = asyncio.ensure_future(reader.read(1 << 16))
        try:
            writer.write(head)
            await writer.drain()
            while not answer.done() and time.monotonic() < until:
                await asyncio.wait([answer], timeout=trickle)
                if not answer.done():
                    writer.write(b"x" if body_length else b"X")
                    await writer.drain()
        except OSError:
            pass
        if answer.done() or time.monotonic() < until:
            try:
                first = await asyncio.wait_for(answer, 5)
            except (OSError, asyncio.TimeoutError):
                first = b""
            lifetimes.append(time.monotonic() - started)
            line = first.split(b"\r\n", 1)[0].decode(errors="replace") or "closed"
            answers[line] = answers.get(line, 0) + 1
        else:
            answer.cancel()
        writer.close()


async def slow_attack(api, args, collection):
    until = time.monotonic() + args.duration
    header_lifetimes, body_lifetimes, header_answers, body_answers = [], [], {}, {}
    slow_head = f"GET /healthz HTTP/1.1\r\nHost: {api.host}\r\n{api.auth_line()}".encode()
    body_head = (
        f"POST /collections/{collection}/search HTTP/1.1\r\nHost: {api.host}\r\n{api.auth_line()}"
        "Content-Type: application/json\r\nContent-Length: 1024\r\n\r\n"
    ).encode()
    tasks = [
        trickler(api, slow_head, 0, args.trickle_secs, until, header_lifetimes, header_answers)
        for _ in range(args.header_conns)
    ] + [
        trickler(api, body_head, 1024, args.trickle_secs, until, body_lifetimes, body_answers)
        for _ in range(args.body_conns)
    ]
    await asyncio.gather(*tasks)
    return header_lifetimes, body_lifetimes, header_answers, body_answers


def describe(lifetimes):
    if not lifetimes:
        return "none cut off"
    return (
        f"{len(lifetimes)} cut off after median {statistics.median(lifetimes):.1f} s, "
        f"max {max(lifetimes):.1f} s"
    )


def phase_slow(api, args, collection):
    good = GoodClient(api, collection)
    good.start()
    header_lifetimes, body_lifetimes, header_answers, body_answers = asyncio.run(
        slow_attack(api, args, collection)
    )
    good.stop.set()
    good.join()
    print(f"slow: {args.header_conns} header tricklers, {args.body_conns} body tricklers, {args.duration:.0f} s")
    print(f"  header tricklers: {describe(header_lifetimes)}; answers {header_answers}")
    print(f"  body tricklers: {describe(body_lifetimes)}; answers {body_answers}")
    print(f"  {good.summary()}")
    good.assert_served()
    if args.duration > args.header_timeout + args.slack and args.header_conns:
        check(header_lifetimes, "no header trickler was cut off")
    if args.duration > args.body_timeout + args.slack and args.body_conns:
        check(body_lifetimes, "no body trickler was cut off")
    check(
        max(header_lifetimes, default=0) <= args.header_timeout + args.slack,
        "a header trickler outlived --header-timeout",
    )
    check(
        max(body_lifetimes, default=0) <= args.body_timeout + args.slack,
        "a body trickler outlived --body-timeout",
    )


async def idle_connections(api, count, hold):
    """Opens `count` keep-alive connections, one request each, holds them for
    `hold()` (a coroutine), and returns how many were still open after it."""
    request = f"GET /healthz HTTP/1.1\r\nHost: {api.host}\r\n{api.auth_line()}\r\n".encode()

    async def one():
        reader, writer = await asyncio.open_connection(api.host, api.port)
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        return reader, writer

    connections = []
    for start in range(0, count, 500):
        connections += await asyncio.gather(*(one() for _ in range(min(500, count - start))))
    await hold()
    still_open = 0
    for reader, writer in connections:
        try:
            await asyncio.wait_for(reader.read(1), 0.01)  # returns only when closed
        except asyncio.TimeoutError:
            still_open += 1
        except OSError:
            pass
        writer.close()
    return still_open


def phase_idle(api, args, collection):
    good = GoodClient(api, collection)

    async def hold():
        good.start()
        await asyncio.sleep(5)
        good.stop.set()
        await asyncio.to_thread(good.join)

    still_open = asyncio.run(idle_connections(api, args.idle_conns, hold))
    print(f"idle: {args.idle_conns} keep-alive connections, {still_open} still open after 5 s; {good.summary()}")
    good.assert_served()
    check(still_open == args.idle_conns, "idle keep-alive connections were closed early")


def raw_exchange(api, data, timeout=10.0):
    """Sends `data` on a new connection and reads until the server closes; (bytes, seconds)."""
    with socket.create_connection((api.host, api.port), timeout=timeout) as sock:
        started = time.monotonic()
        sock.sendall(data)
        received = b""
        try:
            while chunk := sock.recv(1 << 16):
                received += chunk
        except OSError:
            pass
        return received, time.monotonic() - started


def phase_declared(api, collection):
    head = (
        f"POST /collections/{collection}/search HTTP/1.1\r\nHost: {api.host}\r\n{api.auth_line()}"
        "Content-Type: application/json\r\nContent-Length: 2147483648\r\n\r\n"
    ).encode()
    received, secs = raw_exchange(api, head)
    status_line = received.split(b"\r\n", 1)[0].decode(errors="replace")
    body = received.split(b"\r\n\r\n", 1)[-1]
    code = json.loads(body)["error"]["code"] if body.startswith(b"{") else None
    print(f"declared: Content-Length 2147483648 -> {status_line!r} {code} in {secs * 1000:.0f} ms")
    check(status_line.startswith("HTTP/1.1 413") and code == "payload_too_large", "no 413 JSON")
    check(secs < 1.0, "the 413 took 1 s or more")


def phase_urllib(api, collection):
    body = b" " * (64 * 1024 * 1024)
    try:
        status, answer, secs = api.call("POST", f"/collections/{collection}/search", body)
        code = (answer or {}).get("error", {}).get("code")
        outcome = f"{status} {code}"
    except OSError as error:
        status, code, secs, outcome = None, None, 0.0, f"{type(error).__name__}: {error}"
    print(f"urllib: 64 MiB body -> {outcome} in {secs * 1000:.0f} ms")
    check(status == 413 and code == "payload_too_large", "urllib did not read the 413 JSON")


def phase_bare_lf(api, collection):
    auth = api.auth_line().replace("\r\n", "\n")
    smuggled = (
        f"GET /healthz HTTP/1.1\nHost: {api.host}\n{auth}\n"
        f"DELETE /collections/{collection} HTTP/1.1\nHost: {api.host}\n{auth}\n"
    ).encode()
    received, _ = raw_exchange(api, smuggled)
    status_lines = [line.decode() for line in received.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]
    status, _, _ = api.call("GET", f"/collections/{collection}/points/1")
    print(f"bare-lf: answers {status_lines}; the point afterwards: {status}")
    check(status_lines == ["HTTP/1.1 400 Bad Request"], "the bare-LF request was not refused with 400 alone")
    check(status == 200, "the hidden DELETE ran")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:6390")
    parser.add_argument("--api-key", help="a full key, when the server has keys")
    parser.add_argument("--idle-conns", type=int, default=5000)
    parser.add_argument("--header-conns", type=int, default=500)
    parser.add_argument("--body-conns", type=int, default=150)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of the slow phase")
    parser.add_argument("--trickle-secs", type=float, default=1.0, help="seconds between an attacker's bytes")
    parser.add_argument("--header-timeout", type=float, default=10.0, help="the server's --header-read-timeout-secs")
    parser.add_argument("--body-timeout", type=float, default=10.0, help="the server's --body-read-timeout-secs")
    parser.add_argument("--slack", type=float, default=2.0, help="seconds allowed past a timeout")
    parser.add_argument(
        "--phases", default="idle,slow,declared,urllib,bare-lf", help="comma-separated subset to run"
    )
    args = parser.parse_args()
    api = Api(args.url, args.api_key)
    collection = f"attack-{int(time.time())}"
    status, answer, _ = api.call("PUT", f"/collections/{collection}", {"vector": {"dims": 4, "metric": "cosine"}})
    if status not in (200, 201):
        raise SystemExit(f"cannot create collection {collection}: {status} {answer}")
    points = {"points": [{"id": 1, "vector": [1.0, 0.0, 0.0, 0.0]}]}
    status, answer, _ = api.call("PUT", f"/collections/{collection}/points", points)
    if status != 200:
        raise SystemExit(f"cannot upsert: {status} {answer}")
    phases = {
        "idle": lambda: phase_idle(api, args, collection),
        "slow": lambda: phase_slow(api, args, collection),
        "declared": lambda: phase_declared(api, collection),
        "urllib": lambda: phase_urllib(api, collection),
        "bare-lf": lambda: phase_bare_lf(api, collection),
    }
    try:
        for name in args.phases.split(","):
            phases[name]()
    finally:
        api.call("DELETE", f"/collections/{collection}")
    if failures:
        print("FAILED: " + "; ".join(failures))
        raise SystemExit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
