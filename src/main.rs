//! `oidc-harness`: parse the command line, call the library, exit 0 (ok), 1 (some checks
//! failed) or 2 (the harness itself could not run).

/// `println!` that hands back the write error instead of panicking: a reader that closes the
/// pipe early (`| head`) ends the program quietly.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

mod cli;
mod cmd;

use std::process::ExitCode;

use clap::Parser as _;

use cli::{Cli, Command, KeysCommand};

/// jemalloc's per-thread caches: the system allocator cost a fifth of every flow under load.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// A usage error on one line: clap's message without its usage block and tips
/// (`error: the following required arguments were not provided: <--client-id <ID>|--any-audience>`).
fn one_line(rendered: &str) -> String {
    rendered
        .lines()
        .take_while(|line| !line.starts_with("Usage:"))
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("tip:"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn main() -> ExitCode {
    let started = std::time::Instant::now();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => err.exit(),
        Err(err) => {
            eprintln!("{}", one_line(&err.render().to_string()));
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("oidc_harness=info,warn")),
        )
        .with_writer(std::io::stderr)
        // Colours for a terminal only: a log file or a CI job's capture gets plain text.
        .with_ansi(
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        )
        .init();
    match run(cli, started) {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}

fn run(cli: Cli, started: std::time::Instant) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => cmd::serve::run(args, started),
        Command::Verify(args) => cmd::verify(args),
        Command::Rules(args) => cmd::rules(args),
        Command::Fixture(args) => cmd::fixture(args),
        Command::Mint(args) => cmd::mint(args),
        Command::Redeem(args) => cmd::redeem(args),
        Command::Run(args) => cmd::run(args),
        Command::Check(args) => cmd::check(args),
        Command::Bench(args) => cmd::bench(args),
        Command::Healthcheck(args) => cmd::healthcheck(args),
        Command::Keys(KeysCommand::Generate { out }) => {
            for file in oidc_harness::keys::generate_fixture_set(&out)? {
                out!("{:<30} {}", file.name, file.why);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys(KeysCommand::Show) => {
            for key in oidc_harness::keys::fixture_signing_keys()? {
                out!("kid {}", key.kid());
                out!(
                    "  one-line SPKI (platform console \"JWT Public Key\"):\n  {}",
                    key.key().public_base64_line()
                );
                out!("{}", key.key().public_pem().trim_end());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
