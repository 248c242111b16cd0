//! Every agent-facing action of Mission Control, defined once: the WebAssembly tool's
//! `action`s, the MCP server's tools and the skill's table are all generated from [`ACTIONS`].

use crate::limits::*;
use crate::model::{Action, Arg, Effect, Kind, Output, Place};

/// The board's columns, as the REST API writes them.
pub const TASK_STATUSES: &[&str] = &["backlog", "todo", "in-progress", "done"];
pub const PRIORITIES: &[&str] = &["low", "medium", "high", "critical"];
pub const AGENT_STATUSES: &[&str] = &["online", "offline", "busy"];
/// What a heartbeat may say: an agent that stops sending them goes offline by itself.
pub const HEARTBEAT_STATUSES: &[&str] = &["online", "busy"];
pub const AGENT_ROLES: &[&str] = &["Main", "Dev", "Research", "Ops"];

// ---- arguments shared by several actions ----

const TASK_ID: Arg = Arg::new(
    "taskId",
    Kind::String,
    Place::Path,
    "The task's id, such as task-0192f0c4-….",
)
.required()
.chars(1, TASK_ID_MAX_CHARS);

const TITLE: Arg = Arg::new(
    "title",
    Kind::String,
    Place::Body("title"),
    "Short, specific title of the task.",
)
.chars(1, TITLE_MAX_CHARS);

const DESCRIPTION: Arg = Arg::new(
    "description",
    Kind::String,
    Place::Body("description"),
    "What the task is about: the goal, what was found or decided. Null clears it.",
)
.nullable()
.max_chars(DESCRIPTION_MAX_CHARS);

const STATUS: Arg = Arg::new(
    "status",
    Kind::Enum(TASK_STATUSES),
    Place::Body("status"),
    "The task's column.",
);

const ASSIGNED_AGENT: Arg = Arg::new(
    "assignedAgent",
    Kind::String,
    Place::Body("assignedAgent"),
    "Id of the agent the task is assigned to, such as agent-nova. Null unassigns it.",
)
.nullable()
.chars(1, AGENT_ID_MAX_CHARS);

const PRIORITY: Arg = Arg::new(
    "priority",
    Kind::Enum(PRIORITIES),
    Place::Body("priority"),
    "How urgent the task is. Null clears it.",
)
.nullable();

const TAGS: Arg = Arg::new(
    "tags",
    Kind::StringList,
    Place::Body("tags"),
    "Labels such as bug or docs; replaces the task's tags.",
)
.chars(1, TAG_MAX_CHARS)
.max_items(TAGS_MAX_COUNT);

const BLOCKED_BY: Arg = Arg::new(
    "blockedBy",
    Kind::StringList,
    Place::Body("blockedBy"),
    "Ids of the tasks that must be done before this one can start; replaces them ([] clears).",
)
.chars(1, TASK_ID_MAX_CHARS)
.max_items(BLOCKERS_MAX_COUNT);

const VERSION: Arg = Arg::new(
    "version",
    Kind::Integer,
    Place::IfMatch,
    "The task's version as you last read it: the change is refused if someone changed the \
     task since (read it again and retry). Omit to overwrite whatever is there.",
)
.min(1);

const IDEMPOTENCY_KEY: Arg = Arg::new(
    "idempotencyKey",
    Kind::String,
    Place::IdempotencyKey,
    "Any unique string (a UUID) that makes a retry safe: sending the same call with the same \
     key again within 24 hours answers the first answer and does nothing twice.",
)
.chars(1, IDEMPOTENCY_KEY_MAX_CHARS);

const LEASE_SECONDS: Arg = Arg::new(
    "leaseSeconds",
    Kind::Integer,
    Place::Body("leaseSeconds"),
    "How long the claim lasts without a heartbeat or work on the task, in seconds.",
)
.range(LEASE_MIN_SECONDS, LEASE_MAX_SECONDS)
.default("900");

const AGENT_ID: Arg = Arg::new(
    "agentId",
    Kind::String,
    Place::Path,
    "The agent's id, such as agent-nova, or me for your own.",
)
.required()
.chars(1, AGENT_ID_MAX_CHARS);

const fn page_limit(default: &'static str) -> Arg {
    Arg::new(
        "limit",
        Kind::Integer,
        Place::Query("limit"),
        "How many to return at most.",
    )
    .range(1, PAGE_MAX)
    .default(default)
}

// ---- the actions ----

const CREATE_TASK: Action = Action {
    name: "create_task",
    title: "Create a task",
    description: "Add a task to the board. Create one when you start work of more than a \
        couple of steps that others should know about; list_tasks first so you do not \
        duplicate one. Status defaults to backlog, priority to medium.",
    args: &[
        TITLE.required(),
        DESCRIPTION,
        STATUS.default("backlog"),
        ASSIGNED_AGENT,
        PRIORITY.default("medium"),
        TAGS,
        BLOCKED_BY,
        IDEMPOTENCY_KEY,
    ],
    needs_one_of: &[],
    effect: Effect::Write,
    method: "POST",
    path: "/api/tasks",
    output: Output::Task,
};

