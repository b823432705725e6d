//! The functions a Prometheus alert template can call: Go's text/template builtins
//! (`funcs.go`) and Prometheus' `template.NewTemplateExpander` function map.
//!
//! Invariants: each function declares Go's parameter types (`ParamType`), so argument
//! conversion and its errors happen in `exec` exactly where Go's reflection would
//! raise them; a function body returns `Err(message)` where the Go function returns an
//! error (or panics and `safeCall` recovers), never panics itself.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::format::{sprint, sprintf, sprintln};
use super::value::{Sample, Time, Value};
use crate::prometheus::model::duration::parse_model_duration;
use crate::prometheus::model::go_number;
use crate::prometheus::model::humanize::{
    humanize, humanize1024, humanize_duration, humanize_percentage,
};

/// Go's parameter types, as far as they change argument handling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    /// `reflect.Value`: anything, including a missing value.
    Reflect,
    /// `interface{}`: anything; a missing value becomes nil.
    Interface,
    String,
    /// `template.queryResult`.
    Samples,
    /// `*template.sample`.
    SamplePtr,
    /// `[]string`, what Alertmanager's `join` takes.
    StringSlice,
}

impl ParamType {
    pub fn go_name(self) -> &'static str {
        match self {
            ParamType::Reflect => "reflect.Value",
            ParamType::Interface => "interface {}",
            ParamType::String => "string",
            ParamType::Samples => "template.queryResult",
            ParamType::SamplePtr => "*template.sample",
            ParamType::StringSlice => "[]string",
        }
    }
}

/// A function's Go signature: parameter types, and whether the last one is variadic.
#[derive(Clone, Copy, Debug)]
pub struct Signature {
    pub params: &'static [ParamType],
    pub variadic: bool,
}

use crate::prometheus::model::go_quote;
use ParamType::{Interface, Reflect, SamplePtr, Samples, String as Str, StringSlice};

const fn sig(params: &'static [ParamType], variadic: bool) -> Signature {
    Signature { params, variadic }
}

/// Every function name a Prometheus 2.42 alert template may use, with its signature.
/// `stripDomain` and `toTime` are from later Prometheus releases; we accept them too.
pub const FUNCTIONS: &[(&str, Signature)] = &[
    // text/template builtins.
    ("and", sig(&[Reflect, Reflect], true)),
    ("call", sig(&[Reflect, Reflect], true)),
    ("html", sig(&[Interface], true)),
    ("index", sig(&[Reflect, Reflect], true)),
    ("slice", sig(&[Reflect, Reflect], true)),
    ("js", sig(&[Interface], true)),
    ("len", sig(&[Reflect], false)),
    ("not", sig(&[Reflect], false)),
    ("or", sig(&[Reflect, Reflect], true)),
    ("print", sig(&[Interface], true)),
    ("printf", sig(&[Str, Interface], true)),
    ("println", sig(&[Interface], true)),
    ("urlquery", sig(&[Interface], true)),
    ("eq", sig(&[Reflect, Reflect], true)),
    ("ge", sig(&[Reflect, Reflect], false)),
    ("gt", sig(&[Reflect, Reflect], false)),
    ("le", sig(&[Reflect, Reflect], false)),
    ("lt", sig(&[Reflect, Reflect], false)),
    ("ne", sig(&[Reflect, Reflect], false)),
    // Prometheus' template functions.
    ("query", sig(&[Str], false)),
    ("first", sig(&[Samples], false)),
    ("label", sig(&[Str, SamplePtr], false)),
    ("value", sig(&[SamplePtr], false)),
    ("strvalue", sig(&[SamplePtr], false)),
    ("args", sig(&[Interface], true)),
    ("reReplaceAll", sig(&[Str, Str, Str], false)),
    ("safeHtml", sig(&[Str], false)),
    ("match", sig(&[Str, Str], false)),
    ("title", sig(&[Str], false)),
    ("toUpper", sig(&[Str], false)),
    ("toLower", sig(&[Str], false)),
    ("graphLink", sig(&[Str], false)),
    ("tableLink", sig(&[Str], false)),
    ("sortByLabel", sig(&[Str, Samples], false)),
    ("stripPort", sig(&[Str], false)),
    ("stripDomain", sig(&[Str], false)),
    ("humanize", sig(&[Interface], false)),
    ("humanize1024", sig(&[Interface], false)),
    ("humanizeDuration", sig(&[Interface], false)),
    ("humanizePercentage", sig(&[Interface], false)),
    ("humanizeTimestamp", sig(&[Interface], false)),
    ("toTime", sig(&[Interface], false)),
    ("pathPrefix", sig(&[], false)),
    ("externalURL", sig(&[], false)),
    ("parseDuration", sig(&[Str], false)),
];

