//! Planning a deploy: what the generated configuration would change on a target, as a list
//! of actions (what `deploy` does) and of changes (what `diff` shows), computed once.
//!
//! Invariants:
//! - Pure: the CLI reads files and servers, hands their contents here, and applies the
//!   returned [`Plan`] action by action; so the diff a reviewer saw is what is applied.
//! - Only what mlslo owns is touched: rule files with the generated header, ruler
//!   namespaces listed as owned, watches whose metadata says `mlslo_owned: true`. Anything
//!   else in the way is an error, never overwritten.
//! - Comparison is semantic per group / watch (durations normalised, empty defaults dropped),
//!   so a server's re-serialisation of the same rules is no change.
//! - Output is deterministic: everything is keyed by sorted maps.

pub mod config;
pub mod grafana;
pub mod served;

use std::collections::{BTreeMap, BTreeSet};

use yaml_serde::{Mapping, Value};

use crate::base::text_diff::{unified_hunks, DEFAULT_CONTEXT};
use crate::compiler::emit::GENERATED_MARKER;
use crate::prometheus::model::duration::{format_model_duration, parse_model_duration};
use crate::prometheus::ruler::{read_rule_file, GroupFields};

/// Metadata key that marks a watch as created by mlslo.
pub const WATCH_OWNERSHIP_KEY: &str = "mlslo_owned";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    Add,
    Update,
    Remove,
}

/// One thing a reviewer sees: a group, a file or a watch, before and after (empty when absent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    /// Such as `group fraud-detector/score-p99 in fraud-detector.rules.yml`.
    pub subject: String,
    pub before: String,
    pub after: String,
}

/// One step `deploy` takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Write `contents` to the file `name` of the rules folder or the config file.
    WriteFile {
        name: String,
        contents: String,
    },
    RemoveFile {
        name: String,
    },
    /// POST one group (YAML) into a ruler namespace; creates or replaces it.
    PostGroup {
        namespace: String,
        group: String,
        yaml: String,
    },
    DeleteGroup {
        namespace: String,
        group: String,
    },
    /// PUT a watch (JSON body).
    PutWatch {
        id: String,
        body: String,
    },
    DeleteWatch {
        id: String,
    },
    /// Create a Grafana folder (`POST /api/folders`).
    CreateFolder {
        uid: String,
        title: String,
    },
    /// Save a Grafana dashboard (`POST /api/dashboards/db`, the whole JSON body).
    SaveDashboard {
        uid: String,
        body: String,
    },
    DeleteDashboard {
        uid: String,
    },
    /// Make the server load the files on disk (`POST /-/reload`): they are what should run,
    /// but the server runs something else (a deploy stopped before its reload, or a reload
    /// that failed).
    Reload,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub changes: Vec<Change>,
    pub actions: Vec<Action>,
    /// Things deliberately left alone, such as groups in a namespace mlslo does not own.
    pub notes: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// The diff as `mlslo diff` prints it: one unified diff per change, then the notes.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for change in &self.changes {
            let sign = match change.kind {
                ChangeKind::Add => '+',
                ChangeKind::Update => '~',
                ChangeKind::Remove => '-',
            };
            let word = match change.kind {
                ChangeKind::Add => "add",
                ChangeKind::Update => "change",
                ChangeKind::Remove => "remove",
            };
            out.push_str(&format!("{sign} {word} {}\n", change.subject));
            out.push_str(&unified_hunks(
                &change.before,
                &change.after,
                DEFAULT_CONTEXT,
                |line| line.starts_with("- ") || line.starts_with("  - "),
            ));
        }
        for note in &self.notes {
            out.push_str(&format!("note: {note}\n"));
        }
        let count = |kind| self.changes.iter().filter(|c| c.kind == kind).count();
        if self.is_empty() {
            out.push_str("nothing to change\n");
        } else {
            out.push_str(&format!(
                "{} to add, {} to change, {} to remove\n",
                count(ChangeKind::Add),
                count(ChangeKind::Update),
                count(ChangeKind::Remove)
            ));
        }
        out
    }
}

