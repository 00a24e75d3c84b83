//! What each request is: the operations, their mix, the queries, and the bodies sent.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, bail, ensure};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Largest sum of mix weights (the interleaved cycle has this many entries).
const MAX_MIX_TOTAL: u32 = 10_000;

/// Payload tags of seeded and upserted points (`tag` is indexed as a keyword).
pub const TAGS: [&str; 4] = ["a", "b", "c", "d"];

/// Built-in queries, used when no `--queries` file is given, and the texts
/// that upserts and embeds send.
const SENTENCES: [&str; 40] = [
    "how do vector databases filter results by metadata",
    "the quick brown fox jumps over the lazy dog",
    "best hiking trails near the coast in autumn",
    "a recipe for sourdough bread with a crisp crust",
    "why is the sky blue during the day and red at sunset",
    "symptoms of iron deficiency in adults",
    "how to change a flat tyre on a bicycle",
    "the history of the printing press in Europe",
    "compare electric cars and hybrid cars for long trips",
    "what is the capital city of Australia",
    "tips for learning a second language as an adult",
    "the role of mitochondria in the cell",
    "how does compound interest work over thirty years",
    "a short poem about rain on a tin roof",
    "train schedules between Paris and Berlin",
    "what causes the northern lights",
    "how to prune tomato plants in a greenhouse",
    "the rules of chess for beginners",
    "recommendations for a quiet laptop with a long battery life",
    "how vaccines train the immune system",
    "the difference between weather and climate",
    "a beginner's guide to watercolour painting",
    "why do cats purr when they are content",
    "how to write a cover letter for a research position",
    "nearest neighbour search in high dimensional spaces",
    "the causes of the French revolution",
    "how long should an espresso shot take to pull",
    "ways to reduce food waste at home",
    "the life cycle of a monarch butterfly",
    "how solar panels convert sunlight into electricity",
    "exercises that strengthen the lower back",
    "what makes a good password and how to remember it",
    "the plot of a famous Russian novel about a murder",
    "how tides are related to the moon",
    "choosing a tent for winter camping",
    "the meaning of the word serendipity",
    "how to fix a leaking kitchen tap",
    "famous jazz musicians of the nineteen fifties",
    "what is the boiling point of water at high altitude",
    "how search engines rank web pages",
];

/// One kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// `POST /collections/{name}/search`.
    Search,
    /// `PUT /collections/{name}/points`.
    Upsert,
    /// `POST /embed`.
    Embed,
}

impl Op {
    /// Every operation.
    pub const ALL: [Op; 3] = [Op::Search, Op::Upsert, Op::Embed];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Op::Search => "search",
            Op::Upsert => "upsert",
            Op::Embed => "embed",
        }
    }

    /// The HTTP method.
    pub fn method(self) -> reqwest::Method {
        match self {
            Op::Search | Op::Embed => reqwest::Method::POST,
            Op::Upsert => reqwest::Method::PUT,
        }
    }

    /// The route template, as the server's `/metrics` labels it.
    pub fn route(self) -> &'static str {
        match self {
            Op::Search => "/collections/{name}/search",
            Op::Upsert => "/collections/{name}/points",
            Op::Embed => "/embed",
        }
    }

    /// The path for `collection`.
    pub fn path(self, collection: &str) -> String {
        self.route().replace("{name}", collection)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Op {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        Op::ALL
            .into_iter()
            .find(|op| op.name() == s)
            .with_context(|| format!("unknown operation {s:?} (search, upsert or embed)"))
    }
}

/// Parses mix ratios such as `search=8,upsert=1,embed=1`.
///
/// Every operation may appear once; weights are whole numbers; operations
/// left out (or given 0) are not sent; the weights must not all be 0.
pub fn parse_mix(spec: &str) -> Result<Vec<(Op, u32)>> {
    let mut mix: Vec<(Op, u32)> = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (op, weight) = part
            .split_once('=')
            .with_context(|| format!("mix entry {part:?}: expected op=weight"))?;
        let op: Op = op.trim().parse()?;
        let weight: u32 = weight
            .trim()
            .parse()
            .with_context(|| format!("mix entry {part:?}: the weight is not a whole number"))?;
        ensure!(
            mix.iter().all(|(o, _)| *o != op),
            "mix: {op} appears more than once"
        );
        mix.push((op, weight));
    }
    let total: u64 = mix.iter().map(|(_, w)| u64::from(*w)).sum();
    ensure!(
        total > 0,
        "mix {spec:?}: no operation has a positive weight"
    );
    ensure!(
        total <= u64::from(MAX_MIX_TOTAL),
        "mix {spec:?}: the weights sum to {total}, more than {MAX_MIX_TOTAL}; use smaller ratios"
    );
    mix.retain(|(_, w)| *w > 0);
    Ok(mix)
}