pub fn lookup(name: &str) -> Option<Signature> {
    FUNCTIONS.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// Whose function map a template runs with: Prometheus' alert templates, or
/// Alertmanager's notification templates (`template.DefaultFuncs` of 0.25).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Dialect {
    #[default]
    Prometheus,
    Alertmanager,
}

/// The functions of Alertmanager 0.25's notification templates besides Go's
/// builtins (`template/template.go`, `DefaultFuncs`); 0.25 has no `date`, `tz`
/// or `trimSpace`.
pub const ALERTMANAGER_FUNCTIONS: &[(&str, Signature)] = &[
    ("toUpper", sig(&[Str], false)),
    ("toLower", sig(&[Str], false)),
    ("title", sig(&[Str], false)),
    ("join", sig(&[Str, StringSlice], false)),
    ("match", sig(&[Str, Str], false)),
    ("safeHtml", sig(&[Str], false)),
    ("reReplaceAll", sig(&[Str, Str, Str], false)),
    ("stringSlice", sig(&[Str], true)),
];

/// The number of Go builtins at the start of [`FUNCTIONS`].
const BUILTIN_COUNT: usize = 19;

/// A function of `dialect`'s map, with its signature.
pub fn lookup_in(dialect: Dialect, name: &str) -> Option<Signature> {
    match dialect {
        Dialect::Prometheus => lookup(name),
        Dialect::Alertmanager => FUNCTIONS[..BUILTIN_COUNT]
            .iter()
            .chain(ALERTMANAGER_FUNCTIONS)
            .find(|(n, _)| *n == name)
            .map(|(_, s)| *s),
    }
}

/// [`call`] with `dialect`'s function map; the caller looked the name up with
/// [`lookup_in`].
pub fn call_in(
    dialect: Dialect,
    name: &str,
    args: &[Value],
    env: &Env<'_>,
) -> Result<Value, String> {
    if dialect == Dialect::Alertmanager {
        let text = |i: usize| args.get(i).map(as_str).unwrap_or("");
        match name {
            // `cases.Title(language.AmericanEnglish)`: unlike Prometheus'
            // `strings.Title`, the rest of each word is lowered.
            "title" => return Ok(Value::String(title(&map_runes(text(0), false)))),
            // `join(sep, s)`: strings.Join with the arguments swapped.
            "join" => {
                let parts: Vec<&str> = match args.get(1) {
                    Some(Value::List(items)) => items.iter().map(as_str).collect(),
                    _ => Vec::new(),
                };
                return Ok(Value::String(parts.join(text(0))));
            }
            "stringSlice" => return Ok(Value::List(args.to_vec())),
            _ => {}
        }
    }
    call(name, args, env)
}

/// Runs a PromQL instant query for `query`, at the evaluation time the caller chose.
pub trait QueryFn {
    /// The resulting vector, or the engine's error message.
    fn query(&self, expr: &str) -> Result<Vec<Sample>, String>;
}

/// A closure works as a query function: `&|expr: &str| engine.instant(expr, t)`.
impl<F: Fn(&str) -> Result<Vec<Sample>, String>> QueryFn for F {
    fn query(&self, expr: &str) -> Result<Vec<Sample>, String> {
        self(expr)
    }
}

/// What the template functions may read besides their arguments.
pub struct Env<'a> {
    pub query: Option<&'a dyn QueryFn>,
    /// The `--web.external-url`; `None` where Prometheus passes a nil URL (promtool's
    /// rule unit tests), which makes `externalURL` and `pathPrefix` fail as in Go.
    pub external_url: Option<String>,
}

const NIL_DEREFERENCE: &str = "runtime error: invalid memory address or nil pointer dereference";

fn as_str(v: &Value) -> &str {
    match v {
        Value::String(s) | Value::Html(s) => s,
        _ => "",
    }
}

fn as_sample(v: &Value) -> Result<&Sample, String> {
    match v {
        Value::Sample(s) => Ok(s.as_ref()),
        _ => Err(NIL_DEREFERENCE.to_string()),
    }
}

