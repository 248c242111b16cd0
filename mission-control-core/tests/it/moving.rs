//! Moving a board with an export and an import: the feed keeps its seqs' order (after the
//! receiving board's own), tokens come only into a board that signs with the same key, and a
//! revoked token never comes back, whichever board revoked it.

use super::support::*;
use mission_control_core::*;
use serde_json::{Value, json};

const OTHER_SECRET: &[u8] = b"another-secret-of-at-least-32-bytes!";

/// A board with a history: two tasks, a comment, and Nova's token.
async fn busy_board() -> (Board, IssuedToken) {
    let b = board().await;
    let p = patch();
    let a = b
        .create_task(&p, new_task(r#"{"title":"A"}"#))
        .await
        .unwrap();
    b.add_comment(&p, &a.id, CommentText::parse("note").unwrap())
        .await
        .unwrap();
    b.create_task(&p, new_task(r#"{"title":"B"}"#))
        .await
        .unwrap();
    let token = b
        .mint_token(Some(&p), "agent-nova", TokenLifetime::DEFAULT)
        .await
        .unwrap();
    (b, token)
}

/// The feed from the start of the change log, oldest first: (id, seq).
async fn feed(b: &MissionControl) -> Vec<(String, i64)> {
    let page = b
        .list_events(EventQuery {
            since: None,
            after: Some(0),
            limit: EventQuery::MAX_LIMIT,
        })
        .await
        .unwrap();
    page.events
        .into_iter()
        .map(|e| (e.id, e.seq.unwrap()))
        .collect()
}

fn parsed(file: &Value) -> BoardExport {
    serde_json::from_value(file.clone()).unwrap()
}

fn refused(outcome: Result<ImportReport>) -> Vec<String> {
    match outcome {
        Err(Error::Validation(fields)) => fields.into_iter().map(|f| f.field).collect(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn the_feed_keeps_its_seqs_on_a_new_board_and_its_order_after_a_board_s_own() {
    let (old, _) = busy_board().await;
    let export = old.export().await.unwrap();
    let before = feed(&old).await;
    assert!(before.len() >= 4, "{before:?}");

    // A new board: the same seqs, and the log goes on from where the old one stood.
    let new = Board::empty();
    let report = new.import(export.clone()).await.unwrap();
    assert_eq!(report.seq_shift, Some(0));
    assert_eq!(feed(&new).await, before);
    assert_eq!(new.latest_seq().await.unwrap(), export.seq);
    let p = patch();
    new.create_task(&p, new_task(r#"{"title":"After"}"#))
        .await
        .unwrap();
    let after = feed(&new).await;
    assert!(after[before.len()..].iter().all(|(_, s)| *s > export.seq));

    // A board with a history of its own: the lines come after it, in their order.
    let (busy, _) = busy_board().await;
    let own = feed(&busy).await;
    let shift = busy.latest_seq().await.unwrap();
    let report = busy.import(export.clone()).await.unwrap();
    assert_eq!(report.seq_shift, Some(shift));
    let merged = feed(&busy).await;
    let moved: Vec<(String, i64)> = before
        .iter()
        .map(|(id, s)| (id.clone(), s + shift))
        .collect();
    assert_eq!(merged[..own.len()], own[..]);
    assert_eq!(merged[own.len()..], moved[..]);
    // And again: nothing is added, nothing moves.
    let report = busy.import(export).await.unwrap();
    assert_eq!((report.events, report.seq_shift), (0, None));
    assert_eq!(feed(&busy).await, merged);
}

#[tokio::test]
async fn seqs_the_file_could_not_have_are_refused() {
    let (old, _) = busy_board().await;
    let file = serde_json::to_value(old.export().await.unwrap()).unwrap();
    let top = file["seq"].as_i64().unwrap();
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/events/0/seq", json!(0), "events[0].seq"),
        ("/events/0/seq", json!(top + 1), "events[0].seq"),
        (
            "/events/1/seq",
            file["events"][0]["seq"].clone(),
            "events[1].seq",
        ),
        ("/seq", json!(-1), "seq"),
    ];
    for (pointer, value, field) in cases {
        let mut bad = file.clone();
        *bad.pointer_mut(pointer).unwrap() = value;
        let b = Board::empty();
        let outcome = b.import(parsed(&bad)).await;
        assert!(refused(outcome).contains(&field.to_owned()), "{pointer}");
        assert_eq!(b.count_tasks().await.unwrap(), 0, "{pointer}");
    }
}

#[tokio::test]
async fn tokens_come_only_into_a_board_that_signs_with_the_same_key() {
    let (old, nova) = busy_board().await;
    let export = old.export().await.unwrap();
    let file = serde_json::to_string(&export).unwrap();
    assert!(!file.contains(&nova.token), "the file holds no token");
    assert!(!file.contains(std::str::from_utf8(SECRET).unwrap()));
    assert!(!export.tokens.as_ref().unwrap().is_empty());

    // Another key: the file is refused whole, naming the check.
    let elsewhere = Board::open_with(std::sync::Arc::new(TestStore::new()), |o| {
        o.jwt_secret = OTHER_SECRET.to_vec()
    });
    assert_eq!(
        refused(elsewhere.import(export.clone()).await),
        ["signingKeyCheck"]
    );
    assert_eq!(elsewhere.count_tasks().await.unwrap(), 0);
    // Without the tokens, the rest comes.
    let mut without = export.clone();
    without.tokens = None;
    assert_eq!(elsewhere.import(without).await.unwrap().tasks, 2);
    assert!(elsewhere.verify_token(&nova.token).await.is_err());

    // The same key: Nova's token works there.
    let new = Board::empty();
    let report = new.import(export).await.unwrap();
    assert_eq!(report.tokens, 1);
    assert_eq!(
        new.verify_token(&nova.token).await.unwrap(),
        Actor::new("agent-nova")
    );

    // A token for an agent neither the board nor the file has: refused whole.
    let mut file: Value = serde_json::from_str(&file).unwrap();
    file["tokens"][0]["agentId"] = json!("agent-ghost");
    file["tokens"][0]["tokenHash"] = json!("not hex");
    let b = Board::empty();
    assert_eq!(
        refused(b.import(parsed(&file)).await),
        ["tokens[0].tokenHash"]
    );
    file["tokens"][0]["tokenHash"] = json!(credentials::sha256_hex("x"));
    assert_eq!(
        refused(b.import(parsed(&file)).await),
        ["tokens[0].agentId"]
    );
    assert_eq!(b.count_tasks().await.unwrap(), 0);
}

#[tokio::test]
async fn a_revoked_token_never_comes_back_with_an_import() {
    let (old, nova) = busy_board().await;
    let first = old.export().await.unwrap();

    // Revoked on the board it moved to: importing the old file again does not bring it back.
    let new = Board::empty();
    assert_eq!(new.import(first.clone()).await.unwrap().tokens, 1);
    assert!(new.revoke_token(&nova.token).await.unwrap());
    let again = new.import(first.clone()).await.unwrap();
    assert_eq!(again.tokens, 0);
    assert!(new.verify_token(&nova.token).await.is_err());

    // Revoked on the old board after a first move: a later export carries the revocation,
    // which revokes it where the first file had put it.
    let moved = Board::empty();
    moved.import(first).await.unwrap();
    assert!(moved.verify_token(&nova.token).await.is_ok());
    assert!(old.revoke_token(&nova.token).await.unwrap());
    let second = old.export().await.unwrap();
    assert_eq!(second.revoked_tokens.as_ref().map(Vec::len), Some(1));
    let report = moved.import(second).await.unwrap();
    assert_eq!(report.revoked_tokens, 1);
    assert!(moved.verify_token(&nova.token).await.is_err());
}
