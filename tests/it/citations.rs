//! Every citation of a reference page resolves. A citation is `liveperson-auth.md §1.4`, also
//! written `` `google-oidc.md` §4.3 ``, `google-oidc.md §1, §2`, `§7.1 item 4`,
//! `§2 "Key provisioning"` or `(§2)` after the name, anywhere in src/, scenarios/, fixtures/,
//! templates/, README.md, ARCHITECTURE.md, BENCHMARKING.md and docs/ (the guide's chapters and
//! the reference pages). It must name a page in docs/reference and a heading that
//! page has (`§8` is `## 8.`, `§8.4` is `### 8.4`), with the items and words it quotes. Every
//! source key cited as a bare word (S1, I59, X1, ...) in the code, the scenarios, the README or a
//! chapter of the guide must be a row of the sources table in docs/reference/liveperson-auth.md.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const REFERENCE: &str = "docs/reference";

/// Background files that have no page in docs/reference: a citation of one cannot be followed.
const NOT_PAGES: &[&str] = &["design.md", "peers.md", "style.md", "notes.md"];

/// One cited section: `page` without `.md`, `section` like "8.4", `items` from "item 4".
#[derive(Debug, Clone, PartialEq, Eq)]
struct Citation {
    line: usize,
    page: String,
    section: String,
    items: Vec<u32>,
    /// `§2 "Key provisioning"`: words the section must contain.
    quote: Option<String>,
}

/// A reference page: its numbered headings and, for each, the lines under it.
struct Page {
    sections: BTreeMap<String, Vec<String>>,
}

impl Page {
    fn parse(text: &str) -> Page {
        let mut sections = BTreeMap::new();
        let mut current: Option<String> = None;
        for line in text.lines() {
            if let Some(number) = heading_number(line) {
                current = Some(number.clone());
                sections.insert(number, Vec::new());
            } else if line.starts_with('#') {
                current = None;
            } else if let Some(number) = &current {
                sections
                    .get_mut(number)
                    .expect("inserted")
                    .push(line.to_string());
            }
        }
        Page { sections }
    }

    /// True when the section's text contains `words`, ignoring case and emphasis.
    fn mentions(&self, section: &str, words: &str) -> bool {
        let text = self.sections[section].join(" ").replace(['*', '`'], "");
        text.to_lowercase().contains(&words.to_lowercase())
    }

    /// True when the section's own text has a numbered list entry `n.`.
    fn has_item(&self, section: &str, n: u32) -> bool {
        let prefix = format!("{n}. ");
        self.sections[section]
            .iter()
            .any(|l| l.trim_start().starts_with(&prefix))
    }
}