const UPDATE_TASK: Action = Action {
    name: "update_task",
    title: "Update a task",
    description: "Change some fields of a task; fields left out stay as they are. Pass the \
        version you read to make sure nobody changed the task meanwhile.",
    args: &[
        TASK_ID,
        TITLE,
        DESCRIPTION,
        STATUS,
        ASSIGNED_AGENT,
        PRIORITY,
        TAGS,
        BLOCKED_BY,
        VERSION,
    ],
    needs_one_of: &[
        "title",
        "description",
        "status",
        "assignedAgent",
        "priority",
        "tags",
        "blockedBy",
    ],
    effect: Effect::Idempotent,
    method: "PATCH",
    path: "/api/tasks/{id}",
    output: Output::Task,
};

const MOVE_TASK: Action = Action {
    name: "move_task",
    title: "Move a task",
    description: "Move a task to another column: in-progress when you start it, done when it \
        is finished, todo if you stop without finishing.",
    args: &[
        TASK_ID,
        Arg::new(
            "newStatus",
            Kind::Enum(TASK_STATUSES),
            Place::Body("status"),
            "The column to move the task to.",
        )
        .required(),
        VERSION,
    ],
    needs_one_of: &[],
    effect: Effect::Idempotent,
    method: "PATCH",
    path: "/api/tasks/{id}",
    output: Output::Task,
};

const LIST_TASKS: Action = Action {
    name: "list_tasks",
    title: "List tasks",
    description: "The board's tasks, oldest first, optionally only one column or one agent's. \
        When nextCursor is in the answer, pass it as cursor for the next page.",
    args: &[
        Arg::new(
            "status",
            Kind::Enum(TASK_STATUSES),
            Place::Query("status"),
            "Only tasks in this column.",
        ),
        Arg::new(
            "agent",
            Kind::String,
            Place::Query("agent"),
            "Only tasks assigned to this agent id.",
        )
        .chars(1, AGENT_ID_MAX_CHARS),
        page_limit("100"),
        Arg::new(
            "cursor",
            Kind::String,
            Place::Query("cursor"),
            "The nextCursor of the previous page.",
        )
        .chars(1, CURSOR_MAX_CHARS),
    ],
    needs_one_of: &[],
    effect: Effect::Read,
    method: "GET",
    path: "/api/tasks",
    output: Output::Tasks,
};

const GET_TASK: Action = Action {
    name: "get_task",
    title: "Read a task",
    description: "One task with all its fields, including its version, its claim and what it \
        waits for.",
    args: &[TASK_ID],
    needs_one_of: &[],
    effect: Effect::Read,
    method: "GET",
    path: "/api/tasks/{id}",
    output: Output::Task,
};

const DELETE_TASK: Action = Action {
    name: "delete_task",
    title: "Delete a task",
    description: "Remove a task from the board for good. Prefer moving a finished task to done.",
    args: &[TASK_ID],
    needs_one_of: &[],
    effect: Effect::Destructive,
    method: "DELETE",
    path: "/api/tasks/{id}",
    output: Output::Deleted,
};

const LIST_AGENTS: Action = Action {
    name: "list_agents",
    title: "List agents",
    description: "Every agent on the board with its role and status (online, busy, offline).",
    args: &[],
    needs_one_of: &[],
    effect: Effect::Read,
    method: "GET",
    path: "/api/agents",
    output: Output::Agents,
};

const SET_AGENT_STATUS: Action = Action {
    name: "set_agent_status",
    title: "Set an agent's status",
    description: "Set your status: busy when you start a task, online when you are idle, \
        offline before you stop for good.",
    args: &[
        AGENT_ID,
        Arg::new(
            "agentStatus",
            Kind::Enum(AGENT_STATUSES),
            Place::Body("status"),
            "The agent's new status.",
        )
        .required(),
    ],
    needs_one_of: &[],
    effect: Effect::Idempotent,
    method: "PATCH",
    path: "/api/agents/{id}",
    output: Output::Agent,
};

const LIST_EVENTS: Action = Action {
    name: "list_events",
    title: "Read the activity feed",
    description: "What happened on the board, newest first; with after (a seq), the events \
        that followed it, oldest first.",
    args: &[
        Arg::new(
            "since",
            Kind::Integer,
            Place::Query("since"),
            "Only events after this instant (epoch milliseconds).",
        )
        .min(0),
        Arg::new(
            "after",
            Kind::Integer,
            Place::Query("after"),
            "Only events after this seq, oldest first.",
        )
        .min(0),
        page_limit("50"),
    ],
    needs_one_of: &[],
    effect: Effect::Read,
    method: "GET",
    path: "/api/events",
    output: Output::Events,
};

