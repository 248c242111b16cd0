//! The single writer: one thread owns the write connection and commits whatever writes are
//! waiting in one transaction (group commit).
//!
//! SQLite allows one writer at a time, so many writers contending for the lock would only take
//! turns, each paying for its own commit. Instead every write is a job sent to this thread; the
//! thread takes all jobs waiting (up to [`MAX_BATCH`]), runs each inside its own savepoint (so
//! one job's failure rolls back only that job; a job alone in its batch needs none, its failure
//! rolls back the transaction), commits once, and only then answers each caller
//! and publishes its domain events. A caller that got `Ok` therefore knows its write is on disk,
//! and subscribers see events exactly once, in commit order, and never for a rolled-back write.
//!
//! Seqs: the writer reads the last seq once at the start of each group commit, hands out the
//! next ones to the batch's changes, and (on PostgreSQL) writes the new last seq back before it
//! commits; it adds the bytes of the payloads the batch logged to the log's size, once. SQLite's `BEGIN IMMEDIATE` and, on PostgreSQL, a transaction-scoped advisory lock
//! taken at the start of each group commit serialize the batches of every process on the
//! database, so seqs are dense and in commit order everywhere, and every rule that checks and
//! then writes (claims, `If-Match`, idempotency keys) is as safe across processes as within one.
//! On PostgreSQL each batch that logged changes also rings a `NOTIFY` with its last seq, so
//! other processes read the log at once rather than at their next poll.
//!
//! Between two group commits the thread also keeps SQLite's write-ahead log under its bound
//! (see [`super::sqlite::wal`]): that is the one moment no write is in flight.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot, watch};

use super::health::StoreHealth;
use super::sqlite::wal::{WalBound, WalStats};
use super::{Connection, Dialect, PgTarget, Sql, changes, events, params, postgres};
use crate::bus::{ChangeEntry, Committed, DomainEvent, EventBus};
use crate::domain::now_millis;
use crate::error::{Error, Result};

/// Most jobs folded into one transaction: enough to amortise the commit, small enough that one
/// batch never holds the lock for long.
const MAX_BATCH: usize = 256;
/// Jobs that may queue before callers wait for room (back-pressure rather than unbounded memory).
const QUEUE_DEPTH: usize = 4096;

/// The seqs of one group commit: the last one handed out, and where the batch started; and the
/// bytes of the payloads it logged, for the log's size.
pub(crate) struct Seqs {
    last: i64,
    at_start: i64,
    bytes: i64,
}

impl Seqs {
    /// Sets aside the next `count` seqs for rows that keep a seq of their own but announce
    /// nothing (an import's feed lines, in their order): the last seq before them, so the
    /// first set aside is one above it. The changes logged after them come after them, in this
    /// batch and every later one.
    pub(crate) fn reserve(&mut self, conn: &Connection, count: i64) -> Result<i64> {
        let before = self.last;
        let last = before
            .checked_add(count)
            .filter(|_| count >= 0)
            .ok_or_else(|| Error::field("seq", "the change log cannot hold that many seqs"))?;
        // SQLite's own counter moves only with the rows it numbers; PostgreSQL's is written
        // back when the batch commits, as always.
        changes::set_sqlite_latest(conn, last)?;
        self.last = last;
        Ok(before)
    }
}

/// What a write job returns: its result for the caller, and the events to publish on commit.
pub(crate) type Written<T> = (T, Vec<DomainEvent>);

trait Job: Send {
    /// Runs the job's statements inside the open transaction; in a savepoint of its own when
    /// `isolated` (other jobs share the transaction), else its failure leaves the transaction
    /// for the caller to roll back.
    fn run(&mut self, conn: &Connection, seqs: &mut Seqs, isolated: bool);
    /// Whether the job ran and failed.
    fn failed(&self) -> bool;
    /// Answers the caller once the transaction's fate is known.
    fn finish(self: Box<Self>, committed: Result<(), String>, bus: &EventBus);
}

