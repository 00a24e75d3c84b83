//! A `trawl serve` process started for a benchmark and killed when dropped;
//! it can be restarted on its data directory, and its memory and writes are
//! read from `/proc`.

use std::fs::{File, OpenOptions};
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::bench::report::{proc_io_bytes, proc_status_bytes};

/// How often readiness is polled while the model loads.
const READY_POLL: Duration = Duration::from_millis(100);
/// How often a stopping process is checked for having exited.
const EXIT_POLL: Duration = Duration::from_millis(10);

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

/// How [`ServerProcess::restart`] stops the running process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGTERM, then wait for the process to finish its shutdown.
    Term,
    /// SIGKILL: no shutdown at all, as after a crash.
    Kill,
}

/// A running server on a free loopback port, with its own temporary data directory.
///
/// It can be stopped and started again on the same data directory
/// ([`restart`](Self::restart)). Dropping it kills the process and removes the
/// data directory.
pub struct ServerProcess {
    child: Child,
    url: String,
    binary: PathBuf,
    args: Vec<String>,
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
        let (child, url) = start(binary, args, port, &data_dir, out)?;
        Ok(Self {
            child,
            url,
            binary: binary.to_path_buf(),
            args: args.to_vec(),
            data_dir,
            log: log.to_path_buf(),
        })
    }

    /// Stops the process as `stop` says and waits for it to exit (SIGKILL
    /// after `timeout`), then starts the same binary with the same flags on
    /// the same data directory and a new port, appending to the same log.
    /// Returns how long the old process took to exit.
    pub async fn restart(&mut self, stop: Stop, timeout: Duration) -> Result<Duration> {
        let started = Instant::now();
        match stop {
            Stop::Kill => self.child.kill().context("cannot kill the server")?,
            Stop::Term => {
                // std has no SIGTERM, and this workspace allows no `unsafe`: ask `kill(1)`.
                let status = Command::new("kill")
                    .args(["-TERM", &self.pid().to_string()])
                    .status()
                    .context("cannot run `kill -TERM`")?;
                if !status.success() {
                    bail!("`kill -TERM {}` failed ({status})", self.pid());
                }
                while self.child.try_wait()?.is_none() {
                    if started.elapsed() > timeout {
                        eprintln!("the server did not exit {timeout:?} after SIGTERM; killing it");
                        self.child.kill()?;
                        break;
                    }
                    tokio::time::sleep(EXIT_POLL).await;
                }
            }
        }
        self.child.wait()?;
        let stopped = started.elapsed();
        let out = OpenOptions::new()
            .append(true)
            .open(&self.log)
            .with_context(|| format!("cannot open {}", self.log.display()))?;
        let (child, url) = start(&self.binary, &self.args, free_port()?, &self.data_dir, out)?;
        self.child = child;
        self.url = url;
        Ok(stopped)
    }

    /// The process id of the running server.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// A memory field of the server's `/proc/<pid>/status` in bytes:
    /// `VmRSS` (resident set), `VmHWM` (its peak so far), `RssAnon`, `RssFile`.
    pub fn status_bytes(&self, field: &str) -> Result<u64> {
        proc_status_bytes(&self.pid().to_string(), field)
            .with_context(|| format!("no {field} in /proc/{}/status", self.pid()))
    }

    /// Starts sampling the server's `VmRSS` every `every` on a thread of its own.
    pub fn sample_rss(&self, every: Duration) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, pid) = (Arc::clone(&stop), self.pid().to_string());
        let thread = std::thread::spawn(move || {
            let (mut peak, mut samples) = (0, 0);
            loop {
                if let Some(rss) = proc_status_bytes(&pid, "VmRSS") {
                    peak = peak.max(rss);
                    samples += 1;
                }
                if flag.load(Ordering::Relaxed) {
                    return (peak, samples);
                }
                std::thread::sleep(every);
            }
        });
        RssSampler { stop, thread }
    }

    /// Bytes of every file under the data directory (links not followed).
    pub fn data_dir_bytes(&self) -> Result<u64> {
        dir_bytes(&self.data_dir)
    }

    /// Bytes the server has caused to be written to storage (`write_bytes` of
    /// `/proc/<pid>/io`).
    pub fn written_bytes(&self) -> Result<u64> {
        proc_io_bytes(&self.pid().to_string(), "write_bytes")
            .with_context(|| format!("no write_bytes in /proc/{}/io", self.pid()))
    }

    /// The server's base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Polls `GET /readyz` until it answers 200, the process exits, or `timeout` passes.
    pub async fn wait_ready(&mut self, client: &reqwest::Client, timeout: Duration) -> Result<()> {
        let readyz = format!("{}/readyz", self.url);
        self.wait_for("ready", timeout, READY_POLL, || client.get(&readyz))
            .await
            .map(drop)
    }

    /// Sends `request()` every `poll` until it answers with a 2xx status, the
    /// process exits, or `timeout` passes; returns the time until it answered.
    /// `what` names the awaited state in errors ("ready").
    pub async fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        poll: Duration,
        request: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Duration> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "the server exited ({status}) before it was {what}; its log {}:\n{}",
                    self.log.display(),
                    self.log_tail()
                );
            }
            if request()
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(started.elapsed());
            }
            if started.elapsed() > timeout {
                bail!(
                    "the server was not {what} after {timeout:?}; its log {}:\n{}",
                    self.log.display(),
                    self.log_tail()
                );
            }
            tokio::time::sleep(poll).await;
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

/// Samples a process's resident set on a thread of its own, from
/// [`ServerProcess::sample_rss`] until [`finish`](Self::finish).
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<(u64, usize)>,
}

impl RssSampler {
    /// Stops sampling; returns the largest `VmRSS` seen, in bytes, and the
    /// number of samples.
    pub fn finish(self) -> (u64, usize) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or((0, 0))
    }
}

/// Bytes of every file under `dir` (links not followed).
fn dir_bytes(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_bytes(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// Starts `binary serve` on loopback `port` and `data_dir`, logging to
/// `out`; returns the process and its base URL.
fn start(
    binary: &Path,
    args: &[String],
    port: u16,
    data_dir: &Path,
    out: File,
) -> Result<(Child, String)> {
    let err = out.try_clone()?;
    let child = Command::new(binary)
        .arg("serve")
        .arg("--addr")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    Ok((child, format!("http://127.0.0.1:{port}")))
}

/// A loopback port that was free a moment ago (the OS picks it).
fn free_port() -> Result<u16> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("cannot find a free port")?;
    Ok(listener.local_addr()?.port())
}
