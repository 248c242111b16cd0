//! HTTP load: N clients, each with its own keep-alive connection, issuing requests back to back
//! until a request count or a time limit is reached, whichever comes first.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::Res;
use crate::server::{ADMIN_PASSWORD, ADMIN_USERNAME};
use crate::stats::Samples;

/// Requests each client sends before measuring starts (connection set-up, caches).
pub const WARMUP_PER_CLIENT: usize = 5;
/// Longest any single request may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// One client: a single keep-alive HTTP/1.1 connection.
pub fn client() -> Res<Client> {
    Ok(Client::builder()
        .pool_max_idle_per_host(1)
        .tcp_nodelay(true)
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .build()?)
}

/// Signs in as the operator; the bearer token.
pub async fn login(base: &str) -> Res<String> {
    let response = client()?
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}))
        .send()
        .await?;
    let status = response.status();
    let body: Value = response.json().await?;
    body["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("login failed ({status}): {body}").into())
}

/// What each request of a run is.
#[derive(Clone)]
pub enum Op {
    /// POST /api/tasks with a fresh title.
    Create,
    /// PATCH /api/tasks/:id on one of these ids, changing title and status every time.
    Update(Arc<Vec<String>>),
    /// GET of a fixed path.
    Get(String),
    /// GET /api/tasks/:id on one of these ids.
    GetTask(Arc<Vec<String>>),
    /// GET /api/events?since=<one of these>&limit=50.
    EventsSince(Arc<Vec<i64>>),
}

const STATUSES: [&str; 4] = ["backlog", "todo", "in-progress", "done"];

impl Op {
    fn request(&self, c: &Client, base: &str, token: &str, n: usize) -> reqwest::RequestBuilder {
        let auth = format!("Bearer {token}");
        match self {
            Op::Create => c
                .post(format!("{base}/api/tasks"))
                .header("authorization", auth)
                .json(&create_body(n)),
            Op::Update(ids) => c
                .request(
                    Method::PATCH,
                    format!("{base}/api/tasks/{}", ids[n % ids.len()]),
                )
                .header("authorization", auth)
                .json(&json!({
                    "title": format!("Updated bench task {n}"),
                    "status": STATUSES[(n / ids.len()) % STATUSES.len()],
                })),
            Op::Get(path) => c.get(format!("{base}{path}")).header("authorization", auth),
            Op::GetTask(ids) => c
                .get(format!("{base}/api/tasks/{}", ids[n % ids.len()]))
                .header("authorization", auth),
            Op::EventsSince(since) => c
                .get(format!(
                    "{base}/api/events?since={}&limit=50",
                    since[n % since.len()]
                ))
                .header("authorization", auth),
        }
    }

    fn ok_status(&self) -> StatusCode {
        match self {
            Op::Create => StatusCode::CREATED,
            _ => StatusCode::OK,
        }
    }
}

pub fn create_body(n: usize) -> Value {
    json!({
        "title": format!("Bench task {n}"),
        "description": "Created by the load generator to measure the write path.",
        "priority": "high",
        "tags": ["bench", "load"],
    })
}

/// What a run measured.
pub struct Run {
    pub ok: usize,
    pub failed: usize,
    pub elapsed: Duration,
    pub latencies: Samples,
    /// Bytes of the last response body (all bodies of a run are alike).
    pub body_bytes: usize,
    /// What the first failed request got, to say why requests failed.
    pub first_failure: Option<String>,
}

