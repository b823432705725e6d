//! Alertmanager 0.25's notification templates (`template/template.go`,
//! `notify/util.go`): the data a receiver's templates see (`template.Data`),
//! and `ExecuteTextString`, which every integration calls on each templated
//! field (a Slack title, a PagerDuty severity, an e-mail `to`) for every
//! notification. A field that fails makes the notification fail, and
//! Alertmanager does not retry it ("unrecoverable error").
//!
//! Invariants: pure; parse and execution errors are Go's texts, through the
//! crate's one Go template engine with Alertmanager's function map
//! ([`Dialect::Alertmanager`]) and `missingkey=zero`. The templates
//! Alertmanager ships (`default.tmpl`, `email.tmpl`) are stood in for by
//! empty templates with their names: a user template may call them, they never
//! fail on Alertmanager's own data, and their text is not modelled.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::prometheus::gotemplate::exec::{execute_in, ALERT_TYPE};
use crate::prometheus::gotemplate::parse::{parse, List, Trees};
use crate::prometheus::gotemplate::{funcs, Dialect, Env, StructValue, Time, Value};

/// The templates Alertmanager 0.25 defines before any user template, by name.
pub const BUILTIN_TEMPLATE_NAMES: &[&str] = &[
    "__alertmanager",
    "__alertmanagerURL",
    "__subject",
    "__description",
    "__text_alert_list",
    "slack.default.title",
    "slack.default.username",
    "slack.default.fallback",
    "slack.default.callbackid",
    "slack.default.pretext",
    "slack.default.titlelink",
    "slack.default.iconemoji",
    "slack.default.iconurl",
    "slack.default.text",
    "slack.default.footer",
    "pagerduty.default.description",
    "pagerduty.default.client",
    "pagerduty.default.clientURL",
    "pagerduty.default.instances",
    "opsgenie.default.message",
    "opsgenie.default.description",
    "opsgenie.default.source",
    "wechat.default.message",
    "wechat.default.to_user",
    "wechat.default.to_party",
    "wechat.default.to_tag",
    "wechat.default.agent_id",
    "victorops.default.state_message",
    "victorops.default.entity_display_name",
    "victorops.default.monitoring_tool",
    "pushover.default.title",
    "pushover.default.message",
    "pushover.default.url",
    "sns.default.subject",
    "sns.default.message",
    "telegram.default.message",
    "discord.default.title",
    "discord.default.message",
    "webex.default.message",
    "email.default.subject",
    "email.default.html",
];

/// One alert of a notification (`template.Alert`).
#[derive(Clone, Debug, PartialEq)]
pub struct NotificationAlert {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Unix seconds.
    pub starts_at: i64,
    /// Unix seconds; `None` while firing (Go's zero time then).
    pub ends_at: Option<i64>,
    pub generator_url: String,
}

/// What one notification's templates see (`template.Data`).
#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    pub receiver: String,
    pub group_labels: BTreeMap<String, String>,
    pub alerts: Vec<NotificationAlert>,
    pub external_url: String,
}

impl Notification {
    /// The Go value of `template.Data`, field for field: `Status` is `firing`
    /// while any alert fires, `Receiver` is escaped by `regexp.QuoteMeta` as
    /// 0.25 does, and the common labels and annotations are those all alerts
    /// share.
    pub fn to_value(&self) -> Value {
        let firing = self.alerts.iter().any(|alert| alert.ends_at.is_none());
        let status = if firing { "firing" } else { "resolved" };
        let alerts = self
            .alerts
            .iter()
            .map(|alert| alert_value(alert, status_of(alert)))
            .collect();
        let common = |field: fn(&NotificationAlert) -> &BTreeMap<String, String>| {
            let mut shared = self.alerts.first().map(field).cloned().unwrap_or_default();
            for alert in self.alerts.iter().skip(1) {
                shared.retain(|name, value| field(alert).get(name) == Some(value));
            }
            Value::StringMap(Arc::new(shared))
        };
        Value::Struct(Arc::new(StructValue {
            type_name: "*template.Data".to_owned(),
            fields: vec![
                (
                    "Receiver".to_owned(),
                    Value::String(quote_meta(&self.receiver)),
                ),
                ("Status".to_owned(), Value::string(status)),
                ("Alerts".to_owned(), Value::List(alerts)),
                (
                    "GroupLabels".to_owned(),
                    Value::StringMap(Arc::new(self.group_labels.clone())),
                ),
                ("CommonLabels".to_owned(), common(|alert| &alert.labels)),
                (
                    "CommonAnnotations".to_owned(),
                    common(|alert| &alert.annotations),
                ),
                (
                    "ExternalURL".to_owned(),
                    Value::String(self.external_url.clone()),
                ),
            ],
        }))
    }
}

/// A notification template parsed as `ExecuteTextString` parses it: with
/// Alertmanager's function map, after the built-in templates.
#[derive(Clone, Debug, PartialEq)]
pub struct NotificationTemplate {
    trees: Trees,
}

