//! `oidc-harness`: parse the command line, call the library, exit 0 (ok), 1 (some checks
//! failed) or 2 (the harness itself could not run).

mod cli;
mod cmd;

use std::process::ExitCode;

use clap::Parser as _;

use cli::{Cli, Command, KeysCommand};

fn main() -> ExitCode {
    let started = std::time::Instant::now();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("oidc_harness=info,warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli, started) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli, started: std::time::Instant) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => cmd::serve::run(args, started),
        Command::Verify(args) => cmd::verify(args),
        Command::Mint(args) => cmd::mint(args),
        Command::Redeem(args) => cmd::redeem(args),
        Command::Run(args) => cmd::run(args),
        Command::Check(args) => cmd::check(args),
        Command::Keys(KeysCommand::Generate { out }) => {
            for file in oidc_harness::keys::generate_fixture_set(&out)? {
                println!("{:<30} {}", file.name, file.why);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys(KeysCommand::Show) => {
            for key in oidc_harness::keys::fixture_signing_keys()? {
                println!("kid {}", key.kid());
                println!(
                    "  one-line SPKI (platform console \"JWT Public Key\"):\n  {}",
                    key.key().public_base64_line()
                );
                print!("{}", key.key().public_pem());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
