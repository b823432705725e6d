//! A YAML tree that keeps what Alertmanager's gopkg.in/yaml.v2 decoder sees:
//! the raw text of every scalar, repeated keys, and merge keys applied; plus
//! the line of any node, for yaml.v2-style error messages.
//!
//! Invariants:
//! - A scalar's `text` is its value as written (`1.10`, `0x1F`, `True` stay
//!   so), because yaml.v2 stores a scalar's text into a Go string field
//!   whatever type it resolves to; `kind` is yaml_serde's resolution.
//! - Mappings keep every entry in file order, repeated keys included.
//! - Built with two passes of yaml_serde's deserializer over the same text:
//!   the first learns each node's shape, the second, led by that shape, reads
//!   scalars with `deserialize_str`, which yields the text as written.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use yaml_serde::Value;

#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Null,
    Scalar(Scalar),
    Sequence(Vec<Node>),
    Mapping(Vec<(Node, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    pub text: String,
    pub kind: ScalarKind,
}

/// How yaml_serde (YAML 1.2 core schema) resolved a scalar.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScalarKind {
    Bool(bool),
    Int,
    Float,
    Str,
}

/// One step from a node to a child: the `occurrence`-th entry with this key
/// (0 for the first), or a sequence index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathStep {
    Key { name: String, occurrence: usize },
    Index(usize),
}

impl Node {
    /// The text Go's yaml.v2 puts into a string field ("" for null and collections).
    pub fn text(&self) -> String {
        match self {
            Node::Scalar(scalar) => scalar.text.clone(),
            Node::Null | Node::Sequence(_) | Node::Mapping(_) => String::new(),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Node::Null)
    }

    /// A yaml_serde value for settings kept opaque.
    pub fn to_value(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Scalar(scalar) => match scalar.kind {
                ScalarKind::Bool(flag) => Value::Bool(flag),
                ScalarKind::Int | ScalarKind::Float => yaml_serde::from_str(&scalar.text)
                    .unwrap_or_else(|_| Value::String(scalar.text.clone())),
                ScalarKind::Str => Value::String(scalar.text.clone()),
            },
            Node::Sequence(items) => Value::Sequence(items.iter().map(Node::to_value).collect()),
            Node::Mapping(entries) => {
                let mut mapping = yaml_serde::Mapping::new();
                for (key, value) in entries {
                    // Opaque settings keep the last of repeated keys.
                    mapping.insert(key.to_value(), value.to_value());
                }
                Value::Mapping(mapping)
            }
        }
    }
}

/// Parses one YAML document (an empty text is `Null`) and applies `<<` merges.
pub fn parse(text: &str) -> Result<Node, yaml_serde::Error> {
    if text.trim().is_empty() {
        return Ok(Node::Null);
    }
    let shape = Shape.deserialize(yaml_serde::Deserializer::from_str(text))?;
    let raw = Raw { shape: &shape }.deserialize(yaml_serde::Deserializer::from_str(text))?;
    Ok(apply_merges(raw))
}

/// The 1-based line of the node at `path` (of its key when `at_key`).
///
/// The deserializer is driven down the path and stopped there with an error,
/// which yaml_serde marks with the position of the event being read.
pub fn line_of(text: &str, path: &[PathStep], at_key: bool) -> Option<usize> {
    let error = Probe { path, at_key }
        .deserialize(yaml_serde::Deserializer::from_str(text))
        .err()?;
    if error.to_string().contains(PROBE_FOUND) {
        error.location().map(|location| location.line())
    } else {
        None
    }
}

/// Merge keys as YAML 1.1 defines them: keys of the merged mapping(s) that
/// the mapping does not set itself; earlier mappings of a list win.
fn apply_merges(node: Node) -> Node {
    match node {
        Node::Sequence(items) => Node::Sequence(items.into_iter().map(apply_merges).collect()),
        Node::Mapping(entries) => {
            let mut own = Vec::new();
            let mut merged_sources = Vec::new();
            for (key, value) in entries {
                let value = apply_merges(value);
                if matches!(&key, Node::Scalar(scalar) if scalar.text == "<<" && scalar.kind == ScalarKind::Str)
                {
                    match value {
                        Node::Mapping(_) => merged_sources.push(value),
                        Node::Sequence(items) => merged_sources.extend(items),
                        other => own.push((key, other)),
                    }
                } else {
                    own.push((key, value));
                }
            }
            for source in merged_sources {
                if let Node::Mapping(source_entries) = source {
                    for (key, value) in source_entries {
                        if !own.iter().any(|(existing, _)| *existing == key) {
                            own.push((key, value));
                        }
                    }
                }
            }
            Node::Mapping(own)
        }
        other => other,
    }
}

