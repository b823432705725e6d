//! The nom parser of `.slo` text: one function per production of `grammar/mlslo.ebnf`.
//!
//! Invariants:
//! - Every production function's doc comment quotes its EBNF production in a
//!   `text` block, verbatim; `tests/integration/grammar.rs` checks this, so the grammar and
//!   the parser cannot drift apart.
//! - The input type is `&str`, and every input a function sees is a suffix of the
//!   whole source, so a byte offset is `whole_len - rest.len()` (jaq's trick);
//!   [`Cx`] turns such suffixes into [`Span`]s shifted by the file's base offset.
//! - Once a production has seen its first token it commits: every failure after
//!   that is an `Err::Failure` carrying a [`ParseError`]; `Err::Error` (a
//!   [`Failure::Mismatch`]) only ever means "this production does not start here".
//! - Spans end at the last token of a node, never after trailing whitespace.
//! - Recursion depth is bounded by [`MAX_NESTING_DEPTH`]; all loops consume
//!   input on every iteration, so parsing is linear and always terminates.

use super::ast::{
    Attribute, Block, ByteUnit, Duration, File, Inhibit, Item, MatchOp, Matcher, Number, Route,
    Value,
};
use super::error::{describe_char, ParseError, MAX_NESTING_DEPTH};
use crate::base::diagnostic::{Span, Spanned};
// The DSL writes durations in Prometheus' units (a year is 365 days, a week 7 days).
use crate::prometheus::model::duration::DURATION_UNITS;
use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, one_of};
use nom::combinator::{opt, recognize};
use nom::{IResult, Parser};

/// The result of every production.
pub(crate) type PResult<'a, T> = IResult<&'a str, T, Failure>;

/// The error type threaded through nom.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The production does not start here; the caller may try another.
    /// Holds the length of the remaining input where the mismatch happened.
    Mismatch { rest_len: usize },
    /// A committed syntax error: parsing stops.
    Syntax(Box<ParseError>),
}

impl<'a> nom::error::ParseError<&'a str> for Failure {
    fn from_error_kind(input: &'a str, _kind: nom::error::ErrorKind) -> Self {
        Failure::Mismatch {
            rest_len: input.len(),
        }
    }

    fn append(_input: &'a str, _kind: nom::error::ErrorKind, other: Self) -> Self {
        other
    }
}

/// What every production needs to turn input suffixes into spans.
pub(crate) struct Cx {
    /// Length of the whole source, BOM included.
    whole_len: usize,
    /// The file's offset in the run's shared offset space.
    base: usize,
}

impl Cx {
    /// The global byte offset at which `rest` (a suffix of the source) starts.
    fn offset(&self, rest: &str) -> usize {
        self.base + self.whole_len.saturating_sub(rest.len())
    }

    /// The span from the start of `from` to the start of `to` (a later suffix).
    fn span(&self, from: &str, to: &str) -> Span {
        Span::new(self.offset(from), self.offset(to))
    }

    /// The span of the first `len` bytes of `rest`.
    fn span_len(&self, rest: &str, len: usize) -> Span {
        let start = self.offset(rest);
        Span::new(start, start + len)
    }
}

/// Parses a whole file. `source` may start with a UTF-8 byte order mark.
pub(crate) fn parse_source(source: &str, base: u32) -> Result<File, ParseError> {
    let cx = Cx {
        whole_len: source.len(),
        base: base as usize,
    };
    match file(&cx, source) {
        Ok((_, parsed)) => Ok(parsed),
        Err(
            nom::Err::Error(Failure::Syntax(error)) | nom::Err::Failure(Failure::Syntax(error)),
        ) => Err(*error),
        Err(
            nom::Err::Error(Failure::Mismatch { rest_len })
            | nom::Err::Failure(Failure::Mismatch { rest_len }),
        ) => {
            // Every production commits with a ParseError, so a bare mismatch
            // escaping to the top is a parser bug; still report it, never panic.
            let at = source
                .get(source.len().saturating_sub(rest_len)..)
                .unwrap_or("");
            Err(unexpected_error(&cx, at, "an item", None, None))
        }
        Err(nom::Err::Incomplete(_)) => Err(unexpected_error(&cx, "", "an item", None, None)),
    }
}

// ---------------------------------------------------------------------------
// Structure.
// ---------------------------------------------------------------------------

/// A whole file: an optional byte order mark, then items.
///
/// ```text
/// file = [ byte_order_mark ] , items ;
/// ```
fn file<'a>(cx: &Cx, input: &'a str) -> PResult<'a, File> {
    let (rest, _) = opt(byte_order_mark).parse(input)?;
    let (rest, items) = items(cx, rest, 0, None)?;
    Ok((rest, File { items }))
}

/// The UTF-8 byte order mark some editors put at the start of a file.
///
/// ```text
/// byte_order_mark = ? U+FEFF, only at the very start of the file ? ;
/// ```
fn byte_order_mark(input: &str) -> PResult<'_, &str> {
    tag("\u{feff}").parse(input)
}

/// The items of a file or a block. With `open` set (inside a block) the list
/// ends before a `}`; at the top level it ends at the end of the input.
///
/// ```text
/// items = { trivia , item , trivia , [ separator ] } , trivia ;
/// ```
fn items<'a>(cx: &Cx, input: &'a str, depth: usize, open: Option<Span>) -> PResult<'a, Vec<Item>> {
    let mut parsed = Vec::new();
    let mut rest = trivia(input);
    loop {
        match rest.chars().next() {
            None => {
                return match open {
                    Some(open) => fail(ParseError::UnclosedDelimiter {
                        open,
                        close: '}',
                        what: "block",
                        end: cx.span_len(rest, 0),
                        at_line_end: false,
                    }),
                    None => Ok((rest, parsed)),
                };
            }
            Some('}') if open.is_some() => {
                // Blocks hold a handful of items; dropping the growth slack
                // cuts the memory of a large file's tree by about a quarter.
                parsed.shrink_to_fit();
                return Ok((rest, parsed));
            }
            Some(close @ ('}' | ']')) => {
                return fail(ParseError::UnmatchedClose {
                    span: cx.span_len(rest, 1),
                    close,
                })
            }
            Some(_) => {}
        }
        let (after_item, parsed_item) = item(cx, rest, depth)?;
        parsed.push(parsed_item);
        let after_item = trivia(after_item);
        let (after_separator, _) = opt(separator).parse(after_item)?;
        rest = trivia(after_separator);
    }
}

/// An optional separator after an item.
///
/// ```text
/// separator = "," | ";" ;
/// ```
fn separator(input: &str) -> PResult<'_, char> {
    one_of(",;").parse(input)
}

