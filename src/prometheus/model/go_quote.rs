//! Go's `strconv.Quote`, `strconv.Unquote` and `strconv.IsPrint`: how Go tools quote
//! text in their messages (`%q`), so that mlslo prints the same message, and how they
//! read a quoted literal (template strings, Alertmanager's UTF-8 matchers).
//!
//! Invariants: quoting gives valid UTF-8 that always reads back with Go's
//! `strconv.Unquote`; unquoting accepts exactly what `strconv.Unquote` accepts, and
//! where Go's result holds bytes that are not UTF-8 (`\xff`, `\377`) each such byte
//! becomes U+FFFD, as Rust strings must. `is_print` approximates Go's table: exact for ASCII; elsewhere
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

/// Go's `strconv.Unquote` for a `"..."` or `` `...` `` literal; `None` where Go reports
/// a syntax error.
pub fn unquote(quoted: &str) -> Option<String> {
    if quoted.len() >= 2 && quoted.starts_with('`') && quoted.ends_with('`') {
        let body = &quoted[1..quoted.len() - 1];
        // Go drops carriage returns from raw strings; a back quote cannot occur inside.
        return (!body.contains('`')).then(|| body.replace('\r', ""));
    }
    let body = quoted.strip_prefix('"')?.strip_suffix('"')?;
    let mut bytes = Vec::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(character) = chars.next() {
        match character {
            '"' | '\n' => return None,
            '\\' => unquote_escape(&mut chars, '"', &mut bytes)?,
            other => push_utf8(&mut bytes, other),
        }
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// One escape of Go's `strconv.UnquoteChar`, after its backslash, appended to `bytes`
/// as Go appends it: `\x` and octal escapes are single bytes, `\u` and `\U` code
/// points. `quote` is the literal's quote character, the one other escapable one.
pub fn unquote_escape(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    quote: char,
    bytes: &mut Vec<u8>,
) -> Option<()> {
    let escape = chars.next()?;
    match escape {
        'a' => bytes.push(7),
        'b' => bytes.push(8),
        'f' => bytes.push(12),
        'n' => bytes.push(b'\n'),
        'r' => bytes.push(b'\r'),
        't' => bytes.push(b'\t'),
        'v' => bytes.push(11),
        '\\' => bytes.push(b'\\'),
        character if character == quote => push_utf8(bytes, character),
        'x' | 'u' | 'U' => {
            let digits = match escape {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let mut value: u32 = 0;
            for _ in 0..digits {
                value = value * 16 + chars.next()?.to_digit(16)?;
            }
            if escape == 'x' {
                bytes.push(value as u8);
            } else {
                // Go refuses surrogates and values above U+10FFFF, as `from_u32` does.
                push_utf8(bytes, char::from_u32(value)?);
            }
        }
        '0'..='7' => {
            let mut value = escape.to_digit(8)?;
            for _ in 0..2 {
                value = value * 8 + chars.next()?.to_digit(8)?;
            }
            bytes.push(u8::try_from(value).ok()?);
        }
        _ => return None,
    }
    Some(())
}

fn push_utf8(bytes: &mut Vec<u8>, character: char) {
    let mut buffer = [0u8; 4];
    bytes.extend_from_slice(character.encode_utf8(&mut buffer).as_bytes());
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

    #[test]
    fn unquotes_like_go_strconv() {
        // Cases of Go's strconv/quote_test.go (unquotetests and misquoted).
        let cases: [(&str, Option<&str>); 18] = [
            (r#""""#, Some("")),
            (r#""a""#, Some("a")),
            (
                r#""\a\b\f\n\r\t\v\\\"""#,
                Some("\u{7}\u{8}\u{c}\n\r\t\u{b}\\\""),
            ),
            (r#""\x41\101\u00e9\U0001F600""#, Some("AAé😀")),
            (r#""\377""#, Some("\u{fffd}")),
            (r#""\xff""#, Some("\u{fffd}")),
            ("`a\\nb\r`", Some("a\\nb")),
            (r#""\'""#, None),
            (r#""\q""#, None),
            (r#""\400""#, None),
            (r#""\ud800""#, None),
            (r#""\U00110000""#, None),
            (r#""\x4""#, None),
            ("\"a\nb\"", None),
            (r#""a"b""#, None),
            (r#""abc"#, None),
            ("`a`b`", None),
            ("'a'", None),
        ];
        for (quoted, expected) in cases {
            assert_eq!(unquote(quoted).as_deref(), expected, "{quoted}");
        }
    }

    #[test]
    fn every_quoted_text_unquotes_to_itself() {
        for text in [
            "",
            "plain",
            "a\"b\\c",
            "tab\there",
            "\u{7f}\u{200b}é😀",
            "\u{0}",
        ] {
            assert_eq!(unquote(&quote(text)).as_deref(), Some(text));
        }
    }
}
