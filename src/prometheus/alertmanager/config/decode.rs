//! Decoding `alertmanager.yml` as Alertmanager 0.25 does with gopkg.in/yaml.v2
//! `UnmarshalStrict`, into the types of [`super::model`].
//!
//! Invariants:
//! - Decoding mirrors yaml.v2's two error classes. "Type errors" (unknown keys, a list
//!   where a string is due, ...) are collected in document order and reported together as
//!   `yaml: unmarshal errors:\n  line N: ...`. Any other error (a bad duration, a bad
//!   matcher or regex, a failed check of one node's `UnmarshalYAML`) aborts at once and
//!   wins over collected type errors. A node's own checks run only when its subtree had no
//!   type error.
//! - Decoding reads the raw tree of `alertmanager::yaml`, so a scalar reaches a string
//!   field as written (`1.10` stays `1.10`), as in Go.
//! - Integration settings stay opaque YAML values; only their top-level keys, their
//!   required fields, their URLs and the inline-versus-`*_file` secrets are checked (nested
//!   settings and `http_config` are not).
//!
//! The types are filled by this hand-written decoder rather than by serde derives:
//! yaml.v2's error order and wording (collected type errors, lines, hard errors winning)
//! cannot be had from serde's first-error-aborts model.

use std::collections::BTreeMap;

use yaml_serde::Value;

use super::duration::GoDuration;
use super::model::{
    Config, GlobalConfig, InhibitRule, Integration, Receiver, Route, SecretField, SecretSource,
    TimeInterval,
};
use super::schema::{
    GLOBAL_KEYS, GLOBAL_URL_KEYS, INTEGRATIONS, INTEGRATION_URL_FIELDS, SECRET_FIELDS,
};
use super::url::{parse_go_url, parse_host_port};
use crate::prometheus::alertmanager::matchers::{self, Matcher};
use crate::prometheus::alertmanager::timeinterval::{self, TimeIntervalSpec};
use crate::prometheus::alertmanager::yaml::{self, Node, PathStep, ScalarKind};
use crate::prometheus::model::names::is_legacy_label_name;

/// Decodes a configuration text as yaml.v2's `UnmarshalStrict` does: the typed
/// configuration, and whether it has a `route`. The error is amtool's message.
pub(super) fn decode(text: &str) -> Result<(Config, bool), String> {
    let document = yaml::parse(text).map_err(|error| go_yaml_syntax_error(&error))?;
    if document.is_null() {
        return Err("no route provided in config".to_string());
    }
    let mut decoder = Decoder {
        path: Vec::new(),
        type_errors: Vec::new(),
    };
    let decoded = decoder.config(&document);
    let config = match decoded {
        Err(hard) => return Err(hard),
        Ok(_) if !decoder.type_errors.is_empty() => {
            return Err(render_type_errors(text, &decoder.type_errors))
        }
        Ok(config) => config,
    };
    config.ok_or_else(|| "no route provided in config".to_string())
}

/// A yaml.v2 "type error": reported with the line of a key or of a value.
#[derive(Clone, Debug)]
struct TypeError {
    path: Vec<PathStep>,
    /// True when the line is the key's (unknown field), else the value's.
    at_key: bool,
    message: String,
}

struct Decoder {
    path: Vec<PathStep>,
    type_errors: Vec<TypeError>,
}

/// An error that aborts decoding at once (anything but a yaml.v2 type error).
type Hard = String;

const PLAIN: &str = "config.plain";

impl Decoder {
    fn type_error(&mut self, at_key: bool, message: String) {
        self.type_errors.push(TypeError {
            path: self.path.clone(),
            at_key,
            message,
        });
    }

    fn type_error_count(&self) -> usize {
        self.type_errors.len()
    }