/// Whether a rule file or Alertmanager configuration was written by `mlslo build`.
pub fn is_generated(text: &str) -> bool {
    text.lines()
        .next()
        .is_some_and(|line| line.starts_with("# ") && line.contains(GENERATED_MARKER))
}

/// Groups of a rule file in canonical form, keyed by name; `file` names it in errors. The
/// file is read as the ruler reads it (so a file Prometheus would refuse is an error),
/// with the group fields of servers newer than 2.42, which a target may run.
pub fn rule_file_groups(file: &str, text: &str) -> Result<BTreeMap<String, Value>, String> {
    let source =
        read_rule_file(file, text, GroupFields::Prometheus3).map_err(|errors| errors.join("\n"))?;
    let mut by_name = BTreeMap::new();
    for group in &source.groups {
        // The model has string keys and plain values only, so it always converts.
        let value = yaml_serde::to_value(group)
            .map_err(|e| format!("{file}: group {}: {e}", group.name))?;
        let canonical =
            canonical_group(&value).map_err(|e| format!("{file}: group {}: {e}", group.name))?;
        // Validation refused repeated group names.
        by_name.insert(group.name.clone(), canonical);
    }
    Ok(by_name)
}

fn groups_by_name(file: &str, groups: &[Value]) -> Result<BTreeMap<String, Value>, String> {
    let mut by_name = BTreeMap::new();
    for group in groups {
        let name = group
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{file}: a group has no name"))?
            .to_string();
        let canonical = canonical_group(group).map_err(|e| format!("{file}: group {name}: {e}"))?;
        if by_name.insert(name.clone(), canonical).is_some() {
            return Err(format!("{file}: group {name} appears twice"));
        }
    }
    Ok(by_name)
}

const DURATION_KEYS: [&str; 5] = [
    "interval",
    "query_offset",
    "evaluation_delay",
    "for",
    "keep_firing_for",
];

/// A group with durations in Prometheus' shortest form, empty defaults dropped, and keys in a
/// fixed order (`name` first, `rules` last; `record`/`alert` then `expr` first in a rule).
pub fn canonical_group(group: &Value) -> Result<Value, String> {
    let Value::Mapping(mapping) = group else {
        return Err("not a mapping".to_string());
    };
    let mut canonical = canonical_mapping(mapping, &["name"], &["rules"])?;
    if let Some(Value::Sequence(rules)) = canonical.get("rules").cloned() {
        let rules = rules
            .iter()
            .map(|rule| match rule {
                Value::Mapping(rule) => {
                    canonical_mapping(rule, &["record", "alert", "expr"], &[]).map(Value::Mapping)
                }
                _ => Err("a rule is not a mapping".to_string()),
            })
            .collect::<Result<Vec<_>, _>>()?;
        canonical.insert(Value::from("rules"), Value::Sequence(rules));
    }
    Ok(Value::Mapping(canonical))
}

fn canonical_mapping(mapping: &Mapping, first: &[&str], last: &[&str]) -> Result<Mapping, String> {
    let mut entries: Vec<(String, Value)> = Vec::new();
    for (key, value) in mapping {
        let key = key
            .as_str()
            .ok_or_else(|| "a key is not a string".to_string())?
            .to_string();
        let value = match (key.as_str(), value) {
            (_, Value::Null) => continue,
            (_, Value::Mapping(m)) if m.is_empty() => continue,
            ("limit", Value::Number(n)) if n.as_u64() == Some(0) => continue,
            (name, Value::String(text)) if DURATION_KEYS.contains(&name) => {
                let millis = parse_model_duration(text).map_err(|e| format!("`{name}`: {e}"))?;
                if millis == 0 && name != "interval" {
                    continue;
                }
                Value::from(format_model_duration(millis))
            }
            ("labels" | "annotations", Value::Mapping(m)) => {
                let sorted: BTreeMap<String, Value> =
                    m.iter().map(|(k, v)| (value_text(k), v.clone())).collect();
                Value::Mapping(
                    sorted
                        .into_iter()
                        .map(|(k, v)| (Value::from(k), v))
                        .collect(),
                )
            }
            _ => value.clone(),
        };
        entries.push((key, value));
    }
    let rank = |key: &str| {
        if let Some(index) = first.iter().position(|k| *k == key) {
            (0, index)
        } else if last.contains(&key) {
            (2, 0)
        } else {
            (1, 0)
        }
    };
    entries.sort_by(|(a, _), (b, _)| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
    Ok(entries
        .into_iter()
        .map(|(k, v)| (Value::from(k), v))
        .collect())
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => yaml_serde::to_string(other)
            .unwrap_or_default()
            .trim_end()
            .to_string(),
    }
}