/// First pass: node kinds and resolved scalar types.
struct Shape;

impl<'de> DeserializeSeed<'de> for Shape {
    type Value = Node;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Shape {
    type Value = Node;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a YAML node")
    }

    fn visit_bool<E: de::Error>(self, flag: bool) -> Result<Node, E> {
        Ok(scalar(flag.to_string(), ScalarKind::Bool(flag)))
    }
    fn visit_i64<E: de::Error>(self, number: i64) -> Result<Node, E> {
        Ok(scalar(number.to_string(), ScalarKind::Int))
    }
    fn visit_u64<E: de::Error>(self, number: u64) -> Result<Node, E> {
        Ok(scalar(number.to_string(), ScalarKind::Int))
    }
    fn visit_i128<E: de::Error>(self, number: i128) -> Result<Node, E> {
        Ok(scalar(number.to_string(), ScalarKind::Int))
    }
    fn visit_u128<E: de::Error>(self, number: u128) -> Result<Node, E> {
        Ok(scalar(number.to_string(), ScalarKind::Int))
    }
    fn visit_f64<E: de::Error>(self, number: f64) -> Result<Node, E> {
        Ok(scalar(number.to_string(), ScalarKind::Float))
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<Node, E> {
        Ok(scalar(text.to_string(), ScalarKind::Str))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = sequence.next_element_seed(Shape)? {
            items.push(item);
        }
        Ok(Node::Sequence(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key_seed(Shape)? {
            let value = map.next_value_seed(Shape)?;
            entries.push((key, value));
        }
        Ok(Node::Mapping(entries))
    }
}

fn scalar(text: String, kind: ScalarKind) -> Node {
    Node::Scalar(Scalar { text, kind })
}

/// Second pass: the same walk, reading each scalar's text as written.
struct Raw<'shape> {
    shape: &'shape Node,
}

impl<'de> DeserializeSeed<'de> for Raw<'_> {
    type Value = Node;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        match self.shape {
            Node::Null => {
                deserializer.deserialize_ignored_any(IgnoredAny)?;
                Ok(Node::Null)
            }
            Node::Scalar(shape) => {
                let text = deserializer.deserialize_str(RawText)?;
                Ok(scalar(text, shape.kind))
            }
            Node::Sequence(_) => deserializer.deserialize_seq(self),
            Node::Mapping(_) => deserializer.deserialize_map(self),
        }
    }
}

impl<'de> Visitor<'de> for Raw<'_> {
    type Value = Node;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("the node seen by the first pass")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<Node, A::Error> {
        let Node::Sequence(shapes) = self.shape else {
            return Err(de::Error::custom("YAML shape changed between passes"));
        };
        let mut items = Vec::new();
        for shape in shapes {
            match sequence.next_element_seed(Raw { shape })? {
                Some(item) => items.push(item),
                None => return Err(de::Error::custom("YAML shape changed between passes")),
            }
        }
        Ok(Node::Sequence(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let Node::Mapping(shapes) = self.shape else {
            return Err(de::Error::custom("YAML shape changed between passes"));
        };
        let mut entries = Vec::new();
        for (key_shape, value_shape) in shapes {
            let Some(key) = map.next_key_seed(Raw { shape: key_shape })? else {
                return Err(de::Error::custom("YAML shape changed between passes"));
            };
            let value = map.next_value_seed(Raw { shape: value_shape })?;
            entries.push((key, value));
        }
        Ok(Node::Mapping(entries))
    }
}

struct RawText;

impl Visitor<'_> for RawText {
    type Value = String;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a scalar")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<String, E> {
        Ok(text.to_string())
    }
}

const PROBE_FOUND: &str = "probe reached its target";
const PROBE_MISSED: &str = "probe path not found";

