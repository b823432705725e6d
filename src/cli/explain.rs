//! `mlslo explain CODE`: the long form of a diagnostic code, and the registry of
//! every code, assembled here because the CLI is the one layer above every phase
//! that has codes.
//!
//! Invariants: the registry is the CLI's own codes (E00xx), the compiler's
//! (E01xx to E04xx, W0xxx) and lint's (L), sorted by code; an unknown code is a
//! usage problem (exit 2) and gets the closest known codes as suggestions, never
//! an empty explanation.

use super::{input, write_stderr, write_stdout, EXIT_CLEAN, EXIT_USAGE_OR_IO};
use crate::base::diagnostic::CodeInfo;

/// Codes at most this many edits away from what was typed are suggested.
const SUGGESTION_MAX_EDIT_DISTANCE: usize = 2;
/// At most this many suggestions are shown.
const SUGGESTION_LIMIT: usize = 3;

/// Every registered code, sorted by code.
pub fn all_codes() -> Vec<&'static CodeInfo> {
    let compiler_codes = crate::compiler::CODES.iter().flat_map(|phase| phase.iter());
    let mut codes: Vec<&'static CodeInfo> = input::CODES
        .iter()
        .chain(compiler_codes)
        .chain(crate::tools::lint::CODES.iter())
        .collect();
    codes.sort_by_key(|info| info.code);
    codes
}

/// The registered code spelled `code`, in any case.
pub fn lookup_code(code: &str) -> Option<&'static CodeInfo> {
    all_codes()
        .into_iter()
        .find(|info| info.code.eq_ignore_ascii_case(code))
}

pub(super) fn run(code: Option<&str>, list: bool) -> u8 {
    if list {
        let listing: String = all_codes()
            .into_iter()
            .map(|info| format!("{}  {}\n", info.code, info.title))
            .collect();
        write_stdout(&listing);
        return EXIT_CLEAN;
    }
    let Some(code) = code else {
        write_stderr(
            "error: name a code to explain, such as `mlslo explain E0101`, or use --list\n",
        );
        return EXIT_USAGE_OR_IO;
    };
    let typed = code.trim();
    match lookup_code(typed) {
        Some(info) => {
            write_stdout(&format!(
                "{}: {}\n\n{}\n",
                info.code,
                info.title,
                info.explanation.trim_end()
            ));
            EXIT_CLEAN
        }
        None => {
            let mut message = format!("error: unknown diagnostic code `{typed}`\n");
            let suggestions = suggest_codes(typed);
            match suggestions.as_slice() {
                [] => {}
                [only] => message.push_str(&format!("help: did you mean `{only}`?\n")),
                several => message.push_str(&format!(
                    "help: did you mean one of {}?\n",
                    several
                        .iter()
                        .map(|code| format!("`{code}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
            message.push_str("note: `mlslo explain --list` shows every code\n");
            write_stderr(&message);
            EXIT_USAGE_OR_IO
        }
    }
}

/// The registered codes closest to `typed`, nearest first. A bare number such as
/// `101` is also compared with every prefix letter, so it finds `E0101`.
fn suggest_codes(typed: &str) -> Vec<&'static str> {
    let typed = typed.to_ascii_uppercase();
    let mut scored: Vec<(usize, &'static str)> = all_codes()
        .into_iter()
        .filter_map(|info| {
            let digits = info
                .code
                .trim_start_matches(|c: char| c.is_ascii_alphabetic());
            let distance = strsim::levenshtein(&typed, info.code)
                .min(strsim::levenshtein(&typed, digits).saturating_add(1))
                .min(strsim::levenshtein(&typed, digits.trim_start_matches('0')).saturating_add(1));
            (distance <= SUGGESTION_MAX_EDIT_DISTANCE).then_some((distance, info.code))
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(SUGGESTION_LIMIT)
        .map(|(_, code)| code)
        .collect()
}
