//! A Prometheus rule file as written (`groups:` of recording and alerting rules), decoded
//! from YAML the way promtool 2.42 decodes it (`rulefmt.Parse`: yaml.v3 with known fields
//! only), before any validation.
//!
//! Invariants:
//! - One model for every reader: the ruler, lint, deploy and the promtool test runner all
//!   decode rule files into [`RuleFileSource`]; what is valid is decided once, in
//!   [`super::validate`].
//! - Decoding is as strict as yaml.v3 with `KnownFields(true)`: an unknown key, a key given
//!   twice (in any mapping) or a value of the wrong type is a [`DecodeError`]; a null item
//!   in `groups` or `rules` is skipped; a string field takes any scalar's text as written
//!   (`1.50` stays `1.50`) and null as the empty string. `record`, `alert` and `expr` are
//!   yaml.v3 nodes in Prometheus, read as the node's text: `record` and `alert` keep even a
//!   null's spelling (`~`), and an `expr` that is a mapping or sequence reads as empty.
//! - Only the first YAML document counts, as in Prometheus; later ones are not read.
//! - Merge keys (`<<: *anchor`) are applied, as yaml.v3 does. A document that needs them is
//!   read through `yaml_serde::Value` and written back out first, so there plain scalars
//!   come out in the YAML library's spelling (`1.50` as `1.5`).
//!
//! Known differences from Prometheus, all in files nobody writes: an alias as `record`,
//! `alert` or `expr` reads as the anchored value (Prometheus reads the anchor's name); a
//! mapping or sequence as `record` or `alert` is a type error (Prometheus reads it as
//! empty); an `expr` written as a plain number, boolean or null reads in the YAML library's
//! spelling (`1.5` for `1.50`, empty for `null`), because reading any node there means
//! asking for its resolved value.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

/// A rule file: rulefmt's `RuleGroups`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFileSource {
    #[serde(default, deserialize_with = "go_list")]
    pub groups: Vec<GroupSource>,
}

/// One rule group as written.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSource {
    #[serde(default, deserialize_with = "go_string")]
    pub name: String,
    /// A `model.Duration` text; `None` when absent or null (Go's zero duration).
    #[serde(
        default,
        deserialize_with = "go_optional_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub interval: Option<String>,
    /// Prometheus 2.53's group field. `Some` whenever the key is present, so that
    /// [`super::GroupFields::Prometheus2_42`] can refuse it; a null reads as `0`, Go's zero
    /// duration.
    #[serde(
        default,
        deserialize_with = "present_duration",
        skip_serializing_if = "Option::is_none"
    )]
    pub query_offset: Option<String>,
    /// Go's `int`: 0 or less means no limit.
    #[serde(default, deserialize_with = "go_int")]
    pub limit: i64,
    /// Prometheus 3.0's group labels; `Some` whenever the key is present (see
    /// `query_offset`).
    #[serde(
        default,
        deserialize_with = "present_string_map",
        skip_serializing_if = "Option::is_none"
    )]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "go_list")]
    pub rules: Vec<RuleSource>,
}

/// One rule as written; `record`, `alert` and `expr` are empty when absent.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSource {
    #[serde(
        default,
        deserialize_with = "node_text",
        skip_serializing_if = "String::is_empty"
    )]
    pub record: String,
    #[serde(
        default,
        deserialize_with = "node_text",
        skip_serializing_if = "String::is_empty"
    )]
    pub alert: String,
    #[serde(default, deserialize_with = "expr_text")]
    pub expr: String,
    #[serde(
        default,
        rename = "for",
        deserialize_with = "go_optional_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub for_: Option<String>,
    #[serde(
        default,
        deserialize_with = "go_optional_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub keep_firing_for: Option<String>,
    #[serde(
        default,
        deserialize_with = "go_string_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    #[serde(
        default,
        deserialize_with = "go_string_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
}

impl RuleSource {
    /// Whether Prometheus loads this rule as an alerting rule: `alert` is set and `record`
    /// is not.
    pub fn is_alert(&self) -> bool {
        self.record.is_empty() && !self.alert.is_empty()
    }

    /// The record or alert name (`record` first), empty when neither is set.
    pub fn name(&self) -> &str {
        if self.record.is_empty() {
            &self.alert
        } else {
            &self.record
        }
    }
}

/// Why a rule file does not decode: a YAML syntax error or a value of the wrong shape.
/// The message is yaml_serde's, with the line and column where they point into the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub message: String,
    /// Byte offset into the file, when the error points into it.
    pub offset: Option<usize>,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Decodes a rule file's first YAML document (an empty file has no groups).
