//! The board every core test opens: `MissionControl` on the test's own store (an SQLite file
//! in a temporary folder, or a fresh PostgreSQL schema when `MISSION_CONTROL_TEST_POSTGRES`
//! names a cluster; see `mission_control_testkit::store`), with the operator `agent-patch`,
//! and the small builders the tests share.

use std::ops::Deref;
use std::sync::Arc;

use mission_control_core::*;
pub use mission_control_testkit::store::{Raw, TestStore};
pub use mission_control_testkit::{on_postgres, skip};

pub const SECRET: &[u8] = b"a-test-secret-of-at-least-32-bytes!!";
pub const OPERATOR: &str = "agent-patch";
/// Where a test's SQLite file goes in its folder: opening the board makes the folders.
pub const BOARD_FILE: &str = "nested/folder/board.db";

/// The database of a test's store, as the core names it.
pub fn database(store: &TestStore) -> Database {
    match store.postgres_url() {
        Some(url) => Database::Postgres(url.to_owned()),
        None => Database::Sqlite(store.sqlite_file().to_owned()),
    }
}

/// The defaults for a board on `store`, signed with the test secret.
pub fn options(store: &TestStore) -> Options {
    Options::new(database(store), SECRET)
}

/// Opens a board; on PostgreSQL from a thread of its own, as the synchronous client needs.
pub fn open(options: Options) -> MissionControl {
    std::thread::spawn(move || MissionControl::open_with(options))
        .join()
        .expect("opening panicked")
        .unwrap_or_else(|e| panic!("open the board: {e}"))
}

/// An open board and its store: derefs to the [`MissionControl`].
pub struct Board {
    /// `Some` until dropped.
    mc: Option<MissionControl>,
    pub store: Arc<TestStore>,
}

impl Deref for Board {
    type Target = MissionControl;
    fn deref(&self) -> &MissionControl {
        self.mc.as_ref().expect("an open board")
    }
}

/// The board's own handle goes on a thread of its own, so that a test that fails (unwinding
/// through an async test) never meets a second panic there and aborts the whole binary; closing
/// the last handle inside async code is `durability::a_board_dropped_inside_async_code_...`'s.
impl Drop for Board {
    fn drop(&mut self) {
        if let Some(mc) = self.mc.take() {
            let _ = std::thread::spawn(move || drop(mc)).join();
        }
    }
}

impl Board {
    /// A fresh, empty board with `agent-patch` as its operator (nobody registered).
    pub fn empty() -> Board {
        Self::empty_on(Arc::new(TestStore::with_sqlite_file(BOARD_FILE)))
    }

    /// A fresh, empty board on `store`.
    pub fn empty_on(store: Arc<TestStore>) -> Board {
        Self::open_with(store, |_| {})
    }

    /// A board on `store`, its options as the defaults changed by `adjust`.
    pub fn open_with(store: Arc<TestStore>, adjust: impl FnOnce(&mut Options)) -> Board {
        let mut options = options(&store);
        options.operator = Some(AgentId::parse(OPERATOR).unwrap());
        adjust(&mut options);
        Board {
            mc: Some(open(options)),
            store,
        }
    }

    /// A fresh board with these agents registered (id, name, role).
    pub async fn with_agents(agents: &[(&str, &str, &str)]) -> Board {
        let board = Self::empty();
        board.register(agents).await;
        board
    }

    /// Registers agents (id, name, role) as the board itself does at start.
    pub async fn register(&self, agents: &[(&str, &str, &str)]) {
        for (id, name, role) in agents {
            self.register_agent(None, agent(id, name, role))
                .await
                .unwrap();
        }
    }

    /// Another handle on the same store, as another process opens it (its own connections
    /// and writer), with the same options as [`Board::open_with`] gives.
    pub fn reopen(&self, adjust: impl FnOnce(&mut Options)) -> Board {
        Self::open_with(self.store.clone(), adjust)
    }

    /// Another handle on this board (the same store, writer and bus), for a spawned task.
    pub fn handle(&self) -> MissionControl {
        (**self).clone()
    }

    /// A connection to the store behind the board's back.
    pub fn raw(&self) -> Raw {
        self.store.raw()
    }
}

pub fn actor(id: &str) -> Actor {
    Actor::new(id)
}

pub fn agent(id: &str, name: &str, role: &str) -> NewAgent {
    NewAgent::parse(NewAgentRequest {
        id: Some(id.into()),
        name: Some(name.into()),
        role: Some(role.into()),
        ..Default::default()
    })
    .unwrap()
}

/// A new task from its JSON request.
pub fn new_task(json: &str) -> NewTask {
    NewTask::parse(serde_json::from_str(json).unwrap()).unwrap()
}

/// Task changes from their JSON request.
pub fn changes(json: &str) -> TaskChanges {
    TaskChanges::parse(serde_json::from_str(json).unwrap()).unwrap()
}

/// Agent changes from their JSON request.
pub fn agent_changes(json: &str) -> AgentChanges {
    AgentChanges::parse(serde_json::from_str(json).unwrap()).unwrap()
}

pub fn lease(seconds: i64) -> LeaseDuration {
    LeaseDuration::seconds(seconds).unwrap()
}

/// The conflict an error is (panics on any other error).
pub fn conflict(err: Error) -> Conflict {
    match err {
        Error::Conflict(c) => c,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

/// Every change after `after`, page by page.
pub async fn all_changes_after(mc: &MissionControl, mut after: i64) -> Vec<ChangeEntry> {
    let mut all = Vec::new();
    loop {
        match mc.changes_after(after, 100).await.unwrap() {
            Catchup::Changes(page) => {
                let Some(last) = page.changes.last() else {
                    return all;
                };
                after = last.seq;
                all.extend(page.changes);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// The operator, Patch.
pub fn patch() -> Actor {
    Actor::new(OPERATOR)
}

/// A board with Patch (the operator, Dev) and Nova (Research); its clock is not running.
pub async fn board() -> Board {
    Board::with_agents(&[
        ("agent-patch", "Patch", "Dev"),
        ("agent-nova", "Nova", "Research"),
    ])
    .await
}

/// A board served here, so its clock runs (leases expire, silent agents go offline), with
/// Patch (the operator), Nova and Rex, all Dev.
pub async fn board_at_work() -> Board {
    board_at_work_with(Options::DEFAULT_AGENT_OFFLINE_AFTER).await
}

/// [`board_at_work`], agents going offline after `offline_after` of silence.
pub async fn board_at_work_with(offline_after: std::time::Duration) -> Board {
    let board = Board::open_with(Arc::new(TestStore::with_sqlite_file(BOARD_FILE)), |o| {
        o.agent_offline_after = offline_after
    });
    board.start_sweeps().unwrap();
    board
        .register(&[
            ("agent-patch", "Patch", "Dev"),
            ("agent-nova", "Nova", "Dev"),
            ("agent-rex", "Rex", "Dev"),
        ])
        .await;
    board
}
