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
//! Where Alertmanager 0.27+'s UTF-8 matcher parser reads the same text
//! differently (it is the default, in "fallback" mode, from 0.27 on):
//! - unquoted values stop at whitespace and at any of `{}!=~,\"'` and the
//!   backtick, where the classic parser takes the rest of the string lazily
//!   (`foo=bar baz` is the value `bar baz` for 0.25, an error for 0.27);
//! - inside quotes the new parser applies Go's `strconv.Unquote`, so `\t`
//!   becomes a tab and an unknown escape such as `\q` is an error, where the
//!   classic parser keeps both as literal backslash sequences;
//! - braces must balance for the new parser (`{foo="bar"` is accepted by 0.25);
//! - label names may be any UTF-8 (quoted) for the new parser only.
//!
//! [`quote_matcher`] renders text on which both parsers agree: a classic
//! label name, the operator, and a double-quoted value in which only `\`, `"`
//! and line feed are escaped.

use std::collections::BTreeMap;
use std::fmt;

use regex::Regex;

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

/// Renders a matcher that Alertmanager 0.25's classic parser and 0.27+'s
/// UTF-8 parser both read as (`label`, `operator`, `value`). Fails when the
/// label name is not a classic label name (`[a-zA-Z_:][a-zA-Z0-9_:]*`), the
/// operator is unknown, or a regex value does not compile.
pub fn quote_matcher(label: &str, operator: &str, value: &str) -> Result<String, String> {
    if !is_classic_matcher_label_name(label) {
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

/// Prometheus' `model.LabelName.IsValid`: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_valid_label_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().enumerate().all(|(index, byte)| {
            byte.is_ascii_alphabetic() || byte == b'_' || (index > 0 && byte.is_ascii_digit())
        })
}

