//! The command line: clap types (raw arguments), resolved by the `cmd` modules.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
    /// Verify an ID token (JWS or JWE) as the platform does; exit 0 authenticated, 1 rejected.
    Verify(VerifyArgs),
    /// List every rule of the verifier: its basis, the reading that refuses on it, its source;
    /// and every reason with the platform IDP's error code.
    Rules(RulesArgs),
    /// Turn a real token into a scenario file that reproduces its verdict without its key or
    /// personal data; exit 0 when the file, run, gets the original's verdict.
    Fixture(FixtureArgs),
    /// Print an ID token for a fixture persona, signed with the fixture key.
    Mint(MintArgs),
    /// Redeem a code at a token endpoint as the platform does; print the ID token.
    Redeem(RedeemArgs),
    /// Run scenario files through the provider and the verifier; exit 0 all passed, 1 some failed.
    Run(RunArgs),
    /// Check a brand's own provider against the platform's expectations and Google's format.
    Check(CheckArgs),
    /// Measure mint, verify, flows, start-up and memory against the raw RSA operations.
    Bench(BenchArgs),
    /// Make or inspect key material.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Ask a running provider's /healthz; exit 0 when it answers 200, 1 otherwise (a
    /// container's HEALTHCHECK: no shell or curl needed).
    Healthcheck(HealthcheckArgs),
}

#[derive(Debug, Args)]
pub(crate) struct HealthcheckArgs {
    /// The provider's health URL.
    #[arg(value_name = "URL", default_value = "https://127.0.0.1:8443/healthz")]
    pub(crate) url: String,
    /// The CA certificate (PEM) to trust over HTTPS, the only one [default: ca.pem in
    /// --state-dir].
    #[arg(long, value_name = "FILE")]
    pub(crate) ca: Option<PathBuf>,
    /// The state folder of the `serve` asked, whose CA to trust [default: .oidc-harness].
    #[arg(long, value_name = "DIR", conflicts_with = "ca")]
    pub(crate) state_dir: Option<PathBuf>,
    /// How long to wait for the answer, connecting included.
    #[arg(long, value_name = "SECS", default_value_t = 2.0)]
    pub(crate) timeout: f64,
}

#[derive(Debug, Args)]
pub(crate) struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = RulesFormat::Markdown)]
    pub(crate) format: RulesFormat,
}

/// `check --pkce`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum PkceArg {
    /// No challenge, as a connector with PKCE off.
    Off,
    /// A challenge with every Code Flow request, as a connector with PKCE on.
    On,
    /// As on, and one sign-in without a challenge: does the provider require PKCE?
    Auto,
}

/// How `rules` prints.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum RulesFormat {
    /// Two markdown tables, as docs/verifier.md has them.
    Markdown,
    /// One JSON document.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Seconds per measurement.
    #[arg(long, value_name = "N", default_value_t = 2.0)]
    pub(crate) seconds: f64,
    /// Concurrent clients in the flow measurements [default: 16; with --soak, 8].
    #[arg(long, value_name = "N")]
    pub(crate) clients: Option<usize>,
    /// Print the figures as JSON; with --soak, one JSON object at the end.
    #[arg(long)]
    pub(crate) json: bool,
    /// Measure every figure this many times and print each one's median with its spread (the
    /// lowest and highest of the runs).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100), conflicts_with = "soak")]
    pub(crate) runs: u32,
    /// Instead of the figures: soak a separate `serve` with mixed traffic for this many
    /// seconds, every answer checked; exit 1 on any wrong answer or on growth of its memory or
    /// descriptors after the warm-up (docs/benchmarks.md, "Soak").
    #[arg(long, value_name = "SECONDS", conflicts_with = "seconds")]
    pub(crate) soak: Option<f64>,
    /// Seconds between the soak's progress lines [default: 10; 60 for runs of 600 s or more].
    #[arg(long, value_name = "SECS", requires = "soak")]
    pub(crate) report_every: Option<f64>,
    /// A harness.toml laid over the soak's own `serve` settings (it must keep the fixture
    /// client demo-client and the personas alice and bob).
    #[arg(long, value_name = "FILE", requires = "soak")]
    pub(crate) serve_config: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("sign_in").args(["code_from", "token_from", "interactive", "discovery_only"]).multiple(true)))]