struct Op<T, F> {
    work: Option<F>,
    outcome: Option<Result<(T, Vec<Committed>)>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> Job for Op<T, F>
where
    T: Send,
    F: FnOnce(&Connection, &mut Seqs) -> Result<Written<T>> + Send,
{
    fn run(&mut self, conn: &Connection, seqs: &mut Seqs, isolated: bool) {
        let Some(work) = self.work.take() else { return };
        if isolated && let Err(e) = conn.control("SAVEPOINT job") {
            self.outcome = Some(Err(e));
            return;
        }
        let (before, bytes_before) = (seqs.last, seqs.bytes);
        // A panic in one job must not take down the writer thread (and with it every later
        // write); it becomes that job's error and its savepoint is rolled back.
        let outcome = catch_unwind(AssertUnwindSafe(|| work(conn, seqs)))
            .unwrap_or_else(|_| Err(Error::Internal("a write panicked".into())))
            .and_then(|(value, events)| Ok((value, log_changes(conn, seqs, events)?)));
        if outcome.is_err() {
            // The job's seqs go back with its rows.
            seqs.last = before;
            seqs.bytes = bytes_before;
        }
        let ended = if !isolated {
            Ok(())
        } else if outcome.is_ok() {
            conn.control("RELEASE job")
        } else {
            conn.control("ROLLBACK TO job")
                .and_then(|()| conn.control("RELEASE job"))
        };
        self.outcome = Some(ended.and(outcome));
    }

    fn failed(&self) -> bool {
        matches!(self.outcome, Some(Err(_)))
    }

    fn finish(self: Box<Self>, committed: Result<(), String>, bus: &EventBus) {
        let answer = match (committed, self.outcome) {
            (Ok(()), Some(Ok((value, committed)))) => {
                for change in committed {
                    bus.publish(change);
                }
                Ok(value)
            }
            (Ok(()), Some(Err(e))) => Err(e),
            (Err(reason), _) => Err(Error::Unavailable(reason)),
            (Ok(()), None) => Err(Error::Internal("a write was not run".into())),
        };
        // The caller may have gone away (request cancelled); the write stands regardless.
        let _ = self.reply.send(answer);
    }
}

/// Writes each change to the change log, in the job's transaction, and pairs it with its
/// `seq`. The single writer hands out seqs itself (the next after the last ever used), so that
/// an event-log row can carry its own seq in the payload that announces it.
fn log_changes(
    conn: &Connection,
    seqs: &mut Seqs,
    events: Vec<DomainEvent>,
) -> Result<Vec<Committed>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let now = now_millis();
    let mut committed = Vec::with_capacity(events.len());
    for mut event in events {
        seqs.last += 1;
        let seq = seqs.last;
        if let DomainEvent::EventLogged(line) = &mut event {
            line.seq = Some(seq);
            events::insert(conn, line)?;
        }
        let name = event.log_name();
        let payload = event
            .log_payload()
            .map_err(|e| Error::Internal(format!("cannot serialise a change: {e}")))?;
        changes::insert(conn, seq, name, &payload, now)?;
        seqs.bytes += i64::try_from(payload.len()).unwrap_or(i64::MAX);
        committed.push(Committed {
            event,
            logged: ChangeEntry {
                seq,
                name: name.to_owned(),
                payload,
            },
        });
    }
    Ok(committed)
}

/// Handle to the writer thread. Dropping the last handle (or calling `shutdown`) lets the
/// thread finish queued work and close the connection.
pub(crate) struct Writer {
    sender: Mutex<Option<mpsc::Sender<Box<dyn Job>>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    wal: Arc<Mutex<WalStats>>,
}

