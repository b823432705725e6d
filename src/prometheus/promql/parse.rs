//! PromQL parsing, the one way into `promql-parser` for the whole crate: the plain
//! parse ([`parse_promql`]), the parse as one Prometheus version accepts it
//! ([`parse_query`]), whether a regex matcher's pattern compiles, and a refused
//! query's error as Prometheus' parser words and places it ([`prometheus_parse_error`]).
//!
//! Each distinct regex pattern is compiled once per thread: promql-parser builds a
//! fresh `Regex` for every `=~`/`!~` it meets, which was a third of `mlslo lint`'s
//! time on a large rule file where the same few patterns (`code=~"5.."`) recur in
//! every rule. How: every `=~`/`!~` followed by a string literal without escapes is
//! rewritten to `=`/`!=` with a value marked by `SITE_MARK` and the site's number;
//! after the parse, each marked matcher gets its regex back from the cache.
//!
//! Literals are read from promql-parser's token stream before the parse, because
//! promql-parser and Prometheus disagree on them. Prometheus reads a number with Go's
//! `strconv.ParseFloat`, which refuses `1e400` as out of range, where Rust's parse
//! gives infinity; and promql-parser panics on a number in a duration's place too large
//! for a `Duration` (`foo[1e300]`). Prometheus 2 further has no numbers in a
//! duration's place (`foo[300]`, `foo offset 300`) and no durations in a number's
//! place (`vector(5m)`), which Prometheus 3 and promql-parser accept.
//!
//! Invariants: [`parse_promql`] equals `promql_parser::parser::parse` of the same
//! text, except that it refuses the literals above that every Prometheus refuses
//! (tested on every query of the conformance files): whenever anything does not
//! add up (a parse error, a site not found exactly once, a changed value, `__name__`,
//! a pattern that does not compile, a selector that now matches everything), the
//! original text is parsed the plain way, so errors are promql-parser's own.
//! promql-parser's function table is global: `holt_winters` is registered before
//! the first semantics-aware parse, and [`parse_query`] refuses the function the
//! chosen version lacks.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Once;
use std::time::Duration;

use lrpar::{Lexeme, Lexer, NonStreamingLexer};
use promql_parser::label::{MatchOp, Matcher, Matchers};
use promql_parser::parser::token::{
    TokenId, T_COLON, T_DURATION, T_EQL_REGEX, T_LEFT_BRACKET, T_NUMBER, T_OFFSET, T_SUB,
};
use promql_parser::parser::value::ValueType;
use promql_parser::parser::{Expr, VectorSelector};

use super::error::EvalError;
use super::Semantics;
use crate::prometheus::model::go_quote;

/// Marks a rewritten matcher's value; a query that already contains it is parsed
/// the plain way, so a marked value can only come from the rewrite.
const SITE_MARK: char = '\u{7f}';

/// Patterns already compiled by this thread, by pattern text; the compiled form is
/// the one promql-parser builds (anchored, with its fallback for `{` repeats).
type RegexCache = HashMap<String, Option<regex::Regex>>;

thread_local! {
    static COMPILED_PATTERNS: RefCell<RegexCache> = RefCell::new(HashMap::new());
}

/// A regex matcher in the query text: its operator and its literal's content.
struct RegexSite {
    negated: bool,
    pattern: String,
}

/// Parses `query` as `promql_parser::parser::parse` does, compiling each regex
/// pattern once per thread, and refusing the number literals Go cannot read.
pub fn parse_promql(query: &str) -> Result<Expr, String> {
    refuse_literals(query, None)?;
    parse_checked_literals(query)
}

fn parse_checked_literals(query: &str) -> Result<Expr, String> {
    match rewrite_regex_sites(query) {
        Some((rewritten, sites)) => promql_parser::parser::parse(&rewritten)
            .ok()
            .and_then(|mut expr| restore_regex_matchers(&mut expr, &sites).then_some(expr))
            .map_or_else(|| promql_parser::parser::parse(query), Ok),
        None => promql_parser::parser::parse(query),
    }
}

/// Parses a query as the chosen semantics accepts it: under V2 `holt_winters`
/// is known and `double_exponential_smoothing` is not; under V3 the reverse.
pub fn parse_query(query: &str, semantics: Semantics) -> Result<Expr, EvalError> {
    register_holt_winters();
    refuse_literals(query, Some(semantics)).map_err(EvalError::Parse)?;
    let expr = parse_checked_literals(query).map_err(EvalError::Parse)?;
    let unknown = match semantics {
        Semantics::V2 => "double_exponential_smoothing",
        Semantics::V3 => "holt_winters",
    };
    if calls_function(&expr, unknown) {
        return Err(EvalError::Parse(format!(
            "unknown function with name \"{unknown}\""
        )));
    }
    Ok(expr)
}

/// Where a literal stands, as the token before it says.
#[derive(Clone, Copy, PartialEq)]
enum LiteralPlace {
    Number,
    Range,
    SubqueryStep,
    Offset,
}

/// Prometheus' message for the first literal of `query` it refuses (see
/// [`first_refused_literal`]).
fn refuse_literals(query: &str, semantics: Option<Semantics>) -> Result<(), String> {
    match first_refused_literal(query, semantics) {
        Some((_, message)) => Err(message),
        None => Ok(()),
    }
}

