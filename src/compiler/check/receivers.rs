//! Receivers and their integrations (pagerduty, slack, webhook, email): what
//! Alertmanager needs to deliver an alert, with secrets only ever referenced by
//! file.
//!
//! Invariants: every receiver has at least one integration (E0210); a secret
//! written inline is refused with the `_file` field that replaces it (E0307); a
//! webhook reads its URL from exactly one place, and an inline URL is http(s)
//! without credentials (E0310, E0308); an email smarthost is `host:port`.

use crate::base::diagnostic::{Span, Spanned};
use crate::compiler::check::checker::Checker;
use crate::compiler::check::codes;
use crate::compiler::check::schema::{attribute, block, conflict, Fields, Schema};
use crate::compiler::ir;
use crate::compiler::syntax::ast;

impl Checker {
    pub fn check_receiver(
        &mut self,
        block: &ast::Block,
        name: &Spanned<String>,
    ) -> Option<ir::Receiver> {
        let fields = self.collect(&block.items, &RECEIVER_SCHEMA, name.span);
        let mut all_good = true;
        let send_resolved = match fields.value("send_resolved") {
            Some(value) => match self.read_bool("send_resolved", value) {
                Some(flag) => Some(flag),
                None => {
                    all_good = false;
                    None
                }
            },
            None => None,
        };
        let mut integrations = Vec::new();
        let mut templates = Vec::new();
        let mut any = false;
        for (kind, schema) in [
            ("pagerduty", &PAGERDUTY_SCHEMA),
            ("slack", &SLACK_SCHEMA),
            ("webhook", &WEBHOOK_SCHEMA),
            ("email", &EMAIL_SCHEMA),
        ] {
            for integration_block in fields.blocks(kind) {
                any = true;
                match self.check_integration(integration_block, kind, schema) {
                    Some(integration) => {
                        templates.extend(template_fields(
                            integration_block,
                            kind,
                            integrations.len(),
                        ));
                        integrations.push(integration);
                    }
                    None => all_good = false,
                }
            }
        }
        if !any {
            self.push(
                codes::MISSING_FIELD
                    .at(name.span, "this receiver has no integration")
                    .with_help(
                        "add one of `pagerduty { ... }`, `slack { ... }`, `webhook { ... }` or \
                     `email { ... }` inside the receiver",
                    ),
            );
            all_good = false;
        }
        all_good.then(|| ir::Receiver {
            name: name.node.clone(),
            integrations,
            send_resolved,
            templates,
            span: block.span,
        })
    }

    fn check_integration(
        &mut self,
        block: &ast::Block,
        kind: &str,
        schema: &'static Schema,
    ) -> Option<ir::Integration> {
        let fields = self.collect(&block.items, schema, block.kind.span);
        let mut all_good = true;
        let integration = match kind {
            "pagerduty" => {
                let routing_key_file =
                    self.required_string(&fields, &mut all_good, "routing_key_file");
                let severity = self.optional_string(&fields, "severity", &mut all_good);
                ir::Integration::PagerDuty {
                    routing_key_file: routing_key_file.unwrap_or_default(),
                    severity,
                }
            }
            "slack" => {
                let api_url_file = self.required_string(&fields, &mut all_good, "api_url_file");
                let channel = self.required_string(&fields, &mut all_good, "channel");
                let title = self.optional_string(&fields, "title", &mut all_good);
                let text = self.optional_string(&fields, "text", &mut all_good);
                ir::Integration::Slack {
                    api_url_file: api_url_file.unwrap_or_default(),
                    channel: channel.unwrap_or_default(),
                    title,
                    text,
                }
            }
            "webhook" => {
                let url_file = self.optional_string(&fields, "url_file", &mut all_good);
                let url = self.optional_string(&fields, "url", &mut all_good);
                let url = match (url_file, url, fields.get("url_file"), fields.get("url")) {
                    (Some(file), None, _, None) => Some(ir::WebhookUrl::File(file)),
                    (None, Some(url), None, Some(attribute)) => {
                        if self.check_webhook_url(&url, attribute.value.span) {
                            Some(ir::WebhookUrl::Inline(url))
                        } else {
                            None
                        }
                    }
                    (_, _, Some(first), Some(second)) => {
                        self.push(conflict(
                            &first.key,
                            &second.key,
                            "a webhook reads its URL from one place",
                        ));
                        None
                    }
                    (_, _, None, None) => {
                        self.push(
                            codes::MISSING_FIELD
                                .at(block.kind.span, "a webhook needs `url_file` or `url`")
                                .with_help("add `url_file = \"/etc/alertmanager/hook-url\"`"),
                        );
                        None
                    }
                    // A value that failed to read was reported already.
                    _ => None,
                };
                let max_alerts = match fields.value("max_alerts") {
                    Some(value) => self.read_count("max_alerts", value).or_else(|| {
                        all_good = false;
                        None
                    }),
                    None => None,
                };
                match url {
                    Some(url) => ir::Integration::Webhook { url, max_alerts },
                    None => return None,
                }
            }
            _ => {
                let to = self.required_string(&fields, &mut all_good, "to");
                let from = self.required_string(&fields, &mut all_good, "from");
                let smarthost = self.required_string(&fields, &mut all_good, "smarthost");
                if let (Some(host), Some(value)) = (&smarthost, fields.value("smarthost")) {
                    if !is_host_and_port(host) {
                        self.push(
                            codes::INVALID_URL
                                .at(value.span, "expected `host:port`")
                                .with_help(format!("add the port, for example `\"{host}:587\"`")),
                        );
                        all_good = false;
                    }
                }
                let auth_username = self.optional_string(&fields, "auth_username", &mut all_good);
                let auth_password_file =
                    self.optional_string(&fields, "auth_password_file", &mut all_good);
                let require_tls = match fields.value("require_tls") {
                    Some(value) => self.read_bool("require_tls", value).or_else(|| {
                        all_good = false;
                        None
                    }),
                    None => None,
                };
                ir::Integration::Email {
                    to: to.unwrap_or_default(),
                    from: from.unwrap_or_default(),
                    smarthost: smarthost.unwrap_or_default(),
                    auth_username,
                    auth_password_file,
                    require_tls,
                }
            }
        };
        all_good.then_some(integration)
    }

