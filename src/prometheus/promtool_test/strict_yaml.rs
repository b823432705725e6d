//! The unknown-field errors of Go's strict YAML decoding as promtool prints them:
//! yaml.v2's `UnmarshalStrict` for test files, yaml.v3's `KnownFields(true)` for rule
//! files, both `yaml: unmarshal errors:` then `  line N: field NAME not found in type
//! TYPE` for every unknown key of the document.
//!
//! Invariants: only unknown keys are reported (every one, in document order, at the
//! key's line); a document with none, or one the YAML parser refuses, yields `None` so
//! that the caller's own decoding error stands. The shapes below name the Go types of
//! promtool's structs, 2.42's and 3's (Prometheus v3.14.0's `cmd/promtool/unittest.go`);
//! a value of another shape than expected is not looked into (the caller's decoder
//! refuses it).

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::PromtoolVersion;
use crate::prometheus::ruler::GroupFields;

/// What a YAML value decodes into: a Go struct with its known keys, a slice, or
/// anything whose keys are not checked (maps, scalars).
pub enum Shape {
    Struct {
        go_type: &'static str,
        fields: &'static [(&'static str, Shape)],
    },
    List(&'static Shape),
    Unchecked,
}

const SAMPLE_2_42: Shape = Shape::Struct {
    go_type: "main.sample",
    fields: &[("labels", Shape::Unchecked), ("value", Shape::Unchecked)],
};
/// promtool 3 reads native histograms in expected samples.
const SAMPLE_3: Shape = Shape::Struct {
    go_type: "main.sample",
    fields: &[
        ("labels", Shape::Unchecked),
        ("value", Shape::Unchecked),
        ("histogram", Shape::Unchecked),
    ],
};
const PROMQL_TEST_CASE_2_42: Shape = Shape::Struct {
    go_type: "main.promqlTestCase",
    fields: &[
        ("expr", Shape::Unchecked),
        ("eval_time", Shape::Unchecked),
        ("exp_samples", Shape::List(&SAMPLE_2_42)),
    ],
};
const PROMQL_TEST_CASE_3: Shape = Shape::Struct {
    go_type: "main.promqlTestCase",
    fields: &[
        ("expr", Shape::Unchecked),
        ("eval_time", Shape::Unchecked),
        ("exp_samples", Shape::List(&SAMPLE_3)),
    ],
};
const ALERT: Shape = Shape::Struct {
    go_type: "main.alert",
    fields: &[
        ("exp_labels", Shape::Unchecked),
        ("exp_annotations", Shape::Unchecked),
    ],
};
const ALERT_TEST_CASE: Shape = Shape::Struct {
    go_type: "main.alertTestCase",
    fields: &[
        ("eval_time", Shape::Unchecked),
        ("alertname", Shape::Unchecked),
        ("exp_alerts", Shape::List(&ALERT)),
    ],
};
const SERIES: Shape = Shape::Struct {
    go_type: "main.series",
    fields: &[("series", Shape::Unchecked), ("values", Shape::Unchecked)],
};
const TEST_GROUP_2_42: Shape = Shape::Struct {
    go_type: "main.testGroup",
    fields: &[
        ("interval", Shape::Unchecked),
        ("input_series", Shape::List(&SERIES)),
        ("alert_rule_test", Shape::List(&ALERT_TEST_CASE)),
        ("promql_expr_test", Shape::List(&PROMQL_TEST_CASE_2_42)),
        ("external_labels", Shape::Unchecked),
        ("external_url", Shape::Unchecked),
        ("name", Shape::Unchecked),
    ],
};
/// promtool 3 also reads `start_timestamp`.
const TEST_GROUP_3: Shape = Shape::Struct {
    go_type: "main.testGroup",
    fields: &[
        ("interval", Shape::Unchecked),
        ("input_series", Shape::List(&SERIES)),
        ("alert_rule_test", Shape::List(&ALERT_TEST_CASE)),
        ("promql_expr_test", Shape::List(&PROMQL_TEST_CASE_3)),
        ("external_labels", Shape::Unchecked),
        ("external_url", Shape::Unchecked),
        ("name", Shape::Unchecked),
        ("start_timestamp", Shape::Unchecked),
    ],
};

