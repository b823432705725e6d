//! Finding rules, keys and `expr` strings in the text of a YAML rule file, and mapping
//! byte offsets inside an `expr` value back to offsets in the file.
//!
//! Invariants: the YAML is parsed for meaning by yaml_serde elsewhere; this module only
//! locates, by scanning lines, so a failure to locate degrades to a coarser span (the
//! rule, then the file start) and never to a wrong file. A scalar is re-read from the
//! file under its style (escapes and `''` of quoted scalars, line folding of quoted and
//! plain ones, `|` blocks and `>` blocks without blank lines), keeping where each of
//! its characters came from; a rule is found by its name read so, and an `expr`
//! mapping is exact only when the re-read text equals the parsed string. Otherwise it
//! is marked approximate and every inner span points at the value's start.

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

/// Finds the rule whose name key is `key: name` in `text` (split into `all`),
/// searching from line `from`.
pub fn find_rule(
    text: &str,
    all: &[Line<'_>],
    from: usize,
    key: &str,
    name: &str,
) -> Option<RuleLocation> {
    for (index, line) in all.iter().enumerate().skip(from) {
        let Some((column, value_start)) = key_on_line(line.text, key) else {
            continue;
        };
        let file_value_start = line.start + value_start;
        let name_map = map_expr(text, all, index, column, file_value_start, name);
        if !name_map.exact {
            continue;
        }
        // The span covers the value as written: quotes included, a block's header.
        let value = strip_comment(line.text[value_start..].trim_end());
        let value_end = if value.starts_with(['|', '>']) {
            file_value_start + value.len()
        } else {
            name_map.end
        };
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
        return Some(RuleLocation {
            name: (file_value_start, value_end),
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

/// Maps byte offsets of a parsed `expr` string to file offsets.
#[derive(Clone, Debug)]
pub struct ExprMap {
    /// File offset of the value's first character (after a quote or block header line).
    pub start: usize,
    /// `(expr offset, file offset)` where the text read continues in the file, in
    /// order: each source line's content, and each character after an escape or fold.
    segments: Vec<(usize, usize)>,
    pub exact: bool,
    /// File offset just past the value read (its closing quote, its last line).
    pub end: usize,
}

impl ExprMap {
    /// A map that points everything at one place.
    pub fn at(start: usize) -> ExprMap {
        ExprMap {
            start,
            segments: Vec::new(),
            exact: false,
            end: start,
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
            let end = segments.last().map_or(value_start, |&(_, file_at)| {
                text[file_at..]
                    .find('\n')
                    .map_or(text.len(), |n| file_at + n)
            });
            ExprMap {
                start,
                segments,
                exact,
                end,
            }
        }
        Some(quote @ ('"' | '\'')) => match read_quoted(text, value_start, quote) {
            Some(read) => ExprMap {
                start: value_start + 1,
                exact: read.value == expr,
                segments: read.segments,
                end: read.end,
            },
            None => ExprMap::at(value_start + 1),
        },
        _ => {
            let read = read_plain(text, all, line_index, key_column, value_start);
            ExprMap {
                start: read
                    .segments
                    .first()
                    .map_or(value_start, |&(_, file_at)| file_at),
                exact: read.value == expr,
                segments: read.segments,
                end: read.end,
            }
        }
    }
}

/// A scalar re-read from the file: its value, where its characters came from (see
/// [`ExprMap`]'s segments) and the file offset just past it.
struct ScalarRead {
    value: String,
    segments: Vec<(usize, usize)>,
    end: usize,
}

impl ScalarRead {
    fn new() -> ScalarRead {
        ScalarRead {
            value: String::new(),
            segments: Vec::new(),
            end: 0,
        }
    }

    /// Appends `piece`, read from `file_at` on, as one run of the file.
    fn push(&mut self, piece: &str, file_at: usize) {
        if !piece.is_empty() {
            self.segments.push((self.value.len(), file_at));
            self.value.push_str(piece);
        }
    }
}

/// The quoted scalar opening at `open` (a `'` or `"`), read as YAML reads it: escapes
/// in `"`, `''` in `'`, and line folding in both (a line break between two lines
/// reads as a space, each empty line as a line feed, the whitespace around a break
/// dropped; in `"`, a `\` before the break joins the lines). `None` when the quote
/// does not close or an escape is not YAML's.
fn read_quoted(text: &str, open: usize, quote: char) -> Option<ScalarRead> {
    let mut read = ScalarRead::new();
    let mut position = open + 1;
    // Whitespace is held back until it is known not to end a line.
    let mut held_spaces: Option<usize> = None;
    loop {
        let character = text[position..].chars().next()?;
        let next = position + character.len_utf8();
        match character {
            ' ' | '\t' => {
                held_spaces.get_or_insert(position);
                position = next;
                continue;
            }
            '\n' | '\r' => {
                held_spaces = None;
                position = fold_line_break(text, position, &mut read);
                continue;
            }
            _ => {}
        }
        if let Some(spaces_at) = held_spaces.take() {
            read.push(&text[spaces_at..position], spaces_at);
        }
        if character == quote {
            if quote == '\'' && text[next..].starts_with('\'') {
                read.push("'", position);
                position = next + 1;
                continue;
            }
            read.end = next;
            return Some(read);
        }
        if quote == '"' && character == '\\' {
            let escaped = text[next..].chars().next()?;
            if escaped == '\n' || escaped == '\r' {
                position = skip_line_break_and_indent(text, next);
                continue;
            }
            let (decoded, length) = yaml_escape(&text[next..])?;
            read.push(decoded.encode_utf8(&mut [0; 4]), position);
            position = next + length;
            continue;
        }
        read.push(&text[position..next], position);
        position = next;
    }
}

/// Reads the line break at `at` and the empty lines after it as YAML folds them into
/// a flow scalar; returns where the next line's content starts.
fn fold_line_break(text: &str, at: usize, read: &mut ScalarRead) -> usize {
    let mut position = skip_line_break_and_indent(text, at);
    let mut empty_lines = 0;
    while matches!(text[position..].chars().next(), Some('\n' | '\r')) {
        empty_lines += 1;
        position = skip_line_break_and_indent(text, position);
    }
    if empty_lines == 0 {
        read.push(" ", at);
    } else {
        read.push(&"\n".repeat(empty_lines), at);
    }
    position
}

/// Past the line break at `at` (`\n` or `\r\n`) and the next line's indentation.
fn skip_line_break_and_indent(text: &str, at: usize) -> usize {
    let after_break = if text[at..].starts_with("\r\n") {
        at + 2
    } else {
        at + 1
    };
    let indent = text[after_break..]
        .bytes()
        .take_while(|byte| *byte == b' ' || *byte == b'\t')
        .count();
    after_break + indent
}

/// The character a YAML double-quoted escape stands for (`rest` follows the
/// backslash) and the escape's length after the backslash.
fn yaml_escape(rest: &str) -> Option<(char, usize)> {
    let letter = rest.chars().next()?;
    let simple = match letter {
        '0' => '\0',
        'a' => '\u{7}',
        'b' => '\u{8}',
        't' | '\t' => '\t',
        'n' => '\n',
        'v' => '\u{b}',
        'f' => '\u{c}',
        'r' => '\r',
        'e' => '\u{1b}',
        ' ' => ' ',
        '"' => '"',
        '/' => '/',
        '\\' => '\\',
        'N' => '\u{85}',
        '_' => '\u{a0}',
        'L' => '\u{2028}',
        'P' => '\u{2029}',
        'x' | 'u' | 'U' => {
            let digits = match letter {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let hex = rest.get(1..1 + digits)?;
            let code = u32::from_str_radix(hex, 16).ok()?;
            return Some((char::from_u32(code)?, 1 + digits));
        }
        _ => return None,
    };
    Some((simple, letter.len_utf8()))
}

/// The plain scalar starting at `value_start` on line `line_index`, whose key sits at
/// `key_column`: its first line and the lines after it indented past the key, folded
/// as YAML folds them, up to a comment (` #`) or a line starting one.
fn read_plain(
    text: &str,
    all: &[Line<'_>],
    line_index: usize,
    key_column: usize,
    value_start: usize,
) -> ScalarRead {
    let mut read = ScalarRead::new();
    read.end = value_start;
    let Some(first_line) = all.get(line_index) else {
        return read;
    };
    let first_content = &text[value_start..first_line.start + first_line.text.len()];
    let (first_content, mut ended) = plain_line_content(first_content);
    read.push(first_content, value_start);
    read.end = value_start + first_content.len();
    let mut empty_lines = 0;
    for line in all.iter().skip(line_index + 1) {
        if ended {
            break;
        }
        let trimmed = line.text.trim_start();
        if trimmed.is_empty() {
            empty_lines += 1;
            continue;
        }
        let indent = line.text.len() - trimmed.len();
        if indent <= key_column || trimmed.starts_with('#') {
            break;
        }
        let (content, comment) = plain_line_content(trimmed);
        ended = comment;
        let content_at = line.start + indent;
        if !read.value.is_empty() {
            let fold = if empty_lines == 0 {
                " ".to_string()
            } else {
                "\n".repeat(empty_lines)
            };
            read.push(&fold, content_at);
        }
        read.push(content, content_at);
        read.end = content_at + content.len();
        empty_lines = 0;
    }
    read
}

/// A plain scalar's content on one line (trailing whitespace and a comment dropped),
/// and whether a comment ended the scalar there.
fn plain_line_content(line: &str) -> (&str, bool) {
    let comment = line
        .char_indices()
        .find(|&(index, character)| {
            character == '#' && (index == 0 || line[..index].ends_with([' ', '\t']))
        })
        .map(|(index, _)| index);
    match comment {
        Some(index) => (line[..index].trim_end(), true),
        None => (line.trim_end(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_block_maps_each_line() {
        let text = "- record: a:b:c\n  expr: |\n    sum(x)\n      / 2\n";
        let all = lines(text);
        let rule = find_rule(text, &all, 0, "record", "a:b:c").expect("rule is there");
        let (line, _, value) = find_key(&all, &rule, "expr").expect("expr is there");
        let map = map_expr(text, &all, line, rule.key_column, value, "sum(x)\n  / 2\n");
        assert!(map.exact);
        let slash = "sum(x)\n  ".len();
        assert_eq!(
            &text[map.file_offset(slash)..map.file_offset(slash) + 1],
            "/"
        );
    }

    /// The file offset of every byte of `expr` read from the value of `key` in the
    /// only rule of `text`, named `name`; `None` when the mapping is approximate.
    fn mapped(text: &str, key: &str, name: &str, expr: &str) -> Option<Vec<usize>> {
        let all = lines(text);
        let rule = find_rule(text, &all, 0, "alert", name).expect("rule is there");
        let (line, _, value) = find_key(&all, &rule, key).expect("key is there");
        let map = map_expr(text, &all, line, rule.key_column, value, expr);
        map.exact
            .then(|| (0..expr.len()).map(|i| map.file_offset(i)).collect())
    }

    #[test]
    fn escaped_quoted_string_maps_each_character() {
        let text = "- alert: A\n  expr: \"up{job=\\\"a\\u00e9\\\"} == 0\"\n";
        let expr = "up{job=\"aé\"} == 0";
        let offsets = mapped(text, "expr", "A", expr).expect("exact");
        let quote = expr.find('"').expect("a quote");
        assert_eq!(&text[offsets[quote]..offsets[quote] + 2], "\\\"");
        let equals = expr.find("==").expect("==");
        assert_eq!(&text[offsets[equals]..offsets[equals] + 2], "==");
    }

    #[test]
    fn folded_quoted_and_plain_scalars_map_each_line() {
        let quoted = "- alert: A\n  expr: \"sum(x) \n\n    / 2 \\\n    + 1\"\n";
        let offsets = mapped(quoted, "expr", "A", "sum(x)\n/ 2 + 1").expect("exact");
        assert_eq!(&quoted[offsets[7]..offsets[7] + 1], "/");
        assert_eq!(&quoted[offsets[11]..offsets[11] + 1], "+");
        let plain = "- alert: A\n  expr: sum(x)\n    / 2 # half\n  for: 5m\n";
        let offsets = mapped(plain, "expr", "A", "sum(x) / 2").expect("exact");
        assert_eq!(&plain[offsets[7]..offsets[7] + 1], "/");
        assert_eq!(mapped(plain, "expr", "A", "sum(x)"), None);
    }

    #[test]
    fn rules_are_found_by_their_name_as_yaml_reads_it() {
        for (text, name, written) in [
            ("- alert: \"A\\\"B\"\n  expr: up\n", "A\"B", "\"A\\\"B\""),
            ("- alert: 'It''s'\n  expr: up\n", "It's", "'It''s'"),
            (
                "- alert: \"\\x41\\tB\" # c\n  expr: up\n",
                "A\tB",
                "\"\\x41\\tB\"",
            ),
            ("- alert: A # c\n  expr: up\n", "A", "A"),
            (
                "- alert: >-\n    Folded\n    name\n  expr: up\n",
                "Folded name",
                ">-",
            ),
        ] {
            let all = lines(text);
            let rule = find_rule(text, &all, 0, "alert", name).expect(text);
            assert_eq!(&text[rule.name.0..rule.name.1], written, "{text}");
        }
        let text = "- alert: \"AB\"\n  expr: up\n- alert: A\n  expr: up\n";
        let all = lines(text);
        let rule = find_rule(text, &all, 0, "alert", "A").expect("the second rule");
        assert_eq!(rule.name_line, 2);
    }
}
