//! Scenarios: files that say what the provider does and what the platform must decide, a runner
//! that drives each one over HTTPS, and reports for people and CI.
//!
//! Nothing below this module reads scenario files.

mod check;
mod file;
pub mod fixture;
mod mobile;
mod report;
mod runner;

pub use check::{run_check, CheckPlan, Pkce, SignIn};
pub use file::{
    load, BrandSide, BrandsSpec, ClientAuthSpec, Expect, ExpectProvider, FlowKind, KeySpec,
    PhoneMappingSpec, ProviderSpec, Scenario, ScenarioError, Verdict, VerifierSpec, DEFAULT_NOW,
};
pub use report::Report;
pub use report::{Outcome, Status};
pub use runner::{run_all, run_one};

/// Keeps the scenarios whose id matches the glob `pattern` (`rp-*`, `*nonce*`).
pub fn filter(scenarios: Vec<Scenario>, pattern: &str) -> Result<Vec<Scenario>, globset::Error> {
    let matcher = globset::Glob::new(pattern)?.compile_matcher();
    Ok(scenarios
        .into_iter()
        .filter(|s| matcher.is_match(&s.id))
        .collect())
}
