//! Agents racing for work: 64 registered agents, each with its own token and connection, call
//! `POST /api/tasks/claim-next` back to back over a board of 1,000 `todo` tasks until there is
//! nothing left to take. Claims per second and latency, and the check that matters: every task
//! was claimed exactly once. [`race`] runs the same race on any board (several processes of a
//! PostgreSQL board among them).

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::server::{Server, own_cpu_time};
use crate::stats::Samples;
use crate::{Plan, Report, Res, Row, fresh_db, http, ms};

pub const SCENARIO: &str = "claims";
const AGENTS: usize = 64;

/// Registers `n` agents and mints a token for each; their tokens.
async fn agents(base: &str, operator: &str, n: usize) -> Res<Vec<String>> {
    let c = http::client()?;
    let mut tokens = Vec::with_capacity(n);
    for i in 0..n {
        let id = format!("agent-claimer-{i}");
        let r = c
            .post(format!("{base}/api/agents"))
            .bearer_auth(operator)
            .json(&json!({"id": id, "name": format!("Claimer {i}"), "role": "Dev"}))
            .send()
            .await?;
        if r.status() != StatusCode::CREATED {
            return Err(format!("registering {id}: {}", r.status()).into());
        }
        let r: Value = c
            .post(format!("{base}/api/auth/tokens"))
            .bearer_auth(operator)
            .json(&json!({"agentId": id, "expiresInDays": 1}))
            .send()
            .await?
            .json()
            .await?;
        tokens.push(r["token"].as_str().ok_or("no token minted")?.to_owned());
    }
    Ok(tokens)
}

/// Creates `count` todo tasks from 16 clients.
async fn todo_tasks(base: &str, token: &str, count: usize) -> Res<()> {
    let ids = http::seed_tasks(base, token, count, 16).await?;
    let c = http::client()?;
    for id in ids {
        let r = c
            .patch(format!("{base}/api/tasks/{id}"))
            .bearer_auth(token)
            .json(&json!({"status": "todo"}))
            .send()
            .await?;
        if !r.status().is_success() {
            return Err(format!("moving {id} to todo: {}", r.status()).into());
        }
    }
    Ok(())
}

pub async fn run(plan: &Plan, bin: &Path, tmp: &Path, report: &mut Report) -> Res<()> {
    let tasks = if plan.quick { 200 } else { 1_000 };
    eprintln!("claim-next: {AGENTS} agents racing over {tasks} todo tasks");
    let server = Server::start(bin, &fresh_db(tmp, "claims")?).await?;
    let label = format!("claim-next, {AGENTS} agents racing over {tasks} todo tasks");
    race(report, &label, &[server.base.as_str()], tasks, &|| {
        server.cpu_time()
    })
    .await?;
    server.stop().await?;
    Ok(())
}

/// The race on a board served by the servers at `bases` (agents spread over them), its row
/// labelled `label`; `cpu` is the servers' CPU time so far.
pub async fn race(
    report: &mut Report,
    label: &str,
    bases: &[&str],
    tasks: usize,
    cpu: &dyn Fn() -> Duration,
) -> Res<()> {
    let first = *bases.first().ok_or("no server to race on")?;
    let operator = http::login(first).await?;
    let tokens = agents(first, &operator, AGENTS).await?;
    todo_tasks(first, &operator, tasks).await?;

    let ready = Arc::new(tokio::sync::Barrier::new(AGENTS + 1));
    let mut workers = Vec::new();
    for (i, token) in tokens.into_iter().enumerate() {
        let (ready, base) = (ready.clone(), bases[i % bases.len()].to_owned());
        let c = http::client()?;
        workers.push(tokio::spawn(async move {
            let mut claimed = Vec::new();
            let mut latencies = Samples::with_capacity(64);
            let mut failures = Vec::new();
            ready.wait().await;
            loop {
                let t = Instant::now();
                let r = c
                    .post(format!("{base}/api/tasks/claim-next"))
                    .bearer_auth(&token)
                    .json(&json!({}))
                    .send()
                    .await;
                let body: Option<Value> = match r {
                    Ok(r) if r.status().is_success() => r.json().await.ok(),
                    Ok(r) => {
                        failures.push(r.status().to_string());
                        None
                    }
                    Err(e) => {
                        failures.push(e.to_string());
                        None
                    }
                };
                latencies.record(t.elapsed());
                match body.as_ref().map(|b| &b["task"]) {
                    Some(Value::Null) => break,
                    Some(task) => claimed.push(task["id"].as_str().unwrap_or("").to_owned()),
                    None if failures.len() > 10 => break,
                    None => {}
                }
            }
            (claimed, latencies, failures)
        }));
    }
    let (server_cpu, own_cpu) = (cpu(), own_cpu_time());
    ready.wait().await;
    let started = Instant::now();
    let (mut claimed, mut latencies, mut failures) = (Vec::new(), Samples::default(), Vec::new());
    for w in workers {
        let (c, l, f) = w.await?;
        claimed.extend(c);
        latencies.merge(l);
        failures.extend(f);
    }
    let elapsed = started.elapsed().max(Duration::from_micros(1));
    let calls = latencies.len().max(1) as f64;
    let server_us = (cpu() - server_cpu).as_secs_f64() * 1e6 / calls;
    let own_us = (own_cpu_time() - own_cpu).as_secs_f64() * 1e6 / calls;
    let distinct: HashSet<&String> = claimed.iter().collect();
    let once = claimed.len() == tasks && distinct.len() == tasks && failures.is_empty();
    if !failures.is_empty() {
        eprintln!(
            "  {} claim(s) failed; the first: {}",
            failures.len(),
            failures[0]
        );
    }
    let target = format!("each of {tasks} tasks claimed exactly once");
    let result = report.verdict(&target, once);
    report.rows.push(Row {
        what: label.to_owned(),
        clients: AGENTS.to_string(),
        requests: format!("{} claims, {} calls", claimed.len(), latencies.len()),
        throughput: format!(
            "{:.0} claims/s",
            claimed.len() as f64 / elapsed.as_secs_f64()
        ),
        p50: ms(latencies.percentile_ms(0.5)),
        p99: ms(latencies.percentile_ms(0.99)),
        cpu: format!("{server_us:.0} / {own_us:.0}"),
        written: String::new(),
        target,
        result,
    });
    Ok(())
}
