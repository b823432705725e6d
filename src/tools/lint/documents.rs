//! Reading a lint input's YAML into the ruler's model of a rule file: plain rule files
//! straight into [`RuleFileSource`] (a large one split into pieces of whole groups,
//! parsed on all cores), anything else (manifests, files with errors) through
//! `yaml_serde::Value`, which keeps syntax errors apart from schema errors.
//!
//! Invariants: the ruler's decoder is the only one (so lint refuses what the ruler
//! refuses); unlike Prometheus, every document of a plain rule file is read, since a
//! document Prometheus skips is a mistake worth reporting; every fast path gives exactly
//! the groups the `Value` path gives, or gives up and leaves the file to it; errors only
//! ever come from the `Value` path.

use serde::Deserialize;

use super::locate::Line;
use super::{codes, first_line, unknown_field_span, yaml_error};
use crate::base::diagnostic::{Diagnostic, Span};
use crate::base::parallel;
use crate::prometheus::ruler::source::decode_value;
use crate::prometheus::ruler::RuleFileSource;

/// Below this size one parse is cheaper than threads and the splitting.
const PIECES_WORTH_IT_FROM_BYTES: usize = 256 * 1024;

/// Every YAML document of a rule file or manifest file as the rule groups it holds
/// (`true` for a `PrometheusRule` manifest's spec), or why a document is not rule
/// groups; `Err` for a YAML syntax error, which stops the file.
pub(super) type ParsedDocuments = Vec<Result<(bool, RuleFileSource), Box<Diagnostic>>>;

