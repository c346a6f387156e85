//! The command line: clap types (raw arguments) and the plans they resolve to.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Test consumer authentication for customer-care messaging: a mock OpenID Connect provider
/// that answers like Google, and the platform side that verifies what it issues.
#[derive(Debug, Parser)]
#[command(name = "oidc-harness", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the mock provider (HTTPS on 127.0.0.1:8443 by default).
    Serve(ServeArgs),
    /// Make or inspect key material.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// A harness.toml; every key is optional and documented in the README.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8443].
    #[arg(long, value_name = "ADDR")]
    pub(crate) addr: Option<SocketAddr>,
    /// Serve plain HTTP instead of HTTPS.
    #[arg(long)]
    pub(crate) no_tls: bool,
    /// The issuer (iss, and the base of the discovery URLs) [default: the listening URL].
    #[arg(long, value_name = "URL")]
    pub(crate) issuer: Option<String>,
    /// Where the local CA and server certificate are kept [default: .oidc-harness].
    #[arg(long, value_name = "DIR")]
    pub(crate) state_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Write the deterministic fixture key set (re-creates fixtures/keys byte for byte).
    Generate {
        /// Output folder.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Print the fixture signing keys in the forms the platform's console takes.
    Show,
}