impl Writer {
    /// Starts the thread on `conn`, the write connection from [`super::open`]. On SQLite the
    /// WAL is kept under that connection's `journal_size_limit`; on PostgreSQL a lost
    /// connection is made again from `reconnect` before the next batch.
    pub fn start(
        mut conn: Connection,
        reconnect: Option<PgTarget>,
        bus: EventBus,
        announce: watch::Sender<i64>,
        health: Arc<StoreHealth>,
    ) -> Result<Self> {
        let wal = match &mut conn {
            Connection::Sqlite(sqlite) => Some(WalBound::attach(sqlite)?),
            Connection::Postgres(_) => None,
        };
        let stats = wal.as_ref().map_or_else(
            || Arc::new(Mutex::new(WalStats::default())),
            WalBound::stats,
        );
        let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
        let thread = std::thread::Builder::new()
            .name("mission-control-writer".into())
            .spawn(move || {
                run(
                    Thread {
                        conn,
                        reconnect,
                        wal,
                    },
                    receiver,
                    bus,
                    announce,
                    &health,
                )
            })
            .map_err(|e| Error::Internal(format!("cannot start the writer thread: {e}")))?;
        Ok(Writer {
            sender: Mutex::new(Some(sender)),
            thread: Mutex::new(Some(thread)),
            wal: stats,
        })
    }

    /// How the write-ahead log has fared so far.
    pub fn wal_stats(&self) -> WalStats {
        self.wal.lock().map(|s| *s).unwrap_or_default()
    }

    /// Queues `work` to run in the next transaction and waits until that transaction commits.
    pub async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<Written<T>> + Send + 'static,
    {
        self.write_with_seqs(move |conn, _| work(conn)).await
    }

    /// [`Writer::write`] for the rare job that sets seqs aside ([`Seqs::reserve`]).
    pub async fn write_with_seqs<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &mut Seqs) -> Result<Written<T>> + Send + 'static,
    {
        let sender = self.sender()?;
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(Op {
            work: Some(work),
            outcome: None,
            reply,
        });
        sender.send(job).await.map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }

    fn sender(&self) -> Result<mpsc::Sender<Box<dyn Job>>> {
        self.sender
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .ok_or_else(closed)
    }

    /// Stops taking writes, lets the queued ones commit, and closes the connection (which
    /// checkpoints the WAL). Blocks until done; later writes fail with `Unavailable`.
    pub fn shutdown_blocking(&self) {
        if let Ok(mut sender) = self.sender.lock() {
            sender.take();
        }
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.shutdown_blocking();
    }
}

fn closed() -> Error {
    Error::Unavailable("the store is shut down".into())
}

/// What the writer thread owns.
struct Thread {
    conn: Connection,
    reconnect: Option<PgTarget>,
    wal: Option<WalBound>,
}

impl Thread {
    /// Makes a lost PostgreSQL connection again; `Err` while the database cannot be reached.
    fn ensure_connected(&mut self) -> Result<(), String> {
        let Connection::Postgres(pg) = &self.conn else {
            return Ok(());
        };
        if !pg.is_closed() {
            return Ok(());
        }
        let Some(target) = &self.reconnect else {
            return Err("the database connection was lost".into());
        };
        let fresh = target.connect().map_err(|e| e.to_string())?;
        tracing::info!("reconnected to PostgreSQL");
        self.conn = Connection::Postgres(Box::new(fresh));
        Ok(())
    }
}

