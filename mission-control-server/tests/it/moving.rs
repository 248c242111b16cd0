//! Moving a board from its SQLite file to PostgreSQL, as a user does it: `export` from the
//! SQLite board once its server has stopped, `import` into the PostgreSQL database with the
//! SQLite board's signing key as `JWT_SECRET`, then serve the PostgreSQL board. Ids, the feed
//! (its seqs and their order), comments, blockers and the agents' tokens come across; a revoked
//! token stays revoked; and a file whose tokens another key signed is refused whole.
//!
//! This test needs both stores at once, so it runs only when the test command has started a
//! PostgreSQL cluster (`MISSION_CONTROL_TEST_POSTGRES`).

use std::process::{Output, Stdio};
use std::sync::Arc;

use super::support::*;
use mission_control_testkit::app::run_binary;
use serde_json::{Value, json};

/// The feed, oldest first from the start of the change log: (id, seq) of each line.
async fn feed(session: &Session) -> Vec<(String, i64)> {
    let r = session.events("after=0&limit=500").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["hasMore"], false);
    r.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_owned(),
                e["seq"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// The feed's ids, newest first, as the dashboard shows it.
async fn newest_first(session: &Session) -> Vec<String> {
    let r = session.events("limit=500").await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn succeeded(out: &Output) {
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// The test settings with `JWT_SECRET` left out: the SQLite server generates its own key, as a
/// server nobody configured does.
fn without_jwt_secret(env: Vec<(String, String)>) -> Vec<(String, String)> {
    env.into_iter().filter(|(k, _)| k != "JWT_SECRET").collect()
}

#[tokio::test]
async fn a_board_moves_from_sqlite_to_postgresql_with_its_feed_and_tokens() {
    if !on_postgres() {
        eprintln!("skipped: moving a board to PostgreSQL needs a PostgreSQL cluster");
        return;
    }
    // The SQLite board, with a signing key it generated.
    let source = Arc::new(TestStore::sqlite());
    let source_env = without_jwt_secret(App::env(&source, &[]));
    let old = App::launch(&source, source_env.clone(), Stdio::inherit()).await;
    let admin = old.login().await;
    let nova = admin
        .register_agent_with_token("agent-nova", "Nova", "Dev")
        .await;
    let a = nova.create_task(json!({"title": "A"})).await.task();
    let a_id = a["id"].as_str().unwrap().to_owned();
    let b_id = admin
        .create_task(json!({"title": "B", "blockedBy": [a_id], "tags": ["move"]}))
        .await
        .task_id();
    assert_eq!(nova.comment(&b_id, "note from Nova").await.status, 201);
    assert_eq!(nova.claim(&a_id).await.status, 200);
    assert_eq!(
        nova.update_task(&b_id, json!({"priority": "high"}))
            .await
            .status,
        200
    );
    // A second token of Nova's, revoked: it must stay revoked.
    let r = admin.mint_token(json!({"agentId": "agent-nova"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let revoked = old.session(r.body["token"].as_str().unwrap());
    assert_eq!(revoked.logout().await.status, 200);
    let feed_before = feed(&admin).await;
    let newest_before = newest_first(&admin).await;
    assert!(feed_before.len() >= 5, "{feed_before:?}");
    let b_before = admin.get_task(&b_id).await.body["task"].clone();
    assert!(old.terminate().await.success());

    // export, with the SQLite server stopped: the file, and where the key is.
    let file = source.dir().join("board.json");
    let out = run_binary(
        source.dir(),
        &["export", "--output", file.to_str().unwrap()],
        source_env,
    )
    .await;
    succeeded(&out);
    let key_file = source.dir().join("jwt-secret");
    assert!(
        text(&out.stderr).contains(&key_file.display().to_string()),
        "{}",
        text(&out.stderr)
    );
    let exported: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let exported_text = exported.to_string();
    assert!(
        !exported_text.contains(nova.token()),
        "no token in the file"
    );
    assert!(!exported_text.contains(admin.token()));
    let key = std::fs::read_to_string(&key_file)
        .unwrap()
        .trim()
        .to_owned();
    assert!(!exported_text.contains(&key), "no key in the file");

    // import into PostgreSQL with another key: refused, naming JWT_SECRET; nothing written.
    let target = Arc::new(TestStore::new());
    assert!(target.is_postgres());
    let import = |key: &str| {
        let env = App::env(&target, &[("JWT_SECRET", key)]);
        let (dir, file) = (target.dir().to_owned(), file.clone());
        async move { run_binary(&dir, &["import", file.to_str().unwrap()], env).await }
    };
    let out = import(SECRET).await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("JWT_SECRET"),
        "{}",
        text(&out.stderr)
    );
    let mut raw = target.raw();
    assert_eq!(raw.number("SELECT COUNT(*) FROM tasks"), Some(0));
    assert_eq!(raw.number("SELECT COUNT(*) FROM auth_tokens"), Some(0));

    // With the SQLite board's key: everything comes across, the feed with its own seqs.
    let out = import(&key).await;
    succeeded(&out);
    let said = text(&out.stdout);
    assert!(said.contains("2 tasks, 1 comments"), "{said}");
    assert!(said.contains("2 tokens, 1 revocations"), "{said}");
    assert!(said.contains("The feed keeps its seqs"), "{said}");

    let new = App::start_on(&target, &[("JWT_SECRET", key.as_str())]).await;
    // Tokens issued on the SQLite board work here: the operator's sign-in, Nova's own.
    let admin = new.session(admin.token());
    let nova = new.session(nova.token());
    let revoked = new.session(revoked.token());
    let b = admin.get_task(&b_id).await;
    assert_eq!(b.status, 200, "{}", b.body);
    assert_eq!(b.body["task"]["blockedBy"], json!([a_id]));
    assert_eq!(b.body["task"]["id"], b_before["id"]);
    assert_eq!(b.body["task"]["version"], b_before["version"]);
    assert_eq!(b.body["task"]["priority"], "high");
    let notes = nova.comments(&b_id, "").await;
    assert_eq!(notes.status, 200, "{}", notes.body);
    assert_eq!(notes.body["comments"][0]["text"], "note from Nova");
    assert_eq!(notes.body["comments"][0]["author"], "agent-nova");
    let c = nova
        .create_task(json!({"title": "C, after the move"}))
        .await;
    assert_eq!(c.status, 201, "{}", c.body);
    assert_eq!(c.body["task"]["createdBy"], "agent-nova");
    // The revoked token stays revoked.
    revoked
        .get_task(&b_id)
        .await
        .error_fields(401, "unauthorized");

    // The feed: the same lines with the same seqs, in the same order, and what happens next
    // comes after them.
    let feed_after = feed(&admin).await;
    assert_eq!(feed_after[..feed_before.len()], feed_before[..]);
    let last_before = feed_before.last().unwrap().1;
    assert!(
        feed_after[feed_before.len()..]
            .iter()
            .all(|(_, seq)| *seq > last_before),
        "{feed_after:?}"
    );
    let newest_after = newest_first(&admin).await;
    assert_eq!(
        newest_after[newest_after.len() - newest_before.len()..],
        newest_before[..]
    );
    assert!(new.terminate().await.success());
}
