//! Turns [`Diagnostic`]s into text for people (codespan-reporting) and for machines (JSON).
//!
//! Invariants: rendering is pure (it returns strings; the CLI decides where they go and
//! whether colour is wanted); no line of the output ends in whitespace; the JSON field
//! order is fixed by the structs below and is part of the stable interface; a span that
//! points outside every file, or into the middle of a character, is clamped rather than
//! allowed to panic.

use crate::base::diagnostic::{Diagnostic, Label, Severity, SourceMap, Span};
use codespan_reporting::diagnostic as codespan;
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor};
use serde::Serialize;

/// Renders every diagnostic in the rustc style, one after another, each followed by a
/// blank line:
///
/// ```text
/// error[E0302]: expected a duration, found a percentage
///   ┌─ rules/fraud.slo:7:17
///   │
/// 7 │     threshold = 99%
///   │                 ^^^ this is a percentage
///   │
///   = help: write a duration such as `250ms`
/// ```
///
/// With `color` the output carries ANSI escapes (for a terminal); without, it is plain text.
pub fn render_human(map: &SourceMap, diagnostics: &[Diagnostic], color: bool) -> String {
    let files = codespan_files(map);
    let config = term::Config::default();
    let mut output = String::new();
    for diagnostic in diagnostics {
        let converted = to_codespan(map, diagnostic);
        let rendered = if color {
            let mut buffer = termcolor::Buffer::ansi();
            emit_or_fallback(&mut buffer, &config, &files, &converted, diagnostic)
        } else {
            let mut buffer = termcolor::Buffer::no_color();
            emit_or_fallback(&mut buffer, &config, &files, &converted, diagnostic)
        };
        output.push_str(&trim_trailing_whitespace(&rendered));
    }
    output
}

/// Renders all diagnostics as one JSON document: an array of objects with the fields of
/// [`JsonDiagnostic`], in that order, pretty-printed and ending in a newline.
pub fn render_json(map: &SourceMap, diagnostics: &[Diagnostic]) -> String {
    let documents: Vec<JsonDiagnostic> = diagnostics
        .iter()
        .map(|diagnostic| JsonDiagnostic::new(map, diagnostic))
        .collect();
    let mut text = serde_json::to_string_pretty(&documents)
        // Serialising plain structs of strings and integers into a String cannot fail.
        .unwrap_or_else(|error| format!("[{{\"internal_error\": {:?}}}]", error.to_string()));
    text.push('\n');
    text
}

/// The one-line summary printed after the diagnostics, such as
/// `error: 3 errors and 1 warning emitted`. `None` when there is nothing to report.
pub fn summary(diagnostics: &[Diagnostic]) -> Option<String> {
    let n_errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let n_warnings = diagnostics.len() - n_errors;
    let counted = |n: usize, noun: &str| {
        if n == 1 {
            format!("1 {noun}")
        } else {
            format!("{n} {noun}s")
        }
    };
    match (n_errors, n_warnings) {
        (0, 0) => None,
        (0, warnings) => Some(format!("warning: {} emitted", counted(warnings, "warning"))),
        (errors, 0) => Some(format!("error: {} emitted", counted(errors, "error"))),
        (errors, warnings) => Some(format!(
            "error: {} and {} emitted",
            counted(errors, "error"),
            counted(warnings, "warning")
        )),
    }
}

