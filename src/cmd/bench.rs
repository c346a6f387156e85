//! `oidc-harness bench`: every figure beside the raw RSA operation it is bounded by, measured in
//! one run on this machine with the same backend (OpenSSL, through josekit and directly).

use std::process::{ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use oidc_harness::claims::{ClaimScopes, ClientId, ClientSecret, IdTokenClaims, Issuer, Nonce};
use oidc_harness::idp::MockIdp;
use oidc_harness::jose::{ContentEnc, Encrypter, KeyAlg, Signer};
use oidc_harness::keys::{self, RsaKey, SigningKey};
use oidc_harness::verifier::{
    redirect_params, CodeRedemption, KeySource, Verifier, VerifierConfig, VerifyContext,
};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Padding;
use serde::Serialize;

use crate::cli::BenchArgs;

/// Calls per second of each subject, measured in turns of about 20 ms until each has had
/// `seconds`: a change in the machine's speed during the run (other load, clock scaling) falls on
/// every subject alike, so the ratios between them hold. Also the thread's CPU time per call of
/// each subject, in seconds (zero where the kernel does not say).
fn rates<const N: usize>(
    seconds: f64,
    mut subjects: [&mut dyn FnMut(); N],
) -> ([f64; N], [f64; N]) {
    let turn = Duration::from_millis(20);
    let budget = Duration::from_secs_f64(seconds);
    let mut calls = [0u64; N];
    let mut spent = [Duration::ZERO; N];
    let mut cpu = [0u64; N];
    while spent.iter().any(|s| *s < budget) {
        for (((subject, calls), spent), cpu) in subjects
            .iter_mut()
            .zip(&mut calls)
            .zip(&mut spent)
            .zip(&mut cpu)
        {
            let started = Instant::now();
            let cpu_before = thread_cpu_ns();
            while started.elapsed() < turn {
                for _ in 0..4 {
                    subject();
                }
                *calls += 4;
            }
            *spent += started.elapsed();
            *cpu += thread_cpu_ns().saturating_sub(cpu_before);
        }
    }
    (
        std::array::from_fn(|i| calls[i] as f64 / spent[i].as_secs_f64()),
        std::array::from_fn(|i| cpu[i] as f64 / 1e9 / calls[i] as f64),
    )
}

/// The calling thread's time on a CPU so far, in nanoseconds: `CLOCK_THREAD_CPUTIME_ID`, which
/// brings the running thread's count up to date as it is read; 0 where there is no such clock.
///
/// Not `/proc/thread-self/schedstat`: for a thread that is running, it gives the count as of
/// the scheduler's last tick or switch. Read at the end of a turn that began just after a
/// sleep, it falls short by half a tick on average (2 ms of a 20 ms turn at 250 Hz), and the
/// loaded sign of [`sign_in_turns`] read 0.91–0.96 of the quiet one for that reason alone.
#[cfg(unix)]
fn thread_cpu_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    u64::try_from(t.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(t.tv_nsec).unwrap_or(0)
}

#[cfg(not(unix))]
fn thread_cpu_ns() -> u64 {
    0
}

/// The CPU time a process has spent so far, all its threads, living and ended, in seconds: in
/// user space and in the kernel (`utime` and `stime` of `/proc/<pid>/stat`, in the kernel's
/// 100 Hz user ticks, `USER_HZ`, 100 on every Linux architecture this builds for).
#[derive(Debug, Clone, Copy)]
struct ProcessCpu {
    user: f64,
    kernel: f64,
}

impl ProcessCpu {
    fn of(pid: u32) -> Option<Self> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name may hold spaces and parentheses; the fields follow its last `)`.
        let mut fields = stat.get(stat.rfind(')')? + 1..)?.split_whitespace();
        // After the name: state is field 3, utime field 14, stime field 15.
        let utime: u64 = fields.nth(11)?.parse().ok()?;
        let stime: u64 = fields.next()?.parse().ok()?;
        Some(Self {
            user: utime as f64 / 100.0,
            kernel: stime as f64 / 100.0,
        })
    }

    fn total(self) -> f64 {
        self.user + self.kernel
    }
}

/// Runs a verification to its end. It is polled in place, as a server's task runs it, rather
/// than through `block_on`, whose entry into the runtime costs about as much as a claim rule;
/// with configured keys it never waits, and the runtime takes over when it does.
fn finish<T>(runtime: &tokio::runtime::Runtime, future: impl std::future::Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(value) => value,
        std::task::Poll::Pending => runtime.block_on(future),
    }
}

