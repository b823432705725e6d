//! A small, deterministic YAML writer over a tiny tree: ordered mappings,
//! sequences, strings and numbers. Written here rather than taken from a crate so
//! that the quoting rules are ours and visible in one function.
//!
//! Invariants: the output is a pure function of the tree (mapping keys keep the
//! order they were inserted in; callers insert sorted or fixed orders); a string is
//! written plain only when it is obviously safe in YAML 1.1 and 1.2 alike
//! ([`is_plain_safe`]), as a `|-` block scalar when it is multi-line text that a
//! block scalar keeps byte for byte ([`is_block_safe`]), and double-quoted with
//! escapes otherwise, so every string reads back as exactly the same string.

use std::borrow::Cow;
use std::fmt::Write as _;

/// One node of the tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// Keys in the order they should be written.
    /// Keys are mostly fixed words (`record`, `expr`): borrowed, not allocated.
    Map(Vec<(Cow<'static, str>, Node)>),
    Seq(Vec<Node>),
    /// A string, written plain, block or double-quoted by [`write_scalar`].
    Str(String),
    /// A string that should be a `|-` block scalar whenever that is safe (PromQL).
    Text(String),
    /// A number already in canonical text (digits, optional `-` and `.`).
    Number(String),
}

impl Node {
    pub fn str(text: impl Into<String>) -> Node {
        Node::Str(text.into())
    }

    /// A mapping from pairs with owned keys, in the given order.
    pub fn owned_map(pairs: Vec<(String, Node)>) -> Node {
        Node::Map(
            pairs
                .into_iter()
                .map(|(key, value)| (Cow::Owned(key), value))
                .collect(),
        )
    }

    /// A mapping from pairs, in the given order.
    pub fn map<K: Into<Cow<'static, str>>>(pairs: impl IntoIterator<Item = (K, Node)>) -> Node {
        Node::Map(
            pairs
                .into_iter()
                .map(|(key, value)| (key.into(), value))
                .collect(),
        )
    }

    /// A mapping of strings, in the map's (sorted) order.
    pub fn string_map<'a>(pairs: impl IntoIterator<Item = (&'a String, &'a String)>) -> Node {
        Node::Map(
            pairs
                .into_iter()
                .map(|(key, value)| (Cow::Owned(key.clone()), Node::Str(value.clone())))
                .collect(),
        )
    }
}

