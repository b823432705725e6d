//! The architecture of `src/`, read from the code itself: layers import only downward,
//! no two files depend on each other in a loop, and `ARCHITECTURE.md`'s code map names
//! every folder and file.
//!
//! An import is any path that starts with `crate::`, `super::` or `self::`, in `use`
//! items, in expressions and types, and inside macro calls (`format!`, `matches!`), so a
//! fully qualified call counts as much as a `use`. Each path is resolved to the file that
//! defines the longest module prefix it names; a re-export through a `mod.rs` counts as
//! an import of that `mod.rs`. A `mod.rs` naming its own children (`engine::Evaluator`)
//! is the folder's face, not an import. Visibility paths (`pub(crate)`) are not imports.
//!
//! Test code (`#[cfg(test)]` modules and `tests.rs` files) follows the same layers, but
//! may also build its input through its own layer's face (`compiler::check_sources`).

use std::collections::{BTreeMap, BTreeSet};

use syn::visit::Visit;

use crate::support::{read, relative, repository, rust_files_under};

/// The layers of `src/`, bottom first. A file imports only from its own layer or below.
const LAYERS: [&str; 5] = ["base", "prometheus", "compiler", "tools", "cli"];

/// The modules inside a layer, by rank, lowest first. A module imports only modules of a
/// lower rank in its layer (and anything in the layers below); modules of one rank are
/// siblings that never import each other. A layer's own `mod.rs` may use all of them.
/// The base layer and the CLI are not ranked: their files may use each other.
const RANKS: [(&str, &[&[&str]]); 3] = [
    (
        "prometheus",
        &[
            &["model", "http_api"],
            &["promql", "gotemplate"],
            &["alertmanager", "ruler"],
            &["promtool_test"],
        ],
    ),
    (
        "compiler",
        &[&["syntax"], &["ir"], &["check"], &["emit"], &["verify"]],
    ),
    ("tools", &[&["backtest", "deploy", "lint", "routes"]]),
];

