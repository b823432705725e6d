//! Names: reading blocks against the schema, unique names, receivers that
//! exist, and inhibition without cycles.
//!
//! Every block is read through [`Checker::collect`], which sorts its items into
//! fields and sub-blocks by the block's [`Schema`] and reports unknown fields and
//! block kinds (with "did you mean"), fields written as blocks and the reverse,
//! duplicate fields, and missing or unexpected block names. The rest of the
//! checker only ever looks fields up by their schema name, so a typo can never
//! be silently ignored. Invariant: each item of the source gives at most one
//! diagnostic here.

use std::collections::{BTreeMap, BTreeSet};

use petgraph::graph::{DiGraph, NodeIndex};

use crate::base::diagnostic::{Diagnostic, Span, Spanned};
use crate::compiler::check::suggest::did_you_mean;
use crate::compiler::check::types::Checker;
use crate::compiler::ir;
use crate::compiler::syntax::ast::{self, Item, Value};
use crate::prometheus::model::names::is_legacy_label_name;
use crate::prometheus::promql::parse_promql;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Form {
    /// `name = value`, at most once; `example` is shown when it is missing.
    Attribute { example: &'static str },
    /// `name "label" { ... }` or `name { ... }`.
    Block { named: bool, repeated: bool },
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct FieldSpec {
    pub name: &'static str,
    pub form: Form,
}

pub(crate) const fn attribute(name: &'static str, example: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        form: Form::Attribute { example },
    }
}

pub(crate) const fn block(name: &'static str, named: bool, repeated: bool) -> FieldSpec {
    FieldSpec {
        name,
        form: Form::Block { named, repeated },
    }
}

/// What may appear inside one kind of block.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Schema {
    /// For messages: `a latency objective`, `the routing block`.
    pub what: &'static str,
    pub fields: &'static [FieldSpec],
    /// Whether `route` and `inhibit` items belong here (only in `routing`).
    pub allows_routes: bool,
    /// Inline secrets that must be read from a file instead: (field, file field).
    pub secrets: &'static [(&'static str, &'static str)],
}

impl Schema {
    fn find(&self, name: &str) -> Option<&'static FieldSpec> {
        self.fields.iter().find(|spec| spec.name == name)
    }

    fn example(&self, name: &str) -> &'static str {
        match self.find(name).map(|spec| spec.form) {
            Some(Form::Attribute { example }) => example,
            _ => "",
        }
    }
}

/// The items of one block, sorted by schema name.
#[derive(Debug)]
pub(crate) struct Fields<'a> {
    schema: &'static Schema,
    attributes: BTreeMap<&'static str, &'a ast::Attribute>,
    blocks: Vec<(&'static str, &'a ast::Block)>,
    pub routes: Vec<&'a ast::Route>,
    pub inhibits: Vec<&'a ast::Inhibit>,
    /// Fields whose absence was explained already (an inline secret names the
    /// `_file` field that should replace it), so no E0210 repeats the point.
    excused: BTreeSet<&'static str>,
    /// Where a missing field is reported: the block's name, or its keyword.
    pub owner_span: Span,
}

impl<'a> Fields<'a> {
    pub fn get(&self, name: &str) -> Option<&'a ast::Attribute> {
        self.attributes.get(name).copied()
    }

    pub fn value(&self, name: &str) -> Option<&'a Spanned<Value>> {
        self.get(name).map(|attribute| &attribute.value)
    }

    pub fn blocks(&self, name: &str) -> impl Iterator<Item = &'a ast::Block> + '_ {
        let name = name.to_owned();
        self.blocks
            .iter()
            .filter(move |(kind, _)| *kind == name)
            .map(|(_, block)| *block)
    }

    pub fn block(&self, name: &str) -> Option<&'a ast::Block> {
        self.blocks(name).next()
    }

    /// The attribute, or E0210 on the block's name.
    pub fn require(&self, checker: &mut Checker, name: &str) -> Option<&'a Spanned<Value>> {
        let found = self.value(name);
        if found.is_none() && !self.excused.contains(name) {
            checker.missing_field(
                self.owner_span,
                self.schema.what,
                name,
                self.schema.example(name),
            );
        }
        found
    }
}

pub(crate) static TOP_SCHEMA: Schema = Schema {
    what: "a file",
    fields: &[block("service", true, true), block("routing", false, true)],
    allows_routes: false,
    secrets: &[],
};

