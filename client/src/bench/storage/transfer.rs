//! Step 4, continued: the snapshot off the machine and back. Downloads the
//! snapshot to a file and deletes it, restores the file into a second
//! collection, checks that one against the original (point count, top-10 of
//! every query) and deletes it, each while the resident set is sampled.

use anyhow::{Context, Result, ensure};
use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use serde::Serialize;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use super::{Bench, COLLECTION, MB, RSS_SAMPLE, search};
use crate::load::setup::call;

/// The snapshot's download and restore.
#[derive(Debug, Serialize)]
pub(super) struct Transfer {
    pub(super) archive_bytes: u64,
    pub(super) download_seconds: f64,
    pub(super) download_rss_peak_bytes: u64,
    pub(super) download_rise_percent: f64,
    pub(super) restore_seconds: f64,
    pub(super) restore_rss_peak_bytes: u64,
    pub(super) restore_rise_percent: f64,
    /// The restored collection's `ram_bytes`.
    pub(super) restored_ram_bytes: u64,
    /// RSS once the restore answered (the restored collection open).
    pub(super) restore_rss_after_bytes: u64,
    /// What the restored collection keeps (RSS after less before), against
    /// `collection_rss_bytes`.
    pub(super) restored_kept_percent: f64,
    /// The peak above the RSS after (memory the restore held only while it
    /// ran), against `collection_rss_bytes`.
    pub(super) restore_transient_percent: f64,
    /// The original collection's share of RSS (indexed minus idle).
    pub(super) collection_rss_bytes: u64,
    pub(super) restored_points: u64,
    /// Queries whose top-10 ids (in order) are the same on both collections.
    pub(super) same_top10_percent: f64,
    pub(super) answer: Value,
}

impl Bench {
    /// Downloads the snapshot `taken` names, restores it beside the
    /// collection and compares the two on `bodies` (search request bodies);
    /// `collection_rss` is the collection's share of the server's RSS.
    pub(super) async fn transfer(
        &self,
        out: &std::path::Path,
        taken: &Value,
        bodies: &[String],
        collection_rss: u64,
    ) -> Result<Transfer> {
        let name = taken["name"]
            .as_str()
            .context("the snapshot's answer has no name")?;
        let file = out.join("snapshot.tar");
        let rise =
            |before: u64, peak: u64| (peak.max(before) - before) as f64 / before as f64 * 100.0;

        let url = self.url(&format!("/snapshots/{name}"));
        let before = self.server.status_bytes("VmRSS")?;
        let sampler = self.server.sample_rss(RSS_SAMPLE);
        let started = std::time::Instant::now();
        let mut response = self.client.get(&url).send().await?;
        ensure!(response.status() == 200, "GET {url}: {}", response.status());
        let mut sink = tokio::fs::File::create(&file)
            .await
            .with_context(|| format!("cannot create {}", file.display()))?;
        let mut archive_bytes = 0u64;
        while let Some(chunk) = response.chunk().await? {
            archive_bytes += chunk.len() as u64;
            sink.write_all(&chunk).await?;
        }
        sink.flush().await?;
        drop(sink);
        let download_seconds = started.elapsed().as_secs_f64();
        let (download_peak, _) = sampler.finish();
        let download_rise = rise(before, download_peak);
        let (status, answer) = call(&self.client, Method::DELETE, &url, None).await?;
        ensure!(status == 200, "DELETE {url}: {status}: {answer}");
        eprintln!(
            "storage: downloaded {:.0} MB in {download_seconds:.2} s, peak RSS +{download_rise:.1} %",
            archive_bytes as f64 / MB
        );

        let restored = format!("{}/collections/{COLLECTION}_restored", self.server.url());
        let url = format!("{restored}/snapshots/restore");
        let before = self.server.status_bytes("VmRSS")?;
        let sampler = self.server.sample_rss(RSS_SAMPLE);
        let started = std::time::Instant::now();
        let body = tokio::fs::File::open(&file).await?;
        let response = self
            .client
            .put(&url)
            .header(CONTENT_TYPE, "application/x-tar")
            .body(reqwest::Body::from(body))
            .send()
            .await;
        let restore_seconds = started.elapsed().as_secs_f64();
        let (restore_peak, _) = sampler.finish();
        let response = response?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        ensure!(status == 200, "PUT {url}: {status}: {answer}");
        let restore_rise = rise(before, restore_peak);
        let restored_points = answer["points"].as_u64().unwrap_or(0);
        ensure!(
            restored_points == self.points,
            "the restored collection holds {restored_points} points, not {}",
            self.points
        );
        let after = self.server.status_bytes("VmRSS")?;
        let (status, info) = call(&self.client, Method::GET, &restored, None).await?;
        ensure!(status == 200, "GET {restored}: {status}: {info}");
        let restored_ram_bytes = info["ram_bytes"].as_u64().unwrap_or(0);
        let share = |bytes: u64| bytes as f64 / collection_rss.max(1) as f64 * 100.0;
        let restored_kept_percent = share(after.saturating_sub(before));
        let restore_transient_percent = share(restore_peak.max(after) - after);
        eprintln!(
            "storage: restored in {restore_seconds:.2} s, peak RSS +{restore_rise:.1} %; the restored collection keeps {:.0} MB ({restored_kept_percent:.0} % of the original's {:.0} MB; its ram_bytes {:.0} MB), the restore held {:.1} MB more while it ran ({restore_transient_percent:.1} %)",
            after.saturating_sub(before) as f64 / MB,
            collection_rss as f64 / MB,
            restored_ram_bytes as f64 / MB,
            (restore_peak.max(after) - after) as f64 / MB
        );
        let (original, copy) = (self.url("/search"), format!("{restored}/search"));
        let mut same = 0usize;
        for body in bodies {
            if search(&self.client, &original, body).await?
                == search(&self.client, &copy, body).await?
            {
                same += 1;
            }
        }
        let same_top10_percent = same as f64 / bodies.len().max(1) as f64 * 100.0;
        eprintln!(
            "storage: the restored collection answers {same} of {} queries with the same top-10",
            bodies.len()
        );
        let (status, answer) = call(&self.client, Method::DELETE, &restored, None).await?;
        ensure!(status == 200, "DELETE {restored}: {status}: {answer}");
        std::fs::remove_file(&file).with_context(|| format!("cannot remove {}", file.display()))?;
        Ok(Transfer {
            archive_bytes,
            download_seconds,
            download_rss_peak_bytes: download_peak,
            download_rise_percent: download_rise,
            restore_seconds,
            restore_rss_peak_bytes: restore_peak,
            restore_rise_percent: restore_rise,
            restored_ram_bytes,
            restore_rss_after_bytes: after,
            restored_kept_percent,
            restore_transient_percent,
            collection_rss_bytes: collection_rss,
            restored_points,
            same_top10_percent,
            answer,
        })
    }
}