/// promtool 2.42's `unitTestFile`.
const TEST_FILE_2_42: Shape = Shape::Struct {
    go_type: "main.unitTestFile",
    fields: &[
        ("rule_files", Shape::Unchecked),
        ("evaluation_interval", Shape::Unchecked),
        ("group_eval_order", Shape::Unchecked),
        ("tests", Shape::List(&TEST_GROUP_2_42)),
    ],
};
/// promtool 3's `unitTestFile`, which also reads `fuzzy_compare`.
const TEST_FILE_3: Shape = Shape::Struct {
    go_type: "main.unitTestFile",
    fields: &[
        ("rule_files", Shape::Unchecked),
        ("evaluation_interval", Shape::Unchecked),
        ("group_eval_order", Shape::Unchecked),
        ("tests", Shape::List(&TEST_GROUP_3)),
        ("fuzzy_compare", Shape::Unchecked),
    ],
};

/// The test file as a promtool version decodes it.
pub fn test_file(version: PromtoolVersion) -> &'static Shape {
    match version {
        PromtoolVersion::V2_42 => &TEST_FILE_2_42,
        PromtoolVersion::V3 => &TEST_FILE_3,
    }
}

const RULE_2_42: Shape = Shape::Struct {
    go_type: "rulefmt.RuleNode",
    fields: &[
        ("record", Shape::Unchecked),
        ("alert", Shape::Unchecked),
        ("expr", Shape::Unchecked),
        ("for", Shape::Unchecked),
        ("keep_firing_for", Shape::Unchecked),
        ("labels", Shape::Unchecked),
        ("annotations", Shape::Unchecked),
    ],
};
/// Prometheus 3's rulefmt decodes strictly into `RuleGroup.Rules []Rule` (2.42's into
/// `[]RuleNode`), so its messages name `rulefmt.Rule`.
const RULE_3: Shape = Shape::Struct {
    go_type: "rulefmt.Rule",
    fields: &[
        ("record", Shape::Unchecked),
        ("alert", Shape::Unchecked),
        ("expr", Shape::Unchecked),
        ("for", Shape::Unchecked),
        ("keep_firing_for", Shape::Unchecked),
        ("labels", Shape::Unchecked),
        ("annotations", Shape::Unchecked),
    ],
};
const RULE_GROUP_2_42: Shape = Shape::Struct {
    go_type: "rulefmt.RuleGroup",
    fields: &[
        ("name", Shape::Unchecked),
        ("interval", Shape::Unchecked),
        ("limit", Shape::Unchecked),
        ("rules", Shape::List(&RULE_2_42)),
    ],
};
const RULE_GROUP_3: Shape = Shape::Struct {
    go_type: "rulefmt.RuleGroup",
    fields: &[
        ("name", Shape::Unchecked),
        ("interval", Shape::Unchecked),
        ("query_offset", Shape::Unchecked),
        ("limit", Shape::Unchecked),
        ("labels", Shape::Unchecked),
        ("rules", Shape::List(&RULE_3)),
    ],
};

/// rulefmt's `RuleGroups` with the group fields a reader accepts.
pub fn rule_file(group_fields: GroupFields) -> Shape {
    Shape::Struct {
        go_type: "rulefmt.RuleGroups",
        fields: match group_fields {
            GroupFields::Prometheus2_42 => &[("groups", Shape::List(&RULE_GROUP_2_42))],
            GroupFields::Prometheus3 => &[("groups", Shape::List(&RULE_GROUP_3))],
        },
    }
}

/// Go's message for the unknown keys of `text`'s first document decoded into `shape`,
/// or `None` when it has none.
pub fn unknown_fields(text: &str, shape: &Shape) -> Option<String> {
    let keys = unknown_keys(text, shape);
    let lines: Vec<String> = keys
        .iter()
        .map(|key| {
            format!(
                "  line {}: field {} not found in type {}",
                key.line, key.name, key.go_type
            )
        })
        .collect();
    (!lines.is_empty()).then(|| format!("yaml: unmarshal errors:\n{}", lines.join("\n")))
}

