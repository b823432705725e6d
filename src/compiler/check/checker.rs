//! The checker's state: the diagnostics found so far and the parsed selectors of
//! the run. Every check is a method on [`Checker`], written in the file of its
//! concept (`schema`, `values`, `selectors`, `budget`, ...).
//!
//! Invariant: diagnostics are only ever added here; `check::check` sorts them once
//! at the end.

use crate::base::diagnostic::Diagnostic;
use crate::compiler::check::selector_parser::SelectorCache;

/// Holds the diagnostics of a run; the check functions of every module are
/// methods on it.
#[derive(Debug, Default)]
pub(crate) struct Checker {
    pub diagnostics: Vec<Diagnostic>,
    /// promql-parser results by selector text.
    pub selector_cache: SelectorCache,
}

impl Checker {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }
}
