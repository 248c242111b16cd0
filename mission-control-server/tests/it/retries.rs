//! Writing again safely over HTTP: `ETag` and `If-Match` refuse a stale write with the current
//! task (so clients that re-read and retry lose nothing), and an `Idempotency-Key` makes a
//! retry answer the first answer.

use super::support::*;
use serde_json::{Value, json};

#[tokio::test]
async fn if_match_refuses_a_stale_write_with_the_current_task() {
    let s = App::start().await;
    let admin = s.login().await;
    let nova = admin
        .register_agent_with_token("agent-nova", "Nova", "Dev")
        .await;
    let id = admin
        .create_task(json!({"title": "Edit me"}))
        .await
        .task_id();
    let got = admin.get_task(&id).await;
    assert_eq!(got.headers["etag"], "\"1\"");
    // Nova changes it first.
    let r = nova
        .if_match(1)
        .update_task(&id, json!({"title": "Nova's"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["etag"], "\"2\"");
    let r = admin
        .if_match(1)
        .update_task(&id, json!({"title": "Mine"}))
        .await;
    r.error_fields(412, "precondition_failed");
    assert_eq!(r.body["task"]["title"], "Nova's");
    assert_eq!(r.body["task"]["updatedBy"], "agent-nova");
    assert_eq!(r.headers["etag"], "\"2\"");
    let r = admin.if_match(1).delete_task(&id).await;
    r.error_fields(412, "precondition_failed");
    // Without If-Match the last write wins, as the specification has it.
    let r = admin.update_task(&id, json!({"title": "Mine"})).await;
    assert_eq!(r.body["task"]["title"], "Mine");
}

/// `If-Match` reads as HTTP (RFC 9110) defines it: a list matches when any of its entity tags is
/// the task's, `*` matches any version, a weak tag never matches (`If-Match` compares strongly),
/// and a header that is not a list of entity tags is refused with 400 naming it, changing
/// nothing.
#[tokio::test]
async fn if_match_lists_work_as_http_says() {
    let s = App::start().await;
    let admin = s.login().await;
    let id = admin.create_task(json!({"title": "One"})).await.task_id();
    let r = admin
        .with_header("if-match", "\"7\", \"1\"")
        .update_task(&id, json!({"title": "Two"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["etag"], "\"2\"");
    // None of the list's versions is the task's: refused with the task as it is.
    let r = admin
        .with_header("if-match", "\"1\", \"3\"")
        .update_task(&id, json!({"title": "Stale"}))
        .await;
    r.error_fields(412, "precondition_failed");
    assert_eq!(r.body["task"]["version"], 2);
    let r = admin
        .with_header("if-match", "W/\"2\"")
        .update_task(&id, json!({"title": "Weak"}))
        .await;
    r.error_fields(412, "precondition_failed");
    let r = admin
        .with_header("if-match", "*")
        .update_task(&id, json!({"title": "Three"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for bad in ["3", "\"3\" \"4\"", "*, \"3\"", "W/3", ""] {
        let r = admin
            .with_header("if-match", bad)
            .update_task(&id, json!({"title": "Bad"}))
            .await;
        assert_eq!(
            r.error_fields(400, "validation_failed"),
            ["If-Match"],
            "{bad:?}"
        );
        let r = admin.with_header("if-match", bad).delete_task(&id).await;
        assert_eq!(
            r.error_fields(400, "validation_failed"),
            ["If-Match"],
            "{bad:?}"
        );
    }
    assert_eq!(admin.get_task(&id).await.body["task"]["title"], "Three");
    let r = admin
        .with_header("if-match", "W/\"3\"")
        .delete_task(&id)
        .await;
    r.error_fields(412, "precondition_failed");
    let r = admin
        .with_header("if-match", "\"2\", \"3\"")
        .delete_task(&id)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(admin.get_task(&id).await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifteen_clients_adding_a_tag_with_if_match_and_retry_keep_all_fifteen() {
    let s = App::start().await;
    let admin = s.login().await;
    let id = admin.create_task(json!({"title": "Tags"})).await.task_id();
    let mut clients = Vec::new();
    for i in 0..15 {
        let (admin, id) = (admin.clone(), id.clone());
        clients.push(tokio::spawn(async move {
            loop {
                let current = admin.get_task(&id).await;
                let etag = current.header("etag").to_owned();
                let mut tags: Vec<Value> = current.body["task"]["tags"].as_array().unwrap().clone();
                tags.push(json!(format!("c{i}")));
                let r = admin
                    .with_header("if-match", &etag)
                    .update_task(&id, json!({ "tags": tags }))
                    .await;
                match r.status {
                    200 => return,
                    412 => continue,
                    other => panic!("{other}"),
                }
            }
        }));
    }
    for c in clients {
        c.await.unwrap();
    }
    let done = admin.get_task(&id).await;
    assert_eq!(done.body["task"]["tags"].as_array().unwrap().len(), 15);
}

#[tokio::test]
async fn an_idempotency_key_makes_a_retry_safe() {
    let s = App::start().await;
    let admin = s.login().await;
    let body = json!({"title": "Once"});
    let first = admin
        .idempotency_key("k-123")
        .create_task(body.clone())
        .await;
    let again = admin.idempotency_key("k-123").create_task(body).await;
    assert_eq!((first.status, again.status), (201, 201));
    assert_eq!(first.body, again.body);
    let list = admin.list_tasks("").await;
    assert_eq!(list.list("tasks").len(), 1);
    let other = admin
        .idempotency_key("k-123")
        .create_task(json!({"title": "Twice"}))
        .await;
    assert_eq!(
        other.error_fields(422, "idempotency_key_reused"),
        ["Idempotency-Key"]
    );
    let bad = admin
        .idempotency_key("has space")
        .create_task(json!({"title": "x"}))
        .await;
    assert_eq!(
        bad.error_fields(400, "validation_failed"),
        ["Idempotency-Key"]
    );
}
