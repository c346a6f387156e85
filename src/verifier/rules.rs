//! The rules, in the order they run: headers, then claims, then `lp_sdes`. Pure functions of
//! the token, the context (with its `now`) and the configuration.
//!
//! A broken rule goes through [`Findings::refuse`]: a rule both readings refuse on ends the
//! verification; one only the strict reading refuses on is kept as a finding and the rules go
//! on, so one pass gives both verdicts ([`super::rule`]).

use serde_json::{Map, Value};

use std::sync::OnceLock;

use super::config::VerifierConfig;
use super::consumer::{AuthenticatedConsumer, StandardClaims};
use super::context::VerifyContext;
use super::json::Claim;
use super::payload::{JwsHeader, LpSdes, Payload};
use super::reason::RejectReason;
use super::rejection::Rejection;
use super::rule::{Refuses, Rule};
use super::sdes;
use crate::claims::{Issuer, Subject};
use crate::jose::left_half_sha256;

fn reject(reason: RejectReason, detail: impl Into<String>) -> Rejection {
    Rejection::new(reason, detail)
}

fn broke(rule: Rule, detail: impl Into<String>) -> Rejection {
    Rejection::on(rule, detail)
}

/// The refusals only the strict reading makes, in the order the rules ran.
#[derive(Debug, Default)]
pub(super) struct Findings(pub(super) Vec<Rejection>);

impl Findings {
    /// A broken rule: `Err` when both readings refuse on it, a finding otherwise.
    pub(super) fn refuse(&mut self, rejection: Rejection) -> Result<(), Rejection> {
        match rejection.rule.refuses() {
            Refuses::Both => Err(rejection),
            Refuses::StrictOnly => {
                self.0.push(rejection);
                Ok(())
            }
        }
    }

    /// Keeps the outcome of a rule that may only be a finding.
    pub(super) fn keep(&mut self, outcome: Result<(), Rejection>) -> Result<(), Rejection> {
        outcome.or_else(|r| self.refuse(r))
    }
}

/// `crit` (RFC 7515 §4.1.11, RFC 7516 §4.1.13): we understand no extension, so any is refused.
fn check_crit(crit: Option<impl std::fmt::Display>) -> Result<(), Rejection> {
    match crit {
        None => Ok(()),
        Some(crit) => Err(broke(
            Rule::Crit,
            format!("crit {crit} names extensions this verifier does not support"),
        )),
    }
}

/// The JWS header: `alg` on the allow-list (RS256 by default, §2 "Signing"; `none` never, in
/// any case), no `crit`. `jku`, `x5u`, `jwk` and `x5c` are ignored as key sources.
pub(super) fn check_jws_header(
    header: &JwsHeader<'_>,
    config: &VerifierConfig,
    findings: &mut Findings,
) -> Result<(), Rejection> {
    let Some(Claim::Text(alg)) = &header.alg else {
        return Err(reject(
            RejectReason::Malformed,
            "the JWS header has no string alg",
        ));
    };
    if alg.eq_ignore_ascii_case("none") {
        return Err(broke(
            Rule::JwsAlg,
            format!("alg {alg:?} (unsigned) is never accepted"),
        ));
    }
    if !config.allowed_algs.iter().any(|a| a == alg) {
        return Err(broke(
            Rule::JwsAlg,
            format!("alg {alg:?} is not in {:?}", config.allowed_algs),
        ));
    }
    // zip is JWE-only (RFC 7516 §4.1.3); JWTs never use b64 (RFC 7797 §7),
    // which is checked before `crit` so that b64 is refused for what it is.
    for (member, value) in [("zip", &header.zip), ("b64", &header.b64)] {
        if value.is_some() {
            findings.refuse(broke(
                Rule::JwsMembers,
                format!("{member} has no place in a JWS header"),
            ))?;
        }
    }
    findings.keep(check_crit(header.crit.as_ref()))?;
    // An ID token is a plain JWT: typ absent or JWT, nothing nested (RFC 8725 §3.11, §3.12).
    match &header.typ {
        None => {}
        Some(Claim::Text(typ)) if typ.eq_ignore_ascii_case("JWT") => {}
        Some(other) => findings.refuse(broke(Rule::Typ, format!("typ {other} is not JWT")))?,
    }
    if let Some(cty) = &header.cty {
        findings.refuse(broke(
            Rule::Cty,
            format!("cty {cty} announces nested content"),
        ))?;
    }
    if header
        .kid
        .as_ref()
        .is_some_and(|kid| !matches!(kid, Claim::Text(_)))
    {
        findings.refuse(broke(Rule::KidType, "kid must be a string"))?;
    }
    Ok(())
}