#[derive(Debug, Clone, Serialize)]
struct Figure {
    name: &'static str,
    value: f64,
    unit: &'static str,
    baseline: Option<&'static str>,
    ratio: Option<f64>,
    target: Option<&'static str>,
    /// With `--runs N` above 1: `value` and `ratio` are the medians of the runs, and this is
    /// how far they spread.
    #[serde(skip_serializing_if = "Option::is_none")]
    spread: Option<Spread>,
}

/// The lowest and highest of a figure's runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Spread {
    runs: usize,
    value_min: f64,
    value_max: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    ratio_min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ratio_max: Option<f64>,
}

fn figure(name: &'static str, value: f64, unit: &'static str) -> Figure {
    Figure {
        name,
        value,
        unit,
        baseline: None,
        ratio: None,
        target: None,
        spread: None,
    }
}

/// One figure from several runs of it (the same figure, in the same order, in each run): the
/// median value and ratio, with their spread. One run is that run's figure as it is.
fn summarize(runs: &[Figure]) -> Figure {
    if let [only] = runs {
        return only.clone();
    }
    let values: Vec<f64> = runs.iter().map(|f| f.value).collect();
    let ratios: Option<Vec<f64>> = runs.iter().map(|f| f.ratio).collect();
    let (value_min, value_max) = bounds(&values);
    let ratio_bounds = ratios.as_deref().map(bounds);
    Figure {
        value: median(&values),
        ratio: ratios.as_deref().map(median),
        spread: Some(Spread {
            runs: runs.len(),
            value_min,
            value_max,
            ratio_min: ratio_bounds.map(|b| b.0),
            ratio_max: ratio_bounds.map(|b| b.1),
        }),
        ..runs[0].clone()
    }
}

fn median(xs: &[f64]) -> f64 {
    let mut sorted = xs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 0 {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    }
}

fn bounds(xs: &[f64]) -> (f64, f64) {
    xs.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

fn versus(
    name: &'static str,
    value: f64,
    unit: &'static str,
    baseline: &'static str,
    base: f64,
    target: &'static str,
) -> Figure {
    Figure {
        name,
        value,
        unit,
        baseline: Some(baseline),
        ratio: Some(value / base),
        target: Some(target),
        spread: None,
    }
}

/// Drives full flows against `base` with `clients` concurrent clients for `seconds`; returns
/// completed flows per second. Every flow is verified as the platform would.
async fn flows(
    base: &str,
    ca_pem: &str,
    clients: usize,
    seconds: f64,
    implicit: bool,
) -> anyhow::Result<f64> {
    let (done, elapsed) = counted_flows(base, ca_pem, clients, seconds, implicit).await?;
    Ok(done as f64 / elapsed)
}

/// As [`flows`], returning how many flows completed and in how many seconds.
async fn counted_flows(
    base: &str,
    ca_pem: &str,
    clients: usize,
    seconds: f64,
    implicit: bool,
) -> anyhow::Result<(u64, f64)> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes())?)
        .build()?;
    let config = VerifierConfig::new(
        Issuer::new(base),
        KeySource::JwksUrl(format!("{base}/oauth2/v3/certs").parse()?),
    )
    .token_endpoint(
        format!("{base}/token").parse()?,
        ClientId::new("demo-client"),
        ClientSecret::new("demo-secret"),
    )
    .extra_root_pem(ca_pem);
    let verifier = Arc::new(Verifier::new(config)?);
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let response_type = if implicit { "id_token" } else { "code" };
    let url = format!(
        "{base}/o/oauth2/v2/auth?client_id=demo-client&redirect_uri=https://liveperson.net&response_type={response_type}&scope=openid%20email%20profile&nonce=n1&login_hint=alice&prompt=none"
    );
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (http, verifier, done, url) = (
                http.clone(),
                Arc::clone(&verifier),
                Arc::clone(&done),
                url.clone(),
            );
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let response = http.get(&url).send().await?;
                    let location = response
                        .headers()
                        .get("location")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    let params = redirect_params(&location);
                    let now = oidc_harness::clock::Clock::now(&oidc_harness::clock::SystemClock);
                    let ctx = VerifyContext {
                        nonce: Some(Nonce::new("n1")),
                        ..VerifyContext::at(now)
                    };
                    let verdict = if implicit {
                        verifier
                            .verify(params.get("id_token").map_or("", String::as_str), &ctx)
                            .await
                    } else {
                        let code = params.get("code").cloned().unwrap_or_default();
                        verifier
                            .authenticate_code(
                                &CodeRedemption {
                                    code,
                                    ..CodeRedemption::default()
                                },
                                &ctx,
                            )
                            .await
                    };
                    verdict.map_err(|r| anyhow::anyhow!("a benchmark flow was rejected: {r}"))?;
                    done.fetch_add(1, Ordering::Relaxed);
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok((
        done.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
    ))
}

