//! "Did you mean" suggestions for misspelled names, fields and block kinds.
//!
//! Invariant: a suggestion is offered only when it is close enough to be a likely
//! typo (Jaro-Winkler similarity at least [`SIMILARITY_THRESHOLD`]), and never for
//! the misspelled word itself; among equally close candidates the first in
//! sorted order wins, so suggestions are deterministic.

/// Jaro-Winkler similarity from which a candidate counts as a likely typo.
/// 0.8 accepts `objectve`, `treshold`, `histgram`, `risk-pagr` and rejects
/// unrelated words such as `team` for `window`.
pub const SIMILARITY_THRESHOLD: f64 = 0.8;

/// The candidate closest to `word`, if any is close enough.
pub fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let lowered = word.to_ascii_lowercase();
    let mut sorted: Vec<&'a str> = candidates.into_iter().collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut best: Option<(&'a str, f64)> = None;
    for candidate in sorted {
        if candidate == word {
            continue;
        }
        let score = strsim::jaro_winkler(&lowered, &candidate.to_ascii_lowercase());
        if score >= SIMILARITY_THRESHOLD && best.is_none_or(|(_, best_score)| score > best_score) {
            best = Some((candidate, score));
        }
    }
    best.map(|(candidate, _)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_get_the_intended_word() {
        let fields = ["objective", "window", "threshold", "histogram", "team"];
        assert_eq!(did_you_mean("objectve", fields), Some("objective"));
        assert_eq!(did_you_mean("treshold", fields), Some("threshold"));
        assert_eq!(did_you_mean("histgram", fields), Some("histogram"));
        assert_eq!(did_you_mean("Window", fields), Some("window"));
    }

    #[test]
    fn unrelated_words_get_nothing() {
        assert_eq!(did_you_mean("colour", ["objective", "window"]), None);
        assert_eq!(did_you_mean("x", ["objective"]), None);
    }
}
