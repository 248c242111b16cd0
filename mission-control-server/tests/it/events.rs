//! The event feed, `GET /api/events`: newest first, 50 by default and at most 500, `since` a
//! timestamp, and limits outside the documented range refused rather than capped.

use super::support::*;
use serde_json::json;

#[tokio::test]
async fn events_feed_limits_and_since() {
    let s = App::start().await;
    let admin = s.login().await;
    for i in 0..60 {
        admin.create_task(json!({"title": format!("t{i}")})).await;
    }
    let default = admin.events("").await;
    let events = default.list("events");
    assert_eq!(events.len(), 50);
    assert_eq!(events[0]["message"], "Patch created task “t59”");
    let all = admin.events("limit=500").await;
    assert_eq!(all.list("events").len(), 61, "at most 500, 61 exist");
    let cut = events[10]["timestamp"].as_i64().unwrap();
    let since = admin.events(&format!("since={cut}&limit=500")).await;
    assert!(
        since
            .list("events")
            .iter()
            .all(|e| e["timestamp"].as_i64().unwrap() > cut)
    );
    for bad in [
        "limit=abc",
        "limit=0",
        "limit=-1",
        "limit=501",
        "since=yesterday",
    ] {
        let r = admin.events(bad).await;
        assert_eq!(r.status, 400, "{bad}");
        let field = bad.split('=').next().unwrap();
        assert_eq!(r.error_fields(400, "validation_failed"), [field]);
    }
}

/// `limit` is 1 to 500 as documented: values outside are refused, not capped.
#[tokio::test]
async fn event_limits_outside_the_documented_range_are_refused() {
    let s = App::start().await;
    let admin = s.login().await;
    for ok in ["1", "50", "500"] {
        let r = admin.events(&format!("limit={ok}")).await;
        assert_eq!(r.status, 200, "limit={ok}: {}", r.body);
    }
    for bad in ["0", "501", "4294967296", "-1", "ten", "1.5"] {
        let r = admin.events(&format!("limit={bad}")).await;
        assert_eq!(
            r.error_fields(400, "validation_failed"),
            ["limit"],
            "limit={bad}"
        );
        assert!(
            r.body["error"]["details"][0]["message"]
                .as_str()
                .unwrap()
                .contains("from 1 to 500"),
            "{}",
            r.body
        );
    }
    let r = admin.events("since=-1").await;
    assert_eq!(r.error_fields(400, "validation_failed"), ["since"]);
}
