//! The whole-file checks of Alertmanager 0.25's `config.Config.UnmarshalYAML`, run after
//! the plain decode: exclusive global secrets, unique receiver and time-interval names,
//! integrations' required settings, the root route's shape, and every name a route uses.
//!
//! Invariants: checks run in Go's order and the first failure is returned with Go's
//! message, since amtool reports only that one.

use std::collections::BTreeSet;

use super::decode::value_text;
use super::model::{Config, Route};

const GLOBAL_EXCLUSIVE_SECRETS: [(&str, &str, &str); 4] = [
    (
        "slack_api_url",
        "slack_api_url_file",
        "at most one of slack_api_url & slack_api_url_file must be configured",
    ),
    (
        "opsgenie_api_key",
        "opsgenie_api_key_file",
        "at most one of opsgenie_api_key & opsgenie_api_key_file must be configured",
    ),
    (
        "victorops_api_key",
        "victorops_api_key_file",
        "at most one of victorops_api_key & victorops_api_key_file must be configured",
    ),
    (
        "smtp_auth_password",
        "smtp_auth_password_file",
        "at most one of smtp_auth_password & smtp_auth_password_file must be configured",
    ),
];

// One arm per integration kind mirrors Go's loop; guards would hide the order.
#[allow(clippy::collapsible_match)]
pub(super) fn validate(config: &Config, route_present: bool) -> Result<(), String> {
    let global = &config.global.settings;
    let global_set = |key: &str| {
        global
            .get(key)
            .is_some_and(|value| !value_text(value).is_empty())
    };
    for (inline, file, message) in GLOBAL_EXCLUSIVE_SECRETS {
        if global_set(inline) && global_set(file) {
            return Err(message.to_string());
        }
    }
    let mut receiver_names = BTreeSet::new();
    for receiver in &config.receivers {
        if receiver_names.contains(&receiver.name) {
            return Err(format!(
                "notification config name {:?} is not unique",
                receiver.name
            ));
        }
        for integration in &receiver.integrations {
            let set = |key: &str| {
                integration
                    .settings
                    .get(key)
                    .is_some_and(|value| !value_text(value).is_empty())
            };
            match integration.kind.as_str() {
                "email_configs" => {
                    if !set("smarthost") && !global_set("smtp_smarthost") {
                        return Err("no global SMTP smarthost set".to_string());
                    }
                    if !set("from") && !global_set("smtp_from") {
                        return Err("no global SMTP from set".to_string());
                    }
                }
                "slack_configs" => {
                    if !set("api_url")
                        && !set("api_url_file")
                        && !global_set("slack_api_url")
                        && !global_set("slack_api_url_file")
                    {
                        return Err(
                            "no global Slack API URL set either inline or in a file".to_string()
                        );
                    }
                }
                "pagerduty_configs" => {
                    if !set("url") && !global_set("pagerduty_url") {
                        return Err("no global PagerDuty URL set".to_string());
                    }
                }
                "opsgenie_configs" => {
                    if !set("api_url") && !global_set("opsgenie_api_url") {
                        return Err("no global OpsGenie URL set".to_string());
                    }
                    if !set("api_key")
                        && !set("api_key_file")
                        && !global_set("opsgenie_api_key")
                        && !global_set("opsgenie_api_key_file")
                    {
                        return Err(
                            "no global OpsGenie API Key set either inline or in a file".to_string()
                        );
                    }
                }
                "wechat_configs" => {
                    if !set("api_url") && !global_set("wechat_api_url") {
                        return Err("no global Wechat URL set".to_string());
                    }
                    if !set("api_secret") && !global_set("wechat_api_secret") {
                        return Err("no global Wechat ApiSecret set".to_string());
                    }
                    if !set("corp_id") && !global_set("wechat_api_corp_id") {
                        return Err("no global Wechat CorpID set".to_string());
                    }
                }
                "victorops_configs" => {
                    if !set("api_url") && !global_set("victorops_api_url") {
                        return Err("no global VictorOps URL set".to_string());
                    }
                    if !set("api_key")
                        && !set("api_key_file")
                        && !global_set("victorops_api_key")
                        && !global_set("victorops_api_key_file")
                    {
                        return Err("no global VictorOps API Key set".to_string());
                    }
                }
                "discord_configs" => {
                    if !set("webhook_url") {
                        return Err("no discord webhook URL provided".to_string());
                    }
                }
                "webex_configs" => {
                    if !set("api_url") && !global_set("webex_api_url") {
                        return Err("no global Webex URL set".to_string());
                    }
                }
                _ => {}
            }
        }
        receiver_names.insert(receiver.name.clone());
    }
    if !route_present {
        return Err("no routes provided".to_string());
    }
    let root = &config.route;
    if root.receiver.as_deref().unwrap_or("").is_empty() {
        return Err("root route must specify a default receiver".to_string());
    }
    if !root.match_equal.is_empty() || !root.match_regex.is_empty() || !root.matchers.is_empty() {
        return Err("root route must not have any matchers".to_string());
    }
    if !root.mute_time_intervals.is_empty() {
        return Err("root route must not have any mute time intervals".to_string());
    }
    if !root.active_time_intervals.is_empty() {
        return Err("root route must not have any active time intervals".to_string());
    }
    check_receivers(root, &receiver_names)?;
    let mut interval_names = BTreeSet::new();
    for interval in &config.mute_time_intervals {
        if !interval_names.insert(interval.name.clone()) {
            return Err(format!(
                "mute time interval {:?} is not unique",
                interval.name
            ));
        }
    }
    for interval in &config.time_intervals {
        if !interval_names.insert(interval.name.clone()) {
            return Err(format!("time interval {:?} is not unique", interval.name));
        }
    }
    check_time_intervals(root, &interval_names)
}

/// Children first, as Go's `checkReceiver` recurses before checking itself.
fn check_receivers(route: &Route, receiver_names: &BTreeSet<String>) -> Result<(), String> {
    for child in &route.routes {
        check_receivers(child, receiver_names)?;
    }
    match route.receiver.as_deref() {
        Some(name) if !name.is_empty() && !receiver_names.contains(name) => {
            Err(format!("undefined receiver {name:?} used in route"))
        }
        _ => Ok(()),
    }
}

fn check_time_intervals(route: &Route, interval_names: &BTreeSet<String>) -> Result<(), String> {
    for child in &route.routes {
        check_time_intervals(child, interval_names)?;
    }
    for name in route
        .active_time_intervals
        .iter()
        .chain(&route.mute_time_intervals)
    {
        if !interval_names.contains(name) {
            return Err(format!("undefined time interval {name:?} used in route"));
        }
    }
    Ok(())
}
