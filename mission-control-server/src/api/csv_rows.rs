//! The tasks as CSV rows (`GET /api/export?format=csv`), safe to open in a spreadsheet.
//!
//! A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula (and a tab or
//! a carriage return can hide such a start), so a task titled `=HYPERLINK(...)` would run on
//! the machine of whoever opens the export: CSV injection. Every cell that could be read so
//! gets a `'` in front, the rule OWASP gives, which spreadsheets show as text; leading
//! whitespace does not hide a formula from this rule, since some spreadsheets trim it on
//! import. The file is for reading: the JSON export, not the CSV, is what `import` takes back.

use std::borrow::Cow;

use mission_control_core::Task;

/// The header row.
const COLUMNS: [&str; 13] = [
    "id",
    "title",
    "status",
    "priority",
    "assignedAgent",
    "createdBy",
    "createdAt",
    "updatedAt",
    "updatedBy",
    "version",
    "tags",
    "blockedBy",
    "description",
];

/// `tasks` as CSV rows, after the header row when `header`.
pub fn rows(tasks: &[Task], header: bool) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::with_capacity(tasks.len() * 200 + 200));
    if header {
        out.write_record(COLUMNS)?;
    }
    for t in tasks {
        let cells: [Cow<'_, str>; 13] = [
            t.id.as_str().into(),
            t.title.as_str().into(),
            t.status.as_str().into(),
            t.priority.map_or("", |p| p.as_str()).into(),
            t.assigned_agent.as_deref().unwrap_or("").into(),
            t.created_by.as_deref().unwrap_or("").into(),
            t.created_at.to_string().into(),
            t.updated_at.to_string().into(),
            t.updated_by.as_deref().unwrap_or("").into(),
            t.version.to_string().into(),
            t.tags.join(";").into(),
            t.blocked_by.join(";").into(),
            t.description.as_deref().unwrap_or("").into(),
        ];
        let cells: Vec<Cow<'_, str>> = cells.iter().map(|cell| inert(cell)).collect();
        out.write_record(cells.iter().map(|cell| cell.as_bytes()))?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

/// `cell` as a spreadsheet shows it as text: with a `'` in front when it starts with a tab or
/// a carriage return, or when its first character after any whitespace is `=`, `+`, `-` or
/// `@`; as it is otherwise.
pub fn inert(cell: &str) -> Cow<'_, str> {
    let hidden_start = cell.starts_with(['\t', '\r']);
    let formula_start = cell.trim_start().starts_with(['=', '+', '-', '@']);
    if hidden_start || formula_start {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::inert;

    #[test]
    fn cells_a_spreadsheet_would_run_are_quoted() {
        for formula in [
            "=1+1",
            "+1",
            "-1",
            "@SUM(A1)",
            "\t=1",
            "\rx",
            "\tplain",
            "  =cmd|' /C calc'!A0",
            "\n@x",
            "\u{a0}=1",
        ] {
            assert_eq!(inert(formula), format!("'{formula}"), "{formula:?}");
        }
    }

    #[test]
    fn other_cells_are_left_as_they_are() {
        for text in [
            "",
            "Fix the bug",
            "a=b",
            "1-2",
            "'=already quoted",
            " plain",
            "task-0192",
            "1712345678901",
        ] {
            assert_eq!(inert(text), text, "{text:?}");
        }
    }
}
