//! The layout's invariants, checked on the source: the provider and the verifier never import
//! each other (nor does the platform side import the provider), only `jose` names josekit, only `clock` reads the system time,
//! and the files of a module import one another one way, without circles.

use std::path::{Path, PathBuf};

fn sources(dir: &str) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path, text));
        }
    }
    assert!(!out.is_empty(), "no sources under {dir}");
    out
}

fn assert_absent(dir: &str, needle: &str, except: &[&str]) {
    for (path, text) in sources(dir) {
        let name = path.to_string_lossy();
        if except.iter().any(|e| name.contains(e)) {
            continue;
        }
        // Code only: the docs may name what the code must not use.
        let code = text.lines().filter(|l| !l.trim_start().starts_with("//"));
        for line in code {
            assert!(!line.contains(needle), "{name} uses {needle:?}: {line}");
        }
    }
}

#[test]
fn idp_and_verifier_never_import_each_other() {
    assert_absent("src/idp", "verifier::", &[]);
    assert_absent("src/verifier", "idp::", &[]);
    assert_absent("src/pages", "crate::idp", &[]);
    assert_absent("src/pages", "crate::verifier", &[]);
    // The platform reaches the provider over HTTP, like the verifier it drives.
    assert_absent("src/platform", "idp::", &[]);
    assert_absent("src/idp", "platform::", &[]);
}

#[test]
fn only_jose_names_josekit_and_only_clock_reads_the_time() {
    assert_absent("src", "josekit", &["src/jose/"]);
    assert_absent("src", "SystemTime::now", &["src/clock.rs"]);
}

// --- import circles among the files of one module ----------------------------------------------

