//! Claims and leases: a claim assigns, moves and holds a task; claim-next picks the most
//! urgent free task and never hands one out twice, however many agents race; a lease that runs
//! out gives the task back.

use std::collections::HashSet;
use std::time::Duration;

use super::support::*;
use mission_control_core::*;

#[tokio::test]
async fn a_claim_assigns_moves_and_holds_the_task() {
    let b = board_at_work().await;
    let t = b
        .create_task(
            &actor("agent-patch"),
            new_task(r#"{"title":"A","status":"todo"}"#),
        )
        .await
        .unwrap();
    let claimed = b
        .claim(&actor("agent-nova"), &t.id, LeaseDuration::DEFAULT)
        .await
        .unwrap();
    assert_eq!(claimed.status, TaskStatus::InProgress);
    assert_eq!(claimed.assigned_agent.as_deref(), Some("agent-nova"));
    assert_eq!(claimed.version, t.version + 1);
    let expires = claimed.lease_expires_at.unwrap();
    let left = expires - now_millis();
    assert!((890_000..=900_000).contains(&left), "{left}");

    // Another agent cannot take it, move it or reassign it; the holder and the operator can.
    let err = b
        .claim(&actor("agent-rex"), &t.id, LeaseDuration::DEFAULT)
        .await
        .unwrap_err();
    assert!(matches!(conflict(err), Conflict::Held { holder, .. } if holder == "agent-nova"));
    let err = b
        .move_task(&actor("agent-rex"), &t.id, TaskStatus::Done)
        .await
        .unwrap_err();
    assert!(matches!(conflict(err), Conflict::Held { .. }));
    let renamed = b
        .update_task(&actor("agent-rex"), &t.id, changes(r#"{"title":"A2"}"#))
        .await
        .unwrap();
    assert_eq!(
        renamed.lease_expires_at,
        Some(expires),
        "a rename keeps the claim"
    );
    let err = b.delete_task(&actor("agent-rex"), &t.id).await.unwrap_err();
    assert!(matches!(conflict(err), Conflict::Held { .. }));

    // Claiming again renews; releasing gives it back to todo, unassigned.
    let again = b
        .claim(&actor("agent-nova"), &t.id, lease(60))
        .await
        .unwrap();
    assert!(again.lease_expires_at.unwrap() < expires);
    let err = b.release(&actor("agent-rex"), &t.id).await.unwrap_err();
    assert!(matches!(conflict(err), Conflict::Held { .. }));
    let released = b.release(&actor("agent-nova"), &t.id).await.unwrap();
    assert_eq!(released.status, TaskStatus::Todo);
    assert_eq!(released.assigned_agent, None);
    assert_eq!(released.lease_expires_at, None);
    let err = b.release(&actor("agent-nova"), &t.id).await.unwrap_err();
    assert!(matches!(conflict(err), Conflict::NotHeld { .. }));

    // The operator overrides a claim.
    b.claim(&actor("agent-nova"), &t.id, LeaseDuration::DEFAULT)
        .await
        .unwrap();
    let moved = b
        .move_task(&actor("agent-patch"), &t.id, TaskStatus::Backlog)
        .await
        .unwrap();
    assert_eq!(
        moved.lease_expires_at, None,
        "leaving in-progress ends the claim"
    );
}

#[tokio::test]
async fn a_done_task_or_one_assigned_to_someone_else_cannot_be_claimed() {
    let b = board_at_work().await;
    let done = b
        .create_task(
            &actor("agent-patch"),
            new_task(r#"{"title":"D","status":"done"}"#),
        )
        .await
        .unwrap();
    let err = b
        .claim(&actor("agent-nova"), &done.id, LeaseDuration::DEFAULT)
        .await
        .unwrap_err();
    assert!(matches!(conflict(err), Conflict::Done { .. }));
    let theirs = b
        .create_task(
            &actor("agent-patch"),
            new_task(r#"{"title":"R","status":"todo","assignedAgent":"agent-rex"}"#),
        )
        .await
        .unwrap();
    let err = b
        .claim(&actor("agent-nova"), &theirs.id, LeaseDuration::DEFAULT)
        .await
        .unwrap_err();
    assert!(
        matches!(conflict(err), Conflict::AssignedToOther { agent, .. } if agent == "agent-rex")
    );
    assert!(
        b.claim(&actor("agent-rex"), &theirs.id, LeaseDuration::DEFAULT)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn claim_next_takes_the_highest_priority_oldest_unblocked_todo_task() {
    let b = board_at_work().await;
    let p = actor("agent-patch");
    let low = b
        .create_task(
            &p,
            new_task(r#"{"title":"low","status":"todo","priority":"low"}"#),
        )
        .await
        .unwrap();
    let high_old = b
        .create_task(
            &p,
            new_task(
                r#"{"title":"high old","status":"todo","priority":"high","tags":["backend"]}"#,
            ),
        )
        .await
        .unwrap();
    let _high_new = b
        .create_task(
            &p,
            new_task(r#"{"title":"high new","status":"todo","priority":"high"}"#),
        )
        .await
        .unwrap();
    let blocker = b
        .create_task(&p, new_task(r#"{"title":"blocker","status":"backlog"}"#))
        .await
        .unwrap();
    let blocked = b.create_task(&p, new_task(&format!(r#"{{"title":"critical but blocked","status":"todo","priority":"critical","blockedBy":["{}"]}}"#, blocker.id)))
        .await
        .unwrap();
    assert!(blocked.blocked);
    let _backlog = b
        .create_task(&p, new_task(r#"{"title":"backlog","priority":"critical"}"#))
        .await
        .unwrap();
    let _rexs = b.create_task(&p, new_task(r#"{"title":"rex's","status":"todo","priority":"critical","assignedAgent":"agent-rex"}"#)).await.unwrap();

    let nova = actor("agent-nova");
    let first = b
        .claim_next(&nova, ClaimFilter::default(), LeaseDuration::DEFAULT)
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
    let second = b
        .claim_next(&nova, filtered, LeaseDuration::DEFAULT)
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
        b.claim_next(&nova, tag_filter, LeaseDuration::DEFAULT)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn sixty_four_agents_racing_claim_next_claim_every_task_exactly_once() {
    let b = board_at_work().await;
    let p = actor("agent-patch");
    for i in 0..1000 {
        b.create_task(
            &p,
            new_task(&format!(r#"{{"title":"t{i}","status":"todo"}}"#)),
        )
        .await
        .unwrap();
    }
    for i in 0..64 {
        b.register_agent(
            None,
            agent(&format!("agent-racer-{i}"), &format!("Racer {i}"), "Dev"),
        )
        .await
        .unwrap();
    }
    let mut racers = Vec::new();
    for i in 0..64 {
        let mc = b.handle();
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
    let b = board_at_work().await;
    let t = b
        .create_task(
            &actor("agent-patch"),
            new_task(r#"{"title":"Expire me","status":"todo"}"#),
        )
        .await
        .unwrap();
    let mut bus = b.subscribe();
    b.claim(&actor("agent-nova"), &t.id, lease(5))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let expired = loop {
        let current = b.get_task(&t.id).await.unwrap();
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
        b.claim(&actor("agent-rex"), &t.id, LeaseDuration::DEFAULT)
            .await
            .is_ok()
    );
}