pub fn decode_rule_file(text: &str) -> Result<RuleFileSource, DecodeError> {
    let Some(document) = yaml_serde::Deserializer::from_str(text).next() else {
        return Ok(RuleFileSource::default());
    };
    match Option::<RuleFileSource>::deserialize(document) {
        Ok(source) => Ok(source.unwrap_or_default()),
        Err(error) if text.contains("<<") => {
            // Perhaps merge keys, which only the `Value` path applies. Without any, the
            // direct error stands, as it has the position.
            let value = yaml_serde::Deserializer::from_str(text)
                .next()
                .map(yaml_serde::Value::deserialize)
                .transpose()
                .map_err(|e| decode_error(&e))?;
            let Some(mut merged) = value.clone() else {
                return Err(decode_error(&error));
            };
            merged.apply_merge().map_err(|e| decode_error(&e))?;
            if Some(&merged) == value.as_ref() {
                return Err(decode_error(&error));
            }
            decode_value(merged)
        }
        Err(error) => Err(decode_error(&error)),
    }
}

/// Decodes one document already read into a `Value` (a manifest's `spec`, a document with
/// merge keys): merge keys are applied, then the value goes through the same decoder as
/// text. Errors carry no position, as the text they would point into is not the file's.
pub fn decode_value(mut value: yaml_serde::Value) -> Result<RuleFileSource, DecodeError> {
    value.apply_merge().map_err(|e| decode_error(&e))?;
    if value.is_null() {
        return Ok(RuleFileSource::default());
    }
    // A `Value` read from YAML writes back out as YAML that reads again.
    let text = yaml_serde::to_string(&value).map_err(|e| decode_error(&e))?;
    yaml_serde::from_str(&text).map_err(|error| {
        let message = error.to_string();
        let message = match message.rfind(" at line ") {
            Some(at) if error.location().is_some() => message[..at].to_string(),
            _ => message,
        };
        DecodeError {
            message,
            offset: None,
        }
    })
}

/// A yaml_serde error as a [`DecodeError`] pointing into the text that was read.
pub fn decode_error(error: &yaml_serde::Error) -> DecodeError {
    DecodeError {
        message: error.to_string(),
        offset: error.location().map(|location| location.index()),
    }
}

/// A Go `string` field: any scalar's text as written, null as the empty string.
pub fn go_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(go_optional_string(deserializer)?.unwrap_or_default())
}

/// A Go `string` field whose absence matters: `None` for null.
pub fn go_optional_string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    deserializer.deserialize_option(OptionalScalarText)
}

/// A Go `map[string]string`: null is empty, a null value is the empty string, an entry
/// with a null key is dropped, and a key given twice is an error (yaml.v3's
/// `mapping key "x" already defined`).
pub fn go_string_map<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(present_string_map(deserializer)?.unwrap_or_default())
}

/// A field that yaml.v3 decodes into a `yaml.Node` and Prometheus reads as the node's
/// text: a scalar as written, even a null (`~`).
fn node_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserializer.deserialize_str(ScalarText)
}

/// `expr` as Prometheus reads its node: a string as written, another scalar in the YAML
/// library's spelling, a mapping or sequence as empty (rulefmt then says it must be set).
fn expr_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserializer.deserialize_any(AnyNodeText)
}

/// A sequence of structs as yaml.v3 fills a Go slice: null is empty and null items are
/// skipped.
fn go_list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let items: Option<Vec<Option<T>>> = Option::deserialize(deserializer)?;
    Ok(items.into_iter().flatten().flatten().collect())
}

/// Go's `int`: integers, floats truncated toward zero when in range (yaml.v3 does so),
/// null as 0; a string or boolean is a type error.
fn go_int<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    deserializer.deserialize_any(GoInt)
}

fn present_duration<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Ok(Some(
        go_optional_string(deserializer)?.unwrap_or_else(|| "0".to_string()),
    ))
}

fn present_string_map<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    deserializer.deserialize_option(StringMap).map(Some)
}

struct ScalarText;

