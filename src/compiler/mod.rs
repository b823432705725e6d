//! The SLO compiler: `.slo` text to a typed model, and the model to every file the
//! monitoring stack needs.
//!
//! ```text
//! .slo text ──syntax::parse──▶ ast ──check::check──▶ ir::Program ──emit──▶ files
//! ```
//!
//! Knows Prometheus only through `crate::prometheus` (PromQL parsing, name rules,
//! matcher quoting); knows nothing of the tools or the command line.

pub mod check;
pub mod emit;
pub mod ir;
pub mod syntax;

use crate::base::diagnostic::{CodeInfo, Diagnostic, SourceMap};

/// The codes of every phase, one list per phase: syntax (E01xx), check (E02xx to
/// E04xx, W0xxx) and generation (W05xx); `mlslo explain` joins them with the
/// codes of the other layers.
pub const CODES: &[&[CodeInfo]] = &[syntax::CODES, check::CODES, emit::CODES];

/// Parses every file of `map` and checks them together as one program.
///
/// Returns the typed program (`Some` exactly when no diagnostic is an error) and every
/// diagnostic of every file, in source order.
///
/// ```
/// use mlslo::base::diagnostic::SourceMap;
///
/// let mut map = SourceMap::new();
/// map.add("fraud.slo", r#"
/// service "fraud-detector" {
///   team = "risk-ml"
///   availability "predict-api" {
///     errors    = http_requests_total{status=~"5.."}
///     total     = http_requests_total
///     objective = 99.9%
///   }
/// }
/// "#);
/// let (program, diagnostics) = mlslo::check_sources(&map);
/// assert!(diagnostics.is_empty(), "{diagnostics:?}");
/// assert!(program.is_some());
/// ```
pub fn check_sources(map: &SourceMap) -> (Option<ir::Program>, Vec<Diagnostic>) {
    let all: Vec<usize> = (0..map.files().len()).collect();
    check_files(map, &all)
}