/// GETs `url` from `clients` concurrent clients for `seconds`, each answer read whole and
/// required to be 200; returns how many were answered.
async fn counted_gets(
    http: &reqwest::Client,
    url: &str,
    clients: usize,
    seconds: f64,
) -> anyhow::Result<u64> {
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (http, url, done) = (http.clone(), url.to_owned(), Arc::clone(&done));
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let response = http.get(&url).send().await?;
                    anyhow::ensure!(
                        response.status() == reqwest::StatusCode::OK,
                        "{url} answered {}",
                        response.status()
                    );
                    response.bytes().await?;
                    done.fetch_add(1, Ordering::Relaxed);
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok(done.load(Ordering::Relaxed))
}

/// Resident memory of a process, in MB, from /proc.
pub(super) fn rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

pub(crate) fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    if let Some(seconds) = args.soak {
        return super::soak::soak(super::soak::SoakArgs {
            seconds,
            clients: args.clients.unwrap_or(8),
            report_every: args.report_every,
            json: args.json,
            serve_config: args.serve_config,
        });
    }
    let signing = keys::fixture_signing_keys()?.remove(0);
    let platform = keys::fixture_platform_key()?;
    // Flows and the separate `serve` run on both cores.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let raw = Arc::new(RawRsa::new(&signing, &platform)?);
    let mut runs: Vec<Vec<Figure>> = Vec::new();
    for run in 1..=args.runs {
        let crypto = measure_crypto(&raw, &signing, platform.clone(), args.seconds)?;
        let mut figures = crypto_figures(&crypto);
        figures.extend(flow_figures(&runtime, &args, crypto.raw_sign)?);
        figures.extend(serve_figures(&runtime, &args, &raw, crypto.raw_sign_cpu)?);
        if args.runs > 1 {
            eprintln!("bench: run {run} of {} done", args.runs);
        }
        runs.push(figures);
    }
    let figures: Vec<Figure> = (0..runs.first().map_or(0, Vec::len))
        .map(|i| summarize(&runs.iter().map(|r| r[i].clone()).collect::<Vec<_>>()))
        .collect();
    if args.json {
        out!("{}", serde_json::to_string_pretty(&figures)?);
    } else {
        out!("{}", table(&figures).trim_end());
    }
    Ok(ExitCode::SUCCESS)
}

/// Concurrent clients of the flow figures.
fn clients(args: &BenchArgs) -> usize {
    args.clients.unwrap_or(16)
}

/// The baseline: the raw RSA operations the mint and verify figures are bounded by, straight
/// on OpenSSL.
struct RawRsa {
    pkey: PKey<Private>,
    platform_pkey: PKey<Private>,
    message: Vec<u8>,
    signature: Vec<u8>,
    wrapped: Vec<u8>,
}

impl RawRsa {
    fn new(signing: &SigningKey, platform: &RsaKey) -> anyhow::Result<Self> {
        let pkey =
            PKey::private_key_from_pem(signing.key().private_pem().unwrap_or_default().as_bytes())?;
        let message = vec![b'x'; 1500];
        let signature = rsa_sign(&pkey, &message)?;
        let platform_pkey =
            PKey::private_key_from_pem(platform.private_pem().unwrap_or_default().as_bytes())?;
        let wrapped = {
            let mut encrypter = openssl::encrypt::Encrypter::new(&platform_pkey)?;
            encrypter.set_rsa_padding(Padding::PKCS1_OAEP)?;
            encrypter.set_rsa_oaep_md(MessageDigest::sha256())?;
            encrypter.set_rsa_mgf1_md(MessageDigest::sha256())?;
            let mut out = vec![0; encrypter.encrypt_len(&[7u8; 32])?];
            let n = encrypter.encrypt(&[7u8; 32], &mut out)?;
            out.truncate(n);
            out
        };
        let raw = Self {
            pkey,
            platform_pkey,
            message,
            signature,
            wrapped,
        };
        // The bare operations make and accept what EVP's signer makes: the same work.
        anyhow::ensure!(
            raw.sign()? == raw.signature && raw.verify()?,
            "the raw RSA baseline disagrees with OpenSSL's signer"
        );
        Ok(raw)
    }

    /// RSA-2048 PKCS#1 v1.5 SHA-256 over the 1500-byte message: the digest and the blinded
    /// private-key operation on its PKCS#1 encoding, with nothing around them (no EVP context
    /// built per call), as the signer does it: the cheapest signature OpenSSL makes.
    fn sign(&self) -> Result<Vec<u8>, ErrorStack> {
        let rsa = self.pkey.rsa()?;
        let mut signature = vec![0; rsa.size() as usize];
        let n = rsa.private_encrypt(&digest_info(&self.message), &mut signature, Padding::PKCS1)?;
        signature.truncate(n);
        Ok(signature)
    }

