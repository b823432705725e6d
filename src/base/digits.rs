//! The decimal digits of an unsigned integer, in a buffer on the stack: numbers are
//! written into every generated file, and `to_string` or `write!` per number (an
//! allocation, the formatting machinery, 128-bit division) was a measurable share
//! of a build.

/// Enough for `u128::MAX` (39 digits).
const CAPACITY: usize = 39;

pub struct Digits {
    buffer: [u8; CAPACITY],
    start: usize,
}

impl Digits {
    pub fn of(value: u128) -> Digits {
        let mut digits = Digits {
            buffer: [0; CAPACITY],
            start: CAPACITY,
        };
        match u64::try_from(value) {
            // 64-bit division when it fits: nearly every number.
            Ok(mut rest) => loop {
                digits.start -= 1;
                digits.buffer[digits.start] = b'0' + (rest % 10) as u8;
                rest /= 10;
                if rest == 0 {
                    break;
                }
            },
            Err(_) => {
                let mut rest = value;
                loop {
                    digits.start -= 1;
                    digits.buffer[digits.start] = b'0' + (rest % 10) as u8;
                    rest /= 10;
                    if rest == 0 {
                        break;
                    }
                }
            }
        }
        digits
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits were written.
        std::str::from_utf8(&self.buffer[self.start..]).unwrap_or("0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_match_to_string() {
        for value in [
            0,
            7,
            10,
            99,
            1_000_000,
            u128::from(u64::MAX),
            u128::from(u64::MAX) + 1,
            u128::MAX,
        ] {
            assert_eq!(Digits::of(value).as_str(), value.to_string());
        }
    }
}