/// Source text with comments, string and character literals blanked out, so that only code is
/// read for paths.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let rest = &text[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').map_or(b.len(), |n| i + n);
            i = end;
        } else if rest.starts_with("/*") {
            let mut depth = 0;
            while i < b.len() {
                if text[i..].starts_with("/*") {
                    depth += 1;
                    i += 2;
                } else if text[i..].starts_with("*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if rest.starts_with("r#") || rest.starts_with("r\"") {
            let hashes = rest[1..].bytes().take_while(|&c| c == b'#').count();
            if rest.as_bytes().get(1 + hashes) != Some(&b'"') {
                out.push('r');
                i += 1;
                continue;
            }
            let close = format!("\"{}", "#".repeat(hashes));
            let body = 2 + hashes;
            i += rest[body..]
                .find(&close)
                .map_or(rest.len(), |n| body + n + close.len());
            out.push_str("\"\"");
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && (b.get(i + 2) == Some(&b'\'') || b.get(i + 1) == Some(&b'\\')) {
            // A character literal ('a', '\n', '\''); a lifetime has no closing quote.
            i += 2;
            while i < b.len() && b[i] != b'\'' {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Colons,
    Open,
    Close,
    Comma,
    Other(char),
}

fn tokens(code: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_alphanumeric() || c == '_' => {
                let mut ident = c.to_string();
                while let Some(&n) = chars.peek().filter(|n| n.is_alphanumeric() || **n == '_') {
                    ident.push(n);
                    chars.next();
                }
                out.push(Token::Ident(ident));
            }
            ':' if chars.peek() == Some(&':') => {
                chars.next();
                out.push(Token::Colons);
            }
            '{' => out.push(Token::Open),
            '}' => out.push(Token::Close),
            ',' => out.push(Token::Comma),
            c if c.is_whitespace() => {}
            c => out.push(Token::Other(c)),
        }
    }
    out
}

/// The paths beginning at `at` (`a::b::{c, d::e}` gives `a::b::c` and `a::b::d::e`); where
/// reading stopped.
fn paths_at(
    toks: &[Token],
    mut at: usize,
    prefix: Vec<String>,
    out: &mut Vec<Vec<String>>,
) -> usize {
    let mut path = prefix;
    loop {
        match toks.get(at) {
            Some(Token::Ident(name)) => {
                path.push(name.clone());
                at += 1;
            }
            Some(Token::Open) => {
                // A group: each member continues the path so far.
                at += 1;
                loop {
                    match toks.get(at) {
                        Some(Token::Close) => return at + 1,
                        Some(Token::Comma) => at += 1,
                        None => return at,
                        Some(_) => {
                            let before = at;
                            at = paths_at(toks, at, path.clone(), out);
                            // Skip what a member may end with (`as name`, `*`).
                            while !matches!(toks.get(at), Some(Token::Comma | Token::Close) | None)
                            {
                                at += 1;
                            }
                            if at == before {
                                at += 1;
                            }
                        }
                    }
                }
            }
            _ => {
                out.push(path);
                return at;
            }
        }
        if toks.get(at) == Some(&Token::Colons) {
            at += 1;
        } else {
            out.push(path);
            return at;
        }
    }
}

/// A file of the module with the module path it is reached at (`idp::state`).
struct ModuleFile {
    name: String,
    module: Vec<String>,
    text: String,
}

/// The files of the module at `dir` (`src/idp`): its `mod.rs` and every file it declares,
/// with `#[path]` declarations followed, at the module paths they are reached at.
fn module_files(dir: &str) -> Vec<ModuleFile> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let base: Vec<String> = dir
        .trim_start_matches("src/")
        .split('/')
        .map(str::to_owned)
        .collect();
    let mut files = Vec::new();
    let mut pending = vec![(root.join(dir).join("mod.rs"), base)];
    while let Some((path, module)) = pending.pop() {
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let here = path.parent().unwrap().to_path_buf();
        let children_dir = if path.file_name().is_some_and(|n| n == "mod.rs") {
            here.clone()
        } else {
            here.join(path.file_stem().unwrap())
        };
        let mut attr_path: Option<String> = None;
        for line in text.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("#[path = \"") {
                attr_path = rest.split('"').next().map(str::to_owned);
                continue;
            }
            let decl = line
                .strip_prefix("pub mod ")
                .or_else(|| line.strip_prefix("pub(crate) mod "))
                .or_else(|| line.strip_prefix("mod "));
            let Some(name) = decl.and_then(|d| d.strip_suffix(';')) else {
                if !line.starts_with("#[") {
                    attr_path = None;
                }
                continue;
            };
            let file = match attr_path.take() {
                Some(p) => here.join(p),
                None if children_dir.join(format!("{name}.rs")).exists() => {
                    children_dir.join(format!("{name}.rs"))
                }
                None => children_dir.join(name).join("mod.rs"),
            };
            let mut child = module.clone();
            child.push(name.to_owned());
            pending.push((file, child));
        }
        let name = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        files.push(ModuleFile { name, module, text });
    }
    assert!(files.len() > 1, "no files declared below {dir}/mod.rs");
    files
}

