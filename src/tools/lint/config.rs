//! The `[lint]` table of `.mlslo.toml` and the `# mlslo: disable=...` comments.
//!
//! Invariants: unknown keys inside `[lint]` are errors, other top-level tables belong
//! to other commands and are ignored; a rule-level comment suppresses only the rule
//! item it sits above (or on the first line of), a file-level one the whole file.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::base::diagnostic::Severity;
use crate::prometheus::model::duration::parse_model_duration;

/// Thresholds and policy of `mlslo lint`.
#[derive(Clone, Debug)]
pub struct LintConfig {
    pub scrape_interval_ms: i64,
    pub min_range_multiple: u32,
    pub high_cardinality_labels: Vec<String>,
    pub disabled: BTreeSet<&'static str>,
    pub severity: BTreeMap<&'static str, Severity>,
    /// `error`, `warning` or `info` (no code is info by default, so it equals `warning`).
    pub fail_on: Option<String>,
}

impl Default for LintConfig {
    fn default() -> LintConfig {
        LintConfig {
            scrape_interval_ms: 60_000,
            min_range_multiple: 4,
            high_cardinality_labels: ["user_id", "request_id", "trace_id"]
                .map(String::from)
                .to_vec(),
            disabled: BTreeSet::new(),
            severity: BTreeMap::new(),
            fail_on: None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct FileShape {
    #[serde(default)]
    lint: Option<LintTable>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LintTable {
    fail_on: Option<String>,
    scrape_interval: Option<String>,
    min_range_multiple: Option<u32>,
    high_cardinality_labels: Option<Vec<String>>,
    #[serde(default)]
    disable: Vec<String>,
    #[serde(default)]
    severity: BTreeMap<String, String>,
}

fn known_code(code: &str) -> Option<&'static str> {
    super::CODES
        .iter()
        .find(|info| info.code.eq_ignore_ascii_case(code))
        .map(|info| info.code)
}

impl LintConfig {
    /// Reads the text of a `.mlslo.toml`; errors are one line each.
    pub fn from_toml(text: &str) -> Result<LintConfig, String> {
        let shape: FileShape =
            toml::from_str(text).map_err(|e| e.to_string().trim_end().replace('\n', " "))?;
        let mut config = LintConfig::default();
        let Some(table) = shape.lint else {
            return Ok(config);
        };
        if let Some(fail_on) = table.fail_on {
            if !matches!(fail_on.as_str(), "error" | "warning" | "info") {
                return Err(format!(
                    "[lint] fail_on: expected error, warning or info, found `{fail_on}`"
                ));
            }
            config.fail_on = Some(fail_on);
        }
        if let Some(interval) = table.scrape_interval {
            config.scrape_interval_ms = parse_model_duration(&interval)
                .map_err(|e| format!("[lint] scrape_interval: {e}"))?;
        }
        if let Some(multiple) = table.min_range_multiple {
            config.min_range_multiple = multiple;
        }
        if let Some(labels) = table.high_cardinality_labels {
            config.high_cardinality_labels = labels;
        }
        for code in table.disable {
            config.disabled.insert(
                known_code(&code)
                    .ok_or_else(|| format!("[lint] disable: unknown code `{code}`"))?,
            );
        }
        for (code, severity) in table.severity {
            let code = known_code(&code)
                .ok_or_else(|| format!("[lint] severity: unknown code `{code}`"))?;
            let severity = match severity.as_str() {
                "error" => Severity::Error,
                "warning" | "info" => Severity::Warning,
                other => {
                    return Err(format!(
                        "[lint] severity.{code}: expected error or warning, found `{other}`"
                    ))
                }
            };
            config.severity.insert(code, severity);
        }
        Ok(config)
    }
}

/// The suppression comments of one file.
#[derive(Debug, Default)]
pub struct Suppressions {
    file_wide: BTreeSet<String>,
    /// `(first line, end line, code)`, line indexes 0-based, end exclusive.
    rules: Vec<(usize, usize, String)>,
    /// Every code named, with its byte offset, to report unknown ones.
    pub mentioned: Vec<(usize, String)>,
}

impl Suppressions {
    pub fn parse(text: &str) -> Suppressions {
        let mut found = Suppressions::default();
        // Most files have none; one substring search instead of a pass over the lines.
        if !text.contains("# mlslo:") {
            return found;
        }
        let all = super::locate::lines(text);
        for (index, line) in all.iter().enumerate() {
            let Some(hash) = line.text.find("# mlslo:") else {
                continue;
            };
            let directive = line.text[hash + "# mlslo:".len()..].trim();
            let (file_wide, list) = if let Some(list) = directive.strip_prefix("file/disable=") {
                (true, list)
            } else if let Some(list) = directive.strip_prefix("disable=") {
                (false, list)
            } else {
                continue;
            };
            let list_offset = line.start + line.text.len()
                - line.text[hash..]
                    .trim_start_matches(|c: char| c != '=')
                    .len()
                + 1;
            let mut codes = Vec::new();
            let mut offset = list_offset;
            for code in list.split(',') {
                let trimmed = code.trim();
                let leading = code.len() - code.trim_start().len();
                if !trimmed.is_empty() {
                    found
                        .mentioned
                        .push((offset + leading, trimmed.to_string()));
                    codes.push(trimmed.to_ascii_uppercase());
                }
                offset += code.len() + 1;
            }
            if file_wide {
                found.file_wide.extend(codes);
                continue;
            }
            // A comment alone on its line applies to the item below; a trailing one to its own line's item.
            let standalone = line.text[..hash].trim().is_empty();
            let item_line = if standalone {
                (index + 1..all.len()).find(|&i| {
                    !all[i].text.trim().is_empty() && !all[i].text.trim_start().starts_with('#')
                })
            } else {
                Some(index)
            };
            let Some(item_line) = item_line else { continue };
            let item_text = all[item_line].text;
            let indent = item_text.len() - item_text.trim_start().len();
            let mut end = item_line + 1;
            while end < all.len() {
                let text = all[end].text;
                let blank = text.trim().is_empty() || text.trim_start().starts_with('#');
                let this_indent = text.len() - text.trim_start().len();
                if !blank && this_indent <= indent {
                    break;
                }
                end += 1;
            }
            for code in codes {
                found.rules.push((item_line, end, code));
            }
        }
        found
    }

    /// Whether a finding at file-relative `offset` with `code` is suppressed.
    pub fn suppresses(&self, text: &str, offset: usize, code: &str) -> bool {
        if self.file_wide.contains(code) || self.file_wide.contains("ALL") {
            return true;
        }
        let line = text
            .get(..offset.min(text.len()))
            .map_or(0, |prefix| prefix.matches('\n').count());
        self.rules.iter().any(|(first, end, suppressed)| {
            (*first..*end).contains(&line) && (suppressed == code || suppressed == "ALL")
        })
    }
}