/// `## 8. Title` -> "8", `### 8.4 Title` -> "8.4"; the depth must match: one level per part.
fn heading_number(line: &str) -> Option<String> {
    let hashes = line.chars().take_while(|&c| c == '#').count();
    let rest = line[hashes..].strip_prefix(' ')?;
    let token = rest.split_whitespace().next()?;
    let parts = if hashes == 2 {
        // A whole section is written with a final dot: `## 8.`.
        token.strip_suffix('.')?
    } else {
        token
    };
    let count = parts.split('.').count();
    let numeric = parts
        .split('.')
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    (numeric && count + 1 == hashes).then(|| parts.to_string())
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// A section number at the start of `s`: digits and dots, never a final dot.
fn section_at(s: &str) -> Option<(String, usize)> {
    let bytes = s.as_bytes();
    let mut end = 0;
    while end < bytes.len() {
        let digit = bytes[end].is_ascii_digit();
        let inner_dot =
            bytes[end] == b'.' && end > 0 && bytes.get(end + 1).is_some_and(u8::is_ascii_digit);
        if !(digit || inner_dot) {
            break;
        }
        end += 1;
    }
    (end > 0).then(|| (s[..end].to_string(), end))
}

/// Skips what may stand between a page name and its first `§`: a closing backtick, spaces, a
/// line break and the next line's comment marker, an opening parenthesis.
fn skip_to_section(s: &str) -> &str {
    s.trim_start_matches(|c: char| c.is_whitespace() || "`(/!#*".contains(c))
}

/// After a section: `item 4`, `items 1 and 2`, `-5` (item 5), a quoted heading, or a
/// parenthesis without `§`. Returns the items, the quoted words and what follows.
fn qualifiers(mut s: &str) -> (Vec<u32>, Option<String>, &str) {
    let mut items = Vec::new();
    let mut quote = None;
    let number = |s: &str| -> Option<(u32, usize)> {
        let n = s.bytes().take_while(u8::is_ascii_digit).count();
        s[..n].parse().ok().map(|v| (v, n))
    };
    if let Some(rest) = s.strip_prefix('-') {
        if let Some((v, n)) = number(rest) {
            items.push(v);
            s = &rest[n..];
        }
    }
    let t = s.trim_start();
    if let Some(rest) = t.strip_prefix("items ").or_else(|| t.strip_prefix("item ")) {
        let mut rest = rest;
        while let Some((v, n)) = number(rest) {
            items.push(v);
            rest = &rest[n..];
            let after = rest.trim_start();
            let next = [",", "and", "to"]
                .iter()
                .find_map(|sep| after.strip_prefix(sep))
                .map(str::trim_start);
            match next {
                Some(n) if n.starts_with(|c: char| c.is_ascii_digit()) => rest = n,
                _ => break,
            }
        }
        s = rest;
    }
    let t = s.trim_start();
    if let Some(rest) = t.strip_prefix('"') {
        if let Some(end) = rest.find('"').filter(|&e| !rest[..e].contains('\n')) {
            quote = Some(rest[..end].to_string());
            s = &rest[end + 1..];
        }
    }
    let t = s.trim_start();
    if let Some(rest) = t.strip_prefix('(') {
        if let Some(end) = rest.find(')') {
            let inner = &rest[..end];
            if !inner.contains('§') && !inner.contains('\n') && !inner.contains('(') {
                s = &rest[end + 1..];
            }
        }
    }
    (items, quote, s)
}

/// `, §4.2`, `; §2`, ` and §4.1`: the next section of the same page, if one follows.
fn next_section(s: &str) -> Option<&str> {
    let t = s.trim_start();
    let t = [",", ";", "and ", "or "]
        .iter()
        .find_map(|sep| t.strip_prefix(sep))?
        .trim_start();
    t.strip_prefix('§')
}

/// Every cited section of a `<name>.md` page (or of a known page named without `.md`), with
/// its line number, and every `<name>.md` mentioned at all (for the notes check).
fn citations(text: &str, known: &BTreeSet<String>) -> (Vec<Citation>, Vec<(usize, String)>) {
    let mut found = Vec::new();
    let mut mentioned = Vec::new();
    let line_of = |at: usize| text[..at].matches('\n').count() + 1;
    let mut i = 0;
    while i < text.len() {
        let c = text[i..].chars().next().expect("in bounds");
        let at_name_start = is_name_char(c)
            && !text[..i]
                .chars()
                .next_back()
                .is_some_and(|p| is_name_char(p) || p == '.');
        if !at_name_start {
            i += c.len_utf8();
            continue;
        }
        let len = text[i..]
            .find(|c: char| !is_name_char(c))
            .unwrap_or(text.len() - i);
        let name = &text[i..i + len];
        let mut after = &text[i + len..];
        let with_md = after.starts_with(".md") && !after[3..].starts_with(is_name_char);
        if with_md {
            after = &after[3..];
            mentioned.push((line_of(i), format!("{name}.md")));
        }
        if with_md || known.contains(name) {
            let rest = skip_to_section(after);
            if let Some(mut s) = rest.strip_prefix('§') {
                while let Some((section, n)) = section_at(s) {
                    let start = text.len() - s.len();
                    let (items, quote, tail) = qualifiers(&s[n..]);
                    found.push(Citation {
                        line: line_of(start),
                        page: name.to_string(),
                        section,
                        items,
                        quote,
                    });
                    match next_section(tail) {
                        Some(next) => s = next,
                        None => break,
                    }
                }
            }
        }
        i += len;
    }
    (found, mentioned)
}

/// Bare-word source keys: `S1`..`S99` (and `S3n`), `I22`..`I9999`, `X1`..`X9`, never with a
/// leading zero; not the catalog ids written as a lone string (`"S10"`) or after "catalog".
fn source_keys(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let b = line.as_bytes();
        for (i, &c) in b.iter().enumerate() {
            let max = match c {
                b'S' => 2,
                b'I' => 4,
                b'X' => 1,
                _ => continue,
            };
            if i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_') {
                continue;
            }
            let digits = b[i + 1..].iter().take_while(|d| d.is_ascii_digit()).count();
            let min = if c == b'I' { 2 } else { 1 };
            if digits < min || digits > max || b[i + 1] == b'0' {
                continue;
            }
            let mut end = i + 1 + digits;
            if c == b'S' && b.get(end) == Some(&b'n') {
                end += 1;
            }
            if b.get(end)
                .is_some_and(|d| d.is_ascii_alphanumeric() || *d == b'_')
            {
                continue;
            }
            let quoted = i > 0 && b[i - 1] == b'"' && b.get(end) == Some(&b'"');
            let catalog = line[..i].trim_end().ends_with("catalog");
            if !quoted && !catalog {
                out.push((n + 1, line[i..end].to_string()));
            }
        }
    }
    out
}

