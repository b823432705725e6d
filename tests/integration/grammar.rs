//! Keeps `grammar/mlslo.ebnf`, `grammar/README.md` and `src/compiler/syntax/parser.rs` in step.
//!
//! Checks: every EBNF production is quoted verbatim (up to whitespace) in the doc
//! comment of the parser function of the same name, and no parser doc quotes a
//! production the grammar lacks; every production has a README section; every
//! ```slo snippet of the README parses (also with a byte order mark in front);
//! every ```slo-error CODE snippet fails with that code.

use std::collections::BTreeMap;

use crate::support::read;

fn normalize(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The productions of an ISO EBNF text, name to normalized `name = body ;`.
/// Skips `(* comments *)` and respects quoted terminals and `? special ?`
/// sequences, which may contain `;`.
fn ebnf_productions(text: &str) -> BTreeMap<String, String> {
    let mut productions = BTreeMap::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(character) = chars.next() {
        match character {
            '(' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut previous = ' ';
                for inner in chars.by_ref() {
                    if previous == '*' && inner == ')' {
                        break;
                    }
                    previous = inner;
                }
            }
            '"' | '\'' | '?' => {
                current.push(character);
                for inner in chars.by_ref() {
                    current.push(inner);
                    if inner == character {
                        break;
                    }
                }
            }
            ';' => {
                current.push(';');
                let production = normalize(&current);
                let name = production
                    .split(" = ")
                    .next()
                    .expect("split yields at least one part")
                    .to_string();
                assert!(
                    name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "malformed production in mlslo.ebnf: {production}"
                );
                let previous = productions.insert(name.clone(), production);
                assert!(previous.is_none(), "production `{name}` defined twice");
                current.clear();
            }
            other => current.push(other),
        }
    }
    assert!(
        normalize(&current).is_empty(),
        "text after the last production: {current}"
    );
    productions
}

/// Function name to the normalized production quoted in its doc comment (a
/// ```text block), for every function of parser.rs that quotes one.
fn parser_productions(source: &str) -> BTreeMap<String, String> {
    let lines: Vec<&str> = source.lines().collect();
    let mut quoted = BTreeMap::new();
    let mut index = 0;
    while index < lines.len() {
        if lines[index].trim() != "/// ```text" {
            index += 1;
            continue;
        }
        let mut production = String::new();
        index += 1;
        while index < lines.len() && lines[index].trim() != "/// ```" {
            let line = lines[index].trim();
            production.push_str(line.strip_prefix("///").unwrap_or(line));
            production.push(' ');
            index += 1;
        }
        // The next line that is not a doc comment or attribute must be the function.
        let mut next = index + 1;
        while next < lines.len()
            && (lines[next].trim().starts_with("///") || lines[next].trim().starts_with("#["))
        {
            next += 1;
        }
        let signature = lines.get(next).map_or("", |line| line.trim());
        let signature = signature
            .strip_prefix("pub(crate) ")
            .or_else(|| signature.strip_prefix("pub "))
            .unwrap_or(signature);
        let name = signature
            .strip_prefix("fn ")
            .and_then(|rest| rest.split(['<', '(']).next())
            .unwrap_or_else(|| {
                panic!(
                    "a ```text production in parser.rs is not followed by a function: {signature}"
                )
            });
        quoted.insert(name.to_string(), normalize(&production));
        index = next;
    }
    quoted
}

#[test]
fn every_production_has_a_parser_function_quoting_it() {
    let grammar = ebnf_productions(&read("grammar/mlslo.ebnf"));
    let parser = parser_productions(&read("src/compiler/syntax/parser.rs"));
    assert!(
        grammar.len() >= 30,
        "suspiciously few productions: {}",
        grammar.len()
    );
    let mut problems = Vec::new();
    for (name, production) in &grammar {
        match parser.get(name) {
            None => problems.push(format!("no parser function `{name}` quoting: {production}")),
            Some(quoted) if quoted != production => problems.push(format!(
                "`{name}` differs:\n  grammar: {production}\n  parser:  {quoted}"
            )),
            Some(_) => {}
        }
    }
    for (name, quoted) in &parser {
        if !grammar.contains_key(name) {
            problems.push(format!(
                "parser function `{name}` quotes a production the grammar lacks: {quoted}"
            ));
        }
        if !quoted.starts_with(&format!("{name} = ")) {
            problems.push(format!(
                "function `{name}` quotes another production: {quoted}"
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// The fenced blocks of a markdown text: (info string, body).
fn fenced_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in markdown.lines() {
        match current.take() {
            None => {
                if let Some(info) = line.strip_prefix("```") {
                    current = Some((info.trim().to_string(), String::new()));
                }
            }
            Some((info, mut body)) => {
                if line.trim_end() == "```" {
                    blocks.push((info, body));
                } else {
                    body.push_str(line);
                    body.push('\n');
                    current = Some((info, body));
                }
            }
        }
    }
    assert!(
        current.is_none(),
        "unclosed code fence in grammar/README.md"
    );
    blocks
}

#[test]
fn every_production_has_a_readme_section() {
    let grammar = ebnf_productions(&read("grammar/mlslo.ebnf"));
    let readme = read("grammar/README.md");
    let missing: Vec<&String> = grammar
        .keys()
        .filter(|name| !readme.contains(&format!("### `{name}` → `parser::{name}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "README sections missing for {missing:?}"
    );
}

#[test]
fn every_readme_snippet_parses() {
    let readme = read("grammar/README.md");
    let blocks = fenced_blocks(&readme);
    let mut valid = 0;
    let mut invalid = 0;
    let mut problems = Vec::new();
    for (info, body) in &blocks {
        if info == "slo" {
            valid += 1;
            for source in [
                body.clone(),
                format!("\u{feff}{body}"),
                body.replace('\n', "\r\n"),
            ] {
                if let Err(diagnostic) = mlslo::compiler::syntax::parse(&source, 0) {
                    problems.push(format!(
                        "snippet does not parse ({} {} at {:?}):\n{source}",
                        diagnostic.code, diagnostic.message, diagnostic.primary.span
                    ));
                }
            }
        } else if let Some(code) = info.strip_prefix("slo-error ") {
            invalid += 1;
            match mlslo::compiler::syntax::parse(body, 0) {
                Ok(_) => problems.push(format!("snippet should fail with {code}:\n{body}")),
                Err(diagnostic) if diagnostic.code != code.trim() => problems.push(format!(
                    "snippet fails with {} ({}), not {code}:\n{body}",
                    diagnostic.code, diagnostic.message
                )),
                Err(_) => {}
            }
        }
    }
    assert!(
        valid >= 30 && invalid >= 10,
        "too few snippets: {valid} valid, {invalid} invalid"
    );
    assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
}

#[test]
fn ebnf_reader_sees_through_comments_and_quoted_semicolons() {
    let productions = ebnf_productions("(* a ; comment *) a = \";\" | ? x ; y ? ;\nb = a ;");
    assert_eq!(productions.len(), 2);
    assert_eq!(productions["a"], "a = \";\" | ? x ; y ? ;");
    assert_eq!(productions["b"], "b = a ;");
}
