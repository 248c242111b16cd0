//! `GET /api/stream`, the Server-Sent Events stream, against the real server: every change with
//! `id:` its seq, resuming exactly from `Last-Event-ID` or `?since=`, `resync_required` when the
//! log cannot, a storm of writes during the seam, the caps, revocation, presence, shutdown,
//! and bad input refused by name.

use std::time::Duration;

use super::support::live::{Logged, change_log, create_tasks};
use super::support::*;
use mission_control_testkit::sse::{Event, EventStream, Item};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);
const FAST: &[(&str, &str)] = &[("RATE_LIMIT_PER_MINUTE", "1000000")];

async fn open(s: &App, session: &Session, query: &str, last_event_id: Option<&str>) -> EventStream {
    let url = format!("{}/api/stream{query}", s.url);
    match EventStream::open(&s.http, &url, session.token(), last_event_id)
        .await
        .unwrap()
    {
        Ok(stream) => stream,
        Err((status, body)) => panic!("{status}: {body}"),
    }
}

/// The status and error body of a stream the server refuses.
async fn refused(s: &App, session: &Session, query: &str, last_event_id: Option<&str>) -> Reply {
    let url = format!("{}/api/stream{query}", s.url);
    match EventStream::open(&s.http, &url, session.token(), last_event_id)
        .await
        .unwrap()
    {
        Ok(_) => panic!("the stream was opened"),
        Err((status, body)) => Reply {
            status,
            body: serde_json::from_str(&body).unwrap_or_default(),
            headers: Default::default(),
        },
    }
}

/// Events up to and including the first named `last`.
async fn events_until(stream: &mut EventStream, last: &[&str]) -> Vec<Event> {
    let mut got = Vec::new();
    while let Some(event) = stream.next_event(WAIT).await {
        let done = last.contains(&event.event.as_str());
        got.push(event);
        if done {
            break;
        }
    }
    got
}

/// `count` change events.
async fn changes(stream: &mut EventStream, count: usize) -> Vec<Logged> {
    let mut got = Vec::new();
    while got.len() < count {
        let event = stream.next_event(WAIT).await.expect("a change");
        got.push(as_logged(&event));
    }
    got
}

fn as_logged(event: &Event) -> Logged {
    Logged {
        seq: event.seq().unwrap_or(-1),
        name: event.event.clone(),
        payload: event.json(),
    }
}

fn changes_only(events: &[Event]) -> Vec<Logged> {
    events
        .iter()
        .filter(|e| !matches!(e.event.as_str(), "ready" | "resumed" | "resync_required"))
        .map(as_logged)
        .collect()
}