/// YAML text of a canonical value (for diffs and request bodies).
pub fn to_yaml(value: &Value) -> String {
    // Serialising a Value built from parsed YAML cannot fail: it has string keys only.
    yaml_serde::to_string(value).unwrap_or_default()
}

/// Plans a Prometheus / Thanos Ruler deploy: `desired` are the generated rule files by file
/// name, `present` every `*.yml`/`*.yaml` file of the rules folder with its text.
pub fn plan_rule_files(
    desired: &BTreeMap<String, String>,
    present: &BTreeMap<String, String>,
) -> Result<Plan, String> {
    let mut plan = Plan::default();
    let mut names: BTreeSet<&String> = desired.keys().collect();
    for (name, text) in present {
        if is_generated(text) {
            names.insert(name);
        } else if desired.contains_key(name) {
            return Err(format!(
                "{name} in the rules folder was not written by mlslo (no generated header): \
                 refusing to overwrite it; move it away or rename the service"
            ));
        }
    }
    for name in names {
        let after_text = desired.get(name);
        let before_text = present.get(name).filter(|text| is_generated(text));
        if after_text == before_text {
            continue;
        }
        let before = match before_text {
            Some(text) => rule_file_groups(name, text)?,
            None => BTreeMap::new(),
        };
        let after = match after_text {
            Some(text) => rule_file_groups(name, text)?,
            None => BTreeMap::new(),
        };
        let changes_before = plan.changes.len();
        push_group_changes(&mut plan, &before, &after, &format!("in {name}"));
        if plan.changes.len() == changes_before {
            // Same groups, other bytes (comments, layout): still rewritten, so shown.
            plan.changes.push(Change {
                kind: ChangeKind::Update,
                subject: format!("file {name} (same groups, other text)"),
                before: before_text.cloned().unwrap_or_default(),
                after: after_text.cloned().unwrap_or_default(),
            });
        }
        plan.actions.push(match after_text {
            Some(contents) => Action::WriteFile {
                name: name.clone(),
                contents: contents.clone(),
            },
            None => Action::RemoveFile { name: name.clone() },
        });
    }
    Ok(plan)
}

fn push_group_changes(
    plan: &mut Plan,
    before: &BTreeMap<String, Value>,
    after: &BTreeMap<String, Value>,
    place: &str,
) {
    let names: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for name in names {
        let (kind, old, new) = match (before.get(name), after.get(name)) {
            (None, Some(new)) => (ChangeKind::Add, String::new(), to_yaml(new)),
            (Some(old), None) => (ChangeKind::Remove, to_yaml(old), String::new()),
            (Some(old), Some(new)) if old != new => {
                (ChangeKind::Update, to_yaml(old), to_yaml(new))
            }
            _ => continue,
        };
        let rules = match (before.get(name), after.get(name)) {
            (Some(old), Some(new)) => changed_rule_names(old, new),
            _ => Vec::new(),
        };
        let rules = match rules.len() {
            0 => String::new(),
            1 => format!(" (rule {})", rules[0]),
            _ => format!(" (rules {})", rules.join(", ")),
        };
        plan.changes.push(Change {
            kind,
            subject: format!("group {name} {place}{rules}"),
            before: old,
            after: new,
        });
    }
}

