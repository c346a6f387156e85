//! Every command example in README.md and the guide (docs/*.md) runs, and its shown output is
//! what it prints.
//!
//! An example is a ```sh block. When a ```text block follows it (blank lines between are
//! allowed), that block is its expected output: stdout and stderr as one stream, compared with
//! snapbox, so `[..]` stands for any text within a line and a `...` line for any lines. Without
//! one, the example must exit 0. A block that must not run here (it needs a brand's provider,
//! a browser, a long benchmark, or it starts a server of its own that never ends) says why in
//! an HTML comment on the line before: `<!-- not run: needs a brand's provider -->`.
//!
//! Each example runs with `sh -c` in a fresh temporary folder, beside a `serve` of its own on a
//! free port with its state in that folder's `.oidc-harness`; `<!-- serve: ARGS -->` on the
//! line before gives that `serve` more arguments. In the command and the expected output,
//! `127.0.0.1:8443` becomes the real address and `cargo run --release --` (and its variants)
//! the built binary, which is also on `PATH` as `oidc-harness`; `fixtures/`, `scenarios/` and
//! `docs/` are links to the repository's.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_oidc-harness");

/// How long one example may take, its `serve` included.
const TIMEOUT: Duration = Duration::from_secs(120);

/// The address the docs show; each example gets its own instead.
const SHOWN_ADDR: &str = "127.0.0.1:8443";

/// How the docs spell the binary; the longest first, so that none is left half replaced.
const SHOWN_BINARY: &[&str] = &[
    "cargo run --release -q --",
    "cargo run -q --release --",
    "cargo run --release --",
    "cargo run -q --",
    "cargo run --",
    "./target/release/oidc-harness",
];

#[derive(Debug)]
struct Example {
    /// `README.md:12`: where the ```sh line is.
    place: String,
    script: String,
    expected: Option<String>,
    /// Why it is not run, from `<!-- not run: ... -->`.
    not_run: Option<String>,
    /// From `<!-- serve: ... -->`.
    serve_args: Vec<String>,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and the guide's chapters, not the reference pages they cite.
fn documents() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    let mut chapters: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    chapters.sort();
    files.extend(chapters);
    files
}

/// The fenced blocks of a markdown text: (line of the opening fence, info string, body).
fn blocks(text: &str) -> Vec<(usize, String, String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if let Some(info) = lines[i].strip_prefix("```") {
            let start = i;
            let mut body = String::new();
            i += 1;
            while i < lines.len() && lines[i] != "```" {
                body.push_str(lines[i]);
                body.push('\n');
                i += 1;
            }
            out.push((start, info.trim().to_string(), body, i));
        }
        i += 1;
    }
    out
}

/// The examples of one document.
fn examples(name: &str, text: &str) -> Vec<Example> {
    let lines: Vec<&str> = text.lines().collect();
    let blocks = blocks(text);
    let mut out = Vec::new();
    for (n, (start, info, body, end)) in blocks.iter().enumerate() {
        if info != "sh" {
            continue;
        }
        let before = start.checked_sub(1).map_or("", |i| lines[i].trim());
        let comment = before
            .strip_prefix("<!--")
            .and_then(|c| c.strip_suffix("-->"))
            .map(str::trim);
        let not_run = comment
            .and_then(|c| c.strip_prefix("not run:"))
            .map(|why| why.trim().to_string());
        let serve_args = comment
            .and_then(|c| c.strip_prefix("serve:"))
            .map(|args| args.split_whitespace().map(String::from).collect())
            .unwrap_or_default();
        let expected = blocks.get(n + 1).and_then(|(next, info, body, _)| {
            let between = &lines[end + 1..*next];
            (info == "text" && between.iter().all(|l| l.trim().is_empty())).then(|| body.clone())
        });
        out.push(Example {
            place: format!("{name}:{}", start + 1),
            script: body.clone(),
            expected,
            not_run,
            serve_args,
        });
    }
    out
}

fn all_examples() -> Vec<Example> {
    let mut out = Vec::new();
    for path in documents() {
        let name = path
            .strip_prefix(root())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        out.extend(examples(&name, &text));
    }
    out
}