/// Calls a function other than `and`/`or` (which `exec` short-circuits) with arguments
/// already converted to its parameter types.
pub fn call(name: &str, args: &[Value], env: &Env<'_>) -> Result<Value, String> {
    static NO_VALUE: Value = Value::NoValue;
    let arg = |i: usize| -> &Value { args.get(i).unwrap_or(&NO_VALUE) };
    match name {
        "not" => Ok(Value::Bool(!arg(0).is_true())),
        "call" => match arg(0) {
            Value::NoValue | Value::Nil => Err("call of nil".to_string()),
            other => Err(format!("non-function of type {}", other.type_name())),
        },
        "html" => Ok(Value::String(html_escape(&eval_args(args)))),
        "js" => Ok(Value::String(js_escape(&eval_args(args)))),
        "urlquery" => Ok(Value::String(query_escape(&eval_args(args)))),
        "print" => Ok(Value::String(sprint(args))),
        "println" => Ok(Value::String(sprintln(args))),
        "printf" => Ok(Value::String(sprintf(
            as_str(arg(0)),
            &args[1.min(args.len())..],
        ))),
        "len" => length(arg(0)).map(Value::Int),
        "index" => index(arg(0), &args[1.min(args.len())..]),
        "slice" => slice(arg(0), &args[1.min(args.len())..]),
        "eq" => eq(arg(0), &args[1.min(args.len())..]).map(Value::Bool),
        "ne" => eq(arg(0), &args[1.min(args.len())..]).map(|b| Value::Bool(!b)),
        "lt" => lt(arg(0), arg(1)).map(Value::Bool),
        "le" => le(arg(0), arg(1)).map(Value::Bool),
        "gt" => le(arg(0), arg(1)).map(|b| Value::Bool(!b)),
        "ge" => lt(arg(0), arg(1)).map(|b| Value::Bool(!b)),
        "query" => match env.query {
            Some(q) => q
                .query(as_str(arg(0)))
                .map(|v| Value::Samples(v.into_iter().map(Arc::new).collect())),
            None => Err(NIL_DEREFERENCE.to_string()),
        },
        "first" => match arg(0) {
            Value::Samples(s) if !s.is_empty() => Ok(Value::Sample(s[0].clone())),
            _ => Err("first() called on vector with no elements".to_string()),
        },
        "label" => {
            let sample = as_sample(&args[1.min(args.len().saturating_sub(1))])?;
            let key = as_str(arg(0));
            Ok(Value::String(
                sample.labels.get(key).cloned().unwrap_or_default(),
            ))
        }
        "value" => Ok(Value::Float(as_sample(arg(0))?.value)),
        "strvalue" => Ok(Value::String(
            as_sample(arg(0))?
                .labels
                .get("__value__")
                .cloned()
                .unwrap_or_default(),
        )),
        "args" => {
            let map: BTreeMap<String, Value> = args
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("arg{i}"), v.clone()))
                .collect();
            Ok(Value::Map(Arc::new(map)))
        }
        "reReplaceAll" => {
            let pattern = as_str(arg(0));
            let re = compile_regex(pattern)
                .map_err(|e| format!("regexp: Compile({}): {e}", go_backquote(pattern)))?;
            Ok(Value::String(
                re.replace_all(as_str(arg(2)), as_str(arg(1))).into_owned(),
            ))
        }
        "match" => {
            let re = compile_regex(as_str(arg(0)))?;
            Ok(Value::Bool(re.is_match(as_str(arg(1)))))
        }
        "safeHtml" => Ok(Value::Html(as_str(arg(0)).to_string())),
        "title" => Ok(Value::String(title(as_str(arg(0))))),
        "toUpper" => Ok(Value::String(map_runes(as_str(arg(0)), true))),
        "toLower" => Ok(Value::String(map_runes(as_str(arg(0)), false))),
        "graphLink" => Ok(Value::String(format!(
            "/graph?g0.expr={}&g0.tab=0",
            query_escape(as_str(arg(0)))
        ))),
        "tableLink" => Ok(Value::String(format!(
            "/graph?g0.expr={}&g0.tab=1",
            query_escape(as_str(arg(0)))
        ))),
        "sortByLabel" => {
            let key = as_str(arg(0)).to_string();
            let mut samples = match arg(1) {
                Value::Samples(s) => s.clone(),
                _ => Vec::new(),
            };
            // Stable, like Go's sort.Stable.
            samples.sort_by(|a, b| {
                let empty = String::new();
                a.labels
                    .get(&key)
                    .unwrap_or(&empty)
                    .cmp(b.labels.get(&key).unwrap_or(&empty))
            });
            Ok(Value::Samples(samples))
        }
        "stripPort" => {
            let host_port = as_str(arg(0));
            Ok(Value::String(match split_host_port(host_port) {
                Ok((host, _)) => host,
                Err(_) => host_port.to_string(),
            }))
        }
        "stripDomain" => Ok(Value::String(strip_domain(as_str(arg(0))))),
        "humanize" => convert_to_float(arg(0)).map(|v| Value::String(humanize(v))),
        "humanize1024" => convert_to_float(arg(0)).map(|v| Value::String(humanize1024(v))),
        "humanizeDuration" => convert_to_float(arg(0)).map(|v| Value::String(humanize_duration(v))),
        "humanizePercentage" => {
            convert_to_float(arg(0)).map(|v| Value::String(humanize_percentage(v)))
        }
        "humanizeTimestamp" => {
            let v = convert_to_float(arg(0))?;
            if v.is_nan() || v.is_infinite() {
                return Ok(Value::String(go_number::format_float(v, 'g', Some(4))));
            }
            Ok(Value::String(Time::from_float_seconds(v)?.go_string()))
        }
        "toTime" => {
            let v = convert_to_float(arg(0))?;
            Ok(Value::Time(Time::from_float_seconds(v)?))
        }
        "pathPrefix" => match &env.external_url {
            Some(url) => Ok(Value::String(url_path(url))),
            None => Err(NIL_DEREFERENCE.to_string()),
        },
        "externalURL" => match &env.external_url {
            Some(url) => Ok(Value::String(url.clone())),
            None => Err(NIL_DEREFERENCE.to_string()),
        },
        "parseDuration" => parse_duration(as_str(arg(0))).map(Value::Float),
        other => Err(format!(
            "{} is not a defined function",
            go_quote::quote(other)
        )),
    }
}

