//! Go's `fmt` as far as templates reach it: `%v` of every value, the printf verbs
//! with their flags, width and padding.
//!
//! Invariants: the number text itself is `strconv`'s, from the Prometheus model
//! (`model::go_number`), and quoting is `strconv.Quote` (`model::go_quote`); this
//! module adds only what `fmt` adds on top (signs, `#`, padding, verb defaults).
//! Nothing here panics on any input.

use super::value::Value;
use crate::prometheus::model::{go_number, go_quote};

/// Formatting flags of one `%` directive.
#[derive(Clone, Debug, Default)]
pub struct Flags {
    pub plus: bool,
    pub minus: bool,
    pub space: bool,
    pub zero: bool,
    pub sharp: bool,
    pub width: Option<usize>,
    pub precision: Option<usize>,
}

fn pad(body: &str, flags: &Flags) -> String {
    let width = flags.width.unwrap_or(0);
    let len = body.chars().count();
    if len >= width {
        return body.to_string();
    }
    let fill = width - len;
    if flags.minus {
        format!("{body}{}", " ".repeat(fill))
    } else if flags.zero {
        format!("{}{body}", "0".repeat(fill))
    } else {
        format!("{}{body}", " ".repeat(fill))
    }
}

/// Pads a signed number, putting zero padding between the sign and the digits as Go does.
fn pad_number(sign: &str, digits: &str, flags: &Flags) -> String {
    let width = flags.width.unwrap_or(0);
    let len = sign.len() + digits.chars().count();
    if flags.zero && !flags.minus && width > len {
        return format!("{sign}{}{digits}", "0".repeat(width - len));
    }
    let plain = Flags {
        zero: false,
        ..flags.clone()
    };
    pad(&format!("{sign}{digits}"), &plain)
}

/// Go's `#` flag on floats: always a decimal point, and for `%g`/`%v` trailing zeros up
/// to the precision (6 when none is given).
fn sharp_float(num: &str, verb: char, prec: Option<usize>) -> String {
    let mut digits: i64 = match verb {
        'v' | 'g' | 'G' | 'x' => prec.map_or(6, |p| p as i64),
        _ => 0,
    };
    let mut body = String::new();
    let mut tail = String::new();
    let mut has_point = false;
    let mut saw_nonzero = false;
    let chars: Vec<char> = num.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '.' => {
                has_point = true;
                body.push(c);
            }
            'p' | 'P' => {
                tail = chars[i..].iter().collect();
                break;
            }
            'e' | 'E' if verb != 'x' && verb != 'X' => {
                tail = chars[i..].iter().collect();
                break;
            }
            _ => {
                if c != '0' && c.is_ascii_hexdigit() {
                    saw_nonzero = true;
                }
                if saw_nonzero && c.is_ascii_hexdigit() {
                    digits -= 1;
                }
                body.push(c);
            }
        }
        i += 1;
    }
    if !has_point {
        if body == "0" {
            digits -= 1;
        }
        body.push('.');
    }
    while digits > 0 {
        body.push('0');
        digits -= 1;
    }
    body + &tail
}

/// One float under a verb among `v g G e E f F x X`, with Go's sign and padding rules.
pub fn format_float_verb(v: f64, verb: char, prec: Option<usize>, flags: &Flags) -> String {
    if v.is_nan() || v.is_infinite() {
        let body = if v.is_nan() {
            if flags.plus {
                "+NaN"
            } else if flags.space {
                " NaN"
            } else {
                "NaN"
            }
        } else if v > 0.0 {
            if flags.space && !flags.plus {
                " Inf"
            } else {
                "+Inf"
            }
        } else {
            "-Inf"
        };
        let no_zero = Flags {
            zero: false,
            ..flags.clone()
        };
        return pad(body, &no_zero);
    }
    // fmt prints `%e` and `%f` with six decimals unless told, `%g` and `%v` with the
    // fewest digits, `%x` always with the fewest.
    let (format, precision) = match verb {
        'x' | 'X' => (verb, None),
        'e' | 'E' => (verb, Some(prec.unwrap_or(6))),
        'f' | 'F' => ('f', Some(prec.unwrap_or(6))),
        'G' => ('G', prec),
        _ => ('g', prec),
    };
    let mut digits = go_number::format_float(v.abs(), format, precision);
    if flags.sharp {
        digits = sharp_float(&digits, verb, prec);
    }
    let negative = v.is_sign_negative();
    let sign = if negative {
        "-"
    } else if flags.plus {
        "+"
    } else if flags.space {
        " "
    } else {
        ""
    };
    pad_number(sign, &digits, flags)
}

