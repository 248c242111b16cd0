//! Finding 7: storage had no byte bound. One agent token at the default rate limit
//! (`RATE_LIMIT_PER_MINUTE`, 1,000 a minute) creates tasks of 40 KB, each with an
//! `Idempotency-Key` of its own: every answer is kept a day, every change in the change log;
//! the data folder's growth says how many GB an hour one token can add.

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use super::frame::under_attack;
use super::kit::{self, Arena, BIG_DESCRIPTION_CHARS};
use super::{Row, Sizes};
use crate::{Report, Res, http};

pub const NAME: &str = "storage";
const FINDING: &str = "7. storage without a byte bound";

/// The default rate limit, and the attacker's pace within it.
const RATE_PER_MINUTE: u32 = 1_000;
const EVERY: Duration = Duration::from_millis(60);

pub async fn run(sizes: &Sizes, bin: &Path, tmp: &Path, report: &mut Report) -> Res<()> {
    eprintln!(" {FINDING}: one token at {RATE_PER_MINUTE} requests a minute");
    let arena = Arena::open(
        bin,
        tmp,
        NAME,
        &[("RATE_LIMIT_PER_MINUTE", RATE_PER_MINUTE.to_string())],
    )
    .await?;
    let base = arena.server.base.clone();
    let attacker = kit::agent(&base, &arena.operator, "agent-attacker").await?;
    let what = format!(
        "one token creating tasks of 40 KB with idempotency keys at the default rate ({RATE_PER_MINUTE}/min)"
    );
    let time = sizes.storage_time;
    let db = arena.db.clone();
    // The well-behaved client keeps within the same default limit: a write every 200 ms.
    let target = arena.target_paced(1, Duration::from_millis(200));
    let mut m = under_attack(&target, &what, time, sizes.settle, move |stop| async move {
        let Ok(c) = http::client() else {
            return "no client".into();
        };
        let description = kit::big_text(BIG_DESCRIPTION_CHARS);
        let started = Instant::now();
        let before = super::frame::data_bytes(&db);
        let (mut created, mut limited, mut failed) = (0usize, 0usize, 0usize);
        let mut n = 0;
        while !stop.now() {
            let t = Instant::now();
            let answer = c
                .post(format!("{base}/api/tasks"))
                .bearer_auth(&attacker)
                .header("idempotency-key", format!("attack-{n}"))
                .json(&json!({"title": format!("Kept {n}"), "description": description}))
                .send()
                .await;
            match answer.map(|r| r.status()) {
                Ok(StatusCode::CREATED) => created += 1,
                Ok(StatusCode::TOO_MANY_REQUESTS) => limited += 1,
                _ => failed += 1,
            }
            n += 1;
            stop.pause(EVERY.saturating_sub(t.elapsed())).await;
        }
        let secs = started.elapsed().as_secs_f64();
        let grown = super::frame::data_bytes(&db).saturating_sub(before) as f64;
        let per_write = grown / created.max(1) as f64;
        format!(
            "{created} created in {secs:.0} s ({limited} refused by the rate limit, {failed} failed): \
             {:.0} KB of data each, {:.1} GB an hour at {RATE_PER_MINUTE} a minute",
            per_write / 1e3,
            per_write * f64::from(RATE_PER_MINUTE) * 60.0 / 1e9
        )
    })
    .await?;
    let row = Row::measured(report, FINDING, &what, &mut m, None);
    report.attacks.push(row);
    arena.close().await
}
