//! Everything that can reject a syntactically valid file: names, types, units,
//! ranges, PromQL, and the behaviour of the alerts the model will generate.
//! Produces the typed model [`crate::compiler::ir::Program`].
//!
//! Invariants: [`check`] never panics and never stops at the first problem: it
//! reports every error and warning of every file at once, sorted by span, and it
//! returns a program only when there is no error (warnings do not block; whether
//! they fail a run is the CLI's `--deny-warnings`). Every code it can emit is in
//! [`CODES`] with a long explanation, and has an example under
//! `tests/data/invalid/<CODE>.slo`.
//!
//! Layout, from the bottom up: `checker` holds the state every check is a method
//! on; `codes` the codes; `names` the naming rules; `values` reads values as
//! units; `schema` reads blocks against the schema of their kind;
//! `labels_and_annotations` what every alert carries; `selector_parser` parses
//! PromQL selectors and `selectors` applies the metric-kind rules; `budget` reads
//! error budgets and burn windows, `budget_alerts` the alerts on the budget left; `objectives` the objective kinds, one file per
//! family; `receivers`, `routing` and `inhibition` the routing block; `program`
//! the services of every file; `generated_names` proves the names the model
//! will generate unique and within their targets' limits; `generated_alerts`
//! verifies the alerts of the checked model; `suggest` finds "did you mean"
//! candidates.

mod budget;
mod budget_alerts;
mod checker;
pub(crate) mod codes;
mod generated_alerts;
mod generated_names;
mod grafana;
mod inhibition;
mod kubernetes;
mod labels_and_annotations;
mod monitoring;
mod names;
mod objectives;
mod program;
mod receivers;
mod routing;
mod schema;
mod selector_parser;
mod selectors;
mod suggest;
mod time_intervals;
mod values;

#[cfg(test)]
mod tests;

use crate::base::diagnostic::{CodeInfo, Diagnostic};
use crate::compiler::ir;
use crate::compiler::syntax::ast;

pub use suggest::{did_you_mean, SIMILARITY_THRESHOLD};

/// Codes E02xx (names), E03xx (types and units), E04xx (SLO semantics) and
/// W0xxx (warnings), with the text `mlslo explain CODE` prints.
pub const CODES: &[CodeInfo] = codes::ALL;

/// The outcome of checking a set of files.
#[derive(Clone, Debug)]
pub struct CheckResult {
    /// `Some` exactly when `diagnostics` holds no error.
    pub program: Option<ir::Program>,
    /// Every error and warning of every file, sorted by primary span.
    pub diagnostics: Vec<Diagnostic>,
}

impl CheckResult {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Resolves and type-checks parsed files (spans are global offsets from one
/// `SourceMap`, so a duplicate in another file can be pointed at).
pub fn check(files: &[ast::File]) -> CheckResult {
    let mut checker = checker::Checker {
        selector_cache: selector_parser::parse_selectors_in_parallel(files),
        ..checker::Checker::default()
    };
    let program = checker.check_program(files);
    let mut diagnostics = checker.diagnostics;
    if let Some(program) = &program {
        diagnostics.extend(generated_names::errors(program));
    }
    let program = if diagnostics.iter().any(Diagnostic::is_error) {
        None
    } else {
        program
    };
    if let Some(program) = &program {
        diagnostics.extend(generated_alerts::warnings(program));
    }
    diagnostics.sort_by(|left, right| {
        (left.primary.span.start, left.primary.span.end, left.code).cmp(&(
            right.primary.span.start,
            right.primary.span.end,
            right.code,
        ))
    });
    CheckResult {
        program,
        diagnostics,
    }
}
