//! The `.slo` front end: text to [`ast::File`]. Grammar: `grammar/mlslo.ebnf`.
//!
//! Invariants: [`parse`] never panics, never loops forever and never recurses
//! deeper than [`error::MAX_NESTING_DEPTH`] levels, whatever the input; every
//! span it produces is shifted by the file's `base` offset (see
//! [`crate::base::diagnostic::SourceMap`]); the codes it emits are exactly those of
//! [`CODES`]. [`print`] writes an AST back as canonical `.slo` text.

pub mod ast;
mod codes;
pub mod error;
mod parser;
mod print;
#[cfg(test)]
mod tests;

pub use print::print;

use crate::base::diagnostic::{CodeInfo, Diagnostic};

/// Parses one `.slo` file. `base` is the file's offset in the run's shared
/// offset space and is added to every span. Parsing stops at the first error.
///
/// ```
/// let file = mlslo::compiler::syntax::parse("objective = 99.9%", 0).expect("valid syntax");
/// assert_eq!(file.items.len(), 1);
/// let error = mlslo::compiler::syntax::parse("window = 1.5h", 0).unwrap_err();
/// assert_eq!(error.code, "E0108");
/// ```
// The signature is the project's contract with the checker and the CLI; a
// parse error happens at most once per file, so the size of the error is moot.
#[allow(clippy::result_large_err)]
pub fn parse(source: &str, base: u32) -> Result<ast::File, Diagnostic> {
    parser::parse_source(source, base).map_err(error::ParseError::into_diagnostic)
}

/// Codes E01xx: syntax errors, with the text `mlslo explain CODE` prints.
pub const CODES: &[CodeInfo] = codes::ALL;
