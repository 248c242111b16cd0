//! Tokens: valid until revoked or expired, refused when signed with another key, and never
//! stored in a usable form.

use std::sync::Arc;

use super::support::*;
use mission_control_core::*;

#[tokio::test]
async fn tokens_verify_until_revoked_or_expired() {
    let b = board().await;
    let issued = b.issue_login_token("agent-patch").await.unwrap();
    assert_eq!(b.verify_token(&issued.token).await.unwrap(), patch());
    let week = 7 * 24 * 3600 * 1000;
    let now = mission_control_core::now_millis();
    assert!((issued.expires_at - (now + week)).abs() < 5_000);

    let mut bus = b.subscribe();
    assert!(b.revoke_token(&issued.token).await.unwrap());
    assert_eq!(
        bus.try_recv().unwrap().event,
        DomainEvent::TokenRevoked {
            token_hash: credentials::sha256_hex(&issued.token)
        },
        "live connections hear of it"
    );
    assert!(matches!(
        b.verify_token(&issued.token).await,
        Err(Error::Unauthorized(_))
    ));

    let expired = b.issue_token("agent-patch", -60_000).await.unwrap();
    assert!(matches!(
        b.verify_token(&expired.token).await,
        Err(Error::Unauthorized(_))
    ));

    assert!(matches!(
        b.issue_token("agent-ghost", 1000).await,
        Err(Error::NotFound { .. })
    ));
    assert!(b.verify_token("not.a.token").await.is_err());

    // A token signed with another key is refused, even for a real agent.
    let other = Board::open_with(Arc::new(TestStore::with_sqlite_file("other.db")), |o| {
        o.jwt_secret = credentials::generate_secret().unwrap().into_bytes();
        o.operator = None;
    });
    other
        .ensure_agent(
            NewAgent::parse(NewAgentRequest {
                id: Some("agent-patch".into()),
                name: Some("Patch".into()),
                role: Some("Dev".into()),
                ..Default::default()
            })
            .unwrap(),
        )
        .await
        .unwrap();
    let foreign = other.issue_login_token("agent-patch").await.unwrap();
    assert!(b.verify_token(&foreign.token).await.is_err());
}

#[tokio::test]
async fn the_database_keeps_no_usable_token() {
    let b = board().await;
    let issued = b.issue_login_token("agent-patch").await.unwrap();
    b.shutdown().await;
    let stored = b.raw().stored_text(b.store.sqlite_file());
    assert!(!stored.contains(&issued.token));
}
