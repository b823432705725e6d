//! Metric selectors as PromQL: the common `name{label="value"}` form read by a
//! small reader, everything else and every error by `promql-parser`, and the
//! cache of both by selector text, filled on all cores before the check starts.
//!
//! Invariant: when the small reader answers, its selector is the one
//! promql-parser gives (a test compares them on 300,000 token soups); it never
//! words an error itself.

use std::collections::HashSet;

use promql_parser::label::MatchOp as ParsedOp;
use promql_parser::parser::Expr;

use crate::compiler::ir;
use crate::compiler::syntax::ast;
use crate::prometheus::model::names::{is_label_name_byte, is_metric_name_byte};

/// A selector as promql-parser read it, before the mlslo rules.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ParsedSelector {
    pub metric: String,
    pub matchers: Vec<ir::LabelMatcher>,
}

#[derive(Clone, Debug)]
pub(crate) enum SelectorFailure {
    /// promql-parser's message.
    Syntax(String),
    /// What the text is instead of a plain selector.
    NotPlain(&'static str),
}

/// Parsing is cached per run by text: promql-parser compiles every regex
/// matcher (about 100 µs each), and the same selector text recurs across the
/// objectives of large, templated files.
pub(crate) type SelectorCache =
    std::collections::HashMap<String, Result<ParsedSelector, SelectorFailure>>;

/// Every selector text in `files`, parsed on all cores. The checker reads
/// objectives one after another and would parse each selector on one core: at
/// ~40k instructions a parse, that was most of the serial part of a large build.
pub(crate) fn parse_selectors_in_parallel(files: &[ast::File]) -> SelectorCache {
    fn collect<'a>(items: &'a [ast::Item], texts: &mut HashSet<&'a str>) {
        for item in items {
            match item {
                ast::Item::Attribute(attribute) => collect_value(&attribute.value.node, texts),
                ast::Item::Block(block) => collect(&block.items, texts),
                ast::Item::Route(_) | ast::Item::Inhibit(_) => {}
            }
        }
    }
    fn collect_value<'a>(value: &'a ast::Value, texts: &mut HashSet<&'a str>) {
        match value {
            ast::Value::Selector(text) => {
                texts.insert(text);
            }
            ast::Value::List(elements) => {
                for element in elements {
                    collect_value(&element.node, texts);
                }
            }
            _ => {}
        }
    }
    let mut texts = HashSet::new();
    for file in files {
        collect(&file.items, &mut texts);
    }
    let texts: Vec<&str> = texts.into_iter().collect();
    // Below this many selectors a thread costs more than it saves.
    const SELECTORS_PER_THREAD_AT_LEAST: usize = 256;
    let parsed = crate::base::parallel::in_parallel_chunks(
        &texts,
        SELECTORS_PER_THREAD_AT_LEAST,
        |chunk: &[&str]| {
            chunk
                .iter()
                .map(|text| parse_plain_selector(text))
                .collect()
        },
    );
    texts.into_iter().map(str::to_owned).zip(parsed).collect()
}

pub(crate) fn parse_plain_selector(text: &str) -> Result<ParsedSelector, SelectorFailure> {
    match parse_simple_selector(text) {
        Some(simple) => Ok(simple),
        None => parse_with_promql_parser(text),
    }
}

fn parse_with_promql_parser(text: &str) -> Result<ParsedSelector, SelectorFailure> {
    let expression =
        crate::prometheus::promql::parse::parse_promql(text).map_err(SelectorFailure::Syntax)?;
    let vector = match expression {
        Expr::VectorSelector(vector)
            if vector.offset.is_none()
                && vector.at.is_none()
                && vector.matchers.or_matchers.is_empty() =>
        {
            vector
        }
        other => return Err(SelectorFailure::NotPlain(describe_expression(&other))),
    };
    let metric = vector.name.clone().ok_or(SelectorFailure::NotPlain(
        "a selector without a metric name",
    ))?;
    let matchers = vector.matchers.matchers.iter().map(label_matcher).collect();
    Ok(ParsedSelector { metric, matchers })
}

