//! MCP tool calls: 16 clients, each on its own keep-alive connection, sending JSON-RPC
//! `tools/call` to `POST /mcp` back to back (a write, `create_task`, and a read, `get_task`),
//! as an MCP client does once it has initialized. Tool calls per second and latency
//! percentiles, beside the REST figures for the same work.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::{Value, json};

use crate::server::{Server, own_cpu_time};
use crate::stats::Samples;
use crate::{Plan, Report, Res, Row, fresh_db, http, ms};

const CLIENTS: usize = 16;
const WARMUP_PER_CLIENT: usize = 5;
const MAX_CALLS: usize = 200_000;

#[derive(Clone)]
enum ToolCall {
    Create,
    Get(Arc<Vec<String>>),
}

impl ToolCall {
    fn body(&self, n: usize) -> Value {
        let (name, arguments) = match self {
            ToolCall::Create => (
                "create_task",
                json!({"title": format!("MCP bench task {n}"), "priority": "high", "tags": ["bench"]}),
            ),
            ToolCall::Get(ids) => ("get_task", json!({"taskId": ids[n % ids.len()]})),
        };
        json!({
            "jsonrpc": "2.0", "id": n, "method": "tools/call",
            "params": {"name": name, "arguments": arguments}
        })
    }
}

/// One call; an error says why it failed (HTTP status, JSON-RPC error or tool error).
async fn send(c: &Client, url: &str, token: &str, call: &ToolCall, n: usize) -> Result<(), String> {
    let response = c
        .post(url)
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .json(&call.body(n))
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    let status = response.status();
    let body: Value = response.json().await.map_err(|e| format!("{e:?}"))?;
    if status.is_success() && body["result"]["isError"] == json!(false) {
        Ok(())
    } else {
        Err(format!(
            "{status}: {}",
            body.to_string().chars().take(300).collect::<String>()
        ))
    }
}

/// Runs `call` from [`CLIENTS`] clients for `time`; (calls done, failures, latencies, elapsed).
async fn load(
    base: &str,
    token: &str,
    call: ToolCall,
    time: Duration,
) -> Res<(usize, usize, Samples, Duration, Option<String>)> {
    let next = Arc::new(AtomicUsize::new(0));
    let ready = Arc::new(tokio::sync::Barrier::new(CLIENTS + 1));
    let url: Arc<str> = format!("{base}/mcp").into();
    let token: Arc<str> = token.into();
    let mut workers = Vec::new();
    for w in 0..CLIENTS {
        let (next, ready, url, token, call) = (
            next.clone(),
            ready.clone(),
            url.clone(),
            token.clone(),
            call.clone(),
        );
        let c = http::client()?;
        workers.push(tokio::spawn(async move {
            let mut first_failure = None;
            let mut failed = 0;
            for i in 0..WARMUP_PER_CLIENT {
                if let Err(why) = send(&c, &url, &token, &call, 1_000_000_000 + w * 100 + i).await {
                    failed += 1;
                    first_failure.get_or_insert(why);
                }
            }
            ready.wait().await;
            let started = Instant::now();
            let mut latencies = Samples::with_capacity(4096);
            let mut ok = 0;
            while started.elapsed() < time {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= MAX_CALLS {
                    break;
                }
                let t = Instant::now();
                match send(&c, &url, &token, &call, n).await {
                    Ok(()) => {
                        ok += 1;
                        latencies.record(t.elapsed());
                    }
                    Err(why) => {
                        failed += 1;
                        first_failure.get_or_insert(why);
                    }
                }
            }
            (ok, failed, latencies, started.elapsed(), first_failure)
        }));
    }
    ready.wait().await;
    let (mut ok, mut failed, mut all, mut elapsed, mut why) =
        (0, 0, Samples::default(), Duration::ZERO, None);
    for worker in workers {
        let (o, f, l, e, w) = worker.await?;
        ok += o;
        failed += f;
        all.merge(l);
        elapsed = elapsed.max(e);
        why = why.or(w);
    }
    Ok((ok, failed, all, elapsed, why))
}

pub async fn run(plan: &Plan, bin: &Path, tmp: &Path, report: &mut Report) -> Res<()> {
    eprintln!("MCP tool calls (POST /mcp), {CLIENTS} clients");
    let server = Server::start(bin, &fresh_db(tmp, "mcp")?).await?;
    let token = http::login(&server.base).await?;
    let ids = Arc::new(http::seed_tasks(&server.base, &token, 500, CLIENTS).await?);
    let time = if plan.quick {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(5)
    };
    for (what, call) in [
        ("MCP tools/call create_task", ToolCall::Create),
        ("MCP tools/call get_task", ToolCall::Get(ids)),
    ] {
        let (server_cpu, own_cpu) = (server.cpu_time(), own_cpu_time());
        let (ok, failed, mut latencies, elapsed, why) =
            load(&server.base, &token, call, time).await?;
        let sent = (ok + failed + CLIENTS * WARMUP_PER_CLIENT).max(1) as f64;
        let server_us = (server.cpu_time() - server_cpu).as_secs_f64() * 1e6 / sent;
        let own_us = (own_cpu_time() - own_cpu).as_secs_f64() * 1e6 / sent;
        if let Some(why) = why {
            eprintln!("  {failed} call(s) failed; the first: {why}");
        }
        report.rows.push(Row {
            what: what.into(),
            clients: CLIENTS.to_string(),
            requests: if failed > 0 {
                format!("{ok} ({failed} failed)")
            } else {
                ok.to_string()
            },
            throughput: format!("{:.0}/s", ok as f64 / elapsed.as_secs_f64()),
            p50: ms(latencies.percentile_ms(0.5)),
            p99: ms(latencies.percentile_ms(0.99)),
            cpu: format!("{server_us:.0} / {own_us:.0}"),
            written: String::new(),
            target: String::new(),
            result: String::new(),
        });
    }
    server.stop().await?;
    Ok(())
}
