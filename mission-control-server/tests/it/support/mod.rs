//! What every server test shares: the real binary on a test's own store, its REST API spoken
//! by intent (all from `mission_control_testkit`: [`App`], [`Session`], [`Reply`]), the wire
//! shapes of a task and an agent, and ([`live`]) the change log and a socket's events.

pub mod live;

use std::sync::Arc;

pub use mission_control_testkit::app::{ADMIN_AGENT, ADMIN_PASSWORD, ADMIN_USER, SECRET};
pub use mission_control_testkit::{App, Reply, Session, TestStore, on_postgres, skip};
use serde_json::Value;

/// The fields of a task and of an agent on the wire, sorted: the specification's, and the
/// additions a client written to the specification can ignore (`version`, `updatedBy`,
/// `leaseExpiresAt`, `blockedBy`, `blocked`).
pub const TASK_KEYS: &[&str] = &[
    "assignedAgent",
    "blocked",
    "blockedBy",
    "createdAt",
    "createdBy",
    "description",
    "id",
    "leaseExpiresAt",
    "priority",
    "status",
    "tags",
    "title",
    "updatedAt",
    "updatedBy",
    "version",
];
pub const AGENT_KEYS: &[&str] = &["avatarColor", "id", "lastActive", "name", "role", "status"];

/// The keys of a JSON object, sorted.
pub fn sorted_keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

/// A fresh store of its own (for a second board, or one prepared before its server starts).
pub fn fresh_store() -> Arc<TestStore> {
    Arc::new(TestStore::new())
}

/// The store's database as the core names it, to open it beside the server as another
/// process would.
pub fn core_database(store: &TestStore) -> mission_control_core::Database {
    match store.postgres_url() {
        Some(url) => mission_control_core::Database::Postgres(url.to_owned()),
        None => mission_control_core::Database::Sqlite(store.sqlite_file().to_owned()),
    }
}
