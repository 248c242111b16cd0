//! Property tests of the domain parsers: arbitrary input never panics, and what is accepted is
//! exactly what the rules allow.

use mission_control_core::*;
use proptest::prelude::*;

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,250}",
        "[ \t\n]{0,5}[a-z]{0,5}[ \t\n]{0,5}",
        "\\PC{0,60}",
        Just(String::new()),
        Just("x".repeat(10_001)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn a_title_is_accepted_when_trimmed_it_has_1_to_200_visible_chars(raw in any_text()) {
        let trimmed = raw.trim();
        let len = trimmed.chars().count();
        match TaskTitle::parse(&raw) {
            Ok(title) => {
                prop_assert_eq!(title.as_str(), trimmed);
                prop_assert!((1..=200).contains(&len));
                prop_assert!(!trimmed.chars().any(char::is_control));
            }
            Err(_) => {
                // Plain printable text of the right length is never refused.
                let plain = (1..=200).contains(&len)
                    && trimmed.chars().all(|c| c.is_ascii_graphic() || c == ' ');
                prop_assert!(!plain, "refused {:?}", trimmed);
            }
        }
    }

    #[test]
    fn tags_accepted_are_bounded_and_distinct(raw in proptest::collection::vec(any_text(), 0..25)) {
        if let Ok(tags) = Tags::parse(raw) {
            let tags: Vec<&str> = tags.iter().collect();
            prop_assert!(tags.len() <= 20);
            for (i, t) in tags.iter().enumerate() {
                prop_assert!(!t.is_empty() && t.chars().count() <= 50 && t.trim() == *t);
                prop_assert!(!tags[..i].contains(t));
            }
        }
    }

    #[test]
    fn create_requests_never_panic_and_only_valid_ones_pass(
        title in proptest::option::of(any_text()),
        description in proptest::option::of(any_text()),
        status in proptest::option::of(prop_oneof![Just("todo".to_owned()), any_text()]),
        priority in proptest::option::of(prop_oneof![Just("high".to_owned()), any_text()]),
        agent in proptest::option::of(prop_oneof![Just("agent-nova".to_owned()), any_text()]),
        tags in proptest::option::of(proptest::collection::vec(any_text(), 0..22)),
    ) {
        let req = CreateTaskRequest {
            title, description, status: status.clone(), assigned_agent: agent, priority, tags,
            blocked_by: None,
        };
        match NewTask::parse(req) {
            Ok(task) => {
                prop_assert!(!task.title.as_str().is_empty());
                if let Some(s) = status {
                    prop_assert_eq!(task.status.as_str(), s.as_str());
                }
            }
            Err(Error::Validation(fields)) => prop_assert!(!fields.is_empty()),
            Err(other) => prop_assert!(false, "unexpected error {:?}", other),
        }
    }

    #[test]
    fn enums_parse_only_their_wire_names(raw in any_text()) {
        if let Ok(s) = raw.parse::<TaskStatus>() { prop_assert_eq!(s.as_str(), raw.as_str()); }
        if let Ok(p) = raw.parse::<Priority>() { prop_assert_eq!(p.as_str(), raw.as_str()); }
        if let Ok(r) = raw.parse::<AgentRole>() { prop_assert_eq!(r.as_str(), raw.as_str()); }
        if let Ok(s) = raw.parse::<AgentStatus>() { prop_assert_eq!(s.as_str(), raw.as_str()); }
    }

    #[test]
    fn update_requests_from_arbitrary_json_never_panic(json in "\\PC{0,80}") {
        if let Ok(req) = serde_json::from_str::<UpdateTaskRequest>(&json) {
            let _ = TaskChanges::parse(req);
        }
        if let Ok(req) = serde_json::from_str::<UpdateAgentRequest>(&json) {
            let _ = AgentChanges::parse(req);
        }
    }
}