    /// A mapping's entries in file order with each key's occurrence number;
    /// `None` for null (Go keeps the zero value) and for a wrong node kind
    /// (a type error).
    fn entries<'node>(
        &mut self,
        node: &'node Node,
        go_type: &str,
    ) -> Option<Vec<(String, usize, &'node Node)>> {
        match node {
            Node::Null => None,
            Node::Mapping(mapping) => {
                let mut seen: BTreeMap<String, usize> = BTreeMap::new();
                Some(
                    mapping
                        .iter()
                        .map(|(key, value)| {
                            let key = key.text();
                            let occurrence = seen.entry(key.clone()).or_insert(0);
                            let entry = (key, *occurrence, value);
                            *occurrence += 1;
                            entry
                        })
                        .collect(),
                )
            }
            other => {
                self.type_error(false, cannot_unmarshal(other, go_type));
                None
            }
        }
    }

    /// Walks a struct mapping: known keys go to `field` (a repeated key is a
    /// type error and skipped), unknown keys are type errors.
    fn struct_fields<'node>(
        &mut self,
        node: &'node Node,
        known: &[&str],
        mut field: impl FnMut(&mut Decoder, &str, &'node Node) -> Result<(), Hard>,
    ) -> Result<bool, Hard> {
        let Some(entries) = self.entries(node, PLAIN) else {
            return Ok(false);
        };
        for (key, occurrence, child) in entries {
            self.path.push(PathStep::Key {
                name: key.clone(),
                occurrence,
            });
            if !known.contains(&key.as_str()) {
                self.type_error(true, format!("field {key} not found in type {PLAIN}"));
            } else if occurrence > 0 {
                self.type_error(true, format!("field {key} already set in type {PLAIN}"));
            } else {
                field(self, &key, child)?;
            }
            self.path.pop();
        }
        Ok(true)
    }

    fn string(&mut self, node: &Node) -> Option<String> {
        match node {
            Node::Null => None,
            Node::Mapping(_) | Node::Sequence(_) => {
                let message = cannot_unmarshal(node, "string");
                self.type_error(false, message);
                None
            }
            Node::Scalar(scalar) => Some(scalar.text.clone()),
        }
    }

    fn boolean(&mut self, node: &Node) -> bool {
        match node {
            Node::Null => false,
            Node::Scalar(scalar) => match (scalar.kind, scalar.text.as_str()) {
                (ScalarKind::Bool(flag), _) => flag,
                // YAML 1.1 booleans, which yaml.v2 resolves and yaml_serde does not.
                (ScalarKind::Str, "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON") => true,
                (ScalarKind::Str, "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF") => false,
                _ => {
                    let message = cannot_unmarshal(node, "bool");
                    self.type_error(false, message);
                    false
                }
            },
            other => {
                let message = cannot_unmarshal(other, "bool");
                self.type_error(false, message);
                false
            }
        }
    }

    /// A Go `uint64` field: a non-negative integer (or null).
    fn unsigned(&mut self, node: &Node) {
        match node {
            Node::Null => {}
            Node::Scalar(scalar)
                if scalar.kind == ScalarKind::Int && !scalar.text.starts_with('-') => {}
            other => {
                let message = cannot_unmarshal(other, "uint64");
                self.type_error(false, message);
            }
        }
    }

    fn string_list(&mut self, node: &Node) -> Vec<String> {
        match node {
            Node::Null => Vec::new(),
            Node::Sequence(items) => {
                let mut strings = Vec::new();
                for (index, item) in items.iter().enumerate() {
                    self.path.push(PathStep::Index(index));
                    if let Some(text) = self.string(item) {
                        strings.push(text);
                    } else if item.is_null() {
                        strings.push(String::new());
                    }
                    self.path.pop();
                }
                strings
            }
            other => {
                self.type_error(false, cannot_unmarshal(other, "[]string"));
                Vec::new()
            }
        }
    }

    /// A Go `map[string]string`; a repeated key is a type error (yaml.v2 strict).
    fn string_map(&mut self, node: &Node) -> Vec<(String, String)> {
        let Some(entries) = self.entries(node, "map[string]string") else {
            return Vec::new();
        };
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (key, occurrence, child) in entries {
            self.path.push(PathStep::Key {
                name: key.clone(),
                occurrence,
            });
            let text = self.string(child).unwrap_or_default();
            if occurrence > 0 {
                self.type_error(false, format!("key {key:?} already set in map"));
            } else {
                pairs.push((key, text));
            }
            self.path.pop();
        }
        pairs
    }

    fn duration(&mut self, value: &Node) -> Result<Option<GoDuration>, Hard> {
        match self.string(value) {
            // yaml.v2 skips the unmarshaler of a null node: the field stays unset.
            None => Ok(None),
            Some(text) => GoDuration::parse(&text).map(Some),
        }
    }

    /// `config.Matchers.UnmarshalYAML`: a list of strings, each a matcher list.
    fn matcher_list(&mut self, value: &Node) -> Result<Vec<Matcher>, Hard> {
        let before = self.type_error_count();
        let lines = self.string_list(value);
        if self.type_error_count() > before {
            return Ok(Vec::new());
        }
        let mut all = Vec::new();
        for line in lines {
            all.extend(matchers::parse_matchers(&line)?);
        }
        Ok(all)
    }

    /// `config.MatchRegexps`: each value compiles as an anchored regex.
    fn regex_map(&mut self, node: &Node) -> Result<Vec<(String, String)>, Hard> {
        let Some(entries) = self.entries(node, "config.plain") else {
            return Ok(Vec::new());
        };
        let before = self.type_error_count();
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut null_value = None;
        for (key, occurrence, child) in entries {
            self.path.push(PathStep::Key {
                name: key.clone(),
                occurrence,
            });
            match self.string(child) {
                Some(pattern) => {
                    matchers::compile_anchored_regex(&pattern)?;
                    if occurrence > 0 {
                        self.type_error(false, format!("key {key:?} already set in map"));
                    } else {
                        pairs.push((key, pattern));
                    }
                }
                None if child.is_null() => null_value = Some(key),
                None => {}
            }
            self.path.pop();
        }
        if self.type_error_count() > before {
            return Ok(pairs);
        }
        if let Some((key, _)) = pairs.iter().find(|(key, _)| !is_legacy_label_name(key)) {
            return Err(format!("invalid label name {key:?}"));
        }
        if let Some(key) = null_value {
            if !is_legacy_label_name(&key) {
                return Err(format!("invalid label name {key:?}"));
            }
            return Err(format!("invalid regexp value for {key:?}"));
        }
        Ok(pairs)
    }

    /// `model.LabelNames`, each checked by `LabelName.UnmarshalYAML`.
    fn label_names(&mut self, value: &Node) -> Result<Vec<String>, Hard> {
        let names = self.string_list(value);
        if let Some(bad) = names.iter().find(|name| !is_legacy_label_name(name)) {
            return Err(format!("{bad:?} is not a valid label name"));
        }
        Ok(names)
    }

    fn url(&mut self, value: &Node, secret: bool) -> Result<Option<String>, Hard> {
        let Some(text) = self.string(value) else {
            return Ok(None);
        };
        if secret && text == "<secret>" {
            return Ok(Some(text));
        }
        parse_go_url(&text)?;
        Ok(Some(text))
    }

    /// The decoded file and whether it had a `route` (checked later, as Go does).
    fn config(&mut self, document: &Node) -> Result<Option<(Config, bool)>, Hard> {
        let mut global = GlobalConfig {
            resolve_timeout: GoDuration::from_seconds(300),
            settings: default_global_settings(),
        };
        let mut route = None;
        let mut inhibit_rules = Vec::new();
        let mut receivers = Vec::new();
        let mut templates = Vec::new();
        let mut mute_time_intervals = Vec::new();
        let mut time_intervals = Vec::new();
        let known = [
            "global",
            "route",
            "inhibit_rules",
            "receivers",
            "templates",
            "mute_time_intervals",
            "time_intervals",
        ];
        self.struct_fields(document, &known, |decoder, key, value| {
            match key {
                "global" => {
                    if let Some(decoded) = decoder.global(value)? {
                        global = decoded;
                    }
                }
                "route" => route = decoder.route(value)?,
                "inhibit_rules" => {
                    inhibit_rules =
                        decoder.list(value, "[]*config.InhibitRule", Decoder::inhibit_rule)?
                }
                "receivers" => {
                    receivers = decoder.list(value, "[]*config.Receiver", Decoder::receiver)?
                }
                "templates" => templates = decoder.string_list(value),
                "mute_time_intervals" => {
                    mute_time_intervals =
                        decoder.list(value, "[]config.MuteTimeInterval", |decoder, value| {
                            decoder.time_interval(value, "missing name in mute time interval")
                        })?
                }
                _ => {
                    time_intervals =
                        decoder.list(value, "[]config.TimeInterval", |decoder, value| {
                            decoder.time_interval(value, "missing name in time interval")
                        })?
                }
            }
            Ok(())
        })?;
        if self.type_error_count() > 0 {
            return Ok(None);
        }
        let route_present = route.is_some();
        Ok(Some((
            Config {
                global,
                route: route.unwrap_or_default(),
                inhibit_rules: inhibit_rules.into_iter().flatten().collect(),
                receivers: receivers.into_iter().flatten().collect(),
                templates,
                mute_time_intervals: mute_time_intervals.into_iter().flatten().collect(),
                time_intervals: time_intervals.into_iter().flatten().collect(),
            },
            route_present,
        )))
    }

    fn list<T>(
        &mut self,
        node: &Node,
        go_type: &str,
        mut item: impl FnMut(&mut Decoder, &Node) -> Result<T, Hard>,
    ) -> Result<Vec<T>, Hard> {
        match node {
            Node::Null => Ok(Vec::new()),
            Node::Sequence(items) => {
                let mut decoded = Vec::new();
                for (index, child) in items.iter().enumerate() {
                    self.path.push(PathStep::Index(index));
                    decoded.push(item(self, child)?);
                    self.path.pop();
                }
                Ok(decoded)
            }
            other => {
                self.type_error(false, cannot_unmarshal(other, go_type));
                Ok(Vec::new())
            }
        }
    }

    fn global(&mut self, value: &Node) -> Result<Option<GlobalConfig>, Hard> {
        let mut global = GlobalConfig {
            resolve_timeout: GoDuration::from_seconds(300),
            settings: default_global_settings(),
        };
        let present = self.struct_fields(value, &GLOBAL_KEYS, |decoder, key, child| {
            match key {
                "resolve_timeout" => {
                    if let Some(duration) = decoder.duration(child)? {
                        global.resolve_timeout = duration;
                    }
                }
                "smtp_require_tls" => {
                    let flag = decoder.boolean(child);
                    global.settings.insert(key.to_string(), Value::Bool(flag));
                    return Ok(());
                }
                "smtp_smarthost" => {
                    if let Some(text) = decoder.string(child) {
                        parse_host_port(&text)?;
                    }
                }
                "http_config" => {}
                url_key if GLOBAL_URL_KEYS.contains(&url_key) => {
                    decoder.url(child, url_key == "slack_api_url")?;
                }
                _ => {
                    decoder.string(child);
                }
            }
            global.settings.insert(key.to_string(), child.to_value());
            Ok(())
        })?;
        Ok(present.then_some(global))
    }

    fn route(&mut self, value: &Node) -> Result<Option<Route>, Hard> {
        let before = self.type_error_count();
        let mut route = Route::default();
        let mut group_by_strings: Option<Vec<String>> = None;
        let known = [
            "receiver",
            "group_by",
            "match",
            "match_re",
            "matchers",
            "mute_time_intervals",
            "active_time_intervals",
            "continue",
            "routes",
            "group_wait",
            "group_interval",
            "repeat_interval",
        ];
        let present = self.struct_fields(value, &known, |decoder, key, child| {
            match key {
                "receiver" => route.receiver = decoder.string(child),
                "group_by" => group_by_strings = Some(decoder.string_list(child)),
                "match" => route.match_equal = decoder.string_map(child),
                "match_re" => route.match_regex = decoder.regex_map(child)?,
                "matchers" => route.matchers = decoder.matcher_list(child)?,
                "mute_time_intervals" => route.mute_time_intervals = decoder.string_list(child),
                "active_time_intervals" => route.active_time_intervals = decoder.string_list(child),
                "continue" => route.continue_matching = decoder.boolean(child),
                "routes" => {
                    route.routes = decoder
                        .list(child, "[]*config.Route", Decoder::route)?
                        .into_iter()
                        .flatten()
                        .collect()
                }
                "group_wait" => route.group_wait = decoder.duration(child)?,
                "group_interval" => route.group_interval = decoder.duration(child)?,
                _ => route.repeat_interval = decoder.duration(child)?,
            }
            Ok(())
        })?;
        if !present || self.type_error_count() > before {
            return Ok(None);
        }
        // config.Route.UnmarshalYAML's own checks, in its order.
        if let Some((key, _)) = route
            .match_equal
            .iter()
            .find(|(key, _)| !is_legacy_label_name(key))
        {
            return Err(format!("invalid label name {key:?}"));
        }
        if let Some(strings) = &group_by_strings {
            let mut group_by = Vec::new();
            for label in strings {
                if label == "..." {
                    route.group_by_all = true;
                } else if !is_legacy_label_name(label) {
                    return Err(format!("invalid label name {label:?} in group_by list"));
                } else {
                    group_by.push(label.clone());
                }
            }
            if !group_by.is_empty() && route.group_by_all {
                return Err(
                    "cannot have wildcard group_by (`...`) and other other labels at the same time"
                        .to_string(),
                );
            }
            let mut seen = std::collections::BTreeSet::new();
            for label in &group_by {
                if !seen.insert(label.clone()) {
                    return Err(format!("duplicated label {label:?} in group_by"));
                }
            }
            // Go's `GroupBy` stays nil when only `...` (or nothing) was listed.
            route.group_by = (!group_by.is_empty()).then_some(group_by);
        }
        if route
            .group_interval
            .is_some_and(|duration| duration.milliseconds == 0)
        {
            return Err("group_interval cannot be zero".to_string());
        }
        if route
            .repeat_interval
            .is_some_and(|duration| duration.milliseconds == 0)
        {
            return Err("repeat_interval cannot be zero".to_string());
        }
        Ok(Some(route))
    }

    fn inhibit_rule(&mut self, value: &Node) -> Result<Option<InhibitRule>, Hard> {
        let before = self.type_error_count();
        let mut rule = InhibitRule::default();
        let known = [
            "source_match",
            "source_match_re",
            "source_matchers",
            "target_match",
            "target_match_re",
            "target_matchers",
            "equal",
        ];
        let present = self.struct_fields(value, &known, |decoder, key, child| {
            match key {
                "source_match" => rule.source_match = decoder.string_map(child),
                "source_match_re" => rule.source_match_re = decoder.regex_map(child)?,
                "source_matchers" => rule.source_matchers = decoder.matcher_list(child)?,
                "target_match" => rule.target_match = decoder.string_map(child),
                "target_match_re" => rule.target_match_re = decoder.regex_map(child)?,
                "target_matchers" => rule.target_matchers = decoder.matcher_list(child)?,
                _ => rule.equal = decoder.label_names(child)?,
            }
            Ok(())
        })?;
        if !present || self.type_error_count() > before {
            return Ok(None);
        }
        for (key, _) in rule.source_match.iter().chain(&rule.target_match) {
            if !is_legacy_label_name(key) {
                return Err(format!("invalid label name {key:?}"));
            }
        }
        Ok(Some(rule))
    }

    fn receiver(&mut self, value: &Node) -> Result<Option<Receiver>, Hard> {
        let before = self.type_error_count();
        let mut name = String::new();
        let mut integrations = Vec::new();
        let mut known: Vec<&str> = vec!["name"];
        known.extend(INTEGRATIONS.iter().map(|(kind, _)| *kind));
        let present = self.struct_fields(value, &known, |decoder, key, child| {
            if key == "name" {
                name = decoder.string(child).unwrap_or_default();
                return Ok(());
            }
            let decoded = decoder.list(child, "[]*config.plain", |decoder, item| {
                decoder.integration(key, item)
            })?;
            integrations.extend(decoded.into_iter().flatten());
            Ok(())
        })?;
        if !present || self.type_error_count() > before {
            return Ok(None);
        }
        if name.is_empty() {
            return Err("missing name in receiver".to_string());
        }
        Ok(Some(Receiver { name, integrations }))
    }

    fn integration(&mut self, kind: &str, value: &Node) -> Result<Option<Integration>, Hard> {
        let before = self.type_error_count();
        let known = INTEGRATIONS
            .iter()
            .find(|(name, _)| *name == kind)
            .map(|(_, keys)| *keys)
            .unwrap_or(&[]);
        let mut settings = BTreeMap::new();
        let present = self.struct_fields(value, known, |decoder, key, child| {
            if key == "send_resolved" {
                decoder.boolean(child);
            } else if (kind, key) == ("webhook_configs", "max_alerts") {
                decoder.unsigned(child);
            } else if INTEGRATION_URL_FIELDS.contains(&(kind, key)) {
                let secret = matches!(
                    (kind, key),
                    ("slack_configs", "api_url") | ("discord_configs", "webhook_url")
                );
                decoder.url(child, secret)?;
            }
            settings.insert(key.to_string(), child.to_value());
            Ok(())
        })?;
        if !present || self.type_error_count() > before {
            return Ok(None);
        }
        let set = |key: &str| {
            settings
                .get(key)
                .is_some_and(|value| !value_text(value).is_empty())
        };
        match kind {
            "webhook_configs" if !set("url") => {
                return Err("missing URL in webhook config".to_string());
            }
            "email_configs" if !set("to") => {
                return Err("missing to address in email config".to_string());
            }
            "pagerduty_configs" => {
                if !set("routing_key")
                    && !set("service_key")
                    && !set("routing_key_file")
                    && !set("service_key_file")
                {
                    return Err("missing service or routing key in PagerDuty config".to_string());
                }
                if set("routing_key") && set("routing_key_file") {
                    return Err(
                        "at most one of routing_key & routing_key_file must be configured"
                            .to_string(),
                    );
                }
                if set("service_key") && set("service_key_file") {
                    return Err(
                        "at most one of service_key & service_key_file must be configured"
                            .to_string(),
                    );
                }
            }
            "slack_configs" if set("api_url") && set("api_url_file") => {
                return Err("at most one of api_url & api_url_file must be configured".to_string());
            }
            "opsgenie_configs" | "victorops_configs" if set("api_key") && set("api_key_file") => {
                return Err("at most one of api_key & api_key_file must be configured".to_string());
            }
            "victorops_configs" if !set("routing_key") => {
                return Err("missing Routing key in VictorOps config".to_string());
            }
            "pushover_configs" if !set("user_key") => {
                return Err("missing user key in Pushover config".to_string());
            }
            "pushover_configs" if !set("token") => {
                return Err("missing token in Pushover config".to_string());
            }
            "telegram_configs" if !set("bot_token") => {
                return Err("missing bot_token on telegram_config".to_string());
            }
            "telegram_configs" if !set("chat_id") => {
                return Err("missing chat_id on telegram_config".to_string());
            }
            "webex_configs" if !set("room_id") => {
                return Err("missing room_id on webex_config".to_string());
            }
            "sns_configs" if !set("topic_arn") && !set("phone_number") && !set("target_arn") => {
                return Err(
                    "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config"
                        .to_string(),
                );
            }
            _ => {}
        }
        let mut secrets = Vec::new();
        for (secret_kind, field, file_field) in SECRET_FIELDS {
            if secret_kind != kind {
                continue;
            }
            if set(field) {
                secrets.push(SecretField {
                    field: field.to_string(),
                    source: SecretSource::Inline,
                });
            } else if let Some(file_field) = file_field {
                if let Some(path) = settings
                    .get(file_field)
                    .map(value_text)
                    .filter(|path| !path.is_empty())
                {
                    secrets.push(SecretField {
                        field: field.to_string(),
                        source: SecretSource::File(path),
                    });
                }
            }
        }
        Ok(Some(Integration {
            kind: kind.to_string(),
            settings,
            secrets,
        }))
    }

    fn time_interval(
        &mut self,
        value: &Node,
        missing_name: &str,
    ) -> Result<Option<TimeInterval>, Hard> {
        let before = self.type_error_count();
        let mut name = String::new();
        let mut specifications = Vec::new();
        let present =
            self.struct_fields(value, &["name", "time_intervals"], |decoder, key, child| {
                if key == "name" {
                    name = decoder.string(child).unwrap_or_default();
                    return Ok(());
                }
                specifications =
                    decoder.list(child, "[]timeinterval.TimeInterval", |decoder, item| {
                        decoder.time_interval_specification(item)
                    })?;
                Ok(())
            })?;
        if !present || self.type_error_count() > before {
            return Ok(None);
        }
        if name.is_empty() {
            return Err(missing_name.to_string());
        }
        Ok(Some(TimeInterval {
            name,
            time_intervals: specifications,
        }))
    }

    /// `timeinterval.TimeInterval`: each field decoded in file order, each
    /// value checked by its Go `UnmarshalYAML` (failures abort decoding).
    fn time_interval_specification(&mut self, node: &Node) -> Result<TimeIntervalSpec, Hard> {
        let mut specification = TimeIntervalSpec::default();
        let Some(entries) = self.entries(node, "timeinterval.TimeInterval") else {
            return Ok(specification);
        };
        for (key, occurrence, child) in entries {
            self.path.push(PathStep::Key {
                name: key.clone(),
                occurrence,
            });
            let known = [
                "times",
                "weekdays",
                "days_of_month",
                "months",
                "years",
                "location",
            ];
            if child.is_null() && known.contains(&key.as_str()) {
                // yaml.v2 leaves a field unset for null: no constraint.
                self.path.pop();
                continue;
            }
            match key.as_str() {
                "times" => {
                    let ranges =
                        self.list(child, "[]timeinterval.TimeRange", Decoder::time_range)?;
                    specification.times = Some(ranges.into_iter().flatten().collect());
                }
                "weekdays" => {
                    specification.weekdays = Some(self.range_list(
                        child,
                        "timeinterval.WeekdayRange",
                        timeinterval::parse_weekday_range,
                    )?)
                }
                "days_of_month" => {
                    specification.days_of_month = Some(self.range_list(
                        child,
                        "timeinterval.DayOfMonthRange",
                        timeinterval::parse_day_of_month_range,
                    )?)
                }
                "months" => {
                    specification.months = Some(self.range_list(
                        child,
                        "timeinterval.MonthRange",
                        timeinterval::parse_month_range,
                    )?)
                }
                "years" => {
                    specification.years = Some(self.range_list(
                        child,
                        "timeinterval.YearRange",
                        timeinterval::parse_year_range,
                    )?)
                }
                "location" => {
                    specification.location = self.string(child);
                    if let Some(name) = &specification.location {
                        timeinterval::check_location(name)?;
                    }
                }
                _ => self.type_error(
                    true,
                    format!("field {key} not found in type timeinterval.TimeInterval"),
                ),
            }
            self.path.pop();
        }
        Ok(specification)
    }

    /// One `times` entry: strict `start_time`/`end_time`, then Go's checks.
    fn time_range(&mut self, node: &Node) -> Result<Option<(u32, u32)>, Hard> {
        let before = self.type_error_count();
        let mut start_time = String::new();
        let mut end_time = String::new();
        let Some(entries) = self.entries(node, "timeinterval.yamlTimeRange") else {
            return Ok(None);
        };
        for (key, occurrence, child) in entries {
            self.path.push(PathStep::Key {
                name: key.clone(),
                occurrence,
            });
            match key.as_str() {
                "start_time" => start_time = self.string(child).unwrap_or_default(),
                "end_time" => end_time = self.string(child).unwrap_or_default(),
                _ => self.type_error(
                    true,
                    format!("field {key} not found in type timeinterval.yamlTimeRange"),
                ),
            }
            self.path.pop();
        }
        if self.type_error_count() > before {
            return Ok(None);
        }
        timeinterval::parse_time_range(&start_time, &end_time).map(Some)
    }

    /// A list of range strings, each parsed by `parse` (Go's `UnmarshalYAML`).
    fn range_list(
        &mut self,
        node: &Node,
        go_type: &str,
        parse: fn(&str) -> Result<(i64, i64), String>,
    ) -> Result<Vec<(i64, i64)>, Hard> {
        let ranges = self.list(node, &format!("[]{go_type}"), |decoder, item| match item {
            Node::Null => Ok(None),
            Node::Scalar(scalar) => parse(&scalar.text).map(Some),
            other => {
                let message = cannot_unmarshal(other, "string");
                decoder.type_error(false, message);
                Ok(None)
            }
        })?;
        Ok(ranges.into_iter().flatten().collect())
    }
}

