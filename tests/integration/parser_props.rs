//! Property tests of the `.slo` parser: it never panics on arbitrary text or on
//! soups of real tokens, and the canonical printer round-trips generated trees
//! (`parse(print(ast)) == ast` up to spans).
//!
//! The case count follows proptest's `PROPTEST_CASES` (default 256 per property),
//! so a long run is `PROPTEST_CASES=1000000 cargo test --release --test integration parser_props::`.

use mlslo::base::diagnostic::{Span, Spanned};
use mlslo::compiler::syntax::ast::{
    Attribute, Block, ByteUnit, Bytes, Duration, File, Inhibit, Item, MatchOp, Matcher, Number,
    Route, Value,
};
use mlslo::compiler::syntax::{parse, print};
use proptest::prelude::*;

/// Tokens of the language and near misses, glued or spaced at random.
const TOKENS: &[&str] = &[
    "service",
    "latency",
    "labels",
    "route",
    "inhibit",
    "over",
    "on",
    "per",
    "continue",
    "true",
    "false",
    "NaN",
    "Inf",
    "x",
    "_a1",
    "=",
    "==",
    "=~",
    "!=",
    "!~",
    "->",
    "-",
    "{",
    "}",
    "[",
    "]",
    ",",
    ";",
    ":",
    ".",
    "%",
    "\"str\"",
    "\"unterminated",
    "'raw'",
    "'",
    "\"",
    "\"\\u{1F600}\"",
    "\"\\q\"",
    "\"\\u{D800}\"",
    "\"\\",
    "5",
    "0.5",
    "-3",
    "5m",
    "1h30m",
    "30m1h",
    "1.5h",
    "250ms",
    "99.9%",
    "10GiB",
    "1e400",
    "1e",
    "5mins",
    "mins",
    "m",
    "metric{a=\"b\"}",
    "metric{",
    "m{a=\"}",
    "a:b",
    "#c\n",
    "//c\n",
    "\n",
    "\r\n",
    "\r",
    "\t",
    " ",
    "\u{feff}",
    "é",
    "\u{a0}",
    "@",
    "\u{0}",
    "999999999999999999999y",
    "m{a=\"\\",
    "m{a=`",
    "{a='",
    "\\",
    "`",
    "\u{1F600}",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop::sample::select(TOKENS),
            prop::sample::select(&["", " ", "\n"][..]),
        ),
        0..60,
    )
    .prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(token, gap)| format!("{token}{gap}"))
            .collect()
    })
}

/// Parses and, on success, checks that the printer round-trips the result.
fn parse_never_panics_and_round_trips(source: &str) -> Result<(), TestCaseError> {
    if let Ok(file) = parse(source, 7) {
        let printed = print(&file);
        let reparsed = parse(&printed, 0)
            .map_err(|error| TestCaseError::fail(format!("{error:?}\nprinted:\n{printed}")))?;
        prop_assert_eq!(strip(file), strip(reparsed), "printed:\n{}", printed);
    }
    Ok(())
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic(source in any::<String>()) {
        parse_never_panics_and_round_trips(&source)?;
    }

    #[test]
    fn arbitrary_grammar_heavy_strings_never_panic(
        source in "[a-z0-9 \n{}\\[\\]=,;\"'#/%.:~!<>\\\\-]{0,80}"
    ) {
        parse_never_panics_and_round_trips(&source)?;
    }

    #[test]
    fn token_soups_never_panic(source in token_soup()) {
        parse_never_panics_and_round_trips(&source)?;
    }

    #[test]
    fn printed_trees_parse_back_to_themselves(file in file_strategy()) {
        let printed = print(&file);
        let reparsed = parse(&printed, 0)
            .map_err(|error| TestCaseError::fail(format!("{error:?}\nprinted:\n{printed}")))?;
        prop_assert_eq!(strip(file), strip(reparsed), "printed:\n{}", printed);
    }

    #[test]
    fn spans_of_parsed_trees_lie_inside_the_source(file in file_strategy(), base in 0u32..1_000_000) {
        let printed = print(&file);
        let parsed = parse(&printed, base).map_err(|error| TestCaseError::fail(format!("{error:?}")))?;
        let limit = base as usize + printed.len();
        for item in &parsed.items {
            let span = item.span();
            prop_assert!(span.start as usize >= base as usize && span.end as usize <= limit);
            prop_assert!(span.start <= span.end);
            let text = &printed[span.start as usize - base as usize..span.end as usize - base as usize];
            prop_assert!(!text.starts_with(char::is_whitespace) && !text.ends_with(char::is_whitespace));
        }
    }
}