pub(super) fn parse_documents(
    text: &str,
    all: &[Line<'_>],
    base: usize,
) -> Result<ParsedDocuments, Box<Diagnostic>> {
    // The common case in one pass: a plain rule file whose documents all read,
    // a large one in pieces on all cores.
    if !text.contains("PrometheusRule") {
        if let Some(raw) = parse_group_pieces_in_parallel(text) {
            return Ok(vec![Ok((false, raw))]);
        }
        let direct: Result<Vec<Option<RuleFileSource>>, _> =
            yaml_serde::Deserializer::from_str(text)
                .map(Option::<RuleFileSource>::deserialize)
                .collect();
        if let Ok(documents) = direct {
            return Ok(documents
                .into_iter()
                .flatten()
                .map(|raw| Ok((false, raw)))
                .collect());
        }
    }
    // Otherwise through `Value`, which tells manifests from rule files and syntax
    // errors (reported first, for the whole file) from schema errors.
    let at = |offset: usize| Span::new(base + offset, base + offset);
    let mut documents = Vec::new();
    for document in yaml_serde::Deserializer::from_str(text) {
        match yaml_serde::Value::deserialize(document) {
            Ok(value) => documents.push(value),
            Err(error) => {
                return Err(Box::new(yaml_error(text, base, &error)));
            }
        }
    }
    Ok(documents
        .into_iter()
        .filter_map(|mut value| {
            // `<<: *anchor` merge keys, which Prometheus' YAML reader applies; a
            // broken merge is left for the schema error below.
            let _ = value.apply_merge();
            let manifest = value.get("kind").and_then(|k| k.as_str()) == Some("PrometheusRule");
            let spec = if manifest {
                value
                    .get("spec")
                    .cloned()
                    .unwrap_or(yaml_serde::Value::Null)
            } else {
                value
            };
            if spec.is_null() {
                return None;
            }
            Some(
                decode_value(spec)
                    .map(|raw| (manifest, raw))
                    .map_err(|error| {
                        let message = error.message;
                        let code = if message.contains("unknown field") {
                            codes::UNKNOWN_FIELD
                        } else {
                            codes::INVALID_YAML
                        };
                        let span = unknown_field_span(&message, all, base).unwrap_or_else(|| at(0));
                        Box::new(code.at(span, first_line(&message)))
                    }),
            )
        })
        .collect())
}

/// A single-document rule file of only `groups:` parsed as pieces of whole groups
/// in parallel; `None` when the file is small, has another shape, or any piece
/// does not read on its own (an alias to an anchor in another piece, an error).
///
/// Why a piece boundary is safe: in the block sequence under `groups:` (items at
/// indentation `d`), a line at indentation `d` starting with `- ` can only begin
/// the next item. Block scalars and plain multi-line scalars end before a line that
/// is not indented deeper than their parent, and a quoted scalar or flow collection
/// cut at such a line would leave the piece before it unterminated, so that piece
/// fails to read and the whole file goes the ordinary way.
fn parse_group_pieces_in_parallel(text: &str) -> Option<RuleFileSource> {
    if text.len() < PIECES_WORTH_IT_FROM_BYTES {
        return None;
    }
    let item_starts = group_item_starts(text)?;
    let parsed = parallel::in_parallel_chunks(&item_starts, 1, |starts: &[(usize, usize)]| {
        let (first, last) = (starts.first(), starts.last());
        let piece = match (first, last) {
            (Some((from, _)), Some((_, to))) => &text[*from..*to],
            _ => "",
        };
        let mut document = String::with_capacity(piece.len() + 8);
        document.push_str("groups:\n");
        document.push_str(piece);
        vec![yaml_serde::from_str::<RuleFileSource>(&document).ok()]
    });
    let mut groups = Vec::new();
    for piece in parsed {
        groups.extend(piece?.groups);
    }
    Some(RuleFileSource { groups })
}

/// The byte ranges of the items of a file shaped `groups:` then a block sequence,
/// or `None` for any other shape (another key, more documents, a directive).
fn group_item_starts(text: &str) -> Option<Vec<(usize, usize)>> {
    let mut lines = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        lines.push((offset, line));
        offset += line.len();
    }
    let is_skippable = |line: &str| {
        let trimmed = line.trim_start_matches(' ').trim_end();
        trimmed.is_empty() || trimmed.starts_with('#')
    };
    let mut index = lines.iter().position(|(_, line)| !is_skippable(line))?;
    let header = lines[index].1.trim_end();
    let header = header
        .split_once(" #")
        .map_or(header, |(key, _)| key)
        .trim_end();
    if header != "groups:" {
        return None;
    }
    index += 1;
    let mut indentation = None;
    let mut starts = Vec::new();
    for (start, line) in &lines[index..] {
        if line.starts_with("---") || line.starts_with("...") || line.contains('\t') {
            return None;
        }
        if is_skippable(line) {
            continue;
        }
        let depth = line.len() - line.trim_start_matches(' ').len();
        let item_depth = *indentation.get_or_insert(depth);
        if depth < item_depth {
            return None;
        }
        if depth == item_depth {
            if !line[depth..].starts_with("- ") {
                return None;
            }
            starts.push(*start);
        }
    }
    if starts.len() < 2 {
        return None;
    }
    let ends = starts.iter().skip(1).copied().chain([text.len()]);
    Some(starts.iter().copied().zip(ends).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule_file(groups: usize) -> String {
        let mut text = String::from("# a comment\ngroups:\n");
        for g in 0..groups {
            text.push_str(&format!(
                "  - name: g{g}\n    rules:\n      - record: job:x_{g}:rate5m\n        expr: |\n          sum(rate(x_{g}_total[5m]))\n\n# between\n      - alert: A{g}\n        expr: \"job:x_{g}:rate5m\n          > 1\"\n        labels: {{severity: page}}\n"
            ));
        }
        text
    }

    #[test]
    fn pieces_give_the_groups_of_one_parse() {
        let text = rule_file(3000);
        assert!(text.len() > PIECES_WORTH_IT_FROM_BYTES);
        let whole: RuleFileSource = yaml_serde::from_str(&text).expect("valid");
        let pieces = parse_group_pieces_in_parallel(&text).expect("pieces read");
        assert_eq!(format!("{pieces:?}"), format!("{whole:?}"));
    }

    #[test]
    fn other_shapes_and_cross_piece_aliases_are_left_to_the_plain_parse() {
        let big = rule_file(3000);
        for text in [
            format!("{big}extra: 1\n"),
            format!("{big}---\ngroups: []\n"),
            format!("%YAML 1.2\n---\n{big}"),
            big.replacen(
                "labels: {severity: page}",
                "labels: &shared {severity: page}",
                1,
            )
            .replacen("labels: {severity: page}", "labels: *shared", 2999),
            big.replacen("expr: \"", "expr: \"unterminated\n  - name: x\n", 1),
        ] {
            assert!(parse_group_pieces_in_parallel(&text).is_none());
        }
        assert!(
            parse_group_pieces_in_parallel(&rule_file(10)).is_none(),
            "small file"
        );
    }
}