/// The document text: `header` lines as `# ` comments, then the tree.
pub fn to_string(header: &[String], root: &Node) -> String {
    let mut out = comment_lines(header);
    write_node(&mut out, root, 0, Context::Document);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// `header` as `# ` comment lines. Header lines come from file names; a line break
/// inside one starts a new comment line, so no header text can end the comment.
pub fn comment_lines(header: &[String]) -> String {
    let mut out = String::new();
    for line in header {
        for part in line.split(['\n', '\r']) {
            out.push_str("# ");
            out.push_str(part);
            out.push('\n');
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq)]
enum Context {
    Document,
    /// After `key:` (a nested block starts on the next line).
    MapValue,
    /// After `- ` (a mapping continues on the same line).
    SeqItem,
}

fn write_node(out: &mut String, node: &Node, indent: usize, context: Context) {
    match node {
        Node::Map(pairs) if pairs.is_empty() => {
            inline_prefix(out, context);
            out.push_str("{}\n");
        }
        Node::Seq(items) if items.is_empty() => {
            inline_prefix(out, context);
            out.push_str("[]\n");
        }
        Node::Map(pairs) => {
            if context == Context::MapValue {
                out.push('\n');
            }
            for (index, (key, value)) in pairs.iter().enumerate() {
                // The first key of a sequence item sits on the `- ` line.
                if !(context == Context::SeqItem && index == 0) {
                    push_indent(out, indent);
                }
                write_scalar(out, key, false, indent);
                out.push(':');
                write_node(out, value, indent + 2, Context::MapValue);
            }
        }
        Node::Seq(items) => {
            if context == Context::MapValue {
                out.push('\n');
            }
            // Sequences inside a mapping sit at the key's indentation (kubectl style).
            let item_indent = if context == Context::MapValue {
                indent - 2
            } else {
                indent
            };
            for item in items {
                push_indent(out, item_indent);
                out.push('-');
                match item {
                    Node::Map(pairs) if !pairs.is_empty() => {
                        out.push(' ');
                        write_node(out, item, item_indent + 2, Context::SeqItem);
                    }
                    Node::Seq(inner) if !inner.is_empty() => {
                        out.push('\n');
                        write_node(out, item, item_indent + 2, Context::Document);
                    }
                    _ => write_node(out, item, item_indent + 2, Context::MapValue),
                }
            }
        }
        Node::Str(text) => {
            inline_prefix(out, context);
            write_scalar(out, text, false, indent);
            out.push('\n');
        }
        Node::Text(text) => {
            inline_prefix(out, context);
            write_scalar(out, text, true, indent);
            out.push('\n');
        }
        Node::Number(text) => {
            inline_prefix(out, context);
            out.push_str(text);
            out.push('\n');
        }
    }
}

/// Block YAML written straight into text, for the per-service rule and test files:
/// the same layout and quoting as [`to_string`] of the equivalent [`Node`] tree,
/// without building the tree (building and freeing those trees was about a fifth
/// of a build). `indent` is always the column of the mapping's keys; a value's
/// block scalar lines sit two columns further in, as [`write_node`] puts them.
pub mod direct {
    use super::{push_indent, write_scalar};

    /// `key:` of a mapping whose keys sit at `indent`. The first key of a mapping
    /// that is a sequence item follows the item's `- ` (at `indent - 2`).
    pub fn key(out: &mut String, indent: usize, key: &str, starts_item: bool) {
        if starts_item {
            push_indent(out, indent.saturating_sub(2));
            out.push_str("- ");
        } else {
            push_indent(out, indent);
        }
        write_scalar(out, key, false, indent);
        out.push(':');
    }

    /// A string after `key:` at `indent`.
    pub fn str_value(out: &mut String, indent: usize, text: &str) {
        out.push(' ');
        write_scalar(out, text, false, indent + 2);
        out.push('\n');
    }

    /// A string after `key:` at `indent`, as a `|-` block whenever that is safe.
    pub fn text_value(out: &mut String, indent: usize, text: &str) {
        out.push(' ');
        write_scalar(out, text, true, indent + 2);
        out.push('\n');
    }

    /// After `key:`, the start of a non-empty nested mapping or sequence, or `[]`
    /// for an empty sequence; returns whether items follow.
    pub fn seq_value(out: &mut String, is_empty: bool) -> bool {
        out.push_str(if is_empty { " []\n" } else { "\n" });
        !is_empty
    }

    /// After `key:`, the start of a non-empty nested mapping, or `{}`; returns
    /// whether entries follow.
    pub fn map_value(out: &mut String, is_empty: bool) -> bool {
        out.push_str(if is_empty { " {}\n" } else { "\n" });
        !is_empty
    }

    /// A mapping of strings after `key:` at `indent`, in the given order.
    pub fn string_map_value<'a, K, V>(
        out: &mut String,
        indent: usize,
        pairs: impl ExactSizeIterator<Item = (K, V)>,
    ) where
        K: AsRef<str> + 'a,
        V: AsRef<str> + 'a,
    {
        if map_value(out, pairs.len() == 0) {
            for (name, value) in pairs {
                key(out, indent + 2, name.as_ref(), false);
                str_value(out, indent + 2, value.as_ref());
            }
        }
    }

    /// One string item of a sequence that is the value of a key at `indent`.
    pub fn str_item(out: &mut String, indent: usize, text: &str) {
        push_indent(out, indent);
        out.push('-');
        str_value(out, indent, text);
    }
}

fn inline_prefix(out: &mut String, context: Context) {
    if context == Context::MapValue {
        out.push(' ');
    }
}

fn push_indent(out: &mut String, indent: usize) {
    for _ in 0..indent {
        out.push(' ');
    }
}

/// Writes one string: plain, block (multi-line, or `prefer_block`) or double-quoted.
fn write_scalar(out: &mut String, text: &str, prefer_block: bool, indent: usize) {
    if (prefer_block || text.contains('\n')) && is_block_safe(text) {
        out.push_str("|-");
        for line in text.split('\n') {
            out.push('\n');
            if !line.is_empty() {
                push_indent(out, indent);
                out.push_str(line);
            }
        }
    } else if is_plain_safe(text) {
        out.push_str(text);
    } else {
        push_double_quoted(out, text);
    }
}

/// True when `text` can be written as a plain scalar and read back as the same
/// string by YAML 1.1 and 1.2 parsers: printable ASCII from a conservative set,
/// no indicator at the start, no `: ` or ` #`, no `{{`, and nothing a parser would
/// resolve to a boolean, null or number (`yes`, `on`, `~`, `=`, `1e3`, `0x1f`,
/// `.inf`, `2024-01-01`, ...).
/// The bytes a plain scalar may hold: ASCII letters and digits and a few punctuation
/// marks; a table because every scalar of every generated file goes through it.
const PLAIN_SAFE_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = (byte as u8).is_ascii_alphanumeric();
        byte += 1;
    }
    let punctuation = b" _./-()+*,<>=:$'";
    let mut index = 0;
    while index < punctuation.len() {
        table[punctuation[index] as usize] = true;
        index += 1;
    }
    table
};