/// Prometheus' `convertToFloat`.
fn convert_to_float(v: &Value) -> Result<f64, String> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::String(s) => go_number::parse_float(s).map_err(|error| error.message(s)),
        other => Err(format!("can't convert {} to float", other.type_name())),
    }
}

/// The template function `parseDuration`: `model.ParseDuration`, in seconds.
pub fn parse_duration(s: &str) -> Result<f64, String> {
    // Go divides float64 nanoseconds; a parsed duration's nanoseconds fit in int64.
    let nanos = parse_model_duration(s)?.saturating_mul(1_000_000);
    Ok(nanos as f64 / 1e9)
}

/// The path of a URL, as Go's `url.URL.Path` (undecoded; Prometheus URLs are plain).
fn url_path(url: &str) -> String {
    let after_scheme = url.find("://").map_or(url, |i| &url[i + 3..]);
    let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
    let end = path.find(['?', '#']).unwrap_or(path.len());
    path[..end].to_string()
}

/// Go's `net.SplitHostPort`.
pub fn split_host_port(hostport: &str) -> Result<(String, String), String> {
    let missing_port = "missing port in address".to_string();
    let too_many_colons = "too many colons in address".to_string();
    let Some(i) = hostport.rfind(':') else {
        return Err(missing_port);
    };
    let (host, j, k);
    if hostport.starts_with('[') {
        let Some(end) = hostport.find(']') else {
            return Err("missing ']' in address".to_string());
        };
        if end + 1 == hostport.len() {
            return Err(missing_port);
        } else if end + 1 != i {
            if hostport.as_bytes()[end + 1] == b':' {
                return Err(too_many_colons);
            }
            return Err(missing_port);
        }
        host = hostport[1..end].to_string();
        j = 1;
        k = end + 1;
    } else {
        host = hostport[..i].to_string();
        if host.contains(':') {
            return Err(too_many_colons);
        }
        j = 0;
        k = 0;
    }
    if hostport[j..].contains('[') {
        return Err("unexpected '[' in address".to_string());
    }
    if hostport[k..].contains(']') {
        return Err("unexpected ']' in address".to_string());
    }
    Ok((host, hostport[i + 1..].to_string()))
}

fn strip_domain(host_port: &str) -> String {
    let (host, port) = split_host_port(host_port).unwrap_or((host_port.to_string(), String::new()));
    if host.parse::<std::net::IpAddr>().is_ok() {
        return host_port.to_string();
    }
    let first = host.split('.').next().unwrap_or("").to_string();
    if port.is_empty() {
        return first;
    }
    if first.contains(':') {
        format!("[{first}]:{port}")
    } else {
        format!("{first}:{port}")
    }
}