/// One cycle of operations with each operation `weight` times, spread evenly
/// (smooth weighted round robin), so that request `i` is `cycle[i % len]`.
pub fn interleave(mix: &[(Op, u32)]) -> Vec<Op> {
    let total: i64 = mix.iter().map(|(_, w)| i64::from(*w)).sum();
    let mut current = vec![0i64; mix.len()];
    let mut cycle = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    for _ in 0..total {
        for (c, (_, w)) in current.iter_mut().zip(mix) {
            *c += i64::from(*w);
        }
        let best = (0..mix.len())
            .max_by_key(|&i| (current[i], std::cmp::Reverse(i)))
            .expect("a non-empty mix");
        current[best] -= total;
        cycle.push(mix[best].0);
    }
    cycle
}

/// One search query: a text or a vector, and optionally its own filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Query {
    /// Text for the server to embed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A query vector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<Vec<f32>>,
    /// A filter for this query (in place of `--filter`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Value>,
}

/// The built-in queries: a few dozen short, varied sentences.
pub fn default_queries() -> Vec<Query> {
    SENTENCES
        .iter()
        .map(|s| Query {
            text: Some((*s).to_string()),
            vector: None,
            filter: None,
        })
        .collect()
}

/// Parses a queries file: one query per line, either plain text or a JSON
/// object `{"text": …}` / `{"vector": […]}` with an optional `"filter"`.
/// Blank lines are skipped.
pub fn parse_queries(content: &str) -> Result<Vec<Query>> {
    let mut queries = Vec::new();
    for (i, line) in content.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let query = if line.starts_with('{') {
            let q: Query = serde_json::from_str(line)
                .with_context(|| format!("line {}: not a query object", i + 1))?;
            ensure!(
                q.text.is_some() != q.vector.is_some(),
                "line {}: give exactly one of \"text\" or \"vector\"",
                i + 1
            );
            if let Some(filter) = &q.filter {
                check_filter(filter).with_context(|| format!("line {}", i + 1))?;
            }
            q
        } else {
            Query {
                text: Some(line.to_string()),
                vector: None,
                filter: None,
            }
        };
        queries.push(query);
    }
    ensure!(!queries.is_empty(), "no queries");
    Ok(queries)
}

/// Fails unless `filter` has the API's filter shape.
pub fn check_filter(filter: &Value) -> Result<()> {
    serde_json::from_value::<trawl_proto::Filter>(filter.clone())
        .map(|_| ())
        .context("not a valid filter")
}

/// SplitMix64: a stateless hash of a 64-bit counter, good enough to pick
/// queries and make vectors without a random-number crate.
pub fn mix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A unit vector of `dims` pseudo-random components, determined by `seed`.
pub fn random_vector(seed: u64, dims: usize) -> Vec<f32> {
    let mut v: Vec<f32> = (0..dims as u64)
        .map(|j| {
            let bits = mix64(seed ^ mix64(j)) >> 40; // 24 bits
            (bits as f32 / (1u64 << 23) as f32) - 1.0
        })
        .collect();
    let norm = v
        .iter()
        .map(|x| x * x)
        .sum::<f32>()
        .sqrt()
        .max(f32::MIN_POSITIVE);
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

/// The text of point `id` (seeded or upserted): two of the built-in sentences.
pub fn point_text(id: u64) -> String {
    let n = SENTENCES.len() as u64;
    let h = mix64(id);
    format!(
        "{} and {}",
        SENTENCES[(h % n) as usize],
        SENTENCES[((h >> 32) % n) as usize]
    )
}

/// The payload of point `id`: an indexed keyword `tag` and integer `n`.
pub fn point_payload(id: u64) -> Value {
    json!({"tag": TAGS[(id % TAGS.len() as u64) as usize], "n": id % 100})
}

/// What one run sends, request by request.
#[derive(Debug)]
pub struct Workload {
    urls: [String; 3],
    cycle: Vec<Op>,
    searches: Vec<Vec<u8>>,
    upsert_batch: usize,
    upsert_dims: Option<usize>,
    embed_batch: usize,
    next_id: AtomicU64,
    seed: u64,
}

/// The settings a [`Workload`] is built from.
#[derive(Debug, Clone)]
pub struct WorkloadSpec {
    /// The server's base URL, without a trailing slash.
    pub base_url: String,
    /// The collection.
    pub collection: String,
    /// The operations and their weights.
    pub mix: Vec<(Op, u32)>,
    /// The search queries.
    pub queries: Vec<Query>,
    /// The filter of queries that have none of their own.
    pub filter: Option<Value>,
    /// Search `limit`.
    pub limit: usize,
    /// Points per upsert.
    pub upsert_batch: usize,
    /// Upsert random vectors of this dimension instead of texts.
    pub upsert_dims: Option<usize>,
    /// Id of the first upserted point.
    pub id_start: u64,
    /// Texts per embed request.
    pub embed_batch: usize,
    /// Seed for the choice of queries and texts.
    pub seed: u64,
}

/// One request to send.
#[derive(Debug)]
pub struct Request<'a> {
    /// Its operation.
    pub op: Op,
    /// The full URL.
    pub url: &'a str,
    /// The JSON body.
    pub body: Vec<u8>,
}