/// Like [`check_sources`], for the files of `map` at `file_indices` only (the CLI
/// leaves out files it could not read as text, which already have a diagnostic).
///
/// A file with a syntax error contributes its one syntax diagnostic; the other files
/// are still checked, so one run reports the problems of every file.
pub fn check_files(
    map: &SourceMap,
    file_indices: &[usize],
) -> (Option<ir::Program>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut parsed = Vec::new();
    for file in file_indices
        .iter()
        .filter_map(|&index| map.files().get(index))
    {
        match syntax::parse(&file.text, file.base) {
            Ok(ast) => parsed.push(ast),
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }
    let result = check::check(&parsed);
    diagnostics.extend(result.diagnostics);
    // Stable: the checker's own order is kept among diagnostics at one offset.
    diagnostics.sort_by_key(|diagnostic| diagnostic.primary.span.start);
    let program = if diagnostics.iter().any(Diagnostic::is_error) {
        None
    } else {
        result.program
    };
    (program, diagnostics)
}

#[cfg(test)]
mod tests {
    //! Property tests of the whole front end: parse, check and render never panic on
    //! mutated real files, and what they report is well formed. The case count follows
    //! `PROPTEST_CASES`; a long run is
    //! `PROPTEST_CASES=100000 cargo test --release --lib tests::`.

    use super::*;
    use proptest::prelude::*;

    /// Every example file, so mutations reach every part of the checker.
    const EXAMPLES: [&str; 4] = [
        include_str!("../../rules/fraud-detector.slo"),
        include_str!("../../rules/llm-assistant.slo"),
        include_str!("../../rules/feature-pipeline.slo"),
        include_str!("../../rules/routing.slo"),
    ];

    /// Fragments that are likely to make a file wrong in an interesting way.
    const FRAGMENTS: [&str; 24] = [
        "}",
        "{",
        "\"",
        "'",
        "=",
        "[",
        "]",
        ",",
        "100%",
        "0%",
        "1e400",
        "5 mins",
        "-1h",
        "latency \"x\" {",
        "objective = 99.9%",
        "window = 1h",
        "routing {",
        "service \"s\" {",
        "errors = up",
        "for = 0s",
        "route { a = \"b\" } -> \"nobody\"",
        "inhibit kind \"a\" over \"b\" on [x]",
        "inhibit kind \"b\" over \"a\" on [x]",
        "{code=~\"(\"}",
    ];

    #[derive(Clone, Debug)]
    enum Edit {
        Delete { at: usize, len: usize },
        Insert { at: usize, fragment: usize },
        Duplicate { at: usize, len: usize },
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            (any::<usize>(), 1usize..40).prop_map(|(at, len)| Edit::Delete { at, len }),
            (any::<usize>(), 0..FRAGMENTS.len())
                .prop_map(|(at, fragment)| Edit::Insert { at, fragment }),
            (any::<usize>(), 1usize..200).prop_map(|(at, len)| Edit::Duplicate { at, len }),
        ]
    }

    /// Applies edits on character boundaries, so the result stays valid UTF-8.
    fn apply(text: &str, edits: &[Edit]) -> String {
        let mut text = text.to_string();
        let boundary = |text: &str, at: usize| {
            let mut at = at % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            at
        };
        for edit in edits {
            match *edit {
                Edit::Delete { at, len } => {
                    let start = boundary(&text, at);
                    let end = boundary(&text, start.saturating_add(len).min(text.len()));
                    text.replace_range(start..end.max(start), "");
                }
                Edit::Insert { at, fragment } => {
                    let at = boundary(&text, at);
                    text.insert_str(at, &format!(" {} ", FRAGMENTS[fragment]));
                }
                Edit::Duplicate { at, len } => {
                    let start = boundary(&text, at);
                    let end = boundary(&text, start.saturating_add(len).min(text.len()));
                    let copy = text[start..end.max(start)].to_string();
                    text.insert_str(start, &copy);
                }
            }
        }
        text
    }

    fn assert_well_formed(map: &SourceMap) {
        let (program, diagnostics) = check_sources(map);
        let has_error = diagnostics.iter().any(Diagnostic::is_error);
        assert_eq!(
            program.is_some(),
            !has_error,
            "a program exactly when no error"
        );
        let end = map
            .files()
            .last()
            .map_or(0, |file| file.base as usize + file.text.len());
        for diagnostic in &diagnostics {
            assert!(
                CODES
                    .iter()
                    .flat_map(|phase| phase.iter())
                    .any(|info| info.code == diagnostic.code),
                "{} is not registered",
                diagnostic.code
            );
            for label in std::iter::once(&diagnostic.primary).chain(&diagnostic.secondary) {
                assert!(
                    label.span.start <= label.span.end && label.span.end as usize <= end,
                    "{diagnostic:?} points outside the sources"
                );
            }
        }
        let human = crate::base::render::render_human(map, &diagnostics, false);
        assert!(human.lines().all(|line| line == line.trim_end()));
        let json = crate::base::render::render_json(map, &diagnostics);
        let parsed: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(parsed.as_array().map(Vec::len), Some(diagnostics.len()));
    }

    proptest! {
        #[test]
        fn mutated_examples_get_well_formed_diagnostics(
            example in 0..EXAMPLES.len(),
            edits in proptest::collection::vec(edit(), 1..6),
        ) {
            let mut map = SourceMap::new();
            map.add("mutated.slo", apply(EXAMPLES[example], &edits));
            assert_well_formed(&map);
        }

        #[test]
        fn mutated_files_checked_together_get_well_formed_diagnostics(
            edits in proptest::collection::vec(edit(), 0..4),
            arbitrary in ".{0,200}",
        ) {
            let mut map = SourceMap::new();
            for (index, example) in EXAMPLES.iter().enumerate() {
                map.add(format!("{index}.slo"), apply(example, &edits));
            }
            map.add("arbitrary.slo", arbitrary);
            assert_well_formed(&map);
        }
    }

    #[test]
    fn the_examples_are_clean_together() {
        let mut map = SourceMap::new();
        for (index, example) in EXAMPLES.iter().enumerate() {
            map.add(format!("{index}.slo"), *example);
        }
        let (program, diagnostics) = check_sources(&map);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert!(program.is_some());
    }
}