/// The JWE header (§2 "Encryption"): `alg` and `enc` on the allow-lists (`dir` and `RSA1_5`
/// never are), no compression, no `crit`, and `cty`, when present, `JWT`.
pub(super) fn check_jwe_header(
    header: &Map<String, Value>,
    config: &VerifierConfig,
    findings: &mut Findings,
) -> Result<(), Rejection> {
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    if !config.allowed_key_algs.iter().any(|a| a == alg) {
        return Err(broke(
            Rule::JweAlg,
            format!("JWE alg {alg:?} is not in {:?}", config.allowed_key_algs),
        ));
    }
    if alg != "RSA-OAEP-256" {
        findings.refuse(broke(
            Rule::JweAlgDocumented,
            format!("JWE alg {alg:?} is not RSA-OAEP-256, the one the platform names"),
        ))?;
    }
    let enc = header.get("enc").and_then(Value::as_str).unwrap_or("");
    if !config.allowed_encs.iter().any(|e| e == enc) {
        return Err(broke(
            Rule::JweEnc,
            format!("JWE enc {enc:?} is not in {:?}", config.allowed_encs),
        ));
    }
    if enc == "A128CBC-HS256" {
        findings.refuse(broke(
            Rule::JweEncSeenRefused,
            "JWE enc \"A128CBC-HS256\" drew the platform IDP's 9012 in a reported case",
        ))?;
    }
    if header.contains_key("zip") {
        return Err(broke(
            Rule::JweZip,
            "compressed envelopes (zip) are not accepted",
        ));
    }
    findings.keep(check_crit(header.get("crit")))?;
    match header.get("cty") {
        None => Ok(()),
        Some(Value::String(cty)) if cty.eq_ignore_ascii_case("JWT") => Ok(()),
        Some(other) => findings.refuse(broke(Rule::JweCty, format!("cty {other} is not JWT"))),
    }
}

/// The sizes RFC 7518 fixes for each `enc`: IV and authentication tag, in bytes (§5.2.3 to
/// §5.2.5, §5.3). A shorter GCM tag would weaken the integrity check, so only the exact sizes
/// are accepted, before any decryption.
pub(super) fn check_jwe_sizes(token: &str, enc: &str) -> Result<(), Rejection> {
    let (iv_len, tag_len) = match enc {
        "A128GCM" | "A256GCM" => (12, 16),
        "A128CBC-HS256" => (16, 16),
        "A256CBC-HS512" => (16, 32),
        _ => return Err(broke(Rule::JweEnc, format!("JWE enc {enc:?}"))),
    };
    let parts: Vec<&str> = token.split('.').collect();
    let decoded = |i: usize| {
        crate::jose::compact::b64url(parts.get(i).copied().unwrap_or(""), "a JWE segment")
            .map(|b| b.len())
    };
    let iv = decoded(2).map_err(|e| reject(RejectReason::Malformed, e.0))?;
    let tag = decoded(4).map_err(|e| reject(RejectReason::Malformed, e.0))?;
    if iv != iv_len || tag != tag_len {
        return Err(broke(
            Rule::JweSizes,
            format!("{enc} needs a {iv_len}-byte IV and a {tag_len}-byte tag, not {iv} and {tag}"),
        ));
    }
    Ok(())
}

/// A NumericDate claim (§3.1: "number, seconds since 1970"), with the documented tolerances.
fn timestamp(
    claim: Option<&Claim<'_>>,
    name: &str,
    config: &VerifierConfig,
) -> Result<i64, Rejection> {
    let value = match claim {
        None | Some(Claim::Null) => {
            return Err(reject(
                RejectReason::ClaimMissing,
                format!("{name} is missing"),
            ))
        }
        Some(Claim::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(v), _) => v,
            // NumericDate may have a fraction; anything outside i64 is nonsense.
            (None, Some(f)) if f.is_finite() && f.abs() < 9.0e15 => f.trunc() as i64,
            _ => {
                return Err(reject(
                    RejectReason::ClaimInvalid,
                    format!("{name} {n} is not a usable number"),
                ))
            }
        },
        Some(Claim::Text(s)) if config.insecure_allow_string_timestamps => {
            s.trim().parse::<i64>().map_err(|_| {
                reject(
                    RejectReason::ClaimInvalid,
                    format!("{name} {s:?} is not a number"),
                )
            })?
        }
        Some(other) => {
            return Err(reject(
                RejectReason::ClaimInvalid,
                format!("{name} must be a number of seconds, not {other}"),
            ))
        }
    };
    if value < 0 {
        return Err(reject(
            RejectReason::ClaimInvalid,
            format!("{name} {value} is before 1970"),
        ));
    }
    // Seconds pass 10^11 only in the year 5138: a value that large is milliseconds (§7.1 item 5).
    if value >= 100_000_000_000 {
        if config.insecure_allow_millisecond_timestamps {
            return Ok(value / 1000);
        }
        return Err(reject(
            RejectReason::ClaimInvalid,
            format!("{name} {value} looks like milliseconds, not seconds"),
        ));
    }
    Ok(value)
}

