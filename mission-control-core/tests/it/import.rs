//! Importing an export holds its rows to the API's rules: a file with anything the API would
//! refuse (an id its cursors reject, control characters, too many blockers, a cycle, a version
//! past the maximum, a blocker or assignee that does not exist) is refused whole, naming the
//! row and the field, and nothing is written; a good file is imported as the API would have
//! stored it.

use super::support::*;
use mission_control_core::*;
use serde_json::{Value, json};

/// A board's export, as JSON to tamper with: Nova, three tasks (the second waiting for the
/// first), a comment and the feed.
async fn exported() -> Value {
    let b = board().await;
    let p = patch();
    let a = b
        .create_task(
            &p,
            new_task(r#"{"title":"A","assignedAgent":"agent-nova"}"#),
        )
        .await
        .unwrap();
    let json = format!(r#"{{"title":"B","blockedBy":["{}"]}}"#, a.id);
    let bt = b.create_task(&p, new_task(&json)).await.unwrap();
    b.create_task(&p, new_task(r#"{"title":"C","tags":["x"]}"#))
        .await
        .unwrap();
    b.add_comment(&p, &bt.id, CommentText::parse("note").unwrap())
        .await
        .unwrap();
    serde_json::to_value(b.export().await.unwrap()).unwrap()
}

/// Imports `file` into a fresh, empty board; the board and the outcome.
async fn import(file: &Value) -> (Board, Result<ImportReport>) {
    let b = Board::empty();
    let export: BoardExport = serde_json::from_value(file.clone()).unwrap();
    let outcome = b.import(export).await;
    (b, outcome)
}

/// The fields a refusal names.
fn refused(outcome: Result<ImportReport>) -> Vec<String> {
    match outcome {
        Err(Error::Validation(fields)) => fields.into_iter().map(|f| f.field).collect(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_file_the_api_would_refuse_is_refused_whole_naming_the_row_and_field() {
    let good = exported().await;
    let many: Vec<String> = (0..500).map(|n| format!("task-{n}")).collect();
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/tasks/1/id", json!("Task One"), "tasks[1].id"),
        ("/tasks/0/title", json!("\u{1b}[31mred"), "tasks[0].title"),
        ("/tasks/2/tags", json!(["ok", "bad\u{7}"]), "tasks[2].tags"),
        ("/tasks/1/blockedBy", json!(many), "tasks[1].blockedBy"),
        ("/tasks/0/version", json!(i64::MAX), "tasks[0].version"),
        ("/tasks/0/version", json!(0), "tasks[0].version"),
        ("/tasks/0/createdAt", json!(-1), "tasks[0].createdAt"),
        (
            "/tasks/1/blockedBy",
            json!(["task-gone"]),
            "tasks[1].blockedBy",
        ),
        (
            "/tasks/0/assignedAgent",
            json!("agent-gone"),
            "tasks[0].assignedAgent",
        ),
        ("/agents/0/name", json!("Pa\u{202e}tch"), "agents[0].name"),
        ("/agents/1/id", json!("Agent Nova"), "agents[1].id"),
        ("/comments/0/text", json!("\u{0}"), "comments[0].text"),
        (
            "/comments/0/taskId",
            json!("task-gone"),
            "comments[0].taskId",
        ),
        (
            "/events/0/message",
            json!("line\nbreak"),
            "events[0].message",
        ),
        ("/events/0/id", json!("EVT 1"), "events[0].id"),
    ];
    for (pointer, value, field) in cases {
        let mut file = good.clone();
        *file.pointer_mut(pointer).unwrap() = value;
        let (b, outcome) = import(&file).await;
        assert_eq!(refused(outcome), [field], "{pointer}");
        assert_eq!(
            b.count_tasks().await.unwrap(),
            0,
            "{pointer}: nothing written"
        );
        assert!(b.list_agents().await.unwrap().is_empty(), "{pointer}");
    }
    // A cycle among the file's tasks: B and C wait for each other; A, first in the file, waits
    // for C, so it is behind the cycle, not in it: a task of the cycle is named.
    let mut file = good.clone();
    let id = |n: usize| good["tasks"][n]["id"].clone();
    file["tasks"][0]["blockedBy"] = json!([id(2)]);
    file["tasks"][1]["blockedBy"] = json!([id(2)]);
    file["tasks"][2]["blockedBy"] = json!([id(1)]);
    let (b, outcome) = import(&file).await;
    assert_eq!(refused(outcome), ["tasks[2].blockedBy"]);
    assert_eq!(b.count_tasks().await.unwrap(), 0);
    // Every problem is named at once (up to a bound), not just the first.
    let mut file = good.clone();
    file["tasks"][0]["title"] = json!("");
    file["tasks"][2]["version"] = json!(-3);
    assert_eq!(
        refused(import(&file).await.1),
        ["tasks[0].title", "tasks[2].version"]
    );
    let mut file = good.clone();
    file["tasks"] = json!(
        (0..100)
            .map(
                |n| json!({"id": format!("Bad {n}"), "title": "t", "status": "todo",
            "assignedAgent": null, "priority": null, "createdAt": 1, "updatedAt": 1,
            "createdBy": null, "tags": [], "version": 1, "updatedBy": null,
            "leaseExpiresAt": null, "blockedBy": [], "blocked": false})
            )
            .collect::<Vec<_>>()
    );
    assert_eq!(refused(import(&file).await.1).len(), 20);
}

#[tokio::test]
async fn a_good_file_is_imported_as_the_api_would_store_it() {
    let mut file = exported().await;
    // Text the API trims and tags it de-duplicates are stored as it would store them.
    file["tasks"][2]["title"] = json!("  C  ");
    file["tasks"][2]["tags"] = json!(["x", "x", "y"]);
    let (b, outcome) = import(&file).await;
    let report = outcome.unwrap();
    assert_eq!((report.agents, report.tasks, report.comments), (2, 3, 1));
    let tasks = b.list_tasks(TaskFilter::default()).await.unwrap();
    let c = tasks.iter().find(|t| t.title == "C").unwrap();
    assert_eq!(c.tags, ["x", "y"]);
    let waiting = tasks.iter().find(|t| t.title == "B").unwrap();
    assert_eq!(
        waiting.blocked_by,
        [file["tasks"][0]["id"].as_str().unwrap()]
    );
    assert!(waiting.blocked);
    // Again: everything is there already, so nothing is added.
    let again: BoardExport = serde_json::from_value(file).unwrap();
    let report = b.import(again).await.unwrap();
    assert_eq!((report.tasks, report.comments), (0, 0));
    assert_eq!(b.count_tasks().await.unwrap(), 3);
}