pub(crate) struct CheckArgs {
    /// The provider's discovery URL (https://idp.example/.well-known/openid-configuration).
    #[arg(long, value_name = "URL")]
    pub(crate) discovery: String,
    /// The platform's client id at the provider.
    #[arg(long, value_name = "ID")]
    pub(crate) client_id: String,
    /// The platform's client secret; needed for the Code Flow, not for an Implicit-only run.
    #[arg(long, value_name = "S")]
    pub(crate) client_secret: Option<String>,
    /// The client id of the Implicit Flow's connector, for providers that register one
    /// client per flow (default: --client-id).
    #[arg(long, value_name = "ID")]
    pub(crate) implicit_client_id: Option<String>,
    /// That client's secret; the Implicit Flow redeems nothing, so it is optional.
    #[arg(long, value_name = "S", requires = "implicit_client_id")]
    pub(crate) implicit_client_secret: Option<String>,
    /// Sign in in a browser; the answer comes back to http://127.0.0.1:<port>/callback. The
    /// default when no command is given.
    #[arg(long, conflicts_with_all = ["code_from", "token_from", "discovery_only"])]
    pub(crate) interactive: bool,
    /// The flows to sign in with when interactive; or, with --code-from only, mobile-code:
    /// codes as an app's backend gets them for the mobile SDK.
    #[arg(long, value_enum, default_value_t = CheckFlow::Code, value_name = "FLOW")]
    pub(crate) flow: CheckFlow,
    /// The loopback listener's port when interactive (0: any free port; RFC 8252 providers
    /// accept any).
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub(crate) callback_port: u16,
    /// Do not open the sign-in URL in the desktop's browser; only print it.
    #[arg(long)]
    pub(crate) no_open: bool,
    /// A shell command that completes the authorization request in $OIDC_HARNESS_AUTH_URL and
    /// prints the code, or the whole redirect URL; run once per sign-in.
    #[arg(long, value_name = "CMD")]
    pub(crate) code_from: Option<String>,
    /// A shell command that prints an ID token (JWS or JWE) as the page hands it over, or the
    /// whole redirect URL of the request in $OIDC_HARNESS_AUTH_URL.
    #[arg(long, value_name = "CMD")]
    pub(crate) token_from: Option<String>,
    /// Check discovery, keys and TLS only; no sign-in.
    #[arg(long, conflicts_with_all = ["code_from", "token_from"])]
    pub(crate) discovery_only: bool,
    /// How long one command, or one sign-in in the browser, may take.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub(crate) command_timeout: u64,
    /// The redirect URI the commands' authorization requests name; it must be registered for
    /// the client. With --flow mobile-code: the app's redirect URI, the one its codes are
    /// issued for and the platform redeems them with.
    #[arg(long, value_name = "URI", default_value = "https://liveperson.net")]
    pub(crate) redirect_uri: String,
    /// The scopes to ask for.
    #[arg(long, value_name = "SCOPES", default_value = "openid email profile")]
    pub(crate) scope: String,
    /// The platform's private key for envelopes.
    #[arg(long, value_name = "FILE")]
    pub(crate) decrypt_key: Option<PathBuf>,
    /// A CA certificate (PEM) to trust.
    #[arg(long, value_name = "FILE")]
    pub(crate) ca: Option<PathBuf>,
    /// Count warnings as failures.
    #[arg(long)]
    pub(crate) strict: bool,
    /// The connector's PKCE toggle: off sends no challenge, on sends one, auto sends one and
    /// also asks for a code without it, to tell whether the provider requires PKCE
    /// [default: auto; with --flow mobile-code only off, since the platform has no verifier
    /// for an app's code].
    #[arg(long, value_enum, value_name = "WHEN")]
    pub(crate) pkce: Option<PkceArg>,
    /// Write a fixture scenario for every ID token the provider issued into this folder: its
    /// shape and verdict, without its key or personal data (see `fixture`).
    #[arg(long, value_name = "DIR")]
    pub(crate) save_fixtures: Option<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,
    /// Write the report here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
}