/// Names of services and objectives: they become label values and file names.
pub(crate) fn is_valid_object_name(name: &str) -> bool {
    let mut characters = name.chars();
    matches!(characters.next(), Some('a'..='z' | '0'..='9'))
        && characters.all(|character| matches!(character, 'a'..='z' | '0'..='9' | '_' | '.' | '-'))
}

/// Label names mlslo sets on every alert; user `labels {}` may not override them.
pub(crate) const RESERVED_ALERT_LABELS: [&str; 5] = ["service", "slo", "kind", "team", "severity"];

/// How a `labels {}` / `selector {}` block is used, which decides its extra rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LabelBlock {
    /// Alert labels: reserved names refused, `{{` warned.
    Alert,
    /// Metric matchers merged into selectors.
    Selector,
}

impl Checker {
    /// E0210.
    pub fn missing_field(&mut self, owner_span: Span, what: &str, name: &str, example: &str) {
        let mut diagnostic = Diagnostic::error(
            "E0210",
            "missing required field",
            owner_span,
            format!("{what} needs `{name}`"),
        );
        diagnostic = if example.is_empty() {
            diagnostic.with_help(format!("add `{name}` inside this block"))
        } else {
            diagnostic.with_help(format!("add `{example}` inside this block"))
        };
        self.push(diagnostic);
    }

