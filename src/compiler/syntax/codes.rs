//! The codes of the parser, each with its title and its long form (what `mlslo
//! explain CODE` prints); [`ParseError::code`](super::error::ParseError::code) maps
//! each way of failing to one of them.
//!
//! Invariants: codes are sorted, unique and stable forever; a title names the
//! problem in general, and the message of a syntax diagnostic may say it more
//! precisely (`expected `=` or `{` after `objective`` for E0101).

crate::base::diagnostic::declare_codes! {
    /// Codes E01xx, in order.
    pub(crate) const ALL;
    UNEXPECTED_TOKEN = "E0101", "unexpected token", "\
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
list elements.";
    UNTERMINATED_STRING = "E0102", "unterminated string", "\
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
a single quote.";
    UNCLOSED_DELIMITER = "E0103", "unclosed delimiter", "\
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
`errors = http_requests_total{status=~\"5..\"}`.";
    UNMATCHED_CLOSE = "E0104", "unmatched closing delimiter", "\
A `}` or `]` appears where nothing is open, usually because a block was closed
twice or a closing brace was pasted by mistake.

    service \"fraud-detector\" {
      team = \"risk-ml\"
    }
    }

Remove the extra `}`, or add the `{` it was meant to close.";
    INVALID_ESCAPE = "E0105", "invalid escape in string", "\
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
    }";
    NUMBER_OUT_OF_RANGE = "E0106", "number out of range", "\
Numbers are 64-bit floating point and must be finite. A literal whose
magnitude exceeds about 1.8e308 would become infinity, so it is rejected:

    accuracy \"precision\" {
      min = 1e400
    }

Write a number in range, such as `min = 0.92`. (`NaN` and `Inf` are not
number literals; the checker rejects them where a number is due.)";
    UNKNOWN_UNIT = "E0107", "unknown unit", "\
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

`5 m` (with a space) is rejected the same way; write `5m`.";
    INVALID_DURATION = "E0108", "invalid duration", "\
Durations are exact: whole numbers of units, written from the largest unit to
the smallest, each unit at most once, never negative, and below about 292
million years. These are all errors:

    window = 1.5h     // fractional: write 90m
    window = 30m1h    // out of order: write 1h30m
    window = -5m      // negative
    window = 5m3      // the 3 has no unit

Fix the literal as the help line says, for example:

    window = 90m";
    MISSING_VALUE = "E0109", "missing value", "\
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
    }";
    NESTING_TOO_DEEP = "E0110", "nesting too deep", "\
Blocks and lists may nest at most 64 levels deep. Real files nest a handful
of levels; the limit keeps hostile or generated input from exhausting the
stack. This is rejected:

    a { a { a { ... 65 levels ... } } }

Flatten the structure: a service holds objective blocks, which hold a few
small blocks such as `labels { ... }` or `page { burn { ... } }`.";
    UNEXPECTED_CHARACTER = "E0111", "unexpected character", "\
A character that the language does not use appears outside a string: a
symbol such as `@` or `$`, a control character, or a look-alike such as a
non-breaking space or a typographic quote pasted from a document.

    service \"fraud-detector\" {
      team = “risk-ml”
    }

Use plain ASCII quotes and spaces, and put other text inside a string:

    service \"fraud-detector\" {
      team = \"risk-ml\"
    }";
}
