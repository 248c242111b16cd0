//! Start-up and shutdown in one place: open the store, register the operator's agent, build
//! the service stack (Socket.io around REST and the dashboard), accept connections until
//! SIGTERM or Ctrl-C, then drain and close the database.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::service::Service;
use hyper_util::rt::TokioIo;
use mission_control_core::{AgentStatus, MissionControl, NewAgent, Options};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::config::Config;
use crate::http::rate_limit::{Limiter, Limits};
use crate::http::{AppState, ClientAddr, Dashboard};
use crate::realtime;

/// How long in-flight requests get to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Core(#[from] mission_control_core::Error),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Opens the store and makes sure the operator's own agent is registered.
pub async fn open_store(config: &Config) -> Result<MissionControl, StartupError> {
    let mc = MissionControl::open_with(Options {
        database_path: config.database_path.clone(),
        jwt_secret: config.jwt_secret.clone().into_bytes(),
        wal_max_bytes: config.wal_max_bytes,
    })?;
    mc.ensure_agent(NewAgent {
        id: config.admin.agent_id.clone(),
        name: config.admin.name.clone(),
        role: config.admin.role,
        status: AgentStatus::Online,
        avatar_color: None,
    })
    .await?;
    Ok(mc)
}

/// Runs the server until a shutdown signal, then shuts down gracefully.
pub async fn run(config: Config) -> Result<(), StartupError> {
    let config = Arc::new(config);
    let mc = open_store(&config).await?;
    let state = AppState {
        mc: mc.clone(),
        config: config.clone(),
        limits: Arc::new(Limits {
            login: Limiter::per_minute(config.login_rate_limit_per_minute),
            api: Limiter::per_minute(config.rate_limit_per_minute),
        }),
    };
    tokio::spawn(forget_idle_rate_limits(state.limits.clone()));

    let api = crate::http::service(state, Dashboard::new(&config.dashboard_dir));
    let (service, io) = realtime::attach(mc.clone(), api);

    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartupError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartupError::Bind {
        addr: config.listen,
        source,
    })?;
    announce(&config, addr);

    let connections = Connections::new();
    let mut shutdown = std::pin::pin!(shutdown_signal());
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => serve_connection(&connections, service.clone(), stream, peer),
                // Out of file descriptors and the like: back off rather than spin.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = &mut shutdown => break,
        }
    }

    // Stop accepting (new connections are refused), tell keep-alive connections to close after
    // their current request, and give in-flight requests time to finish.
    drop(listener);
    tracing::info!("shutting down: draining in-flight requests");
    io.close().await;
    if tokio::time::timeout(DRAIN_TIMEOUT, connections.drain())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not finish in time");
    }
    mc.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

/// Tracks open connections so that shutdown can ask each to finish and wait until all have.
struct Connections {
    stop: watch::Sender<bool>,
    open: mpsc::Sender<()>,
    all_closed: mpsc::Receiver<()>,
}

impl Connections {
    fn new() -> Self {
        let (open, all_closed) = mpsc::channel(1);
        Connections {
            stop: watch::Sender::new(false),
            open,
            all_closed,
        }
    }

    /// Asks every connection to close after its current request; resolves once all have.
    async fn drain(self) {
        let Connections {
            stop,
            open,
            mut all_closed,
        } = self;
        let _ = stop.send(true);
        // Each connection task holds a clone of `open`; recv returns None once all are dropped.
        drop(open);
        let _ = all_closed.recv().await;
    }
}

fn serve_connection<S, B>(
    connections: &Connections,
    service: S,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
) where
    S: Service<http::Request<Incoming>, Response = http::Response<B>>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let _ = stream.set_nodelay(true);
    let logged = hyper::service::service_fn(move |mut req: http::Request<Incoming>| {
        req.extensions_mut().insert(ClientAddr(peer.ip()));
        let started = Instant::now();
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let request_id = next_request_id();
        let response = service.call(req);
        async move {
            let mut response = response.await?;
            if let Ok(value) = http::HeaderValue::from_str(&request_id) {
                response.headers_mut().insert("x-request-id", value);
            }
            log_request(&method, &path, response.status(), started, &request_id);
            Ok::<_, S::Error>(response)
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30))
        .serve_connection(TokioIo::new(stream), logged)
        .with_upgrades();
    let mut stop = connections.stop.subscribe();
    let open = connections.open.clone();
    tokio::spawn(async move {
        let mut connection = std::pin::pin!(connection);
        let result = tokio::select! {
            result = connection.as_mut() => result,
            () = async { let _ = stop.wait_for(|stopping| *stopping).await; } => {
                connection.as_mut().graceful_shutdown();
                connection.await
            }
        };
        if let Err(e) = result {
            tracing::debug!(error = %e, "connection ended with an error");
        }
        drop(open);
    });
}

/// A process-unique request id: the start time and a counter (cheaper than a random id, and
/// sortable).
fn next_request_id() -> String {
    use std::sync::LazyLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static STARTED: LazyLock<u64> = LazyLock::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{:x}-{}", *STARTED, NEXT.fetch_add(1, Ordering::Relaxed))
}

/// One line per request. Paths only: query strings may carry things that do not belong in logs.
fn log_request(
    method: &http::Method,
    path: &str,
    status: http::StatusCode,
    started: Instant,
    id: &str,
) {
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let status = status.as_u16();
    if path.starts_with("/socket.io") {
        tracing::debug!(target: "http", %method, path, status, latency_ms, request_id = id, "request");
    } else {
        tracing::info!(target: "http", %method, path, status, latency_ms, request_id = id, "request");
    }
}

/// What a person starting the server must see, on stdout.
fn announce(config: &Config, addr: SocketAddr) {
    println!("Mission Control listening on http://{addr}");
    let host = if addr.ip().is_loopback() {
        format!("localhost:{}", addr.port())
    } else {
        addr.to_string()
    };
    println!("Dashboard: http://{host}/");
    if let Some(password) = &config.admin.generated_password {
        println!(
            "First run: sign in as '{}' with password {password}\n\
             (shown once; only its hash is kept in the data folder. Set ADMIN_PASSWORD to choose your own.)",
            config.admin.username
        );
    }
}

async fn forget_idle_rate_limits(limits: Arc<Limits>) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    loop {
        every.tick().await;
        limits.login.forget_idle();
        limits.api.forget_idle();
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