impl Workload {
    /// Prepares the bodies of every query.
    pub fn new(spec: WorkloadSpec) -> Result<Self> {
        ensure!(!spec.queries.is_empty(), "no queries");
        if spec.mix.iter().any(|(op, _)| *op == Op::Search) {
            ensure!(spec.limit > 0, "--limit must be at least 1");
        }
        ensure!(spec.upsert_batch > 0, "--batch must be at least 1");
        ensure!(spec.embed_batch > 0, "--embed-batch must be at least 1");
        let searches = spec
            .queries
            .iter()
            .map(|q| {
                let mut body = serde_json::Map::new();
                match (&q.text, &q.vector) {
                    (Some(text), None) => body.insert("text".into(), json!(text)),
                    (None, Some(vector)) => body.insert("vector".into(), json!(vector)),
                    _ => bail!("a query needs exactly one of text or vector"),
                };
                if let Some(filter) = q.filter.as_ref().or(spec.filter.as_ref()) {
                    body.insert("filter".into(), filter.clone());
                }
                body.insert("limit".into(), json!(spec.limit));
                Ok(serde_json::to_vec(&Value::Object(body))?)
            })
            .collect::<Result<Vec<_>>>()?;
        let urls = Op::ALL.map(|op| format!("{}{}", spec.base_url, op.path(&spec.collection)));
        Ok(Self {
            urls,
            cycle: interleave(&spec.mix),
            searches,
            upsert_batch: spec.upsert_batch,
            upsert_dims: spec.upsert_dims,
            embed_batch: spec.embed_batch,
            next_id: AtomicU64::new(spec.id_start),
            seed: spec.seed,
        })
    }

