//! The crate's modules form layers (the reading order of its `//!` doc): no
//! module imports, through any chain, one that imports it back, and none
//! imports from a later layer.
//!
//! Reads every `crate::…` path in `src/**/*.rs` (outside comments), resolves
//! it to the deepest module it names, and fails on a cycle, naming it. A
//! path to an item of the crate root (a re-export) is refused too: it would
//! hide the edge to the module that holds the item.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Module path (`guard::compile`, `""` for the root) → its source.
fn modules() -> BTreeMap<String, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("src/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).expect("under src/");
            let mut parts: Vec<String> = rel
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
                parts.pop();
            }
            let text = fs::read_to_string(&path).expect("a readable source file");
            out.insert(parts.join("::"), text);
        }
    }
    out
}

/// The source without comments (line comments, doc comments included).
fn code(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path written after `crate::`, braces expanded:
/// `crate::a::{b, c::d}` gives `a::b` and `a::c::d`.
fn crate_paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // e.g. `my_crate::`
        }
        let (tree, used) = path_tree(rest);
        rest = &rest[used..];
        expand("", &tree, &mut out);
    }
    out
}

/// The path tree at the start of `text` (identifiers, `::`, `{…}` groups,
/// `self`, `as` renames dropped), and how many bytes it took.
fn path_tree(text: &str) -> (String, usize) {
    let mut depth = 0usize;
    let mut end = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            c if c.is_alphanumeric() || c == '_' || c == ':' || c == '*' => {}
            ',' | ' ' | '\n' | '\t' if depth > 0 => {}
            _ => break,
        }
        end = i + c.len_utf8();
    }
    (text[..end].to_owned(), end)
}

fn expand(prefix: &str, tree: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    match tree.find('{') {
        None => {
            let item = tree.split_whitespace().next().unwrap_or("");
            let item = item.trim_end_matches("::");
            let full = match (prefix.is_empty(), item) {
                (_, "" | "self" | "*") => prefix.trim_end_matches("::").to_owned(),
                (true, item) => item.to_owned(),
                (false, item) => format!("{prefix}{item}"),
            };
            out.push(full);
        }
        Some(open) => {
            let head = &tree[..open];
            let close = tree.rfind('}').unwrap_or(tree.len());
            let inner = &tree[open + 1..close];
            let prefix = format!("{prefix}{head}");
            for part in split_top(inner) {
                expand(&prefix, part, out);
            }
        }
    }
}

/// `inner` split at its top-level commas.
fn split_top(inner: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0usize, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// The deepest module `path` names, or `None` when its first segment is no
/// module (an item of the root).
fn module_of(path: &str, modules: &BTreeMap<String, String>) -> Option<String> {
    let segments: Vec<&str> = path.split("::").collect();
    (1..=segments.len())
        .rev()
        .map(|n| segments[..n].join("::"))
        .find(|m| modules.contains_key(m))
}

/// Module → the modules it imports (the root and itself left out).
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    let mut graph = BTreeMap::new();
    let mut root_items = Vec::new();
    for (module, text) in &modules {
        if module.is_empty() {
            continue; // the root declares and re-exports; it is no layer
        }
        let mut edges = BTreeSet::new();
        for path in crate_paths(&code(text)) {
            match module_of(&path, &modules) {
                Some(target) if target != *module && !target.is_empty() => {
                    edges.insert(target);
                }
                Some(_) => {}
                None => root_items.push(format!("{module}: crate::{path}")),
            }
        }
        graph.insert(module.clone(), edges);
    }
    assert!(
        root_items.is_empty(),
        "import these from the module that holds them, not from the crate root:\n{}",
        root_items.join("\n")
    );
    graph
}

/// A cycle of `graph`, when it has one, as the modules along it.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let from = path.iter().position(|n| n == node).unwrap_or(0);
                let mut found = path[from..].to_vec();
                found.push(node.to_owned());
                return Some(found);
            }
            None => {}
        }
        marks.insert(node.to_owned(), Mark::Open);
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, marks, path) {
                return Some(found);
            }
        }
        path.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut marks, &mut Vec::new()))
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let graph = graph();
    if let Some(found) = cycle(&graph) {
        panic!("an import circle: {}", found.join(" -> "));
    }
}

/// The layers of the crate's `//!` doc, in reading order: a module may
/// import only from its own layer or one above it.
const LAYERS: &[(&str, &[&str])] = &[
    ("leaves", &["fault", "ids"]),
    (
        "model",
        &[
            "model",
            "model::alarm",
            "model::command",
            "model::config",
            "model::state",
        ],
    ),
    ("tools", &["duration", "rule", "rule_bounds", "schema"]),
    (
        "compile",
        &[
            "compile",
            "guard",
            "guard::compile",
            "reaction",
            "reaction::compile",
            "alarm",
            "alarm::compile",
            "binding",
            "binding::compile",
        ],
    ),
    ("decide", &["machine", "guard::evaluate", "alarm::evaluate"]),
    ("react", &["reaction::evaluate", "binding::evaluate"]),
    ("across configs", &["config_set", "diff", "graph", "svg"]),
];

fn layer_of(module: &str) -> (usize, &'static str) {
    LAYERS
        .iter()
        .enumerate()
        .find(|(_, (_, modules))| modules.contains(&module))
        .map(|(rank, (name, _))| (rank, *name))
        .unwrap_or_else(|| {
            panic!("module `{module}` is in no layer: place it in LAYERS and in the crate's doc")
        })
}

#[test]
fn the_layers_read_in_order() {
    for (module, edges) in graph() {
        let (rank, layer) = layer_of(&module);
        for target in edges {
            let (target_rank, target_layer) = layer_of(&target);
            assert!(
                target_rank <= rank,
                "{module} ({layer}) imports {target} ({target_layer}), a later layer"
            );
        }
    }
    // Nothing compiled imports what evaluates it.
    for (module, edges) in graph() {
        if module.ends_with("compile") {
            assert!(
                edges.iter().all(|t| !t.ends_with("evaluate")),
                "{module} imports an evaluate module"
            );
        }
    }
}

/// The checker itself finds a circle and a root import.
#[test]
fn the_checker_sees_a_circle() {
    let paths = crate_paths(&code(
        "use crate::a::{b, c::{d, e as f}};\nlet x = crate::g::h(); // crate::z\n",
    ));
    assert_eq!(paths, ["a::b", "a::c::d", "a::c::e", "g::h"]);
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", &["b"][..]),
        ("b", &["c"][..]),
        ("c", &["a"][..]),
        ("d", &[][..]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
    .collect();
    assert_eq!(
        cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}
