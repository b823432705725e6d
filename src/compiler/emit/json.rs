//! A small JSON tree for the generated dashboards and its writer: two-space
//! indented text with object keys in sorted order, as `serde_json::to_string_pretty`
//! writes a `serde_json::Value`, but without allocating a key per member or a
//! B-tree per object (a dashboard holds tens of thousands of members; building and
//! freeing `Value` trees was a quarter of a build).
//!
//! Invariants: the text is a pure function of the tree; keys are written in
//! byte order whatever order they were inserted in (a key set twice keeps its
//! last value, as indexing a `Value` does); strings are escaped as serde_json
//! escapes them, and in addition every character YAML does not allow raw
//! (C1 controls, line and paragraph separators, BOM, non-characters) is written
//! as `\uXXXX`, so the text can sit in a YAML `|-` block unchanged.
//! [`json!`] builds a tree with serde_json's `json!` syntax.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::yaml;
use crate::base::digits::Digits;

/// One JSON value. Keys are the words of a schema (`gridPos`, `targets`): static.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    /// Written as serde_json writes a finite double; a non-finite one is `null`.
    Float(f64),
    Str(Cow<'static, str>),
    Array(Vec<Json>),
    /// Sorted by key, one member a key: built by [`Json::object`].
    Object(Vec<(&'static str, Json)>),
}

impl Json {
    /// An object of `members`, kept sorted by key (the last of equal keys wins).
    pub fn object(mut members: Vec<(&'static str, Json)>) -> Json {
        members.reverse();
        // Stable: of equal keys, the one given last now comes first and is kept.
        members.sort_by_key(|(key, _)| *key);
        members.dedup_by_key(|(key, _)| *key);
        Json::Object(members)
    }

    /// Sets `key` of an object, replacing an earlier value of the same key.
    /// Anything but an object is left as it is.
    pub fn set(&mut self, key: &'static str, value: Json) {
        if let Json::Object(members) = self {
            match members.binary_search_by_key(&key, |(known, _)| *known) {
                Ok(found) => members[found].1 = value,
                Err(place) => members.insert(place, (key, value)),
            }
        }
    }

    /// Two-space indented text with a final newline, as `serde_json::to_string_pretty`.
    pub fn to_pretty_text(&self) -> String {
        let mut out = String::with_capacity(4096);
        self.write(&mut out, Some(0));
        out.push('\n');
        out
    }

    /// One line, no spaces, no final newline, as `serde_json::to_string`.
    pub fn to_compact_text(&self) -> String {
        let mut out = String::with_capacity(4096);
        self.write(&mut out, None);
        out
    }

    /// `indent`: the column of the value's first line; `None` for compact text.
    fn write(&self, out: &mut String, indent: Option<usize>) {
        let inner = indent.map(|column| column + 2);
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
            Json::Unsigned(value) => out.push_str(Digits::of(u128::from(*value)).as_str()),
            Json::Signed(value) => {
                if *value < 0 {
                    out.push('-');
                }
                out.push_str(Digits::of(u128::from(value.unsigned_abs())).as_str());
            }
            Json::Float(value) => match serde_json::Number::from_f64(*value) {
                Some(number) => {
                    let _ = write!(out, "{number}");
                }
                None => out.push_str("null"),
            },
            Json::Str(text) => push_string(out, text),
            Json::Array(items) if items.is_empty() => out.push_str("[]"),
            Json::Array(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    new_line(out, inner);
                    item.write(out, inner);
                }
                new_line(out, indent);
                out.push(']');
            }
            Json::Object(members) if members.is_empty() => out.push_str("{}"),
            Json::Object(members) => {
                out.push('{');
                for (index, (key, value)) in members.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    new_line(out, inner);
                    push_string(out, key);
                    out.push_str(if indent.is_some() { ": " } else { ":" });
                    value.write(out, inner);
                }
                new_line(out, indent);
                out.push('}');
            }
        }
    }
}

/// A line break and `indent` spaces; nothing in compact text.
fn new_line(out: &mut String, indent: Option<usize>) {
    const SPACES: &str = "                                                                ";
    let Some(indent) = indent else {
        return;
    };
    out.push('\n');
    let mut left = indent;
    while left > 0 {
        let run = left.min(SPACES.len());
        out.push_str(&SPACES[..run]);
        left -= run;
    }
}

/// `text` as a JSON string; runs of characters that need no escape are copied whole.
fn push_string(out: &mut String, text: &str) {
    out.push('"');
    let mut unwritten = 0;
    let bytes = text.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if (b' '..=b'~').contains(&byte) && byte != b'"' && byte != b'\\' {
            index += 1;
            continue;
        }
        // `index` is a character boundary: every byte before it was ASCII or a
        // whole character skipped below.
        let Some(character) = text[index..].chars().next() else {
            break;
        };
        let escape = match character {
            '"' | '\\' => true,
            other => u32::from(other) < 0x20 || yaml::needs_escape(other),
        };
        if !escape {
            index += character.len_utf8();
            continue;
        }
        out.push_str(&text[unwritten..index]);
        unwritten = index + character.len_utf8();
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            other => {
                // Every character escaped here is in the Basic Multilingual Plane.
                let _ = write!(out, "\\u{:04x}", u32::from(other));
            }
        }
        index += character.len_utf8();
    }
    out.push_str(&text[unwritten..]);
    out.push('"');
}

impl From<bool> for Json {
    fn from(value: bool) -> Json {
        Json::Bool(value)
    }
}

impl From<u64> for Json {
    fn from(value: u64) -> Json {
        Json::Unsigned(value)
    }
}

