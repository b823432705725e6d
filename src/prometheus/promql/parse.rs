//! PromQL parsing, the one way into `promql-parser` for the whole crate: the plain
//! parse ([`parse_promql`]), the parse as one Prometheus version accepts it
//! ([`parse_query`]), and whether a regex matcher's pattern compiles.
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

/// The first literal of `query` that Prometheus refuses (see the module doc), with
/// Prometheus' message; `Ok` when there is none or the query does not lex (the parse
/// then reports promql-parser's own error). Under `None` only what every Prometheus
/// refuses; under `Some(Semantics::V2)` also what Prometheus 2 refuses.
fn refuse_literals(query: &str, semantics: Option<Semantics>) -> Result<(), String> {
    // Every number has a digit but `Inf` and `NaN`, which have an `n`.
    let may_have_literals = query
        .bytes()
        .any(|byte| byte.is_ascii_digit() || byte.eq_ignore_ascii_case(&b'n'));
    if !may_have_literals {
        return Ok(());
    }
    let Ok(lexer) = promql_parser::parser::lexer(query) else {
        return Ok(());
    };
    let mut before: [Option<TokenId>; 2] = [None, None];
    for lexeme in lexer.iter() {
        let Ok(lexeme) = lexeme else {
            return Ok(());
        };
        let token = lexeme.tok_id();
        let text = lexer.span_str(lexeme.span());
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
                return Err(number_in_duration_place(text, place));
            }
            let value = go_parse_number(text)?;
            if place != LiteralPlace::Number && Duration::try_from_secs_f64(value).is_err() {
                return Err(format!("duration out of range: {text:?}"));
            }
        } else if token == T_DURATION && place == LiteralPlace::Number && prometheus_2 {
            return Err(format!("unexpected duration {text:?}"));
        }
    }
    Ok(())
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
}