/// A claim that must be a string when present.
fn text<'p>(claim: &'p Option<Claim<'_>>, name: &str) -> Result<Option<&'p str>, Rejection> {
    match claim {
        None | Some(Claim::Null) => Ok(None),
        Some(Claim::Text(text)) => Ok(Some(text)),
        Some(other) => Err(reject(
            RejectReason::ClaimInvalid,
            format!("{name} must be a string, not {other}"),
        )),
    }
}

/// A standard claim the agent sees: a value of another type is a finding, and dropped.
fn shown_text(
    claim: &Option<Claim<'_>>,
    name: &str,
    findings: &mut Findings,
) -> Result<Option<String>, Rejection> {
    match text(claim, name) {
        Ok(text) => Ok(text.map(str::to_owned)),
        Err(refusal) => findings
            .refuse(refusal.with_rule(Rule::ClaimTypes))
            .map(|()| None),
    }
}

/// Reads the verified payload, runs every claim rule, then reads `lp_sdes`; on success the
/// consumer the agent will see, who keeps the payload for the agent's view.
pub(super) fn consumer(
    payload: Vec<u8>,
    ctx: &VerifyContext,
    config: &VerifierConfig,
    kid: Option<String>,
    encrypted: bool,
    findings: &mut Findings,
) -> Result<AuthenticatedConsumer, Rejection> {
    let claims = Payload::read(&payload).map_err(|e| reject(RejectReason::Malformed, e))?;
    let mut consumer = check_claims(claims, ctx, config, kid, encrypted, findings)?;
    consumer.payload = payload;
    Ok(consumer)
}

/// `aud` and `azp`, when the connector sets a client id: OIDC Core §3.1.3.7 items 3 to 5.
fn check_audience(claims: &Payload<'_>, config: &VerifierConfig) -> Result<(), Rejection> {
    let Some(client_id) = &config.client_id else {
        return Ok(());
    };
    let client_id = client_id.as_str();
    // How many audiences, whether the client is one of them, and the first audience that
    // is neither the client nor trusted.
    let (count, ours, untrusted) = match &claims.aud {
        Some(Claim::Text(aud)) => (1, aud == client_id, None),
        Some(Claim::Other(aud)) if aud.is_array() => {
            let items = aud.as_array().map_or(&[][..], Vec::as_slice);
            if let Some(odd) = items.iter().find(|v| !v.is_string()) {
                return Err(reject(
                    RejectReason::ClaimInvalid,
                    format!("aud holds a non-string {odd}"),
                )
                .with_rule(Rule::Audience));
            }
            let untrusted = items.iter().filter_map(Value::as_str).find(|aud| {
                *aud != client_id && !config.trusted_audiences.iter().any(|t| t == aud)
            });
            (items.len(), items.iter().any(|v| v == client_id), untrusted)
        }
        None => return Err(broke(Rule::Audience, "aud is missing")),
        Some(other) => {
            return Err(reject(
                RejectReason::ClaimInvalid,
                format!("aud must be a string or an array, not {other}"),
            )
            .with_rule(Rule::Audience))
        }
    };
    if !ours {
        let aud = claims
            .aud
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        return Err(broke(
            Rule::Audience,
            format!("aud {aud} does not contain {client_id:?}"),
        ));
    }
    // Item 3: an audience the client does not trust is refused, whatever azp says.
    if let Some(untrusted) = untrusted.filter(|_| !config.allow_untrusted_audiences) {
        return Err(broke(
            Rule::Audience,
            format!("aud also names {untrusted:?}, which is not a trusted audience"),
        ));
    }
    let azp = text(&claims.azp, "azp").map_err(|r| r.with_rule(Rule::AuthorizedParty))?;
    if count > 1 && azp.is_none() {
        return Err(broke(
            Rule::AuthorizedParty,
            "aud has several values and there is no azp",
        ));
    }
    if azp.is_some_and(|azp| azp != client_id) {
        return Err(broke(Rule::AuthorizedParty, "azp is not the client id"));
    }
    Ok(())
}

