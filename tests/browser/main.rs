//! Real-browser tests: headless Chromium, driven over WebDriver (chromedriver, fantoccini),
//! against `oidc-harness serve` running as its own process. Each case plays a consumer on the
//! brand's demo page and then reads the agent workspace as the agent would see it: the status,
//! the reason code, every field's value and its provenance marker.
//!
//! Chromium and chromedriver come from Debian (`apt-get install chromium chromium-driver`).
//! Without them these tests are skipped with a message; with
//! `OIDC_HARNESS_BROWSER_TESTS=require` (as `.ci/run` sets) a missing browser is a failure.
//! `CHROMIUM` and `CHROMEDRIVER` override where they are looked for.
//!
//! Screenshots of each workspace land in `target/browser-screenshots/`.

mod cases;
mod check;
mod harness;

use std::process::ExitCode;

fn main() -> ExitCode {
    let all: Vec<harness::Case> = cases::ALL.iter().chain(check::ALL).copied().collect();
    harness::main(&all)
}
