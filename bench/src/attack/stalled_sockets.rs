//! Finding 4: a live socket buffered 1,024 packets whatever their size, and one token could open
//! any number of sockets. Here one agent token opens 150 Socket.io sockets from one address,
//! signs them in and stops reading, while the board changes: tasks of 40 KB updated one after
//! another (each a `task.updated` of 40 KB to every socket).

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use super::frame::under_attack;
use super::kit::{self, ATTACKER, Arena, BIG_DESCRIPTION_CHARS};
use super::{Row, Sizes};
use crate::{Report, Res, http};

pub const NAME: &str = "stalled-sockets";
const FINDING: &str = "4. live sockets that stop reading";

/// What the issue allows 150 stalled sockets of one token to add to the server's memory.
const ADDS_UNDER_MB: f64 = 200.0;
/// Tasks of 40 KB the board's activity changes, and its pause between two changes.
const CHANGED_TASKS: usize = 100;
const CHANGE_EVERY: Duration = Duration::from_millis(10);

pub async fn run(sizes: &Sizes, bin: &Path, tmp: &Path, report: &mut Report) -> Res<()> {
    eprintln!(" {FINDING}: {} sockets of one token", sizes.sockets);
    let arena = Arena::open(bin, tmp, NAME, &[]).await?;
    let base = arena.server.base.clone();
    let attacker = kit::agent(&base, &arena.operator, "agent-attacker").await?;
    let big = kit::big_text(BIG_DESCRIPTION_CHARS);
    let tasks = kit::seed(
        &base,
        &arena.operator,
        CHANGED_TASKS,
        move |n| json!({"title": format!("Busy {n}"), "status": "todo", "description": big}),
    )
    .await?
    .ids;

    let what = format!(
        "{} signed-in sockets of one token that stop reading, tasks of 40 KB changing",
        sizes.sockets
    );
    let (addr, count, operator) = (arena.server.addr, sizes.sockets, arena.operator.clone());
    let mut m = under_attack(&arena.target(), &what, sizes.time, sizes.settle, move |mut stop| async move {
        let mut held = Vec::with_capacity(count);
        let mut refused = None;
        for _ in 0..count {
            match kit::socket(ATTACKER, addr, &json!({ "token": attacker }), true).await {
                Ok(socket) => held.push(socket),
                Err(why) => {
                    refused.get_or_insert(why.to_string());
                }
            }
        }
        // The board's activity: one change after another, until the attack ends.
        let changes = {
            let stop = stop.clone();
            tokio::spawn(async move {
                let Ok(c) = http::client() else { return 0 };
                let mut n = 0;
                while !stop.now() {
                    let id = &tasks[n % tasks.len()];
                    let _ = kit::patch(&c, &base, &operator, id, &json!({"title": format!("Busy, change {n}")})).await;
                    n += 1;
                    tokio::time::sleep(CHANGE_EVERY).await;
                }
                n
            })
        };
        stop.wait().await;
        let changes = changes.await.unwrap_or(0);
        format!(
            "{} sockets signed in and stopped reading{}; {changes} changes of 40 KB tasks went out meanwhile",
            held.len(),
            refused.map(|why| format!(" (refused: {why})")).unwrap_or_default()
        )
    })
    .await?;
    let row = Row::measured(report, FINDING, &what, &mut m, Some(ADDS_UNDER_MB));
    report.attacks.push(row);
    arena.close().await
}