impl Run {
    pub fn throughput(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs `op` from `clients` concurrent clients until `max_requests` have been sent or
/// `max_time` has passed.
pub async fn run(
    base: &str,
    token: &str,
    op: Op,
    clients: usize,
    max_requests: usize,
    max_time: Duration,
) -> Res<Run> {
    run_spread(&[base], token, op, clients, max_requests, max_time).await
}

/// [`run`] with the clients spread over several servers of one board: client `w` talks to
/// `bases[w % bases.len()]`.
pub async fn run_spread(
    bases: &[&str],
    token: &str,
    op: Op,
    clients: usize,
    max_requests: usize,
    max_time: Duration,
) -> Res<Run> {
    let next = Arc::new(AtomicUsize::new(0));
    let ready = Arc::new(tokio::sync::Barrier::new(clients + 1));
    let bases: Vec<Arc<str>> = bases.iter().map(|&b| b.into()).collect();
    if bases.is_empty() {
        return Err("no server to send requests to".into());
    }
    let token: Arc<str> = token.into();
    let mut workers = Vec::with_capacity(clients);
    for w in 0..clients {
        let (next, ready, base, token, op) = (
            next.clone(),
            ready.clone(),
            bases[w % bases.len()].clone(),
            token.clone(),
            op.clone(),
        );
        let c = client()?;
        workers.push(tokio::spawn(async move {
            let mut warm_failed = 0;
            let mut first_failure = None;
            for i in 0..WARMUP_PER_CLIENT {
                let n = usize::MAX / 2 + w * WARMUP_PER_CLIENT + i;
                if let Err(why) = send(&op, &c, &base, &token, n).await {
                    warm_failed += 1;
                    first_failure.get_or_insert(why);
                }
            }
            ready.wait().await;
            let started = Instant::now();
            let mut latencies = Samples::with_capacity(max_requests / clients + 16);
            let (mut ok, mut failed, mut body_bytes) = (0, warm_failed, 0);
            while started.elapsed() < max_time {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= max_requests {
                    break;
                }
                let t = Instant::now();
                let result = send(&op, &c, &base, &token, n).await;
                let took = t.elapsed();
                match result {
                    Ok(bytes) => {
                        ok += 1;
                        body_bytes = bytes;
                        latencies.record(took);
                    }
                    Err(why) => {
                        failed += 1;
                        first_failure.get_or_insert(why);
                    }
                }
            }
            (
                ok,
                failed,
                latencies,
                body_bytes,
                started.elapsed(),
                first_failure,
            )
        }));
    }
    ready.wait().await;
    let mut run = Run {
        ok: 0,
        failed: 0,
        elapsed: Duration::ZERO,
        latencies: Samples::with_capacity(max_requests.min(1 << 20)),
        body_bytes: 0,
        first_failure: None,
    };
    for worker in workers {
        let (ok, failed, latencies, bytes, elapsed, why) = worker.await?;
        if run.first_failure.is_none() {
            run.first_failure = why;
        }
        run.ok += ok;
        run.failed += failed;
        run.latencies.merge(latencies);
        run.body_bytes = run.body_bytes.max(bytes);
        run.elapsed = run.elapsed.max(elapsed);
    }
    Ok(run)
}

/// Sends one request and reads the whole body; its length, or why the request failed.
pub async fn send(op: &Op, c: &Client, base: &str, token: &str, n: usize) -> Result<usize, String> {
    let response = op
        .request(c, base, token, n)
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| format!("{e:?}"))?;
    if status == op.ok_status() {
        Ok(body.len())
    } else {
        Err(format!(
            "{status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        ))
    }
}

/// Creates `count` tasks from `clients` concurrent clients; their ids, in no particular order.
pub async fn seed_tasks(base: &str, token: &str, count: usize, clients: usize) -> Res<Vec<String>> {
    let next = Arc::new(AtomicUsize::new(0));
    let base: Arc<str> = base.into();
    let token: Arc<str> = token.into();
    let mut workers = Vec::new();
    for _ in 0..clients {
        let (next, base, token) = (next.clone(), base.clone(), token.clone());
        let c = client()?;
        workers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    break;
                }
                let response = c
                    .post(format!("{base}/api/tasks"))
                    .header("authorization", format!("Bearer {token}"))
                    .json(&create_body(n))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let status = response.status();
                let body: Value = response.json().await.map_err(|e| e.to_string())?;
                match body["task"]["id"].as_str() {
                    Some(id) if status == StatusCode::CREATED => ids.push(id.to_owned()),
                    _ => return Err(format!("seeding a task failed ({status}): {body}")),
                }
            }
            Ok(ids)
        }));
    }
    let mut ids = Vec::with_capacity(count);
    for worker in workers {
        ids.extend(worker.await??);
    }
    Ok(ids)
}

/// Polls GET /health until it answers 200; the time from `since`.
pub async fn wait_healthy(base: &str, since: Instant, limit: Duration) -> Res<Duration> {
    let c = client()?;
    loop {
        if let Ok(r) = c.get(format!("{base}/health")).send().await
            && r.status() == StatusCode::OK
        {
            return Ok(since.elapsed());
        }
        if since.elapsed() > limit {
            return Err("the server did not become healthy in time".into());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
