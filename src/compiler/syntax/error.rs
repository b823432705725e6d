//! Syntax errors as data: one variant per way a `.slo` text can fail to parse.
//!
//! Invariants: a [`ParseError`] holds spans (already shifted by the file's base
//! offset) and small values, never source text beyond the token it names; each
//! variant maps to exactly one stable code of [`CODES`](super::CODES), and
//! [`ParseError::into_diagnostic`] is the only place that words the message: the
//! code's title, or a more precise wording of it.

use crate::base::diagnostic::{CodeInfo, Diagnostic, Span};
use crate::compiler::syntax::codes;

/// Deepest nesting of blocks and lists the parser accepts. Real files nest four
/// or five levels; the limit exists so that hostile input gets a diagnostic
/// instead of a stack overflow.
pub const MAX_NESTING_DEPTH: usize = 64;

/// Every way parsing can fail. Each variant is documented with an input that
/// triggers it.
#[derive(Clone, Debug, PartialEq)]
pub enum ParseError {
    /// `objective: 99%` (a colon where `=` or `{` is due).
    UnexpectedToken {
        /// What the grammar allows here, already quoted: "`=` or `{`".
        expected: String,
        /// The token after which the expectation arose: `objective`.
        after: Option<String>,
        /// A description of what was found: "`:`", "end of file", "a string".
        found: String,
        span: Span,
        help: Option<String>,
    },
    /// `team = "risk-ml` (no closing quote before the end of the line).
    UnterminatedString {
        /// The opening quote.
        open: Span,
        /// Where the string ran into a newline or the end of the file.
        end: Span,
        /// True when the string ended at a raw newline rather than the end of the file.
        at_newline: bool,
    },
    /// `service "x" { team = "a"` (the file ends before the closing `}`).
    UnclosedDelimiter {
        /// The opening `{`, `[` or selector `{`.
        open: Span,
        /// The character that would close it.
        close: char,
        /// What was opened: "block", "list", "selector", "route matchers".
        what: &'static str,
        /// Where the input ran out: the end of the file, or of the line for a selector.
        end: Span,
        at_line_end: bool,
    },
    /// `team = "a" }` at the top level (a closer with nothing open).
    UnmatchedClose { span: Span, close: char },
    /// `query = "a\qb"` (only `\" \\ \n \r \t \u{...}` exist).
    InvalidEscape { span: Span, reason: String },
    /// `max = 1e400` (the number does not fit in a 64-bit float).
    NumberOutOfRange { span: Span },
    /// `for = 5mins` or `for = 5 mins`.
    UnknownUnit {
        span: Span,
        unit: String,
        /// The number the unit belongs to, for the suggested spelling.
        number: String,
        suggestion: Option<&'static str>,
        /// The unit was separated from its number by spaces: `5 m`.
        spaced: bool,
    },
    /// `window = 1.5h` (fractional), `30m1h` (order), `-5m` (negative), `5m3`
    /// (missing unit), `1h 30m` (space inside), `9999999999999y` (overflow).
    InvalidDuration {
        span: Span,
        /// Lowercase message: "duration with a fractional number".
        problem: &'static str,
        /// The primary label text.
        label: String,
        help: Option<String>,
    },
    /// `objective =` followed by the end of the block, by `window = 28d`, or by
    /// `labels {` on the next line.
    MissingValue {
        /// The `=` sign that wants a value.
        equals: Span,
        /// Where a value was expected.
        at: Span,
        /// What was found instead.
        found: String,
    },
    /// 10,000 nested `{` (more than [`MAX_NESTING_DEPTH`] levels).
    NestingTooDeep { span: Span },
    /// `team = "a" @` or a non-breaking space outside a string.
    UnexpectedCharacter { span: Span, character: char },
}

