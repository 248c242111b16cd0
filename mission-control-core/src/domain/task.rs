//! Tasks: the cards on the board, their fields, and the rules each field obeys.

use serde::{Deserialize, Serialize};

use super::fields::{Patch, Problems, parse_patch};
#[cfg(feature = "openapi")]
use super::openapi;
use super::text;
use super::{AgentId, string_enum};
use crate::error::Result;

string_enum! {
    /// The board's four columns.
    TaskStatus { Backlog => "backlog", Todo => "todo", InProgress => "in-progress", Done => "done" }
}

string_enum! {
    Priority { Low => "low", Medium => "medium", High => "high", Critical => "critical" }
}

/// A title as shown on a card: trimmed, never empty, at most 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TaskTitle(String);

impl TaskTitle {
    pub const MAX_CHARS: usize = 200;

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
    pub const MAX_CHARS: usize = 10_000;

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
    pub const MAX_CHARS: usize = 50;

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// At most 20 tags, duplicates dropped, in the order given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Tags(Vec<Tag>);

impl Tags {
    pub const MAX_COUNT: usize = 20;

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
}

/// The body of `POST /api/tasks`, as sent: checked by [`NewTask::parse`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateTaskRequest {
    #[cfg_attr(feature = "openapi", schema(required = true, schema_with = openapi::task_title))]
    pub title: Option<String>,
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::new_task_description))]
    pub description: Option<String>,
    /// Defaults to `backlog`.
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::new_task_status))]
    pub status: Option<String>,
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::new_task_assignee))]
    pub assigned_agent: Option<String>,
    /// Defaults to `medium`.
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::new_task_priority))]
    pub priority: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::new_task_tags))]
    pub tags: Option<Vec<String>>,
}

/// A task ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    pub title: TaskTitle,
    pub description: Option<TaskDescription>,
    pub status: TaskStatus,
    pub assigned_agent: Option<AgentId>,
    pub priority: Priority,
    pub tags: Tags,
}

impl NewTask {
    /// A task with just a title, in the backlog, at medium priority.
    pub fn titled(title: &str) -> Result<Self> {
        Self::parse(CreateTaskRequest {
            title: Some(title.to_owned()),
            ..Default::default()
        })
    }

    pub fn parse(req: CreateTaskRequest) -> Result<Self> {
        let mut p = Problems::default();
        let title = match req.title {
            Some(t) => p.check("title", TaskTitle::parse(&t)),
            None => {
                p.push("title", "is required");
                None
            }
        };
        let description = match req.description {
            Some(d) => p.check("description", TaskDescription::parse(&d)).flatten(),
            None => None,
        };
        let status = match req.status {
            Some(s) => p.check("status", s.parse()),
            None => Some(TaskStatus::Backlog),
        };
        let assigned_agent = match req.assigned_agent {
            Some(a) => p.check("assignedAgent", AgentId::parse(&a)),
            None => None,
        };
        let priority = match req.priority {
            Some(s) => p.check("priority", s.parse()),
            None => Some(Priority::Medium),
        };
        let tags = p.check("tags", Tags::parse(req.tags.unwrap_or_default()));
        p.finish()?;
        match (title, status, priority, tags) {
            (Some(title), Some(status), Some(priority), Some(tags)) => Ok(NewTask {
                title,
                description,
                status,
                assigned_agent,
                priority,
                tags,
            }),
            _ => Err(crate::Error::Internal(
                "validation passed with a missing field".into(),
            )),
        }
    }
}

/// The body of `PATCH /api/tasks/:id`: absent fields stay as they are, `null` clears the
/// nullable ones (description, assignedAgent, priority).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateTaskRequest {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::task_title))]
    pub title: Patch<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::task_description_change))]
    pub description: Patch<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::task_status_change))]
    pub status: Patch<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::task_assignee_change))]
    pub assigned_agent: Patch<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::task_priority_change))]
    pub priority: Patch<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::task_tags_change))]
    pub tags: Patch<Vec<String>>,
}

