//! Canonical `.slo` text for an AST: the inverse of the parser, up to spans.
//!
//! Invariants: for every AST the parser produces, `parse(print(ast))` equals
//! `ast` except for spans (`tests/integration/parser_props.rs` checks this on generated
//! trees); output is deterministic, two-space indented, one item per line, with
//! a blank line between top-level blocks. Comments are not in the AST, so they
//! are not printed. Strings are always written double-quoted with escapes;
//! numbers keep the text they were written with; durations are normalised to
//! the compound form with days as the largest unit (`90m` prints as `1h30m`,
//! `1w` as `7d`).

use super::ast::{ByteUnit, Duration, File, Inhibit, Item, Route, Value};
use crate::base::diagnostic::Spanned;
use crate::prometheus::model::duration::PlainDuration;
use std::fmt::Write;

/// Writes `file` as canonical `.slo` text, ending with a newline unless empty.
pub fn print(file: &File) -> String {
    let mut out = String::new();
    let mut previous_was_block = false;
    for (index, item) in file.items.iter().enumerate() {
        let is_block = matches!(item, Item::Block(_));
        if index > 0 && (is_block || previous_was_block) {
            out.push('\n');
        }
        print_item(&mut out, item, 0);
        previous_was_block = is_block;
    }
    out
}

fn print_item(out: &mut String, item: &Item, indent: usize) {
    push_indent(out, indent);
    match item {
        Item::Attribute(attribute) => {
            out.push_str(&attribute.key.node);
            out.push_str(" = ");
            print_value(out, &attribute.value.node);
        }
        Item::Block(block) => {
            out.push_str(&block.kind.node);
            if let Some(name) = &block.name {
                out.push(' ');
                push_string(out, &name.node);
            }
            if block.items.is_empty() {
                out.push_str(" {}");
            } else {
                out.push_str(" {\n");
                for inner in &block.items {
                    print_item(out, inner, indent + 1);
                }
                push_indent(out, indent);
                out.push('}');
            }
        }
        Item::Route(route) => print_route(out, route),
        Item::Inhibit(inhibit) => print_inhibit(out, inhibit),
    }
    out.push('\n');
}

fn print_route(out: &mut String, route: &Route) {
    out.push_str("route {");
    for (index, matcher) in route.matchers.iter().enumerate() {
        out.push_str(if index == 0 { " " } else { ", " });
        out.push_str(&matcher.label.node);
        out.push(' ');
        out.push_str(matcher.op.as_str());
        out.push(' ');
        push_string(out, &matcher.value.node);
    }
    out.push_str(if route.matchers.is_empty() {
        "} -> "
    } else {
        " } -> "
    });
    print_string_list(out, &route.receivers);
    if route.continue_span.is_some() {
        out.push_str(" continue");
    }
    for (keyword, intervals) in [
        ("mute_during", &route.mute_during),
        ("active_during", &route.active_during),
    ] {
        if !intervals.is_empty() {
            out.push(' ');
            out.push_str(keyword);
            out.push(' ');
            print_string_list(out, intervals);
        }
    }
}

fn print_inhibit(out: &mut String, inhibit: &Inhibit) {
    out.push_str("inhibit ");
    out.push_str(&inhibit.label.node);
    out.push(' ');
    push_string(out, &inhibit.source.node);
    out.push_str(" over ");
    print_string_list(out, &inhibit.targets);
    out.push_str(" on [");
    for (index, label) in inhibit.equal.iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        out.push_str(&label.node);
    }
    out.push(']');
}

/// One string alone, otherwise a bracketed list (the parser accepts both).
fn print_string_list(out: &mut String, strings: &[Spanned<String>]) {
    if let [single] = strings {
        push_string(out, &single.node);
        return;
    }
    out.push('[');
    for (index, text) in strings.iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        push_string(out, &text.node);
    }
    out.push(']');
}

fn print_value(out: &mut String, value: &Value) {
    match value {
        Value::String(text) => push_string(out, text),
        Value::Number(number) => out.push_str(&number.text),
        Value::Duration(duration) => push_duration(out, *duration),
        Value::Percent(number) => {
            out.push_str(&number.text);
            out.push('%');
        }
        Value::Bytes(bytes) => {
            out.push_str(&bytes.number.text);
            out.push_str(byte_unit_name(bytes.unit));
        }
        Value::PerWindow { count, window } => {
            out.push_str(&count.text);
            out.push_str(" per ");
            push_duration(out, window.node);
        }
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Selector(text) => out.push_str(text),
        Value::List(values) => {
            out.push('[');
            for (index, element) in values.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                print_value(out, &element.node);
            }
            out.push(']');
        }
    }
}

/// Compound form, largest unit first: `1h30m`, `250ms`, `0s`; days are the largest
/// unit printed, as `30d` reads better than `4w2d`. The parser never produces
/// negative durations; one is printed with a sign, which does not parse.
fn push_duration(out: &mut String, duration: Duration) {
    // Writing to a String cannot fail.
    let _ = write!(out, "{}", PlainDuration(duration.millis));
}

fn byte_unit_name(unit: ByteUnit) -> &'static str {
    match unit {
        ByteUnit::B => "B",
        ByteUnit::KB => "KB",
        ByteUnit::MB => "MB",
        ByteUnit::GB => "GB",
        ByteUnit::TB => "TB",
        ByteUnit::KiB => "KiB",
        ByteUnit::MiB => "MiB",
        ByteUnit::GiB => "GiB",
        ByteUnit::TiB => "TiB",
    }
}

/// A double-quoted string; control characters other than `\n \r \t` become
/// `\u{...}` so that the output stays on one line.
fn push_string(out: &mut String, text: &str) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            other if other.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", other as u32);
            }
            other => out.push(other),
        }
    }
    out.push('"');
}

fn push_indent(out: &mut String, indent: usize) {
    for _ in 0..indent {
        out.push_str("  ");
    }
}