impl ParseError {
    /// The stable code of this error; see [`CODES`](super::CODES).
    pub fn code(&self) -> &'static CodeInfo {
        match self {
            ParseError::UnexpectedToken { .. } => &codes::UNEXPECTED_TOKEN,
            ParseError::UnterminatedString { .. } => &codes::UNTERMINATED_STRING,
            ParseError::UnclosedDelimiter { .. } => &codes::UNCLOSED_DELIMITER,
            ParseError::UnmatchedClose { .. } => &codes::UNMATCHED_CLOSE,
            ParseError::InvalidEscape { .. } => &codes::INVALID_ESCAPE,
            ParseError::NumberOutOfRange { .. } => &codes::NUMBER_OUT_OF_RANGE,
            ParseError::UnknownUnit { .. } => &codes::UNKNOWN_UNIT,
            ParseError::InvalidDuration { .. } => &codes::INVALID_DURATION,
            ParseError::MissingValue { .. } => &codes::MISSING_VALUE,
            ParseError::NestingTooDeep { .. } => &codes::NESTING_TOO_DEEP,
            ParseError::UnexpectedCharacter { .. } => &codes::UNEXPECTED_CHARACTER,
        }
    }

    /// The primary span: where the caret goes.
    pub fn span(&self) -> Span {
        match self {
            ParseError::UnexpectedToken { span, .. }
            | ParseError::UnmatchedClose { span, .. }
            | ParseError::InvalidEscape { span, .. }
            | ParseError::NumberOutOfRange { span }
            | ParseError::UnknownUnit { span, .. }
            | ParseError::InvalidDuration { span, .. }
            | ParseError::NestingTooDeep { span }
            | ParseError::UnexpectedCharacter { span, .. } => *span,
            ParseError::UnterminatedString { open, .. } => *open,
            ParseError::UnclosedDelimiter { open, .. } => *open,
            ParseError::MissingValue { at, .. } => *at,
        }
    }

    pub fn into_diagnostic(self) -> Diagnostic {
        let code = self.code();
        match self {
            ParseError::UnexpectedToken {
                expected,
                after,
                found,
                span,
                help,
            } => {
                let message = match after {
                    Some(after) => format!("expected {expected} after `{after}`"),
                    None => format!("expected {expected}"),
                };
                let diagnostic =
                    Diagnostic::error(code.code, message, span, format!("found {found} here"));
                match help {
                    Some(help) => diagnostic.with_help(help),
                    None => diagnostic,
                }
            }
            ParseError::UnterminatedString {
                open,
                end,
                at_newline,
            } => {
                let (where_, help) = if at_newline {
                    (
                        "the line ends before the string is closed",
                        "close the string with a matching quote on the same line; write a newline inside a \"...\" string as `\\n`",
                    )
                } else {
                    (
                        "the file ends before the string is closed",
                        "close the string with a matching quote",
                    )
                };
                code.at(open, "this string is never closed")
                .with_secondary(end, where_)
                .with_help(help)
            }
            ParseError::UnclosedDelimiter {
                open,
                close,
                what,
                end,
                at_line_end,
            } => {
                let place = if at_line_end { "line" } else { "file" };
                Diagnostic::error(
                    code.code,
                    format!("unclosed {what}"),
                    open,
                    format!("{what} opened here"),
                )
                .with_secondary(end, format!("the {place} ends here, before the closing `{close}`"))
                .with_help(format!("add the missing `{close}`"))
            }
            ParseError::UnmatchedClose { span, close } => {
                let opener = if close == '}' { '{' } else { '[' };
                Diagnostic::error(
                    code.code,
                    format!("unmatched closing `{close}`"),
                    span,
                    format!("there is no open `{opener}` for this `{close}`"),
                )
                .with_help(format!("remove this `{close}` or add the `{opener}` it should close"))
            }
            ParseError::InvalidEscape { span, reason } => {
                code.at(span, reason).with_help(
                    "the escapes are \\\" \\\\ \\n \\r \\t and \\u{1F600}; for text with many backslashes use a raw string in single quotes: 'a\\b'",
                )
            }
            ParseError::NumberOutOfRange { span } => code
                .at(span, "this number is too large for a 64-bit float")
            .with_help("numbers must be finite, with a magnitude below about 1.8e308"),
            ParseError::UnknownUnit {
                span,
                unit,
                number,
                suggestion,
                spaced,
            } => {
                if spaced && suggestion == Some(unit.as_str()) {
                    return Diagnostic::error(
                        code.code,
                        "space between a number and its unit",
                        span,
                        "this unit is separated from its number",
                    )
                    .with_help(format!("write `{number}{unit}` with no space"));
                }
                let mut diagnostic = Diagnostic::error(
                    code.code,
                    format!("unknown unit `{unit}`"),
                    span,
                    "not a unit",
                );
                if let Some(suggestion) = suggestion {
                    let spacing = if spaced { ", with no space" } else { "" };
                    diagnostic = diagnostic.with_help(format!(
                        "did you mean `{suggestion}`? write `{number}{suggestion}`{spacing}"
                    ));
                }
                diagnostic.with_note(
                    "durations use ms s m h d w y (`250ms`, `1h30m`); byte sizes use B KB MB GB TB KiB MiB GiB TiB",
                )
            }
            ParseError::InvalidDuration {
                span,
                problem,
                label,
                help,
            } => {
                let diagnostic = Diagnostic::error(code.code, problem, span, label);
                match help {
                    Some(help) => diagnostic.with_help(help),
                    None => diagnostic,
                }
            }
            ParseError::MissingValue { equals, at, found } => code
                .at(at, format!("expected a value here, found {found}"))
            .with_secondary(equals, "this `=` needs a value after it")
            .with_help("write a value after `=`, such as `\"text\"`, `5m`, `99.9%` or a metric name"),
            ParseError::NestingTooDeep { span } => code
                .at(
                    span,
                    format!("more than {MAX_NESTING_DEPTH} levels of blocks or lists are open here"),
                )
            .with_help("flatten the structure; real files nest only a few levels"),
            ParseError::UnexpectedCharacter { span, character } => {
                let shown = describe_char(character);
                let diagnostic = Diagnostic::error(
                    code.code,
                    format!("unexpected character {shown}"),
                    span,
                    "this character cannot appear outside a string",
                );
                if character.is_whitespace() {
                    diagnostic.with_help("replace it with an ordinary space")
                } else if is_invisible(character) {
                    diagnostic.with_help("delete it: this character is invisible in most editors")
                } else {
                    diagnostic.with_help("put text inside quotes: \"...\"")
                }
            }
        }
    }
}

/// Zero-width spaces and joiners, and a byte order mark in the middle of a file.
fn is_invisible(character: char) -> bool {
    matches!(character, '\u{200b}'..='\u{200f}' | '\u{2060}' | '\u{feff}')
}

/// A character as it is shown in messages: printable ones quoted, others by code point.
pub(crate) fn describe_char(character: char) -> String {
    // Invisible characters (zero-width spaces and joiners, a byte order mark
    // in the middle of a file) are shown by code point so the reader sees them.
    if character.is_control()
        || is_invisible(character)
        || (character.is_whitespace() && character != ' ')
    {
        format!("U+{:04X}", character as u32)
    } else {
        format!("`{character}`")
    }
}