/// One item. `route` and `inhibit` are keywords only where an item starts and
/// no `=` follows, so a field may still be called `route`.
///
/// ```text
/// item = route | inhibit | block | attribute ;
/// ```
fn item<'a>(cx: &Cx, input: &'a str, depth: usize) -> PResult<'a, Item> {
    let Ok((after_word, word)) = identifier_text(input) else {
        let help = if input.starts_with(['"', '\'']) {
            Some(
                "a block is written `kind \"name\" { ... }` and a field `name = value`".to_string(),
            )
        } else if input.starts_with('{') {
            Some("a block needs a kind before `{`, as in `labels { ... }`".to_string())
        } else {
            input
                .chars()
                .next()
                .filter(|c| *c == ',' || *c == ';')
                .map(|separator| format!("remove the extra `{separator}`"))
        };
        return Err(failure(unexpected_error(
            cx,
            input,
            "a field or block name",
            None,
            help,
        )));
    };
    let next = trivia(after_word);
    let assigns = next.starts_with('=');
    if word == "route" && !assigns {
        let (rest, parsed) = route(cx, input)?;
        return Ok((rest, Item::Route(parsed)));
    }
    if word == "inhibit" && !assigns {
        let (rest, parsed) = inhibit(cx, input)?;
        return Ok((rest, Item::Inhibit(parsed)));
    }
    match next.chars().next() {
        Some('=') => {
            let (rest, parsed) = attribute(cx, input, depth)?;
            Ok((rest, Item::Attribute(parsed)))
        }
        Some('{' | '"' | '\'') => {
            let (rest, parsed) = block(cx, input, depth)?;
            Ok((rest, Item::Block(parsed)))
        }
        _ => {
            let help = if next.starts_with(':') {
                Some(format!(
                    "fields are written `{word} = value`, with `=` rather than `:`"
                ))
            } else if next.starts_with(|c: char| c.is_ascii_digit() || c == '[' || c == '-') {
                let line = next.lines().next().unwrap_or("").trim_end();
                let shown: String = line.chars().take(40).collect();
                Some(format!("add `=`: `{word} = {shown}`"))
            } else if let Ok((after_name, name)) = identifier_text(next) {
                if trivia(after_name).starts_with('{') {
                    Some(format!(
                        "block names are quoted: `{word} \"{name}\" {{ ... }}`"
                    ))
                } else {
                    None
                }
            } else {
                None
            };
            Err(failure(unexpected_error(
                cx,
                next,
                "`=` or `{`",
                Some(word),
                help,
            )))
        }
    }
}

/// A block: a kind, an optional quoted name, and items in braces.
///
/// ```text
/// block = identifier , trivia , [ string , trivia ] , "{" , items , "}" ;
/// ```
fn block<'a>(cx: &Cx, input: &'a str, depth: usize) -> PResult<'a, Block> {
    let (rest, kind) = identifier(cx, input)?;
    let rest = trivia(rest);
    let (rest, name) = if rest.starts_with(['"', '\'']) {
        let (rest, name) = string(cx, rest)?;
        (trivia(rest), Some(name))
    } else {
        (rest, None)
    };
    if !rest.starts_with('{') {
        let after = match &name {
            Some(name) => format!("{:?}", name.node),
            None => kind.node.clone(),
        };
        let help = name.as_ref().map(|name| {
            format!(
                "if `{}` is a field, write `{} = {:?}`",
                kind.node, kind.node, name.node
            )
        });
        return Err(failure(unexpected_error(
            cx,
            rest,
            "`{`",
            Some(&after),
            help,
        )));
    }
    let open = cx.span_len(rest, 1);
    if depth + 1 > MAX_NESTING_DEPTH {
        return fail(ParseError::NestingTooDeep { span: open });
    }
    let (rest, parsed_items) = items(cx, &rest[1..], depth + 1, Some(open))?;
    // `items` with `open` set returns only in front of the closing brace.
    let (rest, _) = char('}').parse(rest)?;
    Ok((
        rest,
        Block {
            kind,
            name,
            items: parsed_items,
            span: cx.span(input, rest),
        },
    ))
}

/// A field: a name, `=` and a value.
///
/// ```text
/// attribute = identifier , trivia , "=" , trivia , value ;
/// ```
fn attribute<'a>(cx: &Cx, input: &'a str, depth: usize) -> PResult<'a, Attribute> {
    let (rest, key) = identifier(cx, input)?;
    let rest = trivia(rest);
    let equals = cx.span_len(rest, 1);
    let (after_equals, _) = char('=').parse(rest)?;
    let rest = trivia(after_equals);
    // `objective =` with the value forgotten, and the next line starting a
    // block or a route: the word there is not a value.
    let skipped = &after_equals[..after_equals.len() - rest.len()];
    if skipped.contains('\n') {
        if let Ok((after_word, word)) = identifier_text(rest) {
            let next = trivia(after_word);
            let starts_block = next.starts_with(['"', '\''])
                || (next.starts_with('{') && !after_word.starts_with('{'));
            if starts_block || word == "route" || word == "inhibit" {
                return fail(ParseError::MissingValue {
                    equals,
                    at: cx.span(rest, after_word),
                    found: format!("`{word}`, which starts the next item"),
                });
            }
        }
    }
    let value_start = rest;
    let (rest, parsed_value) = value(cx, value_start, depth, Some(equals))?;
    let span = key.span.to(parsed_value.span);
    let text_span = verbatim_text_span(value_start, &parsed_value);
    Ok((
        rest,
        Attribute {
            key,
            value: parsed_value,
            text_span,
            span,
        },
    ))
}

/// A notification route: label matchers, receivers, an optional `continue`,
/// and the time intervals that mute it or outside which it is muted.
///
/// ```text
/// route = "route" , trivia , "{" , trivia , [ matcher , { trivia , "," , trivia , matcher } , trivia , [ "," ] ] , trivia , "}" , trivia , "->" , trivia , string_list , [ trivia , "continue" ] , [ trivia , "mute_during" , trivia , string_list ] , [ trivia , "active_during" , trivia , string_list ] ;
/// ```
fn route<'a>(cx: &Cx, input: &'a str) -> PResult<'a, Route> {
    let (rest, _) = tag("route").parse(input)?;
    let rest = trivia(rest);
    if !rest.starts_with('{') {
        return Err(failure(unexpected_error(
            cx,
            rest,
            "`{`",
            Some("route"),
            Some("a route is written `route { severity = \"page\" } -> \"receiver\"`".to_string()),
        )));
    }
    let open = cx.span_len(rest, 1);
    let mut rest = trivia(&rest[1..]);
    let mut matchers = Vec::new();
    loop {
        if rest.starts_with('}') {
            break;
        }
        if rest.is_empty() {
            return fail(unclosed(cx, open, '}', "route matchers", rest));
        }
        let (after, parsed) = matcher(cx, rest)?;
        matchers.push(parsed);
        rest = trivia(after);
        if let Some(after_comma) = rest.strip_prefix(',') {
            rest = trivia(after_comma);
        } else if rest.is_empty() {
            return fail(unclosed(cx, open, '}', "route matchers", rest));
        } else if !rest.starts_with('}') {
            return Err(failure(unexpected_error(
                cx,
                rest,
                "`,` or `}`",
                None,
                Some("separate matchers with `,`".to_string()),
            )));
        }
    }
    let rest = trivia(&rest[1..]);
    let Ok((rest, _)) = tag::<_, _, Failure>("->").parse(rest) else {
        return Err(failure(unexpected_error(
            cx,
            rest,
            "`->`",
            Some("}"),
            Some(
                "name the receivers after the matchers: `route { ... } -> \"receiver\"`"
                    .to_string(),
            ),
        )));
    };
    let rest = trivia(rest);
    let (mut rest, receivers) = string_list(cx, rest, "a quoted receiver name")?;
    let mut continue_span = None;
    let after = trivia(rest);
    if let Some(after_keyword) = keyword(after, "continue") {
        if !trivia(after_keyword).starts_with(['=', '{', '"', '\'']) {
            continue_span = Some(cx.span(after, after_keyword));
            rest = after_keyword;
        }
    }
    let (rest, mute_during) = time_interval_clause(cx, rest, "mute_during")?;
    let (rest, active_during) = time_interval_clause(cx, rest, "active_during")?;
    Ok((
        rest,
        Route {
            matchers,
            receivers,
            continue_span,
            mute_during,
            active_during,
            span: cx.span(input, rest),
        },
    ))
}

