//! The catalogue for people and models to read: the skill's action table (generated into
//! `skills/mission-control/SKILL.md` between markers) and the WebAssembly tool's description.

use crate::catalogue::ACTIONS;
use crate::model::{Action, Arg, Effect, Kind, ME, Place};

/// The line that opens the generated part of a file, and the one that closes it.
pub const BEGIN_MARKER: &str = "<!-- BEGIN GENERATED from mission-control-actions: edit the catalogue, then REGENERATE=1 cargo test -p mission-control-actions -->";
pub const END_MARKER: &str = "<!-- END GENERATED -->";

/// A markdown table of every action: its arguments with their rules, and its REST call.
pub fn action_table() -> String {
    let mut out = String::from(
        "| action | what it does | arguments (* required) | REST call |\n| --- | --- | --- | --- |\n",
    );
    for action in ACTIONS {
        let args: Vec<String> = action.args.iter().map(describe_arg).collect();
        out.push_str(&format!(
            "| `{}` | {}{} | {} | `{} {}` |\n",
            action.name,
            action.description,
            match action.effect {
                Effect::Destructive => " Cannot be undone.",
                _ => "",
            },
            if args.is_empty() {
                "none".to_owned()
            } else {
                args.join("<br>")
            },
            action.method,
            rest_path(action),
        ));
    }
    out
}

fn rest_path(action: &Action) -> String {
    if action.args.iter().any(|a| a.place == Place::Path) {
        action.path.to_owned()
    } else {
        action.path.replace("{id}", ME)
    }
}

/// `` `title`* string, 1-200 chars `` and the like.
pub fn describe_arg(arg: &Arg) -> String {
    let mut rule = match arg.kind {
        Kind::String => "string".to_owned(),
        Kind::Enum(values) => values.join(" \\| "),
        Kind::Integer => "integer".to_owned(),
        Kind::StringList => "list of strings".to_owned(),
    };
    if let (Some(min), Some(max)) = (arg.min_chars, arg.max_chars) {
        let unit = if arg.kind == Kind::StringList {
            " chars each"
        } else {
            " chars"
        };
        rule.push_str(&format!(", {min}-{max}{unit}"));
    } else if let Some(max) = arg.max_chars {
        rule.push_str(&format!(", at most {max} chars"));
    }
    if let Some(max) = arg.max_items {
        rule.push_str(&format!(", at most {max}"));
    }
    match (arg.minimum, arg.maximum) {
        (Some(min), Some(max)) => rule.push_str(&format!(", {min}-{max}")),
        (Some(min), None) => rule.push_str(&format!(", at least {min}")),
        _ => {}
    }
    if arg.nullable {
        rule.push_str(", null clears");
    }
    if let Some(default) = arg.default {
        rule.push_str(&format!(", default {default}"));
    }
    match arg.place {
        Place::IfMatch => rule.push_str(" (sent as If-Match)"),
        Place::IdempotencyKey => rule.push_str(" (sent as Idempotency-Key)"),
        _ => {}
    }
    format!(
        "`{}`{} {rule}",
        arg.name,
        if arg.required { "*" } else { "" }
    )
}

/// `text` with the part between the markers replaced by `generated`; `None` when the
/// markers are missing.
pub fn splice(text: &str, generated: &str) -> Option<String> {
    let start = text.find(BEGIN_MARKER)? + BEGIN_MARKER.len();
    let end = start + text[start..].find(END_MARKER)?;
    Some(format!("{}\n{}{}", &text[..start], generated, &text[end..]))
}

/// The WebAssembly tool's description: what the board is, and each action in a line.
pub fn tool_description() -> String {
    let mut out = String::from(
        "Mission Control task board shared by the agents and their humans. Create a task when \
         you start non-trivial work, claim it or move it to in-progress while you work, and \
         complete it (or move it to done) when finished; heartbeat every few minutes while you \
         work. Task statuses: backlog, todo, in-progress, done. Actions:",
    );
    for action in ACTIONS {
        let args: Vec<String> = action
            .args
            .iter()
            .map(|a| format!("{}{}", a.name, if a.required { "" } else { "?" }))
            .collect();
        out.push_str(&format!(" {}({});", action.name, args.join(", ")));
    }
    out.pop();
    out.push('.');
    out
}