/// The first literal of `query` that Prometheus refuses (see the module doc): its
/// byte offset, where Prometheus' parser places the error, and Prometheus' message;
/// `None` when there is none or the query does not lex (the parse then reports
/// promql-parser's own error). Under `None` only what every Prometheus refuses;
/// under `Some(Semantics::V2)` also what Prometheus 2 refuses.
fn first_refused_literal(query: &str, semantics: Option<Semantics>) -> Option<(usize, String)> {
    // Every number has a digit but `Inf` and `NaN`, which have an `n`.
    let may_have_literals = query
        .bytes()
        .any(|byte| byte.is_ascii_digit() || byte.eq_ignore_ascii_case(&b'n'));
    if !may_have_literals {
        return None;
    }
    let Ok(lexer) = promql_parser::parser::lexer(query) else {
        return None;
    };
    let mut before: [Option<TokenId>; 2] = [None, None];
    for lexeme in lexer.iter() {
        let Ok(lexeme) = lexeme else {
            return None;
        };
        let token = lexeme.tok_id();
        let text = lexer.span_str(lexeme.span());
        let refused = |message: String| Some((lexeme.span().start(), message));
        let place = match before {
            [_, Some(T_LEFT_BRACKET)] => LiteralPlace::Range,
            [_, Some(T_COLON)] => LiteralPlace::SubqueryStep,
            [_, Some(T_OFFSET)] | [Some(T_OFFSET), Some(T_SUB)] => LiteralPlace::Offset,
            _ => LiteralPlace::Number,
        };
        before = [before[1], Some(token)];
        let prometheus_2 = semantics == Some(Semantics::V2);
        if token == T_NUMBER {
            // Prometheus 2's grammar refuses the token before reading its value.
            if place != LiteralPlace::Number && prometheus_2 {
                return refused(number_in_duration_place(text, place));
            }
            let value = match go_parse_number(text) {
                Ok(value) => value,
                Err(message) => return refused(message),
            };
            if place != LiteralPlace::Number && Duration::try_from_secs_f64(value).is_err() {
                return refused(format!("duration out of range: {text:?}"));
            }
        } else if token == T_DURATION && place == LiteralPlace::Number && prometheus_2 {
            return refused(format!("unexpected duration {text:?}"));
        }
    }
    None
}

/// The value Prometheus reads from a number token, or its error where Go's
/// `strconv.ParseFloat` refuses the text and promql-parser does not: a decimal
/// number beyond the float range. Other malformed numbers promql-parser refuses
/// itself; their value here does not matter.
fn go_parse_number(text: &str) -> Result<f64, String> {
    let value = text.parse::<f64>().unwrap_or(0.0);
    let spelled_infinite = text.eq_ignore_ascii_case("inf");
    if value.is_infinite() && !spelled_infinite {
        return Err(format!(
            "error parsing number: strconv.ParseFloat: parsing {text:?}: value out of range"
        ));
    }
    Ok(value)
}

/// Prometheus 2's message for a number where its grammar wants a duration.
fn number_in_duration_place(text: &str, place: LiteralPlace) -> String {
    match place {
        LiteralPlace::Range => "missing unit character in duration".to_string(),
        LiteralPlace::SubqueryStep => {
            format!("unexpected number {text:?} in subquery selector, expected duration or \"]\"")
        }
        _ => format!("unexpected number {text:?} in offset, expected duration"),
    }
}

/// Makes promql-parser know Prometheus 2's `holt_winters`, once per process.
fn register_holt_winters() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // Registration fails only if the name were built in, which
        // promql-parser 0.11 does not do; V2 queries would then still parse.
        let _ = promql_parser::parser::register_extra_functions(vec![
            promql_parser::parser::Function::new(
                "holt_winters",
                vec![ValueType::Matrix, ValueType::Scalar, ValueType::Scalar],
                0,
                ValueType::Vector,
                false,
            ),
        ]);
    });
}

/// Whether `expr` calls the function `name` anywhere.
fn calls_function(expr: &Expr, name: &str) -> bool {
    match expr {
        Expr::Call(call) => {
            call.func.name == name || call.args.args.iter().any(|arg| calls_function(arg, name))
        }
        Expr::Aggregate(aggregate) => {
            calls_function(&aggregate.expr, name)
                || aggregate
                    .param
                    .as_ref()
                    .is_some_and(|param| calls_function(param, name))
        }
        Expr::Unary(unary) => calls_function(&unary.expr, name),
        Expr::Binary(binary) => {
            calls_function(&binary.lhs, name) || calls_function(&binary.rhs, name)
        }
        Expr::Paren(paren) => calls_function(&paren.expr, name),
        Expr::Subquery(subquery) => calls_function(&subquery.expr, name),
        _ => false,
    }
}