    fn required_string(
        &mut self,
        fields: &Fields<'_>,
        all_good: &mut bool,
        name: &str,
    ) -> Option<String> {
        let text = fields
            .require(self, name)
            .and_then(|value| self.read_nonempty_string(name, value));
        if text.is_none() {
            *all_good = false;
        }
        text
    }

    fn optional_string(
        &mut self,
        fields: &Fields<'_>,
        name: &str,
        all_good: &mut bool,
    ) -> Option<String> {
        let value = fields.value(name)?;
        let text = self.read_nonempty_string(name, value);
        if text.is_none() {
            *all_good = false;
        }
        text
    }

    pub fn check_webhook_url(&mut self, url: &str, span: Span) -> bool {
        let Some(rest) = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
        else {
            self.push(
                codes::INVALID_URL
                    .at(span, "expected an http:// or https:// URL")
                    .with_help(
                        "write the full URL, for example \"https://hooks.example.com/alerts\"",
                    ),
            );
            return false;
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            self.push(
                codes::CREDENTIALS_IN_URL
                    .at(span, "this URL holds a user name or password")
                    .with_help(
                        "put the whole URL in a file readable by Alertmanager and write \
                     `url_file = \"/etc/alertmanager/hook-url\"` instead of `url`",
                    ),
            );
            return false;
        }
        true
    }
}

/// The fields of an integration Alertmanager 0.25 expands as Go templates for
/// every notification (`notify/<integration>/*.go`); the others (URLs, files,
/// the smarthost) are used as written.
pub(crate) const TEMPLATED_FIELDS: &[(&str, &[&str])] = &[
    ("pagerduty", &["severity"]),
    ("slack", &["channel", "title", "text"]),
    ("email", &["to", "from"]),
];

/// The templated fields written in a checked integration block, with the span
/// of each string.
fn template_fields(block: &ast::Block, kind: &str, integration: usize) -> Vec<ir::TemplateField> {
    let Some((_, fields)) = TEMPLATED_FIELDS.iter().find(|(name, _)| *name == kind) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for item in &block.items {
        let ast::Item::Attribute(attribute) = item else {
            continue;
        };
        let Some(field) = fields.iter().find(|field| **field == attribute.key.node) else {
            continue;
        };
        if let ast::Value::String(text) = &attribute.value.node {
            found.push(ir::TemplateField {
                integration,
                field,
                text: text.clone(),
                span: attribute.value.span,
            });
        }
    }
    found
}

fn is_host_and_port(address: &str) -> bool {
    match address.rsplit_once(':') {
        Some((host, port)) => {
            !host.is_empty() && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

static RECEIVER_SCHEMA: Schema = Schema {
    what: "a receiver",
    fields: &[
        block("pagerduty", false, true),
        block("slack", false, true),
        block("webhook", false, true),
        block("email", false, true),
        attribute("send_resolved", "send_resolved = true"),
    ],
    allows_routes: false,
    secrets: &[],
};

static PAGERDUTY_SCHEMA: Schema = Schema {
    what: "a pagerduty integration",
    fields: &[
        attribute(
            "routing_key_file",
            "routing_key_file = \"/etc/alertmanager/pd-key\"",
        ),
        attribute("severity", "severity = \"critical\""),
    ],
    allows_routes: false,
    secrets: &[
        ("routing_key", "routing_key_file"),
        ("service_key", "routing_key_file"),
        ("token", "routing_key_file"),
    ],
};

static SLACK_SCHEMA: Schema = Schema {
    what: "a slack integration",
    fields: &[
        attribute(
            "api_url_file",
            "api_url_file = \"/etc/alertmanager/slack-url\"",
        ),
        attribute("channel", "channel = \"#team-alerts\""),
        attribute("title", "title = \"...\""),
        attribute("text", "text = \"...\""),
    ],
    allows_routes: false,
    secrets: &[
        ("api_url", "api_url_file"),
        ("webhook_url", "api_url_file"),
        ("token", "api_url_file"),
    ],
};

static WEBHOOK_SCHEMA: Schema = Schema {
    what: "a webhook integration",
    fields: &[
        attribute("url_file", "url_file = \"/etc/alertmanager/hook-url\""),
        attribute("url", "url = \"https://hooks.example.com/alerts\""),
        attribute("max_alerts", "max_alerts = 10"),
    ],
    allows_routes: false,
    secrets: &[
        ("password", "url_file"),
        ("token", "url_file"),
        ("bearer_token", "url_file"),
    ],
};

static EMAIL_SCHEMA: Schema = Schema {
    what: "an email integration",
    fields: &[
        attribute("to", "to = \"oncall@example.com\""),
        attribute("from", "from = \"alertmanager@example.com\""),
        attribute("smarthost", "smarthost = \"smtp.example.com:587\""),
        attribute("auth_username", "auth_username = \"alertmanager\""),
        attribute(
            "auth_password_file",
            "auth_password_file = \"/etc/alertmanager/smtp-pass\"",
        ),
        attribute("require_tls", "require_tls = true"),
    ],
    allows_routes: false,
    secrets: &[
        ("auth_password", "auth_password_file"),
        ("password", "auth_password_file"),
        ("auth_secret", "auth_password_file"),
    ],
};