/// `mute_during ["retraining"]` after a route. The keyword is the clause only
/// when a string or a list follows it, so the next item may still be a field
/// or a block of that name.
fn time_interval_clause<'a>(
    cx: &Cx,
    input: &'a str,
    word: &str,
) -> PResult<'a, Vec<Spanned<String>>> {
    let after = trivia(input);
    let Some(after_keyword) = keyword(after, word) else {
        return Ok((input, Vec::new()));
    };
    let list_start = trivia(after_keyword);
    if !list_start.starts_with(['"', '\'', '[']) {
        return Ok((input, Vec::new()));
    }
    string_list(cx, list_start, "a quoted time interval name")
}

/// One label matcher of a route.
///
/// ```text
/// matcher = identifier , trivia , match_op , trivia , string ;
/// ```
fn matcher<'a>(cx: &Cx, input: &'a str) -> PResult<'a, Matcher> {
    let Ok((rest, label)) = identifier(cx, input) else {
        return Err(failure(unexpected_error(
            cx,
            input,
            "a label name",
            None,
            None,
        )));
    };
    let rest = trivia(rest);
    let Ok((rest, op)) = match_op(rest) else {
        return Err(failure(unexpected_error(
            cx,
            rest,
            "`=`, `!=`, `=~` or `!~`",
            Some(&label.node),
            None,
        )));
    };
    let rest = trivia(rest);
    let (rest, matched) = quoted_value(cx, rest, op.as_str(), "a quoted label value")?;
    let span = label.span.to(matched.span);
    Ok((
        rest,
        Matcher {
            label,
            op,
            value: matched,
            span,
        },
    ))
}

/// The comparison of a route matcher.
///
/// ```text
/// match_op = "=~" | "!~" | "!=" | "=" ;
/// ```
fn match_op(input: &str) -> PResult<'_, MatchOp> {
    let (rest, op) = alt((tag("=~"), tag("!~"), tag("!="), tag("="))).parse(input)?;
    let op = match op {
        "=~" => MatchOp::Regex,
        "!~" => MatchOp::NotRegex,
        "!=" => MatchOp::NotEqual,
        _ => MatchOp::Equal,
    };
    Ok((rest, op))
}

/// An inhibition rule: alerts whose `label` is `source` mute those whose
/// `label` is one of the targets, when the `on` labels are equal.
///
/// ```text
/// inhibit = "inhibit" , trivia , identifier , trivia , string , trivia , "over" , trivia , string_list , trivia , "on" , trivia , identifier_list ;
/// ```
fn inhibit<'a>(cx: &Cx, input: &'a str) -> PResult<'a, Inhibit> {
    const SHAPE: &str =
        "an inhibition is written `inhibit severity \"page\" over \"ticket\" on [service]`";
    let (rest, _) = tag("inhibit").parse(input)?;
    let rest = trivia(rest);
    let Ok((rest, label)) = identifier(cx, rest) else {
        return Err(failure(unexpected_error(
            cx,
            rest,
            "a label name",
            Some("inhibit"),
            Some(SHAPE.to_string()),
        )));
    };
    let rest = trivia(rest);
    let (rest, source) = quoted_value(cx, rest, &label.node, "a quoted label value")?;
    let rest = trivia(rest);
    let Some(rest) = keyword(rest, "over") else {
        return Err(failure(unexpected_error(
            cx,
            rest,
            "`over`",
            None,
            Some(SHAPE.to_string()),
        )));
    };
    let rest = trivia(rest);
    let (rest, targets) = string_list(cx, rest, "a quoted label value")?;
    let rest = trivia(rest);
    let Some(rest) = keyword(rest, "on") else {
        return Err(failure(unexpected_error(
            cx,
            rest,
            "`on`",
            None,
            Some(SHAPE.to_string()),
        )));
    };
    let rest = trivia(rest);
    let (rest, equal) = identifier_list(cx, rest)?;
    Ok((
        rest,
        Inhibit {
            label,
            source,
            targets,
            equal,
            span: cx.span(input, rest),
        },
    ))
}

/// One string, or a non-empty list of strings: route receivers and inhibition targets.
///
/// ```text
/// string_list = string | "[" , trivia , string , { trivia , "," , trivia , string } , trivia , [ "," , trivia ] , "]" ;
/// ```
fn string_list<'a>(cx: &Cx, input: &'a str, what: &str) -> PResult<'a, Vec<Spanned<String>>> {
    if !input.starts_with('[') {
        let (rest, single) = quoted_value(cx, input, "", what)?;
        return Ok((rest, vec![single]));
    }
    let open = cx.span_len(input, 1);
    let mut rest = trivia(&input[1..]);
    let mut strings = Vec::new();
    loop {
        if rest.is_empty() {
            return fail(unclosed(cx, open, ']', "list", rest));
        }
        if rest.starts_with(']') && !strings.is_empty() {
            return Ok((&rest[1..], strings));
        }
        let (after, parsed) = quoted_value(cx, rest, "", what)?;
        strings.push(parsed);
        rest = trivia(after);
        if let Some(after_comma) = rest.strip_prefix(',') {
            rest = trivia(after_comma);
        } else if rest.is_empty() {
            return fail(unclosed(cx, open, ']', "list", rest));
        } else if !rest.starts_with(']') {
            return Err(failure(unexpected_error(
                cx,
                rest,
                "`,` or `]`",
                None,
                None,
            )));
        }
    }
}

/// A possibly empty list of label names.
///
/// ```text
/// identifier_list = "[" , trivia , [ identifier , { trivia , "," , trivia , identifier } , trivia , [ "," , trivia ] ] , "]" ;
/// ```
fn identifier_list<'a>(cx: &Cx, input: &'a str) -> PResult<'a, Vec<Spanned<String>>> {
    if !input.starts_with('[') {
        return Err(failure(unexpected_error(
            cx,
            input,
            "`[` and a list of label names",
            Some("on"),
            Some(
                "write the labels that must be equal as a list, as in `on [service, slo]`"
                    .to_string(),
            ),
        )));
    }
    let open = cx.span_len(input, 1);
    let mut rest = trivia(&input[1..]);
    let mut names = Vec::new();
    loop {
        if rest.is_empty() {
            return fail(unclosed(cx, open, ']', "list", rest));
        }
        if let Some(after) = rest.strip_prefix(']') {
            return Ok((after, names));
        }
        let Ok((after, name)) = identifier(cx, rest) else {
            return Err(failure(unexpected_error(
                cx,
                rest,
                "a label name",
                None,
                None,
            )));
        };
        names.push(name);
        rest = trivia(after);
        if let Some(after_comma) = rest.strip_prefix(',') {
            rest = trivia(after_comma);
        } else if rest.is_empty() {
            return fail(unclosed(cx, open, ']', "list", rest));
        } else if !rest.starts_with(']') {
            return Err(failure(unexpected_error(
                cx,
                rest,
                "`,` or `]`",
                None,
                None,
            )));
        }
    }
}

// ---------------------------------------------------------------------------
// Values.
// ---------------------------------------------------------------------------

