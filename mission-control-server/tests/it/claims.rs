//! Agents at work over HTTP: claims answer with the task or say who holds it, claim-next under
//! a race hands each task out once, and a heartbeat answers the agent's work and speaks only
//! for itself.

use std::collections::HashSet;

use super::support::*;
use serde_json::json;

#[tokio::test]
async fn claims_answer_with_the_task_or_say_who_holds_it() {
    let s = App::start().await;
    let admin = s.login().await;
    let nova = admin
        .register_agent_with_token("agent-nova", "Nova", "Dev")
        .await;
    let rex = admin
        .register_agent_with_token("agent-rex", "Rex", "Dev")
        .await;
    let id = admin
        .create_task(json!({"title": "Claim me", "status": "todo"}))
        .await
        .task_id();

    let r = nova.claim_with(&id, json!({"leaseSeconds": 600})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let held = &r.body["task"];
    assert_eq!(held["status"], "in-progress");
    assert_eq!(held["assignedAgent"], "agent-nova");
    assert_eq!(held["version"], 2);
    assert_eq!(r.headers["etag"], "\"2\"");
    let expires = held["leaseExpiresAt"].as_i64().unwrap();

    let r = rex.claim(&id).await;
    r.error_fields(409, "held");
    assert_eq!(r.body["error"]["holder"], "agent-nova");
    assert_eq!(r.body["error"]["leaseExpiresAt"], expires);
    let r = nova.claim_with(&id, json!({"leaseSeconds": 1})).await;
    assert_eq!(r.error_fields(400, "validation_failed"), ["leaseSeconds"]);
    let r = nova.claim_with(&id, json!({"lease": 60})).await;
    assert_eq!(r.error_fields(400, "validation_failed"), ["lease"]);

    let r = rex.release(&id).await;
    r.error_fields(409, "held");
    let r = nova.complete(&id, Some("Done: see PR 7")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["task"]["status"], "done");
    assert_eq!(r.body["comment"]["text"], "Done: see PR 7");
    let r = rex.claim(&id).await;
    r.error_fields(409, "done");
    let r = rex.claim("task-nope").await;
    r.error_fields(404, "not_found");
    let r = rex.get("/api/tasks/claim-next").await;
    r.error_fields(405, "method_not_allowed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_agents_racing_claim_next_over_http_claim_each_task_once() {
    let s = App::start_with(&[("RATE_LIMIT_PER_MINUTE", "100000")]).await;
    let admin = s.login().await;
    let mut creators = Vec::new();
    for c in 0..4 {
        let admin = admin.clone();
        creators.push(tokio::spawn(async move {
            for i in 0..250 {
                let r = admin
                    .create_task(json!({"title": format!("c{c} t{i}"), "status": "todo"}))
                    .await;
                assert_eq!(r.status, 201);
            }
        }));
    }
    for c in creators {
        c.await.unwrap();
    }
    let mut racers = Vec::new();
    for i in 0..64 {
        let racer = admin
            .register_agent_with_token(&format!("agent-r{i}"), &format!("R{i}"), "Dev")
            .await;
        racers.push(racer);
    }
    let racers: Vec<_> = racers
        .into_iter()
        .map(|racer| {
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let r = racer.claim_next().await;
                    assert_eq!(r.status, 200);
                    match r.body["task"].as_object() {
                        None => return mine,
                        Some(task) => mine.push(task["id"].as_str().unwrap().to_owned()),
                    }
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for r in racers {
        all.extend(r.await.unwrap());
    }
    let distinct: HashSet<_> = all.iter().collect();
    assert_eq!((all.len(), distinct.len()), (1000, 1000));
    let r = admin.claim_next().await;
    assert_eq!(r.body, json!({"task": null}));
}

#[tokio::test]
async fn a_heartbeat_answers_the_agents_work_and_speaks_only_for_itself() {
    let s = App::start().await;
    let admin = s.login().await;
    let nova = admin
        .register_agent_with_token("agent-nova", "Nova", "Dev")
        .await;
    let held = admin
        .create_task(json!({"title": "held", "status": "todo"}))
        .await
        .task();
    let next = admin
        .create_task(json!({"title": "next", "status": "todo", "priority": "high"}))
        .await
        .task();
    nova.claim(held["id"].as_str().unwrap()).await;
    let r = nova.heartbeat("me", Some("busy")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["agent"]["status"], "busy");
    assert_eq!(r.body["held"][0]["id"], held["id"]);
    assert_eq!(r.body["next"]["id"], next["id"]);
    assert_eq!(nova.heartbeat("agent-nova", None).await.status, 200);
    let r = nova.heartbeat("agent-patch", None).await;
    r.error_fields(403, "forbidden");
    let r = nova.heartbeat("me", Some("offline")).await;
    assert_eq!(r.error_fields(400, "validation_failed"), ["status"]);
}
