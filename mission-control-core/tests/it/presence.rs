//! Presence: writes refresh their actor's last sign of life, heartbeats renew claims and answer
//! the agent's work, and a silent agent goes offline unless a live connection holds it.

use std::time::Duration;

use super::support::*;
use mission_control_core::*;

#[tokio::test]
async fn writes_refresh_the_actor_last_active() {
    let b = board().await;
    let before = b.get_agent("agent-patch").await.unwrap().last_active;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    b.create_task(&patch(), NewTask::titled("A").unwrap())
        .await
        .unwrap();
    let after = b.get_agent("agent-patch").await.unwrap().last_active;
    assert!(after > before);
    let nova = b.get_agent("agent-nova").await.unwrap().last_active;
    b.create_task(&patch(), NewTask::titled("B").unwrap())
        .await
        .unwrap();
    assert_eq!(
        b.get_agent("agent-nova").await.unwrap().last_active,
        nova,
        "only the actor"
    );
}

#[tokio::test]
async fn heartbeats_renew_claims_and_answer_the_agents_work() {
    let b = board_at_work().await;
    let p = actor("agent-patch");
    let nova = actor("agent-nova");
    let held = b
        .create_task(&p, new_task(r#"{"title":"held","status":"todo"}"#))
        .await
        .unwrap();
    let next = b
        .create_task(
            &p,
            new_task(r#"{"title":"next","status":"todo","priority":"high"}"#),
        )
        .await
        .unwrap();
    let claimed = b.claim(&nova, &held.id, lease(10)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5_200)).await;
    let beat = b.heartbeat(&nova, Some(AgentStatus::Busy)).await.unwrap();
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
    let b = board_at_work_with(Duration::from_secs(2)).await;
    let nova = actor("agent-nova");
    b.saw(&nova).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if b.get_agent("agent-nova").await.unwrap().status == AgentStatus::Offline {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never marked offline"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let feed = b.list_events(EventQuery::latest(20)).await.unwrap().events;
    assert!(
        feed.iter()
            .any(|e| e.message == "Nova went offline: no sign of life for 2 s"),
        "{:?}",
        feed.iter().map(|e| &e.message).collect::<Vec<_>>()
    );
    b.saw(&nova).await.unwrap();
    assert_eq!(
        b.get_agent("agent-nova").await.unwrap().status,
        AgentStatus::Online
    );

    // A live connection (a socket, after signing in) keeps an agent present however quiet.
    b.saw(&actor("agent-rex")).await.unwrap();
    let _socket = b.live_connection(&actor("agent-rex"));
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        b.get_agent("agent-rex").await.unwrap().status,
        AgentStatus::Online
    );
}