/// `nonce`: equal to the one sent, when one was sent (OIDC Core §3.1.3.7 item 11; the
/// platform documents no rule, §7.2).
fn check_nonce(claims: &Payload<'_>, ctx: &VerifyContext) -> Result<(), Rejection> {
    let Some(sent) = &ctx.nonce else {
        return Ok(());
    };
    match text(&claims.nonce, "nonce").map_err(|r| r.with_rule(Rule::Nonce))? {
        Some(got) if got == sent.as_str() => Ok(()),
        Some(got) => Err(broke(
            Rule::Nonce,
            format!("nonce {got:?} is not the one sent"),
        )),
        None => Err(broke(Rule::Nonce, "nonce is missing but one was sent")),
    }
}

/// `at_hash` / `c_hash`, when present and their token is known (OIDC Core §3.1.3.8,
/// §3.3.2.11); required beside their token in the front channel.
fn check_hashes(
    claims: &Payload<'_>,
    ctx: &VerifyContext,
    findings: &mut Findings,
) -> Result<(), Rejection> {
    for (claim, name, known, rule) in [
        (
            &claims.at_hash,
            "at_hash",
            ctx.access_token.as_deref(),
            Rule::AtHash,
        ),
        (&claims.c_hash, "c_hash", ctx.code.as_deref(), Rule::CHash),
    ] {
        let got = match text(claim, name) {
            Ok(got) => got,
            Err(refusal) => {
                findings.refuse(refusal.with_rule(rule))?;
                continue;
            }
        };
        match (got, known) {
            (Some(got), Some(token)) if got != left_half_sha256(token) => {
                findings.refuse(broke(rule, format!("{name} {got:?} does not match")))?;
            }
            (None, Some(_)) if ctx.front_channel => {
                findings.refuse(broke(
                    rule,
                    format!(
                        "{name} is missing from an ID token the authorization endpoint issued \
                         with the token it covers (OIDC Core §3.3.2.11)"
                    ),
                ))?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Every claim rule, in order: `iss`, `sub`, the times, `aud` and `azp`, `nonce`, the hashes,
/// the standard claims the agent sees, then `lp_sdes`; on success the consumer, still without
/// its payload.
fn check_claims(
    claims: Payload<'_>,
    ctx: &VerifyContext,
    config: &VerifierConfig,
    kid: Option<String>,
    encrypted: bool,
    findings: &mut Findings,
) -> Result<AuthenticatedConsumer, Rejection> {
    let iss = check_issuer(&claims.iss, config)?;
    let sub = check_subject(&claims.sub, findings)?;
    let (iat, exp) = check_times(&claims, ctx, config, findings)?;
    // aud / azp: only when the connector sets a client id (the platform documents no aud
    // rule, §7.2).
    findings.keep(check_audience(&claims, config))?;
    findings.keep(check_nonce(&claims, ctx))?;
    check_hashes(&claims, ctx, findings)?;
    let standard = standard_claims(&claims, findings)?;
    // lp_sdes (§3.3), last.
    let sdes = read_sdes(claims.lp_sdes, config, findings)?;
    Ok(AuthenticatedConsumer {
        sub: Subject::new(sub),
        iss: Issuer::new(iss),
        kid,
        encrypted,
        issued_at: iat,
        expires_at: exp,
        claims: standard,
        customer_info: sdes.customer_info,
        personal_info: sdes.personal_info,
        dropped: sdes.warnings,
        shown_sdes: sdes.shown,
        phone_number_mapping: config.phone_number_mapping,
        findings: Vec::new(),
        audience: claims.aud.as_ref().map(Claim::to_json),
        payload: Vec::new(),
        view: OnceLock::new(),
    })
}

/// `iss`: exact, case-sensitive equality with "JWT issuer (iss)" (§1.1, §3.1, §4.1).
fn check_issuer<'p>(
    iss: &'p Option<Claim<'_>>,
    config: &VerifierConfig,
) -> Result<&'p str, Rejection> {
    let iss = text(iss, "iss")
        .map_err(|r| r.with_rule(Rule::Issuer))?
        .ok_or_else(|| reject(RejectReason::ClaimMissing, "iss is missing"))?;
    if iss != config.issuer.as_str() {
        return Err(broke(
            Rule::Issuer,
            format!("iss {iss:?} is not {:?}", config.issuer.as_str()),
        ));
    }
    Ok(iss)
}

/// `sub`: the consumer id, effectively required (§3.1).
fn check_subject<'p>(
    sub: &'p Option<Claim<'_>>,
    findings: &mut Findings,
) -> Result<&'p str, Rejection> {
    let sub = text(sub, "sub")
        .map_err(|r| r.with_rule(Rule::RequiredClaims))?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| reject(RejectReason::ClaimMissing, "sub is missing or empty"))?;
    // OIDC Core §2: at most 255 ASCII characters.
    if sub.len() > 255 || !sub.is_ascii() {
        findings.refuse(broke(
            Rule::SubFormat,
            "sub must be at most 255 ASCII characters",
        ))?;
    }
    Ok(sub)
}