fn default_global_settings() -> BTreeMap<String, Value> {
    let mut settings = BTreeMap::new();
    for (key, value) in [
        ("smtp_hello", "localhost"),
        ("pagerduty_url", "https://events.pagerduty.com/v2/enqueue"),
        ("opsgenie_api_url", "https://api.opsgenie.com/"),
        ("wechat_api_url", "https://qyapi.weixin.qq.com/cgi-bin/"),
        (
            "victorops_api_url",
            "https://alert.victorops.com/integrations/generic/20131114/alert/",
        ),
        ("telegram_api_url", "https://api.telegram.org"),
        ("webex_api_url", "https://webexapis.com/v1/messages"),
    ] {
        settings.insert(key.to_string(), Value::String(value.to_string()));
    }
    settings.insert("smtp_require_tls".to_string(), Value::Bool(true));
    settings
}

/// The text of an opaque setting ("" for null and collections).
pub(super) fn value_text(value: &Value) -> String {
    match value {
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        Value::String(text) => text.clone(),
        Value::Null | Value::Sequence(_) | Value::Mapping(_) | Value::Tagged(_) => String::new(),
    }
}

/// A YAML syntax error in yaml.v2's words: `yaml: line N: <problem>`, where
/// N is 1-based for scanner errors and, as yaml.v2 forgets to add one, the
/// 0-based line for parser errors (those libyaml reports "while parsing").
fn go_yaml_syntax_error(error: &yaml_serde::Error) -> String {
    let message = error.to_string();
    let Some(location) = error.location() else {
        return format!("yaml: {message}");
    };
    let Some((problem, rest)) = message.split_once(" at line ") else {
        return format!("yaml: {message}");
    };
    if problem.starts_with("duplicate entry") || problem.contains(": duplicate entry") {
        return format!("yaml: {message}");
    }
    let parser_error = rest.contains(", while parsing");
    let line = if parser_error {
        location.line().saturating_sub(1)
    } else {
        location.line()
    };
    format!("yaml: line {line}: {problem}")
}

