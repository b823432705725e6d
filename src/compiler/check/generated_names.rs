//! Verification of the names the checked model will generate: output files, rule
//! groups, `PrometheusRule` names, Watcher watch ids and the identity of recorded
//! series. Two objectives or services that would share one name lose output (the
//! second file overwrites the first, a watch replaces another on deploy); a name
//! longer than its target accepts fails only when the file is written or the object
//! applied. Both are errors here, so `check`, `build` and `lint` refuse the same
//! inputs. Reads the typed model only, after every other check passed.
//!
//! Invariants: every name is built by the function of `ir::naming` the emitters call,
//! never spelled again here; a clash is reported once per pair of declarations, at
//! the later one, with the earlier one as the secondary label (E0630); a name too
//! long is reported once per declaration (E0631); a service whose name or team
//! cannot be a Kubernetes label value, so its `PrometheusRule` goes without that
//! label, is a warning (W0630).

use std::collections::{BTreeMap, BTreeSet};

use crate::base::diagnostic::{Diagnostic, Span};
use crate::compiler::check::codes;
use crate::compiler::ir::{naming, ObjectiveKind, Program};

/// Every error and warning about the program's generated names, not sorted.
pub(crate) fn errors(program: &Program) -> Vec<Diagnostic> {
    let mut names = generated_names(program);
    names.sort_by_key(|name| name.owner.span.start);
    let mut found = Vec::new();
    clashes(&names, &mut found);
    too_long(&names, &mut found);
    // A name already refused needs no warning about its label as well.
    if found.is_empty() {
        kubernetes_labels(program, &mut found);
    }
    found
}

/// What a name is, in the words of a label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum NameKind {
    OutputFile,
    RuleGroup,
    PrometheusRule,
    WatchId,
    RecordedSeries,
}

impl NameKind {
    fn describe(self) -> &'static str {
        match self {
            NameKind::OutputFile => "the output file",
            NameKind::RuleGroup => "the rule group",
            NameKind::PrometheusRule => "the PrometheusRule name",
            NameKind::WatchId => "the Watcher watch id",
            NameKind::RecordedSeries => "the recorded series",
        }
    }

    /// The longest name of this kind its target accepts, with the target's words.
    fn limit(self) -> Option<(usize, &'static str)> {
        match self {
            NameKind::OutputFile => Some((naming::MAX_FILE_NAME_BYTES, "a file name holds")),
            NameKind::PrometheusRule => Some((
                naming::MAX_KUBERNETES_NAME,
                "a Kubernetes object name holds",
            )),
            NameKind::WatchId => Some((
                naming::MAX_WATCH_ID_BYTES,
                "an Elasticsearch document id holds",
            )),
            NameKind::RuleGroup | NameKind::RecordedSeries => None,
        }
    }
}

/// The declaration a name comes from: a service, or one objective of it.
#[derive(Clone, Debug)]
struct Owner {
    span: Span,
    /// `service "a"` or `service "a", objective "b"`.
    what: String,
    /// The user-written name whose length decides the generated name's length.
    own_name_length: usize,
}

#[derive(Clone, Debug)]
struct GeneratedName {
    kind: NameKind,
    /// What is compared for clashes; for files, the path.
    name: String,
    /// What is measured against the target's limit; for files, the last component.
    measured: String,
    owner: Owner,
}

