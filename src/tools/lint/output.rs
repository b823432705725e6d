//! Machine formats of `mlslo lint` beyond the shared renderer: SARIF 2.1.0 for code
//! scanning and GitHub workflow annotations.
//!
//! Invariants: pure and deterministic (rules sorted by code, results in diagnostic
//! order); paths are written as given, with `/` separators; lines and columns 1-based.

use serde_json::{json, Value};

use crate::base::diagnostic::{Diagnostic, Severity, SourceMap};

fn location(map: &SourceMap, diagnostic: &Diagnostic) -> (String, usize, usize, usize, usize) {
    let span = diagnostic.primary.span;
    let file = map
        .file_of(span)
        .map(|i| map.files()[i].name.replace('\\', "/"))
        .unwrap_or_default();
    let (_, line, column) = map.line_col(span.start).unwrap_or((0, 1, 1));
    let (_, end_line, end_column) = map
        .line_col(span.end.max(span.start))
        .unwrap_or((0, line, column));
    (
        file,
        line,
        column,
        end_line,
        end_column.max(if end_line == line { column } else { 1 }),
    )
}

/// One SARIF 2.1.0 log with one run of the `mlslo` tool.
pub fn render_sarif(map: &SourceMap, diagnostics: &[Diagnostic]) -> String {
    let mut used: Vec<&str> = diagnostics.iter().map(|d| d.code).collect();
    used.sort_unstable();
    used.dedup();
    let rules: Vec<Value> = used
        .iter()
        .map(|code| {
            let info = super::CODES.iter().find(|info| info.code == *code);
            json!({
                "id": code,
                "name": code,
                "shortDescription": {"text": info.map_or("", |i| i.title)},
                "fullDescription": {"text": info.map_or("", |i| i.explanation)},
                "defaultConfiguration": {"level": level(info.map_or(Severity::Warning, |i| i.severity))},
                "helpUri": "https://github.com/mlslo/mlslo#lint",
            })
        })
        .collect();
    let results: Vec<Value> = diagnostics
        .iter()
        .map(|diagnostic| {
            let (file, line, column, end_line, end_column) = location(map, diagnostic);
            let mut text = format!("{}: {}", diagnostic.message, diagnostic.primary.message);
            for help in &diagnostic.help {
                text.push_str(&format!(" (help: {help})"));
            }
            json!({
                "ruleId": diagnostic.code,
                "ruleIndex": used.binary_search(&diagnostic.code).unwrap_or(0),
                "level": level(diagnostic.severity),
                "message": {"text": text},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": file},
                        "region": {"startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column},
                    }
                }],
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "mlslo",
                "informationUri": "https://github.com/mlslo/mlslo",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
    text.push('\n');
    text
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// GitHub Actions workflow commands, one line per finding:
/// `::warning file=F,line=L,col=C,title=CODE title::message`.
pub fn render_github(map: &SourceMap, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let (file, line, column, end_line, end_column) = location(map, diagnostic);
        let title = format!("{} {}", diagnostic.code, diagnostic.message);
        out.push_str(&format!(
            "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            level(diagnostic.severity),
            escape_property(&file),
            line,
            column,
            end_line,
            end_column,
            escape_property(&title),
            escape_data(&diagnostic.primary.message),
        ));
    }
    out
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}
