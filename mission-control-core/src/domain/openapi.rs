//! The rules of the request fields as OpenAPI (JSON Schema) schemas, built from the domain's own
//! constants and text patterns so that the published document cannot drift from what `parse`
//! accepts. The request structs point at these with `#[schema(schema_with = ...)]`; the
//! `string_enum!` types carry their own schemas.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::RefBuilder;
use utoipa::openapi::schema::{
    ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
};

use super::text::{free_text_pattern, line_pattern, visible_free_text_pattern};
use super::{
    AgentId, AgentName, AgentRole, AgentStatus, CommentText, LeaseDuration, Priority, Tag, Tags,
    TaskDescription, TaskRefs, TaskStatus, TaskTitle,
};

/// The pattern of an [`AgentId`], with its length from [`AgentId::MAX_CHARS`].
pub fn agent_id_pattern() -> String {
    format!("^[a-z0-9_-]{{1,{}}}$", AgentId::MAX_CHARS)
}

/// The pattern of an avatar colour, `#rgb` or `#rrggbb`.
pub const AVATAR_COLOR_PATTERN: &str = "^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$";

const LINE_RULES: &str = "Surrounding white space is trimmed; must show at least one visible \
                          character and hold no control characters or bidi overrides";

fn string(nullable: bool) -> ObjectBuilder {
    let ty = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::new(Type::String)
    };
    ObjectBuilder::new().schema_type(ty)
}

/// One line of text (a title, a name, a tag) of at most `max` characters.
fn line(max: usize, what: &str) -> ObjectBuilder {
    string(false)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(line_pattern()))
        .description(Some(format!(
            "{what}: 1 to {max} characters as sent. {LINE_RULES}."
        )))
}

/// A `string_enum!` type by reference, or `null` too.
fn enum_ref<T: utoipa::ToSchema>(nullable: bool, description: &str) -> RefOr<Schema> {
    let reference = RefBuilder::new()
        .ref_location_from_schema_name(T::name())
        .description(Some(description))
        .build();
    if nullable {
        OneOfBuilder::new()
            .item(reference)
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .description(Some(description))
            .into()
    } else {
        reference.into()
    }
}

fn agent_id(nullable: bool, description: &str) -> Schema {
    string(nullable)
        .min_length(Some(1))
        .max_length(Some(AgentId::MAX_CHARS))
        .pattern(Some(agent_id_pattern()))
        .description(Some(description))
        .into()
}

fn tags(nullable: bool) -> Schema {
    let ty = if nullable {
        SchemaType::from_iter([Type::Array, Type::Null])
    } else {
        SchemaType::new(Type::Array)
    };
    ArrayBuilder::new()
        .schema_type(ty)
        .items(line(Tag::MAX_CHARS, "A tag"))
        .max_items(Some(Tags::MAX_COUNT))
        .description(Some(format!(
            "At most {} tags; repeated tags are kept once, in the order given.",
            Tags::MAX_COUNT
        )))
        .into()
}

fn description_text(nullable: bool) -> Schema {
    string(nullable)
        .max_length(Some(TaskDescription::MAX_CHARS))
        .pattern(Some(free_text_pattern()))
        .description(Some(format!(
            "Free text of at most {} characters: line breaks and tabs allowed, no other control \
             characters or bidi overrides. Blank text or `null` means no description.",
            TaskDescription::MAX_CHARS
        )))
        .into()
}

fn avatar_color(nullable: bool) -> Schema {
    string(nullable)
        .pattern(Some(AVATAR_COLOR_PATTERN))
        .description(Some(
            "A CSS hex colour, `#rgb` or `#rrggbb` (stored in lower case).",
        ))
        .into()
}

const ASSIGNEE: &str = "The id of a registered agent (`GET /api/agents`); an id no agent has is \
                        refused with 409 naming `assignedAgent`.";

// The fields of `POST /api/tasks`. Every optional field may also be `null`, which means the
// same as leaving it out.

pub fn task_title() -> Schema {
    line(TaskTitle::MAX_CHARS, "The title").into()
}

pub fn new_task_description() -> Schema {
    description_text(true)
}

