//! People in the core: accounts with access roles, the one policy every write asks, tokens
//! that carry who a person is, and the operator's account made (and kept) at start-up.

use mission_control_core::*;

use super::support::*;

fn person(username: &str, access: Access, password: Option<&str>) -> NewPerson {
    NewPerson {
        username: Username::parse(username).unwrap(),
        name: AgentName::parse(&format!("{username} the person")).unwrap(),
        access,
        password: password.map(|p| Password::parse(p).unwrap()),
    }
}

#[tokio::test]
async fn a_persons_token_acts_as_their_card_with_their_role() {
    let board = board().await;
    let (viewer, invite) = board
        .add_person(None, person("vic", Access::Viewer, Some("vic-password")))
        .await
        .unwrap();
    assert_eq!((viewer.id.as_str(), invite), ("agent-vic", None));
    let token = board.issue_login_token("agent-vic").await.unwrap();
    let vic = board.verify_token(&token.token).await.unwrap();
    assert_eq!(vic, Actor::person("agent-vic", Access::Viewer));

    // A viewer reads; every write is refused in the core, whatever the door.
    assert!(board.list_tasks(TaskFilter::default()).await.is_ok());
    let err = board
        .create_task(&vic, new_task(r#"{"title": "No"}"#))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden(why) if why.contains("viewer")));
    let task = board
        .create_task(&patch(), new_task(r#"{"title": "Yes"}"#))
        .await
        .unwrap();
    for refused in [
        board
            .claim(&vic, &task.id, LeaseDuration::DEFAULT)
            .await
            .err(),
        board
            .add_comment(&vic, &task.id, CommentText::parse("hi").unwrap())
            .await
            .err(),
        board.heartbeat(&vic, None).await.err(),
        board.delete_task(&vic, &task.id).await.err(),
    ] {
        assert!(matches!(refused, Some(Error::Forbidden(_))), "{refused:?}");
    }

    // An agent's token is an agent, and manages no people.
    let issued = board.issue_login_token("agent-nova").await.unwrap();
    let nova = board.verify_token(&issued.token).await.unwrap();
    assert_eq!(nova.principal, Principal::Agent);
    assert!(matches!(
        board.list_people(Some(&nova)).await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        board
            .add_person(Some(&nova), person("eve", Access::Admin, None))
            .await,
        Err(Error::Forbidden(_))
    ));
    board.shutdown().await;
}

#[tokio::test]
async fn disabling_a_person_revokes_their_tokens_and_refuses_new_ones() {
    let board = board().await;
    board
        .add_person(None, person("mel", Access::Member, Some("mel-password")))
        .await
        .unwrap();
    let token = board.issue_login_token("agent-mel").await.unwrap().token;
    let mel = board.verify_token(&token).await.unwrap();
    assert!(
        board
            .create_task(&mel, new_task(r#"{"title": "Mine"}"#))
            .await
            .is_ok()
    );

    let mut bus = board.subscribe();
    let disable = PersonChanges {
        disabled: Some(true),
        ..Default::default()
    };
    let after = board
        .update_person(Some(&patch()), "agent-mel", disable)
        .await
        .unwrap();
    assert!(after.disabled);
    assert!(matches!(
        board.verify_token(&token).await,
        Err(Error::Unauthorized(_))
    ));
    assert!(matches!(
        board.issue_login_token("agent-mel").await,
        Err(Error::Unauthorized(_))
    ));
    // The revocation is announced, for live connections to end.
    let announced = bus.recv().await.unwrap();
    assert!(
        matches!(announced.event, DomainEvent::TokenRevoked { .. }),
        "{announced:?}"
    );
    board.shutdown().await;
}

#[tokio::test]
async fn the_operators_account_keeps_its_password_unless_the_environment_sets_one() {
    let board = board().await;
    let first = PasswordHash::new("first-password").unwrap();
    board
        .ensure_operator("patch", OPERATOR, Some(first), false)
        .await
        .unwrap();
    let stored = |board: &MissionControl| {
        let board = board.clone();
        async move {
            board
                .sign_in_record("patch")
                .await
                .unwrap()
                .unwrap()
                .password_hash
                .unwrap()
        }
    };
    assert!(stored(&board).await.verify("first-password"));
    // A later start with what was kept elsewhere changes nothing ...
    let older = PasswordHash::new("older-password").unwrap();
    board
        .ensure_operator("patch", OPERATOR, Some(older), false)
        .await
        .unwrap();
    assert!(stored(&board).await.verify("first-password"));
    // ... one whose environment sets the password replaces it.
    let env = PasswordHash::new("environment-password").unwrap();
    board
        .ensure_operator("patch", OPERATOR, Some(env), true)
        .await
        .unwrap();
    assert!(stored(&board).await.verify("environment-password"));
    let operator = board.get_person(None, OPERATOR).await.unwrap();
    assert_eq!(operator.role, Access::Admin);
    board.shutdown().await;
}

#[tokio::test]
async fn an_invitation_is_used_once() {
    let board = board().await;
    let (ivy, invite) = board
        .add_person(None, person("ivy", Access::Member, None))
        .await
        .unwrap();
    assert!(ivy.invited);
    let invite = invite.unwrap();
    assert!(invite.expires_at > ivy.created_at + INVITE_TTL_MS - 60_000);
    let password = || Password::parse("ivy-password").unwrap();
    let id = board
        .accept_invite(&invite.token, password())
        .await
        .unwrap();
    assert_eq!(id, "agent-ivy");
    assert!(matches!(
        board.accept_invite(&invite.token, password()).await,
        Err(Error::Unauthorized(_))
    ));
    let record = board.sign_in_record("ivy").await.unwrap().unwrap();
    assert!(record.password_hash.unwrap().verify("ivy-password"));
    board.shutdown().await;
}

/// A board made by the previous release has no accounts; the operator's is made at the
/// first start, and the agents' old tokens go on working as agents.
#[tokio::test]
async fn a_board_from_the_previous_release_gains_the_operators_account() {
    if on_postgres() {
        return skip("the previous release's board is an SQLite file");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mission-control.db");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/previous-main.db"
        ),
        &path,
    )
    .unwrap();
    let mut options = Options::new(&path, "previous-main-fixture-secret-0123456789abcdef");
    options.create = false;
    options.operator = Some(AgentId::parse(OPERATOR).unwrap());
    let board = MissionControl::open_with(options).unwrap();
    assert!(board.list_people(None).await.unwrap().is_empty());
    let hash = PasswordHash::new("kept-password").unwrap();
    board
        .ensure_operator("patch", OPERATOR, Some(hash), false)
        .await
        .unwrap();
    let people = board.list_people(None).await.unwrap();
    assert_eq!(people.len(), 1);
    assert_eq!(
        (
            people[0].id.as_str(),
            people[0].name.as_str(),
            people[0].role
        ),
        (OPERATOR, "Patch", Access::Admin)
    );
    let token = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/previous-main.nova-token"
    ))
    .unwrap();
    let nova = board.verify_token(token.trim()).await.unwrap();
    assert_eq!(nova.principal, Principal::Agent);
    board.shutdown().await;
}
