//! `trawl import`: the real binary importing real files (JSON Lines, CSV,
//! Parquet) into a real server, a refused record, and a resume after the
//! importer is killed with SIGKILL.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Server, TempDir};

/// Runs `trawl import FILE --url <server> ARGS...` in `dir`.
fn import(server: &Server, dir: &Path, file: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trawl"))
        .arg("import")
        .arg(file)
        .args(["--url", &server.url])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run trawl import")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn point(server: &Server, collection: &str, id: &str) -> Value {
    let (status, body) = server
        .get_json(&format!("/collections/{collection}/points/{id}"))
        .await;
    assert_eq!(status, 200, "{id}: {body}");
    body
}

async fn count(server: &Server, collection: &str) -> u64 {
    let (status, body) = server
        .post(
            &format!("/collections/{collection}/points/count"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["count"].as_u64().expect("count")
}

const DOCS: [(&str, &str, &str); 4] = [
    (
        "kinase",
        "Protein kinases",
        "Kinases phosphorylate proteins on serine.",
    ),
    (
        "orbit",
        "Orbits",
        "A satellite stays in orbit around the earth.",
    ),
    ("bread", "", "Knead the bread dough before it rises."),
    (
        "guitar",
        "Music",
        "She tuned the guitar before the concert.",
    ),
];

#[tokio::test]
async fn json_lines_csv_and_parquet_become_points() {
    let server = Server::start(&[]).await;
    let dir = TempDir::new("import");

    // JSON Lines, BEIR-shaped: `_id` ids, `title` + `text` embedded, the
    // rest as payload; `--create` makes a collection with a full-text index.
    let jsonl = dir.0.join("docs.jsonl");
    let lines: Vec<String> = DOCS
        .iter()
        .enumerate()
        .map(|(i, (id, title, body))| {
            json!({"_id": id, "title": title, "text": body, "metadata": {"n": i}}).to_string()
        })
        .collect();
    std::fs::write(&jsonl, format!("{}\n\n", lines.join("\n"))).expect("write");
    let out = import(&server, &dir.0, &jsonl, &["-c", "docs", "--create"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = text(&out.stdout);
    assert!(
        summary.contains("4 records read, 4 points written"),
        "{summary}"
    );
    assert_eq!(count(&server, "docs").await, 4);
    let kinase = point(&server, "docs", "kinase").await;
    assert_eq!(kinase["payload"]["metadata"], json!({"n": 0}));
    assert_eq!(
        kinase["payload"]["text"],
        "Protein kinases Kinases phosphorylate proteins on serine."
    );
    // The empty title leaves no stray space.
    let bread = point(&server, "docs", "bread").await;
    assert_eq!(
        bread["payload"]["text"],
        "Knead the bread dough before it rises."
    );
    let (status, hits) = server
        .post(
            "/collections/docs/query",
            &json!({"text": "satellite orbit", "mode": "hybrid", "limit": 1}),
        )
        .await;
    assert_eq!(status, 200, "{hits}");
    assert_eq!(hits["hits"][0]["id"], "orbit");
    // Finished imports leave no progress file behind.
    assert!(!dir.0.join(".trawl-import").exists());

    // CSV with a vector column (JSON arrays), integer ids, typed cells.
    let (status, body) = server
        .put(
            "/collections/vecs",
            &json!({"vector": {"dims": 3, "metric": "cosine"}}),
        )
        .await;
    assert!(status == 200 || status == 201, "{body}");
    let csv = dir.0.join("vecs.csv");
    std::fs::write(
        &csv,
        "id,embedding,zip,year,label\n\
         1,\"[1, 0, 0]\",02134,2001,\"a, quoted\"\n\
         2,\"[0, 1, 0]\",10001,2002,\n\
         3,\"[0, 0, 1]\",94105,2003,c\n",
    )
    .expect("write");
    let out = import(
        &server,
        &dir.0,
        &csv,
        &["-c", "vecs", "--vector", "embedding", "--batch", "2"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(count(&server, "vecs").await, 3);
    let one = point(&server, "vecs", "1").await;
    assert_eq!(
        one["payload"],
        json!({"zip": "02134", "year": 2001, "label": "a, quoted"})
    );
    let two = point(&server, "vecs", "2").await;
    assert_eq!(two["payload"], json!({"zip": 10001, "year": 2002}));
    let (status, hits) = server
        .post(
            "/collections/vecs/search",
            &json!({"vector": [0.0, 0.1, 1.0], "limit": 1}),
        )
        .await;
    assert_eq!(status, 200, "{hits}");
    assert_eq!(hits["hits"][0]["id"], 3);

    // Text from another column into a new collection whose full-text field
    // is `text`: the file's own `text` column does not collide with it.
    let notes = dir.0.join("notes.jsonl");
    std::fs::write(
        &notes,
        "{\"id\": 1, \"summary\": \"Tides follow the moon.\", \"text\": \"A long article.\", \"flag\": true}\n",
    )
    .expect("write");
    let out = import(
        &server,
        &dir.0,
        &notes,
        &["-c", "notes", "--create", "--text", "summary"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let one = point(&server, "notes", "1").await;
    assert_eq!(
        one["payload"],
        json!({"text": "Tides follow the moon.", "flag": true})
    );

    // Parquet (snappy pages), into the text collection.
    let parquet = dir.0.join("more.parquet");
    write_parquet(
        &parquet,
        &[101, 102],
        &[
            "Rivers carve canyons over millions of years.",
            "Bees pollinate flowers.",
        ],
        &["geology", "biology"],
    );
    let out = import(&server, &dir.0, &parquet, &["-c", "docs"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(count(&server, "docs").await, 6);
    let bees = point(&server, "docs", "102").await;
    assert_eq!(bees["payload"]["topic"], "biology");
    assert_eq!(bees["payload"]["text"], "Bees pollinate flowers.");
}

#[tokio::test]
async fn a_refused_record_stops_the_import_naming_it() {
    let server = Server::start(&[]).await;
    let dir = TempDir::new("import-bad");
    let (status, body) = server
        .put(
            "/collections/vecs",
            &json!({"vector": {"dims": 2, "metric": "cosine"}}),
        )
        .await;
    assert!(status == 200 || status == 201, "{body}");
    let file = dir.0.join("points.jsonl");
    let mut lines: Vec<String> = (0..10)
        .map(|i| json!({"id": i, "v": [1.0, i as f32]}).to_string())
        .collect();
    lines[7] = json!({"id": 7, "v": [1.0, 2.0, 3.0]}).to_string();
    std::fs::write(&file, lines.join("\n")).expect("write");
    let out = import(
        &server,
        &dir.0,
        &file,
        &[
            "-c",
            "vecs",
            "--vector",
            "v",
            "--batch",
            "4",
            "--parallel",
            "1",
        ],
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("record 8"), "{stderr}");
    assert!(stderr.contains("dimension"), "{stderr}");
    assert!(stderr.contains("after 4 records"), "{stderr}");
    // The first batch was written; nothing of the refused one.
    assert_eq!(count(&server, "vecs").await, 4);

    // A point is embedded from its text or carries its vector, not both.
    let out = import(
        &server,
        &dir.0,
        &file,
        &["-c", "vecs", "--vector", "v", "--text", "id"],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--text or --vector"),
        "{}",
        text(&out.stderr)
    );

    // A missing collection is a clear error, before anything is read.
    let out = import(&server, &dir.0, &file, &["-c", "nope", "--vector", "v"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--create"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn a_killed_import_resumes_where_the_server_acknowledged() {
    let server = Server::start(&[]).await;
    let dir = Arc::new(TempDir::new("import-resume"));
    let file = dir.0.join("notes.jsonl");
    let total = 160;
    let lines: Vec<String> = (0..total)
        .map(|i| {
            json!({"id": i, "text": format!("note {i} about the weather in town {}", i % 7)})
                .to_string()
        })
        .collect();
    std::fs::write(&file, lines.join("\n")).expect("write");

    let mut child = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .arg("import")
        .arg(&file)
        .args(["--url", &server.url, "-c", "notes", "--create"])
        .args(["--batch", "8", "--parallel", "1"])
        .current_dir(&dir.0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn trawl import");
    let progress = dir.0.join(".trawl-import/notes--notes.jsonl.json");
    let deadline = Instant::now() + Duration::from_secs(120);
    let done_before = loop {
        if let Ok(bytes) = std::fs::read(&progress)
            && let Ok(state) = serde_json::from_slice::<Value>(&bytes)
            && state["records_done"].as_u64().unwrap_or(0) >= 24
        {
            child.kill().expect("SIGKILL");
            let _ = child.wait();
            break state["records_done"].as_u64().unwrap_or(0);
        }
        assert!(
            child.try_wait().expect("wait").is_none(),
            "the import finished before it could be killed"
        );
        assert!(Instant::now() < deadline, "no progress in 120 s");
        std::thread::sleep(Duration::from_millis(20));
    };
    // The progress file may lag the server by a batch, never lead it.
    let (_, info) = server.get_json("/collections/notes").await;
    let written = info["points"].as_u64().expect("points");
    assert!(written >= done_before, "{written} < {done_before}");
    assert!(written < total, "killed after everything was written");

    let out = import(&server, &dir.0, &file, &["-c", "notes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("resuming after {done_before} records")),
        "{stderr}"
    );
    let summary = text(&out.stdout);
    assert!(
        summary.contains(&format!("{} records read", total - done_before)),
        "{summary}"
    );
    assert_eq!(count(&server, "notes").await, total);
    assert!(!progress.exists());

    // A progress file of another import is refused, not misapplied.
    std::fs::create_dir_all(progress.parent().expect("dir")).expect("mkdir");
    std::fs::write(
        &progress,
        json!({"file": "/elsewhere.jsonl", "size": 1, "modified": 0, "collection": "notes",
               "mapping": {"id": "id", "text": ["text"], "vector": null, "payload": null},
               "records_done": 5, "points_written": 5, "skipped": 0})
        .to_string(),
    )
    .expect("write");
    let out = import(&server, &dir.0, &file, &["-c", "notes"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--restart"),
        "{}",
        text(&out.stderr)
    );
    let out = import(&server, &dir.0, &file, &["-c", "notes", "--restart"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(count(&server, "notes").await, total);
}

/// A Parquet file of (id, text, topic) rows with snappy-compressed pages.
fn write_parquet(path: &Path, ids: &[i64], texts: &[&str], topics: &[&str]) {
    use parquet::basic::Compression;
    use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;

    let schema = parse_message_type(
        "message doc { REQUIRED INT64 id; REQUIRED BYTE_ARRAY text (UTF8); REQUIRED BYTE_ARRAY topic (UTF8); }",
    )
    .expect("schema");
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let file = std::fs::File::create(path).expect("create");
    let mut writer =
        SerializedFileWriter::new(file, Arc::new(schema), Arc::new(props)).expect("writer");
    let mut group = writer.next_row_group().expect("row group");
    let mut column = group.next_column().expect("column").expect("id");
    column
        .typed::<Int64Type>()
        .write_batch(ids, None, None)
        .expect("ids");
    column.close().expect("close");
    for values in [texts, topics] {
        let bytes: Vec<ByteArray> = values.iter().map(|t| ByteArray::from(*t)).collect();
        let mut column = group.next_column().expect("column").expect("text");
        column
            .typed::<ByteArrayType>()
            .write_batch(&bytes, None, None)
            .expect("texts");
        column.close().expect("close");
    }
    group.close().expect("close group");
    writer.close().expect("close file");
}
