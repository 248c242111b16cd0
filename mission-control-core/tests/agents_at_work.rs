//! The agents-at-work rules in the core, against a real SQLite file: claims and leases,
//! claim-next, release and complete, heartbeats that return work, presence the server
//! computes, versions (no lost updates), idempotent retries, dependencies, and comments.

use std::collections::HashSet;
use std::time::Duration;

use mission_control_core::*;

const SECRET: &[u8] = b"a-test-secret-of-at-least-32-bytes!!";

struct Board {
    mc: MissionControl,
    _dir: tempfile::TempDir,
}

async fn board_with(offline_after: Duration) -> Board {
    let dir = tempfile::tempdir().unwrap();
    let mut options = Options::new(dir.path().join("board.db"), SECRET);
    options.operator = Some(AgentId::parse("agent-patch").unwrap());
    options.agent_offline_after = offline_after;
    let mc = MissionControl::open_with(options).unwrap();
    // This board is served here: its clock runs (leases expire, silent agents go offline).
    mc.start_sweeps().unwrap();
    for (id, name) in [
        ("agent-patch", "Patch"),
        ("agent-nova", "Nova"),
        ("agent-rex", "Rex"),
    ] {
        mc.register_agent(None, agent(id, name)).await.unwrap();
    }
    Board { mc, _dir: dir }
}

async fn board() -> Board {
    board_with(Options::DEFAULT_AGENT_OFFLINE_AFTER).await
}

fn agent(id: &str, name: &str) -> NewAgent {
    NewAgent::parse(NewAgentRequest {
        id: Some(id.into()),
        name: Some(name.into()),
        role: Some("Dev".into()),
        ..Default::default()
    })
    .unwrap()
}

fn actor(id: &str) -> Actor {
    Actor::new(id)
}

fn task(json: &str) -> NewTask {
    NewTask::parse(serde_json::from_str(json).unwrap()).unwrap()
}

fn changes(json: &str) -> TaskChanges {
    TaskChanges::parse(serde_json::from_str(json).unwrap()).unwrap()
}

fn lease(seconds: i64) -> LeaseDuration {
    LeaseDuration::seconds(seconds).unwrap()
}

