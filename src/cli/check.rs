//! `mlslo check [PATHS...]`: read, parse and type-check, then report every problem.
//!
//! Invariants: human diagnostics and the summary go to stderr, the JSON document to
//! stdout; diagnostics are printed in source order (file order, then offset); the exit
//! status is 2 when any path could not be read, else 1 when there is an error (or a
//! warning under `--deny-warnings`), else 0.

use super::input;
use super::{write_stderr, write_stdout, Format};
use super::{EXIT_CLEAN, EXIT_INVALID_INPUT, EXIT_USAGE_OR_IO};
use crate::base::render;
use crate::compiler::Compilation;
use std::io::IsTerminal;
use std::path::PathBuf;

pub(super) fn run(paths: &[PathBuf], format: Format, deny_warnings: bool) -> u8 {
    let inputs = input::load(paths);
    for problem in &inputs.io_errors {
        write_stderr(&format!("error: {problem}\n"));
    }
    // Spans live in one offset space laid out in file order, so the compilation's
    // order is source order.
    let diagnostics =
        Compilation::check(&inputs.map, &inputs.parseable, inputs.diagnostics).into_diagnostics();

    match format {
        Format::Human => {
            let color = use_color();
            write_stderr(&render::render_human(&inputs.map, &diagnostics, color));
        }
        Format::Json => write_stdout(&render::render_json(&inputs.map, &diagnostics)),
    }

    let n_errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let n_warnings = diagnostics.len() - n_errors;
    match render::summary(&diagnostics) {
        Some(summary) if n_errors == 0 && deny_warnings => {
            let denied = summary.replacen("warning:", "error:", 1);
            write_stderr(&format!("{denied} (denied by --deny-warnings)\n"));
        }
        Some(summary) => write_stderr(&format!("{summary}\n")),
        None if inputs.io_errors.is_empty() => {
            let n_files = inputs.map.files().len();
            let noun = if n_files == 1 { "file" } else { "files" };
            write_stderr(&format!("checked {n_files} {noun}: no problems found\n"));
        }
        None => {}
    }

    if !inputs.io_errors.is_empty() {
        EXIT_USAGE_OR_IO
    } else if n_errors > 0 || (deny_warnings && n_warnings > 0) {
        EXIT_INVALID_INPUT
    } else {
        EXIT_CLEAN
    }
}

/// Colour only for a terminal, and never when the user asked for none
/// (<https://no-color.org>) or the terminal cannot show it.
fn use_color() -> bool {
    std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
        && std::env::var_os("TERM").is_none_or(|term| term != "dumb")
}