fn run(
    mut thread: Thread,
    mut jobs: mpsc::Receiver<Box<dyn Job>>,
    bus: EventBus,
    announce: watch::Sender<i64>,
    health: &StoreHealth,
) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
    // Commits do not wait for the disk (WAL with `synchronous = NORMAL`), so a batch is what
    // queued while the previous one ran. Yielding the processor before taking it, so that
    // more requests reach the queue, was measured: bigger batches did not pay for the yield.
    while let Some(first) = jobs.blocking_recv() {
        batch.push(first);
        take_waiting(&mut jobs, &mut batch);
        // Never write into a file that is no longer the database at its path, nor on a
        // connection that is gone.
        let committed = match health
            .check_file()
            .map_err(reason)
            .and_then(|()| thread.ensure_connected())
        {
            Ok(()) => commit_batch(&thread.conn, &mut batch),
            Err(e) => Err(e),
        };
        let outcome = committed.as_ref().map(|_| ()).map_err(Clone::clone);
        health.note_commit(&outcome);
        if let Err(reason) = &outcome {
            tracing::error!(reason, jobs = batch.len(), "a write transaction failed");
        }
        for job in batch.drain(..) {
            job.finish(outcome.clone(), &bus);
        }
        // Rung after the bus has the batch's changes, so a follower of both hears the bus
        // first and finds nothing left to read from the log.
        if let Ok(Some(last)) = committed {
            announce.send_if_modified(|known| {
                let newer = last > *known;
                *known = (*known).max(last);
                newer
            });
        }
        // Every caller of this batch has its answer; writes that come in now wait for this.
        if let (Some(wal), Connection::Sqlite(conn)) = (&mut thread.wal, &mut thread.conn) {
            wal.after_commit(conn);
        }
    }
    if let Connection::Sqlite(conn) = thread.conn
        && let Err((_, e)) = conn.close()
    {
        tracing::error!(error = %e, "closing the database failed");
    }
}

/// Adds the jobs waiting now to `batch`, up to [`MAX_BATCH`].
fn take_waiting(jobs: &mut mpsc::Receiver<Box<dyn Job>>, batch: &mut Vec<Box<dyn Job>>) {
    while batch.len() < MAX_BATCH {
        match jobs.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
}

/// One group commit: every job of the batch in one transaction, each in its own savepoint; the
/// last seq it handed out, if it logged any change.
fn commit_batch(conn: &Connection, batch: &mut [Box<dyn Job>]) -> Result<Option<i64>, String> {
    const LOCK: Sql = Sql::new("SELECT pg_advisory_xact_lock(hashtext(current_schema()), ?1)");
    const NOTIFY: Sql = Sql::new("SELECT pg_notify(?1 || current_schema(), ?2)");
    let begin = || -> Result<i64> {
        match conn.dialect() {
            Dialect::Sqlite => conn.control("BEGIN IMMEDIATE")?,
            Dialect::Postgres => {
                conn.control("BEGIN")?;
                conn.execute(&LOCK, params![postgres::WRITE_LOCK])?;
            }
        }
        changes::latest(conn)
    };
    let last = match begin() {
        Ok(last) => last,
        Err(e) => {
            let _ = conn.batch("ROLLBACK");
            return Err(reason(e));
        }
    };
    let mut seqs = Seqs {
        last,
        at_start: last,
        bytes: 0,
    };
    // A job alone in its transaction needs no savepoint (nor the undo record SQLite keeps for
    // one): should it fail, the whole transaction is rolled back instead.
    let alone = batch.len() == 1;
    for job in batch.iter_mut() {
        job.run(conn, &mut seqs, !alone);
    }
    if alone && batch.iter().all(|job| job.failed()) {
        return match conn.control("ROLLBACK") {
            Ok(()) => Ok(None),
            Err(e) => Err(reason(e)),
        };
    }
    let logged = seqs.last != seqs.at_start;
    let finish = || -> Result<Option<i64>> {
        changes::grow(conn, seqs.bytes)?;
        if logged && conn.dialect() == Dialect::Postgres {
            changes::set_latest(conn, seqs.last)?;
            conn.execute(
                &NOTIFY,
                params![postgres::CHANGES_CHANNEL, seqs.last.to_string()],
            )?;
        }
        conn.control("COMMIT")?;
        Ok(logged.then_some(seqs.last))
    };
    finish().map_err(|e| {
        let _ = conn.batch("ROLLBACK");
        reason(e)
    })
}

/// Why a transaction failed, in words the callers' `Unavailable` error wraps once.
fn reason(error: Error) -> String {
    match error {
        Error::Unavailable(reason) => reason,
        other => other.to_string(),
    }
}