// ---------------------------------------------------------------------------
// Generators of trees the parser can produce.
// ---------------------------------------------------------------------------

fn spanned<T>(node: T) -> Spanned<T> {
    Spanned::new(Span::default(), node)
}

/// String contents: arbitrary Unicode, or text dense in quotes, backslashes,
/// line breaks and other characters the printer must escape.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z \"'\\\\\n\r\t#{}\u{0}\u{7f}\u{1F600}é-]{0,12}",
    ]
}

fn identifier() -> impl Strategy<Value = String> {
    "[a-zA-Z_][a-zA-Z0-9_]{0,8}"
}

/// Block kinds cannot be `route` or `inhibit`, which start their own items.
fn block_kind() -> impl Strategy<Value = String> {
    identifier().prop_filter("keyword items", |kind| kind != "route" && kind != "inhibit")
}

fn number() -> impl Strategy<Value = Number> {
    "-?[0-9]{1,6}(\\.[0-9]{1,4})?([eE][+-]?[0-9]{1,2})?".prop_map(|text| {
        let value = text.parse::<f64>().expect("the pattern is a float literal");
        Number { text, value }
    })
}

fn duration() -> impl Strategy<Value = Duration> {
    prop_oneof![0i64..100_000_000, 0i64..=i64::MAX].prop_map(|millis| Duration { millis })
}

fn byte_unit() -> impl Strategy<Value = ByteUnit> {
    prop::sample::select(vec![
        ByteUnit::B,
        ByteUnit::KB,
        ByteUnit::MB,
        ByteUnit::GB,
        ByteUnit::TB,
        ByteUnit::KiB,
        ByteUnit::MiB,
        ByteUnit::GiB,
        ByteUnit::TiB,
    ])
}

fn selector() -> impl Strategy<Value = String> {
    (
        "[a-zA-Z_:][a-zA-Z0-9_:]{0,12}",
        prop::option::of(prop::collection::vec(
            (
                identifier(),
                prop::sample::select(vec!["=", "!=", "=~", "!~"]),
                "[a-z0-9 ./*{}-]{0,6}",
            ),
            0..3,
        )),
    )
        .prop_filter("booleans are not selectors", |(name, matchers)| {
            matchers.is_some() || (name != "true" && name != "false")
        })
        .prop_map(|(name, matchers)| match matchers {
            None => name,
            Some(matchers) => {
                let inner: Vec<String> = matchers
                    .into_iter()
                    .map(|(label, op, value)| format!("{label}{op}\"{value}\""))
                    .collect();
                format!("{name}{{{}}}", inner.join(", "))
            }
        })
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        text().prop_map(Value::String),
        number().prop_map(Value::Number),
        duration().prop_map(Value::Duration),
        number().prop_map(Value::Percent),
        (number(), byte_unit()).prop_map(|(number, unit)| Value::Bytes(Bytes { number, unit })),
        (number(), duration()).prop_map(|(count, window)| Value::PerWindow {
            count,
            window: spanned(window),
        }),
        any::<bool>().prop_map(Value::Bool),
        selector().prop_map(Value::Selector),
    ];
    leaf.prop_recursive(3, 12, 4, |inner| {
        prop::collection::vec(inner.prop_map(spanned), 0..4).prop_map(Value::List)
    })
}

fn match_op() -> impl Strategy<Value = MatchOp> {
    prop::sample::select(vec![
        MatchOp::Equal,
        MatchOp::NotEqual,
        MatchOp::Regex,
        MatchOp::NotRegex,
    ])
}

fn route() -> impl Strategy<Value = Item> {
    (
        prop::collection::vec((identifier(), match_op(), text()), 0..3),
        prop::collection::vec(text(), 1..3),
        any::<bool>(),
        prop::collection::vec(text(), 0..2),
        prop::collection::vec(text(), 0..2),
    )
        .prop_map(
            |(matchers, receivers, continues, mute_during, active_during)| {
                Item::Route(Route {
                    matchers: matchers
                        .into_iter()
                        .map(|(label, op, value)| Matcher {
                            label: spanned(label),
                            op,
                            value: spanned(value),
                            span: Span::default(),
                        })
                        .collect(),
                    receivers: receivers.into_iter().map(spanned).collect(),
                    continue_span: continues.then(Span::default),
                    mute_during: mute_during.into_iter().map(spanned).collect(),
                    active_during: active_during.into_iter().map(spanned).collect(),
                    span: Span::default(),
                })
            },
        )
}