fn is_classic_matcher_label_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().enumerate().all(|(index, byte)| {
            byte.is_ascii_alphabetic()
                || byte == b'_'
                || byte == b':'
                || (index > 0 && byte.is_ascii_digit())
        })
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
        let allowed = byte.is_ascii_alphabetic()
            || byte == b'_'
            || byte == b':'
            || (position > name_start && byte.is_ascii_digit());
        if !allowed {
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

/// Rewrites a Go RE2 pattern into an equivalent `regex`-crate pattern, and
/// reports the structural errors Go reports, with Go's wording.
fn translate_go_regex(anchored: &str) -> Result<String, String> {
    let characters: Vec<char> = anchored.chars().collect();
    let mut output = String::with_capacity(anchored.len() + 16);
    let mut open_groups = 0usize;
    let mut index = 0;
    let go_error =
        |code: &str, fragment: &str| format!("error parsing regexp: {code}: `{fragment}`");
    while index < characters.len() {
        let character = characters[index];
        match character {
            '\\' => {
                let Some(&next) = characters.get(index + 1) else {
                    return Err(go_error("trailing backslash at end of expression", ""));
                };
                if next == 'Q' {
                    let mut literal_end = index + 2;
                    while literal_end < characters.len()
                        && !(characters[literal_end] == '\\'
                            && characters.get(literal_end + 1) == Some(&'E'))
                    {
                        literal_end += 1;
                    }
                    let literal: String = characters[index + 2..literal_end].iter().collect();
                    output.push_str(&regex::escape(&literal));
                    index = (literal_end + 2).min(characters.len());
                    continue;
                }
                if let Some(end) = braced_escape_end(&characters, index) {
                    output.extend(&characters[index..end]);
                    index = end;
                    continue;
                }
                output.push_str(&translate_escape(next, false));
                index += 2;
            }
            '[' => {
                let (class, next_index) = translate_class(&characters, index).ok_or_else(|| {
                    let fragment: String = characters[index..].iter().collect();
                    go_error("missing closing ]", &fragment)
                })?;
                output.push_str(&class);
                index = next_index;
            }
            '(' => {
                if characters.get(index + 1) == Some(&'?') {
                    let mut flag_end = index + 2;
                    while flag_end < characters.len() && !matches!(characters[flag_end], ')' | ':')
                    {
                        flag_end += 1;
                    }
                    let flags: String = characters[index + 2..flag_end.min(characters.len())]
                        .iter()
                        .collect();
                    let named_group = flags.starts_with("P<");
                    let bad_flag = flags.chars().position(|flag| !"imsU-".contains(flag));
                    if let (false, Some(bad_flag)) = (named_group, bad_flag) {
                        // Go quotes the text up to and including the bad flag.
                        let fragment: String =
                            characters[index..index + 3 + bad_flag].iter().collect();
                        return Err(go_error("invalid or unsupported Perl syntax", &fragment));
                    }
                    if characters.get(flag_end) == Some(&')') && !named_group {
                        // A bare flag group such as `(?i)` opens no group.
                        let copied: String = characters[index..=flag_end].iter().collect();
                        output.push_str(&copied);
                        index = flag_end + 1;
                        continue;
                    }
                }
                open_groups += 1;
                output.push('(');
                index += 1;
            }
            ')' => {
                if open_groups == 0 {
                    return Err(go_error("unexpected )", anchored));
                }
                open_groups -= 1;
                output.push(')');
                index += 1;
            }
            '{' => match parse_go_repeat(&characters, index) {
                Some((minimum, maximum, next_index)) => {
                    if minimum > 1000
                        || maximum.is_some_and(|maximum| maximum > 1000 || maximum < minimum)
                    {
                        let fragment: String = characters[index..next_index].iter().collect();
                        return Err(go_error("invalid repeat count", &fragment));
                    }
                    let copied: String = characters[index..next_index].iter().collect();
                    output.push_str(&copied);
                    index = next_index;
                }
                None => {
                    output.push_str("\\{");
                    index += 1;
                }
            },
            '}' => {
                output.push_str("\\}");
                index += 1;
            }
            _ => {
                output.push(character);
                index += 1;
            }
        }
    }
    if open_groups > 0 {
        return Err(go_error("missing closing )", anchored));
    }
    Ok(output)
}

/// The end of `\p{..}`, `\P{..}` or `\x{..}` starting at `start`, copied as is.
fn braced_escape_end(characters: &[char], start: usize) -> Option<usize> {
    if !matches!(characters.get(start + 1), Some('p' | 'P' | 'x'))
        || characters.get(start + 2) != Some(&'{')
    {
        return None;
    }
    let close = (start + 3..characters.len()).find(|&position| characters[position] == '}')?;
    Some(close + 1)
}

/// One escape `\x` outside or inside a class, with Go's ASCII classes.
fn translate_escape(escaped: char, inside_class: bool) -> String {
    let (positive, negated) = match escaped {
        'd' => ("0-9", false),
        'D' => ("0-9", true),
        's' => ("\\t\\n\\x0C\\r ", false),
        'S' => ("\\t\\n\\x0C\\r ", true),
        'w' => ("0-9A-Za-z_", false),
        'W' => ("0-9A-Za-z_", true),
        'b' if !inside_class => return "(?-u:\\b)".to_string(),
        'B' if !inside_class => return "(?-u:\\B)".to_string(),
        _ => return format!("\\{escaped}"),
    };
    match (inside_class, negated) {
        (true, false) => positive.to_string(),
        (_, true) => format!("[^{positive}]"),
        (false, false) => format!("[{positive}]"),
    }
}

/// A Go character class starting at `start` (`[`), rewritten for the regex
/// crate; `None` when it is not closed.
fn translate_class(characters: &[char], start: usize) -> Option<(String, usize)> {
    let mut output = String::from("[");
    let mut index = start + 1;
    if characters.get(index) == Some(&'^') {
        output.push('^');
        index += 1;
    }
    // A `]` right after `[` or `[^` is a literal in both dialects.
    if characters.get(index) == Some(&']') {
        output.push_str("\\]");
        index += 1;
    }
    while index < characters.len() {
        let character = characters[index];
        match character {
            ']' => {
                output.push(']');
                return Some((output, index + 1));
            }
            '\\' => {
                let next = *characters.get(index + 1)?;
                if let Some(end) = braced_escape_end(characters, index) {
                    output.extend(&characters[index..end]);
                    index = end;
                    continue;
                }
                output.push_str(&translate_escape(next, true));
                index += 2;
            }
            '[' if characters.get(index + 1) == Some(&':') => {
                let close = (index + 2..characters.len().saturating_sub(1)).find(|&position| {
                    characters[position] == ':' && characters[position + 1] == ']'
                });
                match close {
                    Some(position) => {
                        let copied: String = characters[index..position + 2].iter().collect();
                        output.push_str(&copied);
                        index = position + 2;
                    }
                    None => {
                        output.push_str("\\[");
                        index += 1;
                    }
                }
            }
            // Literal in Go, nesting or set operators in the regex crate.
            '[' | '&' | '~' => {
                output.push('\\');
                output.push(character);
                index += 1;
            }
            '-' if characters.get(index + 1) == Some(&'-') => {
                output.push_str("\\-");
                index += 1;
            }
            _ => {
                output.push(character);
                index += 1;
            }
        }
    }
    None
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
        assert_eq!(
            quote_matcher("severity", "=", "page").as_deref(),
            Ok(r#"severity="page""#)
        );
    }
}