fn format_int_verb(v: i64, verb: char, flags: &Flags) -> Option<String> {
    let negative = v < 0;
    let abs = v.unsigned_abs();
    let mut digits = match verb {
        'd' | 'v' => abs.to_string(),
        'b' => format!("{abs:b}"),
        'o' | 'O' => format!("{abs:o}"),
        'x' => format!("{abs:x}"),
        'X' => format!("{abs:X}"),
        'c' => {
            let ch = u32::try_from(v)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{FFFD}');
            return Some(pad(&ch.to_string(), flags));
        }
        'q' => {
            let ch = u32::try_from(v)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{FFFD}');
            return Some(pad(&go_quote::quote_rune(ch), flags));
        }
        'U' => {
            return Some(pad(&format!("U+{abs:04X}"), flags));
        }
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' => return None,
        _ => return None,
    };
    if let Some(p) = flags.precision {
        if p == 0 && v == 0 {
            digits = String::new();
        }
        while digits.len() < p {
            digits.insert(0, '0');
        }
    }
    let prefix = match (flags.sharp, verb) {
        (true, 'x') => "0x",
        (true, 'X') => "0X",
        (true, 'o') => "0",
        (true, 'b') => "0b",
        (_, 'O') => "0o",
        _ => "",
    };
    let sign = if negative {
        "-"
    } else if flags.plus {
        "+"
    } else if flags.space {
        " "
    } else {
        ""
    };
    let sign = format!("{sign}{prefix}");
    // Zero padding is ignored when a precision is given, as in Go.
    let flags = if flags.precision.is_some() {
        Flags {
            zero: false,
            ..flags.clone()
        }
    } else {
        flags.clone()
    };
    Some(pad_number(&sign, &digits, &flags))
}

/// `%v` of a value, as `fmt.Sprint` prints one operand.
pub fn sprint_value(v: &Value) -> String {
    match v {
        Value::NoValue => "<no value>".to_string(),
        Value::Nil => "<nil>".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => go_number::format_float(*f, 'g', None),
        Value::String(s) | Value::Html(s) => s.clone(),
        Value::StringMap(m) => {
            let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k}:{v}")).collect();
            format!("map[{}]", parts.join(" "))
        }
        Value::Map(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}:{}", sprint_nested(v)))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
        Value::List(items) => {
            let parts: Vec<String> = items.iter().map(sprint_nested).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Samples(samples) => {
            // Go prints the *sample pointers of a queryResult as addresses, which are
            // not deterministic; we print a stable stand-in of the same shape.
            let parts: Vec<String> = (0..samples.len())
                .map(|i| format!("0xc{:09x}", i * 0x40))
                .collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Sample(s) => {
            let labels = Value::StringMap(std::sync::Arc::new(s.labels.clone()));
            format!(
                "{{{} {}}}",
                sprint_value(&labels),
                go_number::format_float(s.value, 'g', None)
            )
        }
        Value::Struct(st) => {
            let parts: Vec<String> = st.fields.iter().map(|(_, v)| sprint_nested(v)).collect();
            format!("{{{}}}", parts.join(" "))
        }
        Value::Time(t) => t.go_string(),
        Value::Complex(re, im) => {
            let plus = Flags {
                plus: true,
                ..Flags::default()
            };
            format!(
                "({}{}i)",
                go_number::format_float(*re, 'g', None),
                format_float_verb(*im, 'g', None, &plus)
            )
        }
    }
}

/// `%v` as the fmt functions print one operand: unlike a template action, which
/// dereferences a pointer first, fmt prints a pointer to a struct as `&{...}`.
pub fn fmt_value(v: &Value) -> String {
    match v {
        Value::Sample(_) => format!("&{}", sprint_value(v)),
        other => sprint_value(other),
    }
}

/// Operands nested in a container: interface nil prints `<nil>`, pointers print as
/// addresses in Go (we print a stable stand-in).
fn sprint_nested(v: &Value) -> String {
    match v {
        Value::NoValue | Value::Nil => "<nil>".to_string(),
        Value::Sample(_) => "0xc000000000".to_string(),
        other => sprint_value(other),
    }
}

/// `fmt.Sprint` over operands that text/template's `evalArgs` made printable first,
/// which dereferences pointers (`{...}`, not `&{...}`).
pub fn sprint_printable(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            let is_string = |v: &Value| matches!(v, Value::String(_) | Value::Html(_));
            if !is_string(arg) && !is_string(&args[i - 1]) {
                out.push(' ');
            }
        }
        out.push_str(&sprint_value(arg));
    }
    out
}