fn inhibit() -> impl Strategy<Value = Item> {
    (
        identifier(),
        text(),
        prop::collection::vec(text(), 1..3),
        prop::collection::vec(identifier(), 0..3),
    )
        .prop_map(|(label, source, targets, equal)| {
            Item::Inhibit(Inhibit {
                label: spanned(label),
                source: spanned(source),
                targets: targets.into_iter().map(spanned).collect(),
                equal: equal.into_iter().map(spanned).collect(),
                span: Span::default(),
            })
        })
}

fn item() -> impl Strategy<Value = Item> {
    let leaf = prop_oneof![
        4 => (identifier(), value()).prop_map(|(key, value)| Item::Attribute(Attribute {
            key: spanned(key),
            value: spanned(value),
            text_span: None,
            span: Span::default(),
        })),
        1 => route(),
        1 => inhibit(),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        (
            block_kind(),
            prop::option::of(text()),
            prop::collection::vec(inner, 0..5),
        )
            .prop_map(|(kind, name, items)| {
                Item::Block(Block {
                    kind: spanned(kind),
                    name: name.map(spanned),
                    items,
                    span: Span::default(),
                })
            })
    })
}

fn file_strategy() -> impl Strategy<Value = File> {
    prop::collection::vec(item(), 0..6).prop_map(|items| File { items })
}

// ---------------------------------------------------------------------------
// Span stripping, for comparisons "up to spans".
// ---------------------------------------------------------------------------

fn strip(file: File) -> File {
    File {
        items: file.items.into_iter().map(strip_item).collect(),
    }
}

fn strip_spanned<T>(spanned: Spanned<T>) -> Spanned<T> {
    Spanned::new(Span::default(), spanned.node)
}

fn strip_item(item: Item) -> Item {
    match item {
        Item::Attribute(attribute) => Item::Attribute(Attribute {
            key: strip_spanned(attribute.key),
            value: Spanned::new(Span::default(), strip_value(attribute.value.node)),
            text_span: None,
            span: Span::default(),
        }),
        Item::Block(block) => Item::Block(Block {
            kind: strip_spanned(block.kind),
            name: block.name.map(strip_spanned),
            items: block.items.into_iter().map(strip_item).collect(),
            span: Span::default(),
        }),
        Item::Route(route) => Item::Route(Route {
            matchers: route
                .matchers
                .into_iter()
                .map(|matcher| Matcher {
                    label: strip_spanned(matcher.label),
                    op: matcher.op,
                    value: strip_spanned(matcher.value),
                    span: Span::default(),
                })
                .collect(),
            receivers: route.receivers.into_iter().map(strip_spanned).collect(),
            continue_span: route.continue_span.map(|_| Span::default()),
            mute_during: route.mute_during.into_iter().map(strip_spanned).collect(),
            active_during: route.active_during.into_iter().map(strip_spanned).collect(),
            span: Span::default(),
        }),
        Item::Inhibit(inhibit) => Item::Inhibit(Inhibit {
            label: strip_spanned(inhibit.label),
            source: strip_spanned(inhibit.source),
            targets: inhibit.targets.into_iter().map(strip_spanned).collect(),
            equal: inhibit.equal.into_iter().map(strip_spanned).collect(),
            span: Span::default(),
        }),
    }
}

fn strip_value(value: Value) -> Value {
    match value {
        Value::PerWindow { count, window } => Value::PerWindow {
            count,
            window: strip_spanned(window),
        },
        Value::List(values) => Value::List(
            values
                .into_iter()
                .map(|element| Spanned::new(Span::default(), strip_value(element.node)))
                .collect(),
        ),
        other => other,
    }
}

#[test]
fn strip_forgets_spans_only() {
    let with_spans = parse("a { b = [1, 2 per 5m] }", 3).expect("valid");
    let without = parse("a {\n  b = [1,   2 per 5m]\n}", 0).expect("valid");
    assert_ne!(with_spans, without);
    assert_eq!(strip(with_spans), strip(without));
    let different = parse("a { b = [1, 2 per 6m] }", 3).expect("valid");
    assert_ne!(
        strip(different),
        strip(parse("a { b = [1, 2 per 5m] }", 3).expect("valid"))
    );
}
