//! Finding rules, keys and `expr` strings in the text of a YAML rule file, and mapping
//! byte offsets inside an `expr` value back to offsets in the file.
//!
//! Invariants: the YAML is parsed for meaning by yaml_serde elsewhere; this module only
//! locates, by scanning lines, so a failure to locate degrades to a coarser span (the
//! rule, then the file start) and never to a wrong file. An `expr` mapping is exact only
//! when the file text, re-read under the scalar's style, equals the parsed string: plain
//! and quoted scalars without escapes, `|` blocks and `>` blocks without blank lines.
//! Otherwise it is marked approximate and every inner span points at the value's start.

/// One line of the file: where it starts and its text without the newline.
#[derive(Clone, Copy, Debug)]
pub struct Line<'a> {
    pub start: usize,
    pub text: &'a str,
}

pub fn lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    for piece in text.split_inclusive('\n') {
        let body = piece.strip_suffix('\n').unwrap_or(piece);
        let body = body.strip_suffix('\r').unwrap_or(body);
        out.push(Line { start, text: body });
        start += piece.len();
    }
    out
}

/// Where a rule of the file sits: its name key line and the lines of its mapping.
#[derive(Clone, Debug, Default)]
pub struct RuleLocation {
    /// Byte range of the rule's name value (`record:`/`alert:`), file-relative.
    pub name: (usize, usize),
    /// The line index of the name key (the next rule's name comes after it).
    pub name_line: usize,
    /// Column (bytes) at which the rule's keys start.
    pub key_column: usize,
    /// Line indexes `[first, end)` of the rule's mapping.
    pub first_line: usize,
    pub end_line: usize,
}

