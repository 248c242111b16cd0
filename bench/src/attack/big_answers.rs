//! Finding 3: big answers were built whole and held for clients that never read them. One agent
//! token holds 2,000 tasks of 40 KB (its heartbeat answers every one of them) beside 500 `todo`
//! tasks of 15 KB (an MCP `list_tasks` page of 500 just under the MCP answer cap); from one
//! address it asks, over connections that never read: MCP `list_tasks` with limit 500, its
//! heartbeat, `GET /api/tasks?limit=500`, and MCP `resources/read` of the board.

use std::path::Path;

use serde_json::{Value, json};

use super::frame::under_attack;
use super::kit::{self, ATTACKER, Arena, Ask, BIG_DESCRIPTION_CHARS};
use super::{Row, Sizes};
use crate::{Report, Res};

pub const NAME: &str = "big-answers";
const FINDING: &str = "3. big answers held for clients that never read";

/// What the issue allows each of these attacks to add to the server's memory.
const ADDS_UNDER_MB: f64 = 200.0;
/// A description of 15 KB: 500 of them make an MCP page just under its 8 MiB cap.
const LISTED_DESCRIPTION_CHARS: usize = 3_750;

pub async fn run(sizes: &Sizes, bin: &Path, tmp: &Path, report: &mut Report) -> Res<()> {
    eprintln!(
        " {FINDING}: {} held tasks of 40 KB, {} todo tasks of 15 KB",
        sizes.held, sizes.listed
    );
    let arena = Arena::open(bin, tmp, NAME, &[]).await?;
    let base = arena.server.base.clone();
    let attacker = kit::agent(&base, &arena.operator, "agent-attacker").await?;
    let big = kit::big_text(BIG_DESCRIPTION_CHARS);
    let held = kit::seed(
        &base,
        &arena.operator,
        sizes.held,
        move |n| json!({"title": format!("Held {n}"), "status": "todo", "description": big}),
    )
    .await?;
    let (holding, refused) = kit::claim_all(&base, &attacker, &held.ids).await?;
    let held_note = format!(
        "{holding} held{}",
        refused
            .map(|why| format!(" (the server refused more: {why})"))
            .unwrap_or_default()
    );
    let listed = kit::big_text(LISTED_DESCRIPTION_CHARS);
    kit::seed(
        &base,
        &arena.operator,
        sizes.listed,
        move |n| json!({"title": format!("Listed {n}"), "status": "todo", "description": listed}),
    )
    .await?;

    let list = rpc(
        "tools/call",
        json!({"name": "list_tasks", "arguments": {"status": "todo", "limit": 500}}),
    );
    let board = rpc("resources/read", json!({"uri": "mission-control://board"}));
    let attacks = [
        (
            format!(
                "{} stalled MCP list_tasks (limit 500) of one token",
                sizes.stalled_lists
            ),
            Ask::post("/mcp", Some(list)),
            sizes.stalled_lists,
            Some(ADDS_UNDER_MB),
        ),
        (
            format!(
                "{} stalled heartbeats of one token ({held_note})",
                sizes.stalled_heartbeats
            ),
            Ask::post("/api/agents/me/heartbeat", None),
            sizes.stalled_heartbeats,
            Some(ADDS_UNDER_MB),
        ),
        (
            format!(
                "{} stalled GET /api/tasks?limit=500 of one token",
                sizes.stalled_pages
            ),
            Ask::get("/api/tasks?limit=500"),
            sizes.stalled_pages,
            None,
        ),
        (
            format!(
                "{} stalled MCP resources/read of the board of one token",
                sizes.stalled_pages
            ),
            Ask::post("/mcp", Some(board)),
            sizes.stalled_pages,
            None,
        ),
    ];
    let target = arena.target();
    for (what, ask, count, adds_under) in attacks {
        let answer = ask.answer(&base, &attacker).await;
        let (addr, request) = (arena.server.addr, ask.raw(&attacker));
        let mut m = under_attack(
            &target,
            &what,
            sizes.time,
            sizes.settle,
            move |mut stop| async move {
                let held = kit::stalled_requests(ATTACKER, addr, &request, count).await;
                stop.wait().await;
                format!(
                    "{} connections asked and never read (the answer, read once: {answer})",
                    held.len()
                )
            },
        )
        .await?;
        let row = Row::measured(report, FINDING, &what, &mut m, adds_under);
        report.attacks.push(row);
    }
    arena.close().await
}

/// A JSON-RPC request to the MCP endpoint.
fn rpc(method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string()
}