pub fn is_plain_safe(text: &str) -> bool {
    let bytes = text.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if first.is_ascii_whitespace() || last.is_ascii_whitespace() || *last == b':' {
        return false;
    }
    // One pass for the allowed bytes and the pairs that would start a mapping value
    // or a template (`: `, `{{`): this runs for every scalar of every output file.
    let mut previous = 0u8;
    for &byte in bytes {
        if !PLAIN_SAFE_BYTES[usize::from(byte)]
            || (previous == b':' && byte == b' ')
            || (previous == b'{' && byte == b'{')
        {
            return false;
        }
        previous = byte;
    }
    // Only ASCII is left, so the first byte is the first character.
    let first = char::from(text.as_bytes()[0]);
    if !(first.is_ascii_alphanumeric() || first == '_' || first == '/' || first == '(') {
        return false;
    }
    const SPECIAL: [&str; 13] = [
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "=", "<<", "nan",
    ];
    if text.len() <= 5
        && SPECIAL
            .iter()
            .any(|special| special.eq_ignore_ascii_case(text))
    {
        return false;
    }
    // Anything starting like a number is quoted unless it has a letter that no
    // YAML number, date or time can contain (`5m`, `1h30m` stay plain).
    if first.is_ascii_digit() {
        let radix_prefix = text.get(..2).map(str::to_ascii_lowercase);
        if matches!(radix_prefix.as_deref(), Some("0x" | "0o" | "0b")) {
            return false;
        }
        let only_number_letters = text
            .bytes()
            .filter(u8::is_ascii_alphabetic)
            .all(|letter| matches!(letter.to_ascii_lowercase(), b'e' | b't' | b'z'));
        if only_number_letters {
            return false;
        }
    }
    true
}

/// True when a `|-` literal block keeps `text` byte for byte: no control
/// characters but newlines, no `\r`, no trailing newline (the `-` chomping drops
/// it), no line with trailing spaces or starting with a tab, a first line that
/// does not start with a space (it would set the indentation), and not empty.
pub fn is_block_safe(text: &str) -> bool {
    if !text.is_ascii() {
        return is_block_safe_unicode(text);
    }
    // ASCII: every control but `\n` is refused (tabs and `\r` included), so the only
    // whitespace left to look for is a space at the start or the end of a line.
    let bytes = text.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if first == b' ' || last == b' ' || last == b'\n' {
        return false;
    }
    let mut previous = 0u8;
    for &byte in bytes {
        let control = (byte < 0x20 && byte != b'\n') || byte == 0x7f;
        if control || (byte == b'\n' && previous == b' ') {
            return false;
        }
        previous = byte;
    }
    true
}

/// [`is_block_safe`] for text with non-ASCII characters, whose whitespace is Unicode's.
fn is_block_safe_unicode(text: &str) -> bool {
    !text.is_empty()
        && !text.ends_with('\n')
        && text
            .chars()
            .all(|character| character == '\n' || !needs_escape(character))
        && !text.starts_with([' ', '\t'])
        && text
            .split('\n')
            .all(|line| line.trim_end() == line && !line.starts_with('\t'))
}

