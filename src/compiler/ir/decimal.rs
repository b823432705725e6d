//! Exact decimal numbers for objectives, thresholds and burn-rate factors.
//!
//! A [`Decimal`] is `mantissa × 10^-scale` with an `i128` mantissa, built from the
//! literal text the user wrote (never from an `f64`), so `1 - 99.9%` is exactly
//! `0.001` and emitters print it exactly. Invariant: values are kept normalised
//! (no trailing zero digits in the mantissa when `scale > 0`), so equal numbers
//! have equal representations and `Display` never prints `1.50`.
//! Every operation is checked: overflow is a `None`, never a panic.

use std::cmp::Ordering;
use std::fmt;

use crate::base::digits::Digits;

/// Largest scale accepted from literals and kept by operations; 10^-30 is far below
/// anything an SLO needs, and keeps products of two such numbers inside an `i128`.
pub const MAX_SCALE: u32 = 30;

/// Fractional digits kept by [`Decimal::div_rounded`] when a quotient does not terminate.
pub const DIVISION_SCALE: u32 = 12;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decimal {
    mantissa: i128,
    scale: u32,
}

impl Decimal {
    pub const ZERO: Decimal = Decimal {
        mantissa: 0,
        scale: 0,
    };
    pub const ONE: Decimal = Decimal {
        mantissa: 1,
        scale: 0,
    };
    pub const HUNDRED: Decimal = Decimal {
        mantissa: 100,
        scale: 0,
    };

    /// `mantissa × 10^-scale`, normalised; `None` when `scale` is above [`MAX_SCALE`].
    pub fn new(mantissa: i128, scale: u32) -> Option<Decimal> {
        if scale > MAX_SCALE {
            return None;
        }
        Some(Decimal { mantissa, scale }.normalised())
    }

    pub fn from_integer(value: i64) -> Decimal {
        Decimal {
            mantissa: i128::from(value),
            scale: 0,
        }
    }