/// The keys of the sources table: section 0's table rows, first cell split on commas.
fn sources_table(page: &Page) -> BTreeSet<String> {
    let rows = page
        .sections
        .get("0")
        .map(Vec::as_slice)
        .unwrap_or_default();
    rows.iter()
        .filter_map(|l| l.strip_prefix('|'))
        .filter_map(|l| l.split('|').next())
        .flat_map(|cell| cell.split(','))
        .map(|k| k.trim().trim_matches('`').to_string())
        .filter(|k| !k.is_empty() && k != "Key" && !k.starts_with('-'))
        .collect()
}

/// Everything wrong with the citations in `files`, as `path:line: message`.
fn problems(
    files: &[(String, String)],
    pages: &BTreeMap<String, Page>,
    keys_in: &[&str],
    table: &BTreeSet<String>,
) -> Vec<String> {
    let known: BTreeSet<String> = pages.keys().cloned().collect();
    let mut out = Vec::new();
    for (path, text) in files {
        let (cited, mentioned) = citations(text, &known);
        for (line, file) in mentioned {
            if NOT_PAGES.contains(&file.as_str()) {
                out.push(format!(
                    "{path}:{line}: names {file}, which has no page in {REFERENCE}"
                ));
            }
        }
        for c in cited {
            let shown = format!("{}.md §{}", c.page, c.section);
            let Some(page) = pages.get(&c.page) else {
                out.push(format!(
                    "{path}:{}: {shown}: no page {REFERENCE}/{}.md",
                    c.line, c.page
                ));
                continue;
            };
            if !page.sections.contains_key(&c.section) {
                out.push(format!(
                    "{path}:{}: {shown}: {REFERENCE}/{}.md has no heading for §{}",
                    c.line, c.page, c.section
                ));
                continue;
            }
            if let Some(words) = c.quote.filter(|w| !page.mentions(&c.section, w)) {
                out.push(format!(
                    "{path}:{}: {shown} \"{words}\": the section never says that",
                    c.line
                ));
            }
            for item in c.items {
                if !page.has_item(&c.section, item) {
                    out.push(format!(
                        "{path}:{}: {shown} item {item}: the section has no item {item}",
                        c.line
                    ));
                }
            }
        }
        if keys_in.iter().any(|dir| path.starts_with(dir)) {
            for (line, key) in source_keys(text) {
                if !table.contains(&key) {
                    out.push(format!(
                        "{path}:{line}: source {key} is not in the sources table of \
                         {REFERENCE}/liveperson-auth.md §0"
                    ));
                }
            }
        }
    }
    out
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every UTF-8 file under `dir` (or `dir` itself), relative to the root.
fn files_under(dir: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root().join(dir)];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if let Ok(text) = String::from_utf8(std::fs::read(&path).unwrap()) {
            let rel = path
                .strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.push((rel, text));
        }
    }
    out.sort();
    out
}

fn reference_pages(dir: &Path) -> BTreeMap<String, Page> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .filter(|p| p.file_stem().is_some_and(|s| s != "README"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, Page::parse(&std::fs::read_to_string(&p).unwrap()))
        })
        .collect()
}

#[test]
fn every_citation_resolves_to_a_reference_page_and_section() {
    let pages = reference_pages(&root().join(REFERENCE));
    for name in ["liveperson-auth", "google-oidc", "conformance-and-attacks"] {
        assert!(pages.contains_key(name), "{REFERENCE}/{name}.md is missing");
    }
    let table = sources_table(&pages["liveperson-auth"]);
    for key in ["S1", "S18", "I59", "I1389", "X1"] {
        assert!(table.contains(key), "sources table lacks {key}: {table:?}");
    }
    let mut files = Vec::new();
    for dir in [
        "src",
        "scenarios",
        "fixtures",
        "templates",
        "README.md",
        "ARCHITECTURE.md",
        "BENCHMARKING.md",
        "docs",
    ] {
        files.extend(files_under(dir));
    }
    let (cited, _) = files
        .iter()
        .map(|(_, t)| citations(t, &pages.keys().cloned().collect()))
        .fold((0, 0), |(a, b), (c, m)| (a + c.len(), b + m.len()));
    // The code cites these pages about ninety times; far fewer means the scan broke.
    assert!(cited > 50, "only {cited} citations found");
    // The guide's chapters are docs/*.md; the reference pages below docs/reference are the
    // sources themselves.
    let chapters: Vec<String> = files
        .iter()
        .map(|(path, _)| path.clone())
        .filter(|p| p.starts_with("docs/") && !p.starts_with("docs/reference/"))
        .filter(|p| p.ends_with(".md"))
        .collect();
    assert!(
        chapters.iter().any(|c| c == "docs/verifier.md"),
        "the guide's chapters were not read: {chapters:?}"
    );
    let mut keys_in = vec!["src/", "scenarios/", "README.md"];
    keys_in.extend(chapters.iter().map(String::as_str));
    let found = problems(&files, &pages, &keys_in, &table);
    assert!(
        found.is_empty(),
        "{} unresolved:\n{}",
        found.len(),
        found.join("\n")
    );
}

