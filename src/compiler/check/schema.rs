//! The schema engine: reading a block's items against the schema of its kind.
//!
//! Every block is read through [`Checker::collect`], which sorts its items into
//! fields and sub-blocks by the block's [`Schema`] and reports unknown fields and
//! block kinds (with "did you mean"), fields written as blocks and the reverse,
//! duplicate fields, and missing or unexpected block names. The rest of the
//! checker only ever looks fields up by their schema name, so a typo can never
//! be silently ignored. Fields that exclude each other (E0408) or need each
//! other (E0409) are reported here too, with both places labelled.
//!
//! Invariant: each item of the source gives at most one diagnostic here.

use std::collections::{BTreeMap, BTreeSet};

use crate::base::diagnostic::{Diagnostic, Span, Spanned};
use crate::compiler::check::checker::Checker;
use crate::compiler::check::codes;
use crate::compiler::check::suggest::did_you_mean;
use crate::compiler::ir::{self, Duration};
use crate::compiler::syntax::ast::{self, Item, Value};

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

impl Checker {
    /// E0210.
    pub fn missing_field(&mut self, owner_span: Span, what: &str, name: &str, example: &str) {
        let mut diagnostic = codes::MISSING_FIELD.at(owner_span, format!("{what} needs `{name}`"));
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
                            codes::FIELD_AND_BLOCK_MIXED_UP
                                .at(block.kind.span, format!("`{kind}` is a field, not a block"))
                                .with_help(format!(
                                    "write `{}`",
                                    non_empty_or(schema.example(kind), &format!("{kind} = ..."))
                                )),
                        );
                        continue;
                    };
                    match (&block.name, named) {
                        (None, true) => self.push(
                            codes::BLOCK_NEEDS_A_NAME.at(block.kind.span,
                                format!("this `{kind}` block has no name"),
                            )
                            .with_help(format!(
                                "name it with a string after the keyword: `{kind} \"name\" {{ ... }}`"
                            )),
                        ),
                        (Some(name), false) => self.push(
                            codes::BLOCK_TAKES_NO_NAME.at(name.span,
                                format!("`{kind}` blocks are not named"),
                            )
                            .with_help(format!("remove the name: `{kind} {{ ... }}`")),
                        ),
                        _ => {}
                    }
                    if !repeated {
                        if let Some(first) = first_block_of.get(spec.name) {
                            self.push(
                                codes::DUPLICATE_FIELD
                                    .at(
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
                        codes::DUPLICATE_FIELD
                            .at(
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
                    codes::FIELD_AND_BLOCK_MIXED_UP
                        .at(attribute.span, format!("`{key}` is a block, not a field"))
                        .with_help(format!("write `{example}`")),
                );
            }
            None => {
                if let Some((_, file_field)) =
                    schema.secrets.iter().find(|(secret, _)| *secret == key)
                {
                    self.push(
                        codes::INLINE_SECRET
                            .at(
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
                let mut diagnostic = codes::UNKNOWN_FIELD.at(
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
        let mut diagnostic = codes::UNKNOWN_BLOCK_KIND.at(
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

    pub fn misplaced_routing_item(&mut self, span: Span, keyword: &str, schema: &Schema) {
        self.push(
            codes::ROUTING_ITEM_OUTSIDE_ROUTING
                .at(
                    span,
                    format!("`{keyword}` cannot appear in {}", schema.what),
                )
                .with_help(format!(
                    "move this `{keyword}` into the `routing {{ ... }}` block"
                )),
        );
    }

    pub fn duration_field(
        &mut self,
        fields: &Fields<'_>,
        name: &str,
        default: Option<Duration>,
        must_be_positive: bool,
        all_good: &mut bool,
    ) -> Option<(Duration, Option<Span>)> {
        let value = match (fields.value(name), default) {
            (Some(value), _) => value,
            (None, Some(default)) => return Some((default, None)),
            (None, None) => {
                fields.require(self, name);
                *all_good = false;
                return None;
            }
        };
        let duration = self.read_duration(name, value);
        match duration {
            Some(duration)
                if !must_be_positive || self.check_positive(name, duration, value.span) =>
            {
                Some((duration, Some(value.span)))
            }
            _ => {
                *all_good = false;
                None
            }
        }
    }

    /// E0409: `present` needs `missing`.
    pub fn needs(&mut self, present: &Spanned<String>, missing: &str, reason: &str) {
        self.push(
            codes::FIELD_NEEDS_FIELD
                .at(
                    present.span,
                    format!("`{}` needs `{missing}`", present.node),
                )
                .with_note(reason.to_owned())
                .with_help(format!("add `{missing}`, or remove `{}`", present.node)),
        );
    }
}

pub(crate) fn conflict(
    first: &Spanned<String>,
    second: &Spanned<String>,
    reason: &str,
) -> Diagnostic {
    codes::CONFLICTING_FIELDS
        .at(
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

/// The two attributes in source order.
pub(crate) fn ordered<'a>(
    left: &'a ast::Attribute,
    right: &'a ast::Attribute,
) -> (&'a ast::Attribute, &'a ast::Attribute) {
    if left.span.start <= right.span.start {
        (left, right)
    } else {
        (right, left)
    }
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
