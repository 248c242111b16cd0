//! Start-up and shutdown in one place: take the port, provision what is missing, open the
//! store, register the operator's agent, start the board's clock (the core's sweeps: leases,
//! presence, forgetting), build the service stack (Socket.io around REST and the dashboard),
//! serve until SIGTERM or Ctrl-C, then drain and close the database.
//!
//! Only `serve` does the middle two: the other commands open the same store and write nothing
//! but what they are asked to, so a command run beside the server never changes what the
//! server decides (who is online, which leases ran out).
//!
//! The port comes first: a start that cannot listen generates nothing and changes nothing, so
//! a first run that fails (the port taken) does not lose the password it would have shown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mission_control_core::{AgentStatus, MissionControl, NewAgent, Options};
use tokio::net::TcpListener;

use crate::api::password_check::PasswordChecks;
use crate::api::state::{AppState, Limits};
use crate::config::Config;
use crate::lock::ServerLock;
use crate::provision::{self, Generated, ProvisionError, Secrets};
use crate::realtime::{self, StreamCaps, StreamFeed};
use crate::web::client::TrustedProxies;
use crate::web::connections::admission::{Admission, ConnectionCaps};
use crate::web::connections::descriptors;
use crate::web::dashboard::Dashboard;
use crate::web::rate_limit::{GlobalLimiter, Limiter};