#[test]
fn layers_import_only_downward() {
    let graph = ImportGraph::of_src();
    let mut offenders = Vec::new();
    for (from, targets) in &graph.imports {
        for (to, names) in targets {
            let test_uses_the_face =
                graph.test_only.contains(&(from.clone(), to.clone())) && is_layer_face(to);
            if test_uses_the_face {
                continue;
            }
            if let Err(why) = import_allowed(from, to) {
                offenders.push(format!("{from} -> {to} ({}): {why}", names.join(", ")));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "imports against the layers of ARCHITECTURE.md (move the item down, or pass it in):\n{}",
        offenders.join("\n")
    );
}

#[test]
fn no_two_files_import_each_other_in_a_loop() {
    let graph = ImportGraph::of_src();
    let cycles = graph.cycles();
    let described: Vec<String> = cycles
        .iter()
        .map(|cycle| {
            let arrows: Vec<String> = cycle
                .iter()
                .flat_map(|from| {
                    graph.imports[from]
                        .iter()
                        .filter(|(to, _)| cycle.contains(to))
                        .map(move |(to, names)| format!("  {from} -> {to}: {}", names.join(", ")))
                })
                .collect();
            format!("{}\n{}", cycle.join(" <-> "), arrows.join("\n"))
        })
        .collect();
    assert!(
        cycles.is_empty(),
        "files that import each other in a loop (move the shared item into a file both can use):\n{}",
        described.join("\n")
    );
}

#[test]
fn the_code_map_names_every_folder_and_file() {
    let architecture = read(&repository().join("ARCHITECTURE.md"));
    let code_map = section(&architecture, "## Code map");
    let mut missing = Vec::new();
    let mut folders: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in rust_files_under("src") {
        let path = relative(&file);
        let (folder, name) = path.rsplit_once('/').expect("a file under src/");
        folders
            .entry(format!("{folder}/"))
            .or_default()
            .push(name.to_string());
    }
    for (folder, files) in &folders {
        let Some(entry) = folder_entry(code_map, folder) else {
            missing.push(format!("{folder} (the folder has no entry of its own)"));
            continue;
        };
        for file in files {
            let named = format!("`{file}`");
            let named_whole = format!("`{folder}{file}`");
            if !entry.contains(&named) && !entry.contains(&named_whole) {
                missing.push(format!("{folder}{file}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md's code map must name every folder of src/ as a line starting \
         with `- \\`src/…/\\`` and, in that entry, every file of it as `name.rs`:\n{}",
        missing.join("\n")
    );
    for stale in ["planned", "being built", "(todo", "TODO"] {
        assert!(
            !architecture.contains(stale),
            "ARCHITECTURE.md describes today's code, not plans: found {stale:?}"
        );
    }
}

#[test]
fn the_code_map_names_no_file_that_is_gone() {
    let architecture = read(&repository().join("ARCHITECTURE.md"));
    let mut gone = Vec::new();
    for word in architecture.split('`') {
        let looks_like_path = (word.starts_with("src/")
            || word.starts_with("tests/")
            || word.starts_with("benches/"))
            && !word.contains(' ')
            && !word.contains('*');
        if looks_like_path && !repository().join(word).exists() {
            gone.push(word.to_string());
        }
    }
    assert!(
        gone.is_empty(),
        "ARCHITECTURE.md names paths that do not exist: {gone:?}"
    );
}

/// Why `from` may not import `to`, if it may not.
fn import_allowed(from: &str, to: &str) -> Result<(), String> {
    let from_parts = module_parts(from);
    let to_parts = module_parts(to);
    // The crate root lists the layers and re-exports the pipeline; it sits above them all.
    let Some(from_layer) = from_parts.first() else {
        return Ok(());
    };
    let Some(to_layer) = to_parts.first() else {
        return Err(
            "nothing imports the crate root; import the layer that defines the item".into(),
        );
    };
    let layer_rank = |layer: &str| LAYERS.iter().position(|known| *known == layer);
    let (Some(from_rank), Some(to_rank)) = (layer_rank(from_layer), layer_rank(to_layer)) else {
        return Err(format!(
            "{from_layer} or {to_layer} is not a layer of {LAYERS:?}: add it to this test and to ARCHITECTURE.md"
        ));
    };
    if to_rank > from_rank {
        return Err(format!("{from_layer} is below {to_layer}"));
    }
    if to_rank < from_rank {
        return Ok(());
    }
    let Some((_, ranks)) = RANKS.iter().find(|(layer, _)| layer == from_layer) else {
        return Ok(());
    };
    let (Some(from_module), Some(to_module)) = (from_parts.get(1), to_parts.get(1)) else {
        // The layer's own mod.rs, or a file directly under the layer folder.
        return if from_parts.len() == 1 {
            Ok(())
        } else {
            Err(format!("only {from_layer}'s mod.rs uses the layer's face"))
        };
    };
    if from_module == to_module {
        return Ok(());
    }
    let module_rank = |module: &str| ranks.iter().position(|rank| rank.contains(&module));
    match (module_rank(from_module), module_rank(to_module)) {
        (Some(from_rank), Some(to_rank)) if to_rank < from_rank => Ok(()),
        (Some(from_rank), Some(to_rank)) if to_rank == from_rank => Err(format!(
            "{from_layer}::{from_module} and {from_layer}::{to_module} are siblings"
        )),
        (Some(_), Some(_)) => Err(format!(
            "{from_layer}::{from_module} is below {from_layer}::{to_module}"
        )),
        _ => Err(format!(
            "{from_layer}::{from_module} or {from_layer}::{to_module} has no rank: add it to RANKS and to ARCHITECTURE.md"
        )),
    }
}

/// A layer's `mod.rs`: `src/compiler/mod.rs`.
fn is_layer_face(path: &str) -> bool {
    path.ends_with("/mod.rs") && module_parts(path).len() == 1
}

/// `src/prometheus/promql/engine.rs` is `["prometheus", "promql", "engine"]`; a `mod.rs`
/// is its folder's module; `src/lib.rs` is the root, `[]`.
fn module_parts(path: &str) -> Vec<String> {
    let inside = path
        .strip_prefix("src/")
        .and_then(|rest| rest.strip_suffix(".rs"))
        .unwrap_or(path);
    let mut parts: Vec<String> = inside.split('/').map(str::to_string).collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// Every file of the library and the items it takes from each other file.
struct ImportGraph {
    /// File to imported file to the names taken, all as paths from the repository root.
    imports: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    /// The (file, imported file) pairs that only test code imports.
    test_only: BTreeSet<(String, String)>,
}

impl ImportGraph {
    fn of_src() -> ImportGraph {
        let files: Vec<String> = rust_files_under("src")
            .iter()
            .map(|path| relative(path))
            .filter(|path| path != "src/main.rs")
            .collect();
        let by_module: BTreeMap<Vec<String>, String> = files
            .iter()
            .map(|file| (module_parts(file), file.clone()))
            .collect();
        let mut imports = BTreeMap::new();
        let mut test_only = BTreeSet::new();
        for file in &files {
            let text = read(&repository().join(file));
            let syntax = syn::parse_file(&text)
                .unwrap_or_else(|error| panic!("{file} does not parse: {error}"));
            let mut collector = PathCollector {
                module: module_parts(file),
                in_test: file.ends_with("/tests.rs"),
                paths: Vec::new(),
            };
            collector.visit_file(&syntax);
            let mut targets: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            let mut used_outside_tests = BTreeSet::new();
            for (path, in_test) in collector.paths {
                let Some((target, name)) = resolve(&by_module, &path) else {
                    continue;
                };
                if target != *file {
                    if !in_test {
                        used_outside_tests.insert(target.clone());
                    }
                    targets.entry(target).or_default().insert(name);
                }
            }
            for target in targets.keys() {
                if !used_outside_tests.contains(target) {
                    test_only.insert((file.clone(), target.clone()));
                }
            }
            imports.insert(
                file.clone(),
                targets
                    .into_iter()
                    .map(|(target, names)| (target, names.into_iter().collect()))
                    .collect(),
            );
        }
        ImportGraph { imports, test_only }
    }

    /// The strongly connected groups of more than one file (Tarjan's algorithm), each sorted.
    fn cycles(&self) -> Vec<Vec<String>> {
        struct Search<'a> {
            graph: &'a ImportGraph,
            index: BTreeMap<&'a str, usize>,
            low: BTreeMap<&'a str, usize>,
            stack: Vec<&'a str>,
            on_stack: BTreeSet<&'a str>,
            groups: Vec<Vec<String>>,
        }
        impl<'a> Search<'a> {
            fn visit(&mut self, file: &'a str) {
                let order = self.index.len();
                self.index.insert(file, order);
                self.low.insert(file, order);
                self.stack.push(file);
                self.on_stack.insert(file);
                for target in self.graph.imports[file].keys() {
                    let target = target.as_str();
                    if !self.index.contains_key(target) {
                        self.visit(target);
                        let low = self.low[file].min(self.low[target]);
                        self.low.insert(file, low);
                    } else if self.on_stack.contains(target) {
                        let low = self.low[file].min(self.index[target]);
                        self.low.insert(file, low);
                    }
                }
                if self.low[file] == self.index[file] {
                    let mut group = Vec::new();
                    while let Some(member) = self.stack.pop() {
                        self.on_stack.remove(member);
                        group.push(member.to_string());
                        if member == file {
                            break;
                        }
                    }
                    if group.len() > 1 {
                        group.sort();
                        self.groups.push(group);
                    }
                }
            }
        }
        let mut search = Search {
            graph: self,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on_stack: BTreeSet::new(),
            groups: Vec::new(),
        };
        for file in self.imports.keys() {
            if !search.index.contains_key(file.as_str()) {
                search.visit(file);
            }
        }
        search.groups.sort();
        search.groups
    }
}

/// The file that defines the longest module prefix of `path`, and the name taken from it.
fn resolve(by_module: &BTreeMap<Vec<String>, String>, path: &[String]) -> Option<(String, String)> {
    (0..=path.len()).rev().find_map(|length| {
        let file = by_module.get(&path[..length])?;
        let name = path.get(length).cloned().unwrap_or_else(|| "*".to_string());
        Some((file.clone(), name))
    })
}

/// Collects every `crate::`, `super::` and `self::` path of one file as an absolute module
/// path, following inline modules (`mod tests { use super::*; }`).
struct PathCollector {
    /// The module the visitor is in now: the file's module plus the inline modules around.
    module: Vec<String>,
    /// Inside a `#[cfg(test)]` module or a `tests.rs` file.
    in_test: bool,
    paths: Vec<(Vec<String>, bool)>,
}

impl PathCollector {
    fn record(&mut self, segments: &[String]) {
        let Some(first) = segments.first() else {
            return;
        };
        let mut absolute = match first.as_str() {
            "crate" => Vec::new(),
            "self" => self.module.clone(),
            "super" => self.module.clone(),
            _ => return,
        };
        let mut rest = &segments[1..];
        if first == "super" {
            absolute.pop();
            while rest.first().is_some_and(|segment| segment == "super") {
                absolute.pop();
                rest = &rest[1..];
            }
        }
        absolute.extend(rest.iter().cloned());
        self.paths.push((absolute, self.in_test));
    }

    fn record_use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.record_use_tree(prefix, &path.tree);
                prefix.pop();
            }
            syn::UseTree::Name(name) => {
                let ident = name.ident.to_string();
                if ident == "self" {
                    self.record(prefix);
                } else {
                    prefix.push(ident);
                    self.record(prefix);
                    prefix.pop();
                }
            }
            syn::UseTree::Rename(rename) => {
                prefix.push(rename.ident.to_string());
                self.record(prefix);
                prefix.pop();
            }
            syn::UseTree::Glob(_) => self.record(prefix),
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    self.record_use_tree(prefix, tree);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for PathCollector {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if item.content.is_some() {
            let was_in_test = self.in_test;
            self.in_test |= item.attrs.iter().any(is_cfg_test);
            self.module.push(item.ident.to_string());
            syn::visit::visit_item_mod(self, item);
            self.module.pop();
            self.in_test = was_in_test;
        }
    }

    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.record_use_tree(&mut Vec::new(), &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path
            .segments
            .iter()
            .map(|segment| segment.ident.to_string())
            .collect();
        self.record(&segments);
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        // Macro arguments are tokens, not syntax: read `crate :: a :: b` runs from them.
        let tokens: Vec<String> = mac
            .tokens
            .clone()
            .into_iter()
            .flat_map(flatten_tokens)
            .collect();
        let mut index = 0;
        while index < tokens.len() {
            let starts_path = matches!(tokens[index].as_str(), "crate" | "super" | "self")
                && tokens.get(index + 1).is_some_and(|token| token == ":");
            if !starts_path {
                index += 1;
                continue;
            }
            let mut segments = vec![tokens[index].clone()];
            index += 1;
            while tokens.get(index).is_some_and(|token| token == ":")
                && tokens.get(index + 1).is_some_and(|token| token == ":")
                && tokens.get(index + 2).is_some()
            {
                segments.push(tokens[index + 2].clone());
                index += 3;
            }
            self.record(&segments);
        }
        syn::visit::visit_macro(self, mac);
    }
}

fn is_cfg_test(attribute: &syn::Attribute) -> bool {
    attribute.path().is_ident("cfg")
        && attribute
            .parse_args::<syn::Ident>()
            .is_ok_and(|ident| ident == "test")
}

fn flatten_tokens(tree: proc_macro2::TokenTree) -> Vec<String> {
    match tree {
        proc_macro2::TokenTree::Group(group) => group
            .stream()
            .into_iter()
            .flat_map(flatten_tokens)
            .collect(),
        proc_macro2::TokenTree::Ident(ident) => vec![ident.to_string()],
        proc_macro2::TokenTree::Punct(punct) => vec![punct.as_char().to_string()],
        proc_macro2::TokenTree::Literal(_) => vec![String::new()],
    }
}

/// The text from `heading` to the next heading of the same level.
fn section<'a>(text: &'a str, heading: &str) -> &'a str {
    let start = text
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("ARCHITECTURE.md has no {heading:?} section"));
    let body = &text[start + heading.len() + 2..];
    let level = heading.split(' ').next().unwrap_or("##");
    let end = body.find(&format!("\n{level} ")).unwrap_or(body.len());
    &body[..end]
}

/// The code-map entry of `folder`: from its bullet line to the next folder's bullet.
fn folder_entry<'a>(code_map: &'a str, folder: &str) -> Option<&'a str> {
    let bullet = format!("- `{folder}`");
    let start = code_map.find(&bullet)?;
    let rest = &code_map[start + bullet.len()..];
    let end = rest.find("\n- `src/").unwrap_or(rest.len());
    Some(&rest[..end])
}
