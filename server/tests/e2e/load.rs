//! `trawl-load` against a real server: what its report counts must be what the
//! server's `/metrics` counted, per route and status.

use std::collections::BTreeMap;

use trawl_client::load::{self, LoadArgs, Op, Report};

use crate::support::Server;

/// `trawl_http_requests_total` by (method, route, status).
type Counters = BTreeMap<(String, String, String), u64>;

/// Parses the request counters out of the OpenMetrics text.
fn request_counters(metrics: &str) -> Counters {
    let mut counters = Counters::new();
    for line in metrics.lines() {
        let Some(rest) = line.strip_prefix("trawl_http_requests_total{") else {
            continue;
        };
        let (labels, value) = rest.rsplit_once("} ").expect("a counter line");
        let get = |name: &str| {
            let start = labels
                .find(&format!("{name}=\""))
                .unwrap_or_else(|| panic!("no {name} in {line}"))
                + name.len()
                + 2;
            let end = start + labels[start..].find('"').expect("closing quote");
            labels[start..end].to_string()
        };
        let key = (get("method"), get("route"), get("status"));
        counters.insert(key, value.trim().parse().expect("a count"));
    }
    counters
}

async fn counters(server: &Server) -> Counters {
    let (status, text) = server.get("/metrics").await;
    assert_eq!(status, 200);
    request_counters(&text)
}

/// The increase of each counter of the load's routes from `before` to `after`.
fn load_delta(before: &Counters, after: &Counters) -> Counters {
    let routes: Vec<&str> = Op::ALL.iter().map(|op| op.route()).collect();
    after
        .iter()
        .filter(|((_, route, _), _)| routes.contains(&route.as_str()))
        .map(|(key, n)| (key.clone(), n - before.get(key).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// The report's counts in the same shape.
fn report_counts(report: &Report) -> Counters {
    let mut counts = Counters::new();
    for op in &report.ops {
        for (status, n) in &op.by_status {
            counts.insert((op.method.clone(), op.route.clone(), status.clone()), *n);
        }
    }
    counts
}

fn args(server: &Server, flags: &[&str]) -> LoadArgs {
    let mut all = vec!["--url", &server.url, "--quiet"];
    all.extend_from_slice(flags);
    LoadArgs::from_flags(all).expect("valid flags")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_reports_count_what_the_server_counted() {
    let server = Server::start(&[]).await;
    let client = reqwest::Client::new();
    let created = load::ensure_collection(&client, &server.url, "loadtest", "float", 100, true)
        .await
        .expect("setup");
    assert!(created);
    // A second setup leaves the collection alone.
    assert!(
        !load::ensure_collection(&client, &server.url, "loadtest", "float", 100, true)
            .await
            .expect("setup again")
    );

    // Closed loop: a mix of every operation, a fixed count.
    let before = counters(&server).await;
    let closed = load::run_async(&args(
        &server,
        &[
            "--collection",
            "loadtest",
            "--workload",
            "mix",
            "--mix",
            "search=6,upsert=1,embed=1",
            "--batch",
            "4",
            "--concurrency",
            "4",
            "--requests",
            "160",
            "--filter",
            r#"{"must": [{"key": "tag", "match": {"any": ["a", "b"]}}]}"#,
        ],
    ))
    .await
    .expect("closed loop");
    let after = counters(&server).await;
    assert_eq!(closed.requests, 160, "{}", closed.table());
    assert_eq!(closed.errors, 0, "{}\n{}", closed.table(), server.log());
    assert_eq!(closed.failure(0.0), None);
    assert_eq!(closed.config.mode, "closed");
    let per_op: BTreeMap<Op, u64> = closed.ops.iter().map(|o| (o.op, o.requests)).collect();
    assert_eq!(
        per_op,
        BTreeMap::from([(Op::Search, 120), (Op::Upsert, 20), (Op::Embed, 20)])
    );
    assert_eq!(load_delta(&before, &after), report_counts(&closed));
    assert!(closed.latency_ms.p50 > 0.0 && closed.latency_ms.max >= closed.latency_ms.p99);
    // Four workers keep (nearly) four requests in flight.
    assert!(closed.mean_in_flight > 2.0, "{}", closed.table());
    // The upserts landed: 100 seeded + 20 × 4.
    let (_, info) = server.get_json("/collections/loadtest").await;
    assert_eq!(info["points"], 180);

    // Open loop: 40 req/s for 2 s is 80 requests, each timed from its intended start.
    let before = after;
    let open = load::run_async(&args(
        &server,
        &[
            "--collection",
            "loadtest",
            "--workload",
            "search",
            "--rate",
            "40",
            "--duration",
            "2s",
        ],
    ))
    .await
    .expect("open loop");
    let after = counters(&server).await;
    let schedule = open.open_loop.as_ref().expect("open-loop figures");
    assert_eq!(
        (schedule.scheduled, schedule.sent, schedule.dropped),
        (80, 80, 0),
        "{}",
        open.table()
    );
    assert_eq!((open.requests, open.errors), (80, 0), "{}", open.table());
    assert!(open.duration_s >= 1.9, "{}", open.table());
    assert_eq!(load_delta(&before, &after), report_counts(&open));
    assert_eq!(open.failure(0.0), None);

    // A collection that does not exist: every search is a 404, and the run fails.
    let before = after;
    let missing = load::run_async(&args(
        &server,
        &[
            "--collection",
            "no-such-collection",
            "--concurrency",
            "2",
            "--requests",
            "20",
        ],
    ))
    .await
    .expect("the run itself completes");
    let after = counters(&server).await;
    assert_eq!(missing.by_status, BTreeMap::from([("404".to_string(), 20)]));
    assert_eq!(missing.error_rate, 1.0);
    let why = missing
        .failure(missing.config.max_error_rate)
        .expect("a failing run");
    assert!(why.contains("404 × 20"), "{why}");
    assert_eq!(load_delta(&before, &after), report_counts(&missing));
}
