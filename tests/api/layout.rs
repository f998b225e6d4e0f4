//! The module layout (DESIGN §2), checked from the source: no `use crate::…` cycle between the
//! crate's top-level modules, nor between the sub-modules of one folder; the platform modules import no
//! feature; the leaf modules import nothing from the crate; no source file over 700 lines; no route
//! registered outside the OpenAPI router (so every served route is documented).

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

/// Feature folders (DESIGN §2). Everything else under `src/` is platform.
const FEATURES: &[&str] = &[
    "auth",
    "catalog",
    "cart",
    "orders",
    "payments",
    "resources",
    "invoices",
    "fulfilment",
    "notifications",
    "analytics",
    "import",
];
/// Platform modules that must not import any feature.
const NO_FEATURES: &[&str] = &["state", "config", "error", "db", "cache", "validation"];
/// Modules that import nothing from the rest of the crate.
const LEAVES: &[&str] = &["config", "error", "logfmt", "money", "timefmt"];

fn src_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read src dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    out.sort();
    out
}

/// `src/catalog/repo.rs` → `["catalog", "repo"]`; `src/catalog/mod.rs` → `["catalog"]`.
fn module_path(file: &Path) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rel = file.strip_prefix(&root).expect("under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts
        .last()
        .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
    {
        parts.pop();
    }
    parts
}

/// The source without comments, string literals and `#[cfg(test)]` modules' bodies (tests may
/// reach anywhere).
fn code_of(text: &str) -> String {
    let without_tests = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    let bytes = without_tests.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &without_tests[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').unwrap_or(rest.len());
            i += end;
        } else if rest.starts_with("/*") {
            let end = rest.find("*/").map_or(rest.len(), |e| e + 2);
            i += end;
        } else if let Some(raw) = rest.strip_prefix("r#\"") {
            let end = raw.find("\"#").map_or(rest.len(), |e| e + 5);
            out.push_str("\"\"");
            i += end;
        } else if rest.starts_with('"') {
            let mut j = 1;
            while j < rest.len() {
                match rest.as_bytes()[j] {
                    b'\\' => j += 2,
                    b'"' => break,
                    _ => j += 1,
                }
            }
            out.push_str("\"\"");
            i += (j + 1).min(rest.len());
        } else if rest.starts_with("'\"'") {
            i += 3;
        } else {
            let ch = rest.chars().next().expect("char");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn ident(s: &str) -> (&str, &str) {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    (&s[..end], &s[end..])
}

/// Expands a path or use tree that starts right after `crate::` (or `super::`) into full paths.
fn expand(s: &str, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
    let start_len = s.len();
    let mut rest = s.trim_start();
    let mut path: Vec<String> = prefix.to_vec();
    loop {
        if let Some(inner) = rest.strip_prefix('{') {
            let mut remaining = inner;
            loop {
                remaining = remaining.trim_start();
                if let Some(after) = remaining.strip_prefix('}') {
                    remaining = after;
                    break;
                }
                if let Some(after) = remaining.strip_prefix(',') {
                    remaining = after;
                    continue;
                }
                let used = expand(remaining, &path, out);
                if used == 0 {
                    // Unparseable: skip a character to make progress.
                    remaining = &remaining[remaining.chars().next().map_or(0, char::len_utf8)..];
                } else {
                    remaining = &remaining[used..];
                }
            }
            return start_len - remaining.len();
        }
        let (name, after) = ident(rest);
        if name.is_empty() {
            break;
        }
        if name != "self" {
            path.push(name.to_string());
        }
        rest = after;
        if let Some(after) = rest.strip_prefix("::") {
            rest = after.trim_start();
        } else {
            break;
        }
    }
    if path.len() > prefix.len() || !prefix.is_empty() {
        out.push(path);
    }
    start_len - rest.len()
}

/// Every crate path a file names: `crate::a::b`, `use crate::{a::{b, c}}`, `super::x`.
fn references(file: &Path, code: &str) -> Vec<Vec<String>> {
    let me = module_path(file);
    // The module `super` means, from this file (for `x/mod.rs` as for `x/y.rs`: one level up).
    let parent: Vec<String> = me
        .iter()
        .take(me.len().saturating_sub(1))
        .cloned()
        .collect();
    let mut out = Vec::new();
    for (marker, prefix) in [("crate::", Vec::new()), ("super::", parent)] {
        let mut from = 0;
        while let Some(at) = code[from..].find(marker) {
            let abs = from + at;
            let before = code[..abs].chars().next_back();
            from = abs + marker.len();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == ':') {
                continue;
            }
            expand(&code[from..], &prefix, &mut out);
        }
    }
    out
}

struct Crate {
    /// module path (file) → referenced paths
    refs: BTreeMap<Vec<String>, Vec<Vec<String>>>,
    /// every module that is a file
    modules: BTreeSet<Vec<String>>,
}

fn load() -> Crate {
    let mut refs = BTreeMap::new();
    let mut modules = BTreeSet::new();
    for file in src_files() {
        let text = std::fs::read_to_string(&file).expect("read source");
        let module = module_path(&file);
        if module.is_empty() {
            continue; // lib.rs / main.rs
        }
        modules.insert(module.clone());
        refs.insert(module, references(&file, &code_of(&text)));
    }
    Crate { refs, modules }
}

/// The longest known module that prefixes `path`, cut to `depth` segments.
fn target_module(krate: &Crate, path: &[String], depth: usize) -> Option<Vec<String>> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| krate.modules.contains(p))
        .map(|p| p.into_iter().take(depth).collect())
}

fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        stack.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            match state.get(next.as_str()).copied() {
                Some(1) => {
                    let at = stack.iter().position(|n| n == next).unwrap_or(0);
                    let mut cycle = stack[at..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(next, edges, state, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in edges.keys() {
        if !state.contains_key(node.as_str()) {
            let mut stack = Vec::new();
            if let Some(c) = visit(node, edges, &mut state, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}

/// Edges between top-level modules (`depth` 1), or between the children of one folder.
fn edges(krate: &Crate, folder: Option<&str>) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, paths) in &krate.refs {
        let (depth, from_node) = match folder {
            None => (1, from[0].clone()),
            Some(f) if from.len() >= 2 && from[0] == f => (2, from[1].clone()),
            Some(_) => continue,
        };
        out.entry(from_node.clone()).or_default();
        for path in paths {
            let Some(to) = target_module(krate, path, depth) else {
                continue;
            };
            if let Some(f) = folder
                && (to.len() < 2 || to[0] != f)
            {
                continue;
            }
            let to_node = to[depth - 1].clone();
            if to_node != from_node {
                out.entry(from_node.clone()).or_default().insert(to_node);
            }
        }
    }
    out
}

#[test]
fn no_cycle_between_top_level_modules() {
    let krate = load();
    let graph = edges(&krate, None);
    assert!(
        graph.len() > 10,
        "the parser found too few modules: {graph:?}"
    );
    assert!(
        graph.get("router").is_some_and(|e| e.contains("catalog")),
        "the parser must see router → catalog: {graph:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!("module cycle: {}", cycle.join(" → "));
    }
}

#[test]
fn no_cycle_inside_a_feature_folder() {
    let krate = load();
    let folders: BTreeSet<String> = krate
        .modules
        .iter()
        .filter(|m| m.len() >= 2)
        .map(|m| m[0].clone())
        .collect();
    for folder in folders {
        if let Some(cycle) = find_cycle(&edges(&krate, Some(&folder))) {
            panic!("module cycle inside {folder}/: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn platform_modules_import_no_feature() {
    let krate = load();
    let graph = edges(&krate, None);
    for module in NO_FEATURES {
        for to in graph.get(*module).into_iter().flatten() {
            assert!(
                !FEATURES.contains(&to.as_str()),
                "{module} imports the feature {to}"
            );
        }
    }
    for module in LEAVES {
        let imports = graph.get(*module).cloned().unwrap_or_default();
        assert!(
            imports.is_empty(),
            "{module} must import nothing from the crate, imports {imports:?}"
        );
    }
}

/// Past about 700 lines a file holds more than one idea: split it (DESIGN §2).
#[test]
fn no_source_file_over_700_lines() {
    let long: Vec<String> = src_files()
        .iter()
        .filter_map(|file| {
            let lines = std::fs::read_to_string(file)
                .expect("source")
                .lines()
                .count();
            (lines > 700).then(|| format!("{} ({lines} lines)", file.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these files: {long:?}");
}

#[test]
fn checker_sees_cycles_and_use_trees() {
    let code = "use crate::{a::{b, c::D}, e};\nfn f() { crate::g::h(); super::i::j(); }";
    let refs = references(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/x/y.rs"),
        &code_of(code),
    );
    let shown: Vec<String> = refs.iter().map(|p| p.join("::")).collect();
    for want in ["a::b", "a::c::D", "e", "g::h", "x::i::j"] {
        assert!(shown.contains(&want.to_string()), "{want} in {shown:?}");
    }
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("c".into());
    assert!(find_cycle(&graph).is_none());
    graph.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        find_cycle(&graph).expect("cycle"),
        vec!["a".to_string(), "b".into(), "c".into(), "a".into()]
    );
}

/// `cargo test --test api layout::print_graph -- --ignored --nocapture` prints the module graph.
#[test]
#[ignore]
fn print_graph() {
    let krate = load();
    for (k, v) in edges(&krate, None) {
        println!("{k} -> {v:?}");
    }
}
