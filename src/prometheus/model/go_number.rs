//! Go's `strconv` for float64, as the Prometheus tools print and read numbers:
//! `FormatFloat` and `ParseFloat`.
//!
//! The formats in use: `'g'` shortest is how templates print `{{ $value }}` and how
//! Go's `%v` and `%g` print a float; `'E'` shortest is how promtool prints sample
//! values in unit-test failures (`1.5E+01`); `'f'` shortest is how `count_values`
//! writes its label values; fixed precisions (`'e'`, `'f'`, `'g'`) and `'x'` serve
//! the template printf verbs. `ParseFloat` reads `le` bucket bounds, template number
//! literals and the strings templates convert to numbers.
//!
//! Invariants: decimal digits come from Rust's exact formatter (`{:e}` for the
//! shortest round-trip digits, `{:.N e}` and `{:.N}` for a fixed precision), which
//! rounds the exact binary value half to even just as Go's `strconv` does; the layout
//! on top of the digits (`%g` exponent thresholds, two-digit exponents, `+Inf`, `NaN`)
//! is Go's. Precisions above 800 digits count as 800. Nothing here panics.

use std::fmt::Write as _;

use super::go_quote;

/// Why `ParseFloat` refused a text, as Go's `strconv.NumError.Err` says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseFloatError {
    /// `strconv.ErrSyntax`: not a Go float.
    Syntax,
    /// `strconv.ErrRange`: a float beyond float64 (Go returns ±Inf with the error).
    Range,
}

impl ParseFloatError {
    /// Go's `NumError.Error()` for `ParseFloat(text)`:
    /// `strconv.ParseFloat: parsing "x": invalid syntax`.
    pub fn message(self, text: &str) -> String {
        let reason = match self {
            ParseFloatError::Syntax => "invalid syntax",
            ParseFloatError::Range => "value out of range",
        };
        format!(
            "strconv.ParseFloat: parsing {}: {reason}",
            go_quote::quote(text)
        )
    }
}

/// `strconv.FormatFloat(value, format, precision, 64)`, with `None` for Go's
/// precision -1 (the fewest digits that read back exactly). `format` is one of
/// `e E f g G x X`; any other prints `%` and the format, as Go does. `'x'` is
/// always printed with the fewest digits.
pub fn format_float(value: f64, format: char, precision: Option<usize>) -> String {
    let mut out = String::new();
    write_float(&mut out, value, format, precision);
    out
}

/// [`format_float`] appended to `out`.
pub fn write_float(out: &mut String, value: f64, format: char, precision: Option<usize>) {
    if !matches!(format, 'e' | 'E' | 'f' | 'g' | 'G' | 'x' | 'X') {
        out.push('%');
        out.push(format);
        return;
    }
    if value.is_nan() {
        out.push_str("NaN");
        return;
    }
    if value.is_infinite() {
        out.push_str(if value > 0.0 { "+Inf" } else { "-Inf" });
        return;
    }
    if value.is_sign_negative() {
        out.push('-');
    }
    let abs = value.abs();
    let precision = precision.map(|digits| digits.min(MAX_PRECISION));
    // Writing to a String cannot fail.
    match format {
        'e' | 'E' => {
            let (digits, precision) = match precision {
                Some(precision) => (significant_digits(abs, precision + 1), precision),
                None => {
                    let digits = shortest_digits(abs);
                    let precision = digits.digits.len().saturating_sub(1);
                    (digits, precision)
                }
            };
            push_e(out, &digits, precision, format);
        }
        'f' => {
            let _ = match precision {
                Some(precision) => write!(out, "{abs:.precision$}"),
                None => write!(out, "{abs}"),
            };
        }
        'g' => push_g(out, abs, precision, 'e'),
        'G' => push_g(out, abs, precision, 'E'),
        _ => push_hex(out, abs, format == 'X'),
    }
}