/// The query with its regex matchers turned into marked equality matchers, or
/// `None` when there is nothing to rewrite.
fn rewrite_regex_sites(query: &str) -> Option<(String, Vec<RegexSite>)> {
    if query.contains(SITE_MARK) || !(query.contains("=~") || query.contains("!~")) {
        return None;
    }
    let bytes = query.as_bytes();
    let mut rewritten = String::with_capacity(query.len() + 16);
    let mut sites = Vec::new();
    let mut copied_up_to = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' | b'`' => i = string_literal_end(bytes, i)?,
            b'#' => {
                i = bytes[i..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(bytes.len(), |n| i + n);
            }
            b'=' | b'!' if bytes.get(i + 1) == Some(&b'~') => {
                let operator_start = i;
                let literal_start = i + 2 + leading_whitespace(&bytes[i + 2..]);
                i += 2;
                if !matches!(bytes.get(literal_start), Some(b'"' | b'\'' | b'`')) {
                    continue;
                }
                let literal_end = string_literal_end(bytes, literal_start)?;
                i = literal_end;
                let content = &query[literal_start + 1..literal_end - 1];
                if content.contains('\\') {
                    continue;
                }
                let negated = bytes[operator_start] == b'!';
                rewritten.push_str(&query[copied_up_to..operator_start]);
                rewritten.push_str(if negated { "!=" } else { "=" });
                rewritten.push_str(&query[operator_start + 2..literal_end - 1]);
                rewritten.push(SITE_MARK);
                rewritten.push_str(&sites.len().to_string());
                rewritten.push_str(&query[literal_end - 1..literal_end]);
                copied_up_to = literal_end;
                sites.push(RegexSite {
                    negated,
                    pattern: content.to_string(),
                });
            }
            _ => i += 1,
        }
    }
    if sites.is_empty() {
        return None;
    }
    rewritten.push_str(&query[copied_up_to..]);
    Some((rewritten, sites))
}

/// The index just past the string literal opening at `start`, as promql-parser's
/// lexer reads it (a backslash escapes the next character in every quote style);
/// `None` when it does not end.
fn string_literal_end(bytes: &[u8], start: usize) -> Option<usize> {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            byte if byte == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

fn leading_whitespace(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|b| b.is_ascii_whitespace()).count()
}

/// Gives every marked matcher its regex back; false when the parse cannot be
/// trusted to equal the plain one (see the module invariants).
fn restore_regex_matchers(expr: &mut Expr, sites: &[RegexSite]) -> bool {
    let mut restored = vec![false; sites.len()];
    let mut trusted = true;
    visit_selectors(expr, &mut |selector| {
        trusted &= restore_in_selector(selector, sites, &mut restored);
    });
    trusted && restored.iter().all(|found| *found)
}

fn restore_in_selector(
    selector: &mut VectorSelector,
    sites: &[RegexSite],
    restored: &mut [bool],
) -> bool {
    let Matchers {
        matchers,
        or_matchers,
    } = &mut selector.matchers;
    let mut touched = false;
    for matcher in matchers.iter_mut().chain(or_matchers.iter_mut().flatten()) {
        let Some((pattern, index)) = matcher.value.rsplit_once(SITE_MARK) else {
            continue;
        };
        let Some(site_index) = index.parse::<usize>().ok().filter(|n| *n < sites.len()) else {
            return false;
        };
        let site = &sites[site_index];
        let expected_op = matches!(
            (&matcher.op, site.negated),
            (MatchOp::Equal, false) | (MatchOp::NotEqual, true)
        );
        if !expected_op
            || restored[site_index]
            || pattern != site.pattern
            || matcher.name == promql_parser::label::METRIC_NAME
        {
            return false;
        }
        let Some(op) = compiled_match_op(&site.pattern, site.negated) else {
            return false;
        };
        matcher.op = op;
        matcher.value = site.pattern.clone();
        restored[site_index] = true;
        touched = true;
    }
    // promql-parser rejects a name-less selector whose matchers all match the empty
    // string; with `=` in place of `=~` that check could not see the pattern.
    !(touched && selector.name.is_none() && selector.matchers.is_empty_matchers())
}

/// Whether promql-parser accepts `pattern` in a regex matcher (cached per thread).
pub fn pattern_compiles(pattern: &str) -> bool {
    compiled_match_op(pattern, false).is_some()
}

/// The operator promql-parser builds for `=~ pattern` (or `!~`), from the cache.
fn compiled_match_op(pattern: &str, negated: bool) -> Option<MatchOp> {
    let regex = COMPILED_PATTERNS.with(|cache| {
        cache
            .borrow_mut()
            .entry(pattern.to_string())
            .or_insert_with(|| {
                Matcher::new_matcher(T_EQL_REGEX, String::new(), pattern.to_string())
                    .ok()
                    .and_then(|matcher| match matcher.op {
                        MatchOp::Re(regex) => Some(regex),
                        _ => None,
                    })
            })
            .clone()
    })?;
    Some(if negated {
        MatchOp::NotRe(regex)
    } else {
        MatchOp::Re(regex)
    })
}

