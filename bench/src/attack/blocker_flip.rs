//! Finding 1: a one-field `PATCH` rewrites every dependent. When a task enters or leaves
//! `done`, every task waiting for it was re-saved in the same write (a new version, a whole
//! `task.updated` in the change log). Here 2,000 tasks of 40 KB wait for one blocker; it is
//! flipped between `done` and `todo` one request at a time on a quiet server (each request's
//! time bounds the writer's, beside the server's CPU and the disk per flip), then by four
//! loops of one agent token at 1–2 requests a second while the well-behaved client writes;
//! last, the blocker is deleted, which did the same.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use super::frame::{OneAtATime, one_at_a_time, under_attack};
use super::kit::{self, Arena, BIG_DESCRIPTION_CHARS};
use super::{Row, Sizes};
use crate::stats::Samples;
use crate::{Report, Res, http, ms};

pub const NAME: &str = "blocker-flip";
const FINDING: &str = "1. a blocker's flip rewrites its dependents";

/// The targets for one flip.
const WRITER_TARGET_MS: f64 = 5.0;
const DISK_TARGET_KB: f64 = 100.0;
/// Flipping loops of the attack, and the pause each takes between flips.
const LOOPS: usize = 4;
const PAUSE: Duration = Duration::from_secs(2);

pub async fn run(sizes: &Sizes, bin: &Path, tmp: &Path, report: &mut Report) -> Res<()> {
    eprintln!(" {FINDING}: {} dependents of 40 KB", sizes.dependents);
    let arena = Arena::open(bin, tmp, NAME, &[]).await?;
    let base = arena.server.base.clone();
    let attacker = kit::agent(&base, &arena.operator, "agent-attacker").await?;
    let c = http::client()?;
    let blocker = kit::create(
        &c,
        &base,
        &attacker,
        &json!({"title": "The blocker", "status": "todo"}),
    )
    .await?;
    let description = kit::big_text(BIG_DESCRIPTION_CHARS);
    let waits_for = blocker.clone();
    let seeded = kit::seed(&base, &arena.operator, sizes.dependents, move |n| {
        json!({
            "title": format!("Dependent {n}"),
            "status": "todo",
            "description": description,
            "blockedBy": [waits_for],
        })
    })
    .await?;
    let dependents = format!(
        "{} dependents{}",
        seeded.ids.len(),
        seeded
            .refused
            .map(|why| format!(" (the server refused more: {why})"))
            .unwrap_or_default()
    );

    // One flip at a time on a quiet server.
    let flips = if sizes.quick { 4 } else { 6 };
    let statuses = ["done", "todo"];
    let flipped = one_at_a_time(&arena.server, &arena.db, flips, |i| {
        let (c, base, attacker, blocker) =
            (c.clone(), base.clone(), attacker.clone(), blocker.clone());
        async move {
            let status = statuses[i % 2];
            kit::patch(&c, &base, &attacker, &blocker, &json!({"status": status})).await
        }
    })
    .await?;
    let what = format!("one flip of the blocker (done ↔ todo), {dependents}, one at a time");
    let row = flip_row(flipped, &what, report);
    report.attacks.push(row);

    // Four loops of one agent flipping it, 1–2 requests a second.
    let what = format!("{LOOPS} loops of one token flipping the blocker, {dependents}");
    let (flip_base, flip_token, flip_task) = (base.clone(), attacker.clone(), blocker.clone());
    let mut m = under_attack(
        &arena.target(),
        &what,
        sizes.time,
        sizes.settle,
        move |stop| async move {
            let next = Arc::new(AtomicUsize::new(0));
            let mut loops = Vec::new();
            for _ in 0..LOOPS {
                let (next, stop) = (next.clone(), stop.clone());
                let (base, token, task) =
                    (flip_base.clone(), flip_token.clone(), flip_task.clone());
                loops.push(tokio::spawn(async move {
                    let Ok(c) = http::client() else {
                        return (Samples::default(), 1);
                    };
                    let (mut took, mut failed) = (Samples::default(), 0);
                    while !stop.now() {
                        let status = statuses[next.fetch_add(1, Ordering::Relaxed) % 2];
                        let t = Instant::now();
                        match kit::patch(&c, &base, &token, &task, &json!({"status": status})).await
                        {
                            Ok(()) => took.record(t.elapsed()),
                            Err(_) => failed += 1,
                        }
                        stop.pause(PAUSE).await;
                    }
                    (took, failed)
                }));
            }
            let (mut took, mut failed) = (Samples::default(), 0);
            for l in loops {
                if let Ok((t, f)) = l.await {
                    took.merge(t);
                    failed += f;
                }
            }
            format!(
                "{} flips ({failed} failed), each answered in p50 {} / max {} ms",
                took.len(),
                ms(took.percentile_ms(0.5)),
                ms(took.percentile_ms(1.0))
            )
        },
    )
    .await?;
    let row = super::Row::measured(report, FINDING, &what, &mut m, None);
    report.attacks.push(row);

    // Deleting the blocker.
    let deleted = one_at_a_time(&arena.server, &arena.db, 1, |_| {
        let (c, base, attacker, blocker) =
            (c.clone(), base.clone(), attacker.clone(), blocker.clone());
        async move {
            let r = c
                .delete(format!("{base}/api/tasks/{blocker}"))
                .bearer_auth(&attacker)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if r.status().is_success() {
                Ok(())
            } else {
                Err(format!("{}", r.status()))
            }
        }
    })
    .await?;
    let what = format!("deleting the blocker, {dependents}");
    let row = flip_row(deleted, &what, report);
    report.attacks.push(row);
    arena.close().await
}

/// The line of writes timed one at a time, against the targets for one flip.
fn flip_row(mut timed: OneAtATime, what: &str, report: &mut Report) -> Row {
    let p50 = timed.took.percentile_ms(0.5);
    Row::figure(FINDING, what, timed.summary())
        .with_target(
            report,
            &format!("writer time < {WRITER_TARGET_MS:.0} ms (the answer's time bounds it)"),
            p50 < WRITER_TARGET_MS && timed.failure.is_none(),
        )
        .with_target(
            report,
            &format!("disk < {DISK_TARGET_KB:.0} KB"),
            timed.grown_kb_each < DISK_TARGET_KB,
        )
}
