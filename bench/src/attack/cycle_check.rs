//! Finding 2: the cycle check walked the whole upstream graph on every `PATCH` that named
//! `blockedBy`, even unchanged. Here a lattice of 4,000 tasks (layers of 40, each task waiting
//! for 20 of the layer above, the most it may) is built, and the task at its bottom is sent its own
//! `blockedBy` again: one request at a time on a quiet server, then three a second from one
//! agent token while the well-behaved client writes.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::frame::{one_at_a_time, under_attack};
use super::kit::{self, Arena};
use super::{Row, Sizes};
use crate::stats::Samples;
use crate::{Report, Res, http, ms};

pub const NAME: &str = "cycle-check";
const FINDING: &str = "2. the cycle check walks the graph";

/// Tasks in a layer of the lattice, and how many of the layer above each waits for: as many
/// as a task may (`BLOCKERS_MAX_COUNT`), each walked from.
const WIDTH: usize = 40;
const FAN_IN: usize = mission_control_actions::limits::BLOCKERS_MAX_COUNT;
/// The attack's pace: one request every third of a second.
const EVERY: Duration = Duration::from_millis(333);

pub async fn run(sizes: &Sizes, bin: &Path, tmp: &Path, report: &mut Report) -> Res<()> {
    let layers = (sizes.lattice / WIDTH).max(2);
    eprintln!(" {FINDING}: a lattice of {layers} layers of {WIDTH}");
    let arena = Arena::open(bin, tmp, NAME, &[]).await?;
    let base = arena.server.base.clone();
    let attacker = kit::agent(&base, &arena.operator, "agent-attacker").await?;
    let mut above: Vec<String> = Vec::new();
    let mut tasks = 0;
    for layer in 0..layers {
        let parents = above.clone();
        let seeded = kit::seed(&base, &arena.operator, WIDTH, move |i| {
            let blocked_by: Vec<&String> = if parents.is_empty() {
                Vec::new()
            } else {
                (0..FAN_IN).map(|k| &parents[(i + k) % parents.len()]).collect()
            };
            json!({"title": format!("Lattice {layer}.{i}"), "status": "todo", "blockedBy": blocked_by})
        })
        .await?;
        if let Some(why) = seeded.refused {
            return Err(format!("building the lattice: {why}").into());
        }
        tasks += seeded.ids.len();
        above = seeded.ids;
    }
    // The bottom task, and the blockers it already has.
    let bottom = above[0].clone();
    let task: Value = http::client()?
        .get(format!("{base}/api/tasks/{bottom}"))
        .bearer_auth(&attacker)
        .send()
        .await?
        .json()
        .await?;
    let same = json!({"blockedBy": task["task"]["blockedBy"].clone()});

    let c = http::client()?;
    let count = if sizes.quick { 3 } else { 5 };
    let mut quiet = one_at_a_time(&arena.server, &arena.db, count, |_| {
        let (c, base, attacker, bottom, same) = (
            c.clone(),
            base.clone(),
            attacker.clone(),
            bottom.clone(),
            same.clone(),
        );
        async move { kit::patch(&c, &base, &attacker, &bottom, &same).await }
    })
    .await?;
    let what = format!(
        "a PATCH naming the unchanged blockedBy of the bottom of a {tasks}-task lattice, one at a time"
    );
    report
        .attacks
        .push(Row::figure(FINDING, &what, quiet.summary()));

    let what = format!("that PATCH three times a second from one token, {tasks}-task lattice");
    let mut m = under_attack(
        &arena.target(),
        &what,
        sizes.time,
        sizes.settle,
        move |stop| async move {
            let Ok(c) = http::client() else {
                return "no client".into();
            };
            let (mut took, mut failed) = (Samples::default(), 0);
            while !stop.now() {
                let t = Instant::now();
                match kit::patch(&c, &base, &attacker, &bottom, &same).await {
                    Ok(()) => took.record(t.elapsed()),
                    Err(_) => failed += 1,
                }
                stop.pause(EVERY.saturating_sub(t.elapsed())).await;
            }
            format!(
                "{} PATCHes ({failed} failed), each answered in p50 {} / max {} ms",
                took.len(),
                ms(took.percentile_ms(0.5)),
                ms(took.percentile_ms(1.0))
            )
        },
    )
    .await?;
    let row = Row::measured(report, FINDING, &what, &mut m, None);
    report.attacks.push(row);
    arena.close().await
}