/// The flows `check --interactive` signs in with, or `mobile-code` for `--code-from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CheckFlow {
    /// The Code Flow: five codes, one sign-in at the provider.
    Code,
    /// The Implicit Flow: one ID token in the fragment.
    Implicit,
    /// Both.
    Both,
    /// Codes as an app's backend hands them to the mobile SDK (`LPAuthenticationParams`):
    /// asked for without PKCE, redeemed with the app's redirect URI; --code-from only.
    MobileCode,
}

/// Report format for `run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    /// One line per scenario and a closing summary.
    Text,
    /// The whole report as JSON.
    Json,
    /// JUnit XML for CI systems.
    Junit,
    /// One self-contained HTML file: a summary, then every line with its token and the
    /// provider's answer.
    Html,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Scenario files or folders [default: scenarios].
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<std::path::PathBuf>,
    /// Only scenarios whose id matches this glob (rp-*, *nonce*).
    #[arg(long, value_name = "GLOB")]
    pub(crate) filter: Option<String>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,
    /// Write the report here instead of standard output (the summary still goes to stderr).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<std::path::PathBuf>,
    /// Scenarios run at once [default: 4 per core].
    #[arg(long, value_name = "N")]
    pub(crate) jobs: Option<usize>,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// A harness.toml; every key is optional and documented in docs/configuration.md.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8443].
    #[arg(long, value_name = "ADDR")]
    pub(crate) addr: Option<SocketAddr>,
    /// Serve plain HTTP instead of HTTPS.
    #[arg(long)]
    pub(crate) no_tls: bool,
    /// The issuer: iss and discovery's issuer only [default: --public-url, else the listening
    /// URL].
    #[arg(long, value_name = "URL")]
    pub(crate) issuer: Option<String>,
    /// Where clients reach this server: the base of every endpoint URL, and the issuer unless
    /// --issuer says otherwise (http://idp:8443 in a compose file, the mapped port of a
    /// container; from the environment where a CI's service containers take no arguments)
    /// [default: the listening URL].
    #[arg(long, value_name = "URL", env = "OIDC_HARNESS_PUBLIC_URL")]
    pub(crate) public_url: Option<String>,
    /// Open the admin API (/_harness/*) beyond loopback to callers that send
    /// `Authorization: Bearer TOKEN`; every caller must then send it, loopback ones too
    /// [default: no token, loopback callers only].
    #[arg(
        long,
        value_name = "TOKEN",
        env = "OIDC_HARNESS_ADMIN_TOKEN",
        hide_env_values = true
    )]
    pub(crate) admin_token: Option<String>,
    /// Once the server answers, write its issuer, port, CA and endpoints here as JSON
    /// (atomically: a reader never sees half a file).
    #[arg(long, value_name = "FILE")]
    pub(crate) ready_file: Option<PathBuf>,
    /// Where the local CA and server certificate are kept [default: .oidc-harness].
    #[arg(long, value_name = "DIR")]
    pub(crate) state_dir: Option<PathBuf>,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// For people.
    Text,
    /// For machines.
    Json,
}

/// Where `phone_number` goes (`liveperson-auth.md` §3.2, §7.1 item 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PhoneMapping {
    /// `ctmrinfo.imei` (the newer pages).
    CustomerImei,
    /// `personal.contacts[0].phone` (the older pages).
    PersonalContactPhone,
}

/// The default issuer: what `serve` uses with its defaults.
pub(crate) const DEFAULT_ISSUER: &str = "https://127.0.0.1:8443";

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The token, in a file, or - (the default) for standard input.
    #[arg(value_name = "FILE|-", default_value = "-")]
    pub(crate) input: String,
    #[command(flatten)]
    pub(crate) check: TokenCheckArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
}

/// The flows a fixture's scenario hands its token over with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FixtureFlow {
    /// Code Flow: the token comes from the token endpoint.
    Code,
    /// Implicit Flow: the page hands the token over.
    Implicit,
    /// Code Flow in a separate window.
    Popup,
    /// Implicit Flow in a separate window.
    PopupImplicit,
    /// A mobile app's backend hands the token over.
    Mobile,
}