/// Appends `text` as a YAML double-quoted scalar: `\`, `"` and every non-printable
/// character escaped; runs of other characters are copied whole.
fn push_double_quoted(out: &mut String, text: &str) {
    out.reserve(text.len() + 2);
    out.push('"');
    let mut unwritten = 0;
    for (index, character) in text.char_indices() {
        if !matches!(character, '\\' | '"') && !needs_escape(character) {
            continue;
        }
        out.push_str(&text[unwritten..index]);
        unwritten = index + character.len_utf8();
        match character {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            other => {
                let code = u32::from(other);
                if code <= 0xff {
                    let _ = write!(out, "\\x{code:02x}");
                } else {
                    let _ = write!(out, "\\u{code:04x}");
                }
            }
        }
    }
    out.push_str(&text[unwritten..]);
    out.push('"');
}

/// A YAML double-quoted scalar (see [`push_double_quoted`]).
pub fn double_quoted(text: &str) -> String {
    let mut quoted = String::new();
    push_double_quoted(&mut quoted, text);
    quoted
}

/// Characters YAML does not allow raw in a scalar (or that parsers treat as
/// line breaks or byte-order marks).
pub(crate) fn needs_escape(character: char) -> bool {
    character.is_control()
        || matches!(character, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{85}')
        || character == '\u{fffe}'
        || character == '\u{ffff}'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn risky_scalars_are_quoted() {
        for risky in [
            "=",
            "on",
            "yes",
            "no",
            "null",
            "~",
            "true",
            "1",
            "0.001",
            "1e3",
            "0x1f",
            ".inf",
            "2024-01-01",
            " x",
            "x ",
            "a: b",
            "a #b",
            "{x}",
            "[x]",
            "*x",
            "&x",
            "!x",
            "%x",
            "@x",
            "`x",
            "{{ x }}",
            "a\nb\r",
            "tab\t",
            "",
            "#x",
            "x:",
            "-x",
            "'x",
            "\"x",
        ] {
            assert!(!is_plain_safe(risky), "{risky:?} should be quoted");
        }
        for safe in [
            "5m",
            "1h30m",
            "page",
            "fraud-detector",
            "slo:sli_error:ratio_rate5m",
        ] {
            assert!(is_plain_safe(safe), "{safe:?} should be plain");
        }
    }

    #[test]
    fn ascii_block_check_agrees_with_the_unicode_one() {
        let pieces = [
            "a", " ", "\n", "\t", "\r", "x y", "\u{7f}", "\u{1}", "", "b ",
        ];
        let mut texts = vec![String::new()];
        for _ in 0..4 {
            texts = texts
                .iter()
                .flat_map(|text| pieces.iter().map(move |piece| format!("{text}{piece}")))
                .collect();
            for text in &texts {
                assert_eq!(is_block_safe(text), is_block_safe_unicode(text), "{text:?}");
            }
        }
    }

    #[test]
    fn double_quoting_escapes_and_reads_back() {
        for text in [
            "",
            "plain",
            "a\"b\\c",
            "line\nnext\r\t",
            "\u{1}\u{7f}\u{85}é\u{2028}x",
            "{{ x }}",
        ] {
            let quoted = double_quoted(text);
            let read: String = yaml_serde::from_str(&quoted).unwrap();
            assert_eq!(read, text);
        }
        assert_eq!(double_quoted("a\"\u{1}\u{2028}"), "\"a\\\"\\x01\\u2028\"");
    }

    #[test]
    fn writes_block_and_nested_structures() {
        let tree = Node::map([(
            "groups",
            Node::Seq(vec![Node::map([
                ("name", Node::str("a/b")),
                (
                    "rules",
                    Node::Seq(vec![Node::map([
                        ("expr", Node::Text("x\n/\ny".into())),
                        ("labels", Node::map([("v", Node::str("on"))])),
                        ("empty", Node::Map(vec![])),
                    ])]),
                ),
            ])]),
        )]);
        assert_eq!(
            to_string(&["h".into()], &tree),
            "# h\ngroups:\n- name: a/b\n  rules:\n  - expr: |-\n      x\n      /\n      y\n    labels:\n      v: \"on\"\n    empty: {}\n"
        );
    }
}
