//! The core's integration tests, in one binary: the service API against a real database (an
//! SQLite file by default; a PostgreSQL schema of each test's own when the test command has
//! started a cluster and set `MISSION_CONTROL_TEST_POSTGRES`), one file per concept.
//! `support` opens the boards and holds the builders they share.
//!
//! Run one concept with `cargo test -p mission-control-core --test it claims::`.

mod support;

mod agents;
mod blockers_and_comments;
mod bounded_writes;
mod change_log;
mod claims;
mod clock;
mod durability;
mod events;
mod import;
mod moving;
mod parsing;
mod people;
mod presence;
mod retries;
mod sqlite;
mod tasks;
mod tokens;