/// A value. Literals that start with a digit are told apart by what follows
/// the number (longest match): `%` (percent), a byte unit, a duration unit,
/// ` per ` (count per window), or nothing (number).
///
/// ```text
/// value = string | list | per_window | percent | bytes | duration | number | boolean | selector ;
/// ```
fn value<'a>(
    cx: &Cx,
    input: &'a str,
    depth: usize,
    equals: Option<Span>,
) -> PResult<'a, Spanned<Value>> {
    let Some(first) = input.chars().next() else {
        return missing_value(cx, input, equals);
    };
    match first {
        '}' | ']' | ',' | ';' => missing_value(cx, input, equals),
        '"' | '\'' => {
            let (rest, text) = string(cx, input)?;
            Ok((rest, Spanned::new(text.span, Value::String(text.node))))
        }
        '[' => list(cx, input, depth),
        '0'..='9' => numeric_value(cx, input),
        '-' if input[1..].starts_with(|c: char| c.is_ascii_digit()) => numeric_value(cx, input),
        '.' if input[1..].starts_with(|c: char| c.is_ascii_digit()) => {
            Err(failure(unexpected_error(
                cx,
                input,
                "a value",
                None,
                Some(format!("write a leading zero: `0{}`", number_like_text(input))),
            )))
        }
        'a'..='z' | 'A'..='Z' | '_' | ':' => {
            if let Some(equals) = equals {
                // `objective =` followed by `window = 28d` on the next line:
                // the word is the next field's name, not a value.
                if let Ok((after_word, word)) = identifier_text(input) {
                    let next = trivia(after_word);
                    if next.starts_with('=') && !next.starts_with("=~") {
                        return fail(ParseError::MissingValue {
                            equals,
                            at: cx.span(input, after_word),
                            found: format!("the field name `{word}`"),
                        });
                    }
                }
            }
            if let Ok((rest, flag)) = boolean(cx, input) {
                return Ok((rest, flag));
            }
            selector(cx, input)
        }
        '{' => Err(failure(unexpected_error(
            cx,
            input,
            "a value",
            None,
            Some("a selector needs a metric name before `{`, as in `http_requests_total{job=\"api\"}`; a block is written `name { ... }` without `=`".to_string()),
        ))),
        '-' => Err(failure(unexpected_error(
            cx,
            input,
            "a value",
            None,
            Some("a minus sign must be followed by digits, as in `-0.5`".to_string()),
        ))),
        _ => Err(failure(unexpected_error(cx, input, "a value", None, None))),
    }
}

/// A list of values; lists may nest.
///
/// ```text
/// list = "[" , trivia , [ value , { trivia , "," , trivia , value } , trivia , [ "," , trivia ] ] , "]" ;
/// ```
fn list<'a>(cx: &Cx, input: &'a str, depth: usize) -> PResult<'a, Spanned<Value>> {
    let (after_open, _) = char('[').parse(input)?;
    let open = cx.span_len(input, 1);
    if depth + 1 > MAX_NESTING_DEPTH {
        return fail(ParseError::NestingTooDeep { span: open });
    }
    let mut rest = trivia(after_open);
    let mut values = Vec::new();
    loop {
        if rest.is_empty() {
            return fail(unclosed(cx, open, ']', "list", rest));
        }
        if let Some(after) = rest.strip_prefix(']') {
            return Ok((
                after,
                Spanned::new(cx.span(input, after), Value::List(values)),
            ));
        }
        if rest.starts_with([',', ';', '}']) {
            return Err(failure(unexpected_error(
                cx,
                rest,
                "a value or `]`",
                None,
                None,
            )));
        }
        let (after, element) = value(cx, rest, depth + 1, None)?;
        values.push(element);
        rest = trivia(after);
        if let Some(after_comma) = rest.strip_prefix(',') {
            rest = trivia(after_comma);
        } else if rest.is_empty() {
            return fail(unclosed(cx, open, ']', "list", rest));
        } else if !rest.starts_with(']') {
            return Err(failure(unexpected_error(
                cx,
                rest,
                "`,` or `]`",
                None,
                Some("separate list elements with `,`".to_string()),
            )));
        }
    }
}

/// Dispatches a literal that starts with a digit or `-digit` to the right
/// production, by what follows the number.
fn numeric_value<'a>(cx: &Cx, input: &'a str) -> PResult<'a, Spanned<Value>> {
    let after_number = &input[number_like_text(input).len()..];
    let suffix = unit_word(after_number);
    if suffix.is_empty() {
        if after_number.starts_with('%') {
            let (rest, parsed) = percent(cx, input)?;
            return Ok((rest, Spanned::new(cx.span(input, rest), parsed)));
        }
        if keyword(inline_space(after_number), "per").is_some() {
            let (rest, parsed) = per_window(cx, input)?;
            return Ok((rest, Spanned::new(cx.span(input, rest), parsed)));
        }
        let (rest, parsed) = number(cx, input)?;
        if let Some(error) = spaced_unit(cx, &parsed.node.text, rest) {
            return fail(error);
        }
        return Ok((rest, Spanned::new(parsed.span, Value::Number(parsed.node))));
    }
    if byte_unit(suffix).is_ok() {
        let (rest, parsed) = bytes(cx, input)?;
        return Ok((rest, Spanned::new(cx.span(input, rest), parsed)));
    }
    let (rest, parsed) = duration(cx, input)?;
    // `1h 30m`: a compound duration written with a space.
    let spaced = inline_space(rest);
    if spaced.len() != rest.len() {
        if let Ok((after_digits, _)) = digits(spaced) {
            let unit_text = unit_word(after_digits);
            if duration_unit(unit_text).is_ok() {
                let whole = &input[..input.len() - rest.len()];
                let continuation_len = spaced.len() - after_digits.len() + unit_text.len();
                let continuation = &spaced[..continuation_len];
                return fail(ParseError::InvalidDuration {
                    span: cx.span_len(spaced, continuation_len),
                    problem: "space inside a duration",
                    label: "the duration continues after a space".to_string(),
                    help: Some(format!("write `{whole}{continuation}` with no space")),
                });
            }
        }
    }
    Ok((
        rest,
        Spanned::new(parsed.span, Value::Duration(parsed.node)),
    ))
}

/// A count per time window, such as `100 per 5m`, on one line.
///
/// ```text
/// per_window = number , inline_space , "per" , trivia , duration ;
/// ```
fn per_window<'a>(cx: &Cx, input: &'a str) -> PResult<'a, Value> {
    let (rest, count) = number(cx, input)?;
    let rest = inline_space(rest);
    let Some(rest) = keyword(rest, "per") else {
        return Err(failure(unexpected_error(
            cx,
            rest,
            "`per`",
            Some(&count.node.text),
            None,
        )));
    };
    let rest = trivia(rest);
    if !rest.starts_with(|c: char| c.is_ascii_digit()) {
        let help = unit_word_at(rest)
            .and_then(suggest_unit)
            .filter(|unit| duration_unit(unit).is_ok())
            .map(|unit| {
                format!(
                    "write a number before the unit: `{} per 1{unit}`",
                    count.node.text
                )
            });
        return Err(failure(unexpected_error(
            cx,
            rest,
            "a duration such as `5m`",
            Some("per"),
            help,
        )));
    }
    let (rest, window) = duration(cx, rest)?;
    Ok((
        rest,
        Value::PerWindow {
            count: count.node,
            window,
        },
    ))
}

/// A percentage: a number directly followed by `%`.
///
/// ```text
/// percent = number , "%" ;
/// ```
fn percent<'a>(cx: &Cx, input: &'a str) -> PResult<'a, Value> {
    let (rest, parsed) = number(cx, input)?;
    let (rest, _) = char('%').parse(rest)?;
    Ok((rest, Value::Percent(parsed.node)))
}

/// A byte size: a number directly followed by a byte unit.
///
/// ```text
/// bytes = number , byte_unit ;
/// ```
fn bytes<'a>(cx: &Cx, input: &'a str) -> PResult<'a, Value> {
    let (rest, parsed) = number(cx, input)?;
    let (rest, unit) = byte_unit(rest)?;
    Ok((
        rest,
        Value::Bytes(super::ast::Bytes {
            number: parsed.node,
            unit,
        }),
    ))
}

/// A byte unit, matched as a whole word.
///
/// ```text
/// byte_unit = "B" | "KB" | "MB" | "GB" | "TB" | "KiB" | "MiB" | "GiB" | "TiB" ;
/// ```
fn byte_unit(input: &str) -> PResult<'_, ByteUnit> {
    let word = unit_word(input);
    BYTE_UNITS
        .iter()
        .find(|(name, _)| *name == word)
        .map(|(_, unit)| (&input[word.len()..], *unit))
        .ok_or(nom::Err::Error(Failure::Mismatch {
            rest_len: input.len(),
        }))
}

