//! Alertmanager 0.25's label matchers: the "classic" matcher parser, regex
//! anchoring, matching, printing, and quoting that later parsers read alike.
//!
//! Invariants:
//! - [`parse_matchers`] accepts exactly what Alertmanager 0.25's
//!   `pkg/labels.ParseMatchers` accepts, and yields the same name, operator and
//!   unescaped value (its tolerant unescaping included: a spurious `\x` stays a
//!   literal backslash followed by `x`).
//! - Regex matchers are compiled as `^(?:value)$` with Go RE2 semantics
//!   emulated on top of the `regex` crate (see [`compile_anchored_regex`]):
//!   ASCII-only `\d \s \w \b`, literal `[` and `&&`/`~~` inside classes, Go's
//!   repeat limit of 1000, Go's flag set `imsU`.
//! - `Display` of a matcher is Go's `Matcher.String()`: `name op "escaped"`
//!   with OpenMetrics escaping (`\\`, `\n`, `\"`).
//!
//! Alertmanager 0.27 added a UTF-8 matcher parser ([`parse_matchers_utf8`]
//! ports it). In 0.27's default "fallback" mode the classic reading still wins
//! whenever the two disagree (with a warning); in `utf8-strict-mode`, and once
//! the classic parser is gone, the new reading applies. They differ on:
//! - unquoted values, which stop at whitespace and at any of `{}!=~,\"'` and
//!   the backtick, where the classic parser takes the rest of the string
//!   lazily (`foo=bar baz` is the value `bar baz` for 0.25, an error for 0.27);
//! - quoted values, which go through Go's `strconv.Unquote`, so `\t` becomes
//!   a tab and an unknown escape such as `\q` is an error, where the classic
//!   parser keeps both as literal backslash sequences;
//! - braces, which must balance (`{foo="bar"` is accepted by 0.25), and a
//!   missing value (`foo=`), which only 0.25 accepts;
//! - label names, which may be any quoted UTF-8 for the new parser only.
//!
//! [`quote_matcher`] renders text on which both parsers agree (checked by
//! [`parsers_agree`]): a classic label name, the operator, and a double-quoted
//! value in which only `\`, `"` and line feed are escaped.

use std::collections::BTreeMap;
use std::fmt;

use regex::Regex;

use crate::prometheus::model::{go_quote, names};

/// A label set: label name to value. A missing label reads as the empty string.
pub type LabelSet = BTreeMap<String, String>;

/// The four matcher operators, in Go's `MatchType` order (used when sorting).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchType {
    Equal,
    NotEqual,
    Regexp,
    NotRegexp,
}

impl MatchType {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchType::Equal => "=",
            MatchType::NotEqual => "!=",
            MatchType::Regexp => "=~",
            MatchType::NotRegexp => "!~",
        }
    }

    pub fn from_operator(operator: &str) -> Option<MatchType> {
        match operator {
            "=" => Some(MatchType::Equal),
            "!=" => Some(MatchType::NotEqual),
            "=~" => Some(MatchType::Regexp),
            "!~" => Some(MatchType::NotRegexp),
            _ => None,
        }
    }
}

/// One label matcher. The regex of `=~`/`!~` is compiled once, anchored.
#[derive(Clone, Debug)]
pub struct Matcher {
    pub match_type: MatchType,
    pub name: String,
    pub value: String,
    anchored_regex: Option<Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Matcher) -> bool {
        self.match_type == other.match_type && self.name == other.name && self.value == other.value
    }
}

impl Eq for Matcher {}

impl Matcher {
    /// Go's `labels.NewMatcher`: the only failure is a bad regex, reported
    /// with Go's wording (`error parsing regexp: missing closing ): ...`).
    pub fn new(match_type: MatchType, name: &str, value: &str) -> Result<Matcher, String> {
        let anchored_regex = match match_type {
            MatchType::Regexp | MatchType::NotRegexp => Some(compile_anchored_regex(value)?),
            MatchType::Equal | MatchType::NotEqual => None,
        };
        Ok(Matcher {
            match_type,
            name: name.to_string(),
            value: value.to_string(),
            anchored_regex,
        })
    }

    /// Whether the matcher accepts this label value (missing labels are "").
    pub fn matches_value(&self, label_value: &str) -> bool {
        match (&self.match_type, &self.anchored_regex) {
            (MatchType::Equal, _) => label_value == self.value,
            (MatchType::NotEqual, _) => label_value != self.value,
            (MatchType::Regexp, Some(regex)) => regex.is_match(label_value),
            (MatchType::NotRegexp, Some(regex)) => !regex.is_match(label_value),
            // Matcher::new always compiles a regex for the regex operators.
            (MatchType::Regexp | MatchType::NotRegexp, None) => false,
        }
    }