/// `fmt.Sprint(args...)`: a space between operands when neither side is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            let is_string = |v: &Value| matches!(v, Value::String(_) | Value::Html(_));
            if !is_string(arg) && !is_string(&args[i - 1]) {
                out.push(' ');
            }
        }
        out.push_str(&fmt_value(arg));
    }
    out
}

/// `fmt.Sprintln(args...)`: always spaces, and a final newline.
pub fn sprintln(args: &[Value]) -> String {
    let parts: Vec<String> = args.iter().map(fmt_value).collect();
    format!("{}\n", parts.join(" "))
}

/// Go's `badVerb`: the operand is printed with `%v` under the directive's own flags,
/// width and precision (so `%5.1f` of "abc" gives `%!f(string=    a)`).
fn bad_verb(verb: char, arg: &Value, flags: &Flags) -> String {
    match arg {
        Value::Nil | Value::NoValue => format!("%!{verb}(<nil>)"),
        other => {
            let v_flags = Flags {
                sharp: flags.sharp && matches!(other, Value::Float(_)),
                ..flags.clone()
            };
            let text = match other {
                // Floats honour `#` under %v (fmtFloat reads f.sharp); nothing else does,
                // because the bad verb prints with %v, not %#v.
                Value::Float(f) => format_float_verb(*f, 'g', v_flags.precision, &v_flags),
                _ => format_arg('v', &v_flags, other),
            };
            format!("%!{verb}({}={text})", other.type_name())
        }
    }
}

fn format_string_verb(s: &str, verb: char, flags: &Flags) -> Option<String> {
    let truncated: String = match flags.precision {
        Some(p) => s.chars().take(p).collect(),
        None => s.to_string(),
    };
    match verb {
        'v' | 's' => Some(pad(&truncated, flags)),
        'q' => {
            if flags.sharp && !truncated.contains('`') {
                Some(pad(&format!("`{truncated}`"), flags))
            } else {
                Some(pad(&go_quote::quote(&truncated), flags))
            }
        }
        'x' | 'X' => {
            let mut out = String::new();
            for (i, b) in truncated.bytes().enumerate() {
                if flags.space && i > 0 {
                    out.push(' ');
                }
                if verb == 'x' {
                    out.push_str(&format!("{b:02x}"));
                } else {
                    out.push_str(&format!("{b:02X}"));
                }
            }
            Some(pad(&out, flags))
        }
        _ => None,
    }
}

/// Go's `%#v`: the value in Go syntax.
fn go_syntax(arg: &Value) -> String {
    match arg {
        Value::String(s) | Value::Html(s) => go_quote::quote(s),
        Value::NoValue | Value::Nil => "<nil>".to_string(),
        Value::StringMap(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}:{}", go_quote::quote(k), go_quote::quote(v)))
                .collect();
            format!("map[string]string{{{}}}", parts.join(", "))
        }
        Value::Map(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}:{}", go_quote::quote(k), go_syntax_nested(v)))
                .collect();
            format!("map[string]interface {{}}{{{}}}", parts.join(", "))
        }
        Value::List(items) => {
            let parts: Vec<String> = items.iter().map(go_syntax_nested).collect();
            format!("[]interface {{}}{{{}}}", parts.join(", "))
        }
        other => sprint_value(other),
    }
}