/// `strconv.ParseFloat(text, 64)`: decimal and hexadecimal (`0x1p-2`) floats with
/// `_` between digits, `Inf`/`Infinity` with an optional sign and `NaN` without one,
/// in any case; nothing else, not even surrounding spaces.
pub fn parse_float(text: &str) -> Result<f64, ParseFloatError> {
    if let Some(value) = special_value(text) {
        return Ok(value);
    }
    let bytes = text.as_bytes();
    let mut index = 0;
    let negative = match bytes.first() {
        Some(b'+') => {
            index = 1;
            false
        }
        Some(b'-') => {
            index = 1;
            true
        }
        _ => false,
    };
    let hex = index + 2 < bytes.len()
        && bytes[index] == b'0'
        && bytes[index + 1].eq_ignore_ascii_case(&b'x');
    if hex {
        index += 2;
    }
    let mantissa_start = index;
    let (mut saw_dot, mut saw_digits, mut underscores) = (false, false, false);
    while let Some(&byte) = bytes.get(index) {
        match byte {
            b'_' => underscores = true,
            b'.' if !saw_dot => saw_dot = true,
            _ if byte.is_ascii_digit() || (hex && byte.is_ascii_hexdigit()) => saw_digits = true,
            _ => break,
        }
        index += 1;
    }
    if !saw_digits {
        return Err(ParseFloatError::Syntax);
    }
    let mantissa = &bytes[mantissa_start..index];
    let exponent_char = if hex { b'p' } else { b'e' };
    let mut exponent: i64 = 0;
    if bytes
        .get(index)
        .is_some_and(|byte| byte.eq_ignore_ascii_case(&exponent_char))
    {
        index += 1;
        let sign = match bytes.get(index) {
            Some(b'+') => {
                index += 1;
                1
            }
            Some(b'-') => {
                index += 1;
                -1
            }
            _ => 1,
        };
        if !bytes.get(index).is_some_and(u8::is_ascii_digit) {
            return Err(ParseFloatError::Syntax);
        }
        while let Some(&byte) = bytes.get(index) {
            match byte {
                b'_' => underscores = true,
                // Go stops counting at 10000: any such exponent overflows or underflows.
                b'0'..=b'9' if exponent < 10_000 => {
                    exponent = exponent * 10 + i64::from(byte - b'0')
                }
                b'0'..=b'9' => {}
                _ => break,
            }
            index += 1;
        }
        exponent *= sign;
    } else if hex {
        return Err(ParseFloatError::Syntax);
    }
    if index != bytes.len() || (underscores && !underscores_between_digits(text)) {
        return Err(ParseFloatError::Syntax);
    }
    let value = if hex {
        hex_value(mantissa, exponent, negative)?
    } else if underscores {
        decimal_value(&text.replace('_', ""))?
    } else {
        decimal_value(text)?
    };
    Ok(value)
}

/// Go's `int64(v)` on amd64 (where promtool runs): truncation toward zero, and the
/// "integer indefinite" value `math.MinInt64` for NaN and out-of-range inputs.
pub fn go_int64(v: f64) -> i64 {
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    if v.is_nan() || !(-TWO_POW_63..TWO_POW_63).contains(&v) {
        return i64::MIN;
    }
    v as i64
}

/// The most digits a precision asks for; 800 is beyond the exact decimal expansion of
/// every float64 but the tiniest subnormals' fixed-point form.
const MAX_PRECISION: usize = 800;

/// Decimal digits of a finite, non-negative float without trailing zeros:
/// value = 0.d1d2... × 10^decimal_point.
struct Digits {
    digits: Vec<u8>,
    decimal_point: i32,
}

fn shortest_digits(abs: f64) -> Digits {
    digits_of_exponent_form(&format!("{abs:e}"))
}

fn significant_digits(abs: f64, significant: usize) -> Digits {
    let significant = significant.clamp(1, MAX_PRECISION);
    digits_of_exponent_form(&format!("{:.*e}", significant - 1, abs))
}

