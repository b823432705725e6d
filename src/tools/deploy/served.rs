//! What a server reports it runs, compared with the files that should run: the rule groups
//! of `/api/v1/rules` and the reload status of `/api/v1/status/runtimeinfo` (Prometheus,
//! Thanos Ruler), the configuration of `/api/v2/status` (Alertmanager). A deploy killed
//! between writing its files and the reload, or a reload that failed, leaves the files and
//! the server apart; this is how `diff` and `deploy` see it, and how `deploy` verifies a
//! reload.
//!
//! Invariants:
//! - Only what the APIs report is compared. Rules: the group (by file name and group name),
//!   its `interval` when the file sets one, `limit`, and each rule's kind, name, expression
//!   (parsed, as the server prints its own form), `for`, `keep_firing_for`, labels and
//!   annotations. Alertmanager: every key the written file sets must be in the running
//!   configuration with the same value (Alertmanager adds defaults, sorts matchers and
//!   masks secrets as `<secret>`).
//! - A server's re-serialisation of the files on disk is no difference, so a finished
//!   deploy plans nothing.
//! - Pure: answers' texts in, differences out.

use std::collections::{BTreeMap, BTreeSet};

use yaml_serde::{Mapping, Value};

use super::{canonical_group, rule_file_groups, to_yaml, Action, Change, ChangeKind, Plan};
use crate::prometheus::model::duration::parse_model_duration;
use crate::prometheus::promql::parse_promql;

/// What a Prometheus or Thanos Ruler runs: its rule groups by file name (without folder)
/// and group name, the folders those files are read from, and whether its last
/// configuration reload succeeded (`None` when the server does not say, as Thanos Ruler).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServedRules {
    pub groups: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
    /// File name -> the folders it is served from.
    pub folders: BTreeMap<String, BTreeSet<String>>,
    pub reload_succeeded: Option<bool>,
}

/// Reads a `/api/v1/rules` answer, and the `/api/v1/status/runtimeinfo` answer when the
/// server has that endpoint.
pub fn served_rules(
    rules_body: &str,
    runtime_info_body: Option<&str>,
) -> Result<ServedRules, String> {
    let value: serde_json::Value = serde_json::from_str(rules_body)
        .map_err(|error| format!("the rules API answer is not JSON: {error}"))?;
    let groups = value
        .pointer("/data/groups")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| "the rules API answer has no data.groups".to_string())?;
    let mut served = ServedRules::default();
    for group in groups {
        let path = group
            .get("file")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        let (folder, file) = path.rsplit_once('/').unwrap_or(("", path));
        let name = group
            .get("name")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        served
            .groups
            .entry(file.to_string())
            .or_default()
            .insert(name.to_string(), group.clone());
        served
            .folders
            .entry(file.to_string())
            .or_default()
            .insert(folder.to_string());
    }
    if let Some(body) = runtime_info_body {
        let value: serde_json::Value = serde_json::from_str(body)
            .map_err(|error| format!("the runtime information answer is not JSON: {error}"))?;
        served.reload_succeeded = value
            .pointer("/data/reloadConfigSuccess")
            .and_then(serde_json::Value::as_bool);
    }
    Ok(served)
}

/// Subject of the change a failed reload adds to a plan.
pub const RELOAD_FAILED: &str =
    "configuration reload: the server's last reload failed, it runs the configuration it loaded before";