/// `exp` and `iat`: mandatory numbers of seconds (§3.1), checked against the injected clock,
/// then `nbf`; `(iat, exp)`.
fn check_times(
    claims: &Payload<'_>,
    ctx: &VerifyContext,
    config: &VerifierConfig,
    findings: &mut Findings,
) -> Result<(i64, i64), Rejection> {
    let exp = timestamp(claims.exp.as_ref(), "exp", config)?;
    let iat = timestamp(claims.iat.as_ref(), "iat", config)?;
    let leeway = config.leeway_secs;
    if exp.saturating_add(leeway) <= ctx.now {
        return Err(broke(
            Rule::Expiry,
            format!("exp {exp} has passed (now {}, leeway {leeway} s)", ctx.now),
        ));
    }
    if iat > ctx.now.saturating_add(leeway) {
        findings.refuse(broke(
            Rule::IssuedAt,
            format!(
                "iat {iat} is in the future (now {}, leeway {leeway} s)",
                ctx.now
            ),
        ))?;
    }
    if exp < iat || exp - iat > config.max_lifetime_secs {
        findings.refuse(broke(
            Rule::Lifetime,
            format!(
                "exp - iat is {} s; it must be between 0 and {}",
                exp - iat,
                config.max_lifetime_secs
            ),
        ))?;
    }
    findings.keep(check_not_before(claims.nbf.as_ref(), ctx, config))?;
    Ok((iat, exp))
}

/// `nbf`: optional, but honoured when present (RFC 7519 §4.1.5).
fn check_not_before(
    nbf: Option<&Claim<'_>>,
    ctx: &VerifyContext,
    config: &VerifierConfig,
) -> Result<(), Rejection> {
    if nbf.is_none() {
        return Ok(());
    }
    let leeway = config.leeway_secs;
    let nbf = timestamp(nbf, "nbf", config).and_then(|nbf| {
        if nbf > ctx.now.saturating_add(leeway) {
            Err(broke(
                Rule::NotBefore,
                format!("nbf {nbf} is in the future (now {})", ctx.now),
            ))
        } else {
            Ok(())
        }
    });
    nbf.map_err(|r| r.with_rule(Rule::NotBefore))
}

/// The standard claims the agent sees (§3.2), each a string or dropped with a finding.
fn standard_claims(
    claims: &Payload<'_>,
    findings: &mut Findings,
) -> Result<StandardClaims, Rejection> {
    Ok(StandardClaims {
        name: shown_text(&claims.name, "name", findings)?,
        given_name: shown_text(&claims.given_name, "given_name", findings)?,
        family_name: shown_text(&claims.family_name, "family_name", findings)?,
        email: shown_text(&claims.email, "email", findings)?,
        gender: shown_text(&claims.gender, "gender", findings)?,
        preferred_username: shown_text(&claims.preferred_username, "preferred_username", findings)?,
        phone_number: shown_text(&claims.phone_number, "phone_number", findings)?,
    })
}

/// `lp_sdes` (§3.3): read with the payload when it could be; otherwise read now.
fn read_sdes(
    lp_sdes: LpSdes<'_>,
    config: &VerifierConfig,
    findings: &mut Findings,
) -> Result<sdes::AuthenticatedSdes, Rejection> {
    Ok(match lp_sdes {
        LpSdes::Absent => sdes::AuthenticatedSdes::default(),
        LpSdes::Read(sdes) => sdes,
        // A claim the schema refuses: refused by both readings under lp_sdes_strict; otherwise
        // a finding, and read leniently (what cannot be used is dropped, with a warning each).
        LpSdes::Deferred(raw) => match sdes::read(raw.get()) {
            Ok(sdes) => sdes,
            Err(refusal) if config.lp_sdes_strict => {
                return Err(refusal.with_rule(Rule::LpSdesConfigured))
            }
            Err(refusal) => {
                findings.refuse(refusal.clone().with_rule(Rule::LpSdes))?;
                sdes::read_lenient(raw.get(), &refusal)
            }
        },
    })
}
