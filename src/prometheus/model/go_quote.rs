//! Go's `strconv.Quote` and `strconv.IsPrint`: how Go tools quote text in their
//! messages (`%q`), and so how mlslo must quote it to print the same message.
//!
//! Invariants: the output is valid UTF-8 and always reads back with Go's
//! `strconv.Unquote`. `is_print` approximates Go's table: exact for ASCII; elsewhere
//! it rejects controls, spaces other than U+0020, format characters and the private
//! use area, but accepts unassigned code points, which Go rejects.

use std::fmt::Write as _;

/// Go's `strconv.Quote(text)`: `"a\"b\n"`.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    write_quoted(&mut out, text);
    out
}

/// [`quote`] appended to `out`.
pub fn write_quoted(out: &mut String, text: &str) {
    out.push('"');
    for character in text.chars() {
        push_escaped(out, character, '"');
    }
    out.push('"');
}

/// Go's `strconv.QuoteRune(character)`: `'x'`, `'\n'`, `'\''`.
pub fn quote_rune(character: char) -> String {
    let mut out = String::from("'");
    push_escaped(&mut out, character, '\'');
    out.push('\'');
    out
}

/// Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and the
/// ASCII space.
pub fn is_print(character: char) -> bool {
    if character == ' ' {
        return true;
    }
    if character.is_control() || character.is_whitespace() {
        return false;
    }
    !matches!(
        character as u32,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E
            | 0x2060..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0xE000..=0xF8FF | 0xFFFE | 0xFFFF
    )
}

fn push_escaped(out: &mut String, character: char, quote: char) {
    if character == quote || character == '\\' {
        out.push('\\');
        out.push(character);
        return;
    }
    if is_print(character) {
        out.push(character);
        return;
    }
    // Writing to a String cannot fail.
    let _ = match character {
        '\u{7}' => out.write_str("\\a"),
        '\u{8}' => out.write_str("\\b"),
        '\u{c}' => out.write_str("\\f"),
        '\n' => out.write_str("\\n"),
        '\r' => out.write_str("\\r"),
        '\t' => out.write_str("\\t"),
        '\u{b}' => out.write_str("\\v"),
        c if (c as u32) < 0x80 => write!(out, "\\x{:02x}", c as u32),
        c if (c as u32) < 0x10000 => write!(out, "\\u{:04x}", c as u32),
        c => write!(out, "\\U{:08x}", c as u32),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_go_strconv() {
        assert_eq!(quote("plain"), r#""plain""#);
        assert_eq!(quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote("1\u{1}\n\t\u{7f}"), r#""1\x01\n\t\x7f""#);
        assert_eq!(quote("é ü"), "\"é ü\"");
        assert_eq!(quote("\u{200b}\u{a0}\u{e000}"), r#""\u200b\u00a0\ue000""#);
        assert_eq!(quote_rune('\''), r"'\''");
        assert_eq!(quote_rune('"'), "'\"'");
    }
}