/// The digits of Rust's exponent form (`1.2345e6`, `0e0`), never negative here.
fn digits_of_exponent_form(text: &str) -> Digits {
    let (mantissa, exponent) = text.split_once('e').unwrap_or((text, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    let decimal_point = if digits.is_empty() { 0 } else { exponent + 1 };
    Digits {
        digits,
        decimal_point,
    }
}

/// Go's `fmtE`: `d.ddde±XX`, `precision` digits after the point.
fn push_e(out: &mut String, digits: &Digits, precision: usize, exponent_char: char) {
    out.push(digits.digits.first().map_or('0', |byte| char::from(*byte)));
    if precision > 0 {
        out.push('.');
        for index in 1..=precision {
            out.push(
                digits
                    .digits
                    .get(index)
                    .map_or('0', |byte| char::from(*byte)),
            );
        }
    }
    out.push(exponent_char);
    let exponent = if digits.digits.is_empty() {
        0
    } else {
        digits.decimal_point - 1
    };
    out.push(if exponent < 0 { '-' } else { '+' });
    let _ = write!(out, "{:02}", exponent.unsigned_abs());
}

/// Go's `fmtF`: `ddd.ddd`, `precision` digits after the point.
fn push_f(out: &mut String, digits: &Digits, precision: usize) {
    let digit_at = |index: i64| {
        usize::try_from(index)
            .ok()
            .and_then(|index| digits.digits.get(index))
            .map_or('0', |byte| char::from(*byte))
    };
    if digits.decimal_point > 0 {
        for index in 0..i64::from(digits.decimal_point) {
            out.push(digit_at(index));
        }
    } else {
        out.push('0');
    }
    if precision > 0 {
        out.push('.');
        for index in 0..precision as i64 {
            out.push(digit_at(i64::from(digits.decimal_point) + index));
        }
    }
}

/// Go's `%g`: `%e` for exponents below -4 or from the precision up (from 6 when
/// the precision is the shortest), `%f` otherwise.
fn push_g(out: &mut String, abs: f64, precision: Option<usize>, exponent_char: char) {
    let (digits, shortest, mut precision) = match precision {
        None => {
            let digits = shortest_digits(abs);
            let precision = digits.digits.len();
            (digits, true, precision)
        }
        Some(precision) => {
            let precision = precision.max(1);
            (significant_digits(abs, precision), false, precision)
        }
    };
    let digit_count = digits.digits.len();
    let decimal_point = i64::from(digits.decimal_point);
    let mut exponent_precision = precision as i64;
    if exponent_precision > digit_count as i64 && digit_count as i64 >= decimal_point {
        exponent_precision = digit_count as i64;
    }
    if shortest {
        exponent_precision = 6;
    }
    let exponent = decimal_point - 1;
    if exponent < -4 || exponent >= exponent_precision {
        precision = precision.min(digit_count);
        push_e(out, &digits, precision.saturating_sub(1), exponent_char);
        return;
    }
    if precision as i64 > decimal_point {
        precision = digit_count;
    }
    push_f(
        out,
        &digits,
        usize::try_from(precision as i64 - decimal_point).unwrap_or(0),
    );
}

/// Go's `%x` of a float with the fewest digits: `0x1.e848p+19`.
fn push_hex(out: &mut String, abs: f64, upper: bool) {
    let start = out.len();
    if abs == 0.0 {
        out.push_str("0x0p+00");
    } else {
        let bits = abs.to_bits();
        let mut exponent = ((bits >> 52) & 0x7ff) as i64;
        let mut mantissa = bits & ((1u64 << 52) - 1);
        if exponent == 0 {
            // Subnormal: normalise so the leading bit is the implicit 1.
            exponent = 1;
            while mantissa & (1u64 << 52) == 0 {
                mantissa <<= 1;
                exponent -= 1;
            }
            mantissa &= (1u64 << 52) - 1;
        }
        let exponent = exponent - 1023;
        let mut fraction = format!("{mantissa:013x}");
        while fraction.ends_with('0') {
            fraction.pop();
        }
        let sign = if exponent < 0 { '-' } else { '+' };
        let dot = if fraction.is_empty() { "" } else { "." };
        let _ = write!(out, "0x1{dot}{fraction}p{sign}{:02}", exponent.abs());
    }
    if upper {
        out[start..].make_ascii_uppercase();
    }
}

/// `Inf`, `+Infinity`, `NaN` and the like, as Go's `special` reads them: a sign is
/// allowed before the infinities only.
fn special_value(text: &str) -> Option<f64> {
    let (sign, unsigned) = match text.as_bytes().first() {
        Some(b'+') => (Some(1.0), &text[1..]),
        Some(b'-') => (Some(-1.0), &text[1..]),
        _ => (None, text),
    };
    if unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("infinity") {
        return Some(sign.unwrap_or(1.0) * f64::INFINITY);
    }
    (sign.is_none() && unsigned.eq_ignore_ascii_case("nan")).then_some(f64::NAN)
}

/// Go's `underscoreOK`: each `_` stands between two digits, or between the base
/// prefix and a digit.
fn underscores_between_digits(text: &str) -> bool {
    let bytes = text.strip_prefix(['+', '-']).unwrap_or(text).as_bytes();
    // What came last: the start, a digit (or base prefix), an underscore, other.
    #[derive(PartialEq)]
    enum Last {
        Start,
        Digit,
        Underscore,
        Other,
    }
    let mut last = Last::Start;
    let mut index = 0;
    let mut hex = false;
    if bytes.len() >= 2 && bytes[0] == b'0' && matches!(bytes[1] | 0x20, b'b' | b'o' | b'x') {
        index = 2;
        last = Last::Digit;
        hex = bytes[1] | 0x20 == b'x';
    }
    for &byte in &bytes[index..] {
        if byte.is_ascii_digit() || (hex && byte.is_ascii_hexdigit()) {
            last = Last::Digit;
        } else if byte == b'_' {
            if last != Last::Digit {
                return false;
            }
            last = Last::Underscore;
        } else {
            if last == Last::Underscore {
                return false;
            }
            last = Last::Other;
        }
    }
    last != Last::Underscore
}

/// A checked decimal float text (sign, digits, point, exponent) as float64.
fn decimal_value(text: &str) -> Result<f64, ParseFloatError> {
    let value: f64 = text.parse().map_err(|_| ParseFloatError::Syntax)?;
    if value.is_infinite() {
        return Err(ParseFloatError::Range);
    }
    Ok(value)
}

/// Go's `atofHex`: the hexadecimal mantissa digits (with `.` and `_`) times two to
/// `exponent`, rounded half to even once, with subnormals and overflow as Go has them.
fn hex_value(mantissa_text: &[u8], exponent: i64, negative: bool) -> Result<f64, ParseFloatError> {
    const MANTISSA_BITS: u32 = 52;
    const BIAS: i64 = -1023;
    const MAX_EXPONENT: i64 = 1023;
    const MIN_EXPONENT: i64 = -1022;
    // At most 16 hex digits fit a u64; later non-zero digits only mark the rest.
    let (mut mantissa, mut truncated) = (0u64, false);
    let (mut digit_count, mut kept_digits, mut decimal_point) = (0i64, 0i64, 0i64);
    let mut saw_dot = false;
    for &byte in mantissa_text {
        match byte {
            b'_' => {}
            b'.' => {
                saw_dot = true;
                decimal_point = digit_count;
            }
            _ => {
                let digit = char::from(byte).to_digit(16).unwrap_or(0);
                if digit == 0 && digit_count == 0 {
                    decimal_point -= 1;
                    continue;
                }
                digit_count += 1;
                if kept_digits < 16 {
                    mantissa = mantissa * 16 + u64::from(digit);
                    kept_digits += 1;
                } else if digit != 0 {
                    truncated = true;
                }
            }
        }
    }
    if !saw_dot {
        decimal_point = digit_count;
    }
    let mut exponent = if mantissa == 0 {
        0
    } else {
        decimal_point * 4 + exponent - kept_digits * 4
    };
    exponent += i64::from(MANTISSA_BITS);
    // A leading 1 bit, the mantissa bits, then two rounding bits whose lower one
    // also records any non-zero bit below it.
    while mantissa != 0 && mantissa >> (MANTISSA_BITS + 2) == 0 {
        mantissa <<= 1;
        exponent -= 1;
    }
    if truncated {
        mantissa |= 1;
    }
    while mantissa >> (1 + MANTISSA_BITS + 2) != 0 {
        mantissa = (mantissa >> 1) | (mantissa & 1);
        exponent += 1;
    }
    while mantissa > 1 && exponent < MIN_EXPONENT - 2 {
        mantissa = (mantissa >> 1) | (mantissa & 1);
        exponent += 1;
    }
    let mut round = mantissa & 3;
    mantissa >>= 2;
    round |= mantissa & 1;
    exponent += 2;
    if round == 3 {
        mantissa += 1;
        if mantissa == 1 << (1 + MANTISSA_BITS) {
            mantissa >>= 1;
            exponent += 1;
        }
    }
    if mantissa >> MANTISSA_BITS == 0 {
        exponent = BIAS;
    }
    if exponent > MAX_EXPONENT {
        return Err(ParseFloatError::Range);
    }
    let mut bits = mantissa & ((1 << MANTISSA_BITS) - 1);
    bits |= (((exponent - BIAS) & 0x7ff) as u64) << MANTISSA_BITS;
    if negative {
        bits |= 1 << 63;
    }
    Ok(f64::from_bits(bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortest_forms_match_go() {
        for (value, g, e, f) in [
            (0.0, "0", "0E+00", "0"),
            (1.0, "1", "1E+00", "1"),
            (15.0, "15", "1.5E+01", "15"),
            (1234567.0, "1.234567e+06", "1.234567E+06", "1234567"),
            (123456.0, "123456", "1.23456E+05", "123456"),
            (0.0001, "0.0001", "1E-04", "0.0001"),
            (0.00001, "1e-05", "1E-05", "0.00001"),
            (-0.00025, "-0.00025", "-2.5E-04", "-0.00025"),
            (1e21, "1e+21", "1E+21", "1000000000000000000000"),
            (1e300, "1e+300", "1E+300", &format!("1{}", "0".repeat(300))),
            (
                0.1 + 0.2,
                "0.30000000000000004",
                "3.0000000000000004E-01",
                "0.30000000000000004",
            ),
            (-0.0, "-0", "-0E+00", "-0"),
            (f64::INFINITY, "+Inf", "+Inf", "+Inf"),
            (f64::NEG_INFINITY, "-Inf", "-Inf", "-Inf"),
            (f64::NAN, "NaN", "NaN", "NaN"),
        ] {
            assert_eq!(format_float(value, 'g', None), g, "{value} g");
            assert_eq!(format_float(value, 'E', None), e, "{value} E");
            assert_eq!(format_float(value, 'f', None), f, "{value} f");
        }
    }

    #[test]
    fn fixed_precisions_match_go() {
        assert_eq!(format_float(1.234567, 'g', Some(4)), "1.235");
        assert_eq!(format_float(100000.0, 'g', Some(4)), "1e+05");
        assert_eq!(format_float(0.00012345, 'g', Some(4)), "0.0001234");
        assert_eq!(format_float(1234.5678, 'e', Some(6)), "1.234568e+03");
        assert_eq!(format_float(2.345678, 'f', Some(2)), "2.35");
        assert_eq!(format_float(2.5, 'f', Some(0)), "2");
        assert_eq!(format_float(1.0, 'G', Some(0)), "1");
        assert_eq!(format_float(500000.0, 'x', None), "0x1.e848p+18");
        assert_eq!(format_float(1.0, 'X', None), "0X1P+00");
        assert_eq!(format_float(1.0, 'q', None), "%q");
    }

    proptest::proptest! {
        #[test]
        fn shortest_g_reads_back(bits in proptest::prelude::any::<u64>()) {
            let value = f64::from_bits(bits);
            if value.is_finite() {
                let text = format_float(value, 'g', None);
                proptest::prop_assert_eq!(parse_float(&text).map(f64::to_bits), Ok(bits));
                // strconv's shortest %g uses the exponent form outside [1e-4, 1e6).
                let exponent_form = text.contains('e');
                let abs = value.abs();
                proptest::prop_assert_eq!(exponent_form, abs != 0.0 && !(1e-4..1e6).contains(&abs));
            }
        }

        #[test]
        fn hex_form_reads_back(bits in proptest::prelude::any::<u64>()) {
            let value = f64::from_bits(bits);
            if value.is_finite() {
                let text = format_float(value, 'x', None);
                proptest::prop_assert_eq!(parse_float(&text).map(f64::to_bits), Ok(bits));
            }
        }
    }

    #[test]
    fn parse_accepts_what_go_accepts() {
        for (text, value) in [
            ("1", 1.0),
            ("-1.5", -1.5),
            ("+.5", 0.5),
            ("5.", 5.0),
            ("1e3", 1000.0),
            ("1E-2", 0.01),
            ("1_000.5", 1000.5),
            ("0x1p4", 16.0),
            ("0X1.8P1", 3.0),
            ("0x_1p0", 1.0),
            ("0x.8p1", 1.0),
            ("0x1p-1074", 5e-324),
            ("0x1.fffffffffffffp1023", f64::MAX),
            ("0x1.00000000000008p0", 1.0),
            ("0x1.00000000000018p0", 1.0 + 2.0 * f64::EPSILON),
            ("0x1.000000000000080000001p0", 1.0 + f64::EPSILON),
            ("1e-400", 0.0),
            ("Inf", f64::INFINITY),
            ("-infinity", f64::NEG_INFINITY),
            ("+INF", f64::INFINITY),
        ] {
            assert_eq!(parse_float(text), Ok(value), "{text}");
        }
        assert!(parse_float("NaN").is_ok_and(f64::is_nan));
        assert!(parse_float("nan").is_ok_and(f64::is_nan));
    }

    #[test]
    fn parse_refuses_what_go_refuses() {
        for text in [
            "", " 1", "1 ", "+", ".", "e5", "1e", "1e+", "0x10", "0x", "0x1.8", "1__0", "_1", "1_",
            "1_.5", "+nan", "-NaN", "infinite", "infx", "1.5.5", "--1", "1e5x", "٣",
        ] {
            assert_eq!(parse_float(text), Err(ParseFloatError::Syntax), "{text:?}");
        }
        assert_eq!(parse_float("1e400"), Err(ParseFloatError::Range));
        assert_eq!(parse_float("0x1p1024"), Err(ParseFloatError::Range));
        assert_eq!(
            parse_float("0x1.fffffffffffff8p1023"),
            Err(ParseFloatError::Range)
        );
        assert_eq!(
            ParseFloatError::Syntax.message("x\n"),
            r#"strconv.ParseFloat: parsing "x\n": invalid syntax"#
        );
    }
}