pub fn new_task_status() -> RefOr<Schema> {
    enum_ref::<TaskStatus>(true, "The column; defaults to `backlog`.")
}

pub fn new_task_assignee() -> Schema {
    agent_id(true, ASSIGNEE)
}

pub fn new_task_priority() -> RefOr<Schema> {
    enum_ref::<Priority>(true, "Defaults to `medium`.")
}

pub fn new_task_tags() -> Schema {
    tags(true)
}

// The fields of `PATCH /api/tasks/{id}`: any may be absent; `null` clears the description,
// the assignee or the priority, and is refused for the others.

pub fn task_description_change() -> Schema {
    description_text(true)
}

pub fn task_status_change() -> RefOr<Schema> {
    enum_ref::<TaskStatus>(false, "Move the task to this column.")
}

pub fn task_assignee_change() -> Schema {
    agent_id(true, &format!("{ASSIGNEE} `null` unassigns the task."))
}

pub fn task_priority_change() -> RefOr<Schema> {
    enum_ref::<Priority>(true, "`null` clears the priority.")
}

pub fn task_tags_change() -> Schema {
    tags(false)
}

fn task_ids(nullable: bool) -> Schema {
    let ty = if nullable {
        SchemaType::from_iter([Type::Array, Type::Null])
    } else {
        SchemaType::new(Type::Array)
    };
    ArrayBuilder::new()
        .schema_type(ty)
        .items(
            string(false)
                .min_length(Some(1))
                .max_length(Some(TaskRefs::MAX_ID_CHARS))
                .pattern(Some(format!("^[a-z0-9-]{{1,{}}}$", TaskRefs::MAX_ID_CHARS))),
        )
        .max_items(Some(TaskRefs::MAX_COUNT))
        .description(Some(format!(
            "The ids of up to {} tasks that must be done before this one can move to \
             in-progress or done; an id no task has, or one that would make a task wait for \
             itself, is refused with 409 naming `blockedBy`.",
            TaskRefs::MAX_COUNT
        )))
        .into()
}

pub fn new_task_blockers() -> Schema {
    task_ids(true)
}

/// `blockedBy` in a PATCH: replaces the blockers; `[]` removes them.
pub fn task_blockers_change() -> Schema {
    task_ids(false)
}

// The bodies of the claim, heartbeat, complete and comment endpoints.

pub fn lease_seconds() -> Schema {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
        .minimum(Some(LeaseDuration::MIN_SECONDS))
        .maximum(Some(LeaseDuration::MAX_SECONDS))
        .description(Some(format!(
            "How long the claim lasts without renewal, in seconds ({} to {}); {} by default.",
            LeaseDuration::MIN_SECONDS,
            LeaseDuration::MAX_SECONDS,
            LeaseDuration::DEFAULT.as_seconds()
        )))
        .into()
}

pub fn claim_tag() -> Schema {
    let mut tag: Schema = line(Tag::MAX_CHARS, "Only tasks carrying this tag").into();
    if let Schema::Object(object) = &mut tag {
        object.schema_type = SchemaType::from_iter([Type::String, Type::Null]);
    }
    tag
}

pub fn claim_priority() -> RefOr<Schema> {
    enum_ref::<Priority>(true, "Only tasks of this priority.")
}

pub fn heartbeat_status() -> Schema {
    string(true)
        .enum_values(Some([
            serde_json::Value::from(AgentStatus::Online.as_str()),
            AgentStatus::Busy.as_str().into(),
            serde_json::Value::Null,
        ]))
        .description(Some(
            "`online` or `busy`; absent or null leaves the status as it is (an agent that stops \
             sending heartbeats goes offline by itself).",
        ))
        .into()
}

pub fn comment_text() -> Schema {
    string(false)
        .min_length(Some(1))
        .max_length(Some(CommentText::MAX_CHARS))
        .pattern(Some(visible_free_text_pattern()))
        .description(Some(format!(
            "1 to {} characters, with at least one visible: line breaks and tabs allowed, no \
             other control characters or bidi overrides.",
            CommentText::MAX_CHARS
        )))
        .into()
}

pub fn closing_note() -> Schema {
    let mut note = comment_text();
    if let Schema::Object(object) = &mut note {
        object.schema_type = SchemaType::from_iter([Type::String, Type::Null]);
    }
    note
}

