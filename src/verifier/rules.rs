//! The rules, in the order they run: headers, then claims, then `lp_sdes`. Pure functions of
//! the token, the context (with its `now`) and the configuration.

use serde_json::{Map, Value};

use super::config::{PhoneNumberMapping, VerifierConfig};
use super::consumer::{AuthenticatedConsumer, Field, StandardClaims};
use super::reason::{RejectReason, Rejection};
use super::{sdes, VerifyContext};
use crate::claims::{Issuer, Subject};
use crate::jose::left_half_sha256;

fn reject(reason: RejectReason, detail: impl Into<String>) -> Rejection {
    Rejection::new(reason, detail)
}

/// `crit` (RFC 7515 §4.1.11, RFC 7516 §4.1.13): we understand no extension, so any is refused.
fn check_crit(header: &Map<String, Value>) -> Result<(), Rejection> {
    match header.get("crit") {
        None => Ok(()),
        Some(crit) => Err(reject(
            RejectReason::CritUnsupported,
            format!("crit {crit} names extensions this verifier does not support"),
        )),
    }
}

/// The JWS header: `alg` on the allow-list (RS256 by default, §2 "Signing"; `none` never, in
/// any case), no `crit`. `jku`, `x5u`, `jwk` and `x5c` are ignored as key sources.
pub(super) fn check_jws_header(
    header: &Map<String, Value>,
    config: &VerifierConfig,
) -> Result<(), Rejection> {
    let Some(Value::String(alg)) = header.get("alg") else {
        return Err(reject(
            RejectReason::Malformed,
            "the JWS header has no string alg",
        ));
    };
    if alg.eq_ignore_ascii_case("none") {
        return Err(reject(
            RejectReason::AlgNotAllowed,
            format!("alg {alg:?} (unsigned) is never accepted"),
        ));
    }
    if !config.allowed_algs.iter().any(|a| a == alg) {
        return Err(reject(
            RejectReason::AlgNotAllowed,
            format!("alg {alg:?} is not in {:?}", config.allowed_algs),
        ));
    }
    check_crit(header)?;
    // An ID token is a plain JWT: typ absent or JWT, nothing nested (RFC 8725 §3.11, §3.12).
    match header.get("typ") {
        None => {}
        Some(Value::String(typ)) if typ.eq_ignore_ascii_case("JWT") => {}
        Some(other) => {
            return Err(reject(
                RejectReason::TypNotAllowed,
                format!("typ {other} is not JWT"),
            ))
        }
    }
    if let Some(cty) = header.get("cty") {
        return Err(reject(
            RejectReason::TypNotAllowed,
            format!("cty {cty} announces nested content"),
        ));
    }
    // zip is JWE-only (RFC 7516 §4.1.3); JWTs never use b64 (RFC 7797 §7).
    for member in ["zip", "b64"] {
        if header.contains_key(member) {
            return Err(reject(
                RejectReason::Malformed,
                format!("{member} has no place in a JWS header"),
            ));
        }
    }
    if header.get("kid").is_some_and(|kid| !kid.is_string()) {
        return Err(reject(RejectReason::Malformed, "kid must be a string"));
    }
    Ok(())
}

/// The JWE header (§2 "Encryption"): `alg` and `enc` on the allow-lists (`dir` and `RSA1_5`
/// never are), no compression, no `crit`, and `cty`, when present, `JWT`.
pub(super) fn check_jwe_header(
    header: &Map<String, Value>,
    config: &VerifierConfig,
) -> Result<(), Rejection> {
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    if !config.allowed_key_algs.iter().any(|a| a == alg) {
        return Err(reject(
            RejectReason::AlgNotAllowed,
            format!("JWE alg {alg:?} is not in {:?}", config.allowed_key_algs),
        ));
    }
    let enc = header.get("enc").and_then(Value::as_str).unwrap_or("");
    if !config.allowed_encs.iter().any(|e| e == enc) {
        return Err(reject(
            RejectReason::AlgNotAllowed,
            format!("JWE enc {enc:?} is not in {:?}", config.allowed_encs),
        ));
    }
    if header.contains_key("zip") {
        return Err(reject(
            RejectReason::EnvelopeInvalid,
            "compressed envelopes (zip) are not accepted",
        ));
    }
    check_crit(header)?;
    match header.get("cty") {
        None => Ok(()),
        Some(Value::String(cty)) if cty.eq_ignore_ascii_case("JWT") => Ok(()),
        Some(other) => Err(reject(
            RejectReason::EnvelopeInvalid,
            format!("cty {other} is not JWT"),
        )),
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
        _ => {
            return Err(reject(
                RejectReason::AlgNotAllowed,
                format!("JWE enc {enc:?}"),
            ))
        }
    };
    let parts: Vec<&str> = token.split('.').collect();
    let decoded = |i: usize| {
        crate::jose::compact::b64url(parts.get(i).copied().unwrap_or(""), "a JWE segment")
            .map(|b| b.len())
    };
    let iv = decoded(2).map_err(|e| reject(RejectReason::Malformed, e.0))?;
    let tag = decoded(4).map_err(|e| reject(RejectReason::Malformed, e.0))?;
    if iv != iv_len || tag != tag_len {
        return Err(reject(
            RejectReason::DecryptFailed,
            format!("{enc} needs a {iv_len}-byte IV and a {tag_len}-byte tag, not {iv} and {tag}"),
        ));
    }
    Ok(())
}