#[derive(Debug, Args)]
pub(crate) struct FixtureArgs {
    /// The token, in a file, or - (the default) for standard input.
    #[arg(value_name = "FILE|-", default_value = "-")]
    pub(crate) input: String,
    /// Write the scenario file here.
    #[arg(long, value_name = "FILE.toml")]
    pub(crate) out: PathBuf,
    /// The flow the scenario hands the token over with.
    #[arg(long, value_enum, default_value_t = FixtureFlow::Implicit)]
    pub(crate) flow: FixtureFlow,
    /// Claims to keep as they are, not faked (comma-separated or repeated).
    #[arg(long, value_name = "CLAIM,...", value_delimiter = ',')]
    pub(crate) keep: Vec<String>,
    /// Claims of your own to fake as personal data, wherever they are in the payload
    /// (comma-separated or repeated).
    #[arg(long, value_name = "CLAIM,...", value_delimiter = ',')]
    pub(crate) fake: Vec<String>,
    /// The scenario id [default: fixture- and a digest of the file].
    #[arg(long, value_name = "ID")]
    pub(crate) id: Option<String>,
    #[command(flatten)]
    pub(crate) check: TokenCheckArgs,
}

/// How a token is verified: `verify`'s options, which `fixture` shares.
#[derive(Debug, Args)]
#[command(group(
    clap::ArgGroup::new("audience")
        .required(true)
        .args(["client_id", "any_audience"]),
))]
pub(crate) struct TokenCheckArgs {
    /// The expected issuer, exact.
    #[arg(long, value_name = "ISS", default_value = DEFAULT_ISSUER)]
    pub(crate) issuer: String,
    /// The brand's public key: a file holding PEM or the console's one-line base64 SPKI, or
    /// that one line itself.
    #[arg(long, value_name = "FILE|KEY", conflicts_with = "jwks")]
    pub(crate) key: Option<String>,
    /// The brand's JWKS: an https:// URL or a file [default: the fixture signing keys].
    #[arg(long, value_name = "URL|FILE")]
    pub(crate) jwks: Option<String>,
    /// The platform's private key for envelopes [default: the fixture platform key].
    #[arg(long, value_name = "FILE")]
    pub(crate) decrypt_key: Option<PathBuf>,
    /// The platform's client id: aud must contain it, and name no audience but trusted ones.
    #[arg(long, value_name = "ID")]
    pub(crate) client_id: Option<String>,
    /// Accept any audience (no aud check), listed as a relaxation in the verdict.
    #[arg(long)]
    pub(crate) any_audience: bool,
    /// Another audience aud may name besides the client id (repeatable).
    #[arg(long, value_name = "AUD", requires = "client_id")]
    pub(crate) trusted_audience: Vec<String>,
    /// Accept an aud naming untrusted audiences when azp is the client id.
    #[arg(long, requires = "client_id")]
    pub(crate) allow_untrusted_audiences: bool,
    /// Refuse a token whose lp_sdes breaks the schema, instead of dropping what is bad.
    #[arg(long)]
    pub(crate) lp_sdes_strict: bool,
    /// Where phone_number is shown: the consumer's IMEI or the personal contact phone.
    #[arg(long, value_enum, value_name = "WHERE", default_value_t = PhoneMapping::CustomerImei)]
    pub(crate) phone_number_mapping: PhoneMapping,
    /// The nonce that was sent.
    #[arg(long, value_name = "N")]
    pub(crate) nonce: Option<String>,
    /// The access token issued with the ID token, to check at_hash.
    #[arg(long, value_name = "TOKEN")]
    pub(crate) access_token: Option<String>,
    /// Verify as of this time (RFC 3339) [default: now].
    #[arg(long, value_name = "RFC3339")]
    pub(crate) now: Option<String>,
    /// Clock skew allowed on exp and iat, seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub(crate) leeway: i64,
    /// A CA certificate (PEM) to trust for an https JWKS URL, such as serve's.
    #[arg(long, value_name = "FILE")]
    pub(crate) ca: Option<PathBuf>,
    /// Refuse plain JWS: only envelopes.
    #[arg(long)]
    pub(crate) require_encryption: bool,
    /// Accept exp/iat in milliseconds (the platform docs' example token).
    #[arg(long)]
    pub(crate) insecure_allow_millisecond_timestamps: bool,
    /// Accept exp/iat as numeric strings (the platform docs' S5/S6 examples).
    #[arg(long)]
    pub(crate) insecure_allow_string_timestamps: bool,
    /// Let the strict reading decide the verdict and the exit code: every rule refuses, not
    /// only those the platform is known to hold.
    #[arg(long)]
    pub(crate) strict: bool,
}

