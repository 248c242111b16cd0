//! The sweeper: the rules that run on the clock rather than on a request.
//!
//! Once a second it returns expired claims to `todo`; every few seconds it marks silent agents
//! offline; every half minute it writes signs of life and token use to the database; every
//! minute it forgets expired tokens, day-old idempotency keys and changes past the change
//! log's bounds in age, count and bytes (the change log also right after start, so that a board served after a long
//! pause does not offer resuming clients a log it is about to forget). It runs on its own
//! thread with a small runtime of its own, and holds the board only weakly, so that dropping
//! the last handle still closes the database.
//!
//! Nothing starts it but [`MissionControl::start_sweeps`]: the process that serves the board
//! runs it, and no other (see `service/mod.rs`). Several server processes can serve one board
//! on PostgreSQL: each writes its own signs of life and token use, but only one of them, the
//! leader (see `store/postgres/leader.rs`), runs the rules that change the board, so that a
//! claim runs out once and an agent goes offline once.

use std::sync::{Arc, Condvar, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{Inner, MissionControl};
use crate::domain::now_millis;
use crate::error::{Error, Result};
use crate::store::postgres::Leadership;

const TICK: Duration = Duration::from_secs(1);
const PRESENCE_EVERY: u64 = 5;
/// Signs of life are written at least this often (in rounds), and more often when agents go
/// offline sooner: at least four times within `agent_offline_after`, so that the process that
/// leads the clock sees an agent alive whichever process it talks to.
const FLUSH_EVERY: u64 = 30;
const FORGET_EVERY: u64 = 60;

pub(crate) struct Sweeper {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Sweeper {
    pub fn start(board: Weak<Inner>) -> Result<Self> {
        let leadership = board
            .upgrade()
            .and_then(|inner| inner.postgres.clone())
            .map(|target| {
                let mut leadership = Leadership::new(target);
                // Take the lead at once when it is free, so that a board being served says so
                // from the start (`served_elsewhere`): a blocking query, so on a thread of its
                // own, whatever thread starts the sweeps.
                std::thread::scope(|scope| {
                    scope.spawn(|| leadership.check());
                });
                leadership
            });
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let signal = stop.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|e| Error::Internal(format!("cannot start the sweeper: {e}")))?;
        let thread = std::thread::Builder::new()
            .name("mission-control-sweeper".into())
            .spawn(move || run(&runtime, &board, &signal, leadership))
            .map_err(|e| Error::Internal(format!("cannot start the sweeper: {e}")))?;
        Ok(Sweeper {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the sweeper after its current round; blocks until it has.
    pub fn stop_blocking(mut self) {
        self.signal_stop();
        if let Some(thread) = self.thread.take()
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
    }

    fn signal_stop(&self) {
        let (flag, wake) = &*self.stop;
        if let Ok(mut stopped) = flag.lock() {
            *stopped = true;
        }
        wake.notify_all();
    }
}

impl Drop for Sweeper {
    fn drop(&mut self) {
        // Never joins: the last handle may be dropped on the sweeper's own thread.
        self.signal_stop();
    }
}

fn run(
    runtime: &tokio::runtime::Runtime,
    board: &Weak<Inner>,
    stop: &(Mutex<bool>, Condvar),
    mut leadership: Option<Leadership>,
) {
    let (flag, wake) = stop;
    let mut round: u64 = 0;
    // The round in which this process last became the leader.
    let mut led_since: Option<u64> = None;
    loop {
        {
            let Ok(stopped) = flag.lock() else { return };
            let Ok((stopped, _)) = wake.wait_timeout_while(stopped, TICK, |s| !*s) else {
                return;
            };
            if *stopped {
                return;
            }
        }
        round += 1;
        let Some(inner) = board.upgrade() else { return };
        // Blocking (a query on PostgreSQL): asked here, outside the runtime.
        let leads = match &inner.postgres {
            None => true,
            Some(target) => leadership
                .get_or_insert_with(|| Leadership::new(target.clone()))
                .check(),
        };
        led_since = match (leads, led_since) {
            (true, None) => Some(round),
            (true, since) => since,
            (false, _) => None,
        };
        let flush_every = (inner.agent_offline_after.as_secs() / 4).clamp(1, FLUSH_EVERY);
        let mc = MissionControl { inner };
        if round.is_multiple_of(flush_every) {
            runtime.block_on(record(&mc));
        }
        if let Some(since) = led_since {
            runtime.block_on(sweep(&mc, round - since + 1));
        }
    }
}

/// What every serving process writes of what it alone knows: who it has seen, and which
/// tokens were used.
async fn record(mc: &MissionControl) {
    report(
        "record signs of life",
        mc.flush_presence().await.map(|()| 0),
    );
    report("record token use", mc.flush_token_use().await.map(|()| 0));
}

/// The rules that change the board, run by the leader; `round` counts from when it took the
/// lead.
async fn sweep(mc: &MissionControl, round: u64) {
    let now = now_millis();
    report("expire claims", mc.expire_leases(now).await);
    if round.is_multiple_of(PRESENCE_EVERY) {
        report("mark silent agents offline", mc.sweep_presence(now).await);
    }
    if round.is_multiple_of(FORGET_EVERY) {
        report("forget expired tokens", mc.sweep_expired_tokens(now).await);
        report(
            "forget old idempotency keys",
            mc.sweep_idempotency_keys(now).await,
        );
    }
    if round == 1 || round.is_multiple_of(FORGET_EVERY) {
        report("trim the change log", mc.sweep_change_log(now).await);
    }
}

/// Logs what a sweep did, and its failures at most once a minute per kind (a full disk would
/// otherwise say the same thing every second).
fn report(what: &'static str, result: Result<usize>) {
    use std::collections::HashMap;
    use std::sync::LazyLock;
    use std::time::Instant;
    static LAST_WARNED: LazyLock<Mutex<HashMap<&'static str, Instant>>> =
        LazyLock::new(Mutex::default);
    match result {
        Ok(0) => {}
        Ok(n) => tracing::debug!(n, "{what}"),
        Err(e) => {
            let mut last = LAST_WARNED.lock().unwrap_or_else(|e| e.into_inner());
            let due = last
                .get(what)
                .is_none_or(|at| at.elapsed() >= Duration::from_secs(60));
            if due {
                last.insert(what, Instant::now());
                tracing::warn!(error = %e, "could not {what}; will keep trying");
            }
        }
    }
}