/// A duration: whole numbers with units, largest unit first, each unit at most
/// once, exact in milliseconds: `250ms`, `1h30m`, `28d`.
///
/// ```text
/// duration = digits , duration_unit , { digits , duration_unit } ;
/// ```
fn duration<'a>(cx: &Cx, input: &'a str) -> PResult<'a, Spanned<Duration>> {
    let number_text = number_like_text(input);
    if number_text.contains(['.', 'e', 'E', '-']) {
        return fail(non_integer_duration(cx, input, number_text));
    }
    let mut rest = input;
    let mut total_millis: i64 = 0;
    let mut previous_unit: Option<(&'static str, usize)> = None;
    let mut overflowed = false;
    loop {
        let (after_digits, count_text) = digits(rest)?;
        if after_digits.starts_with('.') {
            return fail(non_integer_duration(cx, rest, number_like_text(rest)));
        }
        let unit_text = unit_word(after_digits);
        if unit_text.is_empty() {
            if previous_unit.is_none() {
                if let Some(error) = spaced_unit(cx, count_text, after_digits) {
                    return fail(error);
                }
            }
            return fail(ParseError::InvalidDuration {
                span: cx.span(rest, after_digits),
                problem: "duration without a unit",
                label: "this number has no unit".to_string(),
                help: Some(format!(
                    "add a unit right after the number, as in `{count_text}m` or `{count_text}s` (units: ms s m h d w y)"
                )),
            });
        }
        let unit_span = cx.span_len(after_digits, unit_text.len());
        let Ok((after_unit, (unit_name, unit_millis, rank))) = duration_unit(unit_text) else {
            return fail(ParseError::UnknownUnit {
                span: unit_span,
                unit: unit_text.to_string(),
                number: count_text.to_string(),
                suggestion: suggest_unit(unit_text),
                spaced: false,
            });
        };
        debug_assert!(after_unit.is_empty(), "unit_word is a whole word");
        if let Some((previous_name, previous_rank)) = previous_unit {
            if rank <= previous_rank {
                return fail(ParseError::InvalidDuration {
                    span: unit_span,
                    problem: "duration units out of order",
                    label: if rank == previous_rank {
                        format!("`{unit_name}` appears twice")
                    } else {
                        format!("`{unit_name}` cannot follow `{previous_name}`")
                    },
                    help: Some(
                        "write the units from largest to smallest, each at most once, as in `1h30m`"
                            .to_string(),
                    ),
                });
            }
        }
        previous_unit = Some((unit_name, rank));
        match count_text
            .parse::<i64>()
            .ok()
            .and_then(|count| count.checked_mul(unit_millis))
            .and_then(|millis| millis.checked_add(total_millis))
        {
            Some(sum) => total_millis = sum,
            None => overflowed = true,
        }
        rest = &after_digits[unit_text.len()..];
        if !rest.starts_with(|c: char| c.is_ascii_digit()) {
            break;
        }
    }
    let span = cx.span(input, rest);
    if overflowed {
        return fail(ParseError::InvalidDuration {
            span,
            problem: "duration out of range",
            label: "this duration does not fit in 64-bit milliseconds".to_string(),
            help: Some("durations must be shorter than about 292 million years".to_string()),
        });
    }
    Ok((
        rest,
        Spanned::new(
            span,
            Duration {
                millis: total_millis,
            },
        ),
    ))
}

/// A duration unit, matched as a whole word; yields its name, its length in
/// milliseconds and its rank (0 for the largest).
///
/// ```text
/// duration_unit = "y" | "w" | "d" | "h" | "m" | "s" | "ms" ;
/// ```
fn duration_unit(input: &str) -> PResult<'_, (&'static str, i64, usize)> {
    let word = unit_word(input);
    DURATION_UNITS
        .iter()
        .enumerate()
        .find(|(_, (name, _))| *name == word)
        .map(|(rank, (name, millis))| (&input[word.len()..], (*name, *millis, rank)))
        .ok_or(nom::Err::Error(Failure::Mismatch {
            rest_len: input.len(),
        }))
}

/// A finite decimal number. `NaN` and `Inf` are not numbers here (they parse
/// as selectors, and the checker rejects them where a number is due).
///
/// ```text
/// number = [ "-" ] , digits , [ "." , digits ] , [ ( "e" | "E" ) , [ "+" | "-" ] , digits ] ;
/// ```
fn number<'a>(cx: &Cx, input: &'a str) -> PResult<'a, Spanned<Number>> {
    let (rest, text) = recognize((
        opt(char('-')),
        digits,
        opt((char('.'), digits)),
        opt((one_of("eE"), opt(one_of("+-")), digits)),
    ))
    .parse(input)?;
    if let Some(after_point) = rest.strip_prefix('.') {
        return Err(failure(unexpected_error(
            cx,
            after_point,
            "digits after the decimal point",
            None,
            Some(format!("write `{text}` or `{text}.0`")),
        )));
    }
    let span = cx.span(input, rest);
    let parsed = match text.parse::<f64>() {
        Ok(parsed) if parsed.is_finite() => parsed,
        _ => return fail(ParseError::NumberOutOfRange { span }),
    };
    Ok((
        rest,
        Spanned::new(
            span,
            Number {
                text: text.to_string(),
                value: parsed,
            },
        ),
    ))
}

/// One or more ASCII digits.
///
/// ```text
/// digits = ? one or more of "0" to "9" ? ;
/// ```
fn digits(input: &str) -> PResult<'_, &str> {
    take_while1(|c: char| c.is_ascii_digit()).parse(input)
}

/// `true` or `false`, as whole words and not the name of a selector with braces.
///
/// ```text
/// boolean = "true" | "false" ;
/// ```
fn boolean<'a>(cx: &Cx, input: &'a str) -> PResult<'a, Spanned<Value>> {
    let (rest, word) = metric_name(input)?;
    let flag = match word {
        "true" if !rest.starts_with('{') => true,
        "false" if !rest.starts_with('{') => false,
        _ => {
            return Err(nom::Err::Error(Failure::Mismatch {
                rest_len: input.len(),
            }))
        }
    };
    Ok((rest, Spanned::new(cx.span(input, rest), Value::Bool(flag))))
}

/// A PromQL vector selector, kept verbatim: a metric name, optionally followed
/// (with no space) by label matchers in braces. A bare identifier such as
/// `service` in `group_by = [service]` is a selector too.
///
/// ```text
/// selector = metric_name , [ label_matchers ] ;
/// ```
fn selector<'a>(cx: &Cx, input: &'a str) -> PResult<'a, Spanned<Value>> {
    let (rest, name) = metric_name(input)?;
    let rest = if rest.starts_with('{') {
        label_matchers(cx, rest)?.0
    } else {
        let spaced = inline_space(rest);
        if spaced.len() != rest.len() && spaced.starts_with('{') {
            return Err(failure(unexpected_error(
                cx,
                spaced,
                "the end of the value",
                Some(name),
                Some(format!(
                    "a selector's braces follow the metric name with no space: `{name}{{...}}`"
                )),
            )));
        }
        rest
    };
    let text = &input[..input.len() - rest.len()];
    Ok((
        rest,
        Spanned::new(cx.span(input, rest), Value::Selector(text.to_string())),
    ))
}