/// The common selector, `name{label op "value", ...}` with plain identifiers and
/// double-quoted values without escapes, read without promql-parser (its LR parse
/// was most of the check of a large input). `None` for anything else (keywords,
/// other quotes, escapes, `__name__`, comments, an invalid regex...), which the
/// full parse reads and words the errors of; when this returns a selector, it is
/// the one the full parse gives (tested against promql-parser).
fn parse_simple_selector(text: &str) -> Option<ParsedSelector> {
    let bytes = text.as_bytes();
    let mut at = skip_space(bytes, 0);
    let metric = identifier(bytes, &mut at, true)?;
    at = skip_space(bytes, at);
    let mut matchers = Vec::new();
    if at < bytes.len() {
        if bytes[at] != b'{' {
            return None;
        }
        at = skip_space(bytes, at + 1);
        while bytes.get(at) != Some(&b'}') {
            let label = identifier(bytes, &mut at, false)?;
            if label == promql_parser::label::METRIC_NAME {
                return None;
            }
            at = skip_space(bytes, at);
            let op = match (bytes.get(at)?, bytes.get(at + 1)) {
                (b'=', Some(b'~')) => ir::MatchOp::Regex,
                (b'!', Some(b'~')) => ir::MatchOp::NotRegex,
                (b'!', Some(b'=')) => ir::MatchOp::NotEqual,
                (b'=', _) => ir::MatchOp::Equal,
                _ => return None,
            };
            at = skip_space(bytes, at + if op == ir::MatchOp::Equal { 1 } else { 2 });
            if bytes.get(at) != Some(&b'"') {
                return None;
            }
            let length = bytes[at + 1..]
                .iter()
                .position(|byte| matches!(byte, b'"' | b'\\') || *byte < b' ')?;
            if bytes[at + 1 + length] != b'"' {
                return None;
            }
            let value = &text[at + 1..at + 1 + length];
            if matches!(op, ir::MatchOp::Regex | ir::MatchOp::NotRegex)
                && !crate::prometheus::promql::parse::pattern_compiles(value)
            {
                return None;
            }
            matchers.push(ir::LabelMatcher {
                label: label.to_owned(),
                op,
                value: value.to_owned(),
            });
            at = skip_space(bytes, at + length + 2);
            match bytes.get(at)? {
                b',' => at = skip_space(bytes, at + 1),
                b'}' => {}
                _ => return None,
            }
        }
        at = skip_space(bytes, at + 1);
    }
    (at == bytes.len()).then(|| ParsedSelector {
        metric: metric.to_owned(),
        matchers,
    })
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while bytes
        .get(at)
        .is_some_and(|byte| matches!(byte, b' ' | b'\t' | b'\n' | b'\r'))
    {
        at += 1;
    }
    at
}

/// A metric name (`:` allowed) or label name at `at`, moving past it; `None` for a
/// PromQL keyword or number word, which the lexer reads as something else.
fn identifier<'a>(bytes: &'a [u8], at: &mut usize, metric: bool) -> Option<&'a str> {
    let start = *at;
    let allowed = |byte: u8, first: bool| {
        if metric {
            is_metric_name_byte(byte, first)
        } else {
            is_label_name_byte(byte, first)
        }
    };
    if !bytes.get(start).is_some_and(|byte| allowed(*byte, true)) {
        return None;
    }
    let mut end = start + 1;
    while bytes.get(end).is_some_and(|byte| allowed(*byte, false)) {
        end += 1;
    }
    let word = std::str::from_utf8(&bytes[start..end]).ok()?;
    let lower = word.to_ascii_lowercase();
    if PROMQL_WORDS.contains(&lower.as_str()) {
        return None;
    }
    *at = end;
    Some(word)
}

/// promql-parser's keywords (matched without case) and number words: none of them
/// lexes as a plain identifier.
const PROMQL_WORDS: [&str; 35] = [
    "and",
    "or",
    "unless",
    "atan2",
    "sum",
    "avg",
    "count",
    "min",
    "max",
    "group",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "count_values",
    "quantile",
    "limitk",
    "limit_ratio",
    "offset",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "smoothed",
    "anchored",
    "fill",
    "fill_left",
    "fill_right",
    "start",
    "end",
    "inf",
    "nan",
];

