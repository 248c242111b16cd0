//! Writing again safely: versions (`If-Match`) lose no update among concurrent writers, and an
//! idempotency key makes a retry answer the first answer.

use super::support::*;
use mission_control_core::*;

#[tokio::test]
async fn fifteen_writers_adding_a_tag_with_if_match_and_retry_keep_all_fifteen() {
    let b = board_at_work().await;
    let t = b
        .create_task(&actor("agent-patch"), new_task(r#"{"title":"tags"}"#))
        .await
        .unwrap();
    let mut writers = Vec::new();
    for i in 0..15 {
        let mc = b.handle();
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
                    .update_task_if(
                        &actor("agent-patch"),
                        &id,
                        Some(current.version.into()),
                        change,
                    )
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
    let done = b.get_task(&t.id).await.unwrap();
    assert_eq!(done.tags.len(), 15, "{:?}", done.tags);
    assert_eq!(done.version, 16);
}

#[tokio::test]
async fn a_retry_with_the_same_key_answers_the_first_answer_and_creates_nothing() {
    let b = board_at_work().await;
    let me = actor("agent-nova");
    let key = || IdempotencyKey::new("k-1", b"POST /api/tasks {\"title\":\"once\"}").unwrap();
    let first = b
        .idempotent(Some(key()))
        .create_task(&me, new_task(r#"{"title":"once"}"#))
        .await
        .unwrap();
    let retry = b
        .idempotent(Some(key()))
        .create_task(&me, new_task(r#"{"title":"once"}"#))
        .await
        .unwrap();
    assert_eq!(retry.id, first.id);
    assert_eq!(b.count_tasks().await.unwrap(), 1);
    let other = IdempotencyKey::new("k-1", b"POST /api/tasks {\"title\":\"twice\"}").unwrap();
    let err = b
        .idempotent(Some(other))
        .create_task(&me, new_task(r#"{"title":"twice"}"#))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::KeyReused));
    // Keys are per agent: another agent's k-1 is its own.
    let rex = b
        .idempotent(Some(key()))
        .create_task(&actor("agent-rex"), new_task(r#"{"title":"once"}"#))
        .await
        .unwrap();
    assert_ne!(rex.id, first.id);
    // A claim retried after a lost answer is the same claim.
    let todo = b
        .create_task(&me, new_task(r#"{"title":"c","status":"todo"}"#))
        .await
        .unwrap();
    let ck = || IdempotencyKey::new("claim-1", b"POST /api/tasks/claim-next").unwrap();
    let a = b
        .idempotent(Some(ck()))
        .claim_next(&me, ClaimFilter::default(), LeaseDuration::DEFAULT)
        .await
        .unwrap();
    let again = b
        .idempotent(Some(ck()))
        .claim_next(&me, ClaimFilter::default(), LeaseDuration::DEFAULT)
        .await
        .unwrap();
    assert_eq!(a.unwrap().id, todo.id);
    assert_eq!(again.unwrap().id, todo.id);
}