    /// The public-key operation on the signature and the comparison with the message's
    /// PKCS#1 encoding, with no EVP context either.
    fn verify(&self) -> Result<bool, ErrorStack> {
        let rsa = self.pkey.rsa()?;
        let mut encoded = vec![0; rsa.size() as usize];
        let n = rsa.public_decrypt(&self.signature, &mut encoded, Padding::PKCS1)?;
        Ok(encoded[..n] == digest_info(&self.message)[..])
    }

    /// RSA-OAEP-256 of a 32-byte content key, as a JWE envelope wraps it.
    fn decrypt(&self) -> Result<usize, ErrorStack> {
        let mut decrypter = openssl::encrypt::Decrypter::new(&self.platform_pkey)?;
        decrypter.set_rsa_padding(Padding::PKCS1_OAEP)?;
        decrypter.set_rsa_oaep_md(MessageDigest::sha256())?;
        decrypter.set_rsa_mgf1_md(MessageDigest::sha256())?;
        let mut out = vec![0; decrypter.decrypt_len(&self.wrapped)?];
        decrypter.decrypt(&self.wrapped, &mut out)
    }
}

/// The DER DigestInfo of SHA-256 over `message` (RFC 8017 §9.2), which PKCS#1 v1.5 signs.
fn digest_info(message: &[u8]) -> [u8; 51] {
    use sha2::Digest as _;
    const PREFIX: [u8; 19] = [
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x20,
    ];
    let mut encoded = [0u8; 51];
    encoded[..19].copy_from_slice(&PREFIX);
    encoded[19..].copy_from_slice(&sha2::Sha256::digest(message));
    encoded
}

fn rsa_sign(pkey: &PKey<Private>, message: &[u8]) -> Result<Vec<u8>, ErrorStack> {
    let mut signer = openssl::sign::Signer::new(MessageDigest::sha256(), pkey)?;
    signer.update(message)?;
    signer.sign_to_vec()
}

/// The ID token claims of a fixture persona, with every scope.
fn persona_claims(id: &str, issuer: &Issuer, now: i64) -> anyhow::Result<IdTokenClaims> {
    let persona = oidc_harness::claims::fixture_personas()
        .find(id)
        .cloned()
        .with_context(|| format!("persona {id}"))?;
    Ok(IdTokenClaims::for_persona(
        &persona,
        issuer,
        &ClientId::new("demo-client"),
        ClaimScopes {
            email: true,
            profile: true,
        },
        now,
        3600,
    ))
}

/// Calls per second of the raw operations and of minting and verifying through the harness.
struct CryptoRates {
    raw_sign: f64,
    /// The thread's CPU time per raw sign, in seconds.
    raw_sign_cpu: f64,
    raw_verify: f64,
    raw_decrypt: f64,
    mint: f64,
    mint_enc: f64,
    verify: f64,
    verify_bob: f64,
    verify_enc: f64,
}

/// Mints through the jose layer and verifies through the verifier (every rule on), in turns
/// with the raw operations they are bounded by.
fn measure_crypto(
    raw: &RawRsa,
    signing: &SigningKey,
    platform: RsaKey,
    secs: f64,
) -> anyhow::Result<CryptoRates> {
    let mut raw_sign = || {
        std::hint::black_box(raw.sign().expect("sign"));
    };
    let mut raw_verify = || assert!(raw.verify().expect("verify"));
    let mut raw_decrypt = || {
        std::hint::black_box(raw.decrypt().expect("decrypt"));
    };

    let now = oidc_harness::clock::Clock::now(&oidc_harness::clock::SystemClock);
    let issuer = Issuer::new("https://127.0.0.1:8443");
    let claims = persona_claims("alice", &issuer, now)?;
    let signer = Signer::rs256(signing)?;
    let encrypter = Encrypter::new(&platform, KeyAlg::RsaOaep256, ContentEnc::A256Gcm)?;
    let mut mint = || {
        std::hint::black_box(signer.sign(&claims).expect("mint"));
    };
    let mut mint_enc = || {
        std::hint::black_box(
            encrypter
                .encrypt(&signer.sign(&claims).expect("mint"))
                .expect("encrypt"),
        );
    };

    let config = VerifierConfig::new(issuer.clone(), KeySource::PublicKey(signing.key().clone()))
        .client_id(ClientId::new("demo-client"))
        .decryption_key(platform);
    let verifier = Verifier::new(config)?;
    let jws = signer.sign(&claims)?;
    let bob_jws = signer.sign(&persona_claims("bob", &issuer, now)?)?;
    let jwe = encrypter.encrypt(&jws)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let ctx = VerifyContext::at(now);
    let verify_one = |token: &str| {
        finish(&runtime, verifier.verify(token, &ctx)).expect("verify");
    };
    let mut verify = || verify_one(&jws);
    let mut verify_bob = || verify_one(&bob_jws);
    let mut verify_enc = || verify_one(&jwe);

    let ([raw_sign, raw_verify, raw_decrypt, mint, mint_enc, verify, verify_bob, verify_enc], cpu) =
        rates(
            secs,
            [
                &mut raw_sign,
                &mut raw_verify,
                &mut raw_decrypt,
                &mut mint,
                &mut mint_enc,
                &mut verify,
                &mut verify_bob,
                &mut verify_enc,
            ],
        );
    Ok(CryptoRates {
        raw_sign,
        raw_sign_cpu: cpu[0],
        raw_verify,
        raw_decrypt,
        mint,
        mint_enc,
        verify,
        verify_bob,
        verify_enc,
    })
}

