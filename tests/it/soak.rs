//! `bench --soak`: a short soak of a separate `serve` through the binary passes with every
//! answer right; the same soak against a provider that answers one request wrongly fails, and
//! says which answer.

use serde_json::Value;

use super::cli::run;

/// Runs `bench --soak` with `args` and reads its JSON.
fn soak(args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["bench", "--json", "--soak"];
    all.extend_from_slice(args);
    let (code, out, stderr) = run(&all);
    let outcome =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out:?}, stderr {stderr}"));
    (code, outcome, stderr)
}

fn count(outcome: &Value, name: &str) -> u64 {
    outcome[name]
        .as_u64()
        .unwrap_or_else(|| panic!("{name} in {outcome:#}"))
}

#[test]
fn a_short_soak_checks_every_kind_of_traffic_and_passes() {
    let (code, outcome, stderr) = soak(&["7", "--clients", "4", "--report-every", "3"]);
    assert_eq!(code, 0, "{outcome:#} {stderr}");
    assert_eq!(outcome["passed"], true, "{outcome:#}");
    assert_eq!(outcome["failures"], serde_json::json!([]));
    assert_eq!(count(&outcome, "wrong_answers"), 0, "{outcome:#}");
    assert_eq!(outcome["wrong_answer_samples"], serde_json::json!([]));
    assert_eq!(outcome["seconds"], 7.0);
    assert_eq!(count(&outcome, "clients"), 4);
    for counted in ["code_flows", "implicit_flows", "hostile", "admin_changes"] {
        assert!(count(&outcome, counted) > 0, "{counted}: {outcome:#}");
    }
    // Rotations every 2 s of a 7 s run: at 2, 4 and 6 s.
    assert!(count(&outcome, "rotations") >= 1, "{outcome:#}");
    // Each slow client is closed by the server within header_read_timeout_secs + 2.
    assert_eq!(count(&outcome, "header_read_timeout_secs"), 2);
    assert_eq!(outcome["slow_client_bound_secs"], 4.0);
    assert!(count(&outcome, "slow_clients") >= 1, "{outcome:#}");
    let longest = outcome["slow_client_max_open_secs"].as_f64().unwrap();
    assert!((1.5..=4.0).contains(&longest), "{outcome:#}");
    // The baseline is taken at 20 % of the run; the limits follow from it.
    let warmup = &outcome["warmup"];
    assert!(warmup["at_secs"].as_f64().unwrap() >= 1.4, "{outcome:#}");
    let (rss, fds) = (warmup["rss_mb"].as_f64().unwrap(), count(warmup, "fds"));
    assert!(rss > 0.0 && fds > 0, "{outcome:#}");
    assert_eq!(count(&outcome, "fds_limit"), fds + 16);
    let rss_limit = outcome["rss_limit_mb"].as_f64().unwrap();
    assert!(
        (rss_limit - (rss + (rss * 0.25).max(16.0))).abs() < 0.11,
        "{outcome:#}"
    );
    assert!(count(&outcome["end"], "fds") <= fds + 16);
    // The stores are the provider's own account, capped at the soak's max_store_entries.
    assert_eq!(count(&outcome, "max_store_entries"), 1000);
    let codes = count(&outcome["stores"], "codes");
    assert!(codes <= 1000, "{outcome:#}");
    // Every replayed code revokes its grant: the store that fills, and holds at the cap.
    let revoked = count(&outcome["stores"], "revoked_grants");
    assert!((1..=1000).contains(&revoked), "{outcome:#}");
    // One progress report every 3 s of the 7: at 3 and 6 s.
    assert_eq!(
        outcome["reports"].as_array().unwrap().len(),
        2,
        "{outcome:#}"
    );
}

#[test]
fn a_provider_that_takes_a_code_twice_fails_the_soak() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("faulty.toml");
    std::fs::write(&config, "[faults]\nlapses = [\"reusable-code\"]\n").unwrap();
    let (code, outcome, _) = soak(&[
        "3",
        "--clients",
        "4",
        "--serve-config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{outcome:#}");
    assert_eq!(outcome["passed"], false);
    let wrong = count(&outcome, "wrong_answers");
    assert!(wrong > 0, "{outcome:#}");
    assert_eq!(outcome["failures"][0], format!("{wrong} wrong answers"));
    // Only the reused code is answered wrongly: the fault toggles put the lapse back.
    let samples = outcome["wrong_answer_samples"].as_array().unwrap();
    assert!(!samples.is_empty());
    for sample in samples {
        let sample = sample.as_str().unwrap();
        assert!(
            sample.starts_with("a reused code: expected 400 {\"error\":\"invalid_grant\",\"error_description\":\"Bad Request\"}, got 200 {"),
            "{sample}"
        );
    }
}

#[test]
fn bad_soak_arguments_are_one_line_and_exit_2() {
    for (args, message) in [
        (
            &["bench", "--soak", "0"][..],
            "error: --soak 0: a positive number of seconds",
        ),
        (
            &["bench", "--soak", "5", "--clients", "0"],
            "error: --clients 0: the soak needs at least one client",
        ),
        (
            &["bench", "--soak", "5", "--report-every", "0"],
            "error: --report-every 0: a positive number of seconds",
        ),
    ] {
        let (code, out, stderr) = run(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert_eq!(out, "");
        assert_eq!(stderr.trim_end(), message, "{args:?}");
    }
    let (code, _, stderr) = run(&["bench", "--report-every", "5"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--soak"), "{stderr}");
}
