//! Tasks: the cards on the board, their fields, and the rules each field obeys.

use serde::{Deserialize, Serialize};

use mission_control_actions::limits;

use super::{string_enum, text};

string_enum! {
    /// The board's four columns.
    TaskStatus { Backlog => "backlog", Todo => "todo", InProgress => "in-progress", Done => "done" }
}

impl TaskStatus {
    /// The column's name as the dashboard shows it: "In progress".
    pub fn label(self) -> &'static str {
        match self {
            TaskStatus::Backlog => "Backlog",
            TaskStatus::Todo => "To do",
            TaskStatus::InProgress => "In progress",
            TaskStatus::Done => "Done",
        }
    }
}

string_enum! {
    Priority { Low => "low", Medium => "medium", High => "high", Critical => "critical" }
}

/// A title as shown on a card: trimmed, never empty, at most 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TaskTitle(String);

impl TaskTitle {
    pub const MAX_CHARS: usize = limits::TITLE_MAX_CHARS;

    pub fn parse(raw: &str) -> Result<Self, String> {
        text::line(raw, Self::MAX_CHARS).map(TaskTitle)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Free text of at most 10,000 characters. Blank text means "no description".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TaskDescription(String);

impl TaskDescription {
    pub const MAX_CHARS: usize = limits::DESCRIPTION_MAX_CHARS;

    /// `None` for blank input: an empty description is no description.
    pub fn parse(raw: &str) -> Result<Option<Self>, String> {
        text::free_text(raw, Self::MAX_CHARS).map(|d| d.map(TaskDescription))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One label: trimmed, 1 to 50 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Tag(String);

impl Tag {
    pub const MAX_CHARS: usize = limits::TAG_MAX_CHARS;

    /// A tag from text already checked with the line rules.
    pub(crate) fn new(checked: String) -> Self {
        Tag(checked)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// At most 20 tags, duplicates dropped, in the order given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Tags(Vec<Tag>);

impl Tags {
    pub const MAX_COUNT: usize = limits::TAGS_MAX_COUNT;

    pub fn parse(raw: Vec<String>) -> Result<Self, String> {
        // Counted before anything else is done with them: a list of 100,000 tags is refused
        // as fast as a list of 21.
        if raw.len() > Self::MAX_COUNT {
            return Err(format!(
                "must hold at most {} tags (got {})",
                Self::MAX_COUNT,
                raw.len()
            ));
        }
        let mut tags: Vec<Tag> = Vec::with_capacity(raw.len());
        for (i, t) in raw.iter().enumerate() {
            let tag = text::line(t, Tag::MAX_CHARS).map_err(|e| format!("tag {i} {e}"))?;
            // Duplicates carry no meaning on a card; keep the first.
            if !tags.iter().any(|existing| existing.0 == tag) {
                tags.push(Tag(tag));
            }
        }
        Ok(Tags(tags))
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(Tag::as_str)
    }
}

/// A task as stored and as sent on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Task {
    /// `task-` followed by a time-ordered UUID (v7).
    #[cfg_attr(
        feature = "openapi",
        schema(example = "task-01936f3e-8c5a-7b3e-9f1a-2b4c6d8e0f12")
    )]
    pub id: String,
    pub title: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub description: Option<String>,
    pub status: TaskStatus,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub assigned_agent: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub priority: Option<Priority>,
    /// Epoch milliseconds.
    pub created_at: i64,
    /// Epoch milliseconds.
    pub updated_at: i64,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub created_by: Option<String>,
    pub tags: Vec<String>,
    /// Incremented by every change to the task: its `ETag`, and what `If-Match` names.
    pub version: i64,
    /// Who made the last change; `null` when the server made it (a lease ran out).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub updated_by: Option<String>,
    /// While the task is claimed: when its holder's lease ends (epoch milliseconds). The
    /// holder is `assignedAgent`.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub lease_expires_at: Option<i64>,
    /// Tasks that must be done before this one can move to in-progress or done.
    pub blocked_by: Vec<String>,
    /// Whether any task in `blockedBy` is not done yet.
    pub blocked: bool,
    /// The lease length the holder asked for, used to renew it; not sent.
    #[serde(skip)]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub lease_seconds: Option<i64>,
}

impl Task {
    /// The highest version a task may reach: the largest whole number every JSON reader (a
    /// JavaScript client's included) holds exactly.
    pub const MAX_VERSION: i64 = 9_007_199_254_740_991;

    /// The agent holding a live lease on the task at `now`, if any.
    pub fn holder_at(&self, now: i64) -> Option<&str> {
        match self.lease_expires_at {
            Some(expires) if expires > now => self.assigned_agent.as_deref(),
            _ => None,
        }
    }
}

/// A record's id as the API makes and reads them (`task-`, `cmt-` or `evt-` and a time-ordered
/// UUID): 1 to 64 lowercase letters, digits or `-`. What a cursor (`?after=`) can name.
pub(crate) fn is_record_id(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= limits::TASK_ID_MAX_CHARS
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A task's id: `task-` and a time-ordered UUID when the board makes it; any 1 to 64 lowercase
/// letters, digits or `-` when read (what a page's cursor and `blockedBy` accept).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TaskId(String);

impl TaskId {
    /// Longest task id accepted (ours are 41 characters).
    pub const MAX_CHARS: usize = limits::TASK_ID_MAX_CHARS;

    pub fn parse(raw: &str) -> Result<Self, String> {
        if is_record_id(raw) {
            Ok(TaskId(raw.to_owned()))
        } else {
            Err(format!(
                "is not a task id (1 to {} lowercase letters, digits or '-', like task-0192...)",
                Self::MAX_CHARS
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// The ids of a task's blockers: at most 20 distinct task ids, in the order given.
///
/// The graph the blockers make is bounded too, so that no write costs more than a bounded
/// amount of work whatever the board holds: at most [`TaskRefs::MAX_WAITING`] tasks may wait
/// for any one task, and a change that adds blockers is checked for a cycle by walking at most
/// [`TaskRefs::MAX_UPSTREAM`] of the tasks they wait for (a deeper graph is refused rather
/// than walked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskRefs(Vec<String>);

impl TaskRefs {
    pub const MAX_COUNT: usize = limits::BLOCKERS_MAX_COUNT;
    /// Longest task id accepted (ours are 41 characters).
    pub const MAX_ID_CHARS: usize = TaskId::MAX_CHARS;
    /// Most tasks that may wait for one task.
    pub const MAX_WAITING: usize = 2_000;
    /// Most tasks the cycle check walks, upstream of the blockers a change adds.
    pub const MAX_UPSTREAM: usize = 500;

    pub fn parse(raw: Vec<String>) -> Result<Self, String> {
        if raw.len() > Self::MAX_COUNT {
            return Err(format!(
                "must hold at most {} task ids (got {})",
                Self::MAX_COUNT,
                raw.len()
            ));
        }
        let mut ids: Vec<String> = Vec::with_capacity(raw.len());
        for (i, id) in raw.into_iter().enumerate() {
            if !is_record_id(&id) {
                return Err(format!("item {i} is not a task id (like task-0192...)"));
            }
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        Ok(TaskRefs(ids))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocker_ids_are_bounded_and_distinct() {
        let ids = TaskRefs::parse(vec!["task-a".into(), "task-b".into(), "task-a".into()]);
        assert_eq!(ids.unwrap().as_slice(), ["task-a", "task-b"]);
        assert!(TaskRefs::parse(vec!["Task A".into()]).is_err());
        assert!(TaskRefs::parse(vec!["task-x".into(); 21]).is_err());
    }

    #[test]
    fn title_is_trimmed_and_bounded() {
        assert_eq!(
            TaskTitle::parse("  Build it  ").unwrap().as_str(),
            "Build it"
        );
        assert!(TaskTitle::parse("   ").is_err());
        assert!(TaskTitle::parse("").is_err());
        assert!(
            TaskTitle::parse(&"é".repeat(200)).is_ok(),
            "200 characters, not bytes"
        );
        assert!(TaskTitle::parse(&"a".repeat(201)).is_err());
    }

    #[test]
    fn description_is_bounded_and_blank_means_none() {
        assert_eq!(TaskDescription::parse("  ").unwrap(), None);
        assert!(
            TaskDescription::parse(&"x".repeat(10_000))
                .unwrap()
                .is_some()
        );
        assert!(TaskDescription::parse(&"x".repeat(10_001)).is_err());
    }

    #[test]
    fn tags_are_bounded_trimmed_and_deduplicated() {
        let tags = Tags::parse(vec![" a ".into(), "b".into(), "a".into()]).unwrap();
        assert_eq!(tags.iter().collect::<Vec<_>>(), ["a", "b"]);
        assert!(Tags::parse((0..20).map(|i| i.to_string()).collect()).is_ok());
        assert!(Tags::parse((0..21).map(|i| i.to_string()).collect()).is_err());
        assert!(Tags::parse(vec!["x".repeat(50)]).is_ok());
        assert!(Tags::parse(vec!["x".repeat(51)]).is_err());
        assert!(Tags::parse(vec![" ".into()]).is_err());
        // Counted before de-duplication: 150,000 copies of one tag are refused, at once.
        assert!(Tags::parse(vec!["a".into(); 150_000]).is_err());
        let many = Tags::parse((0..120_000).map(|i| i.to_string()).collect()).unwrap_err();
        assert_eq!(many, "must hold at most 20 tags (got 120000)");
    }

    #[test]
    fn statuses_and_priorities_parse_their_wire_names_only() {
        assert_eq!(
            "in-progress".parse::<TaskStatus>(),
            Ok(TaskStatus::InProgress)
        );
        for s in TaskStatus::ALL {
            assert_eq!(s.as_str().parse::<TaskStatus>(), Ok(*s));
        }
        assert_eq!(
            "doing".parse::<TaskStatus>(),
            Err("must be one of backlog, todo, in-progress, done".into())
        );
        assert!("High".parse::<Priority>().is_err());
        assert_eq!("critical".parse::<Priority>(), Ok(Priority::Critical));
    }
}