fn crypto_figures(r: &CryptoRates) -> Vec<Figure> {
    vec![
        figure("raw RSA-2048 PKCS#1 v1.5 SHA-256 sign", r.raw_sign, "/s"),
        figure(
            "raw RSA-2048 PKCS#1 v1.5 SHA-256 verify",
            r.raw_verify,
            "/s",
        ),
        figure("raw RSA-OAEP-256 decrypt", r.raw_decrypt, "/s"),
        figure(
            "raw RSA-2048 sign: CPU time per signature",
            r.raw_sign_cpu * 1000.0,
            "ms",
        ),
        versus(
            "mint: signed ID token (alice)",
            r.mint,
            "/s",
            "raw sign",
            r.raw_sign,
            ">= 0.9",
        ),
        versus(
            "mint: signed, then encrypted",
            r.mint_enc,
            "/s",
            "raw sign",
            r.raw_sign,
            "-",
        ),
        versus(
            "verify: JWS (alice, all rules)",
            r.verify,
            "/s",
            "raw verify",
            r.raw_verify,
            ">= 0.8",
        ),
        versus(
            "verify: JWS (bob: sub and name only)",
            r.verify_bob,
            "/s",
            "raw verify",
            r.raw_verify,
            "-",
        ),
        versus(
            "verify: JWE envelope",
            r.verify_enc,
            "/s",
            "raw OAEP decrypt",
            r.raw_decrypt,
            ">= 0.8",
        ),
    ]
}

/// Full flows over loopback HTTPS, in-process: code, implicit, and code over three brands,
/// each beside two raw signs.
fn flow_figures(
    runtime: &tokio::runtime::Runtime,
    args: &BenchArgs,
    raw_sign: f64,
) -> anyhow::Result<Vec<Figure>> {
    let (clients, secs) = (clients(args), args.seconds);
    let (code_flows, implicit_flows, brand_flows) = runtime.block_on(async {
        let idp = MockIdp::start().await?;
        let ca = idp.ca_cert_pem().unwrap_or_default().to_owned();
        let code = flows(idp.base_url(), &ca, clients, secs, false).await?;
        let implicit = flows(idp.base_url(), &ca, clients, secs, true).await?;
        let brands = branded_flows(clients, secs).await?;
        anyhow::Ok((code, implicit, brands))
    })?;
    let per_two_signs =
        |name, value, target| versus(name, value, "/s", "2 x raw sign", 2.0 * raw_sign, target);
    Ok(vec![
        per_two_signs(
            "code flows over HTTPS (authorize, token, verify)",
            code_flows,
            ">= 0.6",
        ),
        per_two_signs(
            "code flows over three brands of one server",
            brand_flows,
            "within 10 % of 1 brand",
        ),
        per_two_signs(
            "implicit flows over HTTPS (authorize, verify)",
            implicit_flows,
            "-",
        ),
    ])
}

/// Code flows per second with the same load spread over three brands of one server.
async fn branded_flows(clients: usize, secs: f64) -> anyhow::Result<f64> {
    let config = oidc_harness::idp::IdpConfig::from_toml(
        "[[brand]]\nname = \"acme\"\n[[brand]]\nname = \"globex\"\n[[brand]]\nname = \"initech\"\n",
    )?;
    let branded = MockIdp::builder().config(config).start().await?;
    let ca = branded.ca_cert_pem().unwrap_or_default().to_owned();
    let tasks: Vec<_> = ["acme", "globex", "initech"]
        .iter()
        .enumerate()
        .map(|(i, brand)| {
            let (base, ca) = (branded.brand_url(brand), ca.clone());
            // 16 clients: 5, 5 and 6.
            let share = clients / 3 + usize::from(i < clients % 3);
            tokio::spawn(async move { flows(&base, &ca, share.max(1), secs, false).await })
        })
        .collect();
    let mut brands = 0.0;
    for task in tasks {
        brands += task.await??;
    }
    Ok(brands)
}