/// yaml.v2's `cannot unmarshal !!tag `value` into type` message.
fn cannot_unmarshal(node: &Node, go_type: &str) -> String {
    let (tag, shown) = match node {
        Node::Null => ("!!null", Some(String::new())),
        Node::Scalar(scalar) => match scalar.kind {
            ScalarKind::Bool(_) => ("!!bool", Some(scalar.text.clone())),
            ScalarKind::Int => ("!!int", Some(scalar.text.clone())),
            ScalarKind::Float => ("!!float", Some(scalar.text.clone())),
            ScalarKind::Str => ("!!str", Some(scalar.text.clone())),
        },
        Node::Sequence(_) => ("!!seq", None),
        Node::Mapping(_) => ("!!map", None),
    };
    match shown {
        // yaml.v2 shortens values longer than 10 bytes to their first 7.
        Some(text) if text.len() > 10 => {
            let mut cut = 7;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            format!(
                "cannot unmarshal {tag} `{}...` into {go_type}",
                &text[..cut]
            )
        }
        Some(text) => format!("cannot unmarshal {tag} `{text}` into {go_type}"),
        None => format!("cannot unmarshal {tag} into {go_type}"),
    }
}

/// Formats collected type errors as yaml.v2 does, finding each line in the text.
fn render_type_errors(text: &str, type_errors: &[TypeError]) -> String {
    let mut message = String::from("yaml: unmarshal errors:");
    for error in type_errors {
        match yaml::line_of(text, &error.path, error.at_key) {
            Some(line) => message.push_str(&format!("\n  line {line}: {}", error.message)),
            None => message.push_str(&format!("\n  {}", error.message)),
        }
    }
    message
}
