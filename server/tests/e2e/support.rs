//! Starting and stopping a real server for a test.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A running `trawl serve`, killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    log: Arc<Mutex<Vec<String>>>,
    /// The data directory (kept when the server is killed, for a restart).
    pub data: Arc<TempDir>,
    /// The HTTP client to use.
    pub http: reqwest::Client,
}

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh, empty directory under the system's temp dir.
    pub fn new(tag: &str) -> Self {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("trawl-e2e-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Server {
    /// Starts a server with the default model and extra flags; waits until `/readyz` is 200.
    pub async fn start(extra: &[&str]) -> Self {
        Self::start_on(Arc::new(TempDir::new("data")), extra).await
    }

    /// Starts a server on an existing data directory.
    pub async fn start_on(data: Arc<TempDir>, extra: &[&str]) -> Self {
        let model_dir = std::env::var_os("TRAWL_MODEL_DIR")
            .map_or_else(|| root().join("models/all-minilm-l6-v2"), PathBuf::from);
        let ort_lib = std::env::var_os("TRAWL_ORT_LIB").map_or_else(
            || root().join("vendor/onnxruntime/libonnxruntime.so.1.31.1"),
            PathBuf::from,
        );
        let mut child = Command::new(env!("CARGO_BIN_EXE_trawl"))
            .arg("serve")
            .args(["--addr", "127.0.0.1:0", "--log-json"])
            .arg("--data-dir")
            .arg(&data.0)
            .arg("--model-dir")
            .arg(&model_dir)
            .arg("--ort-lib")
            .arg(&ort_lib)
            .args(["--encoder-threads", "1"])
            .args(extra)
            .env("TRAWL_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn trawl");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (addr_tx, addr_rx) = mpsc::channel::<SocketAddr>();
        {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Ok(v) = serde_json::from_str::<Value>(&line)
                        && v["fields"]["message"] == "listening"
                        && let Some(addr) =
                            v["fields"]["addr"].as_str().and_then(|a| a.parse().ok())
                    {
                        let _ = addr_tx.send(addr);
                    }
                    log.lock().expect("log").push(line);
                }
            });
        }
        let addr = match addr_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "trawl did not start listening:\n{}",
                    log.lock().expect("log").join("\n")
                );
            }
        };
        let server = Self {
            child,
            url: format!("http://{addr}"),
            log,
            data,
            http: reqwest::Client::new(),
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(r) = self.http.get(self.url("/readyz")).send().await
                && r.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("trawl never became ready:\n{}", self.log());
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }

    /// The server's address, for raw TCP.
    pub fn addr(&self) -> SocketAddr {
        self.url
            .trim_start_matches("http://")
            .parse()
            .expect("address")
    }

    /// Absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// POSTs a JSON value; returns status and parsed body.
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("POST");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// POSTs raw bytes as JSON; returns status and parsed body.
    pub async fn post_raw(&self, path: &str, body: Vec<u8>) -> (u16, Value) {
        let response = self
            .http
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("POST");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// GETs a path; returns status and body text.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self.http.get(self.url(path)).send().await.expect("GET");
        (
            response.status().as_u16(),
            response.text().await.expect("body"),
        )
    }

    /// PUTs a JSON value; returns status and parsed body.
    pub async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .put(self.url(path))
            .json(body)
            .send()
            .await
            .expect("PUT");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// DELETEs a path and parses the JSON answer.
    pub async fn delete_path(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .delete(self.url(path))
            .send()
            .await
            .expect("DELETE");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// GETs a path and parses the JSON answer.
    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let (status, body) = self.get(path).await;
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    /// Sends SIGKILL and waits for the process to die.
    /// Takes a snapshot of collection `from`, downloads it and restores it
    /// as collection `to` (which must not exist).
    pub async fn copy_by_snapshot(&self, from: &str, to: &str) {
        let (status, taken) = self
            .post(
                &format!("/collections/{from}/snapshots"),
                &serde_json::json!({}),
            )
            .await;
        assert_eq!(status, 200, "{taken}");
        let name = taken["name"].as_str().expect("name");
        let archive = self
            .http
            .get(self.url(&format!("/collections/{from}/snapshots/{name}")))
            .send()
            .await
            .expect("GET the snapshot")
            .bytes()
            .await
            .expect("the snapshot's bytes");
        let response = self
            .http
            .put(self.url(&format!("/collections/{to}/snapshots/restore")))
            .header("content-type", "application/x-tar")
            .body(archive)
            .send()
            .await
            .expect("PUT the restore");
        assert_eq!(response.status(), 200);
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Asserts the API's error shape and code, and returns the message.
pub fn assert_error(status: u16, body: &Value, want_status: u16, want_code: &str) -> String {
    assert_eq!(status, want_status, "body: {body}");
    assert_eq!(body["error"]["code"], want_code, "body: {body}");
    let message = body["error"]["message"]
        .as_str()
        .expect("message")
        .to_string();
    assert!(!message.is_empty());
    message
}
