//! The read paths: the whole board (`GET /api/tasks` over many tasks) and the event feed's page
//! (`GET /api/events?since=&limit=50` over a million events), beside the project's targets.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::params;

use crate::http::{self, Op};
use crate::plan::Plan;
use crate::report::{Fact, Report, Row, measure, rss_and_threads, set_target};
use crate::server::Server;
use crate::{Res, fresh_db};

/// Whole-board reads per second at 4 clients with 10,000 tasks (ten times the plain stack's).
const BOARD_RATE: f64 = 150.0;
/// Event-feed pages per second at 16 clients over 1,000,000 events.
const FEED_RATE: f64 = 19_000.0;

pub async fn list(plan: &Plan, bin: &Path, tmp: &Path, report: &mut Report) -> Res<()> {
    eprintln!("GET /api/tasks with {} tasks", plan.list_tasks);
    let server = Server::start(bin, &fresh_db(tmp, "list")?).await?;
    let token = http::login(&server.base).await?;
    let started = Instant::now();
    let cpu = server.cpu_time();
    let ids = http::seed_tasks(&server.base, &token, plan.list_tasks, 64).await?;
    let took = started.elapsed();
    report.rows.push(Row {
        what: format!("seeding: task create, {} tasks", ids.len()),
        clients: "64".into(),
        requests: ids.len().to_string(),
        throughput: format!("{:.0}/s", ids.len() as f64 / took.as_secs_f64()),
        p50: "-".into(),
        p99: "-".into(),
        cpu: format!(
            "{:.0} / -",
            (server.cpu_time() - cpu).as_secs_f64() * 1e6 / ids.len().max(1) as f64
        ),
        ..Row::default()
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    report.facts.push(Fact {
        what: format!(
            "server RSS with {} tasks (after seeding at 64 clients)",
            plan.list_tasks
        ),
        value: rss_and_threads(&server)?,
        target: String::new(),
        result: String::new(),
    });
    for clients in [1, 4] {
        let run = measure(
            report,
            &server,
            &token,
            &format!("GET /api/tasks, {} tasks", plan.list_tasks),
            Op::Get("/api/tasks".into()),
            clients,
            plan.list_requests * clients,
            plan.list_time,
        )
        .await?;
        if let Some(row) = report.rows.last_mut() {
            row.what = format!(
                "{} ({:.1} MB body)",
                row.what,
                run.body_bytes as f64 / 1_048_576.0
            );
        }
        if clients == 4 && plan.list_tasks >= 10_000 {
            set_target(
                report,
                &format!(">= {BOARD_RATE:.0}/s at 4 clients"),
                run.throughput() >= BOARD_RATE,
            );
        }
    }
    report.facts.push(Fact {
        what: format!(
            "server RSS with {} tasks (after the GETs of the whole board)",
            plan.list_tasks
        ),
        value: rss_and_threads(&server)?,
        target: String::new(),
        result: String::new(),
    });
    server.stop().await?;
    Ok(())
}

pub async fn events(plan: &Plan, bin: &Path, tmp: &Path, report: &mut Report) -> Res<()> {
    eprintln!("GET /api/events with {} events", plan.event_rows);
    let db = fresh_db(tmp, "events")?;
    // Start once to create the schema and sign in, stop, then bulk-load the events table.
    let server = Server::start(bin, &db).await?;
    let token = http::login(&server.base).await?;
    server.stop().await?;
    let (first, step) = insert_events(&db, plan.event_rows)?;
    let server = Server::start(bin, &db).await?;
    http::wait_healthy(&server.base, Instant::now(), Duration::from_secs(30)).await?;
    // `since` spread evenly over the whole log, so that queries see from all to almost no
    // later rows; in a shuffled order.
    let count = 1_000usize;
    let span = plan.event_rows as i64 * step;
    let mut since: Vec<i64> = (0..count as i64)
        .map(|i| first - 1 + span * i / count as i64)
        .collect();
    shuffle(&mut since);
    let since = Arc::new(since);
    let rows = plan.event_rows;
    let mut run = measure(
        report,
        &server,
        &token,
        &format!("GET /api/events?since=…&limit=50, {rows} events"),
        Op::EventsSince(since.clone()),
        1,
        plan.event_requests,
        plan.event_time,
    )
    .await?;
    let p99 = run.latencies.percentile_ms(0.99);
    if rows >= 1_000_000 {
        set_target(
            report,
            "events query p99 < 5 ms at 1,000,000 rows",
            p99 < 5.0,
        );
    }
    let run = measure(
        report,
        &server,
        &token,
        &format!("GET /api/events?since=…&limit=50, {rows} events"),
        Op::EventsSince(since),
        16,
        plan.event_requests * 64,
        plan.event_time,
    )
    .await?;
    if rows >= 1_000_000 {
        set_target(
            report,
            &format!(">= {FEED_RATE:.0}/s at 16 clients"),
            run.throughput() >= FEED_RATE,
        );
    }
    measure(
        report,
        &server,
        &token,
        &format!("GET /api/events?limit=50 (latest), {rows} events"),
        Op::Get("/api/events?limit=50".into()),
        1,
        plan.event_requests,
        plan.event_time,
    )
    .await?;
    report.facts.push(Fact {
        what: format!("server RSS with {rows} events (after the queries)"),
        value: rss_and_threads(&server)?,
        target: String::new(),
        result: String::new(),
    });
    server.stop().await?;
    Ok(())
}

/// Appends `rows` events in one transaction; returns the first timestamp and the step.
fn insert_events(db: &Path, rows: usize) -> Res<(i64, i64)> {
    let started = Instant::now();
    let step = 10i64;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    let first = now - rows as i64 * step - 60_000;
    let mut conn = rusqlite::Connection::open(db)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare(
            "INSERT INTO events (id, type, message, agent_id, task_id, timestamp) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        const TYPES: [&str; 3] = ["task_created", "task_updated", "task_deleted"];
        for i in 0..rows {
            let ts = first + i as i64 * step;
            let id = format!("evt-{}", uuid::Uuid::now_v7());
            let task = format!("task-{}", uuid::Uuid::now_v7());
            insert.execute(params![
                id,
                TYPES[i % TYPES.len()],
                format!("Bench moved task {i}"),
                "agent-bench",
                task,
                ts
            ])?;
        }
    }
    tx.commit()?;
    drop(conn);
    eprintln!(
        "  inserted {rows} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok((first, step))
}

/// A deterministic Fisher-Yates shuffle (xorshift), so that runs are comparable.
fn shuffle<T>(items: &mut [T]) {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        items.swap(i, (state % (i as u64 + 1)) as usize);
    }
}