/// PromQL label matchers in braces, taken verbatim up to the first `}` outside
/// a quoted string, on one line. The checker parses them with promql-parser.
///
/// ```text
/// label_matchers = "{" , ? any characters but a newline, with "..." '...' and `...` quoted as in PromQL ? , "}" ;
/// ```
fn label_matchers<'a>(cx: &Cx, input: &'a str) -> PResult<'a, &'a str> {
    let (_, _) = char('{').parse(input)?;
    let open = cx.span_len(input, 1);
    let bytes = input.as_bytes();
    let mut index = 1;
    while index < bytes.len() {
        match bytes[index] {
            b'}' => return Ok((&input[index + 1..], &input[..index + 1])),
            b'\n' | b'\r' => {
                return fail(unclosed(cx, open, '}', "selector", &input[index..]).at_line_end());
            }
            quote @ (b'"' | b'\'' | b'`') => {
                let quote_start = index;
                index += 1;
                loop {
                    match bytes.get(index) {
                        None | Some(b'\n' | b'\r') => {
                            return fail(ParseError::UnterminatedString {
                                open: cx.span_len(&input[quote_start..], 1),
                                end: cx.span_len(&input[index..], 0),
                                at_newline: index < bytes.len(),
                            });
                        }
                        Some(b'\\') if quote != b'`' => {
                            // Skip the escaped byte, but never a line end or
                            // the end of the input, so `index` stays in bounds.
                            index += 1;
                            if !matches!(bytes.get(index), None | Some(b'\n' | b'\r')) {
                                index += 1;
                            }
                        }
                        Some(&byte) if byte == quote => {
                            index += 1;
                            break;
                        }
                        Some(_) => index += 1,
                    }
                }
            }
            _ => index += 1,
        }
    }
    fail(unclosed(cx, open, '}', "selector", ""))
}

/// A Prometheus metric name (identifiers plus `:`).
///
/// ```text
/// metric_name = ? an ASCII letter, "_" or ":" ? , { ? an ASCII letter or digit, "_" or ":" ? } ;
/// ```
fn metric_name(input: &str) -> PResult<'_, &str> {
    recognize((
        take_while1(|c: char| c.is_ascii_alphabetic() || c == '_' || c == ':'),
        take_while(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
    ))
    .parse(input)
}

/// A field name, block kind or label name.
///
/// ```text
/// identifier = ? an ASCII letter or "_" ? , { ? an ASCII letter or digit, or "_" ? } ;
/// ```
fn identifier<'a>(cx: &Cx, input: &'a str) -> PResult<'a, Spanned<String>> {
    let (rest, word) = identifier_text(input)?;
    Ok((rest, Spanned::new(cx.span(input, rest), word.to_string())))
}

/// The text of an identifier, without allocating: for lookahead.
fn identifier_text(input: &str) -> PResult<'_, &str> {
    recognize((
        take_while1(|c: char| c.is_ascii_alphabetic() || c == '_'),
        take_while(|c: char| c.is_ascii_alphanumeric() || c == '_'),
    ))
    .parse(input)
}

// ---------------------------------------------------------------------------
// Strings and trivia.
// ---------------------------------------------------------------------------

/// A string literal, with escapes or raw. The node is the decoded text; the span
/// includes the quotes.
///
/// ```text
/// string = quoted_string | raw_string | triple_quoted_string ;
/// ```
fn string<'a>(cx: &Cx, input: &'a str) -> PResult<'a, Spanned<String>> {
    if input.starts_with('\'') {
        raw_string(cx, input)
    } else if input.starts_with(TRIPLE_QUOTE) {
        triple_quoted_string(cx, input)
    } else {
        quoted_string(cx, input)
    }
}

const TRIPLE_QUOTE: &str = "\"\"\"";

/// A triple-quoted string taken verbatim, over any number of lines: a PromQL
/// expression keeps its own quotes and needs no escapes. It ends at the first
/// `"""`, so it cannot contain one.
///
/// ```text
/// triple_quoted_string = '"""' , { ? any character, newlines included, but no '"""' ? } , '"""' ;
/// ```
fn triple_quoted_string<'a>(cx: &Cx, input: &'a str) -> PResult<'a, Spanned<String>> {
    let rest = &input[TRIPLE_QUOTE.len()..];
    match rest.find(TRIPLE_QUOTE) {
        Some(text_len) => {
            let after = &rest[text_len + TRIPLE_QUOTE.len()..];
            Ok((
                after,
                Spanned::new(cx.span(input, after), rest[..text_len].to_string()),
            ))
        }
        None => fail(ParseError::UnterminatedString {
            open: cx.span_len(input, TRIPLE_QUOTE.len()),
            end: cx.span_len(&rest[rest.len()..], 0),
            at_newline: false,
        }),
    }
}

/// Where the text of a string value lies in the source, when it is written
/// verbatim: a single- or triple-quoted string, or a double-quoted one without
/// escapes. `None` for other values and for strings with escapes, whose text
/// positions do not map one to one onto the source.
fn verbatim_text_span(input: &str, value: &Spanned<Value>) -> Option<Span> {
    let Value::String(text) = &value.node else {
        return None;
    };
    let quote = if input.starts_with(TRIPLE_QUOTE) {
        TRIPLE_QUOTE.len()
    } else {
        1
    };
    let written = value.span.end - value.span.start;
    let start = value.span.start + quote as u32;
    (written as usize == text.len() + 2 * quote).then(|| Span {
        start,
        end: start + text.len() as u32,
    })
}

/// A double-quoted string with escapes, on one line.
///
/// ```text
/// quoted_string = '"' , { ? any character but '"', "\" and a newline ? | escape } , '"' ;
/// ```
fn quoted_string<'a>(cx: &Cx, input: &'a str) -> PResult<'a, Spanned<String>> {
    let (mut rest, _) = char('"').parse(input)?;
    let mut text = String::new();
    loop {
        let plain_len = rest.find(['"', '\\', '\n', '\r']).unwrap_or(rest.len());
        text.push_str(&rest[..plain_len]);
        rest = &rest[plain_len..];
        match rest.as_bytes().first() {
            Some(b'"') => {
                let rest = &rest[1..];
                return Ok((rest, Spanned::new(cx.span(input, rest), text)));
            }
            Some(b'\\') => {
                let (after, decoded) = escape(cx, rest, input)?;
                text.push(decoded);
                rest = after;
            }
            other => {
                return fail(ParseError::UnterminatedString {
                    open: cx.span_len(input, 1),
                    end: cx.span_len(rest, 0),
                    at_newline: other.is_some(),
                })
            }
        }
    }
}

/// An escape sequence inside a double-quoted string. `string_start` is the
/// opening quote, for the unterminated-string error of a final backslash.
///
/// ```text
/// escape = "\" , ( '"' | "\" | "n" | "r" | "t" | "u{" , ? 1 to 6 hex digits naming a Unicode scalar value ? , "}" ) ;
/// ```
fn escape<'a>(cx: &Cx, input: &'a str, string_start: &str) -> PResult<'a, char> {
    let (rest, _) = char('\\').parse(input)?;
    let Some(kind) = rest.chars().next() else {
        return fail(ParseError::UnterminatedString {
            open: cx.span_len(string_start, 1),
            end: cx.span_len(rest, 0),
            at_newline: false,
        });
    };
    let simple = match kind {
        '"' => Some('"'),
        '\\' => Some('\\'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        _ => None,
    };
    if let Some(decoded) = simple {
        return Ok((&rest[1..], decoded));
    }
    if kind != 'u' {
        let reason = if kind == '\n' || kind == '\r' {
            "a backslash cannot continue a string onto the next line".to_string()
        } else {
            format!("`\\{}` is not an escape", kind.escape_debug())
        };
        return fail(ParseError::InvalidEscape {
            span: cx.span_len(input, 1 + kind.len_utf8()),
            reason,
        });
    }
    let after_u = &rest[1..];
    let invalid = |len: usize, reason: &str| {
        fail(ParseError::InvalidEscape {
            span: cx.span_len(input, len),
            reason: reason.to_string(),
        })
    };
    let Some(after_brace) = after_u.strip_prefix('{') else {
        return invalid(
            2,
            "`\\u` must be followed by hex digits in braces, as in `\\u{1F600}`",
        );
    };
    let hex_len = after_brace
        .find(|c: char| !c.is_ascii_hexdigit())
        .unwrap_or(after_brace.len());
    let escape_len = 3 + hex_len;
    if !after_brace[hex_len..].starts_with('}') {
        return invalid(
            escape_len,
            "`\\u{` must be closed by `}` after 1 to 6 hex digits",
        );
    }
    if hex_len == 0 || hex_len > 6 {
        return invalid(
            escape_len + 1,
            "a `\\u{...}` escape takes 1 to 6 hex digits",
        );
    }
    let code_point = u32::from_str_radix(&after_brace[..hex_len], 16).unwrap_or(u32::MAX);
    match char::from_u32(code_point) {
        Some(decoded) => Ok((&after_brace[hex_len + 1..], decoded)),
        None => invalid(
            escape_len + 1,
            "not a Unicode scalar value (surrogates and values above 10FFFF are not characters)",
        ),
    }
}

