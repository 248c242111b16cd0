//! What text on the board may hold: a line (a title, a name, a tag) or free text (a
//! description, a comment).
//!
//! Text is shown to people in the dashboard and to agents in tool results, so it must not
//! carry what a screen or a terminal would act on rather than show: control characters (an
//! ANSI escape recolours a terminal) and bidirectional overrides (which reorder what a reader
//! sees). A line must also show something: a title of zero-width spaces is an invisible card.
//! Lengths are counted in characters as sent, before anything else; every other check is one
//! pass over the text.
//!
//! The same rules are published as regular expressions ([`line_pattern`], [`free_text_pattern`])
//! in the OpenAPI document, built from the very character tables the checks use.

use std::ops::RangeInclusive;

/// A single line: trimmed, 1 to `max` characters, no control characters, something visible.
pub(crate) fn line(raw: &str, max: usize) -> Result<String, String> {
    let len = raw.chars().count();
    if len > max {
        return Err(format!("must be at most {max} characters (got {len})"));
    }
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".into());
    }
    let mut visible = false;
    for (i, c) in trimmed.chars().enumerate() {
        if c.is_control() || is_bidi_control(c) {
            return Err(control_message(c, i));
        }
        visible |= !c.is_whitespace() && !is_invisible(c);
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
        if (c.is_control() && !LINE_BREAKS_AND_TABS.contains(&c)) || is_bidi_control(c) {
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
const BIDI_CONTROLS: &[RangeInclusive<char>] = &['\u{202A}'..='\u{202E}', '\u{2066}'..='\u{2069}'];

/// Characters that take no space on screen: format characters, fillers, variation selectors.
const INVISIBLE: &[RangeInclusive<char>] = &[
    '\u{00AD}'..='\u{00AD}',
    '\u{034F}'..='\u{034F}',
    '\u{061C}'..='\u{061C}',
    '\u{115F}'..='\u{1160}',
    '\u{17B4}'..='\u{17B5}',
    '\u{180B}'..='\u{180F}',
    '\u{200B}'..='\u{200F}',
    '\u{2060}'..='\u{206F}',
    '\u{2800}'..='\u{2800}',
    '\u{3164}'..='\u{3164}',
    '\u{FE00}'..='\u{FE0F}',
    '\u{FEFF}'..='\u{FEFF}',
    '\u{FFA0}'..='\u{FFA0}',
    '\u{FFF0}'..='\u{FFFB}',
    '\u{1D173}'..='\u{1D17A}',
    '\u{E0000}'..='\u{E0FFF}',
];

/// Control characters (Unicode category Cc), as `char::is_control` tells them.
const CONTROLS: &[RangeInclusive<char>] = &['\u{0000}'..='\u{001F}', '\u{007F}'..='\u{009F}'];

/// The controls free text may hold: tab, line feed, carriage return.
const LINE_BREAKS_AND_TABS: &[char] = &['\t', '\n', '\r'];

/// White space, as `char::is_whitespace` and `str::trim` tell it (the Unicode White_Space
/// property).
const WHITESPACE: &[RangeInclusive<char>] = &[
    '\u{0009}'..='\u{000D}',
    '\u{0020}'..='\u{0020}',
    '\u{0085}'..='\u{0085}',
    '\u{00A0}'..='\u{00A0}',
    '\u{1680}'..='\u{1680}',
    '\u{2000}'..='\u{200A}',
    '\u{2028}'..='\u{2029}',
    '\u{202F}'..='\u{202F}',
    '\u{205F}'..='\u{205F}',
    '\u{3000}'..='\u{3000}',
];

fn is_bidi_control(c: char) -> bool {
    BIDI_CONTROLS.iter().any(|r| r.contains(&c))
}

fn is_invisible(c: char) -> bool {
    INVISIBLE.iter().any(|r| r.contains(&c))
}

/// A regular expression (ECMA-262 and JSON Schema `pattern` syntax) matching exactly the
/// strings [`line`] accepts, length aside: optional white space around text that holds no
/// control character or bidi override and at least one visible character.
#[cfg_attr(not(feature = "openapi"), allow(dead_code))]
pub(crate) fn line_pattern() -> String {
    let forbidden = class(&[CONTROLS, BIDI_CONTROLS], &[]);
    let visible = class(&[CONTROLS, BIDI_CONTROLS, WHITESPACE, INVISIBLE], &[]);
    let space = class(&[WHITESPACE], &[]);
    format!("^[{space}]*[^{forbidden}]*[^{visible}][^{forbidden}]*[{space}]*$")
}

/// A regular expression matching exactly the strings [`free_text`] accepts, length aside: no
/// control characters but tab and line breaks, no bidi overrides.
#[cfg_attr(not(feature = "openapi"), allow(dead_code))]
pub(crate) fn free_text_pattern() -> String {
    let forbidden = class(&[CONTROLS, BIDI_CONTROLS], LINE_BREAKS_AND_TABS);
    format!("^[^{forbidden}]*$")
}

/// A regular expression matching exactly the free text [`free_text`] accepts and keeps (a
/// comment): its rules, and at least one visible character.
#[cfg_attr(not(feature = "openapi"), allow(dead_code))]
pub(crate) fn visible_free_text_pattern() -> String {
    let forbidden = class(&[CONTROLS, BIDI_CONTROLS], LINE_BREAKS_AND_TABS);
    let visible = class(&[CONTROLS, BIDI_CONTROLS, WHITESPACE, INVISIBLE], &[]);
    format!("^[^{forbidden}]*[^{visible}][^{forbidden}]*$")
}

/// The inside of a character class holding every range of `tables`, less the `except`
/// characters. BMP characters are written `\uXXXX`, which ECMA-262, Python and Rust regular
/// expressions all read alike; the few astral ones are written as themselves.
fn class(tables: &[&[RangeInclusive<char>]], except: &[char]) -> String {
    let mut out = String::new();
    let mut push = |lo: char, hi: char| {
        escape(&mut out, lo);
        if hi != lo {
            out.push('-');
            escape(&mut out, hi);
        }
    };
    for range in tables.iter().flat_map(|t| t.iter()) {
        let mut start: Option<char> = None;
        let mut prev = *range.start();
        for c in range.clone() {
            if except.contains(&c) {
                if let Some(s) = start.take() {
                    push(s, prev);
                }
            } else if start.is_none() {
                start = Some(c);
            }
            prev = c;
        }
        if let Some(s) = start {
            push(s, prev);
        }
    }
    out
}

fn escape(out: &mut String, c: char) {
    use std::fmt::Write;
    if (c as u32) <= 0xFFFF {
        let _ = write!(out, "\\u{:04x}", c as u32);
    } else {
        out.push(c);
    }
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

    #[test]
    fn a_line_is_counted_as_sent() {
        assert!(line(" abc ", 5).is_ok());
        let padded = line(" abcde ", 5).unwrap_err();
        assert_eq!(padded, "must be at most 5 characters (got 7)");
    }

    fn in_table(table: &[RangeInclusive<char>], c: char) -> bool {
        table.iter().any(|r| r.contains(&c))
    }

    /// The tables the patterns are built from say what the standard library says.
    #[test]
    fn the_tables_agree_with_the_standard_library() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(
                in_table(WHITESPACE, c),
                c.is_whitespace(),
                "{:04X}",
                c as u32
            );
            assert_eq!(in_table(CONTROLS, c), c.is_control(), "{:04X}", c as u32);
        }
    }

    /// The published patterns accept exactly what the checks accept (lengths aside), over
    /// strings drawn from every kind of character the rules tell apart.
    #[test]
    fn the_patterns_accept_what_the_checks_accept() {
        use proptest::prelude::*;
        let line_re = regex_automata::meta::Regex::new(&line_pattern()).unwrap();
        let free_re = regex_automata::meta::Regex::new(&free_text_pattern()).unwrap();
        let kinds: Vec<char> = " \t\n\r\u{0}\u{1b}\u{85}\u{a0}\u{200b}\u{202e}\u{2066}\u{3000}\u{e0001}\u{1d173}\u{fffb}aZ9é👩\u{10ffff}"
            .chars()
            .collect();
        let strategy = proptest::collection::vec(proptest::sample::select(kinds), 0..8)
            .prop_map(|cs| cs.into_iter().collect::<String>());
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(4000));
        runner
            .run(&strategy, |s| {
                prop_assert_eq!(line_re.is_match(&s), line(&s, 100).is_ok(), "line {:?}", s);
                prop_assert_eq!(
                    free_re.is_match(&s),
                    free_text(&s, 100).is_ok(),
                    "free {:?}",
                    s
                );
                Ok(())
            })
            .unwrap();
    }
}
