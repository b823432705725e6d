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
    /// The byte offset at which each line starts, when there are rule-level comments:
    /// a finding's line is then a binary search, not a count of the newlines before it.
    line_starts: Vec<usize>,
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
        if !found.rules.is_empty() {
            found.line_starts = std::iter::once(0)
                .chain(text.match_indices('\n').map(|(index, _)| index + 1))
                .collect();
        }
        found
    }

    /// Whether a finding at file-relative `offset` with `code` is suppressed.
    pub fn suppresses(&self, offset: usize, code: &str) -> bool {
        if self.file_wide.contains(code) || self.file_wide.contains("ALL") {
            return true;
        }
        if self.rules.is_empty() {
            return false;
        }
        let line = self
            .line_starts
            .partition_point(|&start| start <= offset)
            .saturating_sub(1);
        self.rules.iter().any(|(first, end, suppressed)| {
            (*first..*end).contains(&line) && (suppressed == code || suppressed == "ALL")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_level_comment_covers_the_lines_of_the_item_below_it() {
        let text = "groups:\n  - name: g\n    rules:\n      # mlslo: disable=L0401\n      - alert: A\n        expr: up\n      - alert: B\n        expr: up\n";
        let found = Suppressions::parse(text);
        let offset_of = |needle: &str| text.find(needle).expect("in the text");
        assert!(found.suppresses(offset_of("alert: A"), "L0401"));
        assert!(found.suppresses(offset_of("expr: up"), "L0401"));
        assert!(!found.suppresses(offset_of("alert: A"), "L0303"));
        assert!(!found.suppresses(offset_of("alert: B"), "L0401"));
        assert!(!found.suppresses(text.len(), "L0401"), "end of the file");
        assert!(!found.suppresses(0, "L0401"));
    }

    #[test]
    fn a_file_level_comment_covers_every_offset() {
        let text = "# mlslo: file/disable=L0401\ngroups: []\n";
        let found = Suppressions::parse(text);
        assert!(found.suppresses(text.len(), "L0401"));
        assert!(!found.suppresses(0, "L0404"));
        assert!(!Suppressions::parse("groups: []\n").suppresses(3, "L0401"));
    }
}
