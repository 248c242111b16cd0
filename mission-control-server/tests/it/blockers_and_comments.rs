//! Blockers and comments over HTTP: a blocked task cannot start, unknown blockers and cycles
//! are refused naming the field, only a held task's holder changes what it waits for, and
//! comments page in order with bounds on their text.

use super::support::*;
use serde_json::json;

#[tokio::test]
async fn blockers_and_comments_over_http() {
    let s = App::start().await;
    let admin = s.login().await;
    let a = admin.create_task(json!({"title": "A"})).await.task();
    let b = admin
        .create_task(json!({"title": "B", "blockedBy": [a["id"]]}))
        .await
        .task();
    assert_eq!(b["blocked"], true);
    let bid = b["id"].as_str().unwrap();
    let r = admin
        .update_task(bid, json!({"status": "in-progress"}))
        .await;
    r.error_fields(409, "blocked");
    assert_eq!(r.body["error"]["blockers"], json!([a["id"]]));
    let r = admin
        .update_task(bid, json!({"blockedBy": ["task-nope"]}))
        .await;
    assert_eq!(r.error_fields(409, "conflict"), ["blockedBy"]);
    let r = admin
        .update_task(a["id"].as_str().unwrap(), json!({"blockedBy": [bid]}))
        .await;
    assert_eq!(r.error_fields(409, "conflict"), ["blockedBy"]);

    for text in ["one", "two", "three"] {
        let r = admin.comment(bid, text).await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.body["comment"]["author"], "agent-patch");
    }
    let page = admin.comments(bid, "limit=2").await;
    assert_eq!(page.body["hasMore"], true);
    let last = page.body["comments"][1]["id"].as_str().unwrap();
    let rest = admin.comments(bid, &format!("after={last}")).await;
    assert_eq!(rest.body["comments"][0]["text"], "three");
    let r = admin.comment(bid, "  ").await;
    assert_eq!(r.error_fields(400, "validation_failed"), ["text"]);
    let r = admin.comment(bid, &"x".repeat(10_001)).await;
    assert_eq!(r.error_fields(400, "validation_failed"), ["text"]);
}

#[tokio::test]
async fn what_a_held_task_waits_for_is_its_holders_to_change() {
    let s = App::start().await;
    let admin = s.login().await;
    let nova = admin
        .register_agent_with_token("agent-nova", "Nova", "Dev")
        .await;
    let rex = admin
        .register_agent_with_token("agent-rex", "Rex", "Dev")
        .await;
    let work = admin
        .create_task(json!({"title": "work", "status": "todo"}))
        .await
        .task_id();
    let done = admin
        .create_task(json!({"title": "done", "status": "done"}))
        .await
        .task_id();
    assert_eq!(nova.claim(&work).await.status, 200);
    let r = rex.update_task(&work, json!({"blockedBy": [done]})).await;
    r.error_fields(409, "held");
    assert_eq!(r.body["error"]["holder"], "agent-nova");
    let r = nova.update_task(&work, json!({"blockedBy": [done]})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["task"]["blockedBy"], json!([done]));
}
