//! Slow and hostile clients on raw sockets, against the real binary: they are
//! cut off within the configured timeouts and never take a slot from a good
//! client; over-limit bodies get a 413 that the client can read; lenient
//! framing is refused and hides no request.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::Server;

/// `--header-read-timeout-secs` and `--body-read-timeout-secs` of the attack test.
const TIMEOUT_SECS: u64 = 2;
/// How late past its timeout an attacker may be cut off on a busy machine.
const SLACK: Duration = Duration::from_millis(1_500);
/// Time between an attacker's bytes.
const TRICKLE: Duration = Duration::from_millis(250);

/// Creates collection `docs` (4 dimensions) with point 1.
async fn docs(server: &Server) {
    let (status, body) = server
        .put(
            "/collections/docs",
            &json!({"vector": {"dims": 4, "metric": "cosine"}}),
        )
        .await;
    assert!(status == 200 || status == 201, "{status} {body}");
    let points = json!({"points": [{"id": 1, "vector": [1.0, 0.0, 0.0, 0.0]}]});
    let (status, body) = server.put("/collections/docs/points", &points).await;
    assert_eq!(status, 200, "{body}");
}

/// The status line of an answer, or `closed` when the server closed without one.
fn first_line(answer: &[u8]) -> String {
    let line = answer.split(|&b| b == b'\r').next().unwrap_or_default();
    match String::from_utf8_lossy(line).into_owned() {
        line if line.is_empty() => "closed".into(),
        line => line,
    }
}

/// Every status code answered on a connection, in order (the JSON bodies
/// never contain a status line's prefix).
fn statuses(answers: &[u8]) -> Vec<u16> {
    let text = String::from_utf8_lossy(answers);
    text.match_indices("HTTP/1.1 ")
        .filter_map(|(at, prefix)| text.get(at + prefix.len()..)?.get(..3)?.parse().ok())
        .collect()
}

/// Status and JSON body of the one answer on a connection the server closed.
fn answer(raw: &[u8]) -> (u16, Value) {
    let text = String::from_utf8_lossy(raw);
    let status = statuses(raw).first().copied().unwrap_or_default();
    let body = text.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// Sends `bytes` on a new connection, reads until the server closes it, and
/// says how long that took.
async fn exchange(addr: SocketAddr, bytes: &[u8]) -> (Vec<u8>, Duration) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let started = Instant::now();
    stream.write_all(bytes).await.expect("write");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection")
        .ok();
    (answer, started.elapsed())
}

/// One attacker: sends `head`, then a byte every [`TRICKLE`] until the server
/// answers or closes, and reconnects, until `until`. Returns how long each of
/// its connections lived and how it ended.
async fn trickle(addr: SocketAddr, head: Vec<u8>, until: Instant) -> Vec<(Duration, String)> {
    let mut cut = Vec::new();
    while Instant::now() < until {
        let Ok(mut stream) = TcpStream::connect(addr).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let started = Instant::now();
        let _ = stream.write_all(&head).await;
        let mut buf = [0_u8; 1_024];
        while Instant::now() < until {
            match tokio::time::timeout(TRICKLE, stream.read(&mut buf)).await {
                Err(_) => {
                    let _ = stream.write_all(b"x").await;
                }
                Ok(Ok(n)) => {
                    cut.push((started.elapsed(), first_line(&buf[..n])));
                    break;
                }
                Ok(Err(_)) => {
                    cut.push((started.elapsed(), "reset".into()));
                    break;
                }
            }
        }
    }
    cut
}