/// A single-quoted string taken verbatim, on one line; it cannot contain `'`.
///
/// ```text
/// raw_string = "'" , { ? any character but "'" and a newline ? } , "'" ;
/// ```
fn raw_string<'a>(cx: &Cx, input: &'a str) -> PResult<'a, Spanned<String>> {
    let (rest, _) = char('\'').parse(input)?;
    let text_len = rest.find(['\'', '\n', '\r']).unwrap_or(rest.len());
    let after_text = &rest[text_len..];
    match after_text.as_bytes().first() {
        Some(b'\'') => {
            let after = &after_text[1..];
            Ok((
                after,
                Spanned::new(cx.span(input, after), rest[..text_len].to_string()),
            ))
        }
        other => fail(ParseError::UnterminatedString {
            open: cx.span_len(input, 1),
            end: cx.span_len(after_text, 0),
            at_newline: other.is_some(),
        }),
    }
}

/// Whitespace and comments between tokens. Never fails.
///
/// ```text
/// trivia = { " " | ? tab ? | ? carriage return ? | ? line feed ? | comment } ;
/// ```
fn trivia(input: &str) -> &str {
    let mut rest = input;
    loop {
        rest = rest.trim_start_matches([' ', '\t', '\r', '\n']);
        match comment(rest) {
            Ok((after, _)) => rest = after,
            Err(_) => return rest,
        }
    }
}

/// A comment, from `//` or `#` to the end of the line.
///
/// ```text
/// comment = ( "//" | "#" ) , { ? any character but a line feed ? } ;
/// ```
fn comment(input: &str) -> PResult<'_, &str> {
    recognize((alt((tag("//"), tag("#"))), take_while(|c: char| c != '\n'))).parse(input)
}

/// Spaces and tabs only: what may separate tokens that must share a line.
///
/// ```text
/// inline_space = { " " | ? tab ? } ;
/// ```
fn inline_space(input: &str) -> &str {
    input.trim_start_matches([' ', '\t'])
}

// ---------------------------------------------------------------------------
// Helpers (not productions).
// ---------------------------------------------------------------------------

const BYTE_UNITS: [(&str, ByteUnit); 9] = [
    ("B", ByteUnit::B),
    ("KB", ByteUnit::KB),
    ("MB", ByteUnit::MB),
    ("GB", ByteUnit::GB),
    ("TB", ByteUnit::TB),
    ("KiB", ByteUnit::KiB),
    ("MiB", ByteUnit::MiB),
    ("GiB", ByteUnit::GiB),
    ("TiB", ByteUnit::TiB),
];

/// Spelled-out units people write, and the unit they mean.
const UNIT_ALIASES: [(&str, &str); 27] = [
    ("min", "m"),
    ("mins", "m"),
    ("minute", "m"),
    ("minutes", "m"),
    ("sec", "s"),
    ("secs", "s"),
    ("second", "s"),
    ("seconds", "s"),
    ("hr", "h"),
    ("hrs", "h"),
    ("hour", "h"),
    ("hours", "h"),
    ("day", "d"),
    ("days", "d"),
    ("wk", "w"),
    ("week", "w"),
    ("weeks", "w"),
    ("yr", "y"),
    ("year", "y"),
    ("years", "y"),
    ("msec", "ms"),
    ("msecs", "ms"),
    ("millis", "ms"),
    ("millisecond", "ms"),
    ("milliseconds", "ms"),
    ("byte", "B"),
    ("bytes", "B"),
];

/// Largest edit distance at which an unknown unit still gets a "did you mean".
/// Units are one to three letters, so anything further is a different word.
const UNIT_SUGGESTION_MAX_DISTANCE: usize = 1;

/// The closest known unit to `word`, if any is close enough.
pub(crate) fn suggest_unit(word: &str) -> Option<&'static str> {
    let all_units = || {
        DURATION_UNITS
            .iter()
            .map(|(name, _)| *name)
            .chain(BYTE_UNITS.iter().map(|(name, _)| *name))
    };
    if let Some(unit) = all_units().find(|unit| *unit == word) {
        return Some(unit);
    }
    if let Some(unit) = all_units().find(|unit| unit.eq_ignore_ascii_case(word)) {
        return Some(unit);
    }
    let lower = word.to_lowercase();
    if let Some((_, unit)) = UNIT_ALIASES.iter().find(|(alias, _)| *alias == lower) {
        return Some(unit);
    }
    if word.chars().count() < 2 {
        return None;
    }
    all_units()
        .map(|unit| (strsim::damerau_levenshtein(word, unit), unit))
        .filter(|(distance, _)| *distance <= UNIT_SUGGESTION_MAX_DISTANCE)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, unit)| unit)
}

/// The run of letters, digits and `_` at the start of `input` (a unit glued to
/// a number, such as `ms`, `GiB` or `mins`). Stops at digits only after letters
/// so that `1h30m` splits into `h`, `30`, `m`.
fn unit_word(input: &str) -> &str {
    let len = input
        .find(|c: char| !(c.is_alphabetic() || c == '_'))
        .unwrap_or(input.len());
    &input[..len]
}

/// A word at the start of `input` that could be a unit written apart.
fn unit_word_at(input: &str) -> Option<&str> {
    let word = unit_word(input);
    (!word.is_empty()).then_some(word)
}

/// The text of the number-like prefix of `input` (sign, digits, fraction,
/// exponent), without validating it.
fn number_like_text(input: &str) -> &str {
    recognize((
        opt(char::<_, Failure>('-')),
        take_while(|c: char| c.is_ascii_digit()),
        opt((char('.'), digits)),
        opt((one_of("eE"), opt(one_of("+-")), digits)),
    ))
    .parse(input)
    .map_or("", |(_, text)| text)
}

/// `keyword(input, "per")`: the rest after `word` when `input` starts with it
/// as a whole word.
fn keyword<'a>(input: &'a str, word: &str) -> Option<&'a str> {
    let rest = input.strip_prefix(word)?;
    (!rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')).then_some(rest)
}