    /// Sorts the items of a block by `schema`, reporting every item that does not fit.
    pub fn collect<'a>(
        &mut self,
        items: &'a [Item],
        schema: &'static Schema,
        owner_span: Span,
    ) -> Fields<'a> {
        let mut fields = Fields {
            schema,
            attributes: BTreeMap::new(),
            blocks: Vec::new(),
            routes: Vec::new(),
            inhibits: Vec::new(),
            excused: BTreeSet::new(),
            owner_span,
        };
        let mut first_block_of: BTreeMap<&'static str, Span> = BTreeMap::new();
        for item in items {
            match item {
                Item::Attribute(attribute) => {
                    self.collect_attribute(attribute, schema, &mut fields);
                }
                Item::Block(block) => {
                    let kind = block.kind.node.as_str();
                    let Some(spec) = schema.find(kind) else {
                        self.unknown_block(block, schema);
                        continue;
                    };
                    let Form::Block { named, repeated } = spec.form else {
                        self.push(
                            Diagnostic::error(
                                "E0216",
                                "field written as a block",
                                block.kind.span,
                                format!("`{kind}` is a field, not a block"),
                            )
                            .with_help(format!(
                                "write `{}`",
                                non_empty_or(schema.example(kind), &format!("{kind} = ..."))
                            )),
                        );
                        continue;
                    };
                    match (&block.name, named) {
                        (None, true) => self.push(
                            Diagnostic::error(
                                "E0213",
                                "block needs a name",
                                block.kind.span,
                                format!("this `{kind}` block has no name"),
                            )
                            .with_help(format!(
                                "name it with a string after the keyword: `{kind} \"name\" {{ ... }}`"
                            )),
                        ),
                        (Some(name), false) => self.push(
                            Diagnostic::error(
                                "E0214",
                                "block takes no name",
                                name.span,
                                format!("`{kind}` blocks are not named"),
                            )
                            .with_help(format!("remove the name: `{kind} {{ ... }}`")),
                        ),
                        _ => {}
                    }
                    if !repeated {
                        if let Some(first) = first_block_of.get(spec.name) {
                            self.push(
                                Diagnostic::error(
                                    "E0203",
                                    "duplicate field",
                                    block.kind.span,
                                    format!("`{kind}` is given a second time here"),
                                )
                                .with_secondary(*first, "first given here")
                                .with_help(format!(
                                    "{} takes one `{kind}` block; merge the two",
                                    schema.what
                                )),
                            );
                            continue;
                        }
                        first_block_of.insert(spec.name, block.kind.span);
                    }
                    fields.blocks.push((spec.name, block));
                }
                Item::Route(route) if schema.allows_routes => fields.routes.push(route),
                Item::Inhibit(inhibit) if schema.allows_routes => fields.inhibits.push(inhibit),
                Item::Route(route) => self.misplaced_routing_item(route.span, "route", schema),
                Item::Inhibit(inhibit) => {
                    self.misplaced_routing_item(inhibit.span, "inhibit", schema)
                }
            }
        }
        fields
    }

    fn collect_attribute<'a>(
        &mut self,
        attribute: &'a ast::Attribute,
        schema: &'static Schema,
        fields: &mut Fields<'a>,
    ) {
        let key = attribute.key.node.as_str();
        match schema.find(key).map(|spec| (spec.name, spec.form)) {
            Some((name, Form::Attribute { .. })) => {
                if let Some(first) = fields.attributes.get(name) {
                    self.push(
                        Diagnostic::error(
                            "E0203",
                            "duplicate field",
                            attribute.key.span,
                            format!("`{key}` is given a second time here"),
                        )
                        .with_secondary(first.key.span, "first given here")
                        .with_help(format!("remove one of the two `{key}` lines")),
                    );
                } else {
                    fields.attributes.insert(name, attribute);
                }
            }
            Some((_, Form::Block { named, .. })) => {
                let example = if named {
                    format!("{key} \"name\" {{ ... }}")
                } else {
                    format!("{key} {{ ... }}")
                };
                self.push(
                    Diagnostic::error(
                        "E0216",
                        "block written as a field",
                        attribute.span,
                        format!("`{key}` is a block, not a field"),
                    )
                    .with_help(format!("write `{example}`")),
                );
            }
            None => {
                if let Some((_, file_field)) =
                    schema.secrets.iter().find(|(secret, _)| *secret == key)
                {
                    self.push(
                        Diagnostic::error(
                            "E0307",
                            "secret written inline",
                            attribute.span,
                            format!("`{key}` would put a secret into the generated files"),
                        )
                        .with_help(format!(
                            "store the secret in a file readable by Alertmanager and write \
                             `{file_field} = \"/etc/alertmanager/...\"` instead"
                        )),
                    );
                    fields.excused.insert(file_field);
                    return;
                }
                let candidates = schema.fields.iter().map(|spec| spec.name);
                let mut diagnostic = Diagnostic::error(
                    "E0202",
                    "unknown field",
                    attribute.key.span,
                    format!("{} has no field `{key}`", schema.what),
                );
                diagnostic = match did_you_mean(key, candidates) {
                    Some(suggestion) => {
                        diagnostic.with_help(format!("did you mean `{suggestion}`?"))
                    }
                    None => diagnostic.with_note(format!(
                        "the fields of {} are: {}",
                        schema.what,
                        list_names(schema, |form| matches!(form, Form::Attribute { .. }))
                    )),
                };
                self.push(diagnostic);
            }
        }
    }

    fn unknown_block(&mut self, block: &ast::Block, schema: &'static Schema) {
        let kind = block.kind.node.as_str();
        let candidates = schema.fields.iter().map(|spec| spec.name);
        let mut diagnostic = Diagnostic::error(
            "E0201",
            "unknown block kind",
            block.kind.span,
            format!("{} has no `{kind}` block", schema.what),
        );
        let is_objective_kind = ir::KindName::from_keyword(kind).is_some();
        diagnostic = match did_you_mean(kind, candidates) {
            _ if is_objective_kind => diagnostic.with_help(format!(
                "objectives belong inside a service: `service \"name\" {{ team = \"...\" {kind} \"name\" {{ ... }} }}`"
            )),
            Some(suggestion) => diagnostic.with_help(format!("did you mean `{suggestion}`?")),
            None => diagnostic.with_note(format!(
                "the blocks of {} are: {}",
                schema.what,
                list_names(schema, |form| matches!(form, Form::Block { .. }))
            )),
        };
        self.push(diagnostic);
    }

    fn misplaced_routing_item(&mut self, span: Span, keyword: &str, schema: &Schema) {
        self.push(
            Diagnostic::error(
                "E0217",
                "routing item outside the routing block",
                span,
                format!("`{keyword}` cannot appear in {}", schema.what),
            )
            .with_help(format!(
                "move this `{keyword}` into the `routing {{ ... }}` block"
            )),
        );
    }

    /// E0211 unless `name` is a valid Prometheus label name not starting with `__`.
    pub fn check_label_name(&mut self, name: &str, span: Span) -> bool {
        if is_legacy_label_name(name) && !name.starts_with("__") {
            return true;
        }
        let reason = if name.starts_with("__") {
            "label names starting with `__` are reserved for Prometheus' internal use"
        } else {
            "label names match [a-zA-Z_][a-zA-Z0-9_]*"
        };
        self.push(
            Diagnostic::error(
                "E0211",
                "invalid label name",
                span,
                format!("`{name}` is not a valid label name"),
            )
            .with_note(reason)
            .with_help(format!(
                "use letters, digits and underscores, for example `{}`",
                sanitised_label_name(name)
            )),
        );
        false
    }

    /// E0212 unless `name` is a valid service or objective name.
    pub fn check_object_name(&mut self, name: &Spanned<String>, what: &str) -> bool {
        if is_valid_object_name(&name.node) {
            return true;
        }
        let suggestion: String = name
            .node
            .to_lowercase()
            .chars()
            .map(|character| {
                if character.is_ascii_alphanumeric() || matches!(character, '_' | '.' | '-') {
                    character
                } else {
                    '-'
                }
            })
            .collect();
        let mut diagnostic = Diagnostic::error(
            "E0212",
            "invalid name",
            name.span,
            format!("`{}` is not a valid {what} name", name.node),
        )
        .with_note(format!(
            "{what} names become label values and file names: they match [a-z0-9][a-z0-9_.-]*"
        ));
        if is_valid_object_name(&suggestion) {
            diagnostic = diagnostic.with_help(format!("write \"{suggestion}\""));
        }
        self.push(diagnostic);
        false
    }

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
                        Diagnostic::error(
                            "E0216",
                            "block inside a label block",
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
                    Diagnostic::error(
                        "E0203",
                        "duplicate field",
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
                    Diagnostic::error(
                        "E0218",
                        "reserved label name",
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

    /// Receivers, routes and inhibit rules of the (single) routing block.
    /// `any_feeds`: whether some freshness objective declares `feeds`, which
    /// enables the derived freshness-over-drift inhibition.
    pub fn check_routing(&mut self, block: &ast::Block, any_feeds: bool) -> Option<ir::Routing> {
        let fields = self.collect(&block.items, &ROUTING_SCHEMA, block.kind.span);
        let mut all_good = true;

        let mut group_by = Vec::new();
        if let Some(value) = fields.value("group_by") {
            match self.read_list(
                "group_by",
                value,
                crate::compiler::check::types::Unit::Identifier,
                |checker, element| {
                    if matches!(&element.node, Value::String(text) if text == "...") {
                        return Some("...".to_owned());
                    }
                    checker.read_label_name("group_by", element)
                },
            ) {
                Some(labels) => group_by = labels,
                None => all_good = false,
            }
        }
        let group_wait = self.optional_duration(&fields, "group_wait", true, &mut all_good);
        let group_interval =
            self.optional_duration(&fields, "group_interval", false, &mut all_good);
        let repeat_interval =
            self.optional_duration(&fields, "repeat_interval", false, &mut all_good);

        // Receivers first: everything else refers to them by name.
        let mut receivers: BTreeMap<String, ir::Receiver> = BTreeMap::new();
        let mut receiver_spans: BTreeMap<String, Span> = BTreeMap::new();
        for receiver_block in fields.blocks("receiver") {
            let Some(name) = &receiver_block.name else {
                all_good = false;
                continue;
            };
            if let Some(first) = receiver_spans.get(&name.node) {
                self.push(
                    Diagnostic::error(
                        "E0206",
                        "duplicate receiver",
                        name.span,
                        format!("receiver `{}` is defined a second time here", name.node),
                    )
                    .with_secondary(*first, "first defined here")
                    .with_help("give each receiver a unique name, or merge the two blocks"),
                );
                all_good = false;
                continue;
            }
            receiver_spans.insert(name.node.clone(), name.span);
            let valid_name = self.check_not_empty("receiver", &name.node, name.span)
                && self.check_control_characters(&name.node, name.span, false);
            match self.check_receiver(receiver_block, name) {
                Some(receiver) if valid_name => {
                    receivers.insert(name.node.clone(), receiver);
                }
                _ => all_good = false,
            }
        }
        let receiver_names: Vec<&str> = receiver_spans.keys().map(String::as_str).collect();
        let mut used_receivers: BTreeSet<String> = BTreeSet::new();

        let mut default_receiver = None;
        if let Some(value) = fields.require(self, "default_receiver") {
            if let Some(name) = self.read_string("default_receiver", value) {
                if self.check_receiver_exists(&name, value.span, &receiver_names) {
                    used_receivers.insert(name.clone());
                    default_receiver = Some(name);
                } else {
                    all_good = false;
                }
            } else {
                all_good = false;
            }
        } else {
            all_good = false;
        }

        let mut routes = Vec::new();
        for route in &fields.routes {
            match self.check_route(route, &receiver_names) {
                Some(checked) => {
                    used_receivers.extend(checked.receivers.iter().cloned());
                    routes.push(checked);
                }
                None => all_good = false,
            }
        }

        let alertmanager_version = match fields.value("alertmanager_version") {
            Some(value) => match self.read_string("alertmanager_version", value) {
                Some(version) if ir::ALERTMANAGER_VERSIONS.contains(&version.as_str()) => {
                    Some(version)
                }
                Some(version) => {
                    self.push(
                        Diagnostic::error(
                            "E0311",
                            "invalid choice",
                            value.span,
                            format!("`{version}` is not an Alertmanager version mlslo knows"),
                        )
                        .with_note(format!(
                            "the versions are {}",
                            ir::ALERTMANAGER_VERSIONS.join(", ")
                        ))
                        .with_help("write the release as major.minor, such as \"0.26\""),
                    );
                    all_good = false;
                    None
                }
                None => {
                    all_good = false;
                    None
                }
            },
            None => None,
        };
        let alertmanager_url = match fields.value("alertmanager_url") {
            Some(value) => match self.read_nonempty_string("alertmanager_url", value) {
                Some(url) if self.check_webhook_url(&url, value.span) => Some(url),
                _ => {
                    all_good = false;
                    None
                }
            },
            None => None,
        };

        let mut inhibits = Vec::new();
        for inhibit in &fields.inhibits {
            match self.check_inhibit(inhibit) {
                Some(checked) => inhibits.push(checked),
                None => all_good = false,
            }
        }
        if !self.check_inhibit_cycles(&fields.inhibits, any_feeds) {
            all_good = false;
        }

        for (name, span) in &receiver_spans {
            if !used_receivers.contains(name) {
                self.push(
                    Diagnostic::warning(
                        "W0007",
                        "unused receiver",
                        *span,
                        format!("no route sends alerts to `{name}`"),
                    )
                    .with_help(format!(
                        "add a route such as `route {{ team = \"...\" }} -> \"{name}\"`, or remove the receiver"
                    )),
                );
            }
        }

        if !all_good {
            return None;
        }
        Some(ir::Routing {
            group_by,
            group_wait: group_wait.flatten(),
            group_interval: group_interval.flatten(),
            repeat_interval: repeat_interval.flatten(),
            default_receiver: default_receiver?,
            receivers: receivers.into_values().collect(),
            routes,
            inhibits,
            alertmanager_version,
            alertmanager_url,
            span: block.span,
        })
    }

    /// An optional duration field; `Some(None)` when absent, `None` on error.
    fn optional_duration(
        &mut self,
        fields: &Fields<'_>,
        name: &str,
        zero_allowed: bool,
        all_good: &mut bool,
    ) -> Option<Option<ir::Duration>> {
        let Some(value) = fields.value(name) else {
            return Some(None);
        };
        let duration = self.read_duration(name, value);
        match duration {
            Some(duration) if zero_allowed || self.check_positive(name, duration, value.span) => {
                Some(Some(duration))
            }
            _ => {
                *all_good = false;
                None
            }
        }
    }

    fn check_receiver_exists(&mut self, name: &str, span: Span, receivers: &[&str]) -> bool {
        if receivers.contains(&name) {
            return true;
        }
        let mut diagnostic = Diagnostic::error(
            "E0207",
            "unknown receiver",
            span,
            format!("no receiver is named `{name}`"),
        );
        diagnostic = match did_you_mean(name, receivers.iter().copied()) {
            Some(suggestion) => diagnostic.with_help(format!("did you mean `{suggestion}`?")),
            None if receivers.is_empty() => diagnostic.with_help(format!(
                "define it in the routing block: `receiver \"{name}\" {{ ... }}`"
            )),
            None => diagnostic.with_note(format!("the receivers are: {}", receivers.join(", "))),
        };
        self.push(diagnostic);
        false
    }

    fn check_receiver(
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
                    Some(integration) => integrations.push(integration),
                    None => all_good = false,
                }
            }
        }
        if !any {
            self.push(
                Diagnostic::error(
                    "E0210",
                    "missing required field",
                    name.span,
                    "this receiver has no integration",
                )
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
                            Diagnostic::error(
                                "E0210",
                                "missing required field",
                                block.kind.span,
                                "a webhook needs `url_file` or `url`",
                            )
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
                            Diagnostic::error(
                                "E0310",
                                "invalid URL or address",
                                value.span,
                                "expected `host:port`",
                            )
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

    /// A string that is not empty and holds no control character but tabs and
    /// line breaks.
    pub fn read_nonempty_string(&mut self, name: &str, value: &Spanned<Value>) -> Option<String> {
        let text = self.read_string(name, value)?;
        (self.check_not_empty(name, &text, value.span)
            && self.check_control_characters(&text, value.span, true))
        .then_some(text)
    }

    fn check_webhook_url(&mut self, url: &str, span: Span) -> bool {
        let Some(rest) = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
        else {
            self.push(
                Diagnostic::error(
                    "E0310",
                    "invalid URL or address",
                    span,
                    "expected an http:// or https:// URL",
                )
                .with_help("write the full URL, for example \"https://hooks.example.com/alerts\""),
            );
            return false;
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            self.push(
                Diagnostic::error(
                    "E0308",
                    "credentials in a URL",
                    span,
                    "this URL holds a user name or password",
                )
                .with_help(
                    "put the whole URL in a file readable by Alertmanager and write \
                     `url_file = \"/etc/alertmanager/hook-url\"` instead of `url`",
                ),
            );
            return false;
        }
        true
    }

    fn check_route(&mut self, route: &ast::Route, receivers: &[&str]) -> Option<ir::Route> {
        let mut all_good = true;
        let mut matchers = Vec::new();
        for matcher in &route.matchers {
            let label_ok = self.check_label_name(&matcher.label.node, matcher.label.span);
            let value_ok =
                self.check_control_characters(&matcher.value.node, matcher.value.span, false);
            let op = convert_op(matcher.op);
            let regex_ok = match op {
                ir::MatchOp::Regex | ir::MatchOp::NotRegex => {
                    self.check_regex(&matcher.value.node, matcher.value.span)
                }
                _ => true,
            };
            if label_ok && value_ok && regex_ok {
                matchers.push(ir::RouteMatcher {
                    label: matcher.label.node.clone(),
                    op,
                    value: matcher.value.node.clone(),
                });
            } else {
                all_good = false;
            }
        }
        let mut route_receivers = Vec::new();
        for receiver in &route.receivers {
            if self.check_receiver_exists(&receiver.node, receiver.span, receivers) {
                route_receivers.push(receiver.node.clone());
            } else {
                all_good = false;
            }
        }
        all_good.then(|| ir::Route {
            matchers,
            receivers: route_receivers,
            continue_matching: route.continue_span.is_some(),
            span: route.span,
        })
    }

    /// E0312 unless `regex` compiles; Alertmanager anchors it as PromQL does, and
    /// promql-parser compiles it with the same anchoring.
    fn check_regex(&mut self, regex: &str, span: Span) -> bool {
        let probe = format!("x{{l=~{}}}", ir::quote_promql_string(regex));
        match parse_promql(&probe) {
            Ok(_) => true,
            Err(message) => {
                self.push(
                    Diagnostic::error(
                        "E0312",
                        "invalid regular expression",
                        span,
                        "this regular expression does not compile",
                    )
                    .with_note(format!("the regex engine says: {message}"))
                    .with_help(
                        "escape special characters with a backslash, or use `=` for an exact match",
                    ),
                );
                false
            }
        }
    }

    fn check_inhibit(&mut self, inhibit: &ast::Inhibit) -> Option<ir::InhibitRule> {
        let mut all_good = self.check_label_name(&inhibit.label.node, inhibit.label.span);
        for value in std::iter::once(&inhibit.source).chain(&inhibit.targets) {
            all_good &= self.check_control_characters(&value.node, value.span, false);
        }
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for label in &inhibit.equal {
            all_good &= self.check_label_name(&label.node, label.span);
            if let Some(first) = seen.insert(&label.node, label.span) {
                self.push(
                    Diagnostic::error(
                        "E0203",
                        "duplicate field",
                        label.span,
                        format!("`{}` is listed a second time here", label.node),
                    )
                    .with_secondary(first, "first listed here")
                    .with_help("list each label once"),
                );
                all_good = false;
            }
        }
        all_good.then(|| ir::InhibitRule {
            label: inhibit.label.node.clone(),
            source: inhibit.source.node.clone(),
            targets: inhibit
                .targets
                .iter()
                .map(|target| target.node.clone())
                .collect(),
            equal: inhibit
                .equal
                .iter()
                .map(|label| label.node.clone())
                .collect(),
            span: inhibit.span,
        })
    }

    /// E0215 for each cycle among `label=value` nodes (an alert that mutes an alert
    /// that mutes it back silences both). Returns false when there is a cycle.
    fn check_inhibit_cycles(&mut self, inhibits: &[&ast::Inhibit], any_feeds: bool) -> bool {
        // Edge weights: the user's rule (source and target text), or `None` for
        // one of mlslo's derived inhibitions.
        let mut graph: InhibitGraph = DiGraph::new();
        let mut nodes: BTreeMap<(String, String), NodeIndex> = BTreeMap::new();
        let mut node = |graph: &mut InhibitGraph, label: &str, value: &str| {
            let key = (label.to_owned(), value.to_owned());
            *nodes
                .entry(key.clone())
                .or_insert_with(|| graph.add_node(key))
        };
        for inhibit in inhibits {
            let source = node(&mut graph, &inhibit.label.node, &inhibit.source.node);
            for target in &inhibit.targets {
                let target_node = node(&mut graph, &inhibit.label.node, &target.node);
                graph.add_edge(
                    source,
                    target_node,
                    Some(target.span.to(inhibit.source.span)),
                );
            }
        }
        for builtin in ir::BUILTIN_INHIBITIONS {
            if builtin.needs_feeds && !any_feeds {
                continue;
            }
            let source = node(&mut graph, builtin.label, builtin.source);
            for target in builtin.targets {
                let target_node = node(&mut graph, builtin.label, target);
                graph.add_edge(source, target_node, None);
            }
        }
        let mut acyclic = true;
        for component in petgraph::algo::tarjan_scc(&graph) {
            let is_cycle =
                component.len() > 1 || graph.find_edge(component[0], component[0]).is_some();
            if !is_cycle {
                continue;
            }
            let members: BTreeSet<NodeIndex> = component.iter().copied().collect();
            let cycle = find_cycle(&graph, &members);
            let names: Vec<String> = cycle
                .iter()
                .filter_map(|edge| graph.edge_endpoints(*edge))
                .map(|(from, _)| {
                    let (label, value) = &graph[from];
                    format!("{label}=\"{value}\"")
                })
                .collect();
            let mut user_spans: Vec<Span> = cycle.iter().filter_map(|edge| graph[*edge]).collect();
            user_spans.sort();
            let builtin_edges: Vec<String> = cycle
                .iter()
                .filter(|edge| graph[**edge].is_none())
                .filter_map(|edge| graph.edge_endpoints(*edge))
                .map(|(from, to)| {
                    let (label, source) = &graph[from];
                    let (_, target) = &graph[to];
                    format!("{label}=\"{source}\" mutes {label}=\"{target}\"")
                })
                .collect();
            // The derived inhibitions alone are acyclic; a cycle always has a user rule.
            let Some(primary) = user_spans.first().copied() else {
                continue;
            };
            acyclic = false;
            let mut diagnostic = Diagnostic::error(
                "E0215",
                "inhibition cycle",
                primary,
                "this inhibition is part of a cycle",
            );
            for span in user_spans.iter().skip(1) {
                diagnostic = diagnostic.with_secondary(*span, "and this one");
            }
            let mut path = names.join(" mutes ");
            if let Some(first) = names.first() {
                path = format!("{path} mutes {first}");
            }
            diagnostic = diagnostic.with_note(format!(
                "{path}: while these alerts fire together, they silence each other"
            ));
            if !builtin_edges.is_empty() {
                diagnostic = diagnostic.with_note(format!(
                    "mlslo derives this inhibition from the objectives itself: {}",
                    builtin_edges.join(", ")
                ));
            }
            self.push(diagnostic.with_help("remove one direction of the inhibition"));
        }
        acyclic
    }
}

type InhibitGraph = DiGraph<(String, String), Option<Span>>;

fn members_first(members: &BTreeSet<NodeIndex>) -> NodeIndex {
    members.iter().next().copied().unwrap_or_default()
}

/// The edges of one cycle inside a strongly connected component, in order,
/// starting from its smallest node (so the report is deterministic).
fn find_cycle(
    graph: &InhibitGraph,
    members: &BTreeSet<NodeIndex>,
) -> Vec<petgraph::graph::EdgeIndex> {
    use petgraph::visit::EdgeRef;
    let start = members_first(members);
    // Breadth-first search inside the component for the shortest way back to start.
    let mut previous: BTreeMap<NodeIndex, (NodeIndex, petgraph::graph::EdgeIndex)> =
        BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    let mut visited: BTreeSet<NodeIndex> = BTreeSet::from([start]);
    while let Some(current) = queue.pop_front() {
        let mut edges: Vec<_> = graph.edges(current).collect();
        edges.sort_by_key(|edge| (edge.target(), edge.id()));
        for edge in edges {
            let next = edge.target();
            if !members.contains(&next) {
                continue;
            }
            if next == start {
                let mut cycle = vec![edge.id()];
                let mut node = current;
                while node != start {
                    let Some((before, via)) = previous.get(&node) else {
                        break;
                    };
                    cycle.push(*via);
                    node = *before;
                }
                cycle.reverse();
                return cycle;
            }
            if visited.insert(next) {
                previous.insert(next, (current, edge.id()));
                queue.push_back(next);
            }
        }
    }
    Vec::new()
}

pub(crate) fn conflict(
    first: &Spanned<String>,
    second: &Spanned<String>,
    reason: &str,
) -> Diagnostic {
    Diagnostic::error(
        "E0408",
        "conflicting fields",
        second.span,
        format!(
            "`{}` cannot be given together with `{}`",
            second.node, first.node
        ),
    )
    .with_secondary(first.span, format!("`{}` given here", first.node))
    .with_note(reason.to_owned())
    .with_help(format!(
        "keep only one of `{}` and `{}`",
        first.node, second.node
    ))
}

fn convert_op(op: ast::MatchOp) -> ir::MatchOp {
    match op {
        ast::MatchOp::Equal => ir::MatchOp::Equal,
        ast::MatchOp::NotEqual => ir::MatchOp::NotEqual,
        ast::MatchOp::Regex => ir::MatchOp::Regex,
        ast::MatchOp::NotRegex => ir::MatchOp::NotRegex,
    }
}

fn is_host_and_port(address: &str) -> bool {
    match address.rsplit_once(':') {
        Some((host, port)) => {
            !host.is_empty() && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

fn sanitised_label_name(name: &str) -> String {
    let mut sanitised: String = name
        .trim_start_matches('_')
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() {
                character
            } else {
                '_'
            }
        })
        .collect();
    if sanitised.is_empty() || sanitised.starts_with(|c: char| c.is_ascii_digit()) {
        sanitised.insert_str(0, "label_");
    }
    sanitised
}

fn non_empty_or<'a>(text: &'a str, fallback: &'a str) -> &'a str {
    if text.is_empty() {
        fallback
    } else {
        text
    }
}

fn list_names(schema: &Schema, keep: impl Fn(Form) -> bool) -> String {
    let names: Vec<&str> = schema
        .fields
        .iter()
        .filter(|spec| keep(spec.form))
        .map(|spec| spec.name)
        .collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

static LABELS_SCHEMA: Schema = Schema {
    what: "a label block",
    fields: &[],
    allows_routes: false,
    secrets: &[],
};

static ROUTING_SCHEMA: Schema = Schema {
    what: "the routing block",
    fields: &[
        attribute("group_by", "group_by = [alertname, service, slo]"),
        attribute("group_wait", "group_wait = 30s"),
        attribute("group_interval", "group_interval = 5m"),
        attribute("repeat_interval", "repeat_interval = 4h"),
        attribute("default_receiver", "default_receiver = \"team-chat\""),
        attribute("alertmanager_version", "alertmanager_version = \"0.26\""),
        attribute(
            "alertmanager_url",
            "alertmanager_url = \"http://alertmanager.monitoring:9093\"",
        ),
        block("receiver", true, true),
    ],
    allows_routes: true,
    secrets: &[],
};

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
