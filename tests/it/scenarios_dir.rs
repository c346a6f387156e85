//! The scenario runner: the whole `scenarios/` folder must pass, bad files are refused with
//! their line, a wrong expectation is reported as a failure, and JUnit output has the structure
//! CI systems read.

use std::path::{Path, PathBuf};

use oidc_harness::scenario::{self, Report, Status};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

async fn run(paths: &[PathBuf]) -> Report {
    let scenarios = scenario::load(paths).unwrap();
    Report::new(scenario::run_all(scenarios, 8).await, 0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_in_the_repository_passes() {
    let report = run(&[dir()]).await;
    let failures: Vec<String> = report
        .outcomes
        .iter()
        .filter(|o| o.status == Status::Fail)
        .map(|o| format!("{}: expected {}; {}", o.id, o.expected, o.detail))
        .collect();
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let count = |group: &str| report.outcomes.iter().filter(|o| o.group == group).count();
    assert!(count("malformed") >= 100, "{}", count("malformed"));
    assert!(count("conformance") >= 30, "{}", count("conformance"));
    assert!(count("flows") >= 25, "{}", count("flows"));
    // Every skip says why.
    assert!(report
        .outcomes
        .iter()
        .filter(|o| o.status == Status::Skip)
        .all(|o| !o.detail.is_empty()));
    assert!(report
        .summary()
        .ends_with(&format!("{} skipped", report.skipped)));
}

#[test]
fn every_mutation_has_a_malformed_scenario() {
    let scenarios = scenario::load(&[dir().join("malformed")]).unwrap();
    for mutation in oidc_harness::jose::malform::Mutation::ALL {
        assert!(
            scenarios.iter().any(|s| s.provider.mutate == [*mutation]),
            "no scenarios/malformed file for {}",
            mutation.name()
        );
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_bad_file_is_refused_with_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        ("id = \"x\"\ntitle = \"t\"\nflow = \"code\"\ncolour = \"red\"\n[expect]\nverdict = \"authenticated\"\n", 4, "unknown field `colour`"),
        ("id = \"x\"\ntitle = \"t\"\nflow = \"sideways\"\n[expect]\nverdict = \"authenticated\"\n", 3, "unknown variant `sideways`"),
        ("id = \"x\"\ntitle = \"t\"\nflow = \"code\"\n[expect]\nverdict = \"rejected\"\nreason = \"bad_vibes\"\n", 6, "unknown reason code \"bad_vibes\""),
        ("id = \"x\"\ntitle = \"t\"\nflow = \"code\"\n[expect]\nverdict = \"rejected\"\n", 5, "a rejected verdict needs a reason"),
        ("id = \"x\"\ntitle = \"t\"\nflow = \"code\"\n[provider]\nmutate = [\"alg-nothing\"]\n[expect]\nverdict = \"authenticated\"\n", 5, "unknown variant `alg-nothing`"),
        ("id = \"x\"\ntitle = \"\"\nflow = \"code\"\n[expect]\nverdict = \"authenticated\"\n", 2, "title must say why"),
        ("id = \"x\"\ntitle = \"t\"\nflow = \"popup\"\nreplay = true\n[expect]\nverdict = \"authenticated\"\n", 4, "replay needs a flow that hands over an ID token"),
    ];
    for (i, (text, line, message)) in cases.into_iter().enumerate() {
        let path = write(tmp.path(), &format!("bad{i}.toml"), text);
        let err = scenario::load(std::slice::from_ref(&path)).unwrap_err();
        assert_eq!(err.line, line, "{err}");
        assert!(err.message.contains(message), "{err}");
        assert!(
            err.to_string()
                .starts_with(&format!("{}: {line}: ", path.display())),
            "{err}"
        );
    }
    let a = write(
        tmp.path(),
        "a.toml",
        "id = \"same\"\ntitle = \"t\"\nflow = \"code\"\n[expect]\nverdict = \"authenticated\"\n",
    );
    let b = write(tmp.path(), "b.toml", "id = \"same\"\ntitle = \"t\"\nflow = \"implicit\"\n[expect]\nverdict = \"authenticated\"\n");
    assert!(scenario::load(&[a, b])
        .unwrap_err()
        .message
        .contains("is also used by"));
    assert!(scenario::load(&[tmp.path().join("missing.toml")]).is_err());
}

#[tokio::test]
async fn an_expectation_that_does_not_hold_is_a_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let wrong = write(
        tmp.path(),
        "wrong.toml",
        "id = \"wrongly-accepting\"\ntitle = \"expects an expired token to pass\"\nflow = \"implicit\"\n[provider]\nmutate = [\"exp-past\"]\n[expect]\nverdict = \"authenticated\"\n",
    );
    let wrong_reason = write(
        tmp.path(),
        "reason.toml",
        "id = \"wrong-reason\"\ntitle = \"expects the wrong reason\"\nflow = \"implicit\"\n[provider]\nmutate = [\"exp-past\"]\n[expect]\nverdict = \"rejected\"\nreason = \"nonce_mismatch\"\n",
    );
    // Replayed to a verifier that refuses replays, but expected to pass: the second verdict
    // is the one that counts.
    let replayed = write(
        tmp.path(),
        "replayed.toml",
        "id = \"replayed\"\ntitle = \"expects a replay to pass\"\nflow = \"mobile\"\nreplay = true\n[verifier]\nreject_replays = true\n[expect]\nverdict = \"authenticated\"\n",
    );
    let report = run(&[wrong, wrong_reason, replayed]).await;
    assert_eq!((report.passed, report.failed), (0, 3));
    assert!(
        report.text().contains("FAIL  replayed"),
        "{}",
        report.text()
    );
    let text = report.text();
    assert!(text.contains("FAIL  wrongly-accepting"), "{text}");
    assert!(text.contains("expected authenticated;"), "{text}");
    assert!(
        text.contains("expected rejected (nonce_mismatch);"),
        "{text}"
    );
    assert!(text.contains("rejected (token_replayed)"), "{text}");
    assert!(text.ends_with("0 passed, 3 failed\n"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&report.json()).unwrap();
    assert_eq!(json["failed"], 3);
    let reason_of = |id: &str| {
        json["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == id)
            .map(|o| o["reason"].clone())
    };
    assert_eq!(reason_of("wrong-reason"), Some("expired".into()));
    assert_eq!(reason_of("replayed"), Some("token_replayed".into()));
}

#[tokio::test]
async fn junit_has_the_structure_ci_systems_read() {
    let tmp = tempfile::tempdir().unwrap();
    let pass = write(
        tmp.path(),
        "pass.toml",
        "id = \"ok\"\ntitle = \"t\"\nflow = \"implicit\"\n[expect]\nverdict = \"authenticated\"\n",
    );
    let fail = write(tmp.path(), "fail.toml", "id = \"bad<&>\"\ntitle = \"t\"\nflow = \"implicit\"\n[provider]\nmutate = [\"alg-none\"]\n[expect]\nverdict = \"authenticated\"\n");
    let skip = write(tmp.path(), "skip.toml", "id = \"later\"\ntitle = \"t\"\nflow = \"code\"\nskip = \"not yet\"\n[expect]\nverdict = \"either\"\n");
    let xml = run(&[pass, fail, skip]).await.junit();
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests"), Some("3"));
    assert_eq!(root.attribute("failures"), Some("1"));
    assert_eq!(root.attribute("skipped"), Some("1"));
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 1);
    for attribute in ["name", "tests", "failures", "errors", "skipped", "time"] {
        assert!(
            suites[0].attribute(attribute).is_some(),
            "testsuite lacks {attribute}"
        );
    }
    let cases: Vec<_> = suites[0]
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 3);
    for case in &cases {
        assert!(case.attribute("classname").is_some() && case.attribute("time").is_some());
    }
    let failed = cases
        .iter()
        .find(|c| c.attribute("name") == Some("bad<&>"))
        .unwrap();
    let failure = failed
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert_eq!(
        failure.attribute("message"),
        Some("expected authenticated, got rejected (alg_not_allowed)")
    );
    let skipped = cases
        .iter()
        .find(|c| c.attribute("name") == Some("later"))
        .unwrap();
    assert_eq!(
        skipped
            .children()
            .find(|n| n.has_tag_name("skipped"))
            .unwrap()
            .attribute("message"),
        Some("not yet")
    );
}
