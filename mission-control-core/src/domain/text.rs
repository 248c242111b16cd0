//! What text on the board may hold: a line (a title, a name, a tag) or free text (a
//! description, a comment).
//!
//! Text is shown to people in the dashboard and to agents in tool results, so it must not
//! carry what a screen or a terminal would act on rather than show: control characters (an
//! ANSI escape recolours a terminal) and bidirectional overrides (which reorder what a reader
//! sees). A line must also show something: a title of zero-width spaces is an invisible card.
//! Every check is one pass over the text.

/// A single line: trimmed, 1 to `max` characters, no control characters, something visible.
pub(crate) fn line(raw: &str, max: usize) -> Result<String, String> {
    let trimmed = raw.trim();
    let mut visible = false;
    let mut len = 0usize;
    for (i, c) in trimmed.chars().enumerate() {
        len += 1;
        if c.is_control() || is_bidi_control(c) {
            return Err(control_message(c, i));
        }
        visible |= !c.is_whitespace() && !is_invisible(c);
    }
    if len == 0 {
        return Err("must not be empty".into());
    }
    if len > max {
        return Err(format!("must be at most {max} characters (got {len})"));
    }
    if !visible {
        return Err("must contain a visible character".into());
    }
    Ok(trimmed.to_owned())
}

/// Free text: at most `max` characters, line breaks and tabs allowed, no other control
/// characters. `None` for blank text (no description is an empty description).
pub(crate) fn free_text(raw: &str, max: usize) -> Result<Option<String>, String> {
    let mut visible = false;
    let mut len = 0usize;
    for (i, c) in raw.chars().enumerate() {
        len += 1;
        if (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || is_bidi_control(c) {
            return Err(control_message(c, i));
        }
        visible |= !c.is_whitespace() && !is_invisible(c);
    }
    if len > max {
        return Err(format!("must be at most {max} characters (got {len})"));
    }
    Ok(visible.then(|| raw.to_owned()))
}

fn control_message(c: char, at: usize) -> String {
    format!(
        "must not contain control characters (found U+{:04X} at character {})",
        c as u32,
        at + 1
    )
}

/// Explicit bidirectional embeddings, overrides and isolates.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that take no space on screen: format characters, fillers, variation selectors.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2060}'..='\u{206F}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFB}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_must_show_something_and_hold_no_controls() {
        assert_eq!(line("  Fix it  ", 10).unwrap(), "Fix it");
        assert!(line("", 10).is_err());
        assert!(
            line("\u{200B}\u{200D}\u{FEFF}", 10)
                .unwrap_err()
                .contains("visible")
        );
        assert!(line("\u{3164}", 10).is_err());
        let ansi = line("\u{1b}[31mred", 20).unwrap_err();
        assert!(ansi.contains("U+001B at character 1"), "{ansi}");
        assert!(line("a\nb", 10).is_err(), "a line is one line");
        assert!(line("abc\u{202E}cba", 10).is_err(), "no bidi overrides");
        // Joiners inside visible text are fine: family emoji, Indic scripts.
        assert!(line("👨\u{200D}👩\u{200D}👧 plan", 20).is_ok());
        assert!(line(&"é".repeat(10), 10).is_ok(), "characters, not bytes");
        assert!(line(&"é".repeat(11), 10).is_err());
    }

    #[test]
    fn free_text_keeps_line_breaks_and_refuses_escapes() {
        assert_eq!(free_text("  \n ", 10).unwrap(), None);
        assert_eq!(
            free_text("a\n\tb\r\n", 10).unwrap().as_deref(),
            Some("a\n\tb\r\n")
        );
        assert!(free_text("x\u{1b}[2J", 10).is_err());
        assert!(free_text(&"x".repeat(11), 10).is_err());
    }
}
