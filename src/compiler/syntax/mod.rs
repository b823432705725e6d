//! The `.slo` front end: text to [`ast::File`]. Grammar: `grammar/mlslo.ebnf`.
//!
//! Invariants: [`parse`] never panics, never loops forever and never recurses
//! deeper than [`error::MAX_NESTING_DEPTH`] levels, whatever the input; every
//! span it produces is shifted by the file's `base` offset (see
//! [`crate::base::diagnostic::SourceMap`]); the codes it emits are exactly those of
//! [`CODES`]. [`print`] writes an AST back as canonical `.slo` text.

pub mod ast;
pub mod error;
mod parser;
mod print;
#[cfg(test)]
mod tests;

pub use print::print;

use crate::base::diagnostic::{CodeInfo, Diagnostic};

/// Parses one `.slo` file. `base` is the file's offset in the run's shared
/// offset space and is added to every span. Parsing stops at the first error.
///
/// ```
/// let file = mlslo::compiler::syntax::parse("objective = 99.9%", 0).expect("valid syntax");
/// assert_eq!(file.items.len(), 1);
/// let error = mlslo::compiler::syntax::parse("window = 1.5h", 0).unwrap_err();
/// assert_eq!(error.code, "E0108");
/// ```
// The signature is the project's contract with the checker and the CLI; a
// parse error happens at most once per file, so the size of the error is moot.
#[allow(clippy::result_large_err)]
pub fn parse(source: &str, base: u32) -> Result<ast::File, Diagnostic> {
    parser::parse_source(source, base).map_err(error::ParseError::into_diagnostic)
}

/// Codes E01xx: syntax errors.
pub static CODES: &[CodeInfo] = &[
    CodeInfo {
        code: "E0101",
        title: "unexpected token",
        explanation: "\
The parser found a token that the grammar does not allow at this place. The
message says what was expected instead, and after which token.

A common cause is writing a field with a colon, as in YAML:

    latency \"inference-p99\" {
      objective: 99.5%
    }

Fields are written with `=`; blocks are a kind, an optional quoted name and
braces:

    latency \"inference-p99\" {
      objective = 99.5%
    }

Other causes: an unquoted block name (`latency p99 { ... }`, write
`latency \"p99\" { ... }`), a missing `->` in a route, or a missing `,` between
list elements.",
    },
    CodeInfo {
        code: "E0102",
        title: "unterminated string",
        explanation: "\
A string literal has no closing quote before the end of its line (or of the
file). Strings cannot span lines; the error points at the opening quote.

    service \"fraud-detector {
      team = \"risk-ml\"
    }

Close the string on the same line:

    service \"fraud-detector\" {
      team = \"risk-ml\"
    }

To put a newline inside a double-quoted string, write the escape `\\n`.
Single-quoted raw strings ('...') take their text verbatim and cannot contain
a single quote.",
    },
    CodeInfo {
        code: "E0103",
        title: "unclosed delimiter",
        explanation: "\
A block `{`, a list `[`, the matchers of a route or the label matchers of a
selector were opened but never closed. The error points at the opening
delimiter and, as a secondary label, at the place where the input ran out.

    service \"fraud-detector\" {
      team = \"risk-ml\"

Add the closing brace:

    service \"fraud-detector\" {
      team = \"risk-ml\"
    }

The label matchers of a selector must close on the same line:
`errors = http_requests_total{status=~\"5..\"}`.",
    },
    CodeInfo {
        code: "E0104",
        title: "unmatched closing delimiter",
        explanation: "\
A `}` or `]` appears where nothing is open, usually because a block was closed
twice or a closing brace was pasted by mistake.

    service \"fraud-detector\" {
      team = \"risk-ml\"
    }
    }

Remove the extra `}`, or add the `{` it was meant to close.",
    },
    CodeInfo {
        code: "E0105",
        title: "invalid escape in string",
        explanation: "\
Inside a double-quoted string, a backslash starts an escape. The escapes are
`\\\"` (quote), `\\\\` (backslash), `\\n` (newline), `\\r` (carriage return),
`\\t` (tab) and `\\u{1F600}` (a Unicode scalar value in 1 to 6 hex digits).
Anything else is an error, pointing at the escape:

    logs \"errors\" {
      query = \"path:C:\\logs\\*\"
    }

Double the backslashes, or use a raw string in single quotes, which takes its
text verbatim:

    logs \"errors\" {
      query = 'path:C:\\logs\\*'
    }",
    },
    CodeInfo {
        code: "E0106",
        title: "number out of range",
        explanation: "\
Numbers are 64-bit floating point and must be finite. A literal whose
magnitude exceeds about 1.8e308 would become infinity, so it is rejected:

    accuracy \"precision\" {
      min = 1e400
    }

Write a number in range, such as `min = 0.92`. (`NaN` and `Inf` are not
number literals; the checker rejects them where a number is due.)",
    },
    CodeInfo {
        code: "E0107",
        title: "unknown unit",
        explanation: "\
A number is followed by a word that is not a unit. Durations use `ms s m h d w
y`; byte sizes use `B KB MB GB TB KiB MiB GiB TiB`. A unit must follow its
number with no space.

    drift \"amount\" {
      for = 5mins
    }

Write the unit the message suggests:

    drift \"amount\" {
      for = 5m
    }

`5 m` (with a space) is rejected the same way; write `5m`.",
    },
    CodeInfo {
        code: "E0108",
        title: "invalid duration",
        explanation: "\
Durations are exact: whole numbers of units, written from the largest unit to
the smallest, each unit at most once, never negative, and below about 292
million years. These are all errors:

    window = 1.5h     // fractional: write 90m
    window = 30m1h    // out of order: write 1h30m
    window = -5m      // negative
    window = 5m3      // the 3 has no unit

Fix the literal as the help line says, for example:

    window = 90m",
    },
    CodeInfo {
        code: "E0109",
        title: "missing value",
        explanation: "\
A field has `=` but no value after it, so the next field name or the closing
brace was read where the value should be:

    availability \"predict-api\" {
      objective =
      window = 30d
    }

Write the value after `=`:

    availability \"predict-api\" {
      objective = 99.9%
      window = 30d
    }",
    },
    CodeInfo {
        code: "E0110",
        title: "nesting too deep",
        explanation: "\
Blocks and lists may nest at most 64 levels deep. Real files nest a handful
of levels; the limit keeps hostile or generated input from exhausting the
stack. This is rejected:

    a { a { a { ... 65 levels ... } } }

Flatten the structure: a service holds objective blocks, which hold a few
small blocks such as `labels { ... }` or `page { burn { ... } }`.",
    },
    CodeInfo {
        code: "E0111",
        title: "unexpected character",
        explanation: "\
A character that the language does not use appears outside a string: a
symbol such as `@` or `$`, a control character, or a look-alike such as a
non-breaking space or a typographic quote pasted from a document.

    service \"fraud-detector\" {
      team = “risk-ml”
    }

Use plain ASCII quotes and spaces, and put other text inside a string:

    service \"fraud-detector\" {
      team = \"risk-ml\"
    }",
    },
];