/// One diagnostic in `--format json`. Lines and columns are 1-based; columns count
/// characters (Unicode scalar values), and `end_column` is the column just past the
/// last character of the span (exclusive), so an empty span has `end_column == column`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JsonDiagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub file: Option<String>,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// The primary label first, then the secondary labels in their order.
    pub labels: Vec<JsonLabel>,
    pub help: Vec<String>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JsonLabel {
    pub primary: bool,
    pub message: String,
    pub file: Option<String>,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl JsonDiagnostic {
    fn new(map: &SourceMap, diagnostic: &Diagnostic) -> JsonDiagnostic {
        let primary = JsonLabel::new(map, &diagnostic.primary, true);
        let labels = std::iter::once(primary.clone())
            .chain(
                diagnostic
                    .secondary
                    .iter()
                    .map(|label| JsonLabel::new(map, label, false)),
            )
            .collect();
        JsonDiagnostic {
            code: diagnostic.code,
            severity: diagnostic.severity,
            message: diagnostic.message.clone(),
            file: primary.file,
            line: primary.line,
            column: primary.column,
            end_line: primary.end_line,
            end_column: primary.end_column,
            labels,
            help: diagnostic.help.clone(),
            notes: diagnostic.notes.clone(),
        }
    }
}

impl JsonLabel {
    fn new(map: &SourceMap, label: &Label, primary: bool) -> JsonLabel {
        let located = locate(map, label.span);
        let (file, (line, column), (end_line, end_column)) = match located {
            Some((file_index, start, end)) => (
                Some(map.files()[file_index].name.clone()),
                line_column(map, file_index, start),
                line_column(map, file_index, end),
            ),
            None => (None, (0, 0), (0, 0)),
        };
        JsonLabel {
            primary,
            message: label.message.clone(),
            file,
            line,
            column,
            end_line,
            end_column,
        }
    }
}

/// The file a span points into and the span as a file-relative byte range, clamped to
/// the file and widened to character boundaries. `None` when no file holds the span.
fn locate(map: &SourceMap, span: Span) -> Option<(usize, usize, usize)> {
    let file_index = map.file_of(span)?;
    let file = &map.files()[file_index];
    let text = &file.text;
    let local = |offset: u32| (offset.saturating_sub(file.base) as usize).min(text.len());
    let mut start = local(span.start);
    let mut end = local(span.end).max(start);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    Some((file_index, start, end))
}

/// 1-based line and character column of a file-relative byte offset.
fn line_column(map: &SourceMap, file_index: usize, local_offset: usize) -> (usize, usize) {
    let file = &map.files()[file_index];
    let global = file.base as usize + local_offset;
    match map.line_col(u32::try_from(global).unwrap_or(u32::MAX)) {
        Some((_, line, column)) => (line, column),
        None => (0, 0),
    }
}

fn codespan_files(map: &SourceMap) -> SimpleFiles<&str, &str> {
    let mut files = SimpleFiles::new();
    for file in map.files() {
        // Same insertion order, so a SourceMap file index is a codespan file id.
        files.add(file.name.as_str(), file.text.as_str());
    }
    files
}

fn to_codespan(map: &SourceMap, diagnostic: &Diagnostic) -> codespan::Diagnostic<usize> {
    let severity = match diagnostic.severity {
        Severity::Error => codespan::Severity::Error,
        Severity::Warning => codespan::Severity::Warning,
    };
    let mut labels = Vec::new();
    let labelled = std::iter::once((codespan::LabelStyle::Primary, &diagnostic.primary)).chain(
        diagnostic
            .secondary
            .iter()
            .map(|label| (codespan::LabelStyle::Secondary, label)),
    );
    for (style, label) in labelled {
        if let Some((file_index, start, end)) = locate(map, label.span) {
            labels.push(
                codespan::Label::new(style, file_index, start..end)
                    .with_message(label.message.clone()),
            );
        }
    }
    let notes = diagnostic
        .help
        .iter()
        .map(|help| format!("help: {help}"))
        .chain(diagnostic.notes.iter().map(|note| format!("note: {note}")))
        .collect();
    codespan::Diagnostic::new(severity)
        .with_code(diagnostic.code)
        .with_message(diagnostic.message.clone())
        .with_labels(labels)
        .with_notes(notes)
}

fn emit_or_fallback(
    buffer: &mut termcolor::Buffer,
    config: &term::Config,
    files: &SimpleFiles<&str, &str>,
    converted: &codespan::Diagnostic<usize>,
    diagnostic: &Diagnostic,
) -> String {
    match term::emit_to_write_style(buffer, config, files, converted) {
        Ok(()) => String::from_utf8_lossy(buffer.as_slice()).into_owned(),
        // Spans are clamped to their file above, so codespan has no reason to fail; if it
        // ever does, the user still gets the code and the message.
        Err(error) => format!(
            "{}[{}]: {}\n  = note: the source excerpt could not be shown: {error}\n\n",
            match diagnostic.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            diagnostic.code,
            diagnostic.message
        ),
    }
}

/// Removes whitespace at the end of every line, keeping trailing ANSI colour escapes
/// (which codespan may write after the padding) in place.
fn trim_trailing_whitespace(text: &str) -> String {
    let mut output = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        output.push_str(&trim_line(body));
        output.push_str(newline);
    }
    output
}

fn trim_line(line: &str) -> String {
    // Peel trailing escapes and whitespace off the end, remembering the escapes.
    let mut rest = line;
    let mut trailing_escapes: Vec<&str> = Vec::new();
    loop {
        let trimmed = rest.trim_end();
        if trimmed.len() != rest.len() {
            rest = trimmed;
            continue;
        }
        match trailing_escape_start(rest) {
            Some(start) => {
                trailing_escapes.push(&rest[start..]);
                rest = &rest[..start];
            }
            None => break,
        }
    }
    let mut output = String::from(rest);
    for escape in trailing_escapes.iter().rev() {
        output.push_str(escape);
    }
    output
}