/// A separate `serve`: start-up to the first discovery answer, its CPU time per code flow and
/// per discovery request beside the CPU time of one raw sign made while it is loaded (and
/// beside `raw_sign_cpu`, seconds, the quiet one), memory idle and under load.
fn serve_figures(
    runtime: &tokio::runtime::Runtime,
    args: &BenchArgs,
    raw: &Arc<RawRsa>,
    raw_sign_cpu: f64,
) -> anyhow::Result<Vec<Figure>> {
    let state = std::env::temp_dir().join(format!("oidc-harness-bench-{}", std::process::id()));
    let exe = std::env::current_exe()?;
    let spawn = || {
        std::process::Command::new(&exe)
            .args(["serve", "--addr", "127.0.0.1:0", "--state-dir"])
            .arg(&state)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
    };
    // The first start makes the CA; the measured one only loads it.
    let mut first = spawn()?;
    let first_base = read_listening(&mut first)?;
    let _ = first.kill();
    let _ = first.wait();
    drop(first_base);
    let started = Instant::now();
    let mut child = spawn()?;
    let base = read_listening(&mut child)?;
    let ca = std::fs::read_to_string(state.join("ca.pem"))?;
    let serve = runtime.block_on(load_serve(&base, &ca, started, child.id(), raw, args))?;
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&state);
    Ok(vec![
        versus(
            "raw RSA-2048 sign beside serve's load: CPU time",
            serve.loaded_sign_cpu * 1000.0,
            "ms",
            "raw sign CPU",
            raw_sign_cpu * 1000.0,
            "-",
        ),
        versus(
            "serve: CPU time per code flow (authorize, token)",
            serve.cpu_per_flow * 1000.0,
            "ms",
            "loaded raw sign CPU",
            serve.loaded_sign_cpu * 1000.0,
            "<= 1.15",
        ),
        versus(
            "serve: kernel CPU time per code flow (of the above)",
            serve.kernel_per_flow * 1000.0,
            "ms",
            "loaded raw sign CPU",
            serve.loaded_sign_cpu * 1000.0,
            "-",
        ),
        versus(
            "serve: CPU time per code flow, against a quiet sign",
            serve.cpu_per_flow * 1000.0,
            "ms",
            "raw sign CPU",
            raw_sign_cpu * 1000.0,
            "-",
        ),
        versus(
            "serve: CPU time per discovery request",
            serve.cpu_per_discovery * 1000.0,
            "ms",
            "loaded raw sign CPU",
            serve.loaded_sign_cpu * 1000.0,
            "-",
        ),
        Figure {
            target: Some("< 20 ms (with process start)"),
            ..figure(
                "serve: start to first discovery answer",
                serve.ready_ms,
                "ms",
            )
        },
        Figure {
            target: Some("< 25 MB"),
            ..figure("serve: resident memory idle", serve.rss_idle, "MB")
        },
        Figure {
            target: Some("bounded"),
            ..figure(
                "serve: resident memory after one load",
                serve.rss_early,
                "MB",
            )
        },
        Figure {
            target: Some("no growth"),
            ..figure(
                "serve: resident memory after three times the load",
                serve.rss_late,
                "MB",
            )
        },
    ])
}

/// What a running `serve` showed: when it first answered, its CPU time per code flow (seconds)
/// and its memory in MB idle, after one load and after three times that load.
struct ServeFigures {
    ready_ms: f64,
    cpu_per_flow: f64,
    /// The part of `cpu_per_flow` spent in the kernel: the sockets' system calls, loopback
    /// delivery to the clients, the scheduler. It is not the server's code to cut.
    kernel_per_flow: f64,
    /// The CPU time of one raw sign made on a thread of the bench while the flows of
    /// `cpu_per_flow` ran: the baseline under the same load as the server's own signature.
    loaded_sign_cpu: f64,
    /// CPU time per HTTPS exchange with no work of its own: what the connection handling
    /// (TLS, HTTP, the kernel's sockets) costs each of a flow's two exchanges.
    cpu_per_discovery: f64,
    rss_idle: f64,
    rss_early: f64,
    rss_late: f64,
}