fn go_syntax_nested(v: &Value) -> String {
    match v {
        Value::NoValue | Value::Nil => "interface {}(nil)".to_string(),
        other => go_syntax(other),
    }
}

fn sample_fields(s: &super::value::Sample) -> Vec<(String, Value)> {
    vec![
        (
            "Labels".to_string(),
            Value::StringMap(std::sync::Arc::new(s.labels.clone())),
        ),
        ("Value".to_string(), Value::Float(s.value)),
    ]
}

/// `{f1 f2}` (or `{Name:f1 Name:f2}` under `%+v`), each field under the verb.
fn struct_fields(verb: char, flags: &Flags, fields: &[(String, Value)]) -> String {
    let parts: Vec<String> = fields
        .iter()
        .map(|(name, v)| {
            let text = format_arg(verb, flags, v);
            if verb == 'v' && flags.plus {
                format!("{name}:{text}")
            } else {
                text
            }
        })
        .collect();
    format!("{{{}}}", parts.join(" "))
}

/// A `*template.sample` inside a container: Go prints the address for `%v` (we print a
/// stand-in) and a bad verb holding `&{...}` for any other verb.
fn nested_sample(verb: char, flags: &Flags, s: &super::value::Sample) -> String {
    match verb {
        'v' | 'p' => "0xc000000000".to_string(),
        _ => {
            let v_flags = Flags {
                sharp: false,
                ..flags.clone()
            };
            format!(
                "%!{verb}(*template.sample=&{})",
                struct_fields('v', &v_flags, &sample_fields(s))
            )
        }
    }
}

/// Containers under a verb other than `%v`/`%s` format element by element, as Go does.
fn format_elementwise(verb: char, flags: &Flags, arg: &Value) -> Option<String> {
    let plain = Flags {
        width: flags.width,
        precision: flags.precision,
        ..flags.clone()
    };
    let item = |v: &Value| match v {
        Value::NoValue | Value::Nil if verb == 'v' => pad("<nil>", &plain),
        Value::NoValue | Value::Nil => format!("%!{verb}(<nil>)"),
        Value::Sample(s) => nested_sample(verb, &plain, s),
        other => format_arg(verb, &plain, other),
    };
    match arg {
        Value::StringMap(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}:{}",
                        item(&Value::String(k.clone())),
                        item(&Value::String(v.clone()))
                    )
                })
                .collect();
            Some(format!("map[{}]", parts.join(" ")))
        }
        Value::Map(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}:{}", item(&Value::String(k.clone())), item(v)))
                .collect();
            Some(format!("map[{}]", parts.join(" ")))
        }
        Value::List(items) => {
            let parts: Vec<String> = items.iter().map(item).collect();
            Some(format!("[{}]", parts.join(" ")))
        }
        Value::Samples(samples) => {
            let parts: Vec<String> = samples
                .iter()
                .map(|s| nested_sample(verb, &plain, s))
                .collect();
            Some(format!("[{}]", parts.join(" ")))
        }
        Value::Sample(s) if verb != 'v' || flags.plus => {
            // A pointer to a struct at top level prints as &{fields}, each field under
            // the same verb (`%+v` names the fields).
            Some(format!(
                "&{}",
                struct_fields(verb, &plain, &sample_fields(s))
            ))
        }
        Value::Struct(st) => Some(struct_fields(verb, &plain, &st.fields)),
        _ => None,
    }
}