/// Kills the example's `serve` however the example ends.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `serve` in `dir` and returns it with its address.
fn serve(dir: &Path, args: &[String]) -> Result<(Serve, String), String> {
    let child = Command::new(BIN)
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--ready-file",
            "ready.json",
        ])
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("serve does not start: {e}"))?;
    let child = Serve(child);
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Ok(text) = std::fs::read_to_string(dir.join("ready.json")) {
            let ready: serde_json::Value = serde_json::from_str(&text).unwrap();
            let addr = ready["addr"].as_str().unwrap().to_string();
            return Ok((child, addr));
        }
        if Instant::now() > deadline {
            return Err("serve was not ready in time".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// What the docs show, made concrete for this run.
fn localize(text: &str, addr: &str) -> String {
    let mut text = text.replace(SHOWN_ADDR, addr);
    for shown in SHOWN_BINARY {
        text = text.replace(shown, BIN);
    }
    text
}

/// Runs one example; `Err` says how it failed.
fn run(example: &Example) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    for linked in ["fixtures", "scenarios", "docs"] {
        std::os::unix::fs::symlink(root().join(linked), dir.path().join(linked)).unwrap();
    }
    let (_serve, addr) = serve(dir.path(), &example.serve_args)?;
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // One stream, in the order it was written, as a terminal shows it.
    let script = format!("exec 2>&1\n{}", localize(&example.script, &addr));
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir.path())
        .env("PATH", path)
        .env_remove("OIDC_HARNESS_BROWSER_TESTS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = child.stdout.take().unwrap();
    let output = std::thread::spawn(move || {
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        String::from_utf8_lossy(&out).into_owned()
    });
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("still running after {} s", TIMEOUT.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let output = output.join().unwrap();
    match &example.expected {
        None if status.success() => Ok(()),
        None => Err(format!("{status}, printing:\n{output}")),
        Some(expected) => {
            // Shown as the docs show it: `mint`'s default issuer is 127.0.0.1:8443 too, so the
            // expected text cannot tell the two apart, and the output is put in its terms.
            let output = output.replace(&addr, SHOWN_ADDR);
            let mut redactions = snapbox::Redactions::new();
            redactions.insert("[BIN]", BIN).unwrap();
            snapbox::Assert::new()
                .palette(snapbox::report::Palette::plain())
                .redact_with(redactions)
                .try_eq(
                    Some(&"the example"),
                    snapbox::IntoData::into_data(output.clone()),
                    snapbox::IntoData::into_data(expected),
                )
                .map_err(|e| format!("{e}\nit printed ({status}):\n{output}"))
        }
    }
}

#[test]
fn every_example_in_the_readme_and_the_guide_prints_what_it_shows() {
    let examples = all_examples();
    let runnable: Vec<&Example> = examples.iter().filter(|e| e.not_run.is_none()).collect();
    // The README and the guide show dozens; far fewer means the scan broke.
    assert!(
        runnable.len() >= 20,
        "only {} examples found",
        runnable.len()
    );
    let next = Mutex::new(runnable.iter());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let Some(example) = next.lock().unwrap().next().copied() else {
                    break;
                };
                if let Err(why) = run(example) {
                    failures
                        .lock()
                        .unwrap()
                        .push(format!("{}: {why}", example.place));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} examples fail:\n\n{}",
        failures.len(),
        runnable.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_example_not_run_says_why() {
    for example in all_examples() {
        if let Some(why) = &example.not_run {
            assert!(
                !why.is_empty(),
                "{}: `not run:` without a reason",
                example.place
            );
        }
    }
}

#[test]
fn an_example_is_a_sh_block_and_the_text_block_after_it() {
    let text = "intro\n\n<!-- not run: needs a browser -->\n```sh\nopen x\n```\n\n\
                ```sh\necho hi\n```\n\n```text\nhi\n```\n\n<!-- serve: --config h.toml -->\n\
                ```sh\necho a\n```\nprose\n```text\nnot its output\n```\n";
    let found = examples("x.md", text);
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(found[0].not_run.as_deref(), Some("needs a browser"));
    assert_eq!(found[0].place, "x.md:4");
    assert_eq!(found[1].expected.as_deref(), Some("hi\n"));
    assert_eq!(found[1].not_run, None);
    assert_eq!(found[2].serve_args, ["--config", "h.toml"]);
    assert_eq!(found[2].expected, None);
}

/// The guide is one book: `docs/SUMMARY.md` links every chapter and reference page there is,
/// and every link it has leads to a file, so the book and the folder read on GitHub agree.
#[test]
fn the_summary_lists_every_page_of_the_guide() {
    let docs = root().join("docs");
    let summary = std::fs::read_to_string(docs.join("SUMMARY.md")).unwrap();
    let linked: Vec<String> = summary
        .split("](")
        .skip(1)
        .map(|rest| rest.split(')').next().unwrap().to_owned())
        .collect();
    for link in &linked {
        assert!(
            docs.join(link).is_file(),
            "SUMMARY.md links {link}: no such page"
        );
    }
    let mut pages = Vec::new();
    for dir in ["", "reference"] {
        for entry in std::fs::read_dir(docs.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.extension().is_some_and(|e| e == "md") && name != "SUMMARY.md" {
                pages.push(if dir.is_empty() {
                    name
                } else {
                    format!("{dir}/{name}")
                });
            }
        }
    }
    let missing: Vec<&String> = pages.iter().filter(|p| !linked.contains(p)).collect();
    assert!(
        missing.is_empty(),
        "pages SUMMARY.md does not list: {missing:?}"
    );
}