/// Rewrites Go RE2 syntax where Rust's `regex` reads it differently: Go's Perl classes
/// (`\d \w \s \b`) are ASCII-only, and Go reads `[`, `&&`, `~~` inside a bracket class
/// literally where Rust would nest or combine sets.
fn go_regex_to_rust(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    let mut in_class = false;
    let mut class_start = 0usize;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let Some(&e) = chars.get(i + 1) else {
                out.push(c);
                break;
            };
            let replacement = match (in_class, e) {
                (false, 'd') => Some("(?-u:\\d)"),
                (false, 'D') => Some("(?-u:\\D)"),
                (false, 'w') => Some("(?-u:\\w)"),
                (false, 'W') => Some("(?-u:\\W)"),
                (false, 's') => Some("[\\t\\n\\f\\r ]"),
                (false, 'S') => Some("[^\\t\\n\\f\\r ]"),
                (false, 'b') => Some("(?-u:\\b)"),
                (false, 'B') => Some("(?-u:\\B)"),
                (true, 'd') => Some("0-9"),
                (true, 'w') => Some("0-9A-Za-z_"),
                (true, 's') => Some("\\t\\n\\f\\r "),
                _ => None,
            };
            match replacement {
                Some(r) => out.push_str(r),
                None => {
                    out.push(c);
                    out.push(e);
                }
            }
            i += 2;
            continue;
        }
        if !in_class {
            if c == '[' {
                in_class = true;
                out.push(c);
                i += 1;
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                class_start = i;
                continue;
            }
            out.push(c);
            i += 1;
            continue;
        }
        match c {
            ']' if i > class_start => {
                in_class = false;
                out.push(c);
            }
            '[' if chars.get(i + 1) == Some(&':') => {
                // A POSIX class like [:alpha:], copied through its closing ":]".
                let rest: String = chars[i..].iter().collect();
                match rest.find(":]") {
                    Some(end) => {
                        out.push_str(&rest[..end + 2]);
                        i += rest[..end + 2].chars().count();
                        continue;
                    }
                    None => out.push_str("\\["),
                }
            }
            '[' | '&' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '-' if chars.get(i + 1) == Some(&'-') => out.push_str("\\-"),
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

/// Go rejects a repetition operator applied to another (`a**`, `a+?*`); Rust accepts it.
fn nested_repetition(pattern: &str) -> Option<String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    let mut in_class = false;
    let mut class_start = 0;
    // Start of the repetition operator that ended just before `i`, if any.
    let mut last_repeat: Option<usize> = None;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            i += 2;
            last_repeat = None;
            continue;
        }
        if in_class {
            if c == ']' && i > class_start {
                in_class = false;
            }
            i += 1;
            continue;
        }
        let op_len = match c {
            '*' | '+' | '?' => 1,
            '{' => {
                let close = chars[i..].iter().position(|c| *c == '}');
                match close {
                    Some(len)
                        if chars[i + 1..i + len]
                            .iter()
                            .all(|c| c.is_ascii_digit() || *c == ',')
                            && len > 1 =>
                    {
                        len + 1
                    }
                    _ => 0,
                }
            }
            _ => 0,
        };
        if op_len == 0 {
            if c == '[' {
                in_class = true;
                class_start = i + 1;
                if chars.get(i + 1) == Some(&'^') {
                    class_start += 1;
                }
            }
            last_repeat = None;
            i += 1;
            continue;
        }
        let mut end = i + op_len;
        if chars.get(end) == Some(&'?') {
            end += 1;
        }
        if let Some(start) = last_repeat {
            return Some(chars[start..end].iter().collect());
        }
        last_repeat = Some(i);
        i = end;
    }
    None
}

fn compile_regex(pattern: &str) -> Result<regex::Regex, String> {
    if let Some(fragment) = nested_repetition(pattern) {
        return Err(format!(
            "error parsing regexp: invalid nested repetition operator: {}",
            go_backquote(&fragment)
        ));
    }
    regex::Regex::new(&go_regex_to_rust(pattern)).map_err(|e| {
        let detail = e.to_string();
        let last = detail
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        let rust = last.trim().trim_start_matches("error: ");
        // Go's regexp/syntax wording for the errors Rust's parser names differently.
        let go = match rust {
            "unclosed group" => "missing closing )",
            "unopened group" => "unexpected )",
            "unclosed character class" => "missing closing ]",
            "repetition operator missing expression" => "missing argument to repetition operator",
            "invalid character class range, the start must be <= the end" => {
                "invalid character class range"
            }
            "incomplete escape sequence, reached end of pattern prematurely" => {
                "trailing backslash at end of expression"
            }
            other if other.starts_with("unrecognized escape sequence") => "invalid escape sequence",
            "backreferences are not supported" => "invalid escape sequence",
            other => other,
        };
        format!("error parsing regexp: {go}: {}", go_backquote(pattern))
    })
}