/// Sign-in attempts a minute from all addresses together.
const LOGIN_ATTEMPTS_PER_MINUTE_IN_ALL: u32 = 120;
/// Failed authentications a minute from one address before it is answered 429.
const FAILED_AUTHENTICATIONS_PER_MINUTE: u32 = 60;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Core(#[from] mission_control_core::Error),
    #[error(transparent)]
    Provision(#[from] ProvisionError),
    #[error(transparent)]
    Lock(#[from] crate::lock::LockError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Opens the store; writes nothing.
pub fn open_store(
    config: &Config,
    secrets: &Secrets,
    create: bool,
) -> Result<MissionControl, StartupError> {
    let mut options = Options::new(
        config.database.clone(),
        secrets.jwt_secret.expose().as_bytes().to_vec(),
    );
    options.database_direct = config.database_direct.clone();
    options.create = create;
    options.operator = Some(config.admin.agent_id.clone());
    options.agent_offline_after = config.agent_offline_after;
    options.change_log_retention = config.change_log_retention;
    options.change_log_max_entries = config.change_log_max_entries;
    options.change_log_max_bytes = config.change_log_max_bytes;
    options.wal_max_bytes = config.wal_max_bytes;
    Ok(MissionControl::open_with(options)?)
}

/// Opens the store of a server that has run before, for commands other than `serve`; refuses
/// to create a database anywhere, and writes nothing.
pub fn open_existing_store(config: &Config) -> Result<MissionControl, StartupError> {
    let secrets = provision::existing(config)?;
    open_store(config, &secrets, false)
}

/// What serving the board adds to opening it: the operator's own agent is registered (or its
/// card brought up to date), and the board's clock starts in this process.
async fn serve_store(mc: &MissionControl, config: &Config) -> Result<(), StartupError> {
    mc.ensure_agent(NewAgent {
        id: config.admin.agent_id.clone(),
        name: config.admin.name.clone(),
        role: config.admin.role,
        status: AgentStatus::Online,
        avatar_color: None,
    })
    .await?;
    mc.start_sweeps()?;
    Ok(())
}

/// Runs the server until a shutdown signal, then shuts down gracefully.
pub async fn run(config: Config) -> Result<(), StartupError> {
    let signal = shutdown_signal();
    let config = Arc::new(config);
    // One server per SQLite file (a second would not see the first's live connections); any
    // number on one PostgreSQL database.
    let _lock = match config.sqlite_path() {
        Some(path) => {
            crate::provision::create_private_dir(&config.data_dir)?;
            Some(ServerLock::acquire(path)?)
        }
        None => None,
    };
    let open_files = descriptors::raise_open_file_limit();
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
    let (secrets, mut generated) = provision::provision(&config)?;
    let mc = open_store(&config, &secrets, true)?;
    if let Some(password) = provision::provision_in_database(&config, &mc).await? {
        generated.admin_password = Some(password);
    }
    serve_store(&mc, &config).await?;

    let state = AppState {
        mc: mc.clone(),
        config: config.clone(),
        limits: Arc::new(Limits {
            login: Limiter::per_minute(config.login_rate_limit_per_minute),
            login_global: GlobalLimiter::per_minute(LOGIN_ATTEMPTS_PER_MINUTE_IN_ALL),
            failed_auth: Limiter::per_minute(FAILED_AUTHENTICATIONS_PER_MINUTE),
            api: Limiter::per_minute(config.rate_limit_per_minute),
        }),
        password_checks: Arc::new(PasswordChecks::default()),
        slots: Arc::default(),
        mcp: crate::mcp::service(),
        stream_feed: StreamFeed::new(StreamCaps::new(
            config.event_streams.total,
            config.event_streams.per_token,
        )),
    };
    let stream_feed = state.stream_feed.clone();
    tokio::spawn(forget_idle_clients(state.clone()));

    let api = crate::api::service(state, Dashboard::new(config.dashboard_dir.as_deref()));
    let (service, io) = realtime::attach(
        mc.clone(),
        stream_feed.clone(),
        config.sockets_per_token,
        api,
    );
    let admission = Admission::new(
        connection_caps(&config, open_files),
        TrustedProxies::new(config.trusted_proxies.clone()),
    );
    announce(&config, addr, &generated, admission.caps());

    let shutdown = async {
        signal.await;
        // Live sockets and event streams first: they would otherwise hold the drain up.
        stream_feed.close();
        io.close().await;
    };
    crate::web::connections::serve::serve(listener, service, admission, shutdown).await;
    mc.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

/// The connection caps: the configured ones, within what the open-file limit allows.
fn connection_caps(config: &Config, open_files: u64) -> ConnectionCaps {
    let possible = usize::try_from(open_files.saturating_sub(descriptors::RESERVED))
        .unwrap_or(usize::MAX)
        .max(1);
    let total = match config.max_connections {
        Some(n) if n > possible => {
            tracing::warn!(
                configured = n,
                possible,
                "MAX_CONNECTIONS is above what the open-file limit allows; using the limit"
            );
            possible
        }
        Some(n) => n,
        None => possible.min(65_536),
    };
    ConnectionCaps {
        total,
        per_address: config.max_connections_per_address.min(total),
    }
}

/// What a person starting the server must see, on stdout.
fn announce(config: &Config, addr: SocketAddr, generated: &Generated, caps: ConnectionCaps) {
    println!("Mission Control listening on http://{addr}");
    let host = if addr.ip().is_loopback() {
        format!("localhost:{}", addr.port())
    } else {
        addr.to_string()
    };
    println!("Dashboard: http://{host}/");
    println!("Database: {}", config.database);
    if let Some(path) = &generated.signing_key {
        println!(
            "Generated a token signing key in {} (set JWT_SECRET to use your own).",
            path.display()
        );
    }
    if let Some((password, kept)) = &generated.admin_password {
        println!(
            "First run: sign in as '{}' with password {}\n\
             (shown once; only its hash is kept, in {}. Set ADMIN_PASSWORD to choose your own,\n\
             or run `mission-control-server reset-admin-password` for a new one.)",
            config.admin.username,
            password.expose(),
            kept
        );
    }
    tracing::info!(
        max_connections = caps.total,
        per_address = caps.per_address,
        "serving"
    );
}

async fn forget_idle_clients(state: AppState) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    loop {
        every.tick().await;
        state.limits.forget_idle();
        state.password_checks.forget_old();
    }
}

/// Listens for SIGTERM and Ctrl-C from this call on (so that a signal arriving while the
/// server starts is not lost to the default action); the future resolves at the first.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let terminate = signal(SignalKind::terminate()).ok();
        let interrupt = signal(SignalKind::interrupt()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(terminate) => {},
                () = wait(interrupt) => {},
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
