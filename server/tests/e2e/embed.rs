//! `/embed` and `/v1/embeddings` over HTTP: every output kind, and bad input.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use crate::support::{Server, assert_error};

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

fn norm(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}

const TEXTS: [&str; 3] = ["A man is eating food.", "", "A monkey is playing drums."];

#[tokio::test]
async fn every_kind_derives_from_one_float_embedding() {
    let server = Server::start(&[]).await;
    let (status, float) = server.post("/embed", &json!({"inputs": TEXTS})).await;
    assert_eq!(status, 200, "{float}");
    assert_eq!(float["kind"], "float");
    assert_eq!(float["model"], "all-minilm-l6-v2");
    assert_eq!(float["truncated"], json!([false, false, false]));
    let dense: Vec<Vec<f32>> = float["embeddings"]
        .as_array()
        .expect("embeddings")
        .iter()
        .map(floats)
        .collect();
    assert!(
        dense
            .iter()
            .all(|v| v.len() == 384 && (norm(v) - 1.0).abs() < 1e-4)
    );
    // [CLS] a man is eating food . [SEP] = 8, [CLS] [SEP] = 2, [CLS] a monkey is playing drums . [SEP] = 8
    assert_eq!(float["usage"]["tokens"], 18);

    let (status, mrl) = server
        .post(
            "/embed",
            &json!({"inputs": TEXTS, "kind": "matryoshka", "dims": 64}),
        )
        .await;
    assert_eq!(status, 200, "{mrl}");
    for (m, d) in mrl["embeddings"]
        .as_array()
        .expect("embeddings")
        .iter()
        .zip(&dense)
    {
        let m = floats(m);
        assert_eq!(m.len(), 64);
        assert!((norm(&m) - 1.0).abs() < 1e-4);
        let scale = norm(&d[..64]);
        for (a, b) in m.iter().zip(&d[..64]) {
            assert!((a - b / scale).abs() < 1e-5);
        }
    }

    let (status, binary) = server
        .post("/embed", &json!({"inputs": TEXTS, "kind": "binary"}))
        .await;
    assert_eq!(status, 200, "{binary}");
    for (code, d) in binary["embeddings"]
        .as_array()
        .expect("embeddings")
        .iter()
        .zip(&dense)
    {
        let bytes = BASE64
            .decode(code.as_str().expect("base64"))
            .expect("base64");
        assert_eq!(bytes.len(), 48);
        for (j, x) in d.iter().enumerate() {
            assert_eq!(bytes[j / 8] >> (j % 8) & 1 == 1, *x > 0.0, "dimension {j}");
        }
    }
    assert_eq!(
        binary["scales"].as_array().expect("scales")[0]
            .as_array()
            .expect("plane")
            .len(),
        1
    );

    let (status, two) = server
        .post(
            "/embed",
            &json!({"inputs": TEXTS, "kind": "binary", "bits": 2, "binary_encoding": "u64"}),
        )
        .await;
    assert_eq!(status, 200, "{two}");
    let words = two["embeddings"][0].as_array().expect("words");
    assert_eq!(words.len(), 12, "2 planes × 384 bits = 12 words");
    let scales = floats(&two["scales"][0]);
    assert_eq!(scales.len(), 2);
    assert!(scales[0] > scales[1] && scales[1] > 0.0, "{scales:?}");

    let (status, multi) = server
        .post("/embed", &json!({"inputs": TEXTS, "kind": "multivector"}))
        .await;
    assert_eq!(status, 200, "{multi}");
    let counts: Vec<usize> = multi["embeddings"]
        .as_array()
        .expect("embeddings")
        .iter()
        .map(|m| m.as_array().expect("tokens").len())
        .collect();
    assert_eq!(
        counts,
        vec![8, 2, 8],
        "one vector per token, [CLS] and [SEP] kept"
    );
    let first = floats(&multi["embeddings"][0][0]);
    assert_eq!(first.len(), 384);
    assert!((norm(&first) - 1.0).abs() < 1e-4);
}

