//! Every bound an agent-facing argument obeys, written once. The core validates with these
//! constants (`TaskTitle::MAX_CHARS` is [`TITLE_MAX_CHARS`], ...), and the tool schemas and
//! the skill's table are generated from them, so a limit cannot differ between what a model
//! is told and what the server enforces.

/// A task title: 1 to 200 characters once trimmed.
pub const TITLE_MAX_CHARS: usize = 200;
/// A task description: at most 10,000 characters.
pub const DESCRIPTION_MAX_CHARS: usize = 10_000;
/// One tag: 1 to 50 characters once trimmed.
pub const TAG_MAX_CHARS: usize = 50;
/// Tags on one task.
pub const TAGS_MAX_COUNT: usize = 20;
/// Blockers of one task.
pub const BLOCKERS_MAX_COUNT: usize = 20;
/// Longest task id accepted (ours are 41 characters).
pub const TASK_ID_MAX_CHARS: usize = 64;
/// An agent id such as `agent-nova`.
pub const AGENT_ID_MAX_CHARS: usize = 64;
/// An agent's display name.
pub const AGENT_NAME_MAX_CHARS: usize = 100;
/// A comment (and a closing note): 1 to 10,000 characters.
pub const COMMENT_MAX_CHARS: usize = 10_000;
/// An `Idempotency-Key`: 1 to 255 visible ASCII characters.
pub const IDEMPOTENCY_KEY_MAX_CHARS: usize = 255;

/// A claim's lease, in seconds: 5 s to 24 h, 15 min by default.
pub const LEASE_MIN_SECONDS: i64 = 5;
pub const LEASE_MAX_SECONDS: i64 = 24 * 60 * 60;
pub const LEASE_DEFAULT_SECONDS: i64 = 15 * 60;

/// The longest `nextCursor` the server issues: an 18-digit time, a dot and a 64-character id.
pub const CURSOR_MAX_CHARS: usize = 84;

/// Most items one page of tasks, comments or events may hold.
pub const PAGE_MAX: i64 = 500;
/// Tasks an agent-facing `list_tasks` returns when it names no limit.
pub const TASKS_PAGE_DEFAULT: i64 = 100;
/// Comments a page holds when the request names no limit.
pub const COMMENTS_PAGE_DEFAULT: i64 = 100;
/// Events a page holds when the request names no limit.
pub const EVENTS_PAGE_DEFAULT: i64 = 50;
