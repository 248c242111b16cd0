//! Agents: registered once, their status and cards changed by whom the rules allow, every
//! change logged and credited, and removing one revoking its tokens and freeing its tasks.

use super::support::*;
use mission_control_core::*;

#[tokio::test]
async fn agents_register_once_and_change_status() {
    let b = board().await;
    let dup = NewAgent::parse(NewAgentRequest {
        id: Some("agent-nova".into()),
        name: Some("Nova 2".into()),
        role: Some("Ops".into()),
        ..Default::default()
    })
    .unwrap();
    assert!(matches!(
        b.register_agent(None, dup.clone()).await,
        Err(Error::Conflict(_))
    ));
    let kept = b.ensure_agent(dup).await.unwrap();
    assert_eq!((kept.name.as_str(), kept.role), ("Nova 2", AgentRole::Ops));
    assert_eq!(
        kept.status,
        AgentStatus::Online,
        "ensure_agent keeps the status"
    );

    let busy = b
        .set_agent_status(&patch(), "agent-nova", AgentStatus::Busy)
        .await
        .unwrap();
    assert_eq!(busy.status, AgentStatus::Busy);
    assert!(matches!(
        b.set_agent_status(&patch(), "agent-ghost", AgentStatus::Busy)
            .await,
        Err(Error::NotFound { kind: "agent", .. })
    ));
    let names: Vec<String> = b
        .list_agents()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["Nova 2", "Patch"]);
}

#[tokio::test]
async fn only_the_operator_manages_agents_and_every_change_is_logged_and_credited() {
    let b = board_at_work().await;
    let rex = actor("agent-rex");
    let err = b
        .register_agent(Some(&rex), agent("agent-admin2", "Admin", "Dev"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)));
    let rename = agent_changes(r#"{"name":"Admin"}"#);
    assert!(matches!(
        b.update_agent(&rex, "agent-patch", rename.clone())
            .await
            .unwrap_err(),
        Error::Forbidden(_)
    ));
    assert!(matches!(
        b.update_agent(&rex, "agent-rex", rename).await.unwrap_err(),
        Error::Forbidden(_)
    ));
    let offline = AgentChanges::status(AgentStatus::Offline);
    assert!(matches!(
        b.update_agent(&rex, "agent-nova", offline.clone())
            .await
            .unwrap_err(),
        Error::Forbidden(_)
    ));
    b.update_agent(&rex, "agent-rex", offline).await.unwrap();
    let colour = agent_changes(r##"{"avatarColor":"#ff0000"}"##);
    b.update_agent(&rex, "agent-rex", colour).await.unwrap();

    let patch = actor("agent-patch");
    let taken = agent_changes(r#"{"name":"nova"}"#);
    let err = b
        .update_agent(&patch, "agent-rex", taken)
        .await
        .unwrap_err();
    assert!(matches!(conflict(err), Conflict::NameTaken { .. }));
    let both = agent_changes(r#"{"name":"Rexford","role":"Ops"}"#);
    b.update_agent(&patch, "agent-rex", both).await.unwrap();
    let feed = b.list_events(EventQuery::latest(5)).await.unwrap().events;
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
    let b = board_at_work().await;
    let patch = actor("agent-patch");
    let token = b
        .mint_token(Some(&patch), "agent-nova", TokenLifetime::DEFAULT)
        .await
        .unwrap();
    let listed = b
        .list_tokens(Some(&actor("agent-nova")), "agent-nova")
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert!(matches!(
        b.list_tokens(Some(&actor("agent-rex")), "agent-nova")
            .await
            .unwrap_err(),
        Error::Forbidden(_)
    ));
    assert!(matches!(
        b.mint_token(
            Some(&actor("agent-rex")),
            "agent-rex",
            TokenLifetime::DEFAULT
        )
        .await
        .unwrap_err(),
        Error::Forbidden(_)
    ));
    let t = b
        .create_task(&patch, new_task(r#"{"title":"N","status":"todo"}"#))
        .await
        .unwrap();
    b.claim(&actor("agent-nova"), &t.id, LeaseDuration::DEFAULT)
        .await
        .unwrap();
    assert!(matches!(
        b.remove_agent(Some(&actor("agent-rex")), "agent-nova")
            .await
            .unwrap_err(),
        Error::Forbidden(_)
    ));
    assert!(matches!(
        b.remove_agent(Some(&patch), "agent-patch")
            .await
            .unwrap_err(),
        Error::Forbidden(_)
    ));
    let mut bus = b.subscribe();
    b.remove_agent(Some(&patch), "agent-nova").await.unwrap();
    assert!(b.verify_token(&token.token).await.is_err());
    let freed = b.get_task(&t.id).await.unwrap();
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
    assert!(b.get_agent("agent-nova").await.is_err());
    // Revoking one token, or all, by id.
    let one = b
        .mint_token(None, "agent-rex", TokenLifetime::DEFAULT)
        .await
        .unwrap();
    let two = b
        .mint_token(None, "agent-rex", TokenLifetime::DEFAULT)
        .await
        .unwrap();
    let ids: Vec<String> = b
        .list_tokens(None, "agent-rex")
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    b.revoke_token_id(None, "agent-rex", &ids[0]).await.unwrap();
    assert_eq!(
        [
            b.verify_token(&two.token).await.is_ok(),
            b.verify_token(&one.token).await.is_ok()
        ],
        [false, true],
        "newest first: the first listed was the second minted"
    );
    assert_eq!(b.revoke_all_tokens(None, "agent-rex").await.unwrap(), 1);
    assert!(b.verify_token(&one.token).await.is_err());
}