/// `text` with the unknown keys of `shape` and their values blanked out, every line
/// kept (so later errors keep promtool's line numbers): what promtool 3 decodes under
/// `--ignore-unknown-fields` (yaml.v3 without `KnownFields`). A key in block style is
/// blanked from its column to the end of its value, the lines indented deeper than
/// the key; a key in a flow mapping (`{a: 1}`) is left, and then still refused.
pub fn without_unknown_fields(text: &str, shape: &Shape) -> String {
    let keys = unknown_keys(text, shape);
    if keys.is_empty() {
        return text.to_string();
    }
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    for key in keys {
        let (Some(line_index), Some(column)) = (key.line.checked_sub(1), key.column.checked_sub(1))
        else {
            continue;
        };
        let Some(line) = lines.get(line_index) else {
            continue;
        };
        let in_flow_mapping = line.get(..column).is_none_or(|before| before.contains('{'));
        if in_flow_mapping || !line.is_char_boundary(column) {
            continue;
        }
        lines[line_index] = line[..column].to_string();
        for line in lines.iter_mut().skip(line_index + 1) {
            let content = line.trim_start();
            let indent = line.len() - content.len();
            if !content.is_empty() && !content.starts_with('#') && indent <= column {
                break;
            }
            line.clear();
        }
    }
    lines.join("\n")
}

/// An unknown key: where it is (1-based line and column) and what Go says of it.
struct UnknownKey {
    line: usize,
    column: usize,
    name: String,
    go_type: &'static str,
}

/// Every unknown key of `text`'s first document decoded into `shape`, in document order.
fn unknown_keys(text: &str, shape: &Shape) -> Vec<UnknownKey> {
    let state = RefCell::new(Search::default());
    let mut keys = Vec::new();
    // Each pass stops at the first unknown key not reported yet, which the YAML library
    // then locates; a document has fewer keys than bytes.
    for _ in 0..=text.len() {
        let Some(document) = yaml_serde::Deserializer::from_str(text).next() else {
            break;
        };
        let walk = Walk {
            shape,
            path: String::new(),
            state: &state,
        };
        let Err(error) = walk.deserialize(document) else {
            break;
        };
        let mut search = state.borrow_mut();
        let (Some(unknown), Some(location)) = (search.pending.take(), error.location()) else {
            break;
        };
        keys.push(UnknownKey {
            line: location.line(),
            column: location.column(),
            name: unknown.name,
            go_type: unknown.go_type,
        });
        search.reported.insert(unknown.path);
    }
    keys
}

#[derive(Default)]
struct Search {
    /// Paths of the unknown keys found by earlier passes, skipped from now on.
    reported: BTreeSet<String>,
    /// The unknown key that stopped this pass.
    pending: Option<Unknown>,
}

struct Unknown {
    path: String,
    name: String,
    go_type: &'static str,
}