impl<'de> Visitor<'de> for ScalarText {
    type Value = String;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<String, E> {
        Ok(text.to_string())
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<String, E> {
        Ok(text)
    }
}

struct AnyNodeText;

impl<'de> Visitor<'de> for AnyNodeText {
    type Value = String;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a YAML node")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<String, E> {
        Ok(text.to_string())
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<String, E> {
        Ok(text)
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<String, E> {
        Ok(value.to_string())
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<String, E> {
        Ok(value.to_string())
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<String, E> {
        Ok(value.to_string())
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<String, E> {
        Ok(value.to_string())
    }

    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }

    fn visit_none<E: de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<String, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(String::new())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<String, A::Error> {
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        Ok(String::new())
    }
}

struct OptionalScalarText;

impl<'de> Visitor<'de> for OptionalScalarText {
    type Value = Option<String>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a string")
    }

    fn visit_none<E: de::Error>(self) -> Result<Option<String>, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<String>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<String>, D::Error> {
        deserializer.deserialize_str(ScalarText).map(Some)
    }
}

struct StringMap;

impl<'de> Visitor<'de> for StringMap {
    type Value = BTreeMap<String, String>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a map of strings")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(BTreeMap::new())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(BTreeMap::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(key) = map.next_key_seed(OptionalText)? {
            let value = map.next_value_seed(OptionalText)?.unwrap_or_default();
            let Some(key) = key else {
                continue;
            };
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "mapping key {key:?} already defined"
                )));
            }
            out.insert(key, value);
        }
        Ok(out)
    }
}

/// [`go_optional_string`] as a seed, for map keys and values.
struct OptionalText;

impl<'de> de::DeserializeSeed<'de> for OptionalText {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        go_optional_string(deserializer)
    }
}

struct GoInt;

impl<'de> Visitor<'de> for GoInt {
    type Value = i64;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an int")
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<i64, E> {
        Ok(value)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<i64, E> {
        i64::try_from(value).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(value), &self))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<i64, E> {
        // i64::MAX as f64 rounds up to 2^63, which no longer fits.
        if value.is_finite() && value >= i64::MIN as f64 && value < i64::MAX as f64 {
            Ok(value.trunc() as i64)
        } else {
            Err(E::invalid_value(de::Unexpected::Float(value), &self))
        }
    }

    fn visit_none<E: de::Error>(self) -> Result<i64, E> {
        Ok(0)
    }

    fn visit_unit<E: de::Error>(self) -> Result<i64, E> {
        Ok(0)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<i64, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// Where the `expr` value of rule `rule` of group `group` starts in `text` (line and
/// column from 1, as yaml.v3's nodes give them), counting items as YAML lists them;
/// `None` when the document does not have that node as plain YAML.
pub fn expr_position(text: &str, group: usize, rule: usize) -> Option<(usize, usize)> {
    let document = yaml_serde::Deserializer::from_str(text).next()?;
    let path = [
        PathStep::Key("groups"),
        PathStep::Index(group),
        PathStep::Key("rules"),
        PathStep::Index(rule),
        PathStep::Key("expr"),
    ];
    // The walk stops with an error at the node, which the YAML library locates.
    let error = de::DeserializeSeed::deserialize(Locate { path: &path }, document).err()?;
    error.to_string().contains(NODE_FOUND).then_some(())?;
    let location = error.location()?;
    Some((location.line(), location.column()))
}

const NODE_FOUND: &str = "the node looked for";

enum PathStep {
    Key(&'static str),
    Index(usize),
}

/// Walks `path` down a document; at its end, fails with [`NODE_FOUND`] on the node.
struct Locate<'a> {
    path: &'a [PathStep],
}

impl<'de> de::DeserializeSeed<'de> for Locate<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        match self.path.first() {
            None => deserializer.deserialize_any(Found),
            Some(_) => deserializer.deserialize_any(self),
        }
    }
}

impl<'de> Visitor<'de> for Locate<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a mapping or sequence")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some(PathStep::Key(wanted)) = self.path.first() else {
            return Ok(());
        };
        while let Some(key) = map.next_key::<String>()? {
            if key == *wanted {
                return map.next_value_seed(Locate {
                    path: &self.path[1..],
                });
            }
            map.next_value::<de::IgnoredAny>()?;
        }
        Ok(())
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some(PathStep::Index(wanted)) = self.path.first() else {
            return Ok(());
        };
        for _ in 0..*wanted {
            if seq.next_element::<de::IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        seq.next_element_seed(Locate {
            path: &self.path[1..],
        })?;
        Ok(())
    }
}

/// The node at the end of a [`Locate`] walk: every kind of node fails there.
struct Found;

