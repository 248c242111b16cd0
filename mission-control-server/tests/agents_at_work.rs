//! The agents-at-work protocol over HTTP: claims and their conflicts, claim-next under a race,
//! heartbeats, `ETag`/`If-Match`, `Idempotency-Key`, blockers and comments, with the
//! answers' exact shapes.

mod common;

use std::collections::HashSet;

use common::{Server, error_fields};
use serde_json::{Value, json};

async fn agent(s: &Server, admin: &str, id: &str, name: &str) -> String {
    s.call(
        "POST",
        "/api/agents",
        Some(json!({"id": id, "name": name, "role": "Dev"})),
        Some(admin),
    )
    .await;
    let r = s
        .call(
            "POST",
            "/api/auth/tokens",
            Some(json!({ "agentId": id })),
            Some(admin),
        )
        .await;
    r.body["token"].as_str().unwrap().to_owned()
}

async fn new_task(s: &Server, token: &str, body: Value) -> Value {
    let r = s.call("POST", "/api/tasks", Some(body), Some(token)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["task"].clone()
}

#[tokio::test]
async fn claims_answer_with_the_task_or_say_who_holds_it() {
    let s = Server::start().await;
    let admin = s.login().await;
    let nova = agent(&s, &admin, "agent-nova", "Nova").await;
    let rex = agent(&s, &admin, "agent-rex", "Rex").await;
    let t = new_task(&s, &admin, json!({"title": "Claim me", "status": "todo"})).await;
    let id = t["id"].as_str().unwrap();

    let r = s
        .call(
            "POST",
            &format!("/api/tasks/{id}/claim"),
            Some(json!({"leaseSeconds": 600})),
            Some(&nova),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let held = &r.body["task"];
    assert_eq!(held["status"], "in-progress");
    assert_eq!(held["assignedAgent"], "agent-nova");
    assert_eq!(held["version"], 2);
    assert_eq!(r.headers["etag"], "\"2\"");
    let expires = held["leaseExpiresAt"].as_i64().unwrap();

    let r = s
        .call("POST", &format!("/api/tasks/{id}/claim"), None, Some(&rex))
        .await;
    error_fields(&r, 409, "held");
    assert_eq!(r.body["error"]["holder"], "agent-nova");
    assert_eq!(r.body["error"]["leaseExpiresAt"], expires);
    let r = s
        .call(
            "POST",
            &format!("/api/tasks/{id}/claim"),
            Some(json!({"leaseSeconds": 1})),
            Some(&nova),
        )
        .await;
    assert_eq!(error_fields(&r, 400, "validation_failed"), ["leaseSeconds"]);
    let r = s
        .call(
            "POST",
            &format!("/api/tasks/{id}/claim"),
            Some(json!({"lease": 60})),
            Some(&nova),
        )
        .await;
    assert_eq!(error_fields(&r, 400, "validation_failed"), ["lease"]);

    let r = s
        .call(
            "POST",
            &format!("/api/tasks/{id}/release"),
            None,
            Some(&rex),
        )
        .await;
    error_fields(&r, 409, "held");
    let r = s
        .call(
            "POST",
            &format!("/api/tasks/{id}/complete"),
            Some(json!({"note": "Done: see PR 7"})),
            Some(&nova),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["task"]["status"], "done");
    assert_eq!(r.body["comment"]["text"], "Done: see PR 7");
    let r = s
        .call("POST", &format!("/api/tasks/{id}/claim"), None, Some(&rex))
        .await;
    error_fields(&r, 409, "done");
    let r = s
        .call("POST", "/api/tasks/task-nope/claim", None, Some(&rex))
        .await;
    error_fields(&r, 404, "not_found");
    let r = s
        .call("GET", "/api/tasks/claim-next", None, Some(&rex))
        .await;
    error_fields(&r, 405, "method_not_allowed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_agents_racing_claim_next_over_http_claim_each_task_once() {
    let s = Server::start_with(&[("RATE_LIMIT_PER_MINUTE", "100000")]).await;
    let admin = s.login().await;
    let mut creators = Vec::new();
    for c in 0..4 {
        let http = s.http.clone();
        let url = format!("{}/api/tasks", s.url);
        let admin = admin.clone();
        creators.push(tokio::spawn(async move {
            for i in 0..250 {
                let r = http
                    .post(&url)
                    .bearer_auth(&admin)
                    .json(&json!({"title": format!("c{c} t{i}"), "status": "todo"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
            }
        }));
    }
    for c in creators {
        c.await.unwrap();
    }
    let mut tokens = Vec::new();
    for i in 0..64 {
        tokens.push(agent(&s, &admin, &format!("agent-r{i}"), &format!("R{i}")).await);
    }
    let mut racers = Vec::new();
    for token in tokens {
        let http = s.http.clone();
        let url = format!("{}/api/tasks/claim-next", s.url);
        racers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let r = http.post(&url).bearer_auth(&token).send().await.unwrap();
                assert_eq!(r.status(), 200);
                let body: Value = r.json().await.unwrap();
                match body["task"].as_object() {
                    None => return mine,
                    Some(task) => mine.push(task["id"].as_str().unwrap().to_owned()),
                }
            }
        }));
    }
    let mut all = Vec::new();
    for r in racers {
        all.extend(r.await.unwrap());
    }
    let distinct: HashSet<_> = all.iter().collect();
    assert_eq!((all.len(), distinct.len()), (1000, 1000));
    let r = s
        .call("POST", "/api/tasks/claim-next", None, Some(&admin))
        .await;
    assert_eq!(r.body, json!({"task": null}));
}

#[tokio::test]
async fn a_heartbeat_answers_the_agents_work_and_speaks_only_for_itself() {
    let s = Server::start().await;
    let admin = s.login().await;
    let nova = agent(&s, &admin, "agent-nova", "Nova").await;
    let held = new_task(&s, &admin, json!({"title": "held", "status": "todo"})).await;
    let next = new_task(
        &s,
        &admin,
        json!({"title": "next", "status": "todo", "priority": "high"}),
    )
    .await;
    s.call(
        "POST",
        &format!("/api/tasks/{}/claim", held["id"].as_str().unwrap()),
        None,
        Some(&nova),
    )
    .await;
    let r = s
        .call(
            "POST",
            "/api/agents/me/heartbeat",
            Some(json!({"status": "busy"})),
            Some(&nova),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["agent"]["status"], "busy");
    assert_eq!(r.body["held"][0]["id"], held["id"]);
    assert_eq!(r.body["next"]["id"], next["id"]);
    assert_eq!(
        s.call(
            "POST",
            "/api/agents/agent-nova/heartbeat",
            None,
            Some(&nova)
        )
        .await
        .status,
        200
    );
    let r = s
        .call(
            "POST",
            "/api/agents/agent-patch/heartbeat",
            None,
            Some(&nova),
        )
        .await;
    error_fields(&r, 403, "forbidden");
    let r = s
        .call(
            "POST",
            "/api/agents/me/heartbeat",
            Some(json!({"status": "offline"})),
            Some(&nova),
        )
        .await;
    assert_eq!(error_fields(&r, 400, "validation_failed"), ["status"]);
}

#[tokio::test]
async fn if_match_refuses_a_stale_write_with_the_current_task() {
    let s = Server::start().await;
    let admin = s.login().await;
    let nova = agent(&s, &admin, "agent-nova", "Nova").await;
    let t = new_task(&s, &admin, json!({"title": "Edit me"})).await;
    let id = t["id"].as_str().unwrap();
    let got = s
        .call("GET", &format!("/api/tasks/{id}"), None, Some(&admin))
        .await;
    assert_eq!(got.headers["etag"], "\"1\"");
    // Nova changes it first.
    let r = s
        .raw_with_headers(
            "PATCH",
            &format!("/api/tasks/{id}"),
            json!({"title": "Nova's"}),
            &nova,
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["etag"], "\"2\"");
    let r = s
        .raw_with_headers(
            "PATCH",
            &format!("/api/tasks/{id}"),
            json!({"title": "Mine"}),
            &admin,
            &[("if-match", "\"1\"")],
        )
        .await;
    error_fields(&r, 412, "precondition_failed");
    assert_eq!(r.body["task"]["title"], "Nova's");
    assert_eq!(r.body["task"]["updatedBy"], "agent-nova");
    assert_eq!(r.headers["etag"], "\"2\"");
    let r = s
        .raw_with_headers(
            "DELETE",
            &format!("/api/tasks/{id}"),
            json!(null),
            &admin,
            &[("if-match", "\"1\"")],
        )
        .await;
    error_fields(&r, 412, "precondition_failed");
    // Without If-Match the last write wins, as the specification has it.
    let r = s
        .call(
            "PATCH",
            &format!("/api/tasks/{id}"),
            Some(json!({"title": "Mine"})),
            Some(&admin),
        )
        .await;
    assert_eq!(r.body["task"]["title"], "Mine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifteen_clients_adding_a_tag_with_if_match_and_retry_keep_all_fifteen() {
    let s = Server::start().await;
    let admin = s.login().await;
    let t = new_task(&s, &admin, json!({"title": "Tags"})).await;
    let url = format!("{}/api/tasks/{}", s.url, t["id"].as_str().unwrap());
    let mut clients = Vec::new();
    for i in 0..15 {
        let http = s.http.clone();
        let url = url.clone();
        let admin = admin.clone();
        clients.push(tokio::spawn(async move {
            loop {
                let current = http.get(&url).bearer_auth(&admin).send().await.unwrap();
                let etag = current.headers()["etag"].to_str().unwrap().to_owned();
                let body: Value = current.json().await.unwrap();
                let mut tags: Vec<Value> = body["task"]["tags"].as_array().unwrap().clone();
                tags.push(json!(format!("c{i}")));
                let r = http
                    .patch(&url)
                    .bearer_auth(&admin)
                    .header("if-match", etag)
                    .json(&json!({ "tags": tags }))
                    .send()
                    .await
                    .unwrap();
                match r.status().as_u16() {
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
    let done = s.call("GET", &url[s.url.len()..], None, Some(&admin)).await;
    assert_eq!(done.body["task"]["tags"].as_array().unwrap().len(), 15);
}

#[tokio::test]
async fn an_idempotency_key_makes_a_retry_safe() {
    let s = Server::start().await;
    let admin = s.login().await;
    let body = json!({"title": "Once"});
    let first = s
        .raw_with_headers(
            "POST",
            "/api/tasks",
            body.clone(),
            &admin,
            &[("idempotency-key", "k-123")],
        )
        .await;
    let again = s
        .raw_with_headers(
            "POST",
            "/api/tasks",
            body,
            &admin,
            &[("idempotency-key", "k-123")],
        )
        .await;
    assert_eq!((first.status, again.status), (201, 201));
    assert_eq!(first.body, again.body);
    let list = s.call("GET", "/api/tasks", None, Some(&admin)).await;
    assert_eq!(list.body["tasks"].as_array().unwrap().len(), 1);
    let other = s
        .raw_with_headers(
            "POST",
            "/api/tasks",
            json!({"title": "Twice"}),
            &admin,
            &[("idempotency-key", "k-123")],
        )
        .await;
    assert_eq!(
        error_fields(&other, 422, "idempotency_key_reused"),
        ["Idempotency-Key"]
    );
    let bad = s
        .raw_with_headers(
            "POST",
            "/api/tasks",
            json!({"title": "x"}),
            &admin,
            &[("idempotency-key", "has space")],
        )
        .await;
    assert_eq!(
        error_fields(&bad, 400, "validation_failed"),
        ["Idempotency-Key"]
    );
}

#[tokio::test]
async fn blockers_and_comments_over_http() {
    let s = Server::start().await;
    let admin = s.login().await;
    let a = new_task(&s, &admin, json!({"title": "A"})).await;
    let b = new_task(&s, &admin, json!({"title": "B", "blockedBy": [a["id"]]})).await;
    assert_eq!(b["blocked"], true);
    let bid = b["id"].as_str().unwrap();
    let r = s
        .call(
            "PATCH",
            &format!("/api/tasks/{bid}"),
            Some(json!({"status": "in-progress"})),
            Some(&admin),
        )
        .await;
    error_fields(&r, 409, "blocked");
    assert_eq!(r.body["error"]["blockers"], json!([a["id"]]));
    let r = s
        .call(
            "PATCH",
            &format!("/api/tasks/{bid}"),
            Some(json!({"blockedBy": ["task-nope"]})),
            Some(&admin),
        )
        .await;
    assert_eq!(error_fields(&r, 409, "conflict"), ["blockedBy"]);
    let r = s
        .call(
            "PATCH",
            &format!("/api/tasks/{}", a["id"].as_str().unwrap()),
            Some(json!({"blockedBy": [bid]})),
            Some(&admin),
        )
        .await;
    assert_eq!(error_fields(&r, 409, "conflict"), ["blockedBy"]);

    for text in ["one", "two", "three"] {
        let r = s
            .call(
                "POST",
                &format!("/api/tasks/{bid}/comments"),
                Some(json!({ "text": text })),
                Some(&admin),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.body["comment"]["author"], "agent-patch");
    }
    let page = s
        .call(
            "GET",
            &format!("/api/tasks/{bid}/comments?limit=2"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(page.body["hasMore"], true);
    let last = page.body["comments"][1]["id"].as_str().unwrap();
    let rest = s
        .call(
            "GET",
            &format!("/api/tasks/{bid}/comments?after={last}"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(rest.body["comments"][0]["text"], "three");
    let r = s
        .call(
            "POST",
            &format!("/api/tasks/{bid}/comments"),
            Some(json!({"text": "  "})),
            Some(&admin),
        )
        .await;
    assert_eq!(error_fields(&r, 400, "validation_failed"), ["text"]);
    let r = s
        .call(
            "POST",
            &format!("/api/tasks/{bid}/comments"),
            Some(json!({"text": "x".repeat(10_001)})),
            Some(&admin),
        )
        .await;
    assert_eq!(error_fields(&r, 400, "validation_failed"), ["text"]);
}