/// Where an ANSI SGR sequence (`ESC [ digits;digits m`) that ends the string starts.
fn trailing_escape_start(text: &str) -> Option<usize> {
    let without_m = text.strip_suffix('m')?;
    let parameters_start = without_m
        .rfind(|c: char| !(c.is_ascii_digit() || c == ';'))
        .unwrap_or(0);
    let introducer = &without_m[parameters_start..];
    if introducer.starts_with('[') && without_m[..parameters_start].ends_with('\u{1b}') {
        Some(parameters_start - 1)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (SourceMap, Vec<Diagnostic>) {
        let mut map = SourceMap::new();
        map.add("a.slo", "service \"x\" {\n  team = 5\n}\n");
        let second = map.add("b.slo", "service \"x\" {\n\tteam = \"é\"\n}\n");
        let base = map.files()[second].base as usize;
        let diagnostics = vec![
            Diagnostic::error(
                "E0301",
                "expected a string, found a number",
                Span::new(23, 24),
                "this is a number",
            )
            .with_help("write the team name in quotes"),
            Diagnostic::warning(
                "W0001",
                "duplicate service",
                Span::new(base + 8, base + 11),
                "defined again here",
            )
            .with_secondary(Span::new(8, 11), "first defined here")
            .with_note("later definitions are ignored"),
        ];
        (map, diagnostics)
    }

    #[test]
    fn human_output_has_location_caret_labels_help_and_note() {
        let (map, diagnostics) = sample();
        let text = render_human(&map, &diagnostics, false);
        let expected = "\
error[E0301]: expected a string, found a number
  ┌─ a.slo:2:10
  │
2 │   team = 5
  │          ^ this is a number
  │
  = help: write the team name in quotes

warning[W0001]: duplicate service
  ┌─ b.slo:1:9
  │
1 │ service \"x\" {
  │         ^^^ defined again here
  │
  ┌─ a.slo:1:9
  │
1 │ service \"x\" {
  │         --- first defined here
  │
  = note: later definitions are ignored

";
        assert_eq!(text, expected);
    }

    #[test]
    fn no_line_ends_in_whitespace_with_or_without_colour() {
        let (map, diagnostics) = sample();
        for color in [false, true] {
            let text = render_human(&map, &diagnostics, color);
            for line in text.lines() {
                assert_eq!(
                    trim_line(line),
                    line,
                    "line {line:?} has trailing whitespace"
                );
            }
            assert_eq!(text.contains('\u{1b}'), color);
        }
    }

    #[test]
    fn trimming_keeps_escapes_and_drops_spaces_before_them() {
        assert_eq!(trim_line("ab  \u{1b}[0m  "), "ab\u{1b}[0m");
        assert_eq!(
            trim_line("ab \u{1b}[1;31m \u{1b}[0m"),
            "ab\u{1b}[1;31m\u{1b}[0m"
        );
        assert_eq!(trim_line("plain"), "plain");
        assert_eq!(trim_line("m  "), "m");
    }

    #[test]
    fn json_has_stable_fields_and_character_columns() {
        let (map, diagnostics) = sample();
        let text = render_json(&map, &diagnostics);
        let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        let first = &value[0];
        assert_eq!(first["code"], "E0301");
        assert_eq!(first["severity"], "error");
        assert_eq!(first["file"], "a.slo");
        assert_eq!(
            (first["line"].as_u64(), first["column"].as_u64()),
            (Some(2), Some(10))
        );
        assert_eq!(first["end_column"].as_u64(), Some(11));
        assert_eq!(first["help"][0], "write the team name in quotes");
        let second = &value[1];
        assert_eq!(second["labels"][1]["file"], "a.slo");
        assert_eq!(second["labels"][1]["primary"], false);
        let keys: Vec<&str> = text
            .lines()
            .filter(|line| line.starts_with("    \""))
            .map(|line| line.trim().split('"').nth(1).unwrap_or(""))
            .take(12)
            .collect();
        assert_eq!(
            keys,
            [
                "code",
                "severity",
                "message",
                "file",
                "line",
                "column",
                "end_line",
                "end_column",
                "labels",
                "help",
                "notes",
                "code"
            ]
        );
    }

    #[test]
    fn spans_outside_files_or_inside_characters_do_not_panic() {
        let mut map = SourceMap::new();
        map.add("u.slo", "é");
        let diagnostics = vec![
            Diagnostic::error("E0101", "odd", Span::new(1, 2), "inside a character"),
            Diagnostic::error("E0101", "odd", Span::new(7, 4_000_000_000), "past the end"),
        ];
        let text = render_human(&map, &diagnostics, false);
        assert!(text.contains("u.slo:1:1"), "{text}");
        let json = render_json(&map, &diagnostics);
        assert!(json.contains("\"line\": 1"), "{json}");
        assert!(render_human(&SourceMap::new(), &diagnostics, false).contains("error[E0101]: odd"));
    }

    #[test]
    fn summary_counts_errors_and_warnings() {
        let (_, diagnostics) = sample();
        assert_eq!(summary(&[]), None);
        assert_eq!(
            summary(&diagnostics[..1]).as_deref(),
            Some("error: 1 error emitted")
        );
        assert_eq!(
            summary(&diagnostics[1..]).as_deref(),
            Some("warning: 1 warning emitted")
        );
        assert_eq!(
            summary(&diagnostics).as_deref(),
            Some("error: 1 error and 1 warning emitted")
        );
    }
}