/// A checked set of changes to one task.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskChanges {
    pub title: Option<TaskTitle>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<TaskDescription>>,
    pub status: Option<TaskStatus>,
    /// `Some(None)` unassigns the task.
    pub assigned_agent: Option<Option<AgentId>>,
    /// `Some(None)` clears the priority.
    pub priority: Option<Option<Priority>>,
    pub tags: Option<Tags>,
}

impl TaskChanges {
    /// Only a move to another column.
    pub fn move_to(status: TaskStatus) -> Self {
        TaskChanges {
            status: Some(status),
            ..Default::default()
        }
    }

    pub fn parse(req: UpdateTaskRequest) -> Result<Self> {
        let mut p = Problems::default();
        let title = parse_patch(&mut p, "title", req.title, false, |t| TaskTitle::parse(&t));
        let description = parse_patch(&mut p, "description", req.description, true, |d| {
            TaskDescription::parse(&d)
        });
        let status = parse_patch(&mut p, "status", req.status, false, |s| s.parse());
        let assigned_agent = parse_patch(&mut p, "assignedAgent", req.assigned_agent, true, |a| {
            AgentId::parse(&a)
        });
        let priority = parse_patch(&mut p, "priority", req.priority, true, |s| s.parse());
        let tags = parse_patch(&mut p, "tags", req.tags, false, Tags::parse);
        p.finish()?;
        Ok(TaskChanges {
            title: into_set(title),
            description: into_nullable(description).map(Option::flatten),
            status: into_set(status),
            assigned_agent: into_nullable(assigned_agent),
            priority: into_nullable(priority),
            tags: into_set(tags),
        })
    }

    pub fn is_empty(&self) -> bool {
        *self == TaskChanges::default()
    }
}

fn into_set<T>(patch: Patch<T>) -> Option<T> {
    match patch {
        Patch::Value(v) => Some(v),
        Patch::Absent | Patch::Null => None,
    }
}

fn into_nullable<T>(patch: Patch<T>) -> Option<Option<T>> {
    match patch {
        Patch::Absent => None,
        Patch::Null => Some(None),
        Patch::Value(v) => Some(Some(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    fn fields(err: Error) -> Vec<String> {
        match err {
            Error::Validation(f) => f.into_iter().map(|f| f.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
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

    #[test]
    fn new_task_defaults_and_reports_every_bad_field() {
        let t = NewTask::titled("Write docs").unwrap();
        assert_eq!(t.status, TaskStatus::Backlog);
        assert_eq!(t.priority, Priority::Medium);
        assert!(t.tags.iter().next().is_none());

        let err = NewTask::parse(CreateTaskRequest {
            title: Some(" ".into()),
            status: Some("doing".into()),
            priority: Some("urgent".into()),
            assigned_agent: Some("Not An Id".into()),
            tags: Some(vec!["".into()]),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(
            fields(err),
            ["title", "status", "assignedAgent", "priority", "tags"]
        );

        let err = NewTask::parse(CreateTaskRequest::default()).unwrap_err();
        assert_eq!(fields(err), ["title"]);
    }

    #[test]
    fn patch_tells_absent_from_null() {
        let req: UpdateTaskRequest =
            serde_json::from_str(r#"{"assignedAgent": null, "status": "done"}"#).unwrap();
        let changes = TaskChanges::parse(req).unwrap();
        assert_eq!(changes.assigned_agent, Some(None));
        assert_eq!(changes.status, Some(TaskStatus::Done));
        assert_eq!(changes.title, None);
        assert_eq!(changes.priority, None);

        let req: UpdateTaskRequest =
            serde_json::from_str(r#"{"title": null, "tags": null}"#).unwrap();
        assert_eq!(
            fields(TaskChanges::parse(req).unwrap_err()),
            ["title", "tags"]
        );

        let unknown = serde_json::from_str::<UpdateTaskRequest>(r#"{"newStatus": "done"}"#);
        assert!(unknown.is_err(), "unknown fields are refused, not ignored");
        assert!(
            TaskChanges::parse(UpdateTaskRequest::default())
                .unwrap()
                .is_empty()
        );
    }
}