    pub fn matches(&self, labels: &LabelSet) -> bool {
        self.matches_value(labels.get(&self.name).map(String::as_str).unwrap_or(""))
    }

    /// Go's `Matchers.Less`: by name, then value, then operator.
    pub fn sort_key(&self) -> (&str, &str, MatchType) {
        (&self.name, &self.value, self.match_type)
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{}{}\"{}\"",
            self.name,
            self.match_type.as_str(),
            open_metrics_escape(&self.value)
        )
    }
}

/// True when every matcher accepts the label set (an empty list matches all).
pub fn all_match(matchers: &[Matcher], labels: &LabelSet) -> bool {
    matchers.iter().all(|matcher| matcher.matches(labels))
}

/// Go's `sort.Sort(matchers)`, as `dispatch.NewRoute` does.
pub fn sort_matchers(matchers: &mut [Matcher]) {
    matchers.sort_by(|left, right| left.sort_key().cmp(&right.sort_key()));
}

/// Go's `Matchers.String()`: `{a="b",c=~"d"}`, `{}` when empty.
pub fn format_matchers(matchers: &[Matcher]) -> String {
    let parts: Vec<String> = matchers.iter().map(Matcher::to_string).collect();
    format!("{{{}}}", parts.join(","))
}

/// Alertmanager 0.25's `labels.ParseMatchers`: a comma-separated list, with
/// optional surrounding braces and a tolerated trailing comma.
pub fn parse_matchers(input: &str) -> Result<Vec<Matcher>, String> {
    let trimmed = input.strip_prefix('{').unwrap_or(input);
    let trimmed = trimmed.strip_suffix('}').unwrap_or(trimmed);
    let mut inside_quotes = false;
    let mut escaped = false;
    let mut token = String::new();
    let mut tokens = Vec::new();
    for character in trimmed.chars() {
        match character {
            ',' => {
                if !inside_quotes {
                    tokens.push(std::mem::take(&mut token));
                    continue;
                }
                // Go's switch leaves `escaped` alone for a quoted comma.
            }
            '"' => {
                if !escaped {
                    inside_quotes = !inside_quotes;
                } else {
                    escaped = false;
                }
            }
            '\\' => escaped = !escaped,
            _ => escaped = false,
        }
        token.push(character);
    }
    let last = go_trim_space(&token);
    if !last.is_empty() {
        tokens.push(last.to_string());
    }
    tokens.iter().map(|token| parse_matcher(token)).collect()
}

/// Alertmanager 0.25's `labels.ParseMatcher` for a single `name op value`.
pub fn parse_matcher(input: &str) -> Result<Matcher, String> {
    let (name, operator, raw_value) =
        split_matcher(input).ok_or_else(|| format!("bad matcher format: {input}"))?;
    let match_type =
        MatchType::from_operator(operator).ok_or_else(|| format!("bad matcher format: {input}"))?;
    let (rest, mut expect_trailing_quote) = match raw_value.strip_prefix('"') {
        Some(stripped) => (stripped, true),
        None => (raw_value, false),
    };
    let mut value = String::new();
    let mut escaped = false;
    let rest_length = rest.len();
    for (index, character) in rest.char_indices() {
        if escaped {
            escaped = false;
            match character {
                'n' => value.push('\n'),
                '"' | '\\' => value.push(character),
                _ => {
                    value.push('\\');
                    value.push(character);
                }
            }
            continue;
        }
        match character {
            '\\' => {
                // Go compares the byte index with len-1: a final backslash is literal.
                if index < rest_length - 1 {
                    escaped = true;
                    continue;
                }
                value.push('\\');
            }
            '"' => {
                if !expect_trailing_quote || index < rest_length - 1 {
                    return Err(format!(
                        "matcher value contains unescaped double quote: {raw_value}"
                    ));
                }
                expect_trailing_quote = false;
            }
            _ => value.push(character),
        }
    }
    if expect_trailing_quote {
        return Err(format!(
            "matcher value contains unescaped double quote: {raw_value}"
        ));
    }
    Matcher::new(match_type, name, &value)
}

/// A matcher as (name, operator, value), compared across the two parsers.
pub type MatcherTriple = (String, MatchType, String);

