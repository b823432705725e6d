//! Parser edge cases, one line each through [`check`]: the expected text is the
//! canonical print of the AST, or `CODE message @line:col: label` for an error.

use super::{parse, print};
use crate::base::diagnostic::Span;

/// A compact summary of parsing `source`: the canonical print on success (so
/// value kinds show: `99.5%`, `1h30m`, `"text"`), or the error's code, message,
/// position and primary label.
fn summary(source: &str) -> String {
    match parse(source, 0) {
        Ok(file) => print(&file).trim_end().to_string(),
        Err(diagnostic) => {
            let start = diagnostic.primary.span.start as usize;
            let prefix = source.get(..start).unwrap_or(source);
            let line = prefix.matches('\n').count() + 1;
            let column = prefix
                .rsplit('\n')
                .next()
                .map_or(0, |text| text.chars().count())
                + 1;
            let mut text = format!(
                "{} {} @{line}:{column}: {}",
                diagnostic.code, diagnostic.message, diagnostic.primary.message
            );
            for help in &diagnostic.help {
                text.push_str(&format!(" | help: {help}"));
            }
            text
        }
    }
}

#[track_caller]
fn check(source: &str, expect: &str) {
    let actual = summary(source);
    assert_eq!(actual, expect, "\nsource: {source:?}\nactual: {actual}\n");
}

#[test]
fn language_example_parses() {
    let file = parse(LANGUAGE_EXAMPLE, 0).expect("the agreed example is valid syntax");
    assert_eq!(file.items.len(), 2);
    let again = parse(&print(&file), 0).expect("printed text parses");
    assert_eq!(print(&again), print(&file));
}

#[test]
fn layout_comments_separators_and_bom() {
    check("", "");
    check("\u{feff}a = 1", "a = 1");
    check("a = 1\r\nb = 2\r\n", "a = 1\nb = 2");
    check("a\t=\t1", "a = 1");
    check(
        "// c\n# c\na = 1 // trailing\nb = 2 # trailing",
        "a = 1\nb = 2",
    );
    check("a = 1, b = 2; c = 3", "a = 1\nb = 2\nc = 3");
    check(
        "a = 1,, b = 2",
        "E0101 expected a field or block name @1:7: found `,` here | help: remove the extra `,`",
    );
}