#[tokio::test]
async fn long_inputs_are_truncated_and_reported() {
    let server = Server::start(&[]).await;
    let long = "word ".repeat(600);
    let (status, body) = server
        .post("/embed", &json!({"inputs": [long, "short"]}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["truncated"], json!([true, false]));
    assert_eq!(body["usage"]["tokens"], 256 + 3);

    let (status, body) = server
        .post("/v1/embeddings", &json!({"input": "word ".repeat(600)}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"][0]["truncated"], true);
}

#[tokio::test]
async fn openai_compatible_endpoint() {
    let server = Server::start(&[]).await;
    let (status, native) = server
        .post("/embed", &json!({"inputs": ["hello world"]}))
        .await;
    assert_eq!(status, 200);
    let native = floats(&native["embeddings"][0]);

    let (status, body) = server
        .post(
            "/v1/embeddings",
            &json!({"input": "hello world", "model": "all-minilm-l6-v2", "user": "u1"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "list");
    assert_eq!(body["model"], "all-minilm-l6-v2");
    assert_eq!(body["data"][0]["object"], "embedding");
    assert_eq!(body["data"][0]["index"], 0);
    assert_eq!(floats(&body["data"][0]["embedding"]), native);
    assert_eq!(body["usage"]["prompt_tokens"], 4);
    assert_eq!(body["usage"]["total_tokens"], 4);

    let (status, body) = server
        .post(
            "/v1/embeddings",
            &json!({"input": ["hello world", "again"], "dimensions": 128, "encoding_format": "base64"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"].as_array().expect("data").len(), 2);
    let bytes = BASE64
        .decode(body["data"][0]["embedding"].as_str().expect("base64"))
        .expect("base64");
    let v: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert_eq!(v.len(), 128);
    let scale = norm(&native[..128]);
    assert!(
        v.iter()
            .zip(&native[..128])
            .all(|(a, b)| (a - b / scale).abs() < 1e-5)
    );
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field() {
    let server = Server::start(&["--max-inputs", "4", "--max-openai-inputs", "6"]).await;
    let cases = [
        (json!({"inputs": []}), 422, "invalid_value", "inputs"),
        (
            json!({"inputs": ["a", "b", "c", "d", "e"]}),
            413,
            "limit_exceeded",
            "inputs",
        ),
        (
            json!({"inputs": ["a"], "kind": "sparse"}),
            422,
            "invalid_body",
            "kind",
        ),
        (
            json!({"inputs": ["a"], "kind": "matryoshka"}),
            422,
            "invalid_value",
            "dims",
        ),
        (
            json!({"inputs": ["a"], "kind": "matryoshka", "dims": 0}),
            422,
            "invalid_value",
            "dims",
        ),
        (
            json!({"inputs": ["a"], "kind": "matryoshka", "dims": 385}),
            422,
            "invalid_value",
            "dims",
        ),
        (
            json!({"inputs": ["a"], "dims": 64}),
            422,
            "invalid_value",
            "dims",
        ),
        (
            json!({"inputs": ["a"], "kind": "binary", "bits": 3}),
            422,
            "invalid_value",
            "bits",
        ),
        (
            json!({"inputs": ["a"], "kind": "binary", "bits": 300}),
            422,
            "invalid_body",
            "bits",
        ),
        (
            json!({"inputs": ["a"], "bits": 2}),
            422,
            "invalid_value",
            "bits",
        ),
        (json!({"inputs": "a"}), 422, "invalid_body", "inputs"),
        (json!({"input": ["a"]}), 422, "invalid_body", "input"),
        (json!({"inputs": [1]}), 422, "invalid_body", "inputs"),
    ];
    for (body, want_status, want_code, field) in cases {
        let (status, answer) = server.post("/embed", &body).await;
        let message = assert_error(status, &answer, want_status, want_code);
        assert!(
            message.contains(field),
            "{body} → {message} (should name {field})"
        );
    }
    let openai = [
        (json!({"input": []}), 422, "invalid_value", "input:"),
        (
            json!({"input": ["a", "b", "c", "d", "e", "f", "g"]}),
            413,
            "limit_exceeded",
            "input:",
        ),
        (
            json!({"input": [[101, 30522]]}),
            422,
            "invalid_value",
            "input[0][1]",
        ),
        (json!({"input": [[]]}), 422, "invalid_value", "input[0]"),
        (json!({"input": [101, -1]}), 422, "invalid_body", "input[1]"),
        (json!({"input": ["a", 7]}), 422, "invalid_body", "input[1]"),
        (
            json!({"input": [[101], "a"]}),
            422,
            "invalid_body",
            "input[1]",
        ),
        (
            json!({"input": {"text": "a"}}),
            422,
            "invalid_body",
            "an array of strings",
        ),
        (
            json!({"input": [(0..300).map(|_| 1000).collect::<Vec<_>>()]}),
            422,
            "invalid_value",
            "at most 256",
        ),
        (
            json!({"input": "a", "model": "text-embedding-3-small"}),
            404,
            "model_not_found",
            "all-minilm-l6-v2",
        ),
        (
            json!({"input": "a", "dimensions": 0}),
            422,
            "invalid_value",
            "dimensions",
        ),
        (
            json!({"input": "a", "encoding_format": "int8"}),
            422,
            "invalid_body",
            "encoding_format",
        ),
    ];
    for (body, want_status, want_code, field) in openai {
        let (status, answer) = server.post("/v1/embeddings", &body).await;
        let message = assert_error(status, &answer, want_status, want_code);
        assert!(
            message.contains(field),
            "{body} → {message} (should name {field})"
        );
    }
    let (status, body) = server.post("/embed", &json!({"inputs": ["fine"]})).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_full_queue_answers_429_and_recovers() {
    // Room for 4 texts; 16 callers with 4 long texts each arrive at once.
    let server = Server::start(&["--queue-capacity", "4", "--max-inputs", "4"]).await;
    let long = "token ".repeat(300);
    let body = json!({"inputs": [long, long, long, long]});
    let calls = (0..16).map(|_| server.post("/embed", &body));
    let answers = futures::future::join_all(calls).await;
    let ok = answers.iter().filter(|(s, _)| *s == 200).count();
    let refused: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 429)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(
        ok + refused.len(),
        answers.len(),
        "only 200 or 429: {answers:?}"
    );
    assert!(
        ok >= 1 && !refused.is_empty(),
        "{ok} ok, {} refused",
        refused.len()
    );
    assert_eq!(refused[0]["error"]["code"], "queue_full");
    let (status, _) = server
        .post("/embed", &json!({"inputs": ["after the storm"]}))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn openai_models_token_ids_and_large_requests() {
    // 10 inputs are embedded 3 at a time (--max-inputs) in one request,
    // through a queue with room for 4 texts.
    let server = Server::start(&[
        "--max-inputs",
        "3",
        "--max-openai-inputs",
        "10",
        "--queue-capacity",
        "4",
    ])
    .await;
    let (status, list) = server.get_json("/v1/models").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["object"], "list");
    assert_eq!(list["data"].as_array().expect("data").len(), 1);
    let model = &list["data"][0];
    assert_eq!(model["id"], "all-minilm-l6-v2");
    assert_eq!(model["object"], "model");
    assert_eq!(model["owned_by"], "trawl");
    assert_eq!(model["dimensions"], 384);
    assert!(model["created"].as_u64().expect("created") > 0);
    for id in [
        "all-minilm-l6-v2",
        "all-MiniLM-L6-v2",
        "sentence-transformers%2Fall-MiniLM-L6-v2",
    ] {
        let (status, one) = server.get_json(&format!("/v1/models/{id}")).await;
        assert_eq!(status, 200, "{id}: {one}");
        assert_eq!(&one, model);
    }
    let (status, answer) = server.get_json("/v1/models/gpt-4o").await;
    let message = assert_error(status, &answer, 404, "model_not_found");
    assert!(message.contains("gpt-4o"), "{message}");

    // Texts in one request, in order, equal to each embedded alone.
    let texts: Vec<String> = (0..10)
        .map(|i| format!("sentence number {i} about cats"))
        .collect();
    let body = json!({"input": texts, "model": "sentence-transformers/all-MiniLM-L6-v2"});
    let (status, many) = server.post("/v1/embeddings", &body).await;
    assert_eq!(status, 200, "{many}");
    let data = many["data"].as_array().expect("data");
    assert_eq!(data.len(), 10);
    for (i, text) in texts.iter().enumerate() {
        assert_eq!(data[i]["index"], i);
        let (status, one) = server.post("/v1/embeddings", &json!({"input": text})).await;
        assert_eq!(status, 200, "{one}");
        let (a, b) = (
            floats(&data[i]["embedding"]),
            floats(&one["data"][0]["embedding"]),
        );
        assert!(
            a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-5),
            "input {i} differs when embedded in a batch"
        );
    }

    // Token ids of the model's own tokenizer give the text's embedding:
    // "hello world" is [CLS] hello world [SEP] in all-MiniLM-L6-v2's vocabulary.
    let (status, text) = server
        .post("/v1/embeddings", &json!({"input": "hello world"}))
        .await;
    assert_eq!(status, 200, "{text}");
    let (status, ids) = server
        .post(
            "/v1/embeddings",
            &json!({"input": [[101, 7592, 2088, 102], [101, 7592, 102]]}),
        )
        .await;
    assert_eq!(status, 200, "{ids}");
    assert_eq!(ids["usage"]["prompt_tokens"], 7);
    let (a, b) = (
        floats(&text["data"][0]["embedding"]),
        floats(&ids["data"][0]["embedding"]),
    );
    assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-5));
    let c = floats(&ids["data"][1]["embedding"]);
    assert!(a.iter().zip(&c).any(|(x, y)| (x - y).abs() > 1e-3));
    let (status, one) = server
        .post("/v1/embeddings", &json!({"input": [101, 7592, 2088, 102]}))
        .await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(floats(&one["data"][0]["embedding"]), b);

    // Ten token-id inputs go through the same small queue.
    let ids: Vec<Vec<u32>> = (0..10).map(|i| vec![101, 7592 + i, 102]).collect();
    let (status, many) = server.post("/v1/embeddings", &json!({"input": ids})).await;
    assert_eq!(status, 200, "{many}");
    assert_eq!(many["data"].as_array().expect("data").len(), 10);
}