fn visit_selectors(expr: &mut Expr, visit: &mut dyn FnMut(&mut VectorSelector)) {
    match expr {
        Expr::VectorSelector(selector) => visit(selector),
        Expr::MatrixSelector(matrix) => visit(&mut matrix.vs),
        Expr::Aggregate(aggregate) => {
            if let Some(param) = &mut aggregate.param {
                visit_selectors(param, visit);
            }
            visit_selectors(&mut aggregate.expr, visit);
        }
        Expr::Unary(unary) => visit_selectors(&mut unary.expr, visit),
        Expr::Binary(binary) => {
            visit_selectors(&mut binary.lhs, visit);
            visit_selectors(&mut binary.rhs, visit);
        }
        Expr::Paren(paren) => visit_selectors(&mut paren.expr, visit),
        Expr::Subquery(subquery) => visit_selectors(&mut subquery.expr, visit),
        Expr::Call(call) => {
            for arg in &mut call.args.args {
                visit_selectors(arg, visit);
            }
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}

// Prometheus' wording of parse errors.
//
// promql-parser reports a syntax error as "invalid promql query", without position, and
// words some others differently from Prometheus' parser; promtool prints Prometheus'
// `LINE:COL: parse error: MESSAGE`. The mapped messages are listed in
// `prometheus_message`; every other message keeps promql-parser's words. The position
// is Prometheus' where the message names the place (a token, the end of input); where
// Prometheus points at a node the message does not identify (a binary expression, a
// function's argument), the first candidate in the query is taken.

/// The text Prometheus 2.42's parser gives for `query`, which promql-parser refused with
/// `message`: `LINE:COL: parse error: MESSAGE`, as promtool prints it.
pub fn prometheus_parse_error(query: &str, message: &str) -> String {
    let (offset, text) = prometheus_parse_error_offset(query, message);
    format!("{} parse error: {text}", go_position(query, offset))
}

/// Where Prometheus' parser places the error promql-parser gave as `message`
/// for `query` (a byte offset of `query`), and Prometheus' words for it.
pub fn prometheus_parse_error_offset(query: &str, message: &str) -> (usize, String) {
    let tokens = tokenize(query);
    prometheus_message(query, &tokens, message)
}

/// Where Prometheus places the error (a byte offset of `query`) and its message.
fn prometheus_message(query: &str, tokens: &[Token], message: &str) -> (usize, String) {
    let end = query.len();
    // A refused literal is placed at its own token, as Prometheus' lexer places it.
    for semantics in [Some(Semantics::V2), None] {
        if let Some((offset, refused)) = first_refused_literal(query, semantics) {
            if refused == message {
                return (offset, refused);
            }
        }
    }
    if message == PROMQL_PARSER_SYNTAX_ERROR {
        return unexpected_token(query, tokens);
    }
    if message == "unexpected end of input inside brackets" {
        return (end, "unclosed left bracket".to_string());
    }
    if message.starts_with("unexpected end of input") || message == "unclosed left parenthesis" {
        return (end, message.to_string());
    }
    if message.starts_with("unexpected right parenthesis") {
        return (
            unmatched_right_parenthesis_end(query, tokens).unwrap_or(0),
            message.to_string(),
        );
    }
    if let Some(label) = message
        .strip_prefix("label '")
        .and_then(|rest| rest.strip_suffix("' must not occur in ON and GROUP clause at once"))
    {
        let operator = tokens
            .iter()
            .zip(tokens.iter().skip(1))
            .find(|(operator, on)| {
                operator.kind == TokenKind::Operator && matches!(on.text(query), "on" | "ignoring")
            })
            .map_or(0, |(operator, _)| operator.start);
        return (
            operator,
            format!(
                "label {} must not occur in ON and GROUP clause at once",
                go_quote::quote(label)
            ),
        );
    }
    if let Some(function) = message
        .strip_prefix("unknown function with name '")
        .and_then(|rest| rest.strip_suffix('\''))
    {
        return (
            function_start(query, tokens, function),
            format!("unknown function with name {}", go_quote::quote(function)),
        );
    }
    if let Some((function, rest)) = message
        .strip_prefix("expected ")
        .and_then(|rest| rest.split_once(" argument(s) in call to '"))
        .and_then(|(count, rest)| {
            let (function, got) = rest.split_once("', ")?;
            Some((
                function,
                format!(
                    "expected {count} argument(s) in call to {}, {got}",
                    go_quote::quote(function)
                ),
            ))
        })
    {
        return (function_start(query, tokens, function), rest);
    }
    if let Some((function, text)) = message
        .strip_prefix("expected type ")
        .and_then(|rest| rest.split_once(" in call to function '"))
        .and_then(|(expected, rest)| {
            let (function, got) = rest.split_once("', got ")?;
            Some((
                function,
                format!(
                    "expected type {} in call to function {}, got {}",
                    go_value_type(expected),
                    go_quote::quote(function),
                    go_value_type(got)
                ),
            ))
        })
    {
        // Prometheus points at the argument; which one is not in promql-parser's
        // message, so the first is named.
        let call = function_start(query, tokens, function);
        let argument = tokens
            .iter()
            .position(|token| token.start == call)
            .and_then(|index| tokens.get(index + 2))
            .map_or(call, |token| token.start);
        return (argument, text);
    }
    if let Some(operator) = message
        .strip_prefix("set operator '")
        .and_then(|rest| rest.strip_suffix("' not allowed in binary scalar expression"))
    {
        return (
            0,
            format!(
                "set operator {} not allowed in binary scalar expression",
                go_quote::quote(operator)
            ),
        );
    }
    if message == "comparisons between scalars must use BOOL modifier" {
        let operator = tokens
            .iter()
            .find(|token| matches!(token.text(query), "==" | "!=" | "<" | "<=" | ">" | ">="))
            .map_or(0, |token| token.start);
        return (operator, message.to_string());
    }
    if let Some(pattern) = message.strip_prefix("illegal regex for ") {
        if let Some(text) = go_regexp_error(pattern) {
            return (regex_matcher_start(query, tokens, pattern), text);
        }
    }
    (0, message.to_string())
}

/// Prometheus' name of a value type where promql-parser uses its own.
fn go_value_type(promql_parser_name: &str) -> &str {
    match promql_parser_name {
        "matrix" => "range vector",
        "vector" => "instant vector",
        other => other,
    }
}

/// Where a call of `function` starts: its name.
fn function_start(query: &str, tokens: &[Token], function: &str) -> usize {
    tokens
        .windows(2)
        .find(|pair| pair[0].text(query) == function && pair[1].text(query) == "(")
        .map_or(0, |pair| pair[0].start)
}

/// promql-parser's one message for every syntax error.
const PROMQL_PARSER_SYNTAX_ERROR: &str = "invalid promql query";

/// Go's `ParseErr` position: line and column (in bytes, from 1) of `offset`.
fn go_position(query: &str, offset: usize) -> String {
    let before = &query.as_bytes()[..offset.min(query.len())];
    let line = 1 + before.iter().filter(|b| **b == b'\n').count();
    let column = match before.iter().rposition(|b| *b == b'\n') {
        Some(newline) => offset - newline,
        None => offset + 1,
    };
    format!("{line}:{column}:")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TokenKind {
    Identifier,
    MetricIdentifier,
    Keyword,
    Aggregator,
    Operator,
    Number,
    Duration,
    String,
    Punctuation,
}

#[derive(Clone, Copy, Debug)]
struct Token {
    start: usize,
    end: usize,
    kind: TokenKind,
}

impl Token {
    fn text<'q>(&self, query: &'q str) -> &'q str {
        &query[self.start..self.end]
    }

    /// Go's `Item.desc()`: how an unexpected item is named.
    fn describe(&self, query: &str) -> String {
        let text = self.text(query);
        let quoted = |text: &str| {
            if text.chars().count() > 10 {
                let head: String = text.chars().take(10).collect();
                format!("{}...", go_quote::quote(&head))
            } else {
                go_quote::quote(text)
            }
        };
        match self.kind {
            TokenKind::Identifier => format!("identifier {}", go_quote::quote(text)),
            TokenKind::MetricIdentifier => format!("metric identifier {}", go_quote::quote(text)),
            TokenKind::Number => format!("number {}", quoted(text)),
            TokenKind::Duration => format!("duration {}", quoted(text)),
            TokenKind::String => format!("string {}", quoted(text)),
            TokenKind::Keyword => format!("<{}>", text.to_ascii_lowercase()),
            TokenKind::Aggregator => format!("<aggr:{}>", text.to_ascii_lowercase()),
            TokenKind::Operator => format!("<op:{}>", text.to_ascii_lowercase()),
            TokenKind::Punctuation => go_quote::quote(text),
        }
    }
}

const AGGREGATORS: &[&str] = &[
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
];
const KEYWORDS: &[&str] = &[
    "offset",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
];
const WORD_OPERATORS: &[&str] = &["and", "or", "unless", "atan2"];

/// PromQL's tokens as Prometheus' lexer splits them, comments and spaces left out; an
/// unterminated string runs to the end.
fn tokenize(query: &str) -> Vec<Token> {
    let bytes = query.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let byte = bytes[i];
        let kind = match byte {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' => {
                i = bytes[i..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(bytes.len(), |n| i + n);
                continue;
            }
            b'"' | b'\'' | b'`' => {
                i = string_literal_end(bytes, i).unwrap_or(bytes.len());
                TokenKind::String
            }
            b'0'..=b'9' | b'.' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.') {
                    i += 1;
                }
                let text = &query[start..i];
                if text.ends_with(|c: char| c.is_ascii_alphabetic())
                    && !text.starts_with("0x")
                    && !text.contains(['e', 'E'])
                {
                    TokenKind::Duration
                } else {
                    TokenKind::Number
                }
            }
            b if b.is_ascii_alphabetic() || b == b'_' || b == b':' => {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b':')
                {
                    i += 1;
                }
                let word = query[start..i].to_ascii_lowercase();
                if AGGREGATORS.contains(&word.as_str()) {
                    TokenKind::Aggregator
                } else if KEYWORDS.contains(&word.as_str()) {
                    TokenKind::Keyword
                } else if WORD_OPERATORS.contains(&word.as_str()) {
                    TokenKind::Operator
                } else if matches!(word.as_str(), "inf" | "nan") {
                    TokenKind::Number
                } else if word.contains(':') {
                    TokenKind::MetricIdentifier
                } else {
                    TokenKind::Identifier
                }
            }
            _ => {
                let two = query.get(i..i + 2).unwrap_or("");
                if matches!(two, "==" | "!=" | "<=" | ">=" | "=~" | "!~") {
                    i += 2;
                } else {
                    i += query[i..].chars().next().map_or(1, char::len_utf8);
                }
                match &query[start..i] {
                    "+" | "-" | "*" | "/" | "%" | "^" | "==" | "!=" | "<=" | "<" | ">=" | ">"
                    | "=~" | "!~" => TokenKind::Operator,
                    _ => TokenKind::Punctuation,
                }
            }
        };
        tokens.push(Token {
            start,
            end: i,
            kind,
        });
    }
    tokens
}

