//! mlslo: a compiler and rules engine for the service-level objectives of
//! machine-learning systems.
//!
//! ```text
//! .slo text ──syntax::parse──▶ ast ──check::check──▶ ir::Program
//!    ir ──emit──▶ prometheus rules │ PrometheusRule │ alertmanager.yml │ watcher JSON
//!    rule files + recorded series ──eval (PromQL)──▶ alert timeline, reports
//! ```
//!
//! Architecture invariant: only `cli` touches the filesystem, the environment,
//! stdout/stderr or exit codes; every other module is pure.

pub mod alertmanager;
pub mod check;
pub mod cli;
pub mod diagnostic;
pub mod emit;
pub mod eval;
pub mod ir;
pub mod render;
pub mod syntax;

use diagnostic::{Diagnostic, SourceMap};

/// Parses every file of `map` and checks them together as one program.
///
/// Returns the typed program (`Some` exactly when no diagnostic is an error) and every
/// diagnostic of every file, in source order.
///
/// ```
/// use mlslo::diagnostic::SourceMap;
///
/// let mut map = SourceMap::new();
/// map.add("fraud.slo", r#"
/// service "fraud-detector" {
///   team = "risk-ml"
///   availability "predict-api" {
///     errors    = http_requests_total{status=~"5.."}
///     total     = http_requests_total
///     objective = 99.9%
///   }
/// }
/// "#);
/// let (program, diagnostics) = mlslo::check_sources(&map);
/// assert!(diagnostics.is_empty(), "{diagnostics:?}");
/// assert!(program.is_some());
/// ```
pub fn check_sources(map: &SourceMap) -> (Option<ir::Program>, Vec<Diagnostic>) {
    let all: Vec<usize> = (0..map.files().len()).collect();
    check_files(map, &all)
}

/// Like [`check_sources`], for the files of `map` at `file_indices` only (the CLI
/// leaves out files it could not read as text, which already have a diagnostic).
///
/// A file with a syntax error contributes its one syntax diagnostic; the other files
/// are still checked, so one run reports the problems of every file.
pub fn check_files(
    map: &SourceMap,
    file_indices: &[usize],
) -> (Option<ir::Program>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut parsed = Vec::new();
    for file in file_indices
        .iter()
        .filter_map(|&index| map.files().get(index))
    {
        match syntax::parse(&file.text, file.base) {
            Ok(ast) => parsed.push(ast),
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }
    let result = check::check(&parsed);
    diagnostics.extend(result.diagnostics);
    // Stable: the checker's own order is kept among diagnostics at one offset.
    diagnostics.sort_by_key(|diagnostic| diagnostic.primary.span.start);
    let program = if diagnostics.iter().any(Diagnostic::is_error) {
        None
    } else {
        result.program
    };
    (program, diagnostics)
}
