//! `oidc-harness run`: load every scenario first (a bad file stops everything with
//! `file: line: message` and exit 2), run them, report.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use oidc_harness::scenario::{self, Report};

use crate::cli::{ReportFormat, RunArgs};

pub(crate) fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let paths = if args.paths.is_empty() {
        vec!["scenarios".into()]
    } else {
        args.paths
    };
    let mut scenarios = scenario::load(&paths)?;
    let paths = &paths;
    if let Some(pattern) = &args.filter {
        scenarios = scenario::filter(scenarios, pattern)
            .with_context(|| format!("--filter {pattern:?}"))?;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = args.jobs.unwrap_or(4 * cores);
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let outcomes = runtime.block_on(scenario::run_all(scenarios, jobs));
    let report = Report::new(
        outcomes,
        u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    );
    let subject = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let title = ("oidc-harness run", subject.as_str());
    emit(&report, args.format, args.out.as_deref(), title)
}

/// Prints or writes the report; the exit code says whether everything passed. `title` is the
/// HTML report's title and subject.
pub(super) fn emit(
    report: &Report,
    format: ReportFormat,
    out: Option<&std::path::Path>,
    (title, subject): (&str, &str),
) -> anyhow::Result<ExitCode> {
    let body = match format {
        ReportFormat::Text => report.text(),
        ReportFormat::Json => report.json(),
        ReportFormat::Junit => report.junit(),
        ReportFormat::Html => report.html(title, subject),
    };
    match out {
        Some(path) => {
            std::fs::write(path, body).with_context(|| format!("{}", path.display()))?;
            // Not `eprintln!`: a closed stderr must not lose the report's exit code.
            let _ = writeln!(std::io::stderr(), "{}", report.summary());
        }
        None => out!("{}", body.trim_end()),
    }
    Ok(if report.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