/// Which files of the module each file names through `super::`, `self::` or `crate::` paths
/// (`use super::state::IdpState`, `super::faults::Lapse::X`, `crate::idp::grants::Grant`),
/// inline `mod name { ... }` blocks counted where they sit.
fn import_graph(dir: &str) -> (Vec<String>, Vec<Vec<usize>>) {
    let files = module_files(dir);
    let names: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
    let mut edges = vec![Vec::new(); files.len()];
    for (from, file) in files.iter().enumerate() {
        let toks = tokens(&code_only(&file.text));
        // The module each brace opens, for `mod name {` blocks; `None` for other braces.
        let mut scopes: Vec<Option<String>> = Vec::new();
        let mut i = 0;
        while i < toks.len() {
            let starts_path = i == 0 || toks[i - 1] != Token::Colons;
            match &toks[i] {
                Token::Ident(kw) if kw == "mod" => {
                    if let (Some(Token::Ident(name)), Some(Token::Open)) =
                        (toks.get(i + 1), toks.get(i + 2))
                    {
                        scopes.push(Some(name.clone()));
                        i += 3;
                        continue;
                    }
                }
                Token::Open => scopes.push(None),
                Token::Close => {
                    scopes.pop();
                }
                Token::Ident(first)
                    if starts_path
                        && matches!(first.as_str(), "super" | "self" | "crate")
                        && toks.get(i + 1) == Some(&Token::Colons) =>
                {
                    let mut found = Vec::new();
                    let end = paths_at(&toks, i, Vec::new(), &mut found);
                    let mut here = file.module.clone();
                    here.extend(scopes.iter().flatten().cloned());
                    for path in found {
                        let target = resolve(&here, &path);
                        let to = files
                            .iter()
                            .enumerate()
                            .filter(|(_, f)| target.starts_with(&f.module))
                            .max_by_key(|(_, f)| f.module.len())
                            .map(|(to, _)| to);
                        if let Some(to) = to.filter(|&to| to != from) {
                            if !edges[from].contains(&to) {
                                edges[from].push(to);
                            }
                        }
                    }
                    i = end.max(i + 1);
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }
    (names, edges)
}

/// A path relative to module `here`, made absolute from the crate root.
fn resolve(here: &[String], path: &[String]) -> Vec<String> {
    let mut at: Vec<String> = here.to_vec();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            at.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        _ => {}
    }
    while rest.first().is_some_and(|s| s == "super") {
        at.pop();
        rest = &rest[1..];
    }
    at.extend(rest.iter().cloned());
    at
}

/// The circles of a graph: its strongly connected components of more than one file, each
/// sorted.
fn circles(names: &[String], edges: &[Vec<usize>]) -> Vec<Vec<String>> {
    // Tarjan's algorithm.
    struct Walk<'a> {
        edges: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        found: Vec<Vec<usize>>,
    }
    fn visit(w: &mut Walk<'_>, v: usize) {
        w.index[v] = Some(w.next);
        w.low[v] = w.next;
        w.next += 1;
        w.stack.push(v);
        w.on_stack[v] = true;
        for &u in &w.edges[v] {
            match w.index[u] {
                None => {
                    visit(w, u);
                    w.low[v] = w.low[v].min(w.low[u]);
                }
                Some(i) if w.on_stack[u] => w.low[v] = w.low[v].min(i),
                Some(_) => {}
            }
        }
        if Some(w.low[v]) == w.index[v] {
            let mut component = Vec::new();
            while let Some(u) = w.stack.pop() {
                w.on_stack[u] = false;
                component.push(u);
                if u == v {
                    break;
                }
            }
            if component.len() > 1 {
                w.found.push(component);
            }
        }
    }
    let n = names.len();
    let mut walk = Walk {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in 0..n {
        if walk.index[v].is_none() {
            visit(&mut walk, v);
        }
    }
    let mut found: Vec<Vec<String>> = walk
        .found
        .into_iter()
        .map(|c| {
            let mut files: Vec<String> = c.into_iter().map(|i| names[i].clone()).collect();
            files.sort();
            files
        })
        .collect();
    found.sort();
    found
}

/// The circles among the files below `dir`.
fn circles_in(dir: &str) -> Vec<Vec<String>> {
    let (names, edges) = import_graph(dir);
    circles(&names, &edges)
}

#[test]
fn the_files_of_a_module_import_one_way() {
    for dir in ["src/idp", "src/verifier"] {
        let circles = circles_in(dir);
        assert!(circles.is_empty(), "{dir}: import circles: {circles:?}");
    }
}

#[test]
fn the_circle_check_sees_a_circle() {
    let a = "use super::b::{self, Thing};\nfn f() { super::c::g(); }\nmod tests { use super::*; }";
    let toks = tokens(&code_only(a));
    let mut found = Vec::new();
    paths_at(&toks, 0, Vec::new(), &mut found);
    assert_eq!(
        found,
        [vec!["use".to_owned()]],
        "a path starts at a keyword only"
    );
    let mut found = Vec::new();
    paths_at(&toks, 1, Vec::new(), &mut found);
    assert_eq!(
        found,
        [
            vec!["super".to_owned(), "b".into(), "self".into()],
            vec!["super".to_owned(), "b".into(), "Thing".into()],
        ]
    );
    let names: Vec<String> = ["a.rs", "b.rs", "c.rs"].map(str::to_owned).to_vec();
    let found = circles(&names, &[vec![1], vec![2], vec![0]]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0], names);
    assert!(circles(&names, &[vec![1, 2], vec![2], vec![]]).is_empty());
    let quoted = code_only("let s = \"super::x::y\"; // super::z\nlet c = '\"';");
    assert!(!quoted.contains("super"), "{quoted}");
}