const HEARTBEAT: Action = Action {
    name: "heartbeat",
    title: "Heartbeat: find your work",
    description: "Say you are alive (every few minutes while you work) and get your work: the \
        tasks you hold, with their claims renewed, and the next task you could claim.",
    args: &[Arg::new(
        "agentStatus",
        Kind::Enum(HEARTBEAT_STATUSES),
        Place::Body("status"),
        "Your status from now on; left as it is when omitted.",
    )],
    needs_one_of: &[],
    effect: Effect::Idempotent,
    method: "POST",
    path: "/api/agents/{id}/heartbeat",
    output: Output::Work,
};

const CLAIM: Action = Action {
    name: "claim",
    title: "Claim a task",
    description: "Take a task: it is assigned to you, moves to in-progress and is held for you \
        for a lease, so no other agent takes it. Fails if another agent holds it, if it waits \
        for an unfinished task, or if it is done. Claiming a task you hold renews it.",
    args: &[TASK_ID, LEASE_SECONDS, IDEMPOTENCY_KEY],
    needs_one_of: &[],
    effect: Effect::Write,
    method: "POST",
    path: "/api/tasks/{id}/claim",
    output: Output::Task,
};

const CLAIM_NEXT: Action = Action {
    name: "claim_next",
    title: "Claim the next task",
    description: "Take the most urgent, oldest todo task that is free (or assigned to you) and \
        waits for nothing, optionally only with a tag or a priority. The task is null when \
        there is nothing to take.",
    args: &[
        Arg::new(
            "tag",
            Kind::String,
            Place::Body("tag"),
            "Only tasks carrying this tag.",
        )
        .chars(1, TAG_MAX_CHARS),
        Arg::new(
            "priority",
            Kind::Enum(PRIORITIES),
            Place::Body("priority"),
            "Only tasks of this priority.",
        ),
        LEASE_SECONDS,
        IDEMPOTENCY_KEY,
    ],
    needs_one_of: &[],
    effect: Effect::Write,
    method: "POST",
    path: "/api/tasks/claim-next",
    output: Output::MaybeTask,
};

const RELEASE: Action = Action {
    name: "release",
    title: "Release a task",
    description: "Give a task you hold back: it returns to todo, unassigned, for another agent.",
    args: &[TASK_ID],
    needs_one_of: &[],
    effect: Effect::Write,
    method: "POST",
    path: "/api/tasks/{id}/release",
    output: Output::Task,
};

const COMPLETE: Action = Action {
    name: "complete",
    title: "Complete a task",
    description: "Finish a task: it moves to done and its claim ends; the note (what you did, \
        where the result is) is added as a comment in the same step.",
    args: &[
        TASK_ID,
        Arg::new(
            "note",
            Kind::String,
            Place::Body("note"),
            "A closing note: the result, where to find it, what is left.",
        )
        .chars(1, COMMENT_MAX_CHARS),
        IDEMPOTENCY_KEY,
    ],
    needs_one_of: &[],
    effect: Effect::Write,
    method: "POST",
    path: "/api/tasks/{id}/complete",
    output: Output::Completed,
};

const COMMENT: Action = Action {
    name: "comment",
    title: "Comment on a task",
    description: "Add a note to a task: progress, a question, a finding. A note on a task you \
        hold renews your claim.",
    args: &[
        TASK_ID,
        Arg::new(
            "text",
            Kind::String,
            Place::Body("text"),
            "The note; line breaks are kept.",
        )
        .required()
        .chars(1, COMMENT_MAX_CHARS),
        IDEMPOTENCY_KEY,
    ],
    needs_one_of: &[],
    effect: Effect::Write,
    method: "POST",
    path: "/api/tasks/{id}/comments",
    output: Output::Comment,
};

const LIST_COMMENTS: Action = Action {
    name: "list_comments",
    title: "Read a task's comments",
    description: "A task's notes, oldest first. When hasMore is true, pass the last comment's \
        id as afterComment for the next page.",
    args: &[
        TASK_ID,
        page_limit("100"),
        Arg::new(
            "afterComment",
            Kind::String,
            Place::Query("after"),
            "Only comments after the comment with this id.",
        )
        .chars(1, 64),
    ],
    needs_one_of: &[],
    effect: Effect::Read,
    method: "GET",
    path: "/api/tasks/{id}/comments",
    output: Output::Comments,
};

/// Every action, in the order they are listed to models and people.
pub const ACTIONS: &[Action] = &[
    CREATE_TASK,
    UPDATE_TASK,
    MOVE_TASK,
    LIST_TASKS,
    GET_TASK,
    DELETE_TASK,
    LIST_AGENTS,
    SET_AGENT_STATUS,
    LIST_EVENTS,
    HEARTBEAT,
    CLAIM,
    CLAIM_NEXT,
    RELEASE,
    COMPLETE,
    COMMENT,
    LIST_COMMENTS,
];

/// The action called `name`.
pub fn action(name: &str) -> Option<&'static Action> {
    ACTIONS.iter().find(|a| a.name == name)
}