/// Adds to `plan` (made from the files, see [`super::plan_rule_files`]; `present` is every
/// rule file of the folder) what the server runs differently from the files on disk: groups of files the plan does not rewrite, files
/// removed from disk but still served, and a failed last reload. Each is a change, and one
/// [`Action::Reload`] makes the server load the files.
pub fn add_rule_drift(
    plan: &mut Plan,
    desired: &BTreeMap<String, String>,
    present: &BTreeMap<String, String>,
    served: &ServedRules,
) -> Result<(), String> {
    let present_generated: BTreeMap<&String, &String> = present
        .iter()
        .filter(|(_, text)| super::is_generated(text))
        .collect();
    let rewritten: BTreeSet<&String> = plan
        .actions
        .iter()
        .filter_map(|action| match action {
            Action::WriteFile { name, .. } | Action::RemoveFile { name } => Some(name),
            _ => None,
        })
        .collect();
    let mut drifted = false;
    let no_groups = BTreeMap::new();
    for (name, text) in desired {
        if rewritten.contains(name) {
            continue;
        }
        // The file on disk is the desired one: the server must run it.
        let have = served.groups.get(name).unwrap_or(&no_groups);
        let changes = group_drift(name, &rule_file_groups(name, text)?, have)?;
        drifted |= !changes.is_empty();
        plan.changes.extend(changes);
    }
    for (name, on_disk) in &present_generated {
        // This deploy rewrites the file and reloads; say when the server did not even run
        // the version on disk.
        let have = served.groups.get(*name).unwrap_or(&no_groups);
        if rewritten.contains(*name)
            && !group_drift(name, &rule_file_groups(name, on_disk)?, have)?.is_empty()
        {
            plan.notes.push(format!(
                "the server does not run {name} as it is on disk either (an earlier deploy \
                 did not finish); this deploy's reload applies it"
            ));
        }
    }
    // Files of ours the server reads from a folder, gone from disk but still running.
    let our_folders: BTreeSet<&String> = desired
        .keys()
        .chain(present_generated.keys().copied())
        .filter_map(|name| served.folders.get(name))
        .flatten()
        .collect();
    for (name, groups) in &served.groups {
        let in_our_folder = served
            .folders
            .get(name)
            .is_some_and(|folders| folders.iter().any(|folder| our_folders.contains(folder)));
        if !in_our_folder || desired.contains_key(name) || present.contains_key(name) {
            continue;
        }
        if plan
            .actions
            .iter()
            .any(|action| matches!(action, Action::RemoveFile { name: removed } if removed == name))
        {
            continue;
        }
        drifted = true;
        for (group, value) in groups {
            plan.changes.push(Change {
                kind: ChangeKind::Remove,
                subject: format!(
                    "group {group} in {name} (removed from disk, still running on the server)"
                ),
                before: to_yaml(&served_group_value(value, None)?),
                after: String::new(),
            });
        }
    }
    if served.reload_succeeded == Some(false) {
        drifted = true;
        plan.changes.push(Change {
            kind: ChangeKind::Update,
            subject: RELOAD_FAILED.to_string(),
            before: String::new(),
            after: String::new(),
        });
    }
    if drifted {
        plan.actions.push(Action::Reload);
    }
    Ok(())
}

/// Changes from what the server runs of file `name` (`have`, API groups by name) to the
/// file's canonical groups (`want`).
fn group_drift(
    name: &str,
    want: &BTreeMap<String, Value>,
    have: &BTreeMap<String, serde_json::Value>,
) -> Result<Vec<Change>, String> {
    let mut changes = Vec::new();
    let names: BTreeSet<&String> = want.keys().chain(have.keys()).collect();
    for group in names {
        let wanted = want.get(group).map(project_file_group);
        let running = match have.get(group) {
            Some(value) => Some(served_group_value(value, wanted.as_ref())?),
            None => None,
        };
        let (kind, verb) = match (&running, &wanted) {
            (None, Some(_)) => (ChangeKind::Add, "on disk, not running on the server"),
            (Some(_), None) => (ChangeKind::Remove, "running on the server, not on disk"),
            (Some(running), Some(wanted)) if running != wanted => (
                ChangeKind::Update,
                "the server runs another version than the disk",
            ),
            _ => continue,
        };
        changes.push(Change {
            kind,
            subject: format!("group {group} in {name} ({verb})"),
            before: running.as_ref().map(to_yaml).unwrap_or_default(),
            after: wanted.as_ref().map(to_yaml).unwrap_or_default(),
        });
    }
    Ok(changes)
}