// The fields of `POST /api/agents` and `PATCH /api/agents/{id}`.

pub fn new_agent_id() -> Schema {
    agent_id(
        false,
        "The new agent's id, such as `agent-patch`; must not be taken.",
    )
}

pub fn agent_name() -> Schema {
    line(AgentName::MAX_CHARS, "The display name").into()
}

/// A person's username: the slug their card's id is made of.
pub fn username() -> Schema {
    string(false)
        .min_length(Some(1))
        .max_length(Some(super::person::Username::MAX_CHARS))
        .pattern(Some(format!(
            "^[a-z0-9][a-z0-9_-]{{0,{}}}$",
            super::person::Username::MAX_CHARS - 1
        )))
        .description(Some(
            "1 to 32 lowercase letters, digits, `-` or `_`, starting with a letter or a digit.",
        ))
        .into()
}

/// A person's access role.
pub fn access() -> RefOr<Schema> {
    enum_ref::<super::person::Access>(false, "What the person may do.")
}

pub fn agent_role() -> RefOr<Schema> {
    enum_ref::<AgentRole>(false, "What the agent does.")
}

pub fn new_agent_status() -> RefOr<Schema> {
    enum_ref::<AgentStatus>(true, "Defaults to `online`.")
}

pub fn agent_status_change() -> RefOr<Schema> {
    enum_ref::<AgentStatus>(false, "The agent's live status.")
}

pub fn new_agent_avatar_color() -> Schema {
    avatar_color(true)
}

pub fn agent_avatar_color_change() -> Schema {
    avatar_color(true)
}

/// The id of a registered agent, for request fields outside the domain (minting a token).
pub fn registered_agent_id(field: &str) -> Schema {
    agent_id(
        false,
        &format!(
            "The id of a registered agent (`GET /api/agents`); an id no agent has is refused \
             with 409 naming `{field}`."
        ),
    )
}

/// The schema of a `string_enum!` type: a string, one of its wire values.
pub(crate) fn string_enum(values: &[&'static str], doc: &[&str]) -> RefOr<Schema> {
    let description = doc.iter().map(|l| l.trim()).collect::<Vec<_>>().join("\n");
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .description((!description.is_empty()).then_some(description))
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::PartialSchema;

    fn json<T: serde::Serialize>(value: T) -> serde_json::Value {
        serde_json::to_value(value).unwrap()
    }

    #[test]
    fn enums_publish_their_wire_values() {
        assert_eq!(
            json(TaskStatus::schema())["enum"],
            serde_json::json!(["backlog", "todo", "in-progress", "done"])
        );
        assert_eq!(
            json(AgentRole::schema())["enum"],
            serde_json::json!(["Main", "Dev", "Research", "Ops"])
        );
        assert_eq!(
            json(TaskStatus::schema())["description"],
            "The board's four columns."
        );
        assert_eq!(<Priority as utoipa::ToSchema>::name(), "Priority");
    }

    /// The id pattern says what `AgentId::parse` accepts: each character, and the length.
    #[test]
    fn the_agent_id_pattern_is_the_parser() {
        assert_eq!(agent_id_pattern(), "^[a-z0-9_-]{1,64}$");
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let in_class = c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
            assert_eq!(AgentId::parse(&c.to_string()).is_ok(), in_class, "{c:?}");
        }
        assert!(AgentId::parse(&"a".repeat(AgentId::MAX_CHARS)).is_ok());
        assert!(AgentId::parse(&"a".repeat(AgentId::MAX_CHARS + 1)).is_err());
    }

    #[test]
    fn the_colour_pattern_is_the_parser() {
        let re = regex_automata::meta::Regex::new(AVATAR_COLOR_PATTERN).unwrap();
        for sample in [
            "#fff", "#FFF", "#3b82f6", "#3B82F6", "fff", "#ffff", "#12345g", "#", "", "#ffffff0",
            "##fff", "#fff\n", "#٣٣٣",
        ] {
            assert_eq!(
                re.is_match(sample),
                super::super::AvatarColor::parse(sample).is_ok(),
                "{sample:?}"
            );
        }
    }
}