fn conflict(err: Error) -> Conflict {
    match err {
        Error::Conflict(c) => c,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[tokio::test]
async fn a_claim_assigns_moves_and_holds_the_task() {
    let b = board().await;
    let t =
        b.mc.create_task(
            &actor("agent-patch"),
            task(r#"{"title":"A","status":"todo"}"#),
        )
        .await
        .unwrap();
    let claimed =
        b.mc.claim(&actor("agent-nova"), &t.id, LeaseDuration::DEFAULT)
            .await
            .unwrap();
    assert_eq!(claimed.status, TaskStatus::InProgress);
    assert_eq!(claimed.assigned_agent.as_deref(), Some("agent-nova"));
    assert_eq!(claimed.version, t.version + 1);
    let expires = claimed.lease_expires_at.unwrap();
    let left = expires - now_millis();
    assert!((890_000..=900_000).contains(&left), "{left}");

    // Another agent cannot take it, move it or reassign it; the holder and the operator can.
    let err =
        b.mc.claim(&actor("agent-rex"), &t.id, LeaseDuration::DEFAULT)
            .await
            .unwrap_err();
    assert!(matches!(conflict(err), Conflict::Held { holder, .. } if holder == "agent-nova"));
    let err =
        b.mc.move_task(&actor("agent-rex"), &t.id, TaskStatus::Done)
            .await
            .unwrap_err();
    assert!(matches!(conflict(err), Conflict::Held { .. }));
    let renamed =
        b.mc.update_task(&actor("agent-rex"), &t.id, changes(r#"{"title":"A2"}"#))
            .await
            .unwrap();
    assert_eq!(
        renamed.lease_expires_at,
        Some(expires),
        "a rename keeps the claim"
    );
    let err =
        b.mc.delete_task(&actor("agent-rex"), &t.id)
            .await
            .unwrap_err();
    assert!(matches!(conflict(err), Conflict::Held { .. }));

    // Claiming again renews; releasing gives it back to todo, unassigned.
    let again =
        b.mc.claim(&actor("agent-nova"), &t.id, lease(60))
            .await
            .unwrap();
    assert!(again.lease_expires_at.unwrap() < expires);
    let err = b.mc.release(&actor("agent-rex"), &t.id).await.unwrap_err();
    assert!(matches!(conflict(err), Conflict::Held { .. }));
    let released = b.mc.release(&actor("agent-nova"), &t.id).await.unwrap();
    assert_eq!(released.status, TaskStatus::Todo);
    assert_eq!(released.assigned_agent, None);
    assert_eq!(released.lease_expires_at, None);
    let err = b.mc.release(&actor("agent-nova"), &t.id).await.unwrap_err();
    assert!(matches!(conflict(err), Conflict::NotHeld { .. }));

    // The operator overrides a claim.
    b.mc.claim(&actor("agent-nova"), &t.id, LeaseDuration::DEFAULT)
        .await
        .unwrap();
    let moved =
        b.mc.move_task(&actor("agent-patch"), &t.id, TaskStatus::Backlog)
            .await
            .unwrap();
    assert_eq!(
        moved.lease_expires_at, None,
        "leaving in-progress ends the claim"
    );
}

#[tokio::test]
async fn a_done_task_or_one_assigned_to_someone_else_cannot_be_claimed() {
    let b = board().await;
    let done =
        b.mc.create_task(
            &actor("agent-patch"),
            task(r#"{"title":"D","status":"done"}"#),
        )
        .await
        .unwrap();
    let err =
        b.mc.claim(&actor("agent-nova"), &done.id, LeaseDuration::DEFAULT)
            .await
            .unwrap_err();
    assert!(matches!(conflict(err), Conflict::Done { .. }));
    let theirs =
        b.mc.create_task(
            &actor("agent-patch"),
            task(r#"{"title":"R","status":"todo","assignedAgent":"agent-rex"}"#),
        )
        .await
        .unwrap();
    let err =
        b.mc.claim(&actor("agent-nova"), &theirs.id, LeaseDuration::DEFAULT)
            .await
            .unwrap_err();
    assert!(
        matches!(conflict(err), Conflict::AssignedToOther { agent, .. } if agent == "agent-rex")
    );
    assert!(
        b.mc.claim(&actor("agent-rex"), &theirs.id, LeaseDuration::DEFAULT)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn claim_next_takes_the_highest_priority_oldest_unblocked_todo_task() {
    let b = board().await;
    let p = actor("agent-patch");
    let low =
        b.mc.create_task(
            &p,
            task(r#"{"title":"low","status":"todo","priority":"low"}"#),
        )
        .await
        .unwrap();
    let high_old =
        b.mc.create_task(
            &p,
            task(r#"{"title":"high old","status":"todo","priority":"high","tags":["backend"]}"#),
        )
        .await
        .unwrap();
    let _high_new =
        b.mc.create_task(
            &p,
            task(r#"{"title":"high new","status":"todo","priority":"high"}"#),
        )
        .await
        .unwrap();
    let blocker =
        b.mc.create_task(&p, task(r#"{"title":"blocker","status":"backlog"}"#))
            .await
            .unwrap();
    let blocked = b
        .mc
        .create_task(&p, task(&format!(r#"{{"title":"critical but blocked","status":"todo","priority":"critical","blockedBy":["{}"]}}"#, blocker.id)))
        .await
        .unwrap();
    assert!(blocked.blocked);
    let _backlog =
        b.mc.create_task(&p, task(r#"{"title":"backlog","priority":"critical"}"#))
            .await
            .unwrap();
    let _rexs = b.mc.create_task(&p, task(r#"{"title":"rex's","status":"todo","priority":"critical","assignedAgent":"agent-rex"}"#)).await.unwrap();

    let nova = actor("agent-nova");
    let first =
        b.mc.claim_next(&nova, ClaimFilter::default(), LeaseDuration::DEFAULT)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(
        first.id, high_old.id,
        "critical ones are blocked or someone else's"
    );
    let filtered = ClaimFilter {
        priority: Some(Priority::Low),
        ..Default::default()
    };
    let second =
        b.mc.claim_next(&nova, filtered, LeaseDuration::DEFAULT)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(second.id, low.id);
    let (tag_filter, _) = ClaimNextRequest {
        tag: Some("frontend".into()),
        ..Default::default()
    }
    .parse()
    .unwrap();
    assert!(
        b.mc.claim_next(&nova, tag_filter, LeaseDuration::DEFAULT)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn sixty_four_agents_racing_claim_next_claim_every_task_exactly_once() {
    let b = board().await;
    let p = actor("agent-patch");
    for i in 0..1000 {
        b.mc.create_task(&p, task(&format!(r#"{{"title":"t{i}","status":"todo"}}"#)))
            .await
            .unwrap();
    }
    for i in 0..64 {
        b.mc.register_agent(
            None,
            agent(&format!("agent-racer-{i}"), &format!("Racer {i}")),
        )
        .await
        .unwrap();
    }
    let mut racers = Vec::new();
    for i in 0..64 {
        let mc = b.mc.clone();
        racers.push(tokio::spawn(async move {
            let me = actor(&format!("agent-racer-{i}"));
            let mut mine = Vec::new();
            while let Some(t) = mc
                .claim_next(&me, ClaimFilter::default(), LeaseDuration::DEFAULT)
                .await
                .unwrap()
            {
                assert_eq!(t.assigned_agent.as_deref(), Some(me.agent_id.as_str()));
                mine.push(t.id);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for r in racers {
        all.extend(r.await.unwrap());
    }
    let distinct: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 1000, "every task claimed");
    assert_eq!(distinct.len(), 1000, "none twice");
}

#[tokio::test]
async fn an_expired_lease_returns_the_task_to_todo_unassigned() {
    let b = board().await;
    let t =
        b.mc.create_task(
            &actor("agent-patch"),
            task(r#"{"title":"Expire me","status":"todo"}"#),
        )
        .await
        .unwrap();
    let mut bus = b.mc.subscribe();
    b.mc.claim(&actor("agent-nova"), &t.id, lease(5))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let expired = loop {
        let current = b.mc.get_task(&t.id).await.unwrap();
        if current.lease_expires_at.is_none() {
            break current;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the lease did not expire"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(expired.status, TaskStatus::Todo);
    assert_eq!(expired.assigned_agent, None);
    assert_eq!(expired.updated_by, None, "the server made that change");
    let mut messages = Vec::new();
    while let Ok(c) = bus.try_recv() {
        if let DomainEvent::EventLogged(e) = &c.event {
            messages.push(e.message.clone());
        }
    }
    assert!(
        messages.contains(&"Nova's claim on “Expire me” expired".to_owned()),
        "{messages:?}"
    );
    // Another agent can take it now.
    assert!(
        b.mc.claim(&actor("agent-rex"), &t.id, LeaseDuration::DEFAULT)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn heartbeats_renew_claims_and_answer_the_agents_work() {
    let b = board().await;
    let p = actor("agent-patch");
    let nova = actor("agent-nova");
    let held =
        b.mc.create_task(&p, task(r#"{"title":"held","status":"todo"}"#))
            .await
            .unwrap();
    let next =
        b.mc.create_task(
            &p,
            task(r#"{"title":"next","status":"todo","priority":"high"}"#),
        )
        .await
        .unwrap();
    let claimed = b.mc.claim(&nova, &held.id, lease(10)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5_200)).await;
    let beat =
        b.mc.heartbeat(&nova, Some(AgentStatus::Busy))
            .await
            .unwrap();
    assert_eq!(beat.agent.status, AgentStatus::Busy);
    assert_eq!(beat.work.held.len(), 1);
    assert!(
        beat.work.held[0].lease_expires_at.unwrap() > claimed.lease_expires_at.unwrap(),
        "less than half was left: renewed"
    );
    assert_eq!(beat.work.next.unwrap().id, next.id);
    let err = HeartbeatRequest {
        status: Some("offline".into()),
    }
    .parse()
    .unwrap_err();
    assert!(matches!(err, Error::Validation(_)));
}

#[tokio::test]
async fn a_silent_agent_goes_offline_and_its_next_sign_of_life_brings_it_back() {
    let b = board_with(Duration::from_secs(2)).await;
    let nova = actor("agent-nova");
    b.mc.saw(&nova).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if b.mc.get_agent("agent-nova").await.unwrap().status == AgentStatus::Offline {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never marked offline"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let feed =
        b.mc.list_events(EventQuery::latest(20))
            .await
            .unwrap()
            .events;
    assert!(
        feed.iter()
            .any(|e| e.message == "Nova went offline: no sign of life for 2 s"),
        "{:?}",
        feed.iter().map(|e| &e.message).collect::<Vec<_>>()
    );
    b.mc.saw(&nova).await.unwrap();
    assert_eq!(
        b.mc.get_agent("agent-nova").await.unwrap().status,
        AgentStatus::Online
    );

    // A live connection (a socket, after signing in) keeps an agent present however quiet.
    b.mc.saw(&actor("agent-rex")).await.unwrap();
    let _socket = b.mc.live_connection(&actor("agent-rex"));
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        b.mc.get_agent("agent-rex").await.unwrap().status,
        AgentStatus::Online
    );
}

#[tokio::test]
async fn fifteen_writers_adding_a_tag_with_if_match_and_retry_keep_all_fifteen() {
    let b = board().await;
    let t =
        b.mc.create_task(&actor("agent-patch"), task(r#"{"title":"tags"}"#))
            .await
            .unwrap();
    let mut writers = Vec::new();
    for i in 0..15 {
        let mc = b.mc.clone();
        let id = t.id.clone();
        writers.push(tokio::spawn(async move {
            loop {
                let current = mc.get_task(&id).await.unwrap();
                let mut tags = current.tags.clone();
                tags.push(format!("w{i}"));
                let change = TaskChanges {
                    tags: Some(Tags::parse(tags).unwrap()),
                    ..Default::default()
                };
                match mc
                    .update_task_if(&actor("agent-patch"), &id, Some(current.version), change)
                    .await
                {
                    Ok(_) => return,
                    Err(Error::Stale { current, .. }) => assert!(current.version > 0),
                    Err(other) => panic!("{other:?}"),
                }
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    let done = b.mc.get_task(&t.id).await.unwrap();
    assert_eq!(done.tags.len(), 15, "{:?}", done.tags);
    assert_eq!(done.version, 16);
}

#[tokio::test]
async fn a_retry_with_the_same_key_answers_the_first_answer_and_creates_nothing() {
    let b = board().await;
    let me = actor("agent-nova");
    let key = || IdempotencyKey::new("k-1", b"POST /api/tasks {\"title\":\"once\"}").unwrap();
    let first =
        b.mc.idempotent(Some(key()))
            .create_task(&me, task(r#"{"title":"once"}"#))
            .await
            .unwrap();
    let retry =
        b.mc.idempotent(Some(key()))
            .create_task(&me, task(r#"{"title":"once"}"#))
            .await
            .unwrap();
    assert_eq!(retry.id, first.id);
    assert_eq!(b.mc.count_tasks().await.unwrap(), 1);
    let other = IdempotencyKey::new("k-1", b"POST /api/tasks {\"title\":\"twice\"}").unwrap();
    let err =
        b.mc.idempotent(Some(other))
            .create_task(&me, task(r#"{"title":"twice"}"#))
            .await
            .unwrap_err();
    assert!(matches!(err, Error::KeyReused));
    // Keys are per agent: another agent's k-1 is its own.
    let rex =
        b.mc.idempotent(Some(key()))
            .create_task(&actor("agent-rex"), task(r#"{"title":"once"}"#))
            .await
            .unwrap();
    assert_ne!(rex.id, first.id);
    // A claim retried after a lost answer is the same claim.
    let todo =
        b.mc.create_task(&me, task(r#"{"title":"c","status":"todo"}"#))
            .await
            .unwrap();
    let ck = || IdempotencyKey::new("claim-1", b"POST /api/tasks/claim-next").unwrap();
    let a =
        b.mc.idempotent(Some(ck()))
            .claim_next(&me, ClaimFilter::default(), LeaseDuration::DEFAULT)
            .await
            .unwrap();
    let again =
        b.mc.idempotent(Some(ck()))
            .claim_next(&me, ClaimFilter::default(), LeaseDuration::DEFAULT)
            .await
            .unwrap();
    assert_eq!(a.unwrap().id, todo.id);
    assert_eq!(again.unwrap().id, todo.id);
}

#[tokio::test]
async fn blockers_hold_a_task_back_until_they_are_done() {
    let b = board().await;
    let p = actor("agent-patch");
    let a =
        b.mc.create_task(&p, task(r#"{"title":"A"}"#))
            .await
            .unwrap();
    let c =
        b.mc.create_task(&p, task(r#"{"title":"C"}"#))
            .await
            .unwrap();
    let bt =
        b.mc.create_task(
            &p,
            task(&format!(
                r#"{{"title":"B","blockedBy":["{}","{}"]}}"#,
                a.id, c.id
            )),
        )
        .await
        .unwrap();
    assert!(bt.blocked && bt.blocked_by.len() == 2);
    let err =
        b.mc.move_task(&p, &bt.id, TaskStatus::InProgress)
            .await
            .unwrap_err();
    assert!(matches!(conflict(err), Conflict::Blocked { blockers, .. } if blockers.len() == 2));
    // Unknown ids and cycles are refused, naming the field.
    let err =
        b.mc.update_task(&p, &a.id, changes(r#"{"blockedBy":["task-nope"]}"#))
            .await
            .unwrap_err();
    assert!(matches!(
        err,
        Error::UnknownReference {
            field: "blockedBy",
            ..
        }
    ));
    let err =
        b.mc.update_task(
            &p,
            &a.id,
            changes(&format!(r#"{{"blockedBy":["{}"]}}"#, bt.id)),
        )
        .await
        .unwrap_err();
    assert!(matches!(conflict(err), Conflict::Cycle { .. }));
    let err =
        b.mc.update_task(
            &p,
            &a.id,
            changes(&format!(r#"{{"blockedBy":["{}"]}}"#, a.id)),
        )
        .await
        .unwrap_err();
    assert!(matches!(conflict(err), Conflict::Cycle { .. }));

    // Deleting a blocker removes the edge; finishing the last one unblocks, with an event.
    b.mc.delete_task(&p, &c.id).await.unwrap();
    assert_eq!(
        b.mc.get_task(&bt.id).await.unwrap().blocked_by,
        vec![a.id.clone()]
    );
    let mut bus = b.mc.subscribe();
    b.mc.move_task(&p, &a.id, TaskStatus::Done).await.unwrap();
    let now = b.mc.get_task(&bt.id).await.unwrap();
    assert!(!now.blocked);
    let mut lines = Vec::new();
    while let Ok(change) = bus.try_recv() {
        if let DomainEvent::EventLogged(e) = &change.event {
            lines.push(e.message.clone());
        }
    }
    assert!(
        lines.contains(&"“B” is unblocked: “A” is done".to_owned()),
        "{lines:?}"
    );
    assert!(
        b.mc.move_task(&p, &bt.id, TaskStatus::InProgress)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn comments_are_kept_in_order_and_complete_adds_the_closing_note() {
    let b = board().await;
    let nova = actor("agent-nova");
    let t =
        b.mc.create_task(
            &actor("agent-patch"),
            task(r#"{"title":"Do it","status":"todo"}"#),
        )
        .await
        .unwrap();
    b.mc.claim(&nova, &t.id, LeaseDuration::DEFAULT)
        .await
        .unwrap();
    for text in ["started", "half way", "a question?"] {
        b.mc.add_comment(&nova, &t.id, CommentText::parse(text).unwrap())
            .await
            .unwrap();
    }
    let err =
        b.mc.complete(&actor("agent-rex"), &t.id, None)
            .await
            .unwrap_err();
    assert!(matches!(conflict(err), Conflict::Held { .. }));
    let done =
        b.mc.complete(
            &nova,
            &t.id,
            Some(CommentText::parse("Finished: PR #12").unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(done.task.status, TaskStatus::Done);
    assert_eq!(done.task.lease_expires_at, None);
    assert_eq!(done.comment.unwrap().text, "Finished: PR #12");
    let page = b.mc.list_comments(&t.id, None, 2).await.unwrap();
    assert_eq!(
        page.comments
            .iter()
            .map(|c| c.text.as_str())
            .collect::<Vec<_>>(),
        ["started", "half way"]
    );
    assert!(page.has_more);
    let rest =
        b.mc.list_comments(&t.id, Some(page.comments[1].id.clone()), 10)
            .await
            .unwrap();
    assert_eq!(
        rest.comments
            .iter()
            .map(|c| c.text.as_str())
            .collect::<Vec<_>>(),
        ["a question?", "Finished: PR #12"]
    );
    assert!(!rest.has_more);
    assert!(matches!(
        b.mc.list_comments("task-nope", None, 10).await.unwrap_err(),
        Error::NotFound { .. }
    ));
}

#[tokio::test]
async fn only_the_operator_manages_agents_and_every_change_is_logged_and_credited() {
    let b = board().await;
    let rex = actor("agent-rex");
    let err =
        b.mc.register_agent(Some(&rex), agent("agent-admin2", "Admin"))
            .await
            .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)));
    let rename = AgentChanges::parse(serde_json::from_str(r#"{"name":"Admin"}"#).unwrap()).unwrap();
    assert!(matches!(
        b.mc.update_agent(&rex, "agent-patch", rename.clone())
            .await
            .unwrap_err(),
        Error::Forbidden(_)
    ));
    assert!(matches!(
        b.mc.update_agent(&rex, "agent-rex", rename)
            .await
            .unwrap_err(),
        Error::Forbidden(_)
    ));
    let offline = AgentChanges::status(AgentStatus::Offline);
    assert!(matches!(
        b.mc.update_agent(&rex, "agent-nova", offline.clone())
            .await
            .unwrap_err(),
        Error::Forbidden(_)
    ));
    b.mc.update_agent(&rex, "agent-rex", offline).await.unwrap();
    let colour =
        AgentChanges::parse(serde_json::from_str(r##"{"avatarColor":"#ff0000"}"##).unwrap())
            .unwrap();
    b.mc.update_agent(&rex, "agent-rex", colour).await.unwrap();

    let patch = actor("agent-patch");
    let taken = AgentChanges::parse(serde_json::from_str(r#"{"name":"nova"}"#).unwrap()).unwrap();
    let err =
        b.mc.update_agent(&patch, "agent-rex", taken)
            .await
            .unwrap_err();
    assert!(matches!(conflict(err), Conflict::NameTaken { .. }));
    let both =
        AgentChanges::parse(serde_json::from_str(r#"{"name":"Rexford","role":"Ops"}"#).unwrap())
            .unwrap();
    b.mc.update_agent(&patch, "agent-rex", both).await.unwrap();
    let feed =
        b.mc.list_events(EventQuery::latest(5))
            .await
            .unwrap()
            .events;
    let lines: Vec<(&str, Option<&str>)> = feed
        .iter()
        .rev()
        .map(|e| (e.message.as_str(), e.agent_id.as_deref()))
        .collect();
    assert_eq!(
        &lines[lines.len() - 4..],
        [
            ("Rex is now offline", Some("agent-rex")),
            ("Rex changed its colour", Some("agent-rex")),
            ("Patch renamed Rex to Rexford", Some("agent-patch")),
            ("Patch changed Rexford's role to Ops", Some("agent-patch")),
        ]
    );
}

#[tokio::test]
async fn removing_an_agent_revokes_its_tokens_and_frees_its_tasks() {
    let b = board().await;
    let patch = actor("agent-patch");
    let token =
        b.mc.mint_token(Some(&patch), "agent-nova", TokenLifetime::DEFAULT)
            .await
            .unwrap();
    let listed =
        b.mc.list_tokens(Some(&actor("agent-nova")), "agent-nova")
            .await
            .unwrap();
    assert_eq!(listed.len(), 1);
    assert!(matches!(
        b.mc.list_tokens(Some(&actor("agent-rex")), "agent-nova")
            .await
            .unwrap_err(),
        Error::Forbidden(_)
    ));
    assert!(matches!(
        b.mc.mint_token(
            Some(&actor("agent-rex")),
            "agent-rex",
            TokenLifetime::DEFAULT
        )
        .await
        .unwrap_err(),
        Error::Forbidden(_)
    ));
    let t =
        b.mc.create_task(&patch, task(r#"{"title":"N","status":"todo"}"#))
            .await
            .unwrap();
    b.mc.claim(&actor("agent-nova"), &t.id, LeaseDuration::DEFAULT)
        .await
        .unwrap();
    assert!(matches!(
        b.mc.remove_agent(Some(&actor("agent-rex")), "agent-nova")
            .await
            .unwrap_err(),
        Error::Forbidden(_)
    ));
    assert!(matches!(
        b.mc.remove_agent(Some(&patch), "agent-patch")
            .await
            .unwrap_err(),
        Error::Forbidden(_)
    ));
    let mut bus = b.mc.subscribe();
    b.mc.remove_agent(Some(&patch), "agent-nova").await.unwrap();
    assert!(b.mc.verify_token(&token.token).await.is_err());
    let freed = b.mc.get_task(&t.id).await.unwrap();
    assert_eq!(
        (freed.status, freed.assigned_agent),
        (TaskStatus::Todo, None)
    );
    let mut kinds = Vec::new();
    while let Ok(c) = bus.try_recv() {
        kinds.push(c.event.wire_name().unwrap_or("token revoked"));
    }
    assert_eq!(
        kinds,
        [
            "token revoked",
            "task.updated",
            "agent.removed",
            "event.new"
        ]
    );
    assert!(b.mc.get_agent("agent-nova").await.is_err());
    // Revoking one token, or all, by id.
    let one =
        b.mc.mint_token(None, "agent-rex", TokenLifetime::DEFAULT)
            .await
            .unwrap();
    let two =
        b.mc.mint_token(None, "agent-rex", TokenLifetime::DEFAULT)
            .await
            .unwrap();
    let ids: Vec<String> =
        b.mc.list_tokens(None, "agent-rex")
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.id)
            .collect();
    b.mc.revoke_token_id(None, "agent-rex", &ids[0])
        .await
        .unwrap();
    assert_eq!(
        [
            b.mc.verify_token(&two.token).await.is_ok(),
            b.mc.verify_token(&one.token).await.is_ok()
        ],
        [false, true],
        "newest first: the first listed was the second minted"
    );
    assert_eq!(b.mc.revoke_all_tokens(None, "agent-rex").await.unwrap(), 1);
    assert!(b.mc.verify_token(&one.token).await.is_err());
}