/// Go's `strconv.Quote` unless a backquoted form is possible (`regexp` error style).
fn go_backquote(s: &str) -> String {
    if !s.contains('`') && s.chars().all(|c| c == '\t' || go_quote::is_print(c)) {
        format!("`{s}`")
    } else {
        go_quote::quote(s)
    }
}

/// Go's `strings.Title`: upper-cases the first letter of each word.
fn title(s: &str) -> String {
    let is_separator = |c: char| {
        if c.is_ascii() {
            return !(c.is_ascii_alphanumeric() || c == '_');
        }
        if c.is_alphanumeric() {
            return false;
        }
        c.is_whitespace()
    };
    let mut prev = ' ';
    let mut out = String::new();
    for c in s.chars() {
        if is_separator(prev) {
            out.push(title_case(c));
        } else {
            out.push(c);
        }
        prev = c;
    }
    out
}

/// Unicode title case: differs from upper case only for the Latin digraphs.
fn title_case(c: char) -> char {
    match c {
        '\u{1C4}'..='\u{1C6}' => '\u{1C5}',
        '\u{1C7}'..='\u{1C9}' => '\u{1C8}',
        '\u{1CA}'..='\u{1CC}' => '\u{1CB}',
        '\u{1F1}'..='\u{1F3}' => '\u{1F2}',
        other => single_rune_case(other, true),
    }
}

fn single_rune_case(c: char, upper: bool) -> char {
    let mut mapped = if upper {
        c.to_uppercase().collect::<Vec<char>>()
    } else {
        c.to_lowercase().collect::<Vec<char>>()
    };
    // Go maps rune by rune; a character whose case form is several runes stays as is.
    if mapped.len() == 1 {
        mapped.pop().unwrap_or(c)
    } else {
        c
    }
}

fn map_runes(s: &str, upper: bool) -> String {
    s.chars().map(|c| single_rune_case(c, upper)).collect()
}

/// text/template's `evalArgs`: a lone string is used as is, anything else is Sprint-ed.
fn eval_args(args: &[Value]) -> String {
    if let [Value::String(s)] = args {
        return s.clone();
    }
    let printable: Vec<Value> = args
        .iter()
        .map(|a| match a {
            Value::NoValue | Value::Nil => Value::String("<no value>".to_string()),
            other => other.clone(),
        })
        .collect();
    super::format::sprint_printable(&printable)
}

/// Go's `template.HTMLEscapeString`.
pub fn html_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Go's `template.JSEscapeString`.
pub fn js_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u00{:02X}", c as u32)),
            c if c.is_ascii() => out.push(c),
            c if go_quote::is_print(c) => out.push(c),
            c => out.push_str(&format!("\\u{:04X}", c as u32)),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

fn length(v: &Value) -> Result<i64, String> {
    let n = match v {
        Value::NoValue | Value::Nil => {
            return Err("reflect: call of reflect.Value.Type on zero Value".to_string())
        }
        Value::String(s) | Value::Html(s) => s.len(),
        Value::StringMap(m) => m.len(),
        Value::Map(m) => m.len(),
        Value::List(l) => l.len(),
        Value::Samples(s) => s.len(),
        Value::Sample(_) => return Err("len of type template.sample".to_string()),
        Value::Time(_) => return Err("len of type time.Time".to_string()),
        other => return Err(format!("len of type {}", other.type_name())),
    };
    Ok(n as i64)
}