/// Alertmanager 0.27+'s UTF-8 matcher parser (`matchers/parse`), without
/// building regexes: `{`? matcher (`,` matcher)* `,`? `}`?, where names and
/// values are either unquoted runs of non-reserved characters or Go string
/// literals. Errors are short descriptions, not Go's exact messages.
pub fn parse_matchers_utf8(input: &str) -> Result<Vec<MatcherTriple>, String> {
    let tokens = utf8_tokens(input)?;
    let mut position = 0;
    let has_open_brace = tokens.first() == Some(&Utf8Token::OpenBrace);
    if has_open_brace {
        position += 1;
    }
    let mut matchers = Vec::new();
    loop {
        match tokens.get(position) {
            None | Some(Utf8Token::CloseBrace) => break,
            Some(Utf8Token::Text { .. }) => {}
            Some(other) => return Err(format!("expected label name, found {other:?}")),
        }
        let name = utf8_unquote(&tokens[position])?;
        let match_type = match tokens.get(position + 1) {
            Some(Utf8Token::Operator(match_type)) => *match_type,
            other => return Err(format!("expected an operator, found {other:?}")),
        };
        let value = match tokens.get(position + 2) {
            Some(token @ Utf8Token::Text { .. }) => utf8_unquote(token)?,
            other => return Err(format!("expected label value, found {other:?}")),
        };
        matchers.push((name, match_type, value));
        position += 3;
        match tokens.get(position) {
            Some(Utf8Token::Comma) => position += 1,
            None | Some(Utf8Token::CloseBrace) => break,
            Some(other) => return Err(format!("expected a comma or close brace, found {other:?}")),
        }
    }
    match (has_open_brace, tokens.get(position)) {
        (true, Some(Utf8Token::CloseBrace)) => position += 1,
        (true, _) => return Err("expected close brace".to_string()),
        (false, Some(Utf8Token::CloseBrace)) => return Err("expected opening brace".to_string()),
        (false, _) => {}
    }
    if position != tokens.len() {
        return Err("expected end of input".to_string());
    }
    Ok(matchers)
}

/// True when Alertmanager 0.25's classic parser and 0.27+'s UTF-8 parser both
/// accept `input` and read the same matchers from it (0.27's fallback mode
/// then logs nothing, and `utf8-strict-mode` reads it the same way).
pub fn parsers_agree(input: &str) -> bool {
    let Ok(classic) = parse_matchers(input) else {
        return false;
    };
    let Ok(utf8) = parse_matchers_utf8(input) else {
        return false;
    };
    let classic: Vec<MatcherTriple> = classic
        .into_iter()
        .map(|matcher| (matcher.name, matcher.match_type, matcher.value))
        .collect();
    classic == utf8
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Utf8Token {
    OpenBrace,
    CloseBrace,
    Comma,
    Operator(MatchType),
    Text { text: String, quoted: bool },
}

/// The 0.27 lexer: reserved are whitespace and `{}!=~,\"'` and the backtick.
fn utf8_tokens(input: &str) -> Result<Vec<Utf8Token>, String> {
    let is_reserved =
        |character: char| character.is_whitespace() || "{}!=~,\\\"'`".contains(character);
    let characters: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    while index < characters.len() {
        let character = characters[index];
        match character {
            '{' => tokens.push(Utf8Token::OpenBrace),
            '}' => tokens.push(Utf8Token::CloseBrace),
            ',' => tokens.push(Utf8Token::Comma),
            '=' | '!' => {
                let next = characters.get(index + 1).copied();
                let (match_type, length) = match (character, next) {
                    ('=', Some('~')) => (MatchType::Regexp, 2),
                    ('=', _) => (MatchType::Equal, 1),
                    ('!', Some('=')) => (MatchType::NotEqual, 2),
                    ('!', Some('~')) => (MatchType::NotRegexp, 2),
                    _ => return Err(format!("expected one of '=~' after '!' at {index}")),
                };
                tokens.push(Utf8Token::Operator(match_type));
                index += length;
                continue;
            }
            '"' => {
                let mut end = index + 1;
                let mut escaped = false;
                while end < characters.len() {
                    let current = characters[end];
                    if escaped {
                        escaped = false;
                    } else if current == '\\' {
                        escaped = true;
                    } else if current == '"' {
                        break;
                    }
                    end += 1;
                }
                if end >= characters.len() {
                    return Err(format!("unterminated quoted string at {index}"));
                }
                tokens.push(Utf8Token::Text {
                    text: characters[index..=end].iter().collect(),
                    quoted: true,
                });
                index = end + 1;
                continue;
            }
            _ if character.is_whitespace() => {}
            _ if !is_reserved(character) => {
                let mut end = index;
                while end < characters.len() && !is_reserved(characters[end]) {
                    end += 1;
                }
                tokens.push(Utf8Token::Text {
                    text: characters[index..end].iter().collect(),
                    quoted: false,
                });
                index = end;
                continue;
            }
            _ => return Err(format!("invalid input {character:?} at {index}")),
        }
        index += 1;
    }
    Ok(tokens)
}

/// An unquoted token as is; a quoted one through Go's `strconv.Unquote`.
fn utf8_unquote(token: &Utf8Token) -> Result<String, String> {
    let Utf8Token::Text { text, quoted } = token else {
        return Err("expected text".to_string());
    };
    if !quoted {
        return Ok(text.clone());
    }
    go_quote::unquote(text).ok_or_else(|| format!("{text}: invalid input"))
}

/// Renders a matcher that Alertmanager 0.25's classic parser and 0.27+'s
/// UTF-8 parser both read as (`label`, `operator`, `value`). Fails when the
/// label name is not a classic label name (`[a-zA-Z_:][a-zA-Z0-9_:]*`), the
/// operator is unknown, or a regex value does not compile.
pub fn quote_matcher(label: &str, operator: &str, value: &str) -> Result<String, String> {
    if !names::is_classic_matcher_label_name(label) {
        return Err(format!(
            "label name {label:?} cannot be written in a matcher that Alertmanager 0.25 reads"
        ));
    }
    let match_type = MatchType::from_operator(operator)
        .ok_or_else(|| format!("unknown matcher operator {operator:?}"))?;
    let matcher = Matcher::new(match_type, label, value)?;
    Ok(matcher.to_string())
}

/// Go's `regexp.Compile("^(?:" + pattern + ")$")` with Go's error wording.
pub fn compile_anchored_regex(pattern: &str) -> Result<Regex, String> {
    let anchored = format!("^(?:{pattern})$");
    let translated = translate_go_regex(&anchored)?;
    Regex::new(&translated).map_err(|error| {
        let message = error.to_string();
        let summary = message
            .lines()
            .rev()
            .find(|line| line.starts_with("error: "))
            .map(|line| line.trim_start_matches("error: ").to_string())
            .unwrap_or(message);
        format!("error parsing regexp: {summary}: `{anchored}`")
    })
}

/// OpenMetrics escaping as Go's `openMetricsEscape`: `\`, line feed, `"`.
pub fn open_metrics_escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for character in value.chars() {
        match character {
            '\\' => escaped.push_str("\\\\"),
            '\n' => escaped.push_str("\\n"),
            '"' => escaped.push_str("\\\""),
            _ => escaped.push(character),
        }
    }
    escaped
}