#[test]
fn strings_and_escapes() {
    check(
        r#"x = "a\"b\\c\nd\re\tf\u{1F600}""#,
        r#"x = "a\"b\\c\nd\re\tf😀""#,
    );
    check(r#"x = 'raw \n "q"'"#, r#"x = "raw \\n \"q\"""#);
    check(
        r#"x = "a\qb""#,
        r#"E0105 invalid escape in string @1:7: `\q` is not an escape | help: the escapes are \" \\ \n \r \t and \u{1F600}; for text with many backslashes use a raw string in single quotes: 'a\b'"#,
    );
    check(
        r#"x = "\u{D800}""#,
        r#"E0105 invalid escape in string @1:6: not a Unicode scalar value (surrogates and values above 10FFFF are not characters) | help: the escapes are \" \\ \n \r \t and \u{1F600}; for text with many backslashes use a raw string in single quotes: 'a\b'"#,
    );
    check(
        r#"x = "\u{}""#,
        r#"E0105 invalid escape in string @1:6: a `\u{...}` escape takes 1 to 6 hex digits | help: the escapes are \" \\ \n \r \t and \u{1F600}; for text with many backslashes use a raw string in single quotes: 'a\b'"#,
    );
    check(
        r#"x = "\u{1234567}""#,
        r#"E0105 invalid escape in string @1:6: a `\u{...}` escape takes 1 to 6 hex digits | help: the escapes are \" \\ \n \r \t and \u{1F600}; for text with many backslashes use a raw string in single quotes: 'a\b'"#,
    );
    check(
        r#"x = "\u1234""#,
        r#"E0105 invalid escape in string @1:6: `\u` must be followed by hex digits in braces, as in `\u{1F600}` | help: the escapes are \" \\ \n \r \t and \u{1F600}; for text with many backslashes use a raw string in single quotes: 'a\b'"#,
    );
    check(
        r#"x = "\u{12""#,
        r#"E0105 invalid escape in string @1:6: `\u{` must be closed by `}` after 1 to 6 hex digits | help: the escapes are \" \\ \n \r \t and \u{1F600}; for text with many backslashes use a raw string in single quotes: 'a\b'"#,
    );
    check(r#"x = "abc"#, "E0102 unterminated string @1:5: this string is never closed | help: close the string with a matching quote");
    check(
        r#"x = "abc
y = 1"#,
        r#"E0102 unterminated string @1:5: this string is never closed | help: close the string with a matching quote on the same line; write a newline inside a "..." string as `\n`"#,
    );
    check("x = 'abc", "E0102 unterminated string @1:5: this string is never closed | help: close the string with a matching quote");
    check(r#"x = "abc\"#, "E0102 unterminated string @1:5: this string is never closed | help: close the string with a matching quote");
}

#[test]
fn numbers_must_be_finite_and_nan_inf_are_selectors() {
    check("x = 1e400", "E0106 number out of range @1:5: this number is too large for a 64-bit float | help: numbers must be finite, with a magnitude below about 1.8e308");
    check("x = -1e400", "E0106 number out of range @1:5: this number is too large for a 64-bit float | help: numbers must be finite, with a magnitude below about 1.8e308");
    check("x = 1e-400", "x = 1e-400");
    check("x = NaN", "x = NaN");
    check("x = Inf", "x = Inf");
    check("x = -Inf", "E0101 expected a value @1:5: found `-` here | help: a minus sign must be followed by digits, as in `-0.5`");
}

#[test]
fn durations_are_exact_whole_units() {
    check("x = 1.5h", "E0108 duration with a fractional number @1:5: a duration takes a whole number of each unit, not `1.5h` | help: write `90m`");
    check("x = 0.1s", "E0108 duration with a fractional number @1:5: a duration takes a whole number of each unit, not `0.1s` | help: write `100ms`");
    check("x = 0.0001s", "E0108 duration with a fractional number @1:5: a duration takes a whole number of each unit, not `0.0001s` | help: durations have millisecond precision; write a whole number of a smaller unit");
    check("x = 1e3s", "E0108 duration with a fractional number @1:5: a duration takes a whole number of each unit, not `1e3s` | help: write `1000s`");
    check(
        "x = -5m",
        "E0108 negative duration @1:5: durations cannot be negative | help: remove the `-`",
    );
    check("x = 1h30m", "x = 1h30m");
    check("x = 30m1h", "E0108 duration units out of order @1:9: `h` cannot follow `m` | help: write the units from largest to smallest, each at most once, as in `1h30m`");
    check("x = 1h1h", "E0108 duration units out of order @1:8: `h` appears twice | help: write the units from largest to smallest, each at most once, as in `1h30m`");
    check("x = 5m3", "E0108 duration without a unit @1:7: this number has no unit | help: add a unit right after the number, as in `3m` or `3s` (units: ms s m h d w y)");
    check("x = 250ms", "x = 250ms");
    check("x = 9999999999999999999y", "E0108 duration out of range @1:5: this duration does not fit in 64-bit milliseconds | help: durations must be shorter than about 292 million years");
    check("x = 300000000y", "E0108 duration out of range @1:5: this duration does not fit in 64-bit milliseconds | help: durations must be shorter than about 292 million years");
}

#[test]
fn unknown_units_get_did_you_mean() {
    check(
        "x = 5mins",
        "E0107 unknown unit `mins` @1:6: not a unit | help: did you mean `m`? write `5m`",
    );
    check("x = 5 mins", "E0107 unknown unit `mins` @1:7: not a unit | help: did you mean `m`? write `5m`, with no space");
    check("x = 5 m", "E0107 space between a number and its unit @1:7: this unit is separated from its number | help: write `5m` with no space");
    check("x = 5 minutes\ny = 2", "E0107 unknown unit `minutes` @1:7: not a unit | help: did you mean `m`? write `5m`, with no space");
    check("x = 5\nmins = 2", "x = 5\nmins = 2");
    check("x = 5 Gib", "E0107 unknown unit `Gib` @1:7: not a unit | help: did you mean `GiB`? write `5GiB`, with no space");
    check(
        "x = 5kb",
        "E0107 unknown unit `kb` @1:6: not a unit | help: did you mean `KB`? write `5KB`",
    );
    check("x = 100 per minute", "E0101 expected a duration such as `5m` after `per` @1:13: found `minute` here | help: write a number before the unit: `100 per 1m`");
}

#[test]
fn percent_bytes_and_per_window() {
    check("x = 10GiB", "x = 10GiB");
    check("x = 1.5MB", "x = 1.5MB");
    check("x = 99.5%", "x = 99.5%");
    check("x = 99.5 %", "E0101 expected the end of the value after `99.5` @1:10: found `%` here | help: write the percent sign right after the number: `99.5%`");
    check("x = 100 per 5m", "x = 100 per 5m");
    check("x = 100 per 5", "E0108 duration without a unit @1:13: this number has no unit | help: add a unit right after the number, as in `5m` or `5s` (units: ms s m h d w y)");
    check("x = 100 per 5 m", "E0107 space between a number and its unit @1:15: this unit is separated from its number | help: write `5m` with no space");
    check(
        "x = 100 per",
        "E0101 expected a duration such as `5m` after `per` @1:12: found end of file here",
    );
    check("objective: 99%", "E0101 expected `=` or `{` after `objective` @1:10: found `:` here | help: fields are written `objective = value`, with `=` rather than `:`");
}

#[test]
fn booleans_lists_and_selectors() {
    check("x = true", "x = true");
    check("x = false", "x = false");
    check("x = true_value", "x = true_value");
    check(r#"x = [a, "b", 1, 2s, [3]]"#, r#"x = [a, "b", 1, 2s, [3]]"#);
    check(r#"x = [a, "b",]"#, r#"x = [a, "b"]"#);
    check("x = []", "x = []");
    check(
        "x = [,]",
        "E0101 expected a value or `]` @1:6: found `,` here",
    );
    check(
        "x = [1 2]",
        "E0101 expected `,` or `]` @1:8: found `2` here | help: separate list elements with `,`",
    );
    check(
        "x = [1",
        "E0103 unclosed list @1:5: list opened here | help: add the missing `]`",
    );
    check(
        r#"x = http_requests_total{path="/p", status=~"5.."}"#,
        r#"x = http_requests_total{path="/p", status=~"5.."}"#,
    );
    check(r#"x = http_requests_total {path="/p"}"#, "E0101 expected the end of the value after `http_requests_total` @1:25: found `{` here | help: a selector's braces follow the metric name with no space: `http_requests_total{...}`");
    check(r#"x = m{a="}"}"#, r#"x = m{a="}"}"#);
    check(
        r#"x = m{a="b""#,
        "E0103 unclosed selector @1:6: selector opened here | help: add the missing `}`",
    );
    check(r#"x = m{a="b"#, "E0102 unterminated string @1:9: this string is never closed | help: close the string with a matching quote");
    check(
        r#"x = m{a="b"
}"#,
        "E0103 unclosed selector @1:6: selector opened here | help: add the missing `}`",
    );
    check(
        r#"x = {a="b"}"#,
        r#"E0101 expected a value @1:5: found `{` here | help: a selector needs a metric name before `{`, as in `http_requests_total{job="api"}`; a block is written `name { ... }` without `=`"#,
    );
}

#[test]
fn routes() {
    check(
        r#"route { a = "b", c != "d", e =~ "f", g !~ "h", } -> "r" continue"#,
        r#"route { a = "b", c != "d", e =~ "f", g !~ "h" } -> "r" continue"#,
    );
    check(r#"route {} -> ["a", "b",]"#, r#"route {} -> ["a", "b"]"#);
    check(
        r#"route { a = b } -> "r""#,
        r#"E0101 expected a quoted label value after `=` @1:13: found `b` here | help: quote it: `"b"`"#,
    );
    check(
        r#"route { a = "b" c = "d" } -> "r""#,
        "E0101 expected `,` or `}` @1:17: found `c` here | help: separate matchers with `,`",
    );
    check(
        r#"route { a "b" } -> "r""#,
        "E0101 expected `=`, `!=`, `=~` or `!~` after `a` @1:11: found a string here",
    );
    check(
        r#"route { a = "b" } "r""#,
        r#"E0101 expected `->` after `}` @1:19: found a string here | help: name the receivers after the matchers: `route { ... } -> "receiver"`"#,
    );
    check(
        r#"route { a = "b" } -> []"#,
        "E0101 expected a quoted receiver name @1:23: found `]` here",
    );
    check(
        r#"route { a = "b" } -> r"#,
        r#"E0101 expected a quoted receiver name @1:22: found `r` here | help: quote it: `"r"`"#,
    );
    check(r#"route { a = "b""#, "E0103 unclosed route matchers @1:7: route matchers opened here | help: add the missing `}`");
    check("route = 5", "route = 5");
    check(
        r#"route { a = "b" } -> "r" continue mute_during "w" active_during ["o", "p",]"#,
        r#"route { a = "b" } -> "r" continue mute_during "w" active_during ["o", "p"]"#,
    );
    check(
        r#"route {} -> "r" active_during 'o'"#,
        r#"route {} -> "r" active_during "o""#,
    );
    check(
        r#"route {} -> "r" mute_during []"#,
        "E0101 expected a quoted time interval name @1:30: found `]` here",
    );
}

#[test]
fn inhibitions() {
    check(
        r#"inhibit severity "page" over "ticket" on [service, slo]"#,
        r#"inhibit severity "page" over "ticket" on [service, slo]"#,
    );
    check(
        r#"inhibit kind "a" over ["b", "c"] on []"#,
        r#"inhibit kind "a" over ["b", "c"] on []"#,
    );
    check(
        r#"inhibit severity page over "ticket" on [service]"#,
        r#"E0101 expected a quoted label value after `severity` @1:18: found `page` here | help: quote it: `"page"`"#,
    );
    check(
        r#"inhibit severity "page" "ticket" on [service]"#,
        r#"E0101 expected `over` @1:25: found a string here | help: an inhibition is written `inhibit severity "page" over "ticket" on [service]`"#,
    );
    check(
        r#"inhibit severity "page" over "ticket" [service]"#,
        r#"E0101 expected `on` @1:39: found `[` here | help: an inhibition is written `inhibit severity "page" over "ticket" on [service]`"#,
    );
    check(
        r#"inhibit severity "page" over "ticket" on [service"#,
        "E0103 unclosed list @1:42: list opened here | help: add the missing `]`",
    );
    check("inhibit = 3", "inhibit = 3");
}

#[test]
fn malformed_items_and_values() {
    check(
        "x = .5",
        "E0101 expected a value @1:5: found `.` here | help: write a leading zero: `0.5`",
    );
    check("x = 5.", "E0101 expected digits after the decimal point @1:7: found end of file here | help: write `5` or `5.0`");
    check("x = -", "E0101 expected a value @1:5: found `-` here | help: a minus sign must be followed by digits, as in `-0.5`");
    check(
        "x = @",
        r#"E0111 unexpected character `@` @1:5: this character cannot appear outside a string | help: put text inside quotes: "...""#,
    );
    check(
        "x =",
        r#"E0109 missing value @1:4: expected a value here, found end of file | help: write a value after `=`, such as `"text"`, `5m`, `99.9%` or a metric name"#,
    );
    check(
        "x =\ny = 2",
        r#"E0109 missing value @2:1: expected a value here, found the field name `y` | help: write a value after `=`, such as `"text"`, `5m`, `99.9%` or a metric name"#,
    );
    check(
        "x = }",
        r#"E0109 missing value @1:5: expected a value here, found `}` | help: write a value after `=`, such as `"text"`, `5m`, `99.9%` or a metric name"#,
    );
    check(
        "latency p99 { }",
        r#"E0101 expected `=` or `{` after `latency` @1:9: found `p99` here | help: block names are quoted: `latency "p99" { ... }`"#,
    );
    check(
        r#"latency "p99" x"#,
        r#"E0101 expected `{` after `"p99"` @1:15: found `x` here | help: if `latency` is a field, write `latency = "p99"`"#,
    );
    check(
        r#"service "a" {
 team = "x"
"#,
        "E0103 unclosed block @1:13: block opened here | help: add the missing `}`",
    );
    check("}", "E0104 unmatched closing `}` @1:1: there is no open `{` for this `}` | help: remove this `}` or add the `{` it should close");
    check("a = 1 ]", "E0104 unmatched closing `]` @1:7: there is no open `[` for this `]` | help: remove this `]` or add the `[` it should close");
    check(
        r#""name" { }"#,
        r#"E0101 expected a field or block name @1:1: found a string here | help: a block is written `kind "name" { ... }` and a field `name = value`"#,
    );
    check("{ }", "E0101 expected a field or block name @1:1: found `{` here | help: a block needs a kind before `{`, as in `labels { ... }`");
    check(
        "5 = 3",
        "E0101 expected a field or block name @1:1: found `5` here",
    );
    check(
        "team = \u{201c}risk\u{201d}",
        r#"E0111 unexpected character `“` @1:8: this character cannot appear outside a string | help: put text inside quotes: "...""#,
    );
    check("team\u{a0}= 1", "E0111 unexpected character U+00A0 @1:5: this character cannot appear outside a string | help: replace it with an ordinary space");
    check(
        "a = 1 \u{7}",
        r#"E0111 unexpected character U+0007 @1:7: this character cannot appear outside a string | help: put text inside quotes: "...""#,
    );
}

#[test]
fn spans_are_byte_offsets_shifted_by_the_base() {
    let source = "\u{feff}svc \"é\" {\n  t = 5m # c\n  route { a =~ \"x\" } -> [\"r\"] continue\n}";
    let file = parse(source, 1000).expect("valid");
    insta::assert_debug_snapshot!(file);
    // The BOM is 3 bytes: the first token starts at 3 + base.
    let super::ast::Item::Block(block) = &file.items[0] else {
        panic!("expected a block")
    };
    assert_eq!(
        block.kind.span,
        Span {
            start: 1003,
            end: 1006
        }
    );
    assert_eq!(
        &source[block.span.start as usize - 1000..block.span.end as usize - 1000],
        &source[3..]
    );
}

#[test]
fn error_spans_are_shifted_by_the_base() {
    let diagnostic = parse("x = \"open", 500).unwrap_err();
    assert_eq!(
        diagnostic.primary.span,
        Span {
            start: 504,
            end: 505
        }
    );
    assert_eq!(
        diagnostic.secondary[0].span,
        Span {
            start: 509,
            end: 509
        }
    );
}

/// One input per code; the snapshot holds the whole diagnostic (labels, help, notes).
const ONE_INPUT_PER_CODE: [(&str, &str); 11] = [
    ("E0101", "latency \"p99\" {\n  objective: 99.5%\n}"),
    ("E0102", "service \"fraud {\n  team = \"risk-ml\"\n}"),
    ("E0103", "service \"fraud\" {\n  team = \"risk-ml\"\n"),
    ("E0104", "service \"fraud\" { team = \"risk-ml\" }\n}"),
    ("E0105", "logs \"x\" { query = \"path:C:\\logs\" }"),
    ("E0106", "accuracy \"x\" { min = 1e400 }"),
    ("E0107", "drift \"x\" { for = 5 mins }"),
    ("E0108", "service \"x\" { window = 1.5h }"),
    ("E0109", "availability \"x\" {\n  objective =\n  window = 30d\n}"),
    ("E0110", "a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a { a {"),
    ("E0111", "service \"x\" { team = \u{201c}risk-ml\u{201d} }"),
];

#[test]
fn every_syntax_code_has_a_diagnostic_snapshot() {
    let listed: Vec<&str> = ONE_INPUT_PER_CODE.iter().map(|(code, _)| *code).collect();
    let registered: Vec<&str> = super::CODES.iter().map(|info| info.code).collect();
    assert_eq!(
        listed, registered,
        "every registered code needs an input here"
    );
    for (code, source) in ONE_INPUT_PER_CODE {
        let diagnostic = parse(source, 0).expect_err(code);
        assert_eq!(diagnostic.code, code, "{source}");
        insta::assert_snapshot!(
            code,
            format!("{source}\n----- DIAGNOSTIC -----\n{diagnostic:#?}")
        );
    }
}

#[test]
fn codes_have_titles_and_explanations_with_examples() {
    for info in super::CODES {
        assert!(
            info.code.starts_with("E01") && info.code.len() == 5,
            "{}",
            info.code
        );
        assert!(!info.title.is_empty() && info.title == info.title.to_lowercase());
        assert!(!info.title.ends_with('.'));
        assert!(
            info.explanation.len() > 200,
            "{} explanation too short",
            info.code
        );
        assert!(
            info.explanation.contains("\n    "),
            "{} needs an indented example",
            info.code
        );
    }
}

#[test]
fn ten_thousand_nested_blocks_are_too_deep_not_a_crash() {
    let source = "a {".repeat(10_000);
    check(
        &source,
        "E0110 nesting too deep @1:195: more than 64 levels of blocks or lists are open here | help: flatten the structure; real files nest only a few levels",
    );
    let closed = format!("{}{}", "a {".repeat(10_000), "}".repeat(10_000));
    assert_eq!(parse(&closed, 0).unwrap_err().code, "E0110");
}

#[test]
fn ten_thousand_nested_lists_and_braces_are_diagnosed() {
    assert_eq!(
        parse(&format!("x = {}", "[".repeat(10_000)), 0)
            .unwrap_err()
            .code,
        "E0110"
    );
    assert_eq!(parse(&"{".repeat(10_000), 0).unwrap_err().code, "E0101");
    assert_eq!(parse(&"}".repeat(10_000), 0).unwrap_err().code, "E0104");
    assert_eq!(
        parse(&format!("x = m{}", "{".repeat(10_000)), 0)
            .unwrap_err()
            .code,
        "E0103"
    );
}

#[test]
fn sixty_four_levels_are_allowed() {
    let depth = super::error::MAX_NESTING_DEPTH;
    let blocks = format!("{}{}", "a {".repeat(depth), "}".repeat(depth));
    assert!(parse(&blocks, 0).is_ok());
    let lists = format!("x = {}{}", "[".repeat(depth), "]".repeat(depth));
    assert!(parse(&lists, 0).is_ok());
    let mixed = format!(
        "{}x = {}{}{}",
        "a {".repeat(depth - 1),
        "[",
        "]",
        "}".repeat(depth - 1)
    );
    assert!(parse(&mixed, 0).is_ok());
    let too_deep = format!(
        "{}x = [[]]{}",
        "a {".repeat(depth - 1),
        "}".repeat(depth - 1)
    );
    assert_eq!(parse(&too_deep, 0).unwrap_err().code, "E0110");
}

/// A synthetic file of about `bytes` bytes: services full of objectives.
fn synthetic_file(bytes: usize) -> (String, usize) {
    let mut text = String::with_capacity(bytes + 1024);
    let mut services = 0;
    while text.len() < bytes {
        text.push_str(&format!(
            "service \"svc-{services}\" {{\n  team = \"team-{services}\" // owner\n  labels {{ env = \"prod\", tier = '1' }}\n  latency \"p99\" {{\n    histogram = model_latency_seconds{{model=\"m{services}\"}}\n    threshold = 250ms\n    objective = 99.5%\n    window = 28d\n    min_traffic = 10 per 5m\n    page {{ burn {{ long = 1h, short = 5m, factor = 14.4 }} }}\n  }}\n}}\n"
        ));
        services += 1;
    }
    (text, services)
}

/// A file of 5 MB parses whole. Its speed is measured by `benches/check.sh`, not
/// here: a timed assertion fails on a busy machine, and a quadratic parser would
/// show as this test taking minutes.
#[test]
fn five_megabytes_parse_whole() {
    let (text, services) = synthetic_file(5_000_000);
    let file = parse(&text, 0).expect("synthetic file is valid");
    assert_eq!(file.items.len(), services);
}

#[test]
fn backslash_at_the_end_of_a_selector_string_is_unterminated_not_a_panic() {
    // Found by review after the proptests passed: the escape skip ran past the end.
    check(
        "x = m{a=\"\\",
        "E0102 unterminated string @1:9: this string is never closed | help: close the string with a matching quote",
    );
    check(
        "x = m{a=\"\\\n}\"}",
        "E0102 unterminated string @1:9: this string is never closed | help: close the string with a matching quote on the same line; write a newline inside a \"...\" string as `\\n`",
    );
    check("x = m{a=\"\\\"}\"}", r#"x = m{a="\"}"}"#);
    check("x = m{a=`\\`}", r"x = m{a=`\`}");
}

#[test]
fn fractions_and_spaces_inside_compound_durations() {
    check(
        "x = 1h30.5m",
        "E0108 duration with a fractional number @1:7: a duration takes a whole number of each unit, not `30.5m` | help: write `1830s`",
    );
    check(
        "x = 1h 30m",
        "E0108 space inside a duration @1:8: the duration continues after a space | help: write `1h30m` with no space",
    );
}

#[test]
fn a_forgotten_equals_sign_gets_a_hint() {
    check(
        "objective 99.5%",
        "E0101 expected `=` or `{` after `objective` @1:11: found `99.5` here | help: add `=`: `objective = 99.5%`",
    );
    check(
        "team \"risk-ml\"\nwindow = 5m",
        "E0101 expected `{` after `\"risk-ml\"` @2:1: found `window` here | help: if `team` is a field, write `team = \"risk-ml\"`",
    );
}

#[test]
fn keywords_are_keywords_only_where_the_grammar_puts_them() {
    check(
        "route {} -> \"r\"\ncontinue = 5",
        "route {} -> \"r\"\ncontinue = 5",
    );
    check(
        "route {} -> \"r\" continue\ncontinue {}",
        "route {} -> \"r\" continue\n\ncontinue {}",
    );
    check(
        "route {} -> \"r\"\nmute_during = 5\nactive_during {}",
        "route {} -> \"r\"\nmute_during = 5\n\nactive_during {}",
    );
    check("x = 5\nper = 3", "x = 5\nper = 3");
    check("over = on", "over = on");
    check("x = true{a=\"b\"}", "x = true{a=\"b\"}");
    check("x = [true, false, true_]", "x = [true, false, true_]");
    check("x = 5 # five\ny = 6 // six", "x = 5\ny = 6");
}

#[test]
fn invisible_characters_are_named_by_code_point() {
    check(
        "a = 1\n\u{feff}b = 2",
        "E0111 unexpected character U+FEFF @2:1: this character cannot appear outside a string | help: delete it: this character is invisible in most editors",
    );
    check(
        "a\u{200b} = 1",
        "E0111 unexpected character U+200B @1:2: this character cannot appear outside a string | help: delete it: this character is invisible in most editors",
    );
}

#[test]
fn huge_exponents_in_durations_are_quick_errors() {
    // Found by cargo-fuzz as a timeout: the suggestion for `0e1111111111s`
    // multiplied by ten a billion times (a regression shows as this test hanging).
    check(
        "le=0e1111111111s",
        "E0108 duration with a fractional number @1:4: a duration takes a whole number of each unit, not `0e1111111111s` | help: write `0s`",
    );
    check(
        "x = 1e-2147483648h",
        "E0108 duration with a fractional number @1:5: a duration takes a whole number of each unit, not `1e-2147483648h` | help: durations have millisecond precision; write a whole number of a smaller unit",
    );
    check(
        "x = 2e2s",
        "E0108 duration with a fractional number @1:5: a duration takes a whole number of each unit, not `2e2s` | help: write `200s`",
    );
}

#[test]
fn a_forgotten_value_before_a_block_or_route_is_a_missing_value() {
    check(
        "x =\nlabels { a = \"b\" }",
        "E0109 missing value @2:1: expected a value here, found `labels`, which starts the next item | help: write a value after `=`, such as `\"text\"`, `5m`, `99.9%` or a metric name",
    );
    check(
        "x =\nroute {} -> \"r\"",
        "E0109 missing value @2:1: expected a value here, found `route`, which starts the next item | help: write a value after `=`, such as `\"text\"`, `5m`, `99.9%` or a metric name",
    );
    check(
        "x =\nlatency \"p99\" {}",
        "E0109 missing value @2:1: expected a value here, found `latency`, which starts the next item | help: write a value after `=`, such as `\"text\"`, `5m`, `99.9%` or a metric name",
    );
    // A value on the next line is still a value.
    check("x =\n  metric_name\ny = 1", "x = metric_name\ny = 1");
    check("x =\n  m{a=\"b\"}", "x = m{a=\"b\"}");
}

#[test]
fn printer_writes_canonical_text() {
    check("x = 90m", "x = 1h30m");
    check("x = 1w", "x = 7d");
    check("x = 0s", "x = 0s");
    check("x = 1y", "x = 365d");
    check("x = 1h1ms", "x = 1h1ms");
    check("x = \"\\u{7}\"", r#"x = "\u{7}""#);
    check("a { }", "a {}");
    check(
        "a = 1\nb { c = 2 }\nd = 3",
        "a = 1\n\nb {\n  c = 2\n}\n\nd = 3",
    );
}

/// The example of `language.md` (every kind).
const LANGUAGE_EXAMPLE: &str = r##"service "fraud-detector" {
  team      = "risk-ml"
  runbook   = "https://runbooks.example.com/fraud-detector"
  dashboard = "https://grafana.example.com/d/fraud"
  labels   { env = "prod" }                    // added to every alert of the service
  selector { model = "fraud_detection" }       // added to every metric selector below

  latency "inference-p99" {
    histogram = model_inference_latency_seconds   // `_bucket` is appended when absent
    threshold = 250ms                             // an `le` bucket boundary
    objective = 99.5%
    window    = 28d
  }
  availability "predict-api" {
    errors    = http_requests_total{path="/predict", status=~"5.."}
    total     = http_requests_total{path="/predict"}
    objective = 99.9%
    window    = 30d
    min_traffic = 10 per 5m                        // page alerts stay quiet below this
  }
  accuracy "online-precision" {
    metric    = model_precision
    min       = 0.92
    objective = 95%                               // of 5m slices at or above min
    slice     = 5m
    window    = 7d
  }
  drift "transaction-amount" {
    score    = feature_drift_score{feature="transaction_amount"}
    max      = 0.3
    for      = 30m
    forecast { lookback = 6h, horizon = 12h }
  }
  gpu "inference-pool" {
    utilization     = DCGM_FI_DEV_GPU_UTIL
    memory_used     = DCGM_FI_DEV_FB_USED
    memory_free     = DCGM_FI_DEV_FB_FREE
    max_utilization = 90%
    for             = 15m
    exhaustion { lookback = 6h, horizon = 4h }
  }
  freshness "nightly-features" {
    last_success = batch_job_last_success_timestamp_seconds{job="feature-build"}
    max_age      = 26h
    feeds        = ["transaction-amount"]         // drift objectives fed by this job (inhibition)
  }
  logs "prediction-errors" {
    index     = "ml-predictions-*"
    query     = 'model_name:"fraud_detection" AND error_type:*'
    max_count = 100 per 5m
  }
}

routing {
  group_by        = [alertname, service, slo]
  group_wait      = 30s
  group_interval  = 5m
  repeat_interval = 4h
  default_receiver = "risk-chat"
  receiver "risk-pager" { pagerduty { routing_key_file = "/etc/alertmanager/pd-key" } }
  receiver "risk-chat"  { slack { api_url_file = "/etc/alertmanager/slack-url", channel = "#risk-ml" } }
  receiver "ml-hooks"   { webhook { url_file = "/etc/alertmanager/hook-url" } }
  receiver "ml-mail"    { email { to = "ml-oncall@example.com", from = "am@example.com", smarthost = "smtp.example.com:587", auth_username = "am", auth_password_file = "/etc/alertmanager/smtp-pass" } }
  route { team = "risk-ml", severity = "page" }   -> "risk-pager" continue
  route { team = "risk-ml", severity = "ticket" } -> ["risk-chat", "ml-mail"]
  inhibit severity "page" over "ticket" on [service, slo]
  inhibit kind "availability" over ["accuracy", "drift"] on [service]
}
"##;

#[test]
fn triple_quoted_strings_are_verbatim_over_lines_and_map_their_text() {
    use super::ast::{Item, Value};
    let source =
        "q = \"\"\"sum(rate(x{a=\"b\\n\"}[$window]))\n  + 1\"\"\"\nr = \"a\\\"b\"\ns = 'c'";
    let file = parse(source, 10).expect("parses");
    let attributes: Vec<_> = file
        .items
        .iter()
        .map(|item| match item {
            Item::Attribute(attribute) => attribute,
            other => panic!("not an attribute: {other:?}"),
        })
        .collect();
    let Value::String(text) = &attributes[0].value.node else {
        panic!("a string");
    };
    // No escapes are read, and the line break is kept.
    assert_eq!(text, "sum(rate(x{a=\"b\\n\"}[$window]))\n  + 1");
    let span = attributes[0].text_span.expect("verbatim text");
    assert_eq!(
        &source[(span.start - 10) as usize..(span.end - 10) as usize],
        text
    );
    // Escapes do not map one to one; a raw string does.
    assert_eq!(attributes[1].text_span, None);
    assert_eq!(
        attributes[2].text_span,
        Some(Span {
            start: 10 + source.find("'c'").expect("raw string") as u32 + 1,
            end: 10 + source.find("'c'").expect("raw string") as u32 + 2,
        })
    );
    let unterminated = parse("q = \"\"\"sum(x)\n", 0).expect_err("no closing quotes");
    assert_eq!(unterminated.code, "E0102");
}