/// Waits for `serve` (process `pid`, started at `started`) to answer discovery, then loads it.
async fn load_serve(
    base: &str,
    ca: &str,
    started: Instant,
    pid: u32,
    raw: &Arc<RawRsa>,
    args: &BenchArgs,
) -> anyhow::Result<ServeFigures> {
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes())?)
        .build()?;
    let discovery = format!("{base}/.well-known/openid-configuration");
    while !http
        .get(&discovery)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    let ready_ms = started.elapsed().as_secs_f64() * 1000.0;
    let rss_idle = rss_mb(pid).unwrap_or(0.0);
    flows(base, ca, clients(args), args.seconds, false).await?;
    let rss_early = rss_mb(pid).unwrap_or(0.0);
    // The CPU time is read over the second load, once connections, caches and the allocator
    // are warm: all of `serve`'s threads, none of this process's (the clients and their
    // verifier). Without /proc (not Linux) it reads 0, as the memory figures do.
    // The baseline signs in turns beside that load, so that a change in the host's speed, or
    // the caches and cores the load keeps busy, fall on the server's signature and on it alike.
    let stop = Arc::new(AtomicBool::new(false));
    let signer = tokio::task::spawn_blocking({
        let (raw, stop) = (Arc::clone(raw), Arc::clone(&stop));
        move || sign_in_turns(&raw, &stop)
    });
    let cpu_before = ProcessCpu::of(pid);
    let flows = counted_flows(base, ca, clients(args), args.seconds * 2.0, false).await;
    let cpu_after = ProcessCpu::of(pid);
    stop.store(true, Ordering::Relaxed);
    let loaded_sign_cpu = signer.await?;
    let (done, _) = flows?;
    let rss_late = rss_mb(pid).unwrap_or(0.0);
    let discovery_before = ProcessCpu::of(pid);
    let requests = counted_gets(&http, &discovery, clients(args), args.seconds).await?;
    let discovery_after = ProcessCpu::of(pid);
    let per = |before: Option<ProcessCpu>,
               after: Option<ProcessCpu>,
               n: u64,
               part: fn(ProcessCpu) -> f64| {
        before.zip(after).map_or(0.0, |(before, after)| {
            (part(after) - part(before)) / n.max(1) as f64
        })
    };
    Ok(ServeFigures {
        ready_ms,
        cpu_per_flow: per(cpu_before, cpu_after, done, ProcessCpu::total),
        kernel_per_flow: per(cpu_before, cpu_after, done, |cpu| cpu.kernel),
        loaded_sign_cpu,
        cpu_per_discovery: per(
            discovery_before,
            discovery_after,
            requests,
            ProcessCpu::total,
        ),
        rss_idle,
        rss_early,
        rss_late,
    })
}

/// Raw signs in 20 ms turns, a quarter of the time, until `stop` (one turn at least): enough
/// signatures for a steady figure, little enough not to change the load it is measured beside.
/// The thread's CPU time per sign, in seconds (0 where the kernel does not say).
fn sign_in_turns(raw: &RawRsa, stop: &AtomicBool) -> f64 {
    let turn = Duration::from_millis(20);
    let (mut signs, mut cpu) = (0u64, 0u64);
    loop {
        let (started, cpu_before) = (Instant::now(), thread_cpu_ns());
        while started.elapsed() < turn {
            std::hint::black_box(raw.sign().expect("sign"));
            signs += 1;
        }
        cpu += thread_cpu_ns().saturating_sub(cpu_before);
        if stop.load(Ordering::Relaxed) {
            return cpu as f64 / 1e9 / signs as f64;
        }
        std::thread::sleep(turn * 3);
    }
}

/// The figures as a table; with the spread of several runs in a last column (the ratio's
/// lowest and highest, or the value's for a figure without a ratio).
fn table(figures: &[Figure]) -> String {
    use std::fmt::Write as _;
    let spread = figures.iter().any(|f| f.spread.is_some());
    // As wide as the longest target, so that the spread after it stays in one column.
    let tw = figures
        .iter()
        .filter_map(|f| f.target.map(str::len))
        .fold(10, usize::max);
    let mut out = String::new();
    let _ = write!(
        out,
        "{:<52} {:>12} {:>20} {:>7} {:>tw$}",
        "figure", "value", "ratio to", "ratio", "target"
    );
    if let Some(runs) = figures
        .iter()
        .find_map(|f| f.spread.as_ref())
        .map(|s| s.runs)
    {
        let _ = write!(out, "  spread of {runs} runs (value and ratio: the median)");
    }
    out.push('\n');
    for f in figures {
        let ratio = f.ratio.map(|r| format!("{r:.2}")).unwrap_or_default();
        // Two decimals for the small values (milliseconds of CPU time), one for the rest.
        let places = if f.value < 10.0 { 2 } else { 1 };
        let _ = write!(
            out,
            "{:<52} {:>9.places$} {:<2} {:>20} {:>7} {:>tw$}",
            f.name,
            f.value,
            f.unit,
            f.baseline.unwrap_or(""),
            ratio,
            f.target.unwrap_or("")
        );
        if spread {
            let range = f.spread.as_ref().map(|s| match (s.ratio_min, s.ratio_max) {
                (Some(lo), Some(hi)) => format!("{lo:.2} to {hi:.2}"),
                _ => format!(
                    "{:.places$} to {:.places$} {}",
                    s.value_min, s.value_max, f.unit
                ),
            });
            let _ = write!(out, "  {}", range.unwrap_or_default());
        }
        out.push('\n');
    }
    out
}