/// Waits for the attackers; asserts that each was cut off, every time between
/// 0.9× its timeout and the timeout plus [`SLACK`]; returns how each cut ended.
async fn cut_off(
    attackers: Vec<tokio::task::JoinHandle<Vec<(Duration, String)>>>,
    kind: &str,
) -> Vec<String> {
    let limit = Duration::from_secs(TIMEOUT_SECS);
    let mut ends = Vec::new();
    for attacker in attackers {
        let cuts = attacker.await.expect("attacker");
        assert!(!cuts.is_empty(), "a {kind} trickler was never cut off");
        for (lived, end) in cuts {
            assert!(
                lived >= limit * 9 / 10 && lived <= limit + SLACK,
                "a {kind} trickler lived {lived:?} (ended: {end})"
            );
            ends.push(end);
        }
    }
    ends
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_and_never_take_slots_from_good_ones() {
    let timeout = TIMEOUT_SECS.to_string();
    let server = Server::start(&[
        "--max-concurrent-requests",
        "4",
        "--max-queue-wait-ms",
        "200",
        "--header-read-timeout-secs",
        &timeout,
        "--body-read-timeout-secs",
        &timeout,
        "--min-body-bytes-per-sec",
        "1000",
    ])
    .await;
    docs(&server).await;
    let addr = server.addr();
    let until = Instant::now() + Duration::from_secs(9);
    // Six times as many slow bodies as slots: read inside a slot, they would
    // take every one of them.
    let slow_head = b"GET /healthz HTTP/1.1\r\nHost: trawl\r\n".to_vec();
    let slow_body = b"POST /collections/docs/search HTTP/1.1\r\nHost: trawl\r\n\
        Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
        .to_vec();
    let heads: Vec<_> = (0..48)
        .map(|_| tokio::spawn(trickle(addr, slow_head.clone(), until)))
        .collect();
    let bodies: Vec<_> = (0..24)
        .map(|_| tokio::spawn(trickle(addr, slow_body.clone(), until)))
        .collect();

    tokio::time::sleep(Duration::from_millis(500)).await;
    let search = json!({"vector": [1.0, 0.0, 0.0, 0.0], "limit": 1});
    let mut searches = 0;
    while Instant::now() + Duration::from_secs(1) < until {
        let tick = tokio::time::Instant::now();
        let (status, body) = server.post("/collections/docs/search", &search).await;
        assert_eq!(
            status, 200,
            "a good search was refused under attack: {body}"
        );
        assert_eq!(body["hits"][0]["id"], 1, "{body}");
        searches += 1;
        let started = Instant::now();
        let (status, _) = server.get("/healthz").await;
        let health = started.elapsed();
        assert_eq!(status, 200);
        assert!(health < Duration::from_secs(1), "/healthz took {health:?}");
        tokio::time::sleep_until(tick + Duration::from_secs(1)).await;
    }
    assert!(searches >= 7, "only {searches} searches");

    let head_ends = cut_off(heads, "head").await;
    assert!(
        head_ends
            .iter()
            .all(|end| end == "closed" || end == "reset"),
        "{head_ends:?}"
    );
    let body_ends = cut_off(bodies, "body").await;
    assert!(
        body_ends
            .iter()
            .all(|end| end == "HTTP/1.1 408 Request Timeout"),
        "{body_ends:?}"
    );
    let (head_cuts, body_cuts) = (head_ends.len(), body_ends.len());
    println!(
        "{searches} good searches served; attackers cut off: {head_cuts} heads, {body_cuts} bodies"
    );
}

#[tokio::test]
async fn idle_keep_alive_connections_close_after_the_idle_timeout() {
    let server = Server::start(&["--idle-timeout-secs", "2"]).await;
    let mut stream = TcpStream::connect(server.addr()).await.expect("connect");
    let request = b"GET /healthz HTTP/1.1\r\nHost: trawl\r\n\r\n";
    let mut buf = vec![0_u8; 4_096];
    for pause in [Duration::ZERO, Duration::from_millis(1_200)] {
        tokio::time::sleep(pause).await;
        stream.write_all(request).await.expect("write");
        let n = stream.read(&mut buf).await.expect("read");
        assert_eq!(first_line(&buf[..n]), "HTTP/1.1 200 OK");
    }
    let idle = Instant::now();
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
        .await
        .expect("the server closes an idle connection")
        .unwrap_or(0);
    let lived = idle.elapsed();
    assert_eq!(n, 0, "{:?}", first_line(&buf[..n]));
    assert!(
        lived >= Duration::from_millis(1_800) && lived <= Duration::from_secs(2) + SLACK,
        "closed after {lived:?} idle"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_get_a_413_the_client_can_read() {
    let server = Server::start(&[]).await;
    let addr = server.addr();
    let head = |length: &str, extra: &str| {
        format!(
            "POST /embed HTTP/1.1\r\nHost: trawl\r\nContent-Type: application/json\r\n{extra}{length}\r\n\r\n"
        )
        .into_bytes()
    };

    // A declared length over the limit is answered before any body arrives.
    for extra in ["", "Expect: 100-continue\r\n"] {
        let (raw, took) = exchange(addr, &head("Content-Length: 2147483648", extra)).await;
        let (status, body) = answer(&raw);
        assert_eq!(status, 413, "{}", String::from_utf8_lossy(&raw));
        assert_eq!(body["error"]["code"], "payload_too_large", "{body}");
        assert_eq!(body["error"]["details"]["limit"], 16 * 1024 * 1024);
        assert!(took < Duration::from_secs(1), "413 after {took:?}");
        assert_eq!(statuses(&raw), [413], "no 100 Continue before the 413");
    }

    // Clients that write the whole body before they read (as Python's urllib
    // does) read the 413, for a declared length and for a chunked body.
    let mut declared = head("Content-Length: 67108864", "");
    declared.extend(std::iter::repeat_n(b' ', 64 << 20));
    let mut chunked = head("Transfer-Encoding: chunked", "");
    for _ in 0..20 {
        chunked.extend_from_slice(b"100000\r\n");
        chunked.extend(std::iter::repeat_n(b' ', 1 << 20));
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    for request in [declared, chunked] {
        let raw = tokio::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(addr).expect("connect");
            stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .expect("timeout");
            stream
                .write_all(&request)
                .expect("the whole body is written");
            let mut raw = Vec::new();
            stream.read_to_end(&mut raw).expect("read the answer");
            raw
        })
        .await
        .expect("client");
        let (status, body) = answer(&raw);
        assert_eq!(status, 413, "{}", String::from_utf8_lossy(&raw));
        assert_eq!(body["error"]["code"], "payload_too_large", "{body}");
    }
    let (status, _) = server.get("/healthz").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn lenient_framing_is_refused_and_hides_no_request() {
    let server = Server::start(&[]).await;
    docs(&server).await;
    let addr = server.addr();
    let delete = "POST /collections/docs/points/delete HTTP/1.1\r\nHost: trawl\r\n\
        Content-Type: application/json\r\n";
    for (shape, request) in [
        (
            "bare LF throughout",
            "GET /healthz HTTP/1.1\nHost: trawl\n\nDELETE /collections/docs HTTP/1.1\nHost: trawl\n\n"
                .to_string(),
        ),
        (
            "a bare LF in one header",
            "GET /healthz HTTP/1.1\r\nHost: trawl\nX: y\r\n\r\nDELETE /collections/docs HTTP/1.1\r\nHost: trawl\r\n\r\n"
                .to_string(),
        ),
        (
            "a head ended by a bare LF",
            "GET /healthz HTTP/1.1\r\nHost: trawl\r\n\nDELETE /collections/docs HTTP/1.1\r\nHost: trawl\r\n\r\n"
                .to_string(),
        ),
        (
            "a bare CR",
            "GET /healthz HTTP/1.1\r\nHost: trawl\rDELETE /collections/docs HTTP/1.1\r\n\r\n"
                .to_string(),
        ),
        (
            "a chunk size ended by a bare LF",
            format!("{delete}Transfer-Encoding: chunked\r\n\r\nb\n{{\"ids\":[1]}}\r\n0\r\n\r\n"),
        ),
        (
            "Content-Length with Transfer-Encoding",
            format!(
                "{delete}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\nb\r\n{{\"ids\":[1]}}\r\n0\r\n\r\n"
            ),
        ),
    ] {
        let (raw, _) = exchange(addr, request.as_bytes()).await;
        assert_eq!(
            statuses(&raw),
            [400],
            "{shape}: {}",
            String::from_utf8_lossy(&raw)
        );
    }
    let (status, body) = server.get_json("/collections/docs/points/1").await;
    assert_eq!(status, 200, "a hidden request ran: {body}");

    // Well-framed pipelined requests are all answered, in order.
    let (raw, _) = exchange(
        addr,
        b"GET /healthz HTTP/1.1\r\nHost: trawl\r\n\r\n\
          GET /collections/docs/points/1 HTTP/1.1\r\nHost: trawl\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(
        statuses(&raw),
        [200, 200],
        "{}",
        String::from_utf8_lossy(&raw)
    );
}
