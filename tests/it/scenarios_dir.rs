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

/// The flip check: a rejecting scenario proves its fault only if the same flow, with the
/// fault taken away, authenticates. A file whose rejection does not come from its faults says
/// why in `flip`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rejecting_scenario_authenticates_without_its_faults() {
    let scenarios = scenario::load(&[dir()]).unwrap();
    let rejecting = scenarios
        .iter()
        .filter(|s| s.expect.verdict == scenario::Verdict::Rejected && s.skip.is_none())
        .count();
    let twins: Vec<_> = scenarios.iter().filter_map(|s| s.flipped()).collect();
    let explained = scenarios.iter().filter(|s| s.flip.is_some()).count();
    assert_eq!(twins.len() + explained, rejecting);
    assert!(twins.len() >= 100, "{} flipped", twins.len());
    let outcomes = scenario::run_all(twins, 8).await;
    let failures: Vec<String> = outcomes
        .iter()
        .filter(|o| o.status != Status::Pass)
        .map(|o| format!("{}: {:?} {:?}; {}", o.id, o.verdict, o.reason, o.detail))
        .collect();
    assert!(
        failures.is_empty(),
        "{} rejecting scenarios are still rejected with their faults removed, so the fault \
         is not shown to be the cause:\n{}",
        failures.len(),
        failures.join("\n")
    );
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
        ("id = \"x\"\ntitle = \"t\"\nflow = \"code\"\n[provider.token]\nheader = '{}'\n[expect]\nverdict = \"authenticated\"\n", 4, "token: a token needs a payload (or compact)"),
        ("id = \"x\"\ntitle = \"t\"\nflow = \"code\"\n[provider]\nmutate = [\"exp-past\"]\n[provider.token]\ncompact = 'a.b.c'\n[expect]\nverdict = \"authenticated\"\n", 6, "token: a kept token is issued as it is: leave out mutate and encrypt"),
        ("id = \"x\"\ntitle = \"t\"\nflow = \"code\"\n[provider.token]\npayload = '{}'\nsign = \"forged\"\n[expect]\nverdict = \"authenticated\"\n", 6, "unknown variant `forged`"),
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

/// Each expectation beyond the verdict fails the scenario, with what differed.
#[tokio::test]
async fn sub_fields_dropped_warnings_and_provider_expectations_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let head = "title = \"t\"\nflow = \"code\"\n[expect]\nverdict = \"authenticated\"\n";
    let cases = [
        (
            "sub",
            "sub = \"110169484474386276335\"\n",
            "sub \"110169484474386276334\" is not \"110169484474386276335\"",
        ),
        (
            "field",
            "[expect.fields]\n\"personal.firstname\" = \"Alicia\"\n",
            "field personal.firstname shows \"Alice\", not \"Alicia\"",
        ),
        (
            "absent",
            "[expect.fields]\n\"personal.nickname\" = \"Al\"\n",
            "field personal.nickname is not shown",
        ),
        (
            "dropped",
            "dropped = [\"ctmrinfo.info.balance\"]\n",
            "ctmrinfo.info.balance was not dropped",
        ),
        (
            "warning",
            "warnings = [\"a second ctmrinfo\"]\n",
            "no warning says \"a second ctmrinfo\"",
        ),
        (
            "auth",
            "[expect.provider]\nclient_auth = \"body\"\n",
            "the provider saw client authentication basic, not body",
        ),
        (
            "body",
            "[expect.provider]\nbody = \"json\"\n",
            "the provider saw token request body form, not json",
        ),
        (
            "pkce",
            "[expect.provider]\npkce = \"S256\"\n",
            "the provider saw PKCE method none, not S256",
        ),
        (
            "nonce",
            "[expect.provider]\nnonce = false\n",
            "the provider saw nonce sent true, not false",
        ),
    ];
    let paths: Vec<_> = cases
        .iter()
        .map(|(id, extra, _)| {
            write(
                tmp.path(),
                &format!("{id}.toml"),
                &format!("id = \"{id}\"\n{head}{extra}"),
            )
        })
        .collect();
    let report = run(&paths).await;
    for (id, _, detail) in cases {
        let outcome = report.outcomes.iter().find(|o| o.id == id).unwrap();
        assert_eq!(outcome.status, Status::Fail, "{id}: {}", outcome.detail);
        assert_eq!(
            outcome.verdict,
            Some(scenario::Verdict::Authenticated),
            "{id}"
        );
        assert!(outcome.detail.contains(detail), "{id}: {}", outcome.detail);
    }
    // The same expectations, true, pass.
    let right = write(
        tmp.path(),
        "right.toml",
        &format!(
            "id = \"right\"\n{head}sub = \"110169484474386276334\"\n\
             dropped = [\"ctmrinfo.info.storeNumber\"]\nwarnings = [\"storeZipCode dropped\"]\n\
             [expect.fields]\n\"personal.firstname\" = \"Alice\"\n\
             [expect.provider]\nclient_auth = \"basic\"\nbody = \"form\"\npkce = \"none\"\nnonce = true\n"
        ),
    );
    let report = run(&[right]).await;
    assert_eq!(
        report.outcomes[0].status,
        Status::Pass,
        "{}",
        report.outcomes[0].detail
    );
}

