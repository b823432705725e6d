//! The `.slo` front end: text to [`ast::File`]. Grammar: `grammar/mlslo.ebnf`.

pub mod ast;

use crate::diagnostic::CodeInfo;

/// Codes E01xx: syntax errors.
pub static CODES: &[CodeInfo] = &[];
