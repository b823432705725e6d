//! Names: of services and objectives (lowercase slugs, E0212) and of labels
//! (Prometheus' label-name rule without the reserved `__` prefix, E0211).
//!
//! Invariant: a name that passes here is safe wherever it goes: service and
//! objective names become label values, recording-rule names and file names.

use crate::base::diagnostic::{Span, Spanned};
use crate::compiler::check::checker::Checker;
use crate::compiler::check::codes;
use crate::prometheus::model::names::is_legacy_label_name;

/// Names of services and objectives: they become label values and file names.
pub(crate) fn is_valid_object_name(name: &str) -> bool {
    let mut characters = name.chars();
    matches!(characters.next(), Some('a'..='z' | '0'..='9'))
        && characters.all(|character| matches!(character, 'a'..='z' | '0'..='9' | '_' | '.' | '-'))
}

impl Checker {
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
            codes::INVALID_LABEL_NAME
                .at(span, format!("`{name}` is not a valid label name"))
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
        let mut diagnostic = codes::INVALID_NAME
            .at(
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