/// Finds the rule whose name key is `key: name`, searching from line `from`.
pub fn find_rule(all: &[Line<'_>], from: usize, key: &str, name: &str) -> Option<RuleLocation> {
    for (index, line) in all.iter().enumerate().skip(from) {
        let Some((column, value_start)) = key_on_line(line.text, key) else {
            continue;
        };
        let value = line.text[value_start..].trim_end();
        let value = strip_comment(value);
        if unquote(value) != name {
            continue;
        }
        // The item starts at the line whose `- ` sits just before the key column.
        let mut first = index;
        while first > 0 {
            let text = all[first].text;
            if column >= 2 && text.get(column - 2..column) == Some("- ") {
                break;
            }
            first -= 1;
        }
        let mut end = index + 1;
        while end < all.len() {
            let text = all[end].text;
            let indent = text.len() - text.trim_start().len();
            let blank = text.trim().is_empty() || text.trim_start().starts_with('#');
            if !blank && indent < column {
                break;
            }
            end += 1;
        }
        let start = line.start + value_start;
        return Some(RuleLocation {
            name: (start, start + value.len()),
            name_line: index,
            key_column: column,
            first_line: first,
            end_line: end,
        });
    }
    None
}

/// The column of `key:` on this line and where its value starts, if the line holds it
/// as a mapping key (possibly after `- `).
pub fn key_on_line(text: &str, key: &str) -> Option<(usize, usize)> {
    let trimmed = text.trim_start();
    let mut column = text.len() - trimmed.len();
    let mut rest = trimmed;
    if let Some(after) = rest.strip_prefix("- ") {
        let inner = after.trim_start();
        column += 2 + (after.len() - inner.len());
        rest = inner;
    }
    let after_key = rest.strip_prefix(key)?.strip_prefix(':')?;
    if !(after_key.is_empty() || after_key.starts_with(' ') || after_key.starts_with('\t')) {
        return None;
    }
    let value_offset = column + key.len() + 1;
    let value = &text[value_offset..];
    let skipped = value.len() - value.trim_start().len();
    Some((column, value_offset + skipped))
}

/// Finds `key:` among the rule's own keys (at its key column), returning the file
/// offsets of the key and of its value.
pub fn find_key(all: &[Line<'_>], rule: &RuleLocation, key: &str) -> Option<(usize, usize, usize)> {
    for (index, line) in all
        .iter()
        .enumerate()
        .take(rule.end_line)
        .skip(rule.first_line)
    {
        if let Some((column, value_start)) = key_on_line(line.text, key) {
            if column == rule.key_column {
                return Some((index, line.start + column, line.start + value_start));
            }
        }
    }
    None
}

fn strip_comment(value: &str) -> &str {
    if value.starts_with('"') || value.starts_with('\'') {
        return value;
    }
    match value.find(" #") {
        Some(index) => value[..index].trim_end(),
        None => value,
    }
}

fn unquote(value: &str) -> &str {
    let bytes = value.as_bytes();
    if bytes.len() >= 2
        && ((bytes[0] == b'"' && bytes[bytes.len() - 1] == b'"')
            || (bytes[0] == b'\'' && bytes[bytes.len() - 1] == b'\''))
    {
        &value[1..value.len() - 1]
    } else {
        value
    }
}

/// Maps byte offsets of a parsed `expr` string to file offsets.
#[derive(Clone, Debug)]
pub struct ExprMap {
    /// File offset of the value's first character (after a quote or block header line).
    pub start: usize,
    /// `(expr offset, file offset)` of each source line's content, in order.
    segments: Vec<(usize, usize)>,
    pub exact: bool,
}

impl ExprMap {
    /// A map that points everything at one place.
    pub fn at(start: usize) -> ExprMap {
        ExprMap {
            start,
            segments: Vec::new(),
            exact: false,
        }
    }

    /// The file offset of `offset` inside the expression.
    pub fn file_offset(&self, offset: usize) -> usize {
        if !self.exact {
            return self.start;
        }
        let index = self.segments.partition_point(|&(expr, _)| expr <= offset);
        match index.checked_sub(1) {
            Some(i) => self.segments[i].1 + (offset - self.segments[i].0),
            None => self.start,
        }
    }
}

/// Builds the map for the `expr` value starting at file offset `value_start` on line
/// `line_index`, whose key sits at `key_column`, given the parsed string `expr`.
pub fn map_expr(
    text: &str,
    all: &[Line<'_>],
    line_index: usize,
    key_column: usize,
    value_start: usize,
    expr: &str,
) -> ExprMap {
    let rest = &text[value_start..];
    let first = rest.chars().next();
    match first {
        Some('|') | Some('>') => {
            let mut segments = Vec::new();
            let mut content_indent = None;
            let mut expr_offset = 0;
            let mut start = value_start;
            for line in all.iter().skip(line_index + 1) {
                let indent = line.text.len() - line.text.trim_start().len();
                if line.text.trim().is_empty() {
                    if content_indent.is_some() {
                        // A blank line inside the block: `|` keeps it, `>` folds it;
                        // mark the mapping inexact rather than guess.
                        segments.push((expr_offset, line.start));
                        expr_offset += 1;
                    }
                    continue;
                }
                if indent <= key_column {
                    break;
                }
                let content = *content_indent.get_or_insert(indent);
                if indent < content {
                    break;
                }
                if segments.is_empty() {
                    start = line.start + content;
                }
                segments.push((expr_offset, line.start + content));
                expr_offset += line.text.len() - content + 1;
            }
            // Check the reconstruction line by line against the parsed string.
            let exact = !segments.is_empty()
                && segments.iter().enumerate().all(|(i, &(expr_at, file_at))| {
                    let file_line_end = text[file_at..]
                        .find('\n')
                        .map_or(text.len(), |n| file_at + n);
                    let file_line = text[file_at..file_line_end].trim_end_matches('\r');
                    let expr_end = segments
                        .get(i + 1)
                        .map_or(expr.trim_end_matches('\n').len(), |next| {
                            next.0.saturating_sub(1)
                        });
                    expr.get(expr_at..expr_end.max(expr_at)) == Some(file_line)
                });
            ExprMap {
                start,
                segments,
                exact,
            }
        }
        Some('"') | Some('\'') => {
            let start = value_start + 1;
            let exact = text.get(start..start + expr.len()) == Some(expr);
            ExprMap {
                start,
                segments: vec![(0, start)],
                exact,
            }
        }
        _ => {
            let exact = text.get(value_start..value_start + expr.len()) == Some(expr);
            ExprMap {
                start: value_start,
                segments: vec![(0, value_start)],
                exact,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_block_maps_each_line() {
        let text = "- record: a:b:c\n  expr: |\n    sum(x)\n      / 2\n";
        let all = lines(text);
        let rule = find_rule(&all, 0, "record", "a:b:c").expect("rule is there");
        let (line, _, value) = find_key(&all, &rule, "expr").expect("expr is there");
        let map = map_expr(text, &all, line, rule.key_column, value, "sum(x)\n  / 2\n");
        assert!(map.exact);
        let slash = "sum(x)\n  ".len();
        assert_eq!(
            &text[map.file_offset(slash)..map.file_offset(slash) + 1],
            "/"
        );
    }

    #[test]
    fn escaped_quoted_string_is_approximate() {
        let text = "- alert: A\n  expr: \"up{job=\\\"a\\\"} == 0\"\n";
        let all = lines(text);
        let rule = find_rule(&all, 0, "alert", "A").expect("rule is there");
        let (line, _, value) = find_key(&all, &rule, "expr").expect("expr is there");
        let map = map_expr(
            text,
            &all,
            line,
            rule.key_column,
            value,
            "up{job=\"a\"} == 0",
        );
        assert!(!map.exact);
        assert_eq!(map.file_offset(5), value + 1);
    }
}