#[derive(Debug, Args)]
pub(crate) struct MintArgs {
    /// The fixture persona.
    #[arg(long, value_name = "NAME", default_value = "alice")]
    pub(crate) persona: String,
    /// The audience client id.
    #[arg(long = "client", value_name = "ID", default_value = "demo-client")]
    pub(crate) client_id: String,
    /// The issuer.
    #[arg(long, value_name = "ISS", default_value = DEFAULT_ISSUER)]
    pub(crate) issuer: String,
    /// A nonce to echo.
    #[arg(long, value_name = "N")]
    pub(crate) nonce: Option<String>,
    /// iat, RFC 3339 [default: now].
    #[arg(long, value_name = "RFC3339")]
    pub(crate) now: Option<String>,
    /// exp - iat, seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3600)]
    pub(crate) lifetime: i64,
    /// Wrap the signed token in a JWE to the platform key.
    #[arg(long)]
    pub(crate) encrypt: bool,
    /// The platform public key to encrypt to [default: the fixture platform key].
    #[arg(long, value_name = "FILE", requires = "encrypt")]
    pub(crate) encrypt_to: Option<PathBuf>,
    /// JWE key management.
    #[arg(
        long,
        value_name = "ALG",
        default_value = "RSA-OAEP-256",
        requires = "encrypt"
    )]
    pub(crate) alg: String,
    /// JWE content encryption.
    #[arg(
        long,
        value_name = "ENC",
        default_value = "A256GCM",
        requires = "encrypt"
    )]
    pub(crate) enc: String,
    /// Break the token on purpose: names from the malformation catalog, comma-separated
    /// (alg-none,exp-past); `--mutate list` prints them all.
    #[arg(long, value_name = "NAME,...", value_delimiter = ',')]
    pub(crate) mutate: Vec<String>,
}

/// How `redeem` authenticates the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ClientAuthArg {
    /// Authorization: Basic, form body.
    Basic,
    /// client_id and client_secret in the form body.
    Body,
    /// Authorization: Basic, JSON body.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct RedeemArgs {
    /// The code.
    #[arg(long, value_name = "CODE")]
    pub(crate) code: String,
    /// The token endpoint.
    #[arg(
        long,
        value_name = "URL",
        default_value = "https://127.0.0.1:8443/token"
    )]
    pub(crate) token_endpoint: String,
    /// The client id.
    #[arg(long, value_name = "ID", default_value = "demo-client")]
    pub(crate) client_id: String,
    /// The client secret.
    #[arg(long, value_name = "S", default_value = "demo-secret")]
    pub(crate) client_secret: String,
    /// The redirect_uri to send.
    #[arg(long, value_name = "URI", default_value = "https://liveperson.net")]
    pub(crate) redirect_uri: String,
    /// A PKCE code_verifier to send.
    #[arg(long, value_name = "V")]
    pub(crate) code_verifier: Option<String>,
    /// Client authentication.
    #[arg(long, value_enum, default_value_t = ClientAuthArg::Basic)]
    pub(crate) client_auth: ClientAuthArg,
    /// A CA certificate (PEM) to trust, such as serve's .oidc-harness/ca.pem.
    #[arg(long, value_name = "FILE")]
    pub(crate) ca: Option<PathBuf>,
    /// Allow an http:// token endpoint.
    #[arg(long)]
    pub(crate) insecure_allow_http: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
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