/// A syntax error: the first token after which no query can be completed, or the end
/// of input when every token could continue. Which token that is, is asked of
/// promql-parser with a few completions of each prefix.
fn unexpected_token(query: &str, tokens: &[Token]) -> (usize, String) {
    let failing = (0..tokens.len()).find(|&n| !completes(query, &tokens[..=n]));
    let (offset, described, before) = match failing {
        Some(n) => (tokens[n].start, tokens[n].describe(query), &tokens[..n]),
        None => (query.len(), "end of input".to_string(), tokens),
    };
    let inside_braces = before
        .iter()
        .rev()
        .map(|token| token.text(query))
        .find(|text| matches!(*text, "{" | "}"))
        == Some("{");
    let previous = before.last();
    let context = match previous
        .map(|token| token.text(query).to_ascii_lowercase())
        .as_deref()
    {
        Some("@") => " in @, expected timestamp",
        Some("offset") => " in offset, expected duration",
        Some("by" | "without") => " in grouping opts, expected \"(\"",
        _ if inside_braces && previous.is_some_and(|token| token.kind == TokenKind::String) => {
            " in label matching, expected \",\" or \"}\""
        }
        _ => "",
    };
    (offset, format!("unexpected {described}{context}"))
}

/// Whether the query up to the end of `prefix` can be completed into one that parses.
fn completes(query: &str, prefix: &[Token]) -> bool {
    let Some(last) = prefix.last() else {
        return true;
    };
    let mut open = Vec::new();
    for token in prefix {
        match token.text(query) {
            "(" => open.push(')'),
            "[" => open.push(']'),
            "{" => open.push('}'),
            ")" | "]" | "}" if open.pop().is_none() => return false,
            _ => {}
        }
    }
    let closing: String = open.iter().rev().collect();
    let text = &query[..last.end];
    [
        "", " x", " 1", "5m", " 5m", " \"x\"", "=\"x\"", " (x)", " (x) x", " (x) (x)", "x) (x",
        ") (x", " x)", ":5m",
    ]
    .iter()
    .any(|completion| {
        // A type error (`sum(rate( x))`) comes after the syntax was accepted.
        match promql_parser::parser::parse(&format!("{text}{completion}{closing}")) {
            Ok(_) => true,
            Err(message) => {
                message != PROMQL_PARSER_SYNTAX_ERROR
                    && !message.starts_with("unexpected ")
                    && !message.starts_with("unclosed ")
            }
        }
    })
}