/// Integer literals (`"lineWidth": 1`) are `i32`, as in serde_json's `json!`.
impl From<i32> for Json {
    fn from(value: i32) -> Json {
        Json::Signed(i64::from(value))
    }
}

impl From<f64> for Json {
    fn from(value: f64) -> Json {
        Json::Float(value)
    }
}

impl From<Option<f64>> for Json {
    fn from(value: Option<f64>) -> Json {
        value.map_or(Json::Null, Json::Float)
    }
}

impl From<&'static str> for Json {
    fn from(value: &'static str) -> Json {
        Json::Str(Cow::Borrowed(value))
    }
}

impl From<String> for Json {
    fn from(value: String) -> Json {
        Json::Str(Cow::Owned(value))
    }
}

impl From<&String> for Json {
    fn from(value: &String) -> Json {
        Json::Str(Cow::Owned(value.clone()))
    }
}

impl From<Vec<Json>> for Json {
    fn from(value: Vec<Json>) -> Json {
        Json::Array(value)
    }
}

impl From<Vec<String>> for Json {
    fn from(value: Vec<String>) -> Json {
        Json::Array(value.into_iter().map(Json::from).collect())
    }
}

/// A [`Json`] tree in serde_json's `json!` syntax: `{ "key": value, ... }`,
/// `[a, b]`, `null`, or any expression with a `From` conversion. Keys are string
/// literals.
macro_rules! json {
    // Internal rules first: an `@` is not an expression, and a fragment parser
    // that fails does not fall through to the next rule.
    (@array [$($done:expr,)*]) => { vec![$($done,)*] };
    (@array [$($done:expr,)*] $($rest:tt)+) => { json!(@item [$($done,)*] () $($rest)+) };
    (@item [$($done:expr,)*] ($($value:tt)+) , $($rest:tt)*) => {
        json!(@array [$($done,)* json!($($value)+),] $($rest)*)
    };
    (@item [$($done:expr,)*] ($($value:tt)*) $next:tt $($rest:tt)*) => {
        json!(@item [$($done,)*] ($($value)* $next) $($rest)*)
    };
    (@item [$($done:expr,)*] ($($value:tt)+)) => { json!(@array [$($done,)* json!($($value)+),]) };
    (@object [$($done:expr,)*]) => { vec![$($done,)*] };
    (@object [$($done:expr,)*] $key:literal : $($rest:tt)+) => {
        json!(@member [$($done,)*] $key () $($rest)+)
    };
    (@member [$($done:expr,)*] $key:literal ($($value:tt)+) , $($rest:tt)*) => {
        json!(@object [$($done,)* ($key, json!($($value)+)),] $($rest)*)
    };
    (@member [$($done:expr,)*] $key:literal ($($value:tt)*) $next:tt $($rest:tt)*) => {
        json!(@member [$($done,)*] $key ($($value)* $next) $($rest)*)
    };
    (@member [$($done:expr,)*] $key:literal ($($value:tt)+)) => {
        json!(@object [$($done,)* ($key, json!($($value)+)),])
    };
    (null) => { $crate::compiler::emit::json::Json::Null };
    ([ $($items:tt)* ]) => { $crate::compiler::emit::json::Json::Array(json!(@array [] $($items)*)) };
    ({ $($members:tt)* }) => { $crate::compiler::emit::json::Json::object(json!(@object [] $($members)*)) };
    ($other:expr) => { $crate::compiler::emit::json::Json::from($other) };
}

pub(crate) use json;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_serde_json_pretty_text() {
        // The same literal through both macros.
        macro_rules! both {
            ($($literal:tt)+) => {
                (json!($($literal)+), serde_json::json!($($literal)+))
            };
        }
        let (ours, theirs) = both!({
            "type": "stat",
            "id": 7u64,
            "empty": [],
            "nothing": {},
            "nested": { "b": [1.5, null, true, "x\"y\\z\n\u{1}"], "a": Some(0.25) },
            "infinite": f64::INFINITY,
            "zero": 0.0,
            "big": 1e300,
        });
        let mut expected = serde_json::to_string_pretty(&theirs).unwrap();
        expected.push('\n');
        assert_eq!(ours.to_pretty_text(), expected);
        assert_eq!(
            ours.to_compact_text(),
            serde_json::to_string(&theirs).unwrap()
        );
    }

    #[test]
    fn characters_yaml_refuses_are_escaped_and_read_back() {
        let text = "a\u{85}b\u{2028}c\u{feff}d\u{7f}e\u{9f}f\u{ffff}g é";
        let written = Json::from(text).to_pretty_text();
        assert_eq!(
            written,
            "\"a\\u0085b\\u2028c\\ufeffd\\u007fe\\u009ff\\uffffg é\"\n"
        );
        let read: String = serde_json::from_str(&written).unwrap();
        assert_eq!(read, text);
        assert!(yaml::is_block_safe(written.trim_end()));
    }

    #[test]
    fn of_keys_given_twice_the_last_is_kept() {
        let object = json!({ "b": 1, "a": 2, "b": 3 });
        assert_eq!(object.to_compact_text(), r#"{"a":2,"b":3}"#);
    }

    #[test]
    fn a_key_set_again_keeps_its_last_value() {
        let mut panel = json!({ "id": 1u64, "title": "x" });
        panel.set("id", json!(2u64));
        panel.set("gridPos", json!({ "h": 1u64 }));
        assert_eq!(
            panel.to_pretty_text(),
            "{\n  \"gridPos\": {\n    \"h\": 1\n  },\n  \"id\": 2,\n  \"title\": \"x\"\n}\n"
        );
    }
}