/// Reads the banner of a starting `serve` up to its `listening` line.
pub(super) fn read_listening(child: &mut std::process::Child) -> anyhow::Result<String> {
    use std::io::BufRead as _;
    let stdout = child.stdout.take().context("serve's stdout")?;
    let mut lines = std::io::BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        if let Some(url) = line?.trim_start().strip_prefix("listening") {
            let url = url.trim().to_owned();
            std::thread::spawn(move || for _ in lines {});
            return Ok(url);
        }
    }
    anyhow::bail!("serve stopped before saying where it listens")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_of(value: f64, ratio: f64) -> Figure {
        versus(
            "code flows",
            value,
            "/s",
            "2 x raw sign",
            value / ratio,
            ">= 0.6",
        )
    }

    #[test]
    fn the_loaded_baseline_signs_a_turn_even_when_told_to_stop_at_once() {
        let signing = keys::fixture_signing_keys().unwrap().remove(0);
        let raw = RawRsa::new(&signing, &keys::fixture_platform_key().unwrap()).unwrap();
        let per_sign = sign_in_turns(&raw, &AtomicBool::new(true));
        // One 20 ms turn of 2048-bit signatures: well under that turn each, and not nothing.
        assert!(per_sign > 0.0 && per_sign < 0.02, "{per_sign}");
    }

    #[test]
    fn several_runs_give_the_medians_and_their_spread() {
        let runs = [
            run_of(900.0, 0.40),
            run_of(1000.0, 0.55),
            run_of(800.0, 0.46),
        ];
        let f = summarize(&runs);
        assert_eq!(f.value, 900.0);
        assert!((f.ratio.unwrap() - 0.46).abs() < 1e-9, "{:?}", f.ratio);
        let s = f.spread.unwrap();
        assert_eq!((s.runs, s.value_min, s.value_max), (3, 800.0, 1000.0));
        assert!((s.ratio_min.unwrap() - 0.40).abs() < 1e-9);
        assert!((s.ratio_max.unwrap() - 0.55).abs() < 1e-9);
        // An even count: the mean of the two middle ones.
        let f = summarize(&runs[..2]);
        assert_eq!(f.value, 950.0);
        assert!((f.ratio.unwrap() - 0.475).abs() < 1e-9);
    }

    #[test]
    fn one_run_is_its_figure_and_a_figure_without_ratio_spreads_its_value() {
        let one = summarize(&[run_of(900.0, 0.40)]);
        assert_eq!((one.value, one.spread), (900.0, None));
        let memory = [figure("rss", 20.5, "MB"), figure("rss", 21.5, "MB")];
        let f = summarize(&memory);
        assert_eq!(f.ratio, None);
        let s = f.spread.unwrap();
        assert_eq!((s.value_min, s.value_max, s.ratio_min), (20.5, 21.5, None));
    }

    #[test]
    fn the_table_shows_the_spread_column_only_for_several_runs() {
        let single = table(&[run_of(900.0, 0.40)]);
        assert!(!single.contains("spread"), "{single}");
        let several = table(&[
            summarize(&[run_of(900.0, 0.40), run_of(1000.0, 0.55)]),
            summarize(&[figure("rss", 20.5, "MB"), figure("rss", 21.5, "MB")]),
            Figure {
                target: Some("within 10 % of 1 brand"),
                ..summarize(&[run_of(800.0, 0.38), run_of(900.0, 0.54)])
            },
        ]);
        let lines: Vec<&str> = several.lines().collect();
        assert!(lines[0].ends_with("spread of 2 runs (value and ratio: the median)"));
        assert!(lines[1].ends_with("0.40 to 0.55"), "{}", lines[1]);
        assert!(lines[1].contains(" 950.0 /s "), "{}", lines[1]);
        assert!(lines[2].contains(" 21.0 MB "), "{}", lines[2]);
        // The spread starts in the same column on every line.
        let column = |line: &str, text: &str| line.rfind(text).unwrap();
        assert_eq!(column(lines[1], "0.40 to"), column(lines[2], "20.5 to"));
        assert_eq!(column(lines[1], "0.40 to"), column(lines[3], "0.38 to"));
        assert!(lines[2].ends_with("  20.5 to 21.5 MB"), "{}", lines[2]);
    }
}