fn assert_exactly(received: &[Logged], expected: &[Logged]) {
    assert_eq!(
        received.iter().map(|c| c.seq).collect::<Vec<_>>(),
        expected.iter().map(|c| c.seq).collect::<Vec<_>>(),
        "the seqs, in order"
    );
    for (r, e) in received.iter().zip(expected) {
        assert_eq!(r, e, "id, event and data as logged");
        assert_eq!(r.payload["seq"], r.seq, "data carries the seq of id");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stream_starts_ready_then_carries_every_change_with_its_seq() {
    let s = App::start().await;
    let admin = s.login().await;
    let response = s
        .http
        .get(format!("{}/api/stream", s.url))
        .bearer_auth(admin.token())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["cache-control"], "no-store");
    drop(response);

    let mut stream = open(&s, &admin, "", None).await;
    let ready = stream.next_event(WAIT).await.unwrap();
    let at = admin.latest_seq().await;
    assert_eq!(
        (ready.event.as_str(), ready.seq(), ready.json()),
        ("ready", Some(at), json!({"seq": at}))
    );
    let created = admin.create_task(json!({"title": "Streamed"})).await;
    let task_id = created.task_id();
    admin.delete_task(&task_id).await;
    let got = changes(&mut stream, 4).await;
    assert_exactly(&got, &change_log(s.store(), at));
    assert_eq!(
        got.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["task.created", "event.new", "task.deleted", "event.new"]
    );
    assert_eq!(
        got[0].payload,
        json!({"task": created.body["task"], "seq": at + 1})
    );
    assert_eq!(got[2].payload, json!({"taskId": task_id, "seq": at + 3}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stream_resumes_from_last_event_id_or_since_with_exactly_what_was_missed() {
    let s = App::start_with(FAST).await;
    let admin = s.login().await;
    let since = admin.latest_seq().await;
    create_tasks(&admin, 500, 8).await;
    assert_eq!(change_log(s.store(), since).len(), 1000);

    let id = since.to_string();
    for (query, header) in [
        (String::new(), Some(id.as_str())),
        (format!("?since={since}"), None),
        // An EventSource reconnecting sends Last-Event-ID; the URL still has its first since.
        ("?since=0".to_owned(), Some(id.as_str())),
    ] {
        // Each round adds two live changes, which the next round replays too.
        let missed = change_log(s.store(), since);
        let n = missed.len() as i64;
        let resumed = json!({"since": since, "seq": since + n, "replayed": n});
        let mut stream = open(&s, &admin, &query, header).await;
        let got = events_until(&mut stream, &["resumed", "resync_required"]).await;
        let last = got.last().unwrap();
        assert_eq!(
            (last.event.as_str(), last.json()),
            ("resumed", resumed.clone())
        );
        assert_eq!(last.seq(), Some(since + n), "resumed moves Last-Event-ID");
        assert_exactly(&changes_only(&got), &missed);
        // Then live.
        admin.create_task(json!({"title": "live"})).await;
        let live = changes(&mut stream, 2).await;
        assert_eq!(live[0].seq, admin.latest_seq().await - 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stream_whose_position_the_log_cannot_continue_is_told_to_resync() {
    let keep = [("CHANGE_LOG_MAX_ENTRIES", "1000"), FAST[0]];
    let s = App::start_with(&keep).await;
    let store = s.store().clone();
    let admin = s.login().await;
    let since = admin.latest_seq().await;
    create_tasks(&admin, 600, 8).await;
    let latest = admin.latest_seq().await;
    s.terminate().await;
    let s = App::start_on(&store, &keep).await;
    let admin = s.session(admin.token());

    let deadline = tokio::time::Instant::now() + WAIT;
    let (mut stream, told) = loop {
        let mut stream = open(&s, &admin, &format!("?since={since}"), None).await;
        let got = events_until(&mut stream, &["resumed", "resync_required"]).await;
        let last = got.last().unwrap().clone();
        // The first server may have trimmed a little already; wait for the restart's trim.
        if last.event == "resync_required" && last.json()["oldest"] == latest - 999 {
            assert_eq!(got.len(), 1, "nothing replayed: {got:?}");
            break (stream, last);
        }
        assert!(tokio::time::Instant::now() < deadline, "never trimmed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        told.json(),
        json!({"since": since, "oldest": latest - 999, "latest": latest})
    );
    assert_eq!(
        told.seq(),
        Some(latest),
        "a reconnect continues from latest"
    );
    admin.create_task(json!({"title": "after"})).await;
    assert_eq!(changes(&mut stream, 1).await[0].seq, latest + 1);

    let ahead = (latest + 100).to_string();
    let mut stream = open(&s, &admin, "", Some(&ahead)).await;
    let got = events_until(&mut stream, &["resumed", "resync_required"]).await;
    assert_eq!(got.last().unwrap().event, "resync_required");
    admin.create_task(json!({"title": "later"})).await;
    assert_eq!(changes(&mut stream, 1).await[0].seq, latest + 3);
}

#[test]
fn a_storm_of_writes_while_a_stream_resumes_loses_and_repeats_nothing() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let s = runtime.block_on(App::start_with(FAST));
    let admin = runtime.block_on(s.login());
    runtime.block_on(create_tasks(&admin, 150, 4));
    let storms = (1usize..6, 20usize..120, 0u64..40, 0i64..300);
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases: 8,
        failure_persistence: None,
        ..Default::default()
    });
    runner
        .run(&storms, |(writers, writes, delay_ms, back)| {
            runtime.block_on(async {
                let since = (admin.latest_seq().await - back).max(0);
                let writing = {
                    let admin = admin.clone();
                    tokio::spawn(async move { create_tasks(&admin, writes, writers).await })
                };
                tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                let mut stream = open(&s, &admin, "", Some(&since.to_string())).await;
                let mut got = events_until(&mut stream, &["resumed"]).await;
                writing.await.unwrap();
                let expected = change_log(s.store(), since);
                let total = expected.len() + 1;
                while got.len() < total {
                    got.push(stream.next_event(WAIT).await.expect("every change"));
                }
                assert_eq!(got.iter().filter(|e| e.event == "resumed").count(), 1);
                assert_exactly(&changes_only(&got), &expected);
            });
            Ok(())
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn streams_are_capped_per_token_and_in_all() {
    let s = App::start_with(&[
        ("MAX_EVENT_STREAMS_PER_TOKEN", "2"),
        ("MAX_EVENT_STREAMS", "3"),
    ])
    .await;
    let admin = s.login().await;
    let other = s.login().await;
    let first = open(&s, &admin, "", None).await;
    let _second = open(&s, &admin, "", None).await;
    let r = refused(&s, &admin, "", None).await;
    r.error_fields(503, "busy");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("this token")
    );
    let _third = open(&s, &other, "", None).await;
    let r = refused(&s, &other, "", None).await;
    r.error_fields(503, "busy");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the server")
    );
    // A stream that ends gives its place back.
    drop(first);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let url = format!("{}/api/stream", s.url);
        if EventStream::open(&s.http, &url, admin.token(), None)
            .await
            .unwrap()
            .is_ok()
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the place never came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn signing_out_ends_the_stream_and_bad_input_is_refused_by_name() {
    let s = App::start().await;
    let admin = s.login().await;
    let mut stream = open(&s, &admin, "", None).await;
    stream.next_event(WAIT).await.unwrap();
    let r = admin.logout().await;
    assert_eq!(r.status, 200);
    let mut comments = Vec::new();
    while let Some(item) = stream.next_within(WAIT).await {
        if let Item::Comment(c) = item {
            comments.push(c);
        }
    }
    assert_eq!(
        comments,
        ["closed: the token was revoked"],
        "then the stream ends"
    );
    let r = refused(&s, &admin, "", None).await;
    r.error_fields(401, "unauthorized");

    let admin = s.login().await;
    let r = refused(&s, &admin, "", Some("soon")).await;
    assert_eq!(r.error_fields(400, "validation_failed"), ["Last-Event-ID"]);
    let r = refused(&s, &admin, "?since=-1", None).await;
    assert_eq!(r.error_fields(400, "validation_failed"), ["since"]);
    let r = s.anonymous().get("/api/stream").await;
    r.error_fields(401, "unauthorized");
    let r = admin.request("POST", "/api/stream", None).await;
    assert_eq!(r.status, 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_open_stream_keeps_its_agent_online_and_shutdown_ends_it() {
    let s = App::start_with(&[("AGENT_OFFLINE_AFTER", "5s")]).await;
    let admin = s.login().await;
    let nova = admin
        .register_agent_with_token("agent-nova", "Nova", "Research")
        .await;
    let mut stream = open(&s, &nova, "", None).await;
    stream.next_event(WAIT).await.unwrap();
    // Silent for longer than AGENT_OFFLINE_AFTER, but connected: still online.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let r = admin.get_agent("agent-nova").await;
    assert_eq!(r.body["agent"]["status"], "online", "{}", r.body);

    let stopping = tokio::spawn(s.terminate());
    let mut comments = Vec::new();
    while let Some(item) = stream.next_within(WAIT).await {
        if let Item::Comment(c) = item {
            comments.push(c);
        }
    }
    assert_eq!(comments, ["closed: the server is shutting down"]);
    let status = stopping.await.unwrap();
    assert!(status.success(), "{status}");
}