/// The end of the first `)` that closes nothing, where Prometheus' lexer reports it.
fn unmatched_right_parenthesis_end(query: &str, tokens: &[Token]) -> Option<usize> {
    let mut depth = 0usize;
    for token in tokens {
        match token.text(query) {
            "(" => depth += 1,
            ")" if depth == 0 => return Some(token.end),
            ")" => depth -= 1,
            _ => {}
        }
    }
    None
}

/// Go's `regexp/syntax` error for a pattern Rust's parser refuses, for the error kinds
/// whose Go wording is known: `error parsing regexp: CODE: `TEXT``. Prometheus compiles
/// the pattern anchored, `^(?:PATTERN)$`, which some messages quote.
fn go_regexp_error(pattern: &str) -> Option<String> {
    use regex_syntax::ast::ErrorKind;
    let error = regex_syntax::ast::parse::Parser::new()
        .parse(pattern)
        .err()?;
    let anchored = format!("^(?:{pattern})$");
    let span = error.span();
    let at_fault = match pattern.get(span.start.offset..span.end.offset) {
        Some("") | None => pattern
            .get(span.start.offset..)
            .and_then(|rest| rest.chars().next().map(|c| &rest[..c.len_utf8()]))
            .unwrap_or(""),
        Some(text) => text,
    };
    let (code, text) = match error.kind() {
        ErrorKind::RepetitionMissing => ("missing argument to repetition operator", at_fault),
        ErrorKind::RepetitionCountInvalid => ("invalid repeat count", at_fault),
        ErrorKind::GroupUnclosed => ("missing closing )", anchored.as_str()),
        ErrorKind::GroupUnopened => ("unexpected )", anchored.as_str()),
        ErrorKind::EscapeUnrecognized => ("invalid escape sequence", at_fault),
        ErrorKind::ClassUnclosed => (
            "missing closing ]",
            anchored
                .get("^(?:".len() + span.start.offset..)
                .unwrap_or(""),
        ),
        _ => return None,
    };
    Some(format!("error parsing regexp: {code}: `{text}`"))
}