impl<'de> Visitor<'de> for Found {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any node")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(E::custom(NODE_FOUND))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(E::custom(NODE_FOUND))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(E::custom(NODE_FOUND))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(E::custom(NODE_FOUND))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(E::custom(NODE_FOUND))
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(NODE_FOUND))
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(NODE_FOUND))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(NODE_FOUND))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(text: &str) -> Result<RuleFileSource, String> {
        decode_rule_file(text).map_err(|e| e.message)
    }

    fn first_rule(text: &str) -> RuleSource {
        decode(text).expect("decodes").groups[0].rules[0].clone()
    }

    #[test]
    fn scalars_keep_their_spelling_and_null_is_empty() {
        let rule = first_rule(
            "groups:\n- name: g\n  rules:\n  - alert: ~\n    expr: '1.50'\n    labels: {a: 1.50, b: true, c: ~, ~: d}\n",
        );
        assert_eq!(rule.alert, "~");
        assert_eq!(rule.expr, "1.50");
        assert_eq!(
            rule.labels,
            BTreeMap::from([
                ("a".to_string(), "1.50".to_string()),
                ("b".to_string(), "true".to_string()),
                ("c".to_string(), String::new()),
            ])
        );
        let rule = first_rule("groups:\n- name: g\n  rules:\n  - record:\n    for: ~\n");
        assert_eq!((rule.record.as_str(), rule.for_), ("", None));
        for (expr, text) in [("1.50", "1.5"), ("{a: [b]}", ""), ("[a]", ""), ("~", "")] {
            let rule = first_rule(&format!("groups:\n- name: g\n  rules:\n  - expr: {expr}\n"));
            assert_eq!(rule.expr, text, "{expr}");
        }
    }

    #[test]
    fn nulls_in_lists_are_skipped_and_limit_is_a_go_int() {
        let source =
            decode("groups:\n- ~\n- name: g\n  limit: 1.9\n  rules: [~]\n- name: h\n  limit: -1\n")
                .expect("decodes");
        assert_eq!(source.groups.len(), 2);
        assert!(source.groups[0].rules.is_empty());
        assert_eq!((source.groups[0].limit, source.groups[1].limit), (1, -1));
        for bad in ["\"5\"", "true", "99999999999999999999"] {
            let text = format!("groups:\n- name: g\n  limit: {bad}\n");
            assert!(decode(&text).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_duplicate_and_mistyped_keys_are_decode_errors() {
        for (text, expected) in [
            ("groups:\n- name: g\n  rulez: []\n", "unknown field `rulez`"),
            ("other: 1\n", "unknown field `other`"),
            ("groups:\n- name: g\n  name: h\n", "duplicate field `name`"),
            ("groups: []\ngroups: []\n", "duplicate field `groups`"),
            (
                "groups:\n- name: g\n  rules:\n  - record: a\n    labels: {a: x, a: y}\n",
                "mapping key \"a\" already defined",
            ),
            ("groups:\n- name: g\n  rules: {}\n", "invalid type"),
            ("groups:\n- name: [a]\n", "invalid type"),
            ("groups:\n- name: g\n  rules:\n  - up\n", "invalid type"),
            ("- a\n", "invalid type"),
        ] {
            let error = decode(text).expect_err(text);
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn only_the_first_document_is_read() {
        let source = decode("groups:\n- name: g\n---\ngroups: [\n").expect("first document");
        assert_eq!(source.groups.len(), 1);
        assert!(decode("").expect("empty").groups.is_empty());
        assert!(decode("# nothing\n").expect("comment").groups.is_empty());
    }

    #[test]
    fn merge_keys_are_applied_and_errors_there_have_no_position() {
        let text = "groups:\n- name: g\n  rules:\n  - &r\n    alert: a\n    expr: up\n  - <<: *r\n    alert: b\n";
        let source = decode(text).expect("merge keys");
        assert_eq!(source.groups[0].rules[1].expr, "up");
        assert_eq!(source.groups[0].rules[1].alert, "b");
        let error = decode_rule_file(&text.replace("    alert: b\n", "    bogus: 1\n"))
            .expect_err("unknown field");
        assert!(error.message.contains("unknown field `bogus`"), "{error}");
        assert!(!error.message.contains(" at line "), "{error}");
        assert_eq!(error.offset, None);
        let without_merge_keys = "groups:\n- name: g\n  bogus: '<<'\n";
        let error = decode_rule_file(without_merge_keys).expect_err("unknown field");
        assert!(error.message.contains("at line 3"), "{error}");
    }

    #[test]
    fn newer_group_fields_are_present_even_when_null() {
        let group = &decode("groups:\n- name: g\n  query_offset: ~\n  labels: ~\n")
            .expect("decodes")
            .groups[0];
        assert_eq!(group.query_offset.as_deref(), Some("0"));
        assert_eq!(group.labels, Some(BTreeMap::new()));
        let group = &decode("groups:\n- name: g\n").expect("decodes").groups[0];
        assert_eq!((&group.query_offset, &group.labels), (&None, &None));
    }
}
