//! A `trawl serve` process started for a benchmark and killed when dropped.

use std::fs::File;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// How often readiness is polled while the model loads.
const READY_POLL: Duration = Duration::from_millis(100);

/// The `trawl` binary next to the running executable (`target/<profile>/`).
pub fn sibling_binary() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot locate the running executable")?;
    let dir = exe
        .parent()
        .context("the running executable has no parent directory")?;
    Ok(dir.join(format!("trawl{}", std::env::consts::EXE_SUFFIX)))
}

/// Fails unless the server at `base_url` answers `GET /readyz` with 200.
pub async fn check_ready(client: &reqwest::Client, base_url: &str) -> Result<()> {
    let readyz = format!("{base_url}/readyz");
    let response = client
        .get(&readyz)
        .send()
        .await
        .with_context(|| format!("GET {readyz}"))?;
    if !response.status().is_success() {
        bail!(
            "GET {readyz}: {} (the server is not ready)",
            response.status()
        );
    }
    Ok(())
}

/// A running server on a free loopback port, with its own temporary data directory.
///
/// Dropping it kills the process and removes the data directory.
pub struct ServerProcess {
    child: Child,
    url: String,
    data_dir: PathBuf,
    log: PathBuf,
}

impl ServerProcess {
    /// Starts `binary serve --addr 127.0.0.1:PORT --data-dir TMP` followed by
    /// `args`, with stdout and stderr going to `log`.
    pub fn spawn(binary: &Path, args: &[String], log: &Path) -> Result<Self> {
        if !binary.is_file() {
            bail!(
                "no server binary at {} (build it with `cargo build --release -p trawl-server`, or pass --trawl-bin)",
                binary.display()
            );
        }
        let port = free_port()?;
        let data_dir =
            std::env::temp_dir().join(format!("trawl-bench-{}-{port}", std::process::id()));
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let out = File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
        let err = out.try_clone()?;
        let child = Command::new(binary)
            .arg("serve")
            .arg("--addr")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(&data_dir)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        Ok(Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            data_dir,
            log: log.to_path_buf(),
        })
    }

    /// The server's base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Polls `GET /readyz` until it answers 200, the process exits, or `timeout` passes.
    pub async fn wait_ready(&mut self, client: &reqwest::Client, timeout: Duration) -> Result<()> {
        let started = Instant::now();
        let readyz = format!("{}/readyz", self.url);
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "the server exited ({status}) before it was ready; its log {}:\n{}",
                    self.log.display(),
                    self.log_tail()
                );
            }
            let ready = client
                .get(&readyz)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return Ok(());
            }
            if started.elapsed() > timeout {
                bail!(
                    "the server was not ready after {timeout:?}; its log {}:\n{}",
                    self.log.display(),
                    self.log_tail()
                );
            }
            tokio::time::sleep(READY_POLL).await;
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // The process may already have exited; either way, reap it.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// A loopback port that was free a moment ago (the OS picks it).
fn free_port() -> Result<u16> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("cannot find a free port")?;
    Ok(listener.local_addr()?.port())
}