/// Names of the rules that differ between two versions of a group: pairwise when the count
/// is the same, otherwise the rules found in only one version.
fn changed_rule_names(old: &Value, new: &Value) -> Vec<String> {
    let rules = |group: &Value| -> Vec<Value> {
        group
            .get("rules")
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default()
    };
    let name = |rule: &Value| {
        rule.get("alert")
            .or_else(|| rule.get("record"))
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string()
    };
    let (old, new) = (rules(old), rules(new));
    let mut names: Vec<String> = if old.len() == new.len() {
        old.iter()
            .zip(&new)
            .filter(|(a, b)| a != b)
            .map(|(_, b)| name(b))
            .collect()
    } else {
        old.iter()
            .filter(|rule| !new.contains(rule))
            .chain(new.iter().filter(|rule| !old.contains(rule)))
            .map(name)
            .collect()
    };
    names.dedup();
    names
}

/// Plans an Alertmanager deploy of the whole configuration file. `present` is the current
/// file, if any; a file without the generated header is not replaced.
pub fn plan_alertmanager(
    file_name: &str,
    desired: &str,
    present: Option<&str>,
) -> Result<Plan, String> {
    let mut plan = Plan::default();
    if let Some(present) = present {
        if !is_generated(present) {
            return Err(format!(
                "{file_name} was not written by mlslo (no generated header): refusing to overwrite it"
            ));
        }
        if present == desired {
            return Ok(plan);
        }
    }
    plan.changes.push(Change {
        kind: if present.is_some() {
            ChangeKind::Update
        } else {
            ChangeKind::Add
        },
        subject: format!("file {file_name}"),
        before: present.unwrap_or_default().to_string(),
        after: desired.to_string(),
    });
    plan.actions.push(Action::WriteFile {
        name: file_name.to_string(),
        contents: desired.to_string(),
    });
    Ok(plan)
}

/// Groups of a ruler `GET /prometheus/config/v1/rules/{namespace}` answer: YAML mapping
/// namespace -> list of groups.
pub fn ruler_namespace_groups(
    namespace: &str,
    body: &str,
) -> Result<BTreeMap<String, Value>, String> {
    let value: Value = yaml_serde::from_str(body).map_err(|error| {
        format!("the ruler's answer for namespace {namespace} is not YAML: {error}")
    })?;
    match value.get(namespace) {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Sequence(groups)) => groups_by_name(&format!("namespace {namespace}"), groups),
        Some(_) => Err(format!(
            "the ruler's answer for namespace {namespace} is not a list of groups"
        )),
    }
}

/// Plans a Mimir / Cortex / Loki ruler deploy. `desired` and `present` map namespace ->
/// group name -> canonical group; groups are deleted only in `owned` namespaces.
pub fn plan_ruler(
    desired: &BTreeMap<String, BTreeMap<String, Value>>,
    present: &BTreeMap<String, BTreeMap<String, Value>>,
    owned: &BTreeSet<String>,
) -> Plan {
    let mut plan = Plan::default();
    let empty = BTreeMap::new();
    let namespaces: BTreeSet<&String> = desired.keys().chain(present.keys()).collect();
    for namespace in namespaces {
        let want = desired.get(namespace).unwrap_or(&empty);
        let mut have = present.get(namespace).unwrap_or(&empty).clone();
        if !owned.contains(namespace) {
            let foreign: Vec<String> = have
                .keys()
                .filter(|name| !want.contains_key(*name))
                .cloned()
                .collect();
            for name in foreign {
                have.remove(&name);
                plan.notes.push(format!(
                    "group {name} in namespace {namespace} left alone: the namespace is not in owned_namespaces"
                ));
            }
        }
        let before = plan.changes.len();
        push_group_changes(&mut plan, &have, want, &format!("in namespace {namespace}"));
        for change in &plan.changes[before..] {
            let group = change
                .subject
                .strip_prefix("group ")
                .and_then(|rest| rest.strip_suffix(&format!(" in namespace {namespace}")))
                .unwrap_or_default()
                .to_string();
            plan.actions.push(match change.kind {
                ChangeKind::Remove => Action::DeleteGroup {
                    namespace: namespace.clone(),
                    group,
                },
                _ => Action::PostGroup {
                    namespace: namespace.clone(),
                    yaml: change.after.clone(),
                    group,
                },
            });
        }
    }
    plan
}

/// Whether a watch (its source JSON) carries `metadata.mlslo_owned: true`.
pub fn watch_is_owned(watch: &serde_json::Value) -> bool {
    watch
        .get("metadata")
        .and_then(|m| m.get(WATCH_OWNERSHIP_KEY))
        .and_then(serde_json::Value::as_bool)
        == Some(true)
}

