//! Tasks over HTTP: the whole lifecycle with the answers' exact shapes, bad input refused
//! naming the field and changing nothing (lengths counted as sent, text that shows nothing or
//! holds control characters, huge lists, unregistered agents), and parallel writers losing
//! nothing.

use super::support::*;
use serde_json::{Value, json};

#[tokio::test]
async fn task_lifecycle_over_http() {
    let s = App::start().await;
    let admin = s.login().await;

    let created = admin
        .create_task(json!({"title": "Build rate limiter", "description": "Implement Redis-based rate limiting",
            "status": "in-progress", "assignedAgent": "agent-patch", "priority": "high", "tags": ["backend", "security"]}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let task = created.body["task"].clone();
    let id = task["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("task-"));
    assert_eq!(sorted_keys(&task), TASK_KEYS);
    assert_eq!(task["createdBy"], "agent-patch");

    // Defaults.
    let minimal = admin.create_task(json!({"title": "Fix auth bug"})).await;
    assert_eq!(minimal.body["task"]["status"], "backlog");
    assert_eq!(minimal.body["task"]["priority"], "medium");
    assert_eq!(minimal.body["task"]["tags"], json!([]));

    let got = admin.get_task(&id).await;
    assert_eq!(got.body["task"], task);

    let list = admin.list_tasks("").await;
    assert_eq!(list.list("tasks").len(), 2);
    let filtered = admin
        .list_tasks("status=in-progress&agent=agent-patch")
        .await;
    assert_eq!(filtered.body["tasks"], json!([task]));
    let none = admin.list_tasks("agent=agent-nobody").await;
    assert_eq!(none.body["tasks"], json!([]));

    let patched = admin
        .update_task(&id, json!({"status": "done", "assignedAgent": null}))
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["task"]["status"], "done");
    assert_eq!(patched.body["task"]["assignedAgent"], Value::Null);
    assert_eq!(patched.body["task"]["title"], "Build rate limiter");

    let deleted = admin.delete_task(&id).await;
    assert_eq!(deleted.body, json!({"success": true}));
    for method in ["GET", "PATCH", "DELETE"] {
        let r = admin
            .request(
                method,
                &format!("/api/tasks/{id}"),
                Some(json!({"title": "x"})),
            )
            .await;
        r.error_fields(404, "not_found");
    }

    let events = admin.events("").await;
    let messages: Vec<&str> = events
        .list("events")
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        &messages[..4],
        [
            "Patch deleted task “Build rate limiter”",
            "Patch moved “Build rate limiter” to Done",
            "Patch created task “Fix auth bug”",
            "Patch created task “Build rate limiter”",
        ]
    );
}

#[tokio::test]
async fn invalid_input_names_the_field_and_changes_nothing() {
    let s = App::start().await;
    let admin = s.login().await;
    let cases = [
        (json!({"title": ""}), vec!["title"]),
        (json!({"title": "   "}), vec!["title"]),
        (json!({"title": "x".repeat(201)}), vec!["title"]),
        (json!({}), vec!["title"]),
        (json!({"title": "ok", "status": "doing"}), vec!["status"]),
        (
            json!({"title": "ok", "priority": "urgent"}),
            vec!["priority"],
        ),
        (
            json!({"title": "ok", "description": "d".repeat(10_001)}),
            vec!["description"],
        ),
        (
            json!({"title": "ok", "tags": (0..21).map(|i| i.to_string()).collect::<Vec<_>>()}),
            vec!["tags"],
        ),
        (
            json!({"title": "ok", "tags": ["t".repeat(51)]}),
            vec!["tags"],
        ),
        (
            json!({"title": "ok", "assignedAgent": "Agent Ghost"}),
            vec!["assignedAgent"],
        ),
        (json!({"title": 42}), vec!["title"]),
        (json!({"title": "ok", "tags": ["a", 1]}), vec!["tags[1]"]),
        (
            json!({"title": "ok", "newStatus": "done"}),
            vec!["newStatus"],
        ),
        (
            json!({"title": "", "status": "doing", "priority": "x"}),
            vec!["title", "status", "priority"],
        ),
    ];
    for (body, fields) in cases {
        let r = admin.create_task(body.clone()).await;
        assert_eq!(
            r.error_fields(400, "validation_failed"),
            fields,
            "body {body}"
        );
    }
    for raw in [&b"{"[..], b"not json", b"", b"[1,2]"] {
        let r = admin.send_bytes("POST", "/api/tasks", raw).await;
        assert_eq!(r.status, 400, "{:?}", String::from_utf8_lossy(raw));
    }
    let big = format!(
        r#"{{"title":"big","description":"{}"}}"#,
        "x".repeat(1024 * 1024 + 10)
    );
    let r = admin.send_bytes("POST", "/api/tasks", big).await;
    r.error_fields(413, "payload_too_large");
    assert_eq!(
        r.headers["connection"], "close",
        "the unread rest makes the connection unusable"
    );

    let r = admin.list_tasks("status=doing").await;
    assert_eq!(r.error_fields(400, "validation_failed"), ["status"]);

    let task = admin.create_task(json!({"title": "keep"})).await.task();
    let id = task["id"].as_str().unwrap();
    for (body, field) in [
        (json!({"status": "doing"}), "status"),
        (json!({"title": null}), "title"),
        (json!({"title": "new", "priority": "urgent"}), "priority"),
    ] {
        let r = admin.update_task(id, body).await;
        assert_eq!(r.error_fields(400, "validation_failed"), [field]);
    }
    assert_eq!(admin.get_task(id).await.body["task"], task, "unchanged");
    let tasks = admin.list_tasks("").await;
    assert_eq!(tasks.list("tasks").len(), 1);
    let events = admin.events("").await;
    assert_eq!(events.list("events").len(), 2, "admin joined + one create");

    let r = admin.request("PUT", "/api/tasks", None).await;
    r.error_fields(405, "method_not_allowed");
    assert_eq!(r.headers["allow"], "GET, POST");
    let r = admin.get("/api/nothing").await;
    r.error_fields(404, "not_found");
}

/// A schema-valid request that names an agent nobody registered is not malformed: it would
/// succeed once the agent exists. It is answered 409 naming the field, not 400.
#[tokio::test]
async fn naming_an_unregistered_agent_is_a_conflict_not_a_malformed_request() {
    let s = App::start().await;
    let admin = s.login().await;
    let r = admin
        .create_task(json!({"title": "Orphan", "assignedAgent": "agent-ghost"}))
        .await;
    assert_eq!(r.error_fields(409, "conflict"), ["assignedAgent"]);
    assert_eq!(
        r.body["error"]["details"][0]["message"],
        "no agent is registered with the id agent-ghost"
    );

    let id = admin.create_task(json!({"title": "Real"})).await.task_id();
    let r = admin
        .update_task(&id, json!({"assignedAgent": "agent-ghost"}))
        .await;
    assert_eq!(r.error_fields(409, "conflict"), ["assignedAgent"]);

    let r = admin.mint_token(json!({"agentId": "agent-ghost"})).await;
    assert_eq!(r.error_fields(409, "conflict"), ["agentId"]);

    // A malformed id is still a malformed request.
    let r = admin
        .create_task(json!({"title": "Bad", "assignedAgent": "Agent Ghost"}))
        .await;
    assert_eq!(r.error_fields(400, "validation_failed"), ["assignedAgent"]);
}

/// An empty query value is a value: `?status=` names no column, `?limit=` no number.
#[tokio::test]
async fn empty_query_values_are_refused_like_any_other_bad_value() {
    let s = App::start().await;
    let admin = s.login().await;
    for (path, field) in [
        ("/api/tasks?status=", "status"),
        ("/api/events?limit=", "limit"),
        ("/api/events?since=", "since"),
    ] {
        let r = admin.get(path).await;
        assert_eq!(r.error_fields(400, "validation_failed"), [field], "{path}");
    }
    let r = admin.list_tasks("status=todo").await;
    assert_eq!(r.status, 200);
}

/// The lengths the document publishes are counted as sent: a title padded past 200
/// characters is refused even though it would fit once trimmed.
#[tokio::test]
async fn lengths_are_counted_as_sent() {
    let s = App::start().await;
    let admin = s.login().await;
    let padded = format!(" {} ", "x".repeat(199));
    let r = admin.create_task(json!({"title": padded})).await;
    assert_eq!(r.error_fields(400, "validation_failed"), ["title"]);
    let r = admin
        .create_task(json!({"title": format!(" {} ", "x".repeat(198))}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["task"]["title"], "x".repeat(198));
}

#[tokio::test]
async fn titles_must_show_something_and_hold_no_control_characters() {
    let s = App::start().await;
    let admin = s.login().await;
    for title in [
        "\u{200B}\u{200D}\u{FEFF}",
        "\u{1b}[31mred",
        "tab\tbed",
        "\u{202E}drow",
    ] {
        let r = admin.create_task(json!({ "title": title })).await;
        assert_eq!(
            r.error_fields(400, "validation_failed"),
            ["title"],
            "{title:?}"
        );
    }
    let r = admin
        .create_task(json!({"title": "ok", "description": "clear\u{1b}[2J"}))
        .await;
    assert_eq!(r.error_fields(400, "validation_failed"), ["description"]);
}

#[tokio::test]
async fn a_huge_tag_list_is_refused_at_once_naming_the_field() {
    let s = App::start().await;
    let admin = s.login().await;
    // 80,000 distinct tags: about 700 KB, within the body limit.
    let tags: Vec<String> = (0..80_000).map(|i| format!("t{i}")).collect();
    let r = admin.create_task(json!({"title": "x", "tags": tags})).await;
    assert_eq!(r.error_fields(400, "validation_failed"), ["tags"]);
    let same = vec!["a"; 150_000];
    let r = admin.create_task(json!({"title": "x", "tags": same})).await;
    assert_eq!(r.error_fields(400, "validation_failed"), ["tags"]);
    assert_eq!(s.health().await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_parallel_writers_lose_nothing() {
    let s = App::start().await;
    let admin = s.login().await;
    let mut handles = vec![];
    for i in 0..200 {
        let admin = admin.clone();
        handles.push(tokio::spawn(async move {
            admin
                .create_task(json!({"title": format!("parallel {i}")}))
                .await
                .status
        }));
    }
    for h in handles {
        assert_eq!(h.await.unwrap(), 201);
    }
    let list = admin.list_tasks("").await;
    assert_eq!(list.list("tasks").len(), 200);
}
