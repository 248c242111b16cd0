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

#[tokio::test]
async fn an_answer_too_large_to_keep_is_read_again_by_its_retry() {
    let b = board_at_work().await;
    let me = actor("agent-nova");
    // 10,000 two-byte characters: an answer of some 20 KB, more than is kept whole.
    let json = format!(
        r#"{{"title":"big","description":"{}"}}"#,
        "é".repeat(10_000)
    );
    let key = || IdempotencyKey::new("big-1", json.as_bytes()).unwrap();
    let first = b
        .idempotent(Some(key()))
        .create_task(&me, new_task(&json))
        .await
        .unwrap();
    assert!(serde_json::to_string(&first).unwrap().len() > IdempotencyKey::MAX_ANSWER_BYTES);
    let kept = b.idempotency_bytes(&me).await.unwrap();
    assert!(kept < 512, "only the ids are kept: {kept} bytes");
    let moved = b.move_task(&me, &first.id, TaskStatus::Todo).await.unwrap();
    // The retry does nothing twice and answers the task as it is now.
    let retry = b
        .idempotent(Some(key()))
        .create_task(&me, new_task(&json))
        .await
        .unwrap();
    assert_eq!(retry, moved);
    assert_eq!(b.count_tasks().await.unwrap(), 1);

    // A small answer is kept whole: its retry answers the first answer, even after a change.
    let small = r#"{"title":"small"}"#;
    let key = || IdempotencyKey::new("small-1", small.as_bytes()).unwrap();
    let first = b
        .idempotent(Some(key()))
        .create_task(&me, new_task(small))
        .await
        .unwrap();
    b.move_task(&me, &first.id, TaskStatus::Todo).await.unwrap();
    let retry = b
        .idempotent(Some(key()))
        .create_task(&me, new_task(small))
        .await
        .unwrap();
    assert_eq!(retry, first);
    assert_eq!(b.count_tasks().await.unwrap(), 2);
}

#[tokio::test]
async fn one_agents_keys_take_at_most_their_quota_and_the_oldest_go_first() {
    const QUOTA: u64 = 16 * 1024;
    let b = Board::open_with(
        std::sync::Arc::new(TestStore::with_sqlite_file(BOARD_FILE)),
        |o| o.idempotency_bytes_per_agent = QUOTA,
    );
    b.register(&[
        ("agent-patch", "Patch", "Dev"),
        ("agent-nova", "Nova", "Dev"),
    ])
    .await;
    let (nova, patch) = (actor("agent-nova"), actor("agent-patch"));
    let create = |who: Actor, n: usize| {
        let b = b.handle();
        async move {
            let json = format!(r#"{{"title":"task {n}"}}"#);
            let key = IdempotencyKey::new(&format!("k-{n}"), json.as_bytes()).unwrap();
            b.idempotent(Some(key))
                .create_task(&who, new_task(&json))
                .await
                .unwrap()
        }
    };
    let first_of_patch = create(patch.clone(), 0).await;
    // Some 40 KB of answers from Nova: her oldest keys make room for her newest.
    let mut made = Vec::new();
    for n in 0..80 {
        made.push(create(nova.clone(), n).await);
    }
    let kept = b.idempotency_bytes(&nova).await.unwrap();
    assert!(kept <= QUOTA, "{kept} bytes kept");
    assert!(kept > QUOTA / 2, "{kept} bytes kept");
    let tasks = b.count_tasks().await.unwrap();
    // Her newest key still answers its first answer; her oldest is forgotten and does the
    // work again; Patch's keys are his own, untouched.
    assert_eq!(create(nova.clone(), 79).await, made[79]);
    assert_eq!(b.count_tasks().await.unwrap(), tasks);
    assert_ne!(create(nova.clone(), 0).await.id, made[0].id);
    assert_eq!(b.count_tasks().await.unwrap(), tasks + 1);
    assert_eq!(create(patch.clone(), 0).await, first_of_patch);
    // What is kept for her is what her keys add up to.
    let stored = b.raw().number(
        "SELECT CAST(SUM(bytes) AS BIGINT) FROM idempotency_keys WHERE actor = 'agent-nova'",
    );
    assert_eq!(
        stored,
        Some(b.idempotency_bytes(&nova).await.unwrap() as i64)
    );
}