/// After a number without a unit: a word on the same line that does not start
/// a new item (`5 mins`, `5 m`) is a unit written apart from its number.
fn spaced_unit(cx: &Cx, number_text: &str, after_number: &str) -> Option<ParseError> {
    let spaced = inline_space(after_number);
    if spaced.len() == after_number.len() {
        return None;
    }
    if spaced.starts_with('%') {
        return Some(unexpected_error(
            cx,
            spaced,
            "the end of the value",
            Some(number_text),
            Some(format!(
                "write the percent sign right after the number: `{number_text}%`"
            )),
        ));
    }
    let word = unit_word_at(spaced)?;
    if ["per", "route", "inhibit"].contains(&word) {
        return None;
    }
    if trivia(&spaced[word.len()..]).starts_with(['=', '{', '"', '\'']) {
        return None;
    }
    Some(ParseError::UnknownUnit {
        span: cx.span_len(spaced, word.len()),
        unit: word.to_string(),
        number: number_text.to_string(),
        suggestion: suggest_unit(word),
        spaced: true,
    })
}

/// The error for `1.5h`, `-5m` or `1e3s`: durations are whole numbers of each unit.
fn non_integer_duration(cx: &Cx, input: &str, number_text: &str) -> ParseError {
    let after_number = &input[number_text.len()..];
    let unit_text = unit_word(after_number);
    let span = cx.span_len(input, number_text.len() + unit_text.len());
    let Ok((_, (unit_name, unit_millis, _))) = duration_unit(unit_text) else {
        return if unit_text.is_empty() {
            ParseError::InvalidDuration {
                span,
                problem: "duration without a unit",
                label: "this number has no unit".to_string(),
                help: Some("write a whole number with a unit, such as `5m`".to_string()),
            }
        } else {
            ParseError::UnknownUnit {
                span: cx.span_len(after_number, unit_text.len()),
                unit: unit_text.to_string(),
                number: number_text.to_string(),
                suggestion: suggest_unit(unit_text),
                spaced: false,
            }
        };
    };
    if number_text.starts_with('-') {
        return ParseError::InvalidDuration {
            span,
            problem: "negative duration",
            label: "durations cannot be negative".to_string(),
            help: Some("remove the `-`".to_string()),
        };
    }
    let help = exact_millis(number_text, unit_millis)
        .filter(|millis| *millis >= 0)
        .and_then(|millis| {
            if millis == 0 {
                return Some("write `0s`".to_string());
            }
            DURATION_UNITS
                .iter()
                .find(|(_, length)| millis % i128::from(*length) == 0)
                .map(|(name, length)| format!("write `{}{name}`", millis / i128::from(*length)))
        })
        .unwrap_or_else(|| {
            "durations have millisecond precision; write a whole number of a smaller unit"
                .to_string()
        });
    ParseError::InvalidDuration {
        span,
        problem: "duration with a fractional number",
        label: format!(
            "a duration takes a whole number of each unit, not `{number_text}{unit_name}`"
        ),
        help: Some(help),
    }
}

/// `number_text` (unsigned, decimal, maybe with an exponent) times
/// `unit_millis`, exactly, when it is a whole number of milliseconds.
fn exact_millis(number_text: &str, unit_millis: i64) -> Option<i128> {
    let (mantissa, exponent) = match number_text.find(['e', 'E']) {
        Some(index) => (
            &number_text[..index],
            number_text[index + 1..].parse::<i32>().ok()?,
        ),
        None => (number_text, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_text = format!("{whole}{fraction}");
    if digits_text.len() > 30 {
        return None;
    }
    let numerator = digits_text
        .parse::<i128>()
        .ok()?
        .checked_mul(i128::from(unit_millis))?;
    if numerator == 0 {
        return Some(0);
    }
    // Powers of ten are taken with checked_pow, never by a loop, and in i64 so
    // that no exponent can overflow: the exponent comes from the input
    // (`0e1111111111s` once made a loop of a billion steps).
    let scale = i64::try_from(fraction.len()).ok()? - i64::from(exponent);
    let power = 10i128.checked_pow(u32::try_from(scale.unsigned_abs()).ok()?)?;
    if scale < 0 {
        return numerator.checked_mul(power);
    }
    (numerator % power == 0).then_some(numerator / power)
}

/// A quoted string where the grammar wants one (matcher values, receiver
/// names); a bare word there gets a "quote it" hint.
fn quoted_value<'a>(
    cx: &Cx,
    input: &'a str,
    after: &str,
    what: &str,
) -> PResult<'a, Spanned<String>> {
    if input.starts_with(['"', '\'']) {
        return string(cx, input);
    }
    let word = input
        .find(|c: char| !(c.is_ascii_alphanumeric() || "_-.:*".contains(c)))
        .map_or(input, |len| &input[..len]);
    let help = (!word.is_empty()).then(|| format!("quote it: `\"{word}\"`"));
    Err(failure(unexpected_error(
        cx,
        input,
        what,
        (!after.is_empty()).then_some(after),
        help,
    )))
}

/// The error for a missing value after `=` (or an unexpected token in a list).
fn missing_value<'a, T>(cx: &Cx, input: &'a str, equals: Option<Span>) -> PResult<'a, T> {
    match equals {
        Some(equals) => {
            let (found, len) = describe_token(input);
            fail(ParseError::MissingValue {
                equals,
                at: cx.span_len(input, len),
                found,
            })
        }
        None => Err(failure(unexpected_error(cx, input, "a value", None, None))),
    }
}

fn unclosed(cx: &Cx, open: Span, close: char, what: &'static str, at: &str) -> ParseError {
    ParseError::UnclosedDelimiter {
        open,
        close,
        what,
        end: cx.span_len(at, 0),
        at_line_end: false,
    }
}

impl ParseError {
    /// Marks an unclosed delimiter as ending at a line end rather than the end of the file.
    fn at_line_end(self) -> ParseError {
        match self {
            ParseError::UnclosedDelimiter {
                open,
                close,
                what,
                end,
                ..
            } => ParseError::UnclosedDelimiter {
                open,
                close,
                what,
                end,
                at_line_end: true,
            },
            other => other,
        }
    }
}

/// An "expected X, found Y" error at the start of `rest`; a character that is
/// not part of the language at all gets its own, clearer error.
fn unexpected_error(
    cx: &Cx,
    rest: &str,
    expected: &str,
    after: Option<&str>,
    help: Option<String>,
) -> ParseError {
    if let Some(character) = rest.chars().next() {
        let known = character.is_ascii_alphanumeric() || "_\"'{}[]=!~,;-.%:#/>".contains(character);
        if !known {
            return ParseError::UnexpectedCharacter {
                span: cx.span_len(rest, character.len_utf8()),
                character,
            };
        }
    }
    let (found, len) = describe_token(rest);
    ParseError::UnexpectedToken {
        expected: expected.to_string(),
        after: after.map(str::to_string),
        found,
        span: cx.span_len(rest, len),
        help,
    }
}

/// A short description of the token at the start of `rest`, and its length in bytes.
fn describe_token(rest: &str) -> (String, usize) {
    let Some(first) = rest.chars().next() else {
        return ("end of file".to_string(), 0);
    };
    if first == '"' || first == '\'' {
        return ("a string".to_string(), 1);
    }
    if first.is_ascii_digit()
        || (first == '-' && rest[1..].starts_with(|c: char| c.is_ascii_digit()))
    {
        let text = number_like_text(rest);
        let suffix = unit_word(&rest[text.len()..]);
        let len = text.len() + suffix.len();
        return (format!("`{}`", &rest[..len]), len);
    }
    if first.is_ascii_alphabetic() || first == '_' {
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        return (format!("`{}`", &rest[..len]), len);
    }
    for pair in ["->", "=~", "!=", "!~"] {
        if rest.starts_with(pair) {
            return (format!("`{pair}`"), 2);
        }
    }
    (describe_char(first), first.len_utf8())
}

fn failure(error: ParseError) -> nom::Err<Failure> {
    nom::Err::Failure(Failure::Syntax(Box::new(error)))
}

fn fail<'a, T>(error: ParseError) -> PResult<'a, T> {
    Err(failure(error))
}
