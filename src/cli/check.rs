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
use crate::compiler::verify::cardinality::{self, CardinalityLimits, ObjectiveCardinality};
use crate::compiler::Compilation;
use std::io::IsTerminal;
use std::path::PathBuf;

pub(super) fn run(
    paths: &[PathBuf],
    format: Format,
    deny_warnings: bool,
    explain_cardinality: bool,
) -> u8 {
    let limits = match check_limits() {
        Ok(limits) => limits,
        Err(message) => {
            write_stderr(&format!("error: {message}\n"));
            return EXIT_USAGE_OR_IO;
        }
    };
    let inputs = input::load(paths);
    for problem in &inputs.io_errors {
        write_stderr(&format!("error: {problem}\n"));
    }
    // Spans live in one offset space laid out in file order, so the compilation's
    // order is source order.
    let compilation =
        Compilation::check_with(&inputs.map, &inputs.parseable, inputs.diagnostics, &limits);
    let counted = match compilation.program() {
        Some(program) if explain_cardinality => Some(cardinality::cardinality(program)),
        _ => None,
    };
    let diagnostics = compilation.into_diagnostics();

    match format {
        Format::Human => {
            let color = use_color();
            write_stderr(&render::render_human(&inputs.map, &diagnostics, color));
            if let Some(counted) = &counted {
                write_stdout(&cardinality_text(counted));
            }
        }
        Format::Json if explain_cardinality => {
            let diagnostics: serde_json::Value =
                serde_json::from_str(&render::render_json(&inputs.map, &diagnostics))
                    .unwrap_or(serde_json::Value::Null);
            let document = serde_json::json!({
                "diagnostics": diagnostics,
                "cardinality": counted,
            });
            write_stdout(&format!(
                "{}\n",
                serde_json::to_string_pretty(&document).unwrap_or_default()
            ));
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

/// The `[check]` table of `.mlslo.toml` in the current folder, when there is one.
pub(super) fn check_limits() -> Result<CardinalityLimits, String> {
    let path = std::path::Path::new(".mlslo.toml");
    match input::read_text(path) {
        Ok(text) => CardinalityLimits::from_toml(&text)
            .map_err(|message| format!("{}: {message}", path.display())),
        Err(_) => Ok(CardinalityLimits::default()),
    }
}

/// `--explain-cardinality`: per objective, its recorded series as a function of
/// its groups, then one line per recording rule.
fn cardinality_text(counted: &[ObjectiveCardinality]) -> String {
    let mut out = String::new();
    for objective in counted
        .iter()
        .filter(|objective| !objective.rules.is_empty())
    {
        let per_group = objective.per_group_rules();
        let fixed = objective.fixed_rules();
        let groups = if objective.group_by.is_empty() {
            "one group".to_owned()
        } else {
            format!("per ({})", objective.group_by.join(", "))
        };
        let total = match (objective.groups, objective.series) {
            (Some(groups), Some(series)) if !objective.group_by.is_empty() => {
                format!(
                    "{per_group} per group + {fixed} = {per_group} × {groups} + {fixed} = {series}"
                )
            }
            (_, Some(series)) => series.to_string(),
            _ => format!("{per_group} per group + {fixed} (set expected_groups for a number)"),
        };
        out.push_str(&format!(
            "{}/{} ({groups}): {total} recorded series\n",
            objective.service, objective.objective
        ));
        let width = objective
            .rules
            .iter()
            .map(|rule| rule.record.len())
            .max()
            .unwrap_or(0);
        for rule in &objective.rules {
            let each = if rule.per_group && !objective.group_by.is_empty() {
                format!("1 per ({})", objective.group_by.join(", "))
            } else {
                "1".to_owned()
            };
            out.push_str(&format!("  {:<width$}  {each}\n", rule.record));
        }
    }
    out
}