/// Group keys the rules API reports (the others cannot be compared).
const SERVED_GROUP_KEYS: [&str; 4] = ["name", "interval", "limit", "rules"];

/// A canonical file group without the keys the rules API does not report.
fn project_file_group(group: &Value) -> Value {
    let mut projected = group.clone();
    if let Value::Mapping(mapping) = &mut projected {
        mapping.retain(|key, _| {
            key.as_str()
                .is_some_and(|key| SERVED_GROUP_KEYS.contains(&key))
        });
    }
    projected
}

/// A served group (rules API JSON) as a canonical group, comparable with a file's. The
/// server prints expressions in its own form; where a rule's expression means the same as
/// the file's (`file`, the projected file group), the file's text is kept, so a diff shows
/// only real differences. Without `file`, or when the file sets no `interval`, the served
/// interval (the global default then) is left out.
fn served_group_value(group: &serde_json::Value, file: Option<&Value>) -> Result<Value, String> {
    let text = |value: &serde_json::Value, key: &str| {
        value
            .get(key)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let seconds = |value: &serde_json::Value, key: &str| {
        value
            .get(key)
            .and_then(serde_json::Value::as_f64)
            .map(|seconds| {
                crate::prometheus::model::duration::format_model_duration(
                    (seconds * 1000.0).round() as i64,
                )
            })
    };
    let file_rules: Vec<Value> = file
        .and_then(|group| group.get("rules"))
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default();
    let mut mapping = Mapping::new();
    mapping.insert("name".into(), text(group, "name").into());
    if file.is_some_and(|file| file.get("interval").is_some()) {
        if let Some(interval) = seconds(group, "interval") {
            mapping.insert("interval".into(), interval.into());
        }
    }
    if let Some(limit) = group.get("limit").and_then(serde_json::Value::as_u64) {
        mapping.insert("limit".into(), limit.into());
    }
    let mut rules = Vec::new();
    let served_rules = group
        .get("rules")
        .and_then(serde_json::Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (index, rule) in served_rules.iter().enumerate() {
        let mut out = Mapping::new();
        let kind = if text(rule, "type") == "alerting" {
            "alert"
        } else {
            "record"
        };
        out.insert(kind.into(), text(rule, "name").into());
        let query = text(rule, "query");
        let file_expr = file_rules
            .get(index)
            .and_then(|rule| rule.get("expr"))
            .and_then(Value::as_str);
        let expr = match file_expr {
            Some(written) if same_expression(written, &query) => written.to_string(),
            _ => query,
        };
        out.insert("expr".into(), expr.into());
        for (key, field) in [("for", "duration"), ("keep_firing_for", "keepFiringFor")] {
            if let Some(duration) = seconds(rule, field) {
                out.insert(key.into(), duration.into());
            }
        }
        for key in ["labels", "annotations"] {
            if let Some(serde_json::Value::Object(pairs)) = rule.get(key) {
                let pairs: Mapping = pairs
                    .iter()
                    .map(|(name, value)| {
                        (
                            Value::from(name.as_str()),
                            Value::from(value.as_str().unwrap_or_default()),
                        )
                    })
                    .collect();
                out.insert(key.into(), Value::Mapping(pairs));
            }
        }
        rules.push(Value::Mapping(out));
    }
    mapping.insert("rules".into(), Value::Sequence(rules));
    canonical_group(&Value::Mapping(mapping))
}

/// Whether two PromQL texts parse to the same expression; texts that do not parse are
/// compared as they are.
fn same_expression(written: &str, served: &str) -> bool {
    if written.trim() == served.trim() {
        return true;
    }
    match (parse_promql(written), parse_promql(served)) {
        (Ok(written), Ok(served)) => written.to_string() == served.to_string(),
        _ => false,
    }
}

/// Adds to `plan` (made from the files, see [`super::plan_alertmanager`]) a running
/// Alertmanager configuration that differs from the file on disk: a change and a reload
/// when the plan does not rewrite the file, a note when it does.
pub fn add_alertmanager_drift(
    plan: &mut Plan,
    file_name: &str,
    desired: &str,
    present: Option<&str>,
    status_body: &str,
) -> Result<(), String> {
    let rewrites = plan
        .actions
        .iter()
        .any(|action| matches!(action, Action::WriteFile { .. }));
    if rewrites {
        if let Some(present) = present {
            if alertmanager_difference(present, status_body)?.is_some() {
                plan.notes.push(format!(
                    "Alertmanager does not run {file_name} as it is on disk either (an earlier \
                     deploy did not finish); this deploy's reload applies it"
                ));
            }
        }
        return Ok(());
    }
    if let Some(path) = alertmanager_difference(desired, status_body)? {
        plan.changes.push(Change {
            kind: ChangeKind::Update,
            subject: format!(
                "file {file_name} (on disk, not running: Alertmanager runs another \
                 configuration, first difference at {path})"
            ),
            before: String::new(),
            after: String::new(),
        });
        plan.actions.push(Action::Reload);
    }
    Ok(())
}

/// Where the running Alertmanager configuration (`config.original` of `/api/v2/status`)
/// differs from the written file, as a path such as `route.routes[0].receiver`; `None`
/// when every key the file sets runs with its value.
pub fn alertmanager_difference(written: &str, status_body: &str) -> Result<Option<String>, String> {
    let status: serde_json::Value = serde_json::from_str(status_body)
        .map_err(|error| format!("the status API answer is not JSON: {error}"))?;
    let original = status
        .pointer("/config/original")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| "the status API answer has no config.original".to_string())?;
    let running: Value = yaml_serde::from_str(original)
        .map_err(|error| format!("the running configuration is not YAML: {error}"))?;
    let written: Value = yaml_serde::from_str(written)
        .map_err(|error| format!("the written configuration is not YAML: {error}"))?;
    Ok(first_difference("", &written, Some(&running)))
}

/// Alertmanager's mask for a secret it will not print.
const MASKED_SECRET: &str = "<secret>";

fn first_difference(path: &str, written: &Value, running: Option<&Value>) -> Option<String> {
    let here = || {
        if path.is_empty() {
            "the whole configuration".to_string()
        } else {
            path.to_string()
        }
    };
    let Some(running) = running else {
        let empty = match written {
            Value::Null => true,
            Value::Sequence(items) => items.is_empty(),
            Value::Mapping(entries) => entries.is_empty(),
            _ => false,
        };
        return (!empty).then(here);
    };
    if running.as_str() == Some(MASKED_SECRET) {
        return None;
    }
    match (written, running) {
        (Value::Mapping(written), Value::Mapping(running)) => {
            written.iter().find_map(|(key, value)| {
                let key = scalar_text(key);
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                first_difference(&child, value, running.get(key.as_str()))
            })
        }
        (Value::Sequence(written), Value::Sequence(running)) => {
            if written.len() != running.len() {
                return Some(here());
            }
            if path.ends_with("matchers") {
                let sorted = |items: &[Value]| {
                    let mut texts: Vec<String> = items.iter().map(scalar_text).collect();
                    texts.sort();
                    texts
                };
                return (sorted(written) != sorted(running)).then(here);
            }
            written
                .iter()
                .zip(running)
                .enumerate()
                .find_map(|(index, (written, running))| {
                    first_difference(&format!("{path}[{index}]"), written, Some(running))
                })
        }
        (Value::Mapping(_) | Value::Sequence(_), _)
        | (_, Value::Mapping(_) | Value::Sequence(_)) => Some(here()),
        (written, running) => {
            let (written, running) = (scalar_text(written), scalar_text(running));
            let same_duration = matches!(
                (parse_model_duration(&written), parse_model_duration(&running)),
                (Ok(a), Ok(b)) if a == b
            );
            (written != running && !same_duration).then(here)
        }
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => yaml_serde::to_string(other)
            .unwrap_or_default()
            .trim_end()
            .to_string(),
    }
}