/// A NumericDate claim (§3.1: "number, seconds since 1970"), with the documented tolerances.
fn timestamp(
    claims: &Map<String, Value>,
    name: &str,
    config: &VerifierConfig,
) -> Result<i64, Rejection> {
    let value = match claims.get(name) {
        None | Some(Value::Null) => {
            return Err(reject(
                RejectReason::ClaimMissing,
                format!("{name} is missing"),
            ))
        }
        Some(Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
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
        Some(Value::String(s)) if config.insecure_allow_string_timestamps => {
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

fn string_claim<'a>(
    claims: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, Rejection> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(reject(
            RejectReason::ClaimInvalid,
            format!("{name} must be a string, not {other}"),
        )),
    }
}

/// Every claim rule, then `lp_sdes`; on success the consumer the agent will see.
pub(super) fn consumer(
    claims: &Map<String, Value>,
    ctx: &VerifyContext,
    config: &VerifierConfig,
    kid: Option<String>,
    encrypted: bool,
) -> Result<AuthenticatedConsumer, Rejection> {
    // iss: exact, case-sensitive equality with "JWT issuer (iss)" (§1.1, §3.1, §4.1).
    let iss = string_claim(claims, "iss")?
        .ok_or_else(|| reject(RejectReason::ClaimMissing, "iss is missing"))?;
    if iss != config.issuer.as_str() {
        return Err(reject(
            RejectReason::IssuerMismatch,
            format!("iss {iss:?} is not {:?}", config.issuer.as_str()),
        ));
    }
    // sub: the consumer id, effectively required (§3.1).
    let sub = string_claim(claims, "sub")?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| reject(RejectReason::ClaimMissing, "sub is missing or empty"))?;
    // OIDC Core §2: at most 255 ASCII characters.
    if sub.len() > 255 || !sub.is_ascii() {
        return Err(reject(
            RejectReason::ClaimInvalid,
            "sub must be at most 255 ASCII characters",
        ));
    }
    // exp and iat: mandatory numbers of seconds (§3.1), checked against the injected clock.
    let exp = timestamp(claims, "exp", config)?;
    let iat = timestamp(claims, "iat", config)?;
    let leeway = config.leeway_secs;
    if exp.saturating_add(leeway) <= ctx.now {
        return Err(reject(
            RejectReason::Expired,
            format!("exp {exp} has passed (now {}, leeway {leeway} s)", ctx.now),
        ));
    }
    if iat > ctx.now.saturating_add(leeway) {
        return Err(reject(
            RejectReason::IssuedInFuture,
            format!(
                "iat {iat} is in the future (now {}, leeway {leeway} s)",
                ctx.now
            ),
        ));
    }
    if exp < iat || exp - iat > config.max_lifetime_secs {
        return Err(reject(
            RejectReason::LifetimeInvalid,
            format!(
                "exp - iat is {} s; it must be between 0 and {}",
                exp - iat,
                config.max_lifetime_secs
            ),
        ));
    }
    // nbf: optional, but honoured when present (RFC 7519 §4.1.5).
    if claims.get("nbf").is_some() {
        let nbf = timestamp(claims, "nbf", config)?;
        if nbf > ctx.now.saturating_add(leeway) {
            return Err(reject(
                RejectReason::NotYetValid,
                format!("nbf {nbf} is in the future (now {})", ctx.now),
            ));
        }
    }
    // aud / azp: only when the connector sets a client id (§4.2: no aud rule is documented);
    // then OIDC Core §3.1.3.7 items 3 to 5.
    if let Some(client_id) = &config.client_id {
        let audiences: Vec<&str> = match claims.get("aud") {
            Some(Value::String(a)) => vec![a.as_str()],
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str().ok_or_else(|| {
                        reject(
                            RejectReason::ClaimInvalid,
                            format!("aud holds a non-string {v}"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
            None => return Err(reject(RejectReason::AudienceMismatch, "aud is missing")),
            Some(other) => {
                return Err(reject(
                    RejectReason::ClaimInvalid,
                    format!("aud must be a string or an array, not {other}"),
                ))
            }
        };
        if !audiences.contains(&client_id.as_str()) {
            return Err(reject(
                RejectReason::AudienceMismatch,
                format!(
                    "aud {audiences:?} does not contain {:?}",
                    client_id.as_str()
                ),
            ));
        }
        let azp = string_claim(claims, "azp")?;
        if audiences.len() > 1 && azp.is_none() {
            return Err(reject(
                RejectReason::AzpMismatch,
                "aud has several values and there is no azp",
            ));
        }
        if azp.is_some_and(|azp| azp != client_id.as_str()) {
            return Err(reject(
                RejectReason::AzpMismatch,
                "azp is not the client id",
            ));
        }
    }
    // nonce: equal to the one sent, when one was sent (OIDC Core §3.1.3.7 item 11; the
    // platform documents no rule, §4.2).
    if let Some(sent) = &ctx.nonce {
        match string_claim(claims, "nonce")? {
            Some(got) if got == sent.as_str() => {}
            Some(got) => {
                return Err(reject(
                    RejectReason::NonceMismatch,
                    format!("nonce {got:?} is not the one sent"),
                ))
            }
            None => {
                return Err(reject(
                    RejectReason::NonceMismatch,
                    "nonce is missing but one was sent",
                ))
            }
        }
    }
    // at_hash / c_hash, when present and their token is known (OIDC Core §3.1.3.8, §3.3.2.11).
    for (claim, known, reason) in [
        (
            "at_hash",
            ctx.access_token.as_deref(),
            RejectReason::AtHashMismatch,
        ),
        ("c_hash", ctx.code.as_deref(), RejectReason::CHashMismatch),
    ] {
        if let (Some(got), Some(token)) = (string_claim(claims, claim)?, known) {
            if got != left_half_sha256(token) {
                return Err(reject(reason, format!("{claim} {got:?} does not match")));
            }
        }
    }
    // lp_sdes (§3.3).
    let authenticated = match claims.get("lp_sdes") {
        None | Some(Value::Null) => sdes::AuthenticatedSdes::default(),
        Some(value) => sdes::authenticate(value)?,
    };
    let standard = StandardClaims {
        name: string_claim(claims, "name")?.map(str::to_owned),
        given_name: string_claim(claims, "given_name")?.map(str::to_owned),
        family_name: string_claim(claims, "family_name")?.map(str::to_owned),
        email: string_claim(claims, "email")?.map(str::to_owned),
        gender: string_claim(claims, "gender")?.map(str::to_owned),
        preferred_username: string_claim(claims, "preferred_username")?.map(str::to_owned),
        phone_number: string_claim(claims, "phone_number")?.map(str::to_owned),
    };
    let mut authenticated = authenticated;
    let mut warnings = std::mem::take(&mut authenticated.warnings);
    let flat = std::mem::take(&mut authenticated.flat);
    let fields = fields(
        sub,
        &standard,
        flat,
        config.phone_number_mapping,
        &mut warnings,
    );
    Ok(AuthenticatedConsumer {
        sub: Subject::new(sub),
        iss: Issuer::new(iss),
        kid,
        encrypted,
        issued_at: iat,
        expires_at: exp,
        claims: standard,
        customer_info: authenticated.customer_info,
        personal_info: authenticated.personal_info,
        fields,
        warnings,
    })
}

/// The agent's fields: the consumer id, the authenticated SDEs, then the standard claims
/// mapped as §3.2 says where an SDE did not already give that field.
fn fields(
    sub: &str,
    claims: &StandardClaims,
    flat: Vec<(String, String)>,
    phone: PhoneNumberMapping,
    warnings: &mut Vec<String>,
) -> Vec<Field> {
    let mut fields = Vec::with_capacity(flat.len() + 8);
    fields.push(Field {
        key: "consumer.customerId".into(),
        value: sub.to_owned(),
        source: "sub".into(),
    });
    for (key, value) in flat {
        let source = format!("lp_sdes.{key}");
        fields.push(Field { key, value, source });
    }
    let phone_key = match phone {
        PhoneNumberMapping::CustomerImei => "ctmrinfo.imei",
        PhoneNumberMapping::PersonalContactPhone => "personal.contacts[0].phone",
    };
    let mapped = [
        ("personal.firstname", &claims.given_name, "given_name"),
        ("personal.lastname", &claims.family_name, "family_name"),
        ("personal.contacts[0].email", &claims.email, "email"),
        ("personal.gender", &claims.gender, "gender"),
        (
            "ctmrinfo.userName",
            &claims.preferred_username,
            "preferred_username",
        ),
        (phone_key, &claims.phone_number, "phone_number"),
    ];
    for (key, value, claim) in mapped {
        let Some(value) = value else { continue };
        match fields.iter().find(|f| f.key == key) {
            Some(existing) if existing.value != *value => warnings.push(format!(
                "{claim} {value:?} differs from {} {:?}; {key} shows the lp_sdes value",
                existing.source, existing.value
            )),
            Some(_) => {}
            None => fields.push(Field {
                key: key.to_owned(),
                value: value.clone(),
                source: claim.to_owned(),
            }),
        }
    }
    // Consumer first, then customer info, then personal info.
    let section = |key: &str| match key.split('.').next() {
        Some("consumer") => 0,
        Some("ctmrinfo") => 1,
        _ => 2,
    };
    fields.sort_by_key(|f| section(&f.key));
    fields
}