fn describe_expression(expression: &Expr) -> &'static str {
    match expression {
        Expr::VectorSelector(vector) if vector.offset.is_some() => "a selector with `offset`",
        Expr::VectorSelector(vector) if vector.at.is_some() => "a selector with `@`",
        Expr::VectorSelector(_) => "a selector with `or` between matcher sets",
        Expr::MatrixSelector(_) => "a range selector",
        Expr::Call(_) => "a function call",
        Expr::Aggregate(_) => "an aggregation",
        Expr::Binary(_) => "a binary expression",
        Expr::NumberLiteral(_) => "a number",
        Expr::StringLiteral(_) => "a string",
        Expr::Paren(_) => "a parenthesised expression",
        Expr::Subquery(_) => "a subquery",
        Expr::Unary(_) => "a negation",
        _ => "another kind of expression",
    }
}

/// A matcher of the PromQL parser as the IR's: the one translation between the two.
pub(crate) fn label_matcher(matcher: &promql_parser::label::Matcher) -> ir::LabelMatcher {
    ir::LabelMatcher {
        label: matcher.name.clone(),
        op: match &matcher.op {
            ParsedOp::Equal => ir::MatchOp::Equal,
            ParsedOp::NotEqual => ir::MatchOp::NotEqual,
            ParsedOp::Re(_) => ir::MatchOp::Regex,
            ParsedOp::NotRe(_) => ir::MatchOp::NotRegex,
        },
        value: matcher.value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whenever the hand-written reader answers, promql-parser answers the same: on
    /// common forms, on every keyword, and on 300,000 token soups.
    #[test]
    fn the_simple_reader_agrees_with_promql_parser() {
        let agrees = |text: &str| match parse_simple_selector(text) {
            Some(simple) => {
                assert_eq!(
                    parse_with_promql_parser(text).ok(),
                    Some(simple),
                    "{text:?}"
                );
                true
            }
            None => false,
        };
        for text in [
            r#"http_requests_total{job="api", code=~"5..", path!="/x", le!~"1|2"}"#,
            r#" a:b_c { x = "" , y =~ ".*" , } "#,
            "up",
            "up{}",
            "up\n{\ta=\"\u{e9}\"}",
        ] {
            assert!(agrees(text), "{text:?} should take the simple path");
        }
        for word in PROMQL_WORDS {
            for text in [
                word.to_string(),
                format!("{word}{{a=\"b\"}}"),
                format!("x{{{word}=\"b\"}}"),
                word.to_uppercase(),
            ] {
                assert!(!agrees(&text), "{text:?}");
            }
        }
        const TOKENS: [&str; 44] = [
            "foo",
            "sum",
            "Inf",
            "NaN",
            "rate",
            "x:y",
            "_a",
            "a1",
            "{",
            "}",
            "{",
            "}",
            ",",
            " ",
            "\n",
            "=",
            "!=",
            "=~",
            "!~",
            "\"v\"",
            "\"5..\"",
            "\"(\"",
            "\"a\\\"b\"",
            "'q'",
            "`r`",
            "__name__",
            "on",
            "by",
            "#c",
            "offset",
            "5m",
            "[5m]",
            "\"\"",
            "\".*\"",
            "le",
            ":",
            "0",
            "1e3",
            "\"\\d\"",
            "(",
            ")",
            "\"x{2}\"",
            "@",
            "\"\u{7f}\"",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |bound: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % bound as u64) as usize
        };
        let mut simple = 0;
        for round in 0..300_000 {
            let mut text = String::new();
            if round % 2 == 0 {
                // Shaped like a selector, so that many reach the end of the reader.
                text.push_str(TOKENS[next(8)]);
                text.push('{');
                for _ in 0..next(4) {
                    text.push_str(TOKENS[[4, 5, 6, 25, 26, 34][next(6)]]);
                    text.push_str(TOKENS[15 + next(4)]);
                    text.push_str(TOKENS[[19, 20, 21, 22, 23, 32, 33, 38, 41, 43][next(10)]]);
                    text.push_str(TOKENS[[12, 12, 13, 14][next(4)]]);
                }
                text.push('}');
            } else {
                for _ in 0..1 + next(10) {
                    text.push_str(TOKENS[next(TOKENS.len())]);
                }
            }
            simple += usize::from(agrees(&text));
        }
        assert!(simple > 20_000, "{simple}");
    }
}