fn index_arg(index: &Value, cap: usize) -> Result<usize, String> {
    let x = match index {
        Value::Int(i) => *i,
        Value::NoValue | Value::Nil => return Err("cannot index slice/array with nil".to_string()),
        other => {
            return Err(format!(
                "cannot index slice/array with type {}",
                other.type_name()
            ))
        }
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

fn map_key(index: &Value) -> Result<String, String> {
    match index {
        Value::String(s) => Ok(s.clone()),
        Value::NoValue | Value::Nil => Err("value is nil; should be of type string".to_string()),
        other => Err(format!(
            "value has type {}; should be string",
            other.type_name()
        )),
    }
}

fn index(item: &Value, indexes: &[Value]) -> Result<Value, String> {
    let mut item = item.clone();
    if matches!(item, Value::NoValue | Value::Nil) {
        return Err("index of untyped nil".to_string());
    }
    for index in indexes {
        item = match item {
            Value::List(list) => {
                let x = index_arg(index, list.len())?;
                list.get(x)
                    .cloned()
                    .ok_or("reflect: slice index out of range")?
            }
            Value::Samples(samples) => {
                let x = index_arg(index, samples.len())?;
                samples
                    .get(x)
                    .cloned()
                    .map(Value::Sample)
                    .ok_or("reflect: slice index out of range")?
            }
            Value::String(s) | Value::Html(s) => {
                let x = index_arg(index, s.len())?;
                let byte = s
                    .as_bytes()
                    .get(x)
                    .ok_or("reflect: string index out of range")?;
                Value::Int(i64::from(*byte))
            }
            Value::StringMap(map) => {
                let key = map_key(index)?;
                Value::String(map.get(&key).cloned().unwrap_or_default())
            }
            Value::Map(map) => {
                let key = map_key(index)?;
                map.get(&key).cloned().unwrap_or(Value::NoValue)
            }
            Value::NoValue | Value::Nil => return Err("index of nil pointer".to_string()),
            Value::Sample(_) => return Err("can't index item of type template.sample".to_string()),
            Value::Time(_) => return Err("can't index item of type time.Time".to_string()),
            other => return Err(format!("can't index item of type {}", other.type_name())),
        };
    }
    Ok(item)
}

fn slice(item: &Value, indexes: &[Value]) -> Result<Value, String> {
    if matches!(item, Value::NoValue | Value::Nil) {
        return Err("slice of untyped nil".to_string());
    }
    if indexes.len() > 3 {
        return Err(format!("too many slice indexes: {}", indexes.len()));
    }
    let len = match item {
        Value::String(s) | Value::Html(s) => {
            if indexes.len() == 3 {
                return Err("cannot 3-index slice a string".to_string());
            }
            s.len()
        }
        Value::List(l) => l.len(),
        Value::Samples(s) => s.len(),
        other => return Err(format!("can't slice item of type {}", other.type_name())),
    };
    let mut idx = [0usize, len, len];
    for (i, index) in indexes.iter().enumerate() {
        idx[i] = index_arg(index, len)?;
    }
    if idx[0] > idx[1] {
        return Err(format!("invalid slice index: {} > {}", idx[0], idx[1]));
    }
    if indexes.len() == 3 && idx[1] > idx[2] {
        return Err(format!("invalid slice index: {} > {}", idx[1], idx[2]));
    }
    let (from, to) = (idx[0], idx[1]);
    Ok(match item {
        Value::String(s) => {
            Value::String(String::from_utf8_lossy(&s.as_bytes()[from..to]).into_owned())
        }
        Value::Html(s) => {
            Value::Html(String::from_utf8_lossy(&s.as_bytes()[from..to]).into_owned())
        }
        Value::List(l) => Value::List(l[from..to].to_vec()),
        Value::Samples(s) => Value::Samples(s[from..to].to_vec()),
        // Unreachable: the match above returned for every other variant.
        other => other.clone(),
    })
}

#[derive(PartialEq, Eq, Debug)]
enum BasicKind {
    Invalid,
    Bool,
    Complex,
    Int,
    Float,
    String,
    Other,
}

fn basic_kind(v: &Value) -> BasicKind {
    match v {
        Value::NoValue | Value::Nil => BasicKind::Invalid,
        Value::Bool(_) => BasicKind::Bool,
        Value::Complex(..) => BasicKind::Complex,
        Value::Int(_) => BasicKind::Int,
        Value::Float(_) => BasicKind::Float,
        Value::String(_) | Value::Html(_) => BasicKind::String,
        _ => BasicKind::Other,
    }
}

const BAD_COMPARISON_TYPE: &str = "invalid type for comparison";
const BAD_COMPARISON: &str = "incompatible types for comparison";

/// Go's `eq`: true when arg1 equals any of the others.
fn eq(arg1: &Value, others: &[Value]) -> Result<bool, String> {
    if others.is_empty() {
        return Err("missing argument for comparison".to_string());
    }
    let k1 = basic_kind(arg1);
    for arg in others {
        let k2 = basic_kind(arg);
        let truth = if k1 != k2 {
            if k1 != BasicKind::Invalid && k2 != BasicKind::Invalid {
                return Err(BAD_COMPARISON.to_string());
            }
            false
        } else {
            match (arg1, arg) {
                (Value::Bool(a), Value::Bool(b)) => a == b,
                (Value::Int(a), Value::Int(b)) => a == b,
                (Value::Float(a), Value::Float(b)) => a == b,
                (Value::Complex(a, b), Value::Complex(c, d)) => a == c && b == d,
                (Value::String(a) | Value::Html(a), Value::String(b) | Value::Html(b)) => a == b,
                (a, b) if k1 == BasicKind::Invalid => {
                    matches!(a, Value::NoValue | Value::Nil)
                        && matches!(b, Value::NoValue | Value::Nil)
                }
                (Value::Sample(a), Value::Sample(b)) => Arc::ptr_eq(a, b),
                (Value::Time(a), Value::Time(b)) => a == b,
                (Value::Struct(a), Value::Struct(b)) if a.type_name == b.type_name => {
                    // Structs holding maps are not comparable in Go.
                    return Err(format!(
                        "non-comparable type {}: {}",
                        sprintf("%s", std::slice::from_ref(arg)),
                        b.type_name
                    ));
                }
                (a, b) if a.type_name() != b.type_name() => {
                    return Err(format!(
                        "non-comparable types {}: {}, {}: {}",
                        sprintf("%s", std::slice::from_ref(a)),
                        a.type_name(),
                        b.type_name(),
                        sprintf("%v", std::slice::from_ref(b))
                    ))
                }
                (_, b) => {
                    return Err(format!(
                        "non-comparable type {}: {}",
                        sprintf("%s", std::slice::from_ref(b)),
                        b.type_name()
                    ))
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn lt(arg1: &Value, arg2: &Value) -> Result<bool, String> {
    let k1 = basic_kind(arg1);
    if matches!(k1, BasicKind::Invalid | BasicKind::Other) {
        return Err(BAD_COMPARISON_TYPE.to_string());
    }
    let k2 = basic_kind(arg2);
    if matches!(k2, BasicKind::Invalid | BasicKind::Other) {
        return Err(BAD_COMPARISON_TYPE.to_string());
    }
    if k1 != k2 {
        return Err(BAD_COMPARISON.to_string());
    }
    match (arg1, arg2) {
        (Value::Int(a), Value::Int(b)) => Ok(a < b),
        (Value::Float(a), Value::Float(b)) => Ok(a < b),
        (Value::String(a) | Value::Html(a), Value::String(b) | Value::Html(b)) => Ok(a < b),
        _ => Err(BAD_COMPARISON_TYPE.to_string()),
    }
}

fn le(arg1: &Value, arg2: &Value) -> Result<bool, String> {
    if lt(arg1, arg2)? {
        return Ok(true);
    }
    eq(arg1, std::slice::from_ref(arg2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humanize_matches_prometheus() {}

    #[test]
    fn split_host_port_matches_go() {
        assert_eq!(
            split_host_port("[2001:0DB8::1]:12345"),
            Ok(("2001:0DB8::1".into(), "12345".into()))
        );
        assert!(split_host_port("[2001:0DB8::1]::12345").is_err());
        assert!(split_host_port("2001:0DB8::1").is_err());
        assert_eq!(strip_domain("foo.example.com:12345"), "foo:12345");
        assert_eq!(strip_domain("192.0.2.1:12345"), "192.0.2.1:12345");
    }

    #[test]
    fn regexes_follow_go_re2_semantics() {
        let m = |p: &str, t: &str| compile_regex(p).map(|r| r.is_match(t));
        assert_eq!(m(r"^\d+$", "١٢"), Ok(false));
        assert_eq!(m(r"^\d+$", "12"), Ok(true));
        assert_eq!(m(r"^\w+$", "é"), Ok(false));
        assert_eq!(m(r"^[\w.]+$", "a_b.c"), Ok(true));
        assert_eq!(m(r"^[a[]+$", "a[a"), Ok(true));
        assert_eq!(m(r"^[&~]+$", "&~"), Ok(true));
        assert_eq!(m(r"^[[:alpha:]]+$", "abc"), Ok(true));
        assert_eq!(m(r"^[]a]+$", "]a"), Ok(true));
        assert_eq!(m(r"\bfoo\b", "a foo b"), Ok(true));
        assert_eq!(m(r"^\s$", "\u{b}"), Ok(false));
        assert!(compile_regex("(").is_err());
    }

    #[test]
    fn parse_duration_matches_prometheus() {
        assert_eq!(parse_duration("1h2m10ms"), Ok(3720.01));
        assert_eq!(parse_duration("0"), Ok(0.0));
        assert!(parse_duration("1m1h").is_err());
        assert!(parse_duration("").is_err());
    }
}