/// Metadata key holding a hash of the generated watch. Elasticsearch answers a GET with the
/// watch re-serialised from its parsed form (`throttle_period` becomes
/// `throttle_period_in_millis`, defaults appear, secrets are redacted), so comparing the
/// stored text with the generated one would show a change forever; metadata comes back
/// verbatim, so the hash of what was sent tells whether the watch is current.
pub const WATCH_HASH_KEY: &str = "mlslo_hash";

/// The watch with `metadata.mlslo_hash` set to the FNV-1a hash of its canonical JSON
/// (sorted keys) without that key.
pub fn with_content_hash(watch: &serde_json::Value) -> serde_json::Value {
    let mut without = watch.clone();
    if let Some(metadata) = without
        .get_mut("metadata")
        .and_then(serde_json::Value::as_object_mut)
    {
        metadata.remove(WATCH_HASH_KEY);
    }
    let text = serde_json::to_string(&without).unwrap_or_default();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    if let Some(metadata) = without
        .get_mut("metadata")
        .and_then(serde_json::Value::as_object_mut)
    {
        metadata.insert(
            WATCH_HASH_KEY.to_string(),
            serde_json::Value::from(format!("{hash:016x}")),
        );
    }
    without
}

fn content_hash_of(watch: &serde_json::Value) -> Option<&str> {
    watch
        .get("metadata")
        .and_then(|metadata| metadata.get(WATCH_HASH_KEY))
        .and_then(serde_json::Value::as_str)
}

/// Plans a Watcher deploy. `desired` maps watch id -> generated watch; `present` maps id ->
/// the stored watch for every desired id that exists plus every owned watch on the cluster.
pub fn plan_watches(
    desired: &BTreeMap<String, serde_json::Value>,
    present: &BTreeMap<String, serde_json::Value>,
) -> Result<Plan, String> {
    let mut plan = Plan::default();
    for (id, watch) in desired {
        if !watch_is_owned(watch) {
            return Err(format!(
                "generated watch {id} lacks metadata.{WATCH_OWNERSHIP_KEY}: rebuild with `mlslo build`"
            ));
        }
    }
    let desired: BTreeMap<&String, serde_json::Value> = desired
        .iter()
        .map(|(id, watch)| (id, with_content_hash(watch)))
        .collect();
    let ids: BTreeSet<&String> = desired.keys().copied().chain(present.keys()).collect();
    for id in ids {
        let pretty =
            |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default() + "\n";
        match (present.get(id), desired.get(id)) {
            (Some(old), _) if !watch_is_owned(old) => {
                return Err(format!(
                    "watch {id} exists on the cluster but was not created by mlslo \
                     (no metadata.{WATCH_OWNERSHIP_KEY}): refusing to replace it"
                ))
            }
            (Some(old), Some(new)) if content_hash_of(old) == content_hash_of(new) => {}
            (old, Some(new)) => {
                plan.changes.push(Change {
                    kind: if old.is_some() {
                        ChangeKind::Update
                    } else {
                        ChangeKind::Add
                    },
                    subject: format!("watch {id}"),
                    before: old.map(pretty).unwrap_or_default(),
                    after: pretty(new),
                });
                plan.actions.push(Action::PutWatch {
                    id: (*id).clone(),
                    body: serde_json::to_string(new).unwrap_or_default(),
                });
            }
            (Some(old), None) => {
                plan.changes.push(Change {
                    kind: ChangeKind::Remove,
                    subject: format!("watch {id}"),
                    before: pretty(old),
                    after: String::new(),
                });
                plan.actions.push(Action::DeleteWatch { id: (*id).clone() });
            }
            (None, None) => {}
        }
    }
    Ok(plan)
}

/// One page of `_watcher/_query/watches`: the total count and `(id, watch source)` pairs.
#[derive(Clone, Debug, PartialEq)]
pub struct WatchesPage {
    pub total: usize,
    pub watches: Vec<(String, serde_json::Value)>,
}

