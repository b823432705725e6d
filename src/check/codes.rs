//! The registry of check codes: what `mlslo explain CODE` prints.
use crate::diagnostic::CodeInfo;
pub(crate) const ALL: &[CodeInfo] = &[];