struct Probe<'path> {
    path: &'path [PathStep],
    at_key: bool,
}

impl<'de> DeserializeSeed<'de> for Probe<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Probe<'_> {
    fn reached<E: de::Error>(&self) -> Result<(), E> {
        if self.path.is_empty() {
            Err(E::custom(PROBE_FOUND))
        } else {
            Err(E::custom(PROBE_MISSED))
        }
    }
}

impl<'de> Visitor<'de> for Probe<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any YAML node")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.reached()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.reached()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.reached()
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<(), E> {
        self.reached()
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<(), E> {
        self.reached()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.reached()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.reached()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.reached()
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.reached()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<(), A::Error> {
        let Some((PathStep::Index(wanted), rest)) = self.path.split_first() else {
            return self.reached();
        };
        for _ in 0..*wanted {
            if sequence.next_element::<IgnoredAny>()?.is_none() {
                return Err(de::Error::custom(PROBE_MISSED));
            }
        }
        sequence.next_element_seed(Probe {
            path: rest,
            at_key: self.at_key,
        })?;
        Err(de::Error::custom(PROBE_MISSED))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((PathStep::Key { name, occurrence }, rest)) = self.path.split_first() else {
            return self.reached();
        };
        let mut seen = 0;
        loop {
            let stop_here = self.at_key && rest.is_empty() && seen == *occurrence;
            let Some(key) = map.next_key_seed(KeyProbe {
                wanted: name,
                stop: stop_here,
            })?
            else {
                return Err(de::Error::custom(PROBE_MISSED));
            };
            if key == *name {
                if seen == *occurrence {
                    map.next_value_seed(Probe {
                        path: rest,
                        at_key: self.at_key,
                    })?;
                    return Err(de::Error::custom(PROBE_MISSED));
                }
                seen += 1;
            }
            map.next_value::<IgnoredAny>()?;
        }
    }
}

/// Reads a mapping key's text, failing (to mark its position) at the wanted key.
struct KeyProbe<'wanted> {
    wanted: &'wanted str,
    stop: bool,
}

impl<'de> DeserializeSeed<'de> for KeyProbe<'_> {
    type Value = String;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyProbe<'_> {
    type Value = String;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a scalar key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<String, E> {
        if self.stop && key == self.wanted {
            return Err(E::custom(PROBE_FOUND));
        }
        Ok(key.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(node: &Node) -> Vec<String> {
        match node {
            Node::Mapping(entries) => entries.iter().map(|(_, value)| value.text()).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn scalars_keep_their_text_as_written() {
        let node =
            parse("a: 1.10\nb: 0x1F\nc: True\nd: '07'\ne: ~\nf: \"x\\ty\"\n").expect("valid YAML");
        assert_eq!(texts(&node), ["1.10", "0x1F", "True", "07", "", "x\ty"]);
    }

    #[test]
    fn repeated_keys_are_kept_and_lines_found() {
        let text = "route:\n  receiver: r\n  receiver: s\n";
        let node = parse(text).expect("valid YAML");
        let Node::Mapping(entries) = &node else {
            panic!("mapping expected")
        };
        let Node::Mapping(route) = &entries[0].1 else {
            panic!("mapping expected")
        };
        assert_eq!(route.len(), 2);
        let step = |name: &str, occurrence| PathStep::Key {
            name: name.to_string(),
            occurrence,
        };
        assert_eq!(
            line_of(text, &[step("route", 0), step("receiver", 1)], true),
            Some(3)
        );
        assert_eq!(
            line_of(text, &[step("route", 0), step("receiver", 0)], false),
            Some(2)
        );
    }

    #[test]
    fn merge_keys_fill_in_missing_keys() {
        let node = parse("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n").expect("valid YAML");
        let Node::Mapping(entries) = &node else {
            panic!("mapping expected")
        };
        let Node::Mapping(merged) = &entries[1].1 else {
            panic!("mapping expected")
        };
        let pairs: Vec<(String, String)> = merged
            .iter()
            .map(|(key, value)| (key.text(), value.text()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("y".to_string(), "3".to_string()),
                ("x".to_string(), "1".to_string())
            ]
        );
    }
}