struct Walk<'a> {
    shape: &'a Shape,
    path: String,
    state: &'a RefCell<Search>,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Shape::List(item) = self.shape else {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(());
        };
        let mut index = 0;
        while seq
            .next_element_seed(Walk {
                shape: item,
                path: format!("{}[{index}]", self.path),
                state: self.state,
            })?
            .is_some()
        {
            index += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Shape::Struct { go_type, fields } = self.shape else {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(());
        };
        while let Some(known) = map.next_key_seed(Key {
            fields,
            go_type,
            path: &self.path,
            state: self.state,
        })? {
            match known {
                Some(index) => map.next_value_seed(Walk {
                    shape: &fields[index].1,
                    path: format!("{}.{}", self.path, fields[index].0),
                    state: self.state,
                })?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// A key of a struct: `Some(index)` of a known field, `None` for an unknown key found
/// before; an unknown key not found before stops the pass.
struct Key<'a> {
    fields: &'static [(&'static str, Shape)],
    go_type: &'static str,
    path: &'a str,
    state: &'a RefCell<Search>,
}

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = Option<usize>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
        if let Some(index) = self.fields.iter().position(|(field, _)| *field == name) {
            return Ok(Some(index));
        }
        let path = format!("{}.{name}", self.path);
        let mut search = self.state.borrow_mut();
        if search.reported.contains(&path) {
            return Ok(None);
        }
        search.pending = Some(Unknown {
            path,
            name: name.to_string(),
            go_type: self.go_type,
        });
        Err(E::custom(format!("unknown field {name}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unknown_field_is_reported_at_its_line_in_document_order() {
        let text = "rule_files: []\nbogus: 1\ntests:\n  - interval: 1m\n    start_timestamp: 0\n    promql_expr_test:\n      - expr: a\n        exp_samples:\n          - histogram: x\n";
        assert_eq!(
            unknown_fields(text, test_file(PromtoolVersion::V2_42)).as_deref(),
            Some(
                "yaml: unmarshal errors:\n  line 2: field bogus not found in type main.unitTestFile\n  line 5: field start_timestamp not found in type main.testGroup\n  line 9: field histogram not found in type main.sample"
            )
        );
    }

    #[test]
    fn promtool_3_knows_its_newer_test_file_fields() {
        let text = "fuzzy_compare: true\nbogus: 1\ntests:\n  - interval: 1m\n    start_timestamp: 0\n    promql_expr_test:\n      - expr: a\n        exp_samples:\n          - histogram: x\n            extra: 1\n";
        assert_eq!(
            unknown_fields(text, test_file(PromtoolVersion::V3)).as_deref(),
            Some(
                "yaml: unmarshal errors:\n  line 2: field bogus not found in type main.unitTestFile\n  line 10: field extra not found in type main.sample"
            )
        );
        assert_eq!(
            unknown_fields(text, test_file(PromtoolVersion::V2_42)).as_deref(),
            Some(
                "yaml: unmarshal errors:\n  line 1: field fuzzy_compare not found in type main.unitTestFile\n  line 2: field bogus not found in type main.unitTestFile\n  line 5: field start_timestamp not found in type main.testGroup\n  line 9: field histogram not found in type main.sample\n  line 10: field extra not found in type main.sample"
            )
        );
    }

    #[test]
    fn known_fields_and_unparsable_documents_give_nothing() {
        assert_eq!(
            unknown_fields("tests: []\n", test_file(PromtoolVersion::V2_42)),
            None
        );
        assert_eq!(
            unknown_fields("tests: [\n", test_file(PromtoolVersion::V2_42)),
            None
        );
        assert_eq!(unknown_fields("", test_file(PromtoolVersion::V2_42)), None);
    }

    #[test]
    fn unknown_keys_are_blanked_with_their_values_keeping_every_line() {
        let text = "groups:\n  - name: g\n    namespace: x\n    ownership:\n      service: a\n\n      # note\n      team: b\n    rules:\n      - owner: me\n        record: r\n        expr: up\n  - {name: h, extra: 1}\n";
        let shape = rule_file(GroupFields::Prometheus3);
        let blanked = without_unknown_fields(text, &shape);
        assert_eq!(
            blanked,
            "groups:\n  - name: g\n    \n    \n\n\n\n\n    rules:\n      - \n        record: r\n        expr: up\n  - {name: h, extra: 1}\n"
        );
        assert_eq!(
            unknown_fields(&blanked, &shape).as_deref(),
            Some("yaml: unmarshal errors:\n  line 13: field extra not found in type rulefmt.RuleGroup")
        );
        assert_eq!(
            without_unknown_fields("groups: []\n", &shape),
            "groups: []\n"
        );
    }

    #[test]
    fn rule_files_know_the_group_fields_of_their_version() {
        let text = "groups:\n  - name: g\n    labels: {a: b}\n    rules:\n      - record: x\n        expr: up\n        owner: me\n";
        assert_eq!(
            unknown_fields(text, &rule_file(GroupFields::Prometheus2_42)).as_deref(),
            Some("yaml: unmarshal errors:\n  line 3: field labels not found in type rulefmt.RuleGroup\n  line 7: field owner not found in type rulefmt.RuleNode")
        );
        assert_eq!(
            unknown_fields(text, &rule_file(GroupFields::Prometheus3)).as_deref(),
            Some("yaml: unmarshal errors:\n  line 7: field owner not found in type rulefmt.Rule")
        );
    }
}