    /// Parses a literal as the lexer accepts it: `-0.5`, `99.9`, `1e3`, `1.5E-2`.
    /// `None` for malformed text or a number that needs more than [`MAX_SCALE`]
    /// fractional digits or more digits than an `i128` holds.
    pub fn parse(text: &str) -> Option<Decimal> {
        let text = text.trim();
        let (negative, rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (significand, exponent) = match rest.find(['e', 'E']) {
            Some(index) => {
                let exponent: i64 = rest[index + 1..].parse().ok()?;
                (&rest[..index], exponent)
            }
            None => (rest, 0),
        };
        let (integer_digits, fraction_digits) = match significand.split_once('.') {
            Some((integer, fraction)) => (integer, fraction),
            None => (significand, ""),
        };
        if integer_digits.is_empty() && fraction_digits.is_empty() {
            return None;
        }
        if !integer_digits.bytes().all(|b| b.is_ascii_digit())
            || !fraction_digits.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let mut mantissa: i128 = 0;
        // Leading zeros do not count against the i128 range; trailing fraction zeros
        // are dropped so that `0.50000000000000000000000000000000000` still parses.
        let fraction_digits = fraction_digits.trim_end_matches('0');
        for digit in integer_digits.bytes().chain(fraction_digits.bytes()) {
            mantissa = mantissa
                .checked_mul(10)?
                .checked_add(i128::from(digit - b'0'))?;
        }
        if mantissa == 0 {
            // Any exponent of zero is zero; returning early also keeps `0e999999999`
            // from looping over its exponent.
            return Some(Decimal::ZERO);
        }
        let mut scale = i64::try_from(fraction_digits.len())
            .ok()?
            .checked_sub(exponent)?;
        while scale < 0 {
            mantissa = mantissa.checked_mul(10)?;
            scale += 1;
        }
        let mut scale = u32::try_from(scale).ok()?;
        while scale > MAX_SCALE && mantissa % 10 == 0 && mantissa != 0 {
            mantissa /= 10;
            scale -= 1;
        }
        if mantissa == 0 {
            scale = 0;
        }
        if negative {
            mantissa = -mantissa;
        }
        Decimal::new(mantissa, scale)
    }

    pub fn is_zero(self) -> bool {
        self.mantissa == 0
    }

    pub fn is_negative(self) -> bool {
        self.mantissa < 0
    }

    pub fn is_integer(self) -> bool {
        self.scale == 0
    }

    /// The value as an integer when it is one and fits.
    pub fn to_i64(self) -> Option<i64> {
        if self.scale == 0 {
            i64::try_from(self.mantissa).ok()
        } else {
            None
        }
    }

    /// Nearest `f64`, for comparisons and for the evaluator; never used for output text.
    pub fn to_f64(self) -> f64 {
        // Clinger's fast path: a mantissa below 2^53 and a power of ten up to 10^22 are
        // both exact doubles, so one IEEE division rounds the quotient correctly.
        const EXACT_MANTISSA_LIMIT: i128 = 1 << 53;
        const EXACT_POWERS_OF_TEN: u32 = 22;
        if self.mantissa.abs() < EXACT_MANTISSA_LIMIT && self.scale <= EXACT_POWERS_OF_TEN {
            return self.mantissa as f64 / 10f64.powi(self.scale as i32);
        }
        // Otherwise parsing our own exact text gives the correctly rounded f64.
        self.to_string().parse().unwrap_or(f64::NAN)
    }

    pub fn checked_add(self, other: Decimal) -> Option<Decimal> {
        let scale = self.scale.max(other.scale);
        let left = self.rescaled(scale)?;
        let right = other.rescaled(scale)?;
        Decimal::new(left.checked_add(right)?, scale)
    }

    pub fn checked_sub(self, other: Decimal) -> Option<Decimal> {
        self.checked_add(other.checked_neg()?)
    }

    pub fn checked_neg(self) -> Option<Decimal> {
        Some(Decimal {
            mantissa: self.mantissa.checked_neg()?,
            scale: self.scale,
        })
    }

    pub fn checked_mul(self, other: Decimal) -> Option<Decimal> {
        let mantissa = self.mantissa.checked_mul(other.mantissa)?;
        let mut scale = self.scale + other.scale;
        let mut mantissa = mantissa;
        // Products of in-range numbers may exceed MAX_SCALE only with trailing zeros
        // or true precision loss; the latter is refused rather than rounded silently.
        while scale > MAX_SCALE && mantissa % 10 == 0 {
            mantissa /= 10;
            scale -= 1;
        }
        Decimal::new(mantissa, scale)
    }

    /// `self / other`: exact when the quotient terminates within [`DIVISION_SCALE`]
    /// fractional digits (beyond the operands' own), otherwise rounded half away from
    /// zero at [`DIVISION_SCALE`] digits. The flag says whether the result is exact.
    pub fn div_rounded(self, other: Decimal) -> Option<(Decimal, bool)> {
        if other.is_zero() {
            return None;
        }
        // self / other = (m1 / m2) × 10^(s2 - s1); compute m1 × 10^k / m2 with k
        // chosen so the result has DIVISION_SCALE fractional digits.
        let target_scale = DIVISION_SCALE.max(self.scale);
        // result scale = k + s1 - s2 = target_scale  =>  k = target_scale + s2 - s1
        let shift = i64::from(target_scale) + i64::from(other.scale) - i64::from(self.scale);
        let (numerator, denominator) = if shift >= 0 {
            (
                self.mantissa
                    .checked_mul(10i128.checked_pow(u32::try_from(shift).ok()?)?)?,
                other.mantissa,
            )
        } else {
            (
                self.mantissa,
                other
                    .mantissa
                    .checked_mul(10i128.checked_pow(u32::try_from(-shift).ok()?)?)?,
            )
        };
        let quotient = numerator.checked_div(denominator)?;
        let remainder = numerator.checked_rem(denominator)?;
        let exact = remainder == 0;
        let mut mantissa = quotient;
        let at_least_half = remainder
            .unsigned_abs()
            .checked_mul(2)
            .is_none_or(|twice| twice >= denominator.unsigned_abs());
        if !exact && at_least_half {
            let away = if (numerator < 0) == (denominator < 0) {
                1
            } else {
                -1
            };
            mantissa = mantissa.checked_add(away)?;
        }
        Some((Decimal::new(mantissa, target_scale)?, exact))
    }

    /// `self × 10^exponent`, exact: `99.9` scaled by -2 is `0.999`.
    pub fn scaled_by_power_of_ten(self, exponent: i32) -> Option<Decimal> {
        if exponent >= 0 {
            let factor = 10i128.checked_pow(exponent.unsigned_abs())?;
            Decimal::new(self.mantissa.checked_mul(factor)?, self.scale)
        } else {
            Decimal::new(
                self.mantissa,
                self.scale.checked_add(exponent.unsigned_abs())?,
            )
        }
    }

    fn rescaled(self, scale: u32) -> Option<i128> {
        let factor = 10i128.checked_pow(scale.checked_sub(self.scale)?)?;
        self.mantissa.checked_mul(factor)
    }

    fn normalised(mut self) -> Decimal {
        while self.scale > 0 && self.mantissa % 10 == 0 {
            self.mantissa /= 10;
            self.scale -= 1;
        }
        self
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Decimal) -> Ordering {
        let scale = self.scale.max(other.scale);
        match (self.rescaled(scale), other.rescaled(scale)) {
            (Some(left), Some(right)) => left.cmp(&right),
            // Rescaling overflows only for huge magnitudes; the sign then decides,
            // and otherwise the f64 order is exact enough to be correct.
            _ => self
                .to_f64()
                .partial_cmp(&other.to_f64())
                .unwrap_or(Ordering::Equal),
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Decimal) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Plain positional notation, never an exponent: `0.001`, `14.4`, `-3`, `1000000`.
/// PromQL, YAML and JSON all read this form exactly.
impl fmt::Display for Decimal {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = Digits::of(self.mantissa.unsigned_abs());
        let digits = digits.as_str();
        if self.mantissa < 0 {
            formatter.write_str("-")?;
        }
        let scale = self.scale as usize;
        if scale == 0 {
            return formatter.write_str(digits);
        }
        if digits.len() > scale {
            let (integer, fraction) = digits.split_at(digits.len() - scale);
            formatter.write_str(integer)?;
            formatter.write_str(".")?;
            formatter.write_str(fraction)
        } else {
            formatter.write_str("0.")?;
            for _ in digits.len()..scale {
                formatter.write_str("0")?;
            }
            formatter.write_str(digits)
        }
    }
}

impl serde::Serialize for Decimal {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decimal(text: &str) -> Decimal {
        Decimal::parse(text).expect("test literal is valid")
    }

    #[test]
    fn literals_parse_exactly_and_print_normalised() {
        assert_eq!(decimal("99.9").to_string(), "99.9");
        assert_eq!(decimal("1.50").to_string(), "1.5");
        assert_eq!(decimal("-0.5").to_string(), "-0.5");
        assert_eq!(decimal("1e3").to_string(), "1000");
        assert_eq!(decimal("1.5E-2").to_string(), "0.015");
        assert_eq!(decimal("0.000").to_string(), "0");
        assert_eq!(decimal("007").to_string(), "7");
        assert_eq!(Decimal::parse("1e400"), None);
        assert_eq!(Decimal::parse("abc"), None);
        assert_eq!(Decimal::parse(""), None);
        assert_eq!(Decimal::parse("1e-40"), None);
        assert_eq!(Decimal::parse("0e999999999999"), Some(Decimal::ZERO));
        assert_eq!(Decimal::parse("1e-9223372036854775808"), None);
        assert_eq!(Decimal::parse("-0"), Some(Decimal::ZERO));
    }

    #[test]
    fn one_minus_ninety_nine_point_nine_percent_is_exactly_a_thousandth() {
        let objective = decimal("99.9").scaled_by_power_of_ten(-2).unwrap();
        assert_eq!(
            Decimal::ONE.checked_sub(objective).unwrap().to_string(),
            "0.001"
        );
    }

    #[test]
    fn products_and_quotients_are_exact_when_they_terminate() {
        let product = decimal("0.02").checked_mul(decimal("720")).unwrap();
        assert_eq!(product.to_string(), "14.4");
        let (quotient, exact) = decimal("0.1").div_rounded(decimal("3")).unwrap();
        assert_eq!(
            (quotient.to_string().as_str(), exact),
            ("0.033333333333", false)
        );
        let (quotient, exact) = decimal("2.8").div_rounded(decimal("3")).unwrap();
        assert_eq!(
            (quotient.to_string().as_str(), exact),
            ("0.933333333333", false)
        );
        let (quotient, exact) = decimal("6").div_rounded(decimal("-4")).unwrap();
        assert_eq!((quotient.to_string().as_str(), exact), ("-1.5", true));
        assert_eq!(decimal("1").div_rounded(Decimal::ZERO), None);
        let (quotient, _) = decimal("2").div_rounded(decimal("3")).unwrap();
        assert_eq!(quotient.to_string(), "0.666666666667");
    }

    #[test]
    fn comparison_is_numeric_not_textual() {
        assert!(decimal("0.3") < decimal("0.30001"));
        assert!(decimal("-1") < decimal("0"));
        assert_eq!(decimal("1.0").cmp(&decimal("1")), Ordering::Equal);
        assert!(decimal("100") > decimal("99.999"));
    }

    #[test]
    fn to_f64_is_the_correctly_rounded_value() {
        assert_eq!(decimal("0.001").to_f64(), 0.001);
        assert_eq!(decimal("14.4").to_f64(), 14.4);
    }

    #[test]
    fn the_fast_path_agrees_with_parsing_the_exact_text() {
        // A deterministic spread of mantissas and scales on both sides of the fast path's
        // limits (2^53, 10^22).
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let digits = (state % 19) as u32;
            let mantissa = (state >> 8) as i128 % 10i128.pow(digits.max(1));
            let mantissa = if state & 1 == 0 { mantissa } else { -mantissa };
            let scale = ((state >> 40) % 26) as u32;
            let Some(value) = Decimal::new(mantissa, scale) else {
                continue;
            };
            let parsed: f64 = value.to_string().parse().expect("our text parses");
            assert_eq!(value.to_f64().to_bits(), parsed.to_bits(), "{value}");
        }
    }
}