impl NotificationTemplate {
    /// Go's parse error text (`template: :1: unclosed action`) on failure;
    /// an unknown function is a parse error in Go.
    pub fn parse(text: &str) -> Result<NotificationTemplate, String> {
        let is_function = |name: &str| funcs::lookup_in(Dialect::Alertmanager, name).is_some();
        let mut trees = parse("", text, &is_function).map_err(|error| error.message)?;
        for name in BUILTIN_TEMPLATE_NAMES {
            trees
                .trees
                .entry((*name).to_owned())
                .or_insert_with(|| List {
                    pos: 0,
                    nodes: Vec::new(),
                });
        }
        Ok(NotificationTemplate { trees })
    }

    /// The text for one notification, or Go's execution error.
    pub fn execute(&self, notification: &Notification) -> Result<String, String> {
        if self.trees.text.is_empty() {
            return Ok(String::new());
        }
        let env = Env {
            query: None,
            external_url: Some(notification.external_url.clone()),
        };
        execute_in(
            &self.trees,
            &notification.to_value(),
            &env,
            Dialect::Alertmanager,
        )
    }
}

fn status_of(alert: &NotificationAlert) -> &'static str {
    if alert.ends_at.is_none() {
        "firing"
    } else {
        "resolved"
    }
}

fn alert_value(alert: &NotificationAlert, status: &str) -> Value {
    let time = |seconds: i64| Value::Time(Time::from_unix(seconds, 0));
    // Go's zero time.Time is year 1; Unix seconds of 0001-01-01T00:00:00Z.
    const GO_ZERO_TIME: i64 = -62_135_596_800;
    Value::Struct(Arc::new(StructValue {
        type_name: ALERT_TYPE.to_owned(),
        fields: vec![
            ("Status".to_owned(), Value::string(status)),
            (
                "Labels".to_owned(),
                Value::StringMap(Arc::new(alert.labels.clone())),
            ),
            (
                "Annotations".to_owned(),
                Value::StringMap(Arc::new(alert.annotations.clone())),
            ),
            ("StartsAt".to_owned(), time(alert.starts_at)),
            (
                "EndsAt".to_owned(),
                time(alert.ends_at.unwrap_or(GO_ZERO_TIME)),
            ),
            (
                "GeneratorURL".to_owned(),
                Value::String(alert.generator_url.clone()),
            ),
            (
                "Fingerprint".to_owned(),
                Value::String(super::inhibit::fingerprint(&alert.labels)),
            ),
        ],
    }))
}

/// Go's `regexp.QuoteMeta`.
fn quote_meta(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len());
    for character in text.chars() {
        if "\\.+*?()|[]{}^$".contains(character) {
            quoted.push('\\');
        }
        quoted.push(character);
    }
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notification(labels: &[(&str, &str)]) -> Notification {
        let labels: BTreeMap<String, String> = labels
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        Notification {
            receiver: "risk-chat".to_owned(),
            group_labels: labels.clone(),
            alerts: vec![NotificationAlert {
                labels,
                annotations: BTreeMap::from([("summary".to_owned(), "burning".to_owned())]),
                starts_at: 1_700_000_000,
                ends_at: None,
                generator_url: String::new(),
            }],
            external_url: "http://alertmanager:9093".to_owned(),
        }
    }

    fn render(text: &str, labels: &[(&str, &str)]) -> Result<String, String> {
        NotificationTemplate::parse(text)?.execute(&notification(labels))
    }

    #[test]
    fn the_data_model_and_its_methods_render_as_alertmanager_does() {
        let labels = [
            ("alertname", "ErrorBudgetBurn"),
            ("slo", "api"),
            ("team", "risk"),
        ];
        assert_eq!(
            render("{{ .CommonLabels.slo | toUpper }} {{ .Status }}", &labels).as_deref(),
            Ok("API firing")
        );
        assert_eq!(
            render(
                "{{ range .Alerts.Firing }}{{ .Annotations.summary }}{{ end }}",
                &labels
            )
            .as_deref(),
            Ok("burning")
        );
        assert_eq!(
            render(
                "{{ .CommonLabels.SortedPairs.Names | join \",\" }}",
                &labels
            )
            .as_deref(),
            Ok("alertname,slo,team")
        );
        assert_eq!(
            render(
                "{{ (.CommonLabels.Remove (stringSlice \"team\")).Values | join \" \" }}",
                &labels
            )
            .as_deref(),
            Ok("ErrorBudgetBurn api")
        );
        assert_eq!(
            render("{{ title \"hELLO wORLD\" }}", &labels).as_deref(),
            Ok("Hello World")
        );
        assert_eq!(
            render("{{ template \"slack.default.title\" . }}", &labels).as_deref(),
            Ok("")
        );
        assert_eq!(
            render("{{ .Receiver }}", &labels).as_deref(),
            Ok("risk-chat")
        );
        assert_eq!(
            render("{{ .CommonLabels.missing }}", &labels).as_deref(),
            Ok("")
        );
    }

    #[test]
    fn failures_are_gos_texts() {
        assert_eq!(
            render("{{ .CommonLabels.slo ", &[]),
            Err("template: :1: unclosed action".to_owned())
        );
        assert_eq!(
            render("{{ humanize 1 }}", &[]),
            Err("template: :1: function \"humanize\" not defined".to_owned())
        );
        let error = render("{{ index .Alerts 3 }}", &[]).unwrap_err();
        assert!(error.contains("index out of range: 3"), "{error}");
        let error = render("{{ .Status.Foo }}", &[]).unwrap_err();
        assert!(
            error.contains("can't evaluate field Foo in type string"),
            "{error}"
        );
    }
}