    /// Request number `seq` of the run.
    pub fn request(&self, seq: u64) -> Request<'_> {
        let op = self.cycle[(seq % self.cycle.len() as u64) as usize];
        let pick = mix64(self.seed ^ mix64(seq));
        let body = match op {
            Op::Search => self.searches[(pick % self.searches.len() as u64) as usize].clone(),
            Op::Upsert => {
                let first = self
                    .next_id
                    .fetch_add(self.upsert_batch as u64, Ordering::Relaxed);
                let points: Vec<Value> = (first..first + self.upsert_batch as u64)
                    .map(|id| match self.upsert_dims {
                        Some(dims) => json!({
                            "id": id,
                            "vector": random_vector(self.seed ^ id, dims),
                            "payload": point_payload(id),
                        }),
                        None => json!({
                            "id": id,
                            "text": point_text(id),
                            "payload": point_payload(id),
                        }),
                    })
                    .collect();
                serde_json::to_vec(&json!({ "points": points })).unwrap_or_default()
            }
            Op::Embed => {
                let inputs: Vec<String> = (0..self.embed_batch as u64)
                    .map(|j| point_text(pick.wrapping_add(j)))
                    .collect();
                serde_json::to_vec(&json!({ "inputs": inputs })).unwrap_or_default()
            }
        };
        let url = &self.urls[Op::ALL.iter().position(|o| *o == op).unwrap_or(0)];
        Request { op, url, body }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_ratios_parse_and_reject_mistakes() {
        assert_eq!(
            parse_mix("search=8, upsert=1,embed=1").unwrap(),
            vec![(Op::Search, 8), (Op::Upsert, 1), (Op::Embed, 1)]
        );
        assert_eq!(
            parse_mix("search=3,embed=0").unwrap(),
            vec![(Op::Search, 3)]
        );
        for bad in [
            "",
            "search",
            "search=x",
            "search=-1",
            "search=1,search=2",
            "delete=1",
            "search=0,embed=0",
            "search=20000",
        ] {
            assert!(parse_mix(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn the_cycle_spreads_each_operation_evenly() {
        let cycle = interleave(&[(Op::Search, 2), (Op::Upsert, 1)]);
        assert_eq!(cycle, vec![Op::Search, Op::Upsert, Op::Search]);
        let cycle = interleave(&parse_mix("search=8,upsert=1,embed=1").unwrap());
        assert_eq!(cycle.len(), 10);
        let count = |op| cycle.iter().filter(|o| **o == op).count();
        assert_eq!(
            (count(Op::Search), count(Op::Upsert), count(Op::Embed)),
            (8, 1, 1)
        );
        // Upsert and embed are not sent back to back.
        let upsert = cycle.iter().position(|o| *o == Op::Upsert).unwrap();
        let embed = cycle.iter().position(|o| *o == Op::Embed).unwrap();
        assert!(upsert.abs_diff(embed) > 1, "{cycle:?}");
        assert_eq!(interleave(&[(Op::Embed, 1)]), vec![Op::Embed]);
    }

    #[test]
    fn query_files_take_text_lines_and_json_lines() {
        let queries = parse_queries(
            "plain text query\n\n{\"text\": \"with filter\", \"filter\": {\"must\": [{\"key\": \"tag\", \"match\": {\"value\": \"a\"}}]}}\n{\"vector\": [0.5, 0.5]}\n",
        )
        .unwrap();
        assert_eq!(queries.len(), 3);
        assert_eq!(queries[0].text.as_deref(), Some("plain text query"));
        assert!(queries[1].filter.is_some());
        assert_eq!(queries[2].vector, Some(vec![0.5, 0.5]));
        assert!(parse_queries("").is_err());
        assert!(parse_queries("{\"text\": \"a\", \"vector\": [1]}").is_err());
        assert!(parse_queries("{\"vector\": [1], \"filter\": {\"must\": 3}}").is_err());
        assert!(parse_queries("{\"txt\": \"typo\"}").is_err());
    }

    #[test]
    fn requests_follow_the_cycle_and_upserts_take_fresh_ids() {
        let workload = Workload::new(WorkloadSpec {
            base_url: "http://h".into(),
            collection: "c".into(),
            mix: vec![(Op::Search, 1), (Op::Upsert, 1), (Op::Embed, 1)],
            queries: default_queries(),
            filter: Some(json!({"must": [{"key": "tag", "match": {"value": "a"}}]})),
            limit: 5,
            upsert_batch: 2,
            upsert_dims: None,
            id_start: 100,
            embed_batch: 3,
            seed: 7,
        })
        .unwrap();
        let search = workload.request(0);
        assert_eq!(
            (search.op, search.url),
            (Op::Search, "http://h/collections/c/search")
        );
        let body: Value = serde_json::from_slice(&search.body).unwrap();
        assert_eq!(body["limit"], 5);
        assert_eq!(body["filter"]["must"][0]["key"], "tag");
        assert!(body["text"].is_string());

        let upsert = workload.request(1);
        assert_eq!(
            (upsert.op, upsert.url),
            (Op::Upsert, "http://h/collections/c/points")
        );
        let body: Value = serde_json::from_slice(&upsert.body).unwrap();
        assert_eq!(body["points"][0]["id"], 100);
        assert_eq!(body["points"][1]["id"], 101);
        let again: Value = serde_json::from_slice(&workload.request(4).body).unwrap();
        assert_eq!(again["points"][0]["id"], 102);

        let embed = workload.request(2);
        assert_eq!((embed.op, embed.url), (Op::Embed, "http://h/embed"));
        let body: Value = serde_json::from_slice(&embed.body).unwrap();
        assert_eq!(body["inputs"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn random_vectors_are_unit_length_and_repeatable() {
        let v = random_vector(3, 384);
        assert_eq!(v.len(), 384);
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
        assert_eq!(v, random_vector(3, 384));
        assert_ne!(v, random_vector(4, 384));
    }
}