fn generated_names(program: &Program) -> Vec<GeneratedName> {
    let mut names = Vec::new();
    let mut push = |kind, name: String, owner: &Owner| {
        let measured = match kind {
            NameKind::OutputFile => name.rsplit('/').next().unwrap_or(&name).to_owned(),
            _ => name.clone(),
        };
        names.push(GeneratedName {
            kind,
            name,
            measured,
            owner: owner.clone(),
        });
    };
    for service in &program.services {
        let service_owner = Owner {
            span: service.name_span,
            what: format!("service \"{}\"", service.name),
            own_name_length: service.name.len(),
        };
        for file in [
            naming::prometheus_file(&service.name),
            naming::kubernetes_file(&service.name),
            naming::test_file(&service.name),
        ] {
            push(NameKind::OutputFile, file, &service_owner);
        }
        push(
            NameKind::PrometheusRule,
            naming::kubernetes_name(&service.name),
            &service_owner,
        );
        for objective in &service.objectives {
            let owner = Owner {
                span: objective.name_span,
                what: format!(
                    "service \"{}\", objective \"{}\"",
                    service.name, objective.name
                ),
                own_name_length: objective.name.len(),
            };
            if let ObjectiveKind::Logs { .. } = objective.kind {
                push(
                    NameKind::OutputFile,
                    naming::watch_file(&service.name, &objective.name),
                    &owner,
                );
                push(
                    NameKind::WatchId,
                    naming::watch_id(&service.name, &objective.name),
                    &owner,
                );
                continue;
            }
            push(
                NameKind::RuleGroup,
                naming::group_objective(&service.name, &objective.name),
                &owner,
            );
            if objective.kind.budget().is_some() {
                push(
                    NameKind::RuleGroup,
                    naming::group_budget(&service.name, &objective.name),
                    &owner,
                );
            }
            let identity = naming::identity_labels(&service.name, &objective.name)
                .iter()
                .map(|(label, value)| format!("{label}={value:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            push(NameKind::RecordedSeries, format!("{{{identity}}}"), &owner);
        }
    }
    names
}

/// E0630 for each pair of declarations that generate one name (names come sorted by
/// their declaration, so the first holder of a name is the earlier one).
fn clashes(names: &[GeneratedName], found: &mut Vec<Diagnostic>) {
    let mut first_holder: BTreeMap<(NameKind, &str), &Owner> = BTreeMap::new();
    let mut reported: BTreeSet<(u32, u32)> = BTreeSet::new();
    for name in names {
        let key = (name.kind, name.name.as_str());
        let Some(first) = first_holder.get(&key) else {
            first_holder.insert(key, &name.owner);
            continue;
        };
        if first.span == name.owner.span
            || !reported.insert((first.span.start, name.owner.span.start))
        {
            continue;
        }
        found.push(
            codes::GENERATED_NAME_CLASH
                .at(
                    name.owner.span,
                    format!(
                        "{} generates {} `{}`",
                        name.owner.what,
                        name.kind.describe(),
                        name.name
                    ),
                )
                .with_secondary(first.span, format!("and so does {}", first.what))
                .with_help(
                    "rename one of the two, so that their generated names differ: the second \
                     would overwrite the first's output",
                ),
        );
    }
}

/// E0631 once per declaration whose generated names are longer than their targets
/// hold, about the name that exceeds its limit the most (so the help's length fixes
/// them all).
fn too_long(names: &[GeneratedName], found: &mut Vec<Diagnostic>) {
    let mut worst: BTreeMap<u32, (usize, &GeneratedName, usize, &'static str)> = BTreeMap::new();
    for name in names {
        let Some((limit, holds)) = name.kind.limit() else {
            continue;
        };
        let length = name.measured.len();
        if length <= limit {
            continue;
        }
        let excess = length - limit;
        let entry = worst
            .entry(name.owner.span.start)
            .or_insert((excess, name, limit, holds));
        if excess > entry.0 {
            *entry = (excess, name, limit, holds);
        }
    }
    for (excess, name, limit, holds) in worst.into_values() {
        found.push(
            codes::GENERATED_NAME_TOO_LONG
                .at(
                    name.owner.span,
                    format!(
                        "{} `{}` would be {} bytes long",
                        name.kind.describe(),
                        name.measured,
                        name.measured.len()
                    ),
                )
                .with_note(format!("{holds} at most {limit} bytes"))
                .with_help(format!(
                    "shorten this name to at most {} bytes",
                    name.owner.own_name_length.saturating_sub(excess)
                )),
        );
    }
}

/// W0630 for each service whose name or team the `PrometheusRule` manifest cannot
/// carry as a label (the emitter leaves the label out), so a `ruleSelector` on it
/// would not select the service's rules.
fn kubernetes_labels(program: &Program, found: &mut Vec<Diagnostic>) {
    for service in &program.services {
        for (label, value) in [
            (naming::KUBERNETES_LABEL_SERVICE, &service.name),
            (naming::KUBERNETES_LABEL_TEAM, &service.team),
        ] {
            if naming::kubernetes_label_value(value).is_some() {
                continue;
            }
            found.push(
                codes::NOT_A_KUBERNETES_LABEL_VALUE
                    .at(
                        service.name_span,
                        format!("the PrometheusRule of this service goes without the label `{label}`"),
                    )
                    .with_note(format!(
                        "`{value}` is not a Kubernetes label value: at most {} characters of \
                         letters, digits, `-`, `_` and `.`, beginning and ending with a letter or digit",
                        naming::MAX_KUBERNETES_LABEL_VALUE
                    ))
                    .with_help("shorten or simplify the value if a ruleSelector selects on this label; else nothing is required"),
            );
        }
    }
}
