//! Everything that can reject a syntactically valid file: names, types, units,
//! ranges, PromQL. Produces the typed model `crate::ir::Program`.

use crate::diagnostic::CodeInfo;

/// Codes E02xx to E04xx and W0xxx.
pub static CODES: &[CodeInfo] = &[];
