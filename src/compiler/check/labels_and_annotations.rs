//! What every alert of a service or objective carries besides its own labels:
//! `labels {}` and `selector {}` blocks, label values (the team), and the free
//! texts that become annotations (description, runbook and dashboard links).
//!
//! Invariants: alert labels never override the labels mlslo sets itself (E0218);
//! label values hold no line break or other control character but tabs; `{{` in
//! any of these texts is warned (W0004), because the emitters keep it literal.

use std::collections::BTreeMap;

use crate::base::diagnostic::{Span, Spanned};
use crate::compiler::check::checker::Checker;
use crate::compiler::check::codes;
use crate::compiler::check::schema::{Fields, Schema};
use crate::compiler::syntax::ast::{self, Item, Value};

/// Label names mlslo sets on every alert; user `labels {}` may not override them.
pub(crate) const RESERVED_ALERT_LABELS: [&str; 6] =
    ["service", "slo", "kind", "team", "severity", "forecast"];

/// How a `labels {}` / `selector {}` block is used, which decides its extra rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LabelBlock {
    /// Alert labels: reserved names refused, `{{` warned.
    Alert,
    /// Metric matchers merged into selectors.
    Selector,
}

impl Checker {
    /// A `labels {}` or `selector {}` block: label name to string value.
    pub fn read_label_block(
        &mut self,
        block: &ast::Block,
        purpose: LabelBlock,
    ) -> Option<BTreeMap<String, String>> {
        let mut labels = BTreeMap::new();
        let mut first_span: BTreeMap<&str, Span> = BTreeMap::new();
        let mut all_good = true;
        for item in &block.items {
            let attribute = match item {
                Item::Attribute(attribute) => attribute,
                Item::Block(inner) => {
                    self.push(
                        codes::FIELD_AND_BLOCK_MIXED_UP
                            .at(
                                inner.kind.span,
                                format!(
                                    "`{}` blocks hold only `name = \"value\"` lines",
                                    block.kind.node
                                ),
                            )
                            .with_help("write each label as `name = \"value\"`"),
                    );
                    all_good = false;
                    continue;
                }
                Item::Route(route) => {
                    self.misplaced_routing_item(route.span, "route", &LABELS_SCHEMA);
                    all_good = false;
                    continue;
                }
                Item::Inhibit(inhibit) => {
                    self.misplaced_routing_item(inhibit.span, "inhibit", &LABELS_SCHEMA);
                    all_good = false;
                    continue;
                }
            };
            let name = attribute.key.node.as_str();
            if let Some(first) = first_span.get(name) {
                self.push(
                    codes::DUPLICATE_FIELD
                        .at(
                            attribute.key.span,
                            format!("label `{name}` is given a second time here"),
                        )
                        .with_secondary(*first, "first given here")
                        .with_help(format!("remove one of the two `{name}` lines")),
                );
                all_good = false;
                continue;
            }
            first_span.insert(name, attribute.key.span);
            if !self.check_label_name(name, attribute.key.span) {
                all_good = false;
                continue;
            }
            if purpose == LabelBlock::Alert && RESERVED_ALERT_LABELS.contains(&name) {
                self.push(
                    codes::RESERVED_LABEL_NAME
                        .at(
                            attribute.key.span,
                            format!("mlslo sets `{name}` on every alert itself"),
                        )
                        .with_note(format!(
                            "the labels {} are set from the service and objective",
                            RESERVED_ALERT_LABELS.join(", ")
                        ))
                        .with_help(match name {
                            "team" => "set the team with the service's `team` field".to_owned(),
                            "severity" => {
                                "the severity is the alert tier (page or ticket); use another \
                                       name such as `priority`"
                                    .to_owned()
                            }
                            _ => format!("choose another label name than `{name}`"),
                        }),
                );
                all_good = false;
                continue;
            }
            let Some(value) = self.read_string(name, &attribute.value) else {
                all_good = false;
                continue;
            };
            if !self.check_control_characters(&value, attribute.value.span, false) {
                all_good = false;
                continue;
            }
            if purpose == LabelBlock::Alert {
                self.warn_template_delimiters(&value, attribute.value.span);
            }
            labels.insert(name.to_owned(), value);
        }
        all_good.then_some(labels)
    }

    pub fn read_labels(
        &mut self,
        fields: &Fields<'_>,
        name: &str,
        purpose: LabelBlock,
        all_good: &mut bool,
    ) -> BTreeMap<String, String> {
        match fields.block(name) {
            Some(label_block) => self
                .read_label_block(label_block, purpose)
                .unwrap_or_else(|| {
                    *all_good = false;
                    BTreeMap::new()
                }),
            None => BTreeMap::new(),
        }
    }

    /// A string that becomes an alert label value: non-empty, no control
    /// characters, `{{` warned.
    pub fn read_label_value(&mut self, name: &str, value: &Spanned<Value>) -> Option<String> {
        let text = self.read_string(name, value)?;
        if !self.check_not_empty(name, &text, value.span)
            || !self.check_control_characters(&text, value.span, false)
        {
            return None;
        }
        self.warn_template_delimiters(&text, value.span);
        Some(text)
    }

    pub fn read_description(&mut self, fields: &Fields<'_>, all_good: &mut bool) -> Option<String> {
        let value = fields.value("description")?;
        let text = self.read_string("description", value);
        let Some(text) = text else {
            *all_good = false;
            return None;
        };
        if !self.check_control_characters(&text, value.span, true) {
            *all_good = false;
            return None;
        }
        self.warn_template_delimiters(&text, value.span);
        Some(text)
    }

    pub fn read_url_field(
        &mut self,
        fields: &Fields<'_>,
        name: &str,
        all_good: &mut bool,
    ) -> Option<String> {
        let value = fields.value(name)?;
        let Some(text) = self.read_string(name, value) else {
            *all_good = false;
            return None;
        };
        if !self.check_control_characters(&text, value.span, false) {
            *all_good = false;
            return None;
        }
        if !(text.starts_with("https://") || text.starts_with("http://")) {
            self.push(
                codes::INVALID_URL
                    .at(value.span, "expected an http:// or https:// URL")
                    .with_help(format!(
                        "`{name}` becomes a link in every alert: write the full URL, such as \
                     \"https://runbooks.example.com/my-service\""
                    )),
            );
            *all_good = false;
            return None;
        }
        self.warn_template_delimiters(&text, value.span);
        Some(text)
    }
}

static LABELS_SCHEMA: Schema = Schema {
    what: "a label block",
    fields: &[],
    allows_routes: false,
    secrets: &[],
};