/// Where Prometheus reports a matcher's bad regex: at the matcher's label name.
fn regex_matcher_start(query: &str, tokens: &[Token], pattern: &str) -> usize {
    tokens
        .windows(3)
        .find(|window| {
            matches!(window[1].text(query), "=~" | "!~")
                && window[2].kind == TokenKind::String
                && go_quote::unquote(window[2].text(query)).as_deref() == Some(pattern)
        })
        .map_or(0, |window| window[0].start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_same_as_plain_parse(query: &str) {
        assert_eq!(
            parse_promql(query),
            promql_parser::parser::parse(query),
            "{query}"
        );
    }

    #[test]
    fn equals_the_plain_parse_on_tricky_queries() {
        for query in [
            r#"sum by (job) (rate(http_requests_total{code=~"5..", job!~'api|web'}[5m]))"#,
            r#"a{x=~"1"} + b{x="1"} / c{x!~"1"} - d{x!="1"}"#,
            "foo{a=~`raw.*`}",
            "foo{a =~ \n \"spaced\"}",
            r#"foo{a=~"with \\d escape"}"#,
            r#"foo{a=~"x", b=~"x"} or bar{a=~"x"}"#,
            r#"{a=~".*"}"#,
            r#"{a=~".*", b=~".+"}"#,
            r#"{a=~".*" or b=~""}"#,
            r#"{a=~"x" or b=~"y"}"#,
            r#"{__name__=~"job:.*"}"#,
            r#"foo{__name__=~"x"}"#,
            r#"foo{a=~"x("}"#,
            r#"foo{a=~"x{2,"}"#,
            "foo{a=~\"x\" # =~ \"y\"\n}",
            r#"label_replace(up{a=~"x"}, "b", "=~", "c", "(.*)")"#,
            r#"foo{a=~"unterminated}"#,
            r#"foo =~ "x""#,
            r#"topk(scalar(x{a=~"1"}), y{a=~"2"})"#,
            r#"max_over_time(rate(x{a=~"1"}[5m])[1h:1m]) @ 100 offset 5m"#,
            "foo{a=~\"x\u{7f}0\"}",
            "foo{a=~\"é.*\"}",
            r#"-x{a!~""}"#,
        ] {
            assert_same_as_plain_parse(query);
        }
    }

    /// Positions and messages as promtool 2.42 prints them for these rules.
    #[test]
    fn refused_literals_are_placed_at_their_token_as_promtool_places_them() {
        for (query, expected) in [
            (
                "vector(1e400)",
                r#"1:8: parse error: error parsing number: strconv.ParseFloat: parsing "1e400": value out of range"#,
            ),
            (
                "up[300]",
                "1:4: parse error: missing unit character in duration",
            ),
            (
                "up offset 300",
                r#"1:11: parse error: unexpected number "300" in offset, expected duration"#,
            ),
            (
                "up[5m:300]",
                r#"1:7: parse error: unexpected number "300" in subquery selector, expected duration or "]""#,
            ),
            (
                "vector(5m)",
                r#"1:8: parse error: unexpected duration "5m""#,
            ),
            (
                "rate(up[1e300])",
                "1:9: parse error: missing unit character in duration",
            ),
        ] {
            let message = match parse_query(query, Semantics::V2) {
                Err(EvalError::Parse(message)) => message,
                other => panic!("{query}: {other:?}"),
            };
            assert_eq!(prometheus_parse_error(query, &message), expected, "{query}");
        }
    }

    #[test]
    fn numbers_beyond_the_float_range_are_refused_as_go_refuses_them() {
        for query in ["vector(1e400)", "-1.8e308", "topk(1e400, x)", "x @ 1e400"] {
            let error = parse_promql(query).expect_err(query);
            assert!(error.contains("value out of range"), "{query}: {error}");
        }
        for query in [
            "1e-400",
            "1.7e308",
            "Inf",
            "-inf",
            "NaN",
            "123456789012345678901",
        ] {
            assert_same_as_plain_parse(query);
        }
    }

    #[test]
    fn numbers_in_a_durations_place_never_panic() {
        for query in [
            "x[1e300]",
            "x offset 1e300",
            "x[5m:1e30]",
            "x offset Inf",
            "x[NaN]",
        ] {
            assert!(parse_promql(query).is_err(), "{query}");
            assert!(parse_query(query, Semantics::V3).is_err(), "{query}");
        }
        assert!(parse_query("x[300]", Semantics::V3).is_ok());
    }

    #[test]
    fn prometheus_2_has_no_numbers_for_durations_nor_durations_for_numbers() {
        for (query, message) in [
            ("rate(x[300])", "missing unit character in duration"),
            (
                "x offset -300",
                "unexpected number \"300\" in offset, expected duration",
            ),
            (
                "x[5m:300]",
                "unexpected number \"300\" in subquery selector, expected duration or \"]\"",
            ),
            ("vector(5m)", "unexpected duration \"5m\""),
        ] {
            let error = parse_query(query, Semantics::V2).expect_err(query);
            assert_eq!(error, EvalError::Parse(message.to_string()), "{query}");
        }
        assert!(parse_query("rate(x[5m:1m] offset 1h) > 300", Semantics::V2).is_ok());
    }

    fn takes_the_cached_path(query: &str) -> bool {
        let Some((rewritten, sites)) = rewrite_regex_sites(query) else {
            return false;
        };
        promql_parser::parser::parse(&rewritten)
            .is_ok_and(|mut expr| restore_regex_matchers(&mut expr, &sites))
    }

    #[test]
    fn takes_the_cached_path_only_where_it_is_safe() {
        for query in [
            r#"sum by (job) (rate(http_requests_total{code=~"5..", job!~'api|web'}[5m]))"#,
            r#"a{x=~"1"} + b{x="1"} / c{x!~"1"} - d{x!="1"}"#,
            "foo{a =~ \n \"spaced\"}",
            r#"{a=~"x" or b=~"y"}"#,
            r#"topk(scalar(x{a=~"1"}), y{a=~"2"})"#,
            "foo{a=~\"x\" # =~ \"y\"\n}",
        ] {
            assert!(takes_the_cached_path(query), "{query}");
        }
        for query in [
            r#"{a=~".*"}"#,
            r#"{__name__=~"job:.*"}"#,
            r#"foo{a=~"x("}"#,
            r#"foo{a=~"with \\d escape"}"#,
            r#"foo =~ "x""#,
            "foo{a=~\"x\u{7f}0\"}",
            "up",
        ] {
            assert!(!takes_the_cached_path(query), "{query}");
        }
    }

    #[test]
    fn each_pattern_is_compiled_once_per_thread() {
        let pattern = "cache-test-.*";
        let query = format!(r#"x{{a=~"{pattern}"}} + y{{b!~"{pattern}"}}"#);
        assert_same_as_plain_parse(&query);
        let Ok(Expr::Binary(binary)) = parse_promql(&query) else {
            panic!("a binary expression");
        };
        let regex_of = |expr: &Expr| match expr {
            Expr::VectorSelector(selector) => match &selector.matchers.matchers[0].op {
                MatchOp::Re(regex) | MatchOp::NotRe(regex) => regex.clone(),
                other => panic!("a regex matcher, got {other}"),
            },
            other => panic!("a selector, got {other}"),
        };
        let (left, right) = (regex_of(&binary.lhs), regex_of(&binary.rhs));
        assert_eq!(left.as_str(), right.as_str());
        assert!(COMPILED_PATTERNS.with(|cache| cache.borrow().contains_key(pattern)));
    }
    /// promtool 2.42's `err:` text for each message mapped, recorded by running
    /// `promtool test rules` on each query as a `promql_expr_test` (the
    /// `promtool_conformance` integration test runs them against promtool itself).
    #[test]
    fn parse_errors_are_worded_as_prometheus_words_them() {
        let cases = [
            ("test +", "1:7: parse error: unexpected end of input"),
            ("a ==bool", "1:9: parse error: unexpected end of input"),
            ("foo bar", "1:5: parse error: unexpected identifier \"bar\""),
            ("sum by (a) (b) c", "1:16: parse error: unexpected identifier \"c\""),
            ("sum without(a) (b) by (c)", "1:20: parse error: unexpected <by>"),
            ("1 +* 2", "1:4: parse error: unexpected <op:*>"),
            ("up @ foo", "1:6: parse error: unexpected identifier \"foo\" in @, expected timestamp"),
            ("sum(up) by", "1:11: parse error: unexpected end of input in grouping opts, expected \"(\""),
            ("rate(x[5m] offset)", "1:18: parse error: unexpected \")\" in offset, expected duration"),
            (r#"up{job="a" foo="b"}"#, "1:12: parse error: unexpected identifier \"foo\" in label matching, expected \",\" or \"}\""),
            ("sum(", "1:5: parse error: unclosed left parenthesis"),
            ("up{", "1:4: parse error: unexpected end of input inside braces"),
            ("up[5m", "1:6: parse error: unclosed left bracket"),
            ("up offset", "1:10: parse error: unexpected end of input in offset, expected duration"),
            ("(a + b)) ", "1:9: parse error: unexpected right parenthesis ')'"),
            ("a + on(x) group_left(x) b", "1:3: parse error: label \"x\" must not occur in ON and GROUP clause at once"),
            (r#"{a=~"+"}"#, "1:2: parse error: error parsing regexp: missing argument to repetition operator: `+`"),
            (r#"a{b!~"("}"#, "1:3: parse error: error parsing regexp: missing closing ): `^(?:()$`"),
            (r#"foo{a!~"a)"}"#, "1:5: parse error: error parsing regexp: unexpected ): `^(?:a))$`"),
            (r#"up{job=~"a{2,1}"}"#, "1:4: parse error: error parsing regexp: invalid repeat count: `{2,1}`"),
            (r#"foo{a=~"[a"}"#, "1:5: parse error: error parsing regexp: missing closing ]: `[a)$`"),
            (r#"foo{a=~"\\q"}"#, "1:5: parse error: error parsing regexp: invalid escape sequence: `\\q`"),
            ("unknown_fn(up)", "1:1: parse error: unknown function with name \"unknown_fn\""),
            ("abs(up, up)", "1:1: parse error: expected 1 argument(s) in call to \"abs\", got 2"),
            ("rate(up)", "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector"),
            ("a and 1", "1:1: parse error: set operator \"and\" not allowed in binary scalar expression"),
            ("1 == 1", "1:3: parse error: comparisons between scalars must use BOOL modifier"),
            ("topk(up)", "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1"),
        ];
        for (query, promtool) in cases {
            let message = parse_promql(query).expect_err(query);
            assert_eq!(prometheus_parse_error(query, &message), promtool, "{query}");
        }
    }

    #[test]
    fn positions_count_lines_and_bytes_as_go_does() {
        assert_eq!(go_position("a +\nb c", 6), "2:3:");
        assert_eq!(go_position("é x", 4), "1:5:");
        assert_eq!(
            prometheus_parse_error("sum(\n  x", "unclosed left parenthesis"),
            "2:4: parse error: unclosed left parenthesis"
        );
    }
}
