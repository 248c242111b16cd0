//! The write path: task creates at 1, 16 and 64 clients and PATCH at 16, each beside the
//! project's targets for throughput, tail latency, and (creates at 16 clients) the server's CPU
//! and bytes written per create, so that a regression shows the day it lands.

use std::path::Path;
use std::sync::Arc;

use crate::http::{self, Op};
use crate::plan::Plan;
use crate::report::{Report, measure, measure_io};
use crate::server::Server;
use crate::{Res, fresh_db};

/// Writes per second the targets ask for at 16 and 64 clients (ten times the plain stack's).
const MANY_CLIENTS_RATE: f64 = 20_000.0;
/// Tail latency at 16 and 64 clients, in ms.
const MANY_CLIENTS_P99_MS: f64 = 5.0;
/// One client: writes per second and tail latency (ms).
const ONE_CLIENT_RATE: f64 = 5_000.0;
const ONE_CLIENT_P99_MS: f64 = 1.0;
/// What one create at 16 clients may cost the server: bytes handed to write calls, CPU.
const CREATE_WRITTEN_BYTES: f64 = 8.0 * 1024.0;
const CREATE_CPU_US: f64 = 50.0;

pub async fn create(plan: &Plan, bin: &Path, tmp: &Path, report: &mut Report) -> Res<()> {
    eprintln!("task create");
    for &clients in &plan.create_clients {
        let server = Server::start(bin, &fresh_db(tmp, &format!("create-{clients}"))?).await?;
        let token = http::login(&server.base).await?;
        let mut m = measure_io(
            report,
            &server,
            &token,
            "task create (POST /api/tasks)",
            Op::Create,
            clients,
            plan.create_max,
            plan.create_time,
        )
        .await?;
        let p99 = m.run.latencies.percentile_ms(0.99);
        let rate = m.run.throughput();
        let mut checks = if clients == 1 {
            rate_and_tail(rate, p99, ONE_CLIENT_RATE, ONE_CLIENT_P99_MS)
        } else {
            rate_and_tail(rate, p99, MANY_CLIENTS_RATE, MANY_CLIENTS_P99_MS)
        };
        if clients == 16 {
            checks.push((
                format!("< {:.0} KB written/create", CREATE_WRITTEN_BYTES / 1024.0),
                m.wchar_per_request < CREATE_WRITTEN_BYTES,
            ));
            checks.push((
                format!("< {CREATE_CPU_US:.0} µs server CPU/create"),
                m.server_cpu_us < CREATE_CPU_US,
            ));
        }
        report.judge_last(&checks);
        server.stop().await?;
    }
    Ok(())
}

/// The throughput and p99 checks of one write row.
fn rate_and_tail(rate: f64, p99: f64, min_rate: f64, max_p99: f64) -> Vec<(String, bool)> {
    vec![
        (format!(">= {min_rate:.0}/s"), rate >= min_rate),
        (format!("p99 < {max_p99} ms"), p99 < max_p99),
    ]
}

pub async fn update(plan: &Plan, bin: &Path, tmp: &Path, report: &mut Report) -> Res<()> {
    eprintln!("task update");
    let server = Server::start(bin, &fresh_db(tmp, "update")?).await?;
    let token = http::login(&server.base).await?;
    let ids = Arc::new(http::seed_tasks(&server.base, &token, plan.update_seed, 32).await?);
    let mut m = measure_io(
        report,
        &server,
        &token,
        &format!("task update (PATCH), {} tasks", plan.update_seed),
        Op::Update(ids.clone()),
        16,
        plan.create_max,
        plan.update_time,
    )
    .await?;
    let p99 = m.run.latencies.percentile_ms(0.99);
    let checks = rate_and_tail(
        m.run.throughput(),
        p99,
        MANY_CLIENTS_RATE,
        MANY_CLIENTS_P99_MS,
    );
    report.judge_last(&checks);
    // Reference points for the write path: the same auth and HTTP work without a write.
    measure(
        report,
        &server,
        &token,
        "reference: GET /api/tasks/:id",
        Op::GetTask(ids),
        16,
        plan.create_max,
        plan.update_time / 2,
    )
    .await?;
    measure(
        report,
        &server,
        "",
        "reference: GET /health (no auth)",
        Op::Get("/health".into()),
        16,
        plan.create_max,
        plan.update_time / 2,
    )
    .await?;
    server.stop().await?;
    Ok(())
}
