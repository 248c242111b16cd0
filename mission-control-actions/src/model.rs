//! The shape of a catalogue entry: an action, its arguments, where each argument goes in the
//! REST call that carries the action out, and what the action answers.

/// The `{id}` of an agent's path that names the caller's own agent (`/api/agents/me/...`):
/// every agent endpoint of the server reads it so, and an action without an agent argument
/// (the heartbeat) calls its path with it.
pub const ME: &str = "me";

/// The JSON type of an argument, with its closed set of values where it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string.
    String,
    /// One of these strings.
    Enum(&'static [&'static str]),
    /// A whole number.
    Integer,
    /// A list of strings.
    StringList,
}

/// Where an argument goes in the REST call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The `{id}` segment of the path.
    Path,
    /// A query parameter of that name.
    Query(&'static str),
    /// A property of that name in the JSON body.
    Body(&'static str),
    /// The entity tag `If-Match` carries: the task's version, quoted.
    IfMatch,
    /// The `Idempotency-Key` header.
    IdempotencyKey,
}

impl Place {
    /// The name the REST API uses for it: the body property, query parameter or header.
    pub fn rest_name(self) -> &'static str {
        match self {
            Place::Path => "id",
            Place::Query(name) | Place::Body(name) => name,
            Place::IfMatch => "If-Match",
            Place::IdempotencyKey => "Idempotency-Key",
        }
    }
}

/// One argument of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arg {
    /// As the model sends it, e.g. `taskId`.
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    /// Whether JSON `null` is a value of its own: "clear it" (a description, an assignee).
    pub nullable: bool,
    /// Characters of a string (or of each item of a list).
    pub min_chars: Option<usize>,
    pub max_chars: Option<usize>,
    /// Bounds of an integer.
    pub minimum: Option<i64>,
    pub maximum: Option<i64>,
    /// Items of a list.
    pub max_items: Option<usize>,
    /// What the server assumes when the argument is absent, for the description.
    pub default: Option<&'static str>,
    pub description: &'static str,
    pub place: Place,
}

impl Arg {
    /// An optional argument with no bounds; the catalogue adds what it needs.
    pub const fn new(
        name: &'static str,
        kind: Kind,
        place: Place,
        description: &'static str,
    ) -> Self {
        Arg {
            name,
            kind,
            required: false,
            nullable: false,
            min_chars: None,
            max_chars: None,
            minimum: None,
            maximum: None,
            max_items: None,
            default: None,
            description,
            place,
        }
    }

    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub const fn nullable(mut self) -> Self {
        self.nullable = true;
        self
    }

    pub const fn chars(mut self, min: usize, max: usize) -> Self {
        self.min_chars = Some(min);
        self.max_chars = Some(max);
        self
    }

    pub const fn max_chars(mut self, max: usize) -> Self {
        self.max_chars = Some(max);
        self
    }

    pub const fn range(mut self, min: i64, max: i64) -> Self {
        self.minimum = Some(min);
        self.maximum = Some(max);
        self
    }

    pub const fn min(mut self, min: i64) -> Self {
        self.minimum = Some(min);
        self
    }

    pub const fn max_items(mut self, max: usize) -> Self {
        self.max_items = Some(max);
        self
    }

    pub const fn default(mut self, value: &'static str) -> Self {
        self.default = Some(value);
        self
    }
}

/// What an action answers: always an object with the data under a wrapper key, so a host
/// that grades tool calls by a top-level `status` never mistakes a task's status for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// `{"task": task}`
    Task,
    /// `{"task": task | null}`: claim_next when there was nothing to take.
    MaybeTask,
    /// `{"tasks": [task], "seq", "nextCursor"?}`
    Tasks,
    /// `{"deleted": "<task id>"}`
    Deleted,
    /// `{"agents": [agent], "seq"}`
    Agents,
    /// `{"agent": agent}`
    Agent,
    /// `{"events": [event], "hasMore"}`
    Events,
    /// `{"agent": agent, "held": [task], "next": task | null}`
    Work,
    /// `{"task": task, "comment": comment | null}`
    Completed,
    /// `{"comment": comment}`
    Comment,
    /// `{"comments": [comment], "hasMore"}`
    Comments,
}

/// How an action touches the board, for the MCP tool annotations and the skill's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Reads only.
    Read,
    /// Writes; a retry with the same arguments does no more (a move, a claim renewal).
    Idempotent,
    /// Writes; a retry does it again unless an `idempotencyKey` is given.
    Write,
    /// Removes something.
    Destructive,
}

/// One agent-facing action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Action {
    /// The MCP tool's name and the `action` of the WebAssembly tool, e.g. `move_task`.
    pub name: &'static str,
    /// A short human title, e.g. "Move a task".
    pub title: &'static str,
    /// What it does and when to use it, for the model.
    pub description: &'static str,
    pub args: &'static [Arg],
    /// When not empty: at least one of these arguments must be given.
    pub needs_one_of: &'static [&'static str],
    pub effect: Effect,
    /// The REST call that carries it out: method and OpenAPI path (`{id}` is the `Path`
    /// argument, or `me` when the action has none).
    pub method: &'static str,
    pub path: &'static str,
    pub output: Output,
}

impl Action {
    pub fn arg(&self, name: &str) -> Option<&'static Arg> {
        self.args.iter().find(|a| a.name == name)
    }

    /// The argument the REST API calls `rest_field` in an error's `details`, so an error
    /// names what the model sent (`newStatus`, not `status`).
    pub fn arg_name_for(&self, rest_field: &str) -> Option<&'static str> {
        // `tags[3]` names the list; the index stays in the message.
        let base = rest_field.split(['[', '.']).next().unwrap_or(rest_field);
        self.args
            .iter()
            .find(|a| a.place.rest_name().eq_ignore_ascii_case(base))
            .map(|a| a.name)
    }

    pub fn read_only(&self) -> bool {
        self.effect == Effect::Read
    }
}
