//! Blockers hold a task back until they are done (no unknown ids, no cycles), and comments are
//! kept in order, `complete` adding the closing note.

use super::support::*;
use mission_control_core::*;

#[tokio::test]
async fn blockers_hold_a_task_back_until_they_are_done() {
    let b = board_at_work().await;
    let p = actor("agent-patch");
    let a = b
        .create_task(&p, new_task(r#"{"title":"A"}"#))
        .await
        .unwrap();
    let c = b
        .create_task(&p, new_task(r#"{"title":"C"}"#))
        .await
        .unwrap();
    let bt = b
        .create_task(
            &p,
            new_task(&format!(
                r#"{{"title":"B","blockedBy":["{}","{}"]}}"#,
                a.id, c.id
            )),
        )
        .await
        .unwrap();
    assert!(bt.blocked && bt.blocked_by.len() == 2);
    let err = b
        .move_task(&p, &bt.id, TaskStatus::InProgress)
        .await
        .unwrap_err();
    assert!(matches!(conflict(err), Conflict::Blocked { blockers, .. } if blockers.len() == 2));
    // Unknown ids and cycles are refused, naming the field.
    let err = b
        .update_task(&p, &a.id, changes(r#"{"blockedBy":["task-nope"]}"#))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::UnknownReference {
            field: "blockedBy",
            ..
        }
    ));
    let err = b
        .update_task(
            &p,
            &a.id,
            changes(&format!(r#"{{"blockedBy":["{}"]}}"#, bt.id)),
        )
        .await
        .unwrap_err();
    assert!(matches!(conflict(err), Conflict::Cycle { .. }));
    let err = b
        .update_task(
            &p,
            &a.id,
            changes(&format!(r#"{{"blockedBy":["{}"]}}"#, a.id)),
        )
        .await
        .unwrap_err();
    assert!(matches!(conflict(err), Conflict::Cycle { .. }));

    // Deleting a blocker removes the edge; finishing the last one unblocks, with an event.
    b.delete_task(&p, &c.id).await.unwrap();
    assert_eq!(
        b.get_task(&bt.id).await.unwrap().blocked_by,
        vec![a.id.clone()]
    );
    let mut bus = b.subscribe();
    b.move_task(&p, &a.id, TaskStatus::Done).await.unwrap();
    let now = b.get_task(&bt.id).await.unwrap();
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
        b.move_task(&p, &bt.id, TaskStatus::InProgress)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn comments_are_kept_in_order_and_complete_adds_the_closing_note() {
    let b = board_at_work().await;
    let nova = actor("agent-nova");
    let t = b
        .create_task(
            &actor("agent-patch"),
            new_task(r#"{"title":"Do it","status":"todo"}"#),
        )
        .await
        .unwrap();
    b.claim(&nova, &t.id, LeaseDuration::DEFAULT).await.unwrap();
    for text in ["started", "half way", "a question?"] {
        b.add_comment(&nova, &t.id, CommentText::parse(text).unwrap())
            .await
            .unwrap();
    }
    let err = b
        .complete(&actor("agent-rex"), &t.id, None)
        .await
        .unwrap_err();
    assert!(matches!(conflict(err), Conflict::Held { .. }));
    let done = b
        .complete(
            &nova,
            &t.id,
            Some(CommentText::parse("Finished: PR #12").unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(done.task.status, TaskStatus::Done);
    assert_eq!(done.task.lease_expires_at, None);
    assert_eq!(done.comment.unwrap().text, "Finished: PR #12");
    let page = b.list_comments(&t.id, None, 2).await.unwrap();
    assert_eq!(
        page.comments
            .iter()
            .map(|c| c.text.as_str())
            .collect::<Vec<_>>(),
        ["started", "half way"]
    );
    assert!(page.has_more);
    let rest = b
        .list_comments(&t.id, Some(page.comments[1].id.clone()), 10)
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
        b.list_comments("task-nope", None, 10).await.unwrap_err(),
        Error::NotFound { .. }
    ));
}
