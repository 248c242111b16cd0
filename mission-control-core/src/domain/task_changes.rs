//! The requests that create and change tasks, and the checked values they parse into.

use serde::Deserialize;

use super::fields::{Patch, Problems, parse_patch};
#[cfg(feature = "openapi")]
use super::openapi;
use super::task::{Priority, TaskStatus};
use super::{AgentId, Tags, TaskDescription, TaskRefs, TaskTitle};
use crate::error::Result;

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
    /// Ids of tasks that must be done before this one can start.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::new_task_blockers))]
    pub blocked_by: Option<Vec<String>>,
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
    pub blocked_by: TaskRefs,
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
        let blocked_by = p.check(
            "blockedBy",
            TaskRefs::parse(req.blocked_by.unwrap_or_default()),
        );
        p.finish()?;
        match (title, status, priority, tags, blocked_by) {
            (Some(title), Some(status), Some(priority), Some(tags), Some(blocked_by)) => {
                Ok(NewTask {
                    title,
                    description,
                    status,
                    assigned_agent,
                    priority,
                    tags,
                    blocked_by,
                })
            }
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
    /// Replaces the task's blockers; `[]` removes them all.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::task_blockers_change))]
    pub blocked_by: Patch<Vec<String>>,
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
    pub blocked_by: Option<TaskRefs>,
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
        let blocked_by = parse_patch(&mut p, "blockedBy", req.blocked_by, false, TaskRefs::parse);
        p.finish()?;
        Ok(TaskChanges {
            title: into_set(title),
            description: into_nullable(description).map(Option::flatten),
            status: into_set(status),
            assigned_agent: into_nullable(assigned_agent),
            priority: into_nullable(priority),
            tags: into_set(tags),
            blocked_by: into_set(blocked_by),
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
