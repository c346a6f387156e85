//! The commands behind the command line: each resolves its raw arguments, calls the library
//! and says what exit code the outcome deserves.

mod bench;
mod check;
mod fixture;
mod healthcheck;
mod mint;
mod redeem;
mod rules;
mod run;
pub(crate) mod serve;
mod soak;
mod verify;

pub(crate) use bench::bench;
pub(crate) use check::check;
pub(crate) use fixture::fixture;
pub(crate) use healthcheck::healthcheck;
pub(crate) use mint::mint;
pub(crate) use redeem::redeem;
pub(crate) use rules::rules;
pub(crate) use run::run;
pub(crate) use verify::verify;

use std::path::Path;

use anyhow::Context as _;
use oidc_harness::clock::{Clock as _, SystemClock};

/// Reads a file, naming it in the error.
pub(crate) fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))
}

/// `--now RFC3339`, or the system clock.
pub(crate) fn now(arg: Option<&str>) -> anyhow::Result<i64> {
    match arg {
        Some(text) => oidc_harness::clock::parse_rfc3339(text)
            .with_context(|| format!("--now {text:?} is not RFC 3339 (2026-01-01T00:00:00Z)")),
        None => Ok(SystemClock.now()),
    }
}