/// The flip check's twin, and the files it refuses.
#[tokio::test]
async fn a_rejecting_scenario_flips_to_an_authenticating_twin() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write(
        tmp.path(),
        "exp.toml",
        "id = \"exp\"\ntitle = \"t\"\nflow = \"mobile\"\nreplay = true\n[provider]\nmutate = [\"exp-past\"]\ntoken_response = \"slow\"\n[verifier]\nreject_replays = true\n[expect]\nverdict = \"rejected\"\nreason = \"expired\"\n",
    );
    let scenarios = scenario::load(&[path]).unwrap();
    let twin = scenarios[0].flipped().unwrap();
    assert_eq!(twin.id, "exp~flipped");
    assert!(twin.provider.mutate.is_empty() && twin.provider.token_response.is_none());
    assert!(!twin.replay);
    assert_eq!(twin.expect.verdict, scenario::Verdict::Authenticated);
    let outcome = scenario::run_one(&twin).await;
    assert_eq!(outcome.status, Status::Pass, "{}", outcome.detail);
    // A fault that is not the cause: the twin is still rejected, so the check fails.
    let wrong = write(
        tmp.path(),
        "wrong.toml",
        "id = \"wrong\"\ntitle = \"t\"\nflow = \"implicit\"\n[provider]\nmutate = [\"exp-past\"]\n[verifier]\nrequire_encryption = true\n[expect]\nverdict = \"rejected\"\nreason = \"encryption_required\"\n",
    );
    let twin = scenario::load(&[wrong]).unwrap()[0].flipped().unwrap();
    let outcome = scenario::run_one(&twin).await;
    assert_eq!(outcome.status, Status::Fail);
    assert_eq!(outcome.reason, Some("encryption_required"));
    // What cannot be said.
    for (text, line, message) in [
        ("id = \"x\"\ntitle = \"t\"\nflow = \"implicit\"\nflip = \"why\"\n[expect]\nverdict = \"authenticated\"\n", 4, "flip explains a rejecting scenario only"),
        ("id = \"x\"\ntitle = \"t\"\nflow = \"implicit\"\n[expect]\nverdict = \"either\"\n", 5, "either needs a source"),
        ("id = \"x\"\ntitle = \"t\"\nflow = \"implicit\"\n[expect]\nverdict = \"rejected\"\nreason = \"expired\"\nsub = \"1\"\n", 5, "describe an authenticated consumer"),
        ("id = \"x\"\ntitle = \"t\"\nflow = \"code\"\nreauthenticate_after_secs = 10\n[expect]\nverdict = \"authenticated\"\n", 4, "reauthenticate_after_secs needs a flow"),
        ("id = \"x\"\ntitle = \"t\"\nflow = \"implicit\"\n[provider]\nrotate_between_logins = true\n[expect]\nverdict = \"authenticated\"\n", 5, "rotate_between_logins needs reauthenticate_after_secs"),
        ("id = \"x\"\ntitle = \"t\"\nflow = \"code\"\nresponse_type = \"id_token\"\n[expect]\nverdict = \"authenticated\"\n", 4, "does not fit a code flow"),
        ("id = \"x\"\ntitle = \"t\"\nflow = \"code\"\n[mobile]\nredirect_uri = \"https://a.example\"\n[expect]\nverdict = \"authenticated\"\n", 4, "[mobile] describes an app's code"),
        ("id = \"x\"\ntitle = \"t\"\nflow = \"mobile-code\"\n[verifier]\npkce = true\n[expect]\nverdict = \"authenticated\"\n", 5, "mobile-code takes pkce = false"),
        ("id = \"x\"\ntitle = \"t\"\nflow = \"code\"\n[expect]\nverdict = \"rejected\"\nreason = \"expired\"\ninternal_error_code = \"1012\"\n", 7, "the IDP's answers"),
        ("id = \"x\"\ntitle = \"t\"\nflow = \"mobile\"\n[expect]\nverdict = \"authenticated\"\nsame_consumer = true\n", 6, "it needs reauthenticate_after_secs"),
        ("id = \"x\"\ntitle = \"t\"\nflow = \"mobile\"\nreauthenticate_as = \"bob\"\n[expect]\nverdict = \"authenticated\"\n", 4, "reauthenticate_as needs reauthenticate_after_secs"),
    ] {
        let path = write(tmp.path(), "bad.toml", text);
        let err = scenario::load(&[path]).unwrap_err();
        assert_eq!((err.line, err.message.contains(message)), (line, true), "{err}");
    }
    let flipped = scenario::load(&[write(
        tmp.path(),
        "explained.toml",
        "id = \"x\"\ntitle = \"t\"\nflow = \"implicit\"\nflip = \"the platform's setting is the cause\"\n[verifier]\nrequire_encryption = true\n[expect]\nverdict = \"rejected\"\nreason = \"encryption_required\"\n",
    )])
    .unwrap()[0]
        .flipped();
    assert!(flipped.is_none());
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
    let report = run(&[pass, fail, skip]).await;
    let html = report.html("t", "s");
    assert!(
        html.contains("<th>platform error</th><td><code>internalErrorCode 1003</code></td>"),
        "{html}"
    );
    let xml = report.junit();
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
    // The refusal's rule, its basis and the platform IDP's error code ride as properties.
    let properties: Vec<(&str, &str)> = failed
        .descendants()
        .filter(|n| n.has_tag_name("property"))
        .map(|p| (p.attribute("name").unwrap(), p.attribute("value").unwrap()))
        .filter(|(name, _)| *name != "cite")
        .collect();
    assert_eq!(
        properties,
        [
            ("rule", "jws-alg"),
            ("basis", "documented"),
            ("internalErrorCode", "1003")
        ]
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

/// The mobile flows prove the provider's and the IDP's checks they name: each fails when that
/// one check is gone (the provider skips it, or the expectation on the IDP's answer is off).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_mobile_scenario_fails_without_the_check_it_names() {
    let load = |name: &str| {
        scenario::load(&[dir().join("flows").join(name)])
            .unwrap()
            .remove(0)
    };
    let outcome = |s: scenario::Scenario| async move { scenario::run_one(&s).await };
    // As written, each passes.
    for name in [
        "mobile-code.toml",
        "mobile-code-replayed.toml",
        "mobile-code-wrong-redirect-uri.toml",
        "mobile-code-reauthentication.toml",
        "mobile-code-reauthentication-another-person.toml",
    ] {
        let o = outcome(load(name)).await;
        assert_eq!(o.status, Status::Pass, "{name}: {}", o.detail);
    }
    // A provider that redeems a code twice: the replay authenticates, the scenario fails.
    let mut replayed = load("mobile-code-replayed.toml");
    replayed.provider.lapses = vec![oidc_harness::idp::Lapse::ReusableCode];
    let o = outcome(replayed).await;
    assert_eq!(
        (o.status, o.verdict),
        (Status::Fail, Some(scenario::Verdict::Authenticated)),
        "{}",
        o.detail
    );
    // A provider that does not compare redirect_uri: the app's wrong one is taken.
    let mut wrong = load("mobile-code-wrong-redirect-uri.toml");
    wrong.provider.lapses = vec![oidc_harness::idp::Lapse::AnyRedirectUri];
    let o = outcome(wrong).await;
    assert_eq!(
        (o.status, o.verdict),
        (Status::Fail, Some(scenario::Verdict::Authenticated)),
        "{}",
        o.detail
    );
    // The IDP's answer is checked: another code expected is a failure that names both.
    let mut code = load("mobile-code-replayed.toml");
    code.expect.internal_error_code = Some("9007".into());
    let o = outcome(code).await;
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.detail
            .starts_with("the IDP answered internalErrorCode Some(\"9011\"), expected \"9007\""),
        "{}",
        o.detail
    );
    // Continuity is checked both ways: alice again is the same consumer, bob is not.
    let mut same = load("mobile-code-reauthentication.toml");
    same.expect.same_consumer = Some(false);
    let o = outcome(same).await;
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.detail.contains("expected another consumer"),
        "{}",
        o.detail
    );
    let mut other = load("mobile-code-reauthentication-another-person.toml");
    other.expect.same_consumer = Some(true);
    let o = outcome(other).await;
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.detail.contains("expected the same consumer"),
        "{}",
        o.detail
    );
}
