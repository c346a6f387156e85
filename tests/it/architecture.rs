//! The layout's invariants, checked on the source: the provider and the verifier never import
//! each other (nor does the platform side import the provider), only `jose` names josekit, only `clock` reads the system time.

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
    assert_absent("src/workspace", "crate::idp", &[]);
    assert_absent("src/workspace", "crate::verifier", &[]);
    // The platform reaches the provider over HTTP, like the verifier it drives.
    assert_absent("src/platform", "idp::", &[]);
    assert_absent("src/idp", "platform::", &[]);
}

#[test]
fn only_jose_names_josekit_and_only_clock_reads_the_time() {
    assert_absent("src", "josekit", &["src/jose/"]);
    assert_absent("src", "SystemTime::now", &["src/clock.rs"]);
}