pub fn query_watches_page(body: &str) -> Result<WatchesPage, String> {
    let value: serde_json::Value = serde_json::from_str(body)
        .map_err(|error| format!("the query watches answer is not JSON: {error}"))?;
    let total = value
        .get("count")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| "the query watches answer has no `count`".to_string())?;
    let mut watches = Vec::new();
    for entry in value
        .get("watches")
        .and_then(serde_json::Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let id = entry
            .get("_id")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| "a watch in the query answer has no `_id`".to_string())?;
        let watch = entry
            .get("watch")
            .cloned()
            .ok_or_else(|| format!("watch {id} in the query answer has no `watch`"))?;
        watches.push((id.to_string(), watch));
    }
    Ok(WatchesPage {
        total: total as usize,
        watches,
    })
}

/// The `watch` of a `GET _watcher/watch/<id>` answer, `None` when `found` is false.
pub fn get_watch_source(body: &str) -> Result<Option<serde_json::Value>, String> {
    let value: serde_json::Value = serde_json::from_str(body)
        .map_err(|error| format!("the get watch answer is not JSON: {error}"))?;
    if value.get("found").and_then(serde_json::Value::as_bool) == Some(false) {
        return Ok(None);
    }
    value
        .get("watch")
        .cloned()
        .map(Some)
        .ok_or_else(|| "the get watch answer has no `watch`".to_string())
}

/// Checks a `/api/v1/rules` answer after a reload: every group the plan wrote is there (by
/// file name and group name) with as many rules, none with health `err`, and no group of a
/// removed file is left.
pub fn verify_loaded_rules(plan: &Plan, body: &str) -> Result<(), String> {
    let value: serde_json::Value = serde_json::from_str(body)
        .map_err(|error| format!("the rules API answer is not JSON: {error}"))?;
    let groups = value
        .pointer("/data/groups")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| "the rules API answer has no data.groups".to_string())?;
    let mut loaded: BTreeMap<(String, String), (usize, Vec<String>)> = BTreeMap::new();
    for group in groups {
        let text = |key: &str| {
            group
                .get(key)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
        };
        let file = text("file")
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let rules = group
            .get("rules")
            .and_then(serde_json::Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let broken = rules
            .iter()
            .filter(|rule| rule.get("health").and_then(serde_json::Value::as_str) == Some("err"))
            .map(|rule| {
                let name = rule
                    .get("name")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("?");
                let error = rule
                    .get("lastError")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("");
                format!("{name}: {error}")
            })
            .collect();
        loaded.insert((file, text("name").to_string()), (rules.len(), broken));
    }
    let mut problems = Vec::new();
    for action in &plan.actions {
        match action {
            Action::WriteFile { name, contents } => {
                for (group, value) in rule_file_groups(name, contents)? {
                    let expected = value
                        .get("rules")
                        .and_then(Value::as_sequence)
                        .map_or(0, Vec::len);
                    match loaded.get(&(name.clone(), group.clone())) {
                        None => problems.push(format!("group {group} of {name} is not loaded")),
                        Some((count, _)) if *count != expected => problems.push(format!(
                            "group {group} of {name} has {count} rules loaded, {expected} written"
                        )),
                        Some((_, broken)) if !broken.is_empty() => problems.push(format!(
                            "group {group} of {name} has failing rules: {}",
                            broken.join("; ")
                        )),
                        Some(_) => {}
                    }
                }
            }
            Action::RemoveFile { name } => {
                for (file, group) in loaded.keys() {
                    if file == name {
                        problems.push(format!("group {group} of removed {name} is still loaded"));
                    }
                }
            }
            _ => {}
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the reload was accepted but the rules did not load as written: {}",
            problems.join("; ")
        ))
    }
}

/// Checks `/api/v2/status` after a reload: the running configuration (`config.original`,
/// re-serialised by Alertmanager) has every key of the written file with its value.
pub fn verify_alertmanager_status(written: &str, body: &str) -> Result<(), String> {
    match served::alertmanager_difference(written, body)? {
        None => Ok(()),
        Some(path) => Err(format!(
            "the reload was accepted but Alertmanager runs another configuration \
             (first difference at {path})"
        )),
    }
}

#[cfg(test)]
mod tests;