/// One operand under one verb.
fn format_arg(verb: char, flags: &Flags, arg: &Value) -> String {
    if verb == 'T' {
        return pad(&arg.type_name(), flags);
    }
    if verb == 'v' && flags.sharp {
        return pad(&go_syntax(arg), flags);
    }
    // `%+v` only names struct fields; it puts no sign on numbers.
    let flags = &if verb == 'v' && flags.plus && !matches!(arg, Value::Struct(_) | Value::Sample(_))
    {
        Flags {
            plus: false,
            ..flags.clone()
        }
    } else {
        flags.clone()
    };
    // Go prints containers element by element under the directive's verb and flags;
    // for a bare %v or %s that equals the plain rendering.
    let elementwise = match arg {
        Value::StringMap(_) | Value::Map(_) | Value::List(_) | Value::Struct(_) => true,
        Value::Samples(_) => verb != 'v',
        Value::Sample(_) => verb != 'v' || flags.plus,
        _ => false,
    };
    if elementwise {
        if let Some(text) = format_elementwise(verb, flags, arg) {
            return text;
        }
    }
    let formatted = match arg {
        Value::Bool(b) => match verb {
            'v' | 't' => Some(pad(&b.to_string(), flags)),
            _ => None,
        },
        Value::Int(i) => format_int_verb(*i, verb, flags),
        Value::Float(f) => match verb {
            'v' | 'g' | 'G' | 'e' | 'E' | 'f' | 'F' | 'x' | 'X' => {
                let verb = if verb == 'v' { 'g' } else { verb };
                Some(format_float_verb(*f, verb, flags.precision, flags))
            }
            _ => None,
        },
        Value::String(s) | Value::Html(s) => format_string_verb(s, verb, flags),
        Value::Nil | Value::NoValue => match verb {
            'v' => Some(pad("<nil>", flags)),
            _ => None,
        },
        Value::Time(t) => format_string_verb(&t.go_string(), verb, flags),
        other => match verb {
            'v' | 's' => Some(pad(&fmt_value(other), flags)),
            _ => None,
        },
    };
    formatted.unwrap_or_else(|| bad_verb(verb, arg, flags))
}