fn sample_pages() -> BTreeMap<String, Page> {
    let page = "# Title\n\n## 0. Sources\n\n| Key | What |\n|---|---|\n| S1 | a page |\n\
                | I22, I59 | issues |\n\n## 1. Code flow\n\n### 1.4 Authorization\n\n\
                ## 2. Implicit flow\n- **Key provisioning**, either one\n\n\
                ## 7. Gaps\n\n### 7.1 Contradictions\n1. one\n2. two\n";
    BTreeMap::from([("liveperson-auth".to_string(), Page::parse(page))])
}

fn sample_problems(text: &str) -> Vec<String> {
    let pages = sample_pages();
    let table = sources_table(&pages["liveperson-auth"]);
    let files = [("src/x.rs".to_string(), text.to_string())];
    problems(&files, &pages, &["src/"], &table)
}

#[test]
fn the_check_reports_missing_sections_pages_items_notes_and_keys() {
    let known = BTreeSet::from(["liveperson-auth".to_string()]);
    let (cited, _) = citations(
        "a\n/// (`liveperson-auth.md` §1.4, §7.1 item 2) and liveperson-auth.md (§1)\n\
         x liveperson-auth.md §3.3 (dropped) and §4.1, §4.2; RFC 6749 §4.1.2\n\
         \"liveperson-auth §7.1-5\" google-oidc.md §1, §2.\n",
        &known,
    );
    let got: Vec<_> = cited
        .iter()
        .map(|c| (c.line, c.page.as_str(), c.section.as_str(), c.items.clone()))
        .collect();
    assert_eq!(
        got,
        [
            (2, "liveperson-auth", "1.4", vec![]),
            (2, "liveperson-auth", "7.1", vec![2]),
            (2, "liveperson-auth", "1", vec![]),
            (3, "liveperson-auth", "3.3", vec![]),
            (3, "liveperson-auth", "4.1", vec![]),
            (3, "liveperson-auth", "4.2", vec![]),
            (4, "liveperson-auth", "7.1", vec![5]),
            (4, "google-oidc", "1", vec![]),
            (4, "google-oidc", "2", vec![]),
        ]
    );

    assert_eq!(
        sample_problems("ok: liveperson-auth.md §1.4, §7.1 item 2 (S1, I59)\n"),
        Vec::<String>::new()
    );
    assert_eq!(
        sample_problems("x\n// see liveperson-auth.md §8.4\n"),
        ["src/x.rs:2: liveperson-auth.md §8.4: docs/reference/liveperson-auth.md has no heading for §8.4"]
    );
    assert_eq!(
        sample_problems("liveperson-auth.md §7.1 item 5"),
        ["src/x.rs:1: liveperson-auth.md §7.1 item 5: the section has no item 5"]
    );
    assert_eq!(
        sample_problems("(`liveperson-auth.md` §2 \"key provisioning\")"),
        Vec::<String>::new()
    );
    assert_eq!(
        sample_problems("liveperson-auth.md §2 \"Key rotation\""),
        ["src/x.rs:1: liveperson-auth.md §2 \"Key rotation\": the section never says that"]
    );
    assert_eq!(
        sample_problems("google-oidc.md §4.3"),
        ["src/x.rs:1: google-oidc.md §4.3: no page docs/reference/google-oidc.md"]
    );
    assert_eq!(
        sample_problems("as design.md says"),
        ["src/x.rs:1: names design.md, which has no page in docs/reference"]
    );
    assert_eq!(
        sample_problems("(S1, S8) and \"S10\", catalog S19, S256, I01"),
        ["src/x.rs:1: source S8 is not in the sources table of docs/reference/liveperson-auth.md §0"]
    );
    // A `###` heading is a subsection: `§1` needs `## 1.`, not `### 1`.
    assert_eq!(heading_number("## 8. What"), Some("8".to_string()));
    assert_eq!(heading_number("### 8.4 Codes"), Some("8.4".to_string()));
    assert_eq!(heading_number("### 8 Codes"), None);
    assert_eq!(heading_number("## S: structure"), None);
}