/// Go's `\s`: the ASCII whitespace of RE2 (no vertical tab).
fn is_go_regex_space(byte: u8) -> bool {
    matches!(byte, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

/// Go's `strings.TrimSpace` (Unicode whitespace).
fn go_trim_space(text: &str) -> &str {
    text.trim_matches(char::is_whitespace)
}

/// The classic parser's regex
/// `^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*((?s).*?)\s*$`, by hand.
fn split_matcher(input: &str) -> Option<(&str, &str, &str)> {
    let bytes = input.as_bytes();
    let mut position = 0;
    while position < bytes.len() && is_go_regex_space(bytes[position]) {
        position += 1;
    }
    let name_start = position;
    while position < bytes.len() {
        let byte = bytes[position];
        // The classic parser's name characters are the metric names' ones, `:` included.
        if !names::is_metric_name_byte(byte, position == name_start) {
            break;
        }
        position += 1;
    }
    if position == name_start {
        return None;
    }
    let name = &input[name_start..position];
    while position < bytes.len() && is_go_regex_space(bytes[position]) {
        position += 1;
    }
    let rest = &input[position..];
    let operator = ["=~", "=", "!=", "!~"]
        .into_iter()
        .find(|operator| rest.starts_with(operator))?;
    position += operator.len();
    while position < bytes.len() && is_go_regex_space(bytes[position]) {
        position += 1;
    }
    let mut value_end = bytes.len();
    while value_end > position && is_go_regex_space(bytes[value_end - 1]) {
        value_end -= 1;
    }
    Some((name, operator, &input[position..value_end]))
}

/// What Go's parser has on top of its stack, for its repetition checks.
#[derive(Clone, Copy)]
enum Previous {
    /// Start of a group or an alternative: a repetition has no argument.
    Nothing,
    Atom,
    /// A repetition operator that started at this index.
    Repeat(usize),
}

/// Rewrites a Go RE2 pattern into an equivalent `regex`-crate pattern, and
/// reports the errors Go's `regexp/syntax` reports, with Go's wording.
fn translate_go_regex(anchored: &str) -> Result<String, String> {
    let characters: Vec<char> = anchored.chars().collect();
    let mut output = String::with_capacity(anchored.len() + 16);
    let mut open_groups = 0usize;
    let mut previous = Previous::Nothing;
    let mut index = 0;
    while index < characters.len() {
        let character = characters[index];
        match character {
            '\\' => {
                let (translated, next_index) = translate_go_escape(&characters, index)?;
                output.push_str(&translated);
                index = next_index;
                previous = Previous::Atom;
            }
            '[' => {
                let (class, next_index) = translate_class(&characters, index)?;
                output.push_str(&class);
                index = next_index;
                previous = Previous::Atom;
            }
            '(' => {
                if characters.get(index + 1) != Some(&'?') {
                    open_groups += 1;
                    output.push('(');
                    index += 1;
                    previous = Previous::Nothing;
                    continue;
                }
                let named_group = characters.get(index + 2) == Some(&'P');
                let prefix_end = if named_group {
                    (index + 3..characters.len()).find(|&position| characters[position] == '>')
                } else {
                    (index + 2..characters.len())
                        .find(|&position| matches!(characters[position], ')' | ':'))
                };
                let Some(prefix_end) = prefix_end else {
                    return Err(go_regex_error("missing closing )", anchored));
                };
                if !named_group {
                    let flags = &characters[index + 2..prefix_end];
                    if let Some(bad_flag) = flags.iter().position(|flag| !"imsU-".contains(*flag)) {
                        // Go quotes the text up to and including the bad flag.
                        let fragment: String =
                            characters[index..index + 3 + bad_flag].iter().collect();
                        return Err(go_regex_error(
                            "invalid or unsupported Perl syntax",
                            &fragment,
                        ));
                    }
                }
                output.extend(&characters[index..=prefix_end]);
                index = prefix_end + 1;
                if characters[prefix_end] != ')' {
                    open_groups += 1;
                    previous = Previous::Nothing;
                }
            }
            ')' => {
                if open_groups == 0 {
                    return Err(go_regex_error("unexpected )", anchored));
                }
                open_groups -= 1;
                output.push(')');
                index += 1;
                previous = Previous::Atom;
            }
            '|' => {
                output.push('|');
                index += 1;
                previous = Previous::Nothing;
            }
            '*' | '+' | '?' => {
                let start = index;
                index = repetition(&characters, index, index + 1, previous, &mut output)?;
                previous = Previous::Repeat(start);
            }
            '{' => match parse_go_repeat(&characters, index) {
                Some((minimum, maximum, next_index)) => {
                    if minimum > 1000
                        || maximum.is_some_and(|maximum| maximum > 1000 || maximum < minimum)
                    {
                        let fragment: String = characters[index..next_index].iter().collect();
                        return Err(go_regex_error("invalid repeat count", &fragment));
                    }
                    let start = index;
                    index = repetition(&characters, index, next_index, previous, &mut output)?;
                    previous = Previous::Repeat(start);
                }
                None => {
                    output.push_str("\\{");
                    index += 1;
                    previous = Previous::Atom;
                }
            },
            '}' => {
                output.push_str("\\}");
                index += 1;
                previous = Previous::Atom;
            }
            _ => {
                output.push(character);
                index += 1;
                previous = Previous::Atom;
            }
        }
    }
    if open_groups > 0 {
        return Err(go_regex_error("missing closing )", anchored));
    }
    Ok(output)
}

fn go_regex_error(code: &str, fragment: &str) -> String {
    format!("error parsing regexp: {code}: `{fragment}`")
}

/// Copies a repetition operator `characters[start..end]` (and a lazy `?`),
/// after Go's checks: no stacked repetitions, and something to repeat.
fn repetition(
    characters: &[char],
    start: usize,
    end: usize,
    previous: Previous,
    output: &mut String,
) -> Result<usize, String> {
    let mut end = end;
    if characters.get(end) == Some(&'?') {
        end += 1;
    }
    match previous {
        Previous::Repeat(previous_start) => {
            let fragment: String = characters[previous_start..end].iter().collect();
            Err(go_regex_error(
                "invalid nested repetition operator",
                &fragment,
            ))
        }
        Previous::Nothing => {
            let fragment: String = characters[start..end].iter().collect();
            Err(go_regex_error(
                "missing argument to repetition operator",
                &fragment,
            ))
        }
        Previous::Atom => {
            output.extend(&characters[start..end]);
            Ok(end)
        }
    }
}

/// An escape outside a class: Go's accepted escapes, rewritten for the regex crate.
fn translate_go_escape(characters: &[char], start: usize) -> Result<(String, usize), String> {
    let Some(&escaped) = characters.get(start + 1) else {
        return Err(go_regex_error(
            "trailing backslash at end of expression",
            "",
        ));
    };
    match escaped {
        'A' => Ok(("\\A".to_string(), start + 2)),
        'z' => Ok(("\\z".to_string(), start + 2)),
        'b' => Ok(("(?-u:\\b)".to_string(), start + 2)),
        'B' => Ok(("(?-u:\\B)".to_string(), start + 2)),
        'Q' => {
            let mut literal_end = start + 2;
            while literal_end < characters.len()
                && !(characters[literal_end] == '\\'
                    && characters.get(literal_end + 1) == Some(&'E'))
            {
                literal_end += 1;
            }
            let literal: String = characters[start + 2..literal_end].iter().collect();
            Ok((
                regex::escape(&literal),
                (literal_end + 2).min(characters.len()),
            ))
        }
        'd' | 'D' | 's' | 'S' | 'w' | 'W' => Ok((perl_class(escaped, false), start + 2)),
        'p' | 'P' => unicode_class(characters, start),
        _ => {
            let (value, next_index) = escaped_character(characters, start)?;
            Ok((format!("\\x{{{:x}}}", value as u32), next_index))
        }
    }
}

/// Go's `\d \s \w` and negations: ASCII only, unlike the regex crate's.
fn perl_class(escaped: char, inside_class: bool) -> String {
    let (positive, negated) = match escaped {
        'd' => ("0-9", false),
        'D' => ("0-9", true),
        's' => ("\\t\\n\\x0C\\r ", false),
        'S' => ("\\t\\n\\x0C\\r ", true),
        'w' => ("0-9A-Za-z_", false),
        _ => ("0-9A-Za-z_", true),
    };
    match (inside_class, negated) {
        (true, false) => positive.to_string(),
        (_, true) => format!("[^{positive}]"),
        (false, false) => format!("[{positive}]"),
    }
}

/// `\pL`, `\PL`, `\p{Greek}`: accepted when the regex crate knows the class.
fn unicode_class(characters: &[char], start: usize) -> Result<(String, usize), String> {
    let end = match characters.get(start + 2) {
        Some('{') => (start + 3..characters.len())
            .find(|&position| characters[position] == '}')
            .map(|close| close + 1),
        Some(_) => Some(start + 3),
        None => None,
    };
    let Some(end) = end else {
        let fragment: String = characters[start..].iter().collect();
        return Err(go_regex_error("invalid character class range", &fragment));
    };
    let text: String = characters[start..end].iter().collect();
    if Regex::new(&text).is_err() {
        return Err(go_regex_error("invalid character class range", &text));
    }
    Ok((text, end))
}

/// A single-character escape (Go's `parseEscape`): octal, hex, `\a\f\n\r\t\v`,
/// or escaped ASCII punctuation; anything else is an invalid escape.
fn escaped_character(characters: &[char], start: usize) -> Result<(char, usize), String> {
    let invalid = |end: usize| {
        let fragment: String = characters[start..end.min(characters.len())]
            .iter()
            .collect();
        Err(go_regex_error("invalid escape sequence", &fragment))
    };
    let Some(&escaped) = characters.get(start + 1) else {
        return Err(go_regex_error(
            "trailing backslash at end of expression",
            "",
        ));
    };
    let is_octal = |position: usize| {
        characters
            .get(position)
            .is_some_and(|digit| ('0'..='7').contains(digit))
    };
    match escaped {
        '1'..='7' if !is_octal(start + 2) => invalid(start + 2),
        '0'..='7' => {
            let mut end = start + 2;
            while end < start + 4 && is_octal(end) {
                end += 1;
            }
            let digits: String = characters[start + 1..end].iter().collect();
            let value = u32::from_str_radix(&digits, 8).unwrap_or(0);
            Ok((char::from_u32(value).unwrap_or('\0'), end))
        }
        'x' => {
            if characters.get(start + 2) == Some(&'{') {
                let close =
                    (start + 3..characters.len()).find(|&position| characters[position] == '}');
                let Some(close) = close else {
                    return invalid(characters.len());
                };
                let digits: String = characters[start + 3..close].iter().collect();
                match u32::from_str_radix(&digits, 16)
                    .ok()
                    .and_then(char::from_u32)
                {
                    Some(value) if !digits.is_empty() => Ok((value, close + 1)),
                    _ => invalid(close + 1),
                }
            } else {
                let digits: String = characters
                    .get(start + 2..start + 4)
                    .map(|pair| pair.iter().collect())
                    .unwrap_or_default();
                match u32::from_str_radix(&digits, 16)
                    .ok()
                    .and_then(char::from_u32)
                {
                    Some(value) if digits.len() == 2 => Ok((value, start + 4)),
                    _ => invalid(start + 4),
                }
            }
        }
        'a' => Ok(('\u{7}', start + 2)),
        'f' => Ok(('\u{c}', start + 2)),
        'n' => Ok(('\n', start + 2)),
        'r' => Ok(('\r', start + 2)),
        't' => Ok(('\t', start + 2)),
        'v' => Ok(('\u{b}', start + 2)),
        punctuation if punctuation.is_ascii() && !punctuation.is_ascii_alphanumeric() => {
            Ok((punctuation, start + 2))
        }
        _ => invalid(start + 2),
    }
}

const POSIX_CLASSES: [&str; 14] = [
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
    "space", "upper", "word", "xdigit",
];

/// A Go character class starting at `start` (`[`), rewritten for the regex
/// crate: `[`, `&&`, `--` and `~~` are literals in Go.
fn translate_class(characters: &[char], start: usize) -> Result<(String, usize), String> {
    let unclosed = || {
        let fragment: String = characters[start..].iter().collect();
        Err(go_regex_error("missing closing ]", &fragment))
    };
    let mut output = String::from("[");
    let mut index = start + 1;
    if characters.get(index) == Some(&'^') {
        output.push('^');
        index += 1;
    }
    let mut first = true;
    loop {
        let Some(&character) = characters.get(index) else {
            return unclosed();
        };
        if character == ']' && !first {
            output.push(']');
            return Ok((output, index + 1));
        }
        first = false;
        if character == '[' && characters.get(index + 1) == Some(&':') {
            let close = (index + 2..characters.len().saturating_sub(1))
                .find(|&position| characters[position] == ':' && characters[position + 1] == ']');
            if let Some(close) = close {
                let name: String = characters[index + 2..close].iter().collect();
                let text: String = characters[index..close + 2].iter().collect();
                if !POSIX_CLASSES.contains(&name.strip_prefix('^').unwrap_or(&name)) {
                    return Err(go_regex_error("invalid character class range", &text));
                }
                output.push_str(&text);
                index = close + 2;
                continue;
            }
        }
        if character == '\\' {
            match characters.get(index + 1) {
                Some(&escaped @ ('d' | 'D' | 's' | 'S' | 'w' | 'W')) => {
                    output.push_str(&perl_class(escaped, true));
                    index += 2;
                    continue;
                }
                Some('p' | 'P') => {
                    let (class, next_index) = unicode_class(characters, index)?;
                    output.push_str(&class);
                    index = next_index;
                    continue;
                }
                None => return unclosed(),
                Some(_) => {}
            }
        }
        let range_start = index;
        let (low, next_index) = class_character(characters, index)?;
        index = next_index;
        if characters.get(index) == Some(&'-')
            && characters.get(index + 1).is_some_and(|next| *next != ']')
        {
            let (high, next_index) = class_character(characters, index + 1)?;
            if high < low {
                let fragment: String = characters[range_start..next_index].iter().collect();
                return Err(go_regex_error("invalid character class range", &fragment));
            }
            output.push_str(&format!("\\x{{{:x}}}-\\x{{{:x}}}", low as u32, high as u32));
            index = next_index;
        } else {
            output.push_str(&format!("\\x{{{:x}}}", low as u32));
        }
    }
}

/// One character of a class, literal or escaped.
fn class_character(characters: &[char], index: usize) -> Result<(char, usize), String> {
    match characters.get(index) {
        Some('\\') => escaped_character(characters, index),
        Some(&character) => Ok((character, index + 1)),
        None => Err(go_regex_error("missing closing ]", "")),
    }
}

/// Go's repeat syntax `{n}`, `{n,}`, `{n,m}` at `start`; `None` when the
/// brace is a literal for Go.
fn parse_go_repeat(characters: &[char], start: usize) -> Option<(u64, Option<u64>, usize)> {
    let mut index = start + 1;
    let read_number = |index: &mut usize| -> Option<u64> {
        let number_start = *index;
        while *index < characters.len() && characters[*index].is_ascii_digit() {
            *index += 1;
        }
        if *index == number_start {
            return None;
        }
        let digits: String = characters[number_start..*index].iter().collect();
        // Very long counts are invalid anyway; saturate instead of failing here.
        Some(digits.parse::<u64>().unwrap_or(u64::MAX))
    };
    let minimum = read_number(&mut index)?;
    let maximum = if characters.get(index) == Some(&',') {
        index += 1;
        if characters.get(index) == Some(&'}') {
            None
        } else {
            Some(read_number(&mut index)?)
        }
    } else {
        Some(minimum)
    };
    if characters.get(index) != Some(&'}') {
        return None;
    }
    Some((minimum, maximum, index + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(input: &str) -> Vec<(String, &'static str, String)> {
        parse_matchers(input)
            .unwrap_or_else(|error| panic!("{input}: {error}"))
            .into_iter()
            .map(|matcher| (matcher.name, matcher.match_type.as_str(), matcher.value))
            .collect()
    }

    fn triple(name: &str, operator: &'static str, value: &str) -> (String, &'static str, String) {
        (name.to_string(), operator, value.to_string())
    }

    #[test]
    fn classic_examples_from_the_go_documentation_parse() {
        assert_eq!(
            parsed(r#"{foo = "bar", dings != "bums", }"#),
            vec![triple("foo", "=", "bar"), triple("dings", "!=", "bums")]
        );
        assert_eq!(
            parsed("foo=bar,dings!=bums"),
            vec![triple("foo", "=", "bar"), triple("dings", "!=", "bums")]
        );
        assert_eq!(
            parsed(r#"{quote="She said: \"Hi, ladies! That's gender-neutral…\""}"#),
            vec![triple(
                "quote",
                "=",
                "She said: \"Hi, ladies! That's gender-neutral…\""
            )]
        );
        assert_eq!(
            parsed(r#"statuscode=~"5..""#),
            vec![triple("statuscode", "=~", "5..")]
        );
    }

    #[test]
    fn tolerant_escapes_and_unquoted_values_follow_the_classic_parser() {
        assert_eq!(parsed(r#"a="x\qy""#), vec![triple("a", "=", "x\\qy")]);
        assert_eq!(parsed(r#"a="x\ny""#), vec![triple("a", "=", "x\ny")]);
        assert_eq!(parsed(r"a=x\"), vec![triple("a", "=", "x\\")]);
        assert_eq!(parsed("a=bar baz "), vec![triple("a", "=", "bar baz")]);
        assert_eq!(parsed("a=b=c"), vec![triple("a", "=", "b=c")]);
        assert_eq!(parsed("a="), vec![triple("a", "=", "")]);
        assert_eq!(parsed("a:b!~x"), vec![triple("a:b", "!~", "x")]);
    }

    #[test]
    fn malformed_matchers_are_rejected_with_go_wording() {
        assert_eq!(
            parse_matchers("1a=b").unwrap_err(),
            "bad matcher format: 1a=b"
        );
        assert_eq!(
            parse_matchers("a=b,,c=d").unwrap_err(),
            "bad matcher format: "
        );
        assert_eq!(
            parse_matchers(r#"a="b"#).unwrap_err(),
            r#"matcher value contains unescaped double quote: "b"#
        );
        assert_eq!(
            parse_matchers(r#"a=b"c"#).unwrap_err(),
            r#"matcher value contains unescaped double quote: b"c"#
        );
        assert_eq!(
            parse_matchers(r#"team=~"(unclosed""#).unwrap_err(),
            "error parsing regexp: missing closing ): `^(?:(unclosed)$`"
        );
    }

    #[test]
    fn the_utf8_parser_reads_some_classic_inputs_differently() {
        let agree = [
            "a=\"b\"",
            "{a=\"b\", c!~\"d|e\"}",
            "a=b",
            "{a=b,}",
            "a:b=\"x\"",
            "a=\"x\\\\y\"",
        ];
        for text in agree {
            assert!(parsers_agree(text), "{text}");
        }
        // Rejected by the UTF-8 parser, or read with another value.
        let differ = [
            "a=bar baz",
            "a=b=c",
            "a=",
            "{a=\"b\"",
            "a=\"x\\qy\"",
            "a=\"x\\ty\"",
            "a=~\\d+",
            "a=b}",
        ];
        for text in differ {
            assert!(!parsers_agree(text), "{text}");
        }
        assert_eq!(
            parse_matchers_utf8("{\"ünï code\"=~\"x\", b=c,}"),
            Ok(vec![
                ("ünï code".to_string(), MatchType::Regexp, "x".to_string()),
                ("b".to_string(), MatchType::Equal, "c".to_string()),
            ])
        );
    }

    #[test]
    fn regexes_are_anchored_and_use_go_ascii_classes() {
        let matcher = parse_matcher(r#"a=~"b|c""#).expect("valid");
        assert!(matcher.matches_value("b"));
        assert!(!matcher.matches_value("bc"));
        assert!(!matcher.matches_value("xb"));
        let digits = parse_matcher(r#"a=~"\\d+""#).expect("valid");
        assert!(digits.matches_value("42"));
        assert!(!digits.matches_value("٤٢"), "Go's \\d is ASCII only");
        let class = parse_matcher(r#"a=~"[[]x""#).expect("Go reads [[] as a class holding [");
        assert!(class.matches_value("[x"));
        let braces = parse_matcher(r#"a=~"x{""#).expect("Go reads a lone { as a literal");
        assert!(braces.matches_value("x{"));
        assert!(compile_anchored_regex("a{1001}").is_err());
        assert!(compile_anchored_regex("(?x)a").is_err());
    }

    #[test]
    fn quoted_matchers_round_trip_through_the_classic_parser() {
        for value in [
            "plain",
            "with \"quotes\"",
            "back\\slash",
            "new\nline",
            "a,b}",
            "\\q",
        ] {
            let text = quote_matcher("label", "=", value).expect("quotable");
            let matcher = parse_matcher(&text).expect("parses");
            assert_eq!(matcher.value, value, "{text}");
        }
        assert!(quote_matcher("bad-name", "=", "x").is_err());
        for value in [
            "plain",
            "with \"quotes\"",
            "back\\slash",
            "new\nline",
            "a,b}",
            "\\q",
            "tab\there",
            "ünï",
            "",
            "{x}",
        ] {
            let text = quote_matcher("label", "=~", value)
                .unwrap_or_else(|_| quote_matcher("label", "=", value).expect("quotable"));
            assert!(parsers_agree(&text), "{text}");
        }
        assert_eq!(
            quote_matcher("severity", "=", "page").as_deref(),
            Ok(r#"severity="page""#)
        );
    }
}