/// Go's `fmt.Sprintf` for the verbs templates use.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut arg_index = 0usize;
    // Go reports unused operands only when no explicit index was used.
    let mut reordered = false;
    let chars: Vec<char> = format.chars().collect();
    let mut i = 0usize;
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        let mut flags = Flags::default();
        let mut bad_index = false;
        while i < chars.len() {
            match chars[i] {
                '+' => flags.plus = true,
                '-' => flags.minus = true,
                ' ' => flags.space = true,
                '0' => flags.zero = !flags.minus,
                '#' => flags.sharp = true,
                _ => break,
            }
            i += 1;
        }
        // An explicit argument index, `%[2]d`.
        if i < chars.len() && chars[i] == '[' {
            let close = chars[i..].iter().position(|c| *c == ']').map(|p| p + i);
            let index = close.and_then(|close| {
                chars[i + 1..close]
                    .iter()
                    .collect::<String>()
                    .parse::<usize>()
                    .ok()
            });
            match (close, index) {
                (Some(close), Some(n)) if n >= 1 && n <= args.len() => {
                    arg_index = n - 1;
                    reordered = true;
                    i = close + 1;
                }
                (Some(close), _) => {
                    bad_index = true;
                    i = close + 1;
                }
                (None, _) => {
                    bad_index = true;
                    i = chars.len().saturating_sub(1).max(i + 1);
                }
            }
        }
        // Width.
        if i < chars.len() && chars[i] == '*' {
            i += 1;
            match args.get(arg_index) {
                Some(Value::Int(w)) => {
                    if *w < 0 {
                        flags.minus = true;
                        flags.zero = false;
                    }
                    flags.width = Some(w.unsigned_abs().min(1_000_000) as usize);
                }
                _ => out.push_str("%!(BADWIDTH)"),
            }
            arg_index += 1;
        } else {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i > start {
                let text: String = chars[start..i].iter().collect();
                flags.width = Some(text.parse::<usize>().unwrap_or(0).min(1_000_000));
            }
        }
        // Precision.
        if i < chars.len() && chars[i] == '.' {
            i += 1;
            if i < chars.len() && chars[i] == '*' {
                i += 1;
                match args.get(arg_index) {
                    Some(Value::Int(p)) if *p >= 0 => {
                        flags.precision = Some((*p as usize).min(1_000_000))
                    }
                    _ => out.push_str("%!(BADPREC)"),
                }
                arg_index += 1;
            } else {
                let start = i;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                flags.precision = Some(text.parse::<usize>().unwrap_or(0).min(1_000_000));
            }
        }
        if i >= chars.len() {
            out.push_str("%!(NOVERB)");
            break;
        }
        let verb = chars[i];
        i += 1;
        if verb == '%' {
            out.push('%');
            continue;
        }
        if bad_index {
            out.push_str(&format!("%!{verb}(BADINDEX)"));
            continue;
        }
        match args.get(arg_index) {
            None => out.push_str(&format!("%!{verb}(MISSING)")),
            Some(arg) => out.push_str(&format_arg(verb, &flags, arg)),
        }
        arg_index += 1;
    }
    if !reordered && arg_index < args.len() {
        let extra: Vec<String> = args[arg_index..]
            .iter()
            .map(|a| match a {
                Value::Nil | Value::NoValue => "<nil>".to_string(),
                other => format!("{}={}", other.type_name(), fmt_value(other)),
            })
            .collect();
        out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sprintf_verbs_match_go() {
        let f = |fmt: &str, args: &[Value]| sprintf(fmt, args);
        assert_eq!(f("%.2f", &[Value::Float(2.345678)]), "2.35");
        assert_eq!(f("%d", &[Value::Int(42)]), "42");
        assert_eq!(
            f(
                "%5d|%-5d|%05d",
                &[Value::Int(42), Value::Int(42), Value::Int(-42)]
            ),
            "   42|42   |-0042"
        );
        assert_eq!(f("%f", &[Value::Int(1)]), "%!f(int=1)");
        assert_eq!(f("%d", &[]), "%!d(MISSING)");
        assert_eq!(
            f("%d", &[Value::Int(1), Value::String("x".into())]),
            "1%!(EXTRA string=x)"
        );
        assert_eq!(f("%q", &[Value::String("a\"b\n".into())]), "\"a\\\"b\\n\"");
        assert_eq!(f("%x", &[Value::Int(255)]), "ff");
        assert_eq!(f("%x", &[Value::String("hi".into())]), "6869");
        assert_eq!(f("%e", &[Value::Float(1234.5678)]), "1.234568e+03");
        assert_eq!(f("%g", &[Value::Float(1e-7)]), "1e-07");
        assert_eq!(
            f("%v %t", &[Value::Bool(true), Value::Bool(false)]),
            "true false"
        );
        assert_eq!(f("%+.1f%%", &[Value::Float(12.34)]), "+12.3%");
        assert_eq!(f("% d", &[Value::Int(5)]), " 5");
        assert_eq!(f("%s", &[Value::Nil]), "%!s(<nil>)");
        assert_eq!(f("%08.3f", &[Value::Float(-2.345678)]), "-002.346");
        assert_eq!(f("%6.2f|", &[Value::Float(f64::INFINITY)]), "  +Inf|");
        assert_eq!(f("%.0f", &[Value::Float(0.5)]), "0");
        assert_eq!(f("%.0f", &[Value::Float(1.5)]), "2");
        assert_eq!(f("%", &[]), "%!(NOVERB)");
        assert_eq!(
            f("%T|%T", &[Value::Int(1), Value::Float(1.0)]),
            "int|float64"
        );
        assert_eq!(f("%#v", &[Value::String("a".into())]), "\"a\"");
        assert_eq!(
            f(
                "%x|%X|%x",
                &[Value::Float(1e6), Value::Float(-1.5), Value::Float(0.0)]
            ),
            "0x1.e848p+19|-0X1.8P+00|0x0p+00"
        );
        assert_eq!(
            f(
                "%#g|%#.3g|%#e|%#v",
                &[
                    Value::Float(1e6),
                    Value::Float(1.0),
                    Value::Float(2.0),
                    Value::Float(0.5)
                ]
            ),
            "1.00000e+06|1.00|2.000000e+00|0.5"
        );
    }
}
