//! Every rule, each asserting its exact reason code, with tokens from our `jose` layer and
//! hand-built malformed ones (signed here with the `rsa` crate so any header can be made).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rsa::pkcs1v15::SigningKey as RsaSigningKey;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use serde_json::{json, Value};
use sha2::Sha256;

use super::*;
use crate::claims::{ClientId, Issuer};
use crate::jose::{ContentEnc, Decrypter, Encrypter, KeyAlg, Signer};
use crate::keys::{fixture_platform_key, fixture_signing_keys, RsaKey};

const NOW: i64 = 1_800_000_000;
const ISS: &str = "https://idp.brand.example";

fn brand_key() -> crate::keys::SigningKey {
    fixture_signing_keys().unwrap().remove(0)
}

fn other_key() -> crate::keys::SigningKey {
    fixture_signing_keys().unwrap().remove(1)
}

fn config() -> VerifierConfig {
    VerifierConfig::new(
        Issuer::new(ISS),
        KeySource::PublicKey(
            RsaKey::from_public_pem_or_base64(&brand_key().key().public_base64_line()).unwrap(),
        ),
    )
    .decryption_key(fixture_platform_key().unwrap())
}

fn verifier(config: VerifierConfig) -> Verifier {
    Verifier::new(config).unwrap()
}

fn claims() -> Value {
    json!({
        "iss": ISS, "azp": "demo-client", "aud": "demo-client", "sub": "110169484474386276334",
        "email": "alice@example.com", "given_name": "Alice", "family_name": "Liddell",
        "iat": NOW - 10, "exp": NOW + 3590,
        "lp_sdes": [{"type": "ctmrinfo", "info": {"ctype": "vip", "customerId": "C-1", "storeNumber": "9"}},
                    {"type": "personal", "personal": {"firstname": "Alice", "contacts": [{"email": "alice@example.com"}]}}]
    })
}

fn sign(claims: &Value) -> String {
    Signer::rs256(&brand_key()).unwrap().sign(claims).unwrap()
}

/// Signs `payload` under any `header` with `key`: the way to build tokens no honest library would.
fn sign_raw(header: &Value, payload: &[u8], key: &crate::keys::SigningKey) -> String {
    let private = rsa::RsaPrivateKey::from_pkcs8_pem(key.key().private_pem().unwrap()).unwrap();
    let signer = RsaSigningKey::<Sha256>::new(private);
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = signer.sign(input.as_bytes()).to_vec();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn header() -> Value {
    json!({"alg": "RS256", "kid": brand_key().kid().as_str(), "typ": "JWT"})
}

/// The strict reading's verdict: the rules' own logic, every one of them refusing. The
/// platform reading of the same pass is checked beside it: it refuses exactly when the first
/// rule broken is one both readings refuse on, and otherwise names the strict refusal as its
/// first finding.
async fn check(
    v: &Verifier,
    token: &str,
    ctx: &VerifyContext,
) -> Result<AuthenticatedConsumer, RejectReason> {
    let platform = v.verify(token, ctx).await;
    let strict = strict_refusal(&platform).cloned();
    match (&platform, &strict) {
        (Ok(consumer), Some(first)) => {
            assert_eq!(first.rule.refuses(), Refuses::StrictOnly, "{first}");
            assert_eq!(consumer.strict_findings().first(), Some(first));
        }
        (Err(refusal), _) => assert_eq!(refusal.rule.refuses(), Refuses::Both, "{refusal}"),
        (Ok(_), None) => {}
    }
    match strict {
        Some(refusal) => Err(refusal.reason),
        None => platform.map_err(|r| r.reason),
    }
}

async fn reason(token: &str) -> RejectReason {
    check(&verifier(config()), token, &VerifyContext::at(NOW))
        .await
        .expect_err("must be rejected")
}

async fn reason_for_claims(claims: Value) -> RejectReason {
    reason(&sign(&claims)).await
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

fn without(mut base: Value, key: &str) -> Value {
    base.as_object_mut().unwrap().remove(key);
    base
}

#[tokio::test]
async fn a_good_token_gives_the_authenticated_consumer() {
    let consumer = check(
        &verifier(config()),
        &sign(&claims()),
        &VerifyContext::at(NOW),
    )
    .await
    .unwrap();
    assert_eq!(consumer.sub().as_str(), "110169484474386276334");
    assert_eq!(consumer.iss().as_str(), ISS);
    assert_eq!(consumer.expires_at(), NOW + 3590);
    assert!(!consumer.encrypted());
    assert_eq!(
        consumer.field("consumer.customerId"),
        Some("110169484474386276334")
    );
    assert_eq!(consumer.field("ctmrinfo.ctype"), Some("vip"));
    assert_eq!(consumer.field("personal.firstname"), Some("Alice"));
    assert_eq!(
        consumer.field("personal.lastname"),
        Some("Liddell"),
        "family_name maps to the last name (§3.2)"
    );
    assert_eq!(
        consumer.field("ctmrinfo.storeNumber"),
        None,
        "excluded from authenticated flows"
    );
    assert_eq!(
        consumer.warnings(),
        ["ctmrinfo.info.storeNumber dropped: not supported in authenticated flows"]
    );
    let keys: Vec<&str> = consumer.fields().iter().map(|f| f.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "consumer.customerId",
            "ctmrinfo.ctype",
            "ctmrinfo.customerId",
            "personal.firstname",
            "personal.contacts[0].email",
            "personal.lastname"
        ]
    );
    assert_eq!(consumer.fields()[5].source, "family_name");
    assert_eq!(consumer.fields()[1].source, "lp_sdes.ctmrinfo.ctype");
    assert_eq!(consumer.issued_at(), NOW - 10);
    assert_eq!(
        consumer
            .customer_info()
            .and_then(|info| info.ctype.as_deref()),
        Some("vip")
    );
    assert_eq!(
        consumer
            .personal_info()
            .and_then(|info| info.firstname.as_deref()),
        Some("Alice")
    );
    let debug = format!("{consumer:?}");
    assert!(
        debug.starts_with(
            r#"AuthenticatedConsumer { sub: Subject("110169484474386276334"), iss: Issuer("https://idp.brand.example"), kid: Some("#
        ) && debug.ends_with(", .. }"),
        "{debug}"
    );
}

#[tokio::test]
async fn standard_claims_fill_what_lp_sdes_left_and_yield_where_it_spoke() {
    let claims = json!({
        "iss": ISS, "aud": "demo-client", "sub": "s-1", "iat": NOW - 10, "exp": NOW + 3590,
        "given_name": "Alicia", "family_name": "Liddell", "gender": "F",
        "preferred_username": "alice1", "phone_number": "+1 555 0100",
        "lp_sdes": [{"type": "personal", "personal": {"firstname": "Alice"}},
                    {"type": "ctmrinfo", "info": {"ctype": "vip"}}]
    });
    let consumer = check(&verifier(config()), &sign(&claims), &VerifyContext::at(NOW))
        .await
        .unwrap();
    let fields: Vec<(&str, &str, &str)> = consumer
        .fields()
        .iter()
        .map(|f| (f.key.as_str(), f.value.as_str(), f.source.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            ("consumer.customerId", "s-1", "sub"),
            ("ctmrinfo.ctype", "vip", "lp_sdes.ctmrinfo.ctype"),
            ("ctmrinfo.userName", "alice1", "preferred_username"),
            ("ctmrinfo.imei", "+1 555 0100", "phone_number"),
            ("personal.firstname", "Alice", "lp_sdes.personal.firstname"),
            ("personal.lastname", "Liddell", "family_name"),
            ("personal.gender", "F", "gender"),
        ],
        "consumer, then customer info, then personal info, whatever order lp_sdes had"
    );
    assert_eq!(
        consumer.warnings(),
        [
            r#"given_name "Alicia" differs from lp_sdes.personal.firstname "Alice"; personal.firstname shows the lp_sdes value"#
        ]
    );
}

#[tokio::test]
async fn envelopes_with_every_alg_and_enc_open_and_verify() {
    let platform = fixture_platform_key().unwrap();
    for alg in [KeyAlg::RsaOaep256, KeyAlg::RsaOaep] {
        for enc in ContentEnc::ALL {
            let jwe = Encrypter::new(&platform, alg, enc)
                .unwrap()
                .encrypt(&sign(&claims()))
                .unwrap();
            // The platform reading opens every one; the strict reading refuses what no
            // platform source names (RSA-OAEP) or what the platform was seen refusing
            // (A128CBC-HS256).
            let consumer = verifier(config())
                .verify(&jwe, &VerifyContext::at(NOW))
                .await
                .unwrap();
            assert!(consumer.encrypted(), "{alg:?} {enc:?}");
            let rules: Vec<&str> = consumer
                .strict_findings()
                .iter()
                .map(|f| f.rule.id())
                .collect();
            let mut expected = Vec::new();
            if alg == KeyAlg::RsaOaep {
                expected.push("jwe-alg-rsa-oaep");
            }
            if enc == ContentEnc::A128CbcHs256 {
                expected.push("jwe-enc-a128cbc-hs256");
            }
            assert_eq!(rules, expected, "{alg:?} {enc:?}");
            assert_eq!(consumer.sub().as_str(), "110169484474386276334");
        }
    }
}

#[tokio::test]
async fn verifiers_of_one_key_share_its_decrypter_and_no_other() {
    let platform = fixture_platform_key().unwrap();
    let shared = Decrypter::new(&platform).unwrap();
    let jwe = Encrypter::new(&platform, KeyAlg::RsaOaep256, ContentEnc::A256Gcm)
        .unwrap()
        .encrypt(&sign(&claims()))
        .unwrap();
    for _ in 0..2 {
        let v = Verifier::with_decrypter(config(), Some(shared.clone())).unwrap();
        let consumer = v.verify(&jwe, &VerifyContext::at(NOW)).await.unwrap();
        assert!(consumer.encrypted());
        assert_eq!(consumer.sub().as_str(), "110169484474386276334");
    }
    // Another key's decrypter (even under the platform key's kid), one without a configured
    // key, none with one: each refused.
    let other = Decrypter::new(other_key().with_kid(platform.kid().clone()).key()).unwrap();
    let mut no_key = config();
    no_key.decryption_key = None;
    for (config, decrypter) in [
        (config(), Some(other)),
        (no_key.clone(), Some(shared.clone())),
        (config(), None),
    ] {
        assert!(matches!(
            Verifier::with_decrypter(config, decrypter),
            Err(VerifierError::Config(m)) if m.contains("decrypter")
        ));
    }
    assert!(Verifier::with_decrypter(no_key, None).is_ok());
}

#[tokio::test]
async fn size_and_shape() {
    let mut config = config();
    config.max_token_bytes = 100;
    assert_eq!(
        check(&verifier(config), &sign(&claims()), &VerifyContext::at(NOW))
            .await
            .unwrap_err(),
        RejectReason::TokenTooLarge
    );
    assert_eq!(reason("a.b").await, RejectReason::Malformed);
    assert_eq!(reason("").await, RejectReason::Malformed);
    assert_eq!(reason("a.b.c.d").await, RejectReason::Malformed);
    let good = sign(&claims());
    assert_eq!(
        reason(&format!(" {good}")).await,
        RejectReason::Malformed,
        "whitespace"
    );
    assert_eq!(
        reason(&format!("{good}=")).await,
        RejectReason::Malformed,
        "padding"
    );
    let (h, rest) = good.split_once('.').unwrap();
    assert_eq!(
        reason(&format!("{h}=.{rest}")).await,
        RejectReason::Malformed
    );
    assert_eq!(
        reason(&sign_raw(&header(), b"not json", &brand_key())).await,
        RejectReason::Malformed
    );
    assert_eq!(
        reason(&sign_raw(&header(), b"[1,2]", &brand_key())).await,
        RejectReason::Malformed
    );
    let dup = r#"{"alg":"RS256","alg":"none"}"#;
    let token = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(dup),
        URL_SAFE_NO_PAD.encode(claims().to_string())
    );
    assert_eq!(reason(&token).await, RejectReason::Malformed);
}

#[tokio::test]
async fn algorithms_off_the_list_are_refused_and_none_never_passes() {
    let payload = claims().to_string();
    for alg in ["none", "None", "NONE", "nOnE"] {
        let token = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(json!({"alg": alg}).to_string()),
            URL_SAFE_NO_PAD.encode(&payload)
        );
        assert_eq!(reason(&token).await, RejectReason::AlgNotAllowed, "{alg}");
    }
    let mut relaxed = config();
    relaxed.allowed_algs.push("none".into());
    let token = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(&payload)
    );
    assert_eq!(
        check(&verifier(relaxed), &token, &VerifyContext::at(NOW))
            .await
            .unwrap_err(),
        RejectReason::AlgNotAllowed,
        "none even when listed"
    );
    for alg in ["HS256", "RS512", "PS256", "ES256", "rs256"] {
        let token = sign_raw(
            &json!({"alg": alg, "kid": brand_key().kid().as_str()}),
            payload.as_bytes(),
            &brand_key(),
        );
        assert_eq!(reason(&token).await, RejectReason::AlgNotAllowed, "{alg}");
    }
    let token = sign_raw(&json!({"kid": "x"}), payload.as_bytes(), &brand_key());
    assert_eq!(
        reason(&token).await,
        RejectReason::Malformed,
        "no alg at all"
    );
}

#[tokio::test]
async fn crit_is_refused() {
    let token = sign_raw(
        &json!({"alg": "RS256", "crit": ["exp"], "exp": 1}),
        claims().to_string().as_bytes(),
        &brand_key(),
    );
    assert_eq!(reason(&token).await, RejectReason::CritUnsupported);
}

#[tokio::test]
async fn signatures() {
    let good = sign(&claims());
    let (head, rest) = good.split_once('.').unwrap();
    let (_, sig) = rest.split_once('.').unwrap();
    let forged_payload =
        URL_SAFE_NO_PAD.encode(with(claims(), "sub", json!("someone-else")).to_string());
    assert_eq!(
        reason(&format!("{head}.{forged_payload}.{sig}")).await,
        RejectReason::SignatureInvalid
    );
    assert_eq!(
        reason(&format!("{head}.{}.", rest.split_once('.').unwrap().0)).await,
        RejectReason::SignatureInvalid,
        "empty signature"
    );
    // Signed by a key the brand never gave the platform.
    let token = Signer::rs256(&other_key())
        .unwrap()
        .sign(&claims())
        .unwrap();
    assert_eq!(reason(&token).await, RejectReason::SignatureInvalid);
    // The token cannot bring its own key: jwk, jku, x5u, x5c are never key sources.
    let attacker = other_key();
    let jwk = serde_json::to_value(attacker.key().jwk("sig", "RS256")).unwrap();
    let header = json!({"alg": "RS256", "jwk": jwk, "jku": "https://evil.example/jwks", "x5u": "https://evil.example/x5u", "x5c": ["MIIB"]});
    assert_eq!(
        reason(&sign_raw(
            &header,
            claims().to_string().as_bytes(),
            &attacker
        ))
        .await,
        RejectReason::SignatureInvalid
    );
}

#[tokio::test]
async fn issuer_subject_and_timestamps() {
    assert_eq!(
        reason_for_claims(with(claims(), "iss", json!("https://IDP.brand.example"))).await,
        RejectReason::IssuerMismatch
    );
    assert_eq!(
        reason_for_claims(with(claims(), "iss", json!(format!("{ISS}/")))).await,
        RejectReason::IssuerMismatch
    );
    assert_eq!(
        reason_for_claims(without(claims(), "iss")).await,
        RejectReason::ClaimMissing
    );
    assert_eq!(
        reason_for_claims(with(claims(), "iss", json!(7))).await,
        RejectReason::ClaimInvalid
    );
    assert_eq!(
        reason_for_claims(without(claims(), "sub")).await,
        RejectReason::ClaimMissing
    );
    assert_eq!(
        reason_for_claims(with(claims(), "sub", json!(""))).await,
        RejectReason::ClaimMissing
    );
    assert_eq!(
        reason_for_claims(without(claims(), "exp")).await,
        RejectReason::ClaimMissing
    );
    assert_eq!(
        reason_for_claims(without(claims(), "iat")).await,
        RejectReason::ClaimMissing
    );
    assert_eq!(
        reason_for_claims(with(claims(), "exp", json!((NOW + 3590).to_string()))).await,
        RejectReason::ClaimInvalid
    );
    assert_eq!(
        reason_for_claims(with(claims(), "exp", json!((NOW + 3590) * 1000))).await,
        RejectReason::ClaimInvalid
    );
    assert_eq!(
        reason_for_claims(with(claims(), "iat", json!(-5))).await,
        RejectReason::ClaimInvalid
    );
    assert_eq!(
        reason_for_claims(with(claims(), "exp", json!(true))).await,
        RejectReason::ClaimInvalid
    );
    // The leeway is 60 s by default: exp exactly 60 s ago is expired, 59 s ago is not.
    assert_eq!(
        reason_for_claims(with(claims(), "exp", json!(NOW - 60))).await,
        RejectReason::Expired
    );
    let v = verifier(config());
    assert!(check(
        &v,
        &sign(&with(
            with(claims(), "exp", json!(NOW - 59)),
            "iat",
            json!(NOW - 3600)
        )),
        &VerifyContext::at(NOW)
    )
    .await
    .is_ok());
    assert_eq!(
        reason_for_claims(with(claims(), "iat", json!(NOW + 61))).await,
        RejectReason::IssuedInFuture
    );
    assert!(check(
        &v,
        &sign(&with(claims(), "iat", json!(NOW + 60))),
        &VerifyContext::at(NOW)
    )
    .await
    .is_ok());
}

#[tokio::test]
async fn lifetime_nbf_and_subject_shape() {
    assert_eq!(
        reason_for_claims(with(claims(), "iat", json!(NOW - 30 * 86_400))).await,
        RejectReason::LifetimeInvalid,
        "iat a month old, exp ahead"
    );
    assert_eq!(
        reason_for_claims(with(
            with(claims(), "exp", json!(NOW + 10)),
            "iat",
            json!(NOW + 20)
        ))
        .await,
        RejectReason::LifetimeInvalid,
        "exp before iat"
    );
    assert_eq!(
        reason_for_claims(with(claims(), "nbf", json!(NOW + 120))).await,
        RejectReason::NotYetValid
    );
    assert_eq!(
        reason_for_claims(with(claims(), "nbf", json!("soon"))).await,
        RejectReason::ClaimInvalid
    );
    let v = verifier(config());
    assert!(check(
        &v,
        &sign(&with(claims(), "nbf", json!(NOW - 300))),
        &VerifyContext::at(NOW)
    )
    .await
    .is_ok());
    assert!(
        check(
            &v,
            &sign(&with(claims(), "exp", json!(NOW as f64 + 3590.5))),
            &VerifyContext::at(NOW)
        )
        .await
        .is_ok(),
        "a fractional NumericDate is legal"
    );
    assert_eq!(
        reason_for_claims(with(claims(), "sub", json!("x".repeat(256)))).await,
        RejectReason::ClaimInvalid
    );
    assert_eq!(
        reason_for_claims(with(claims(), "sub", json!("Zoë"))).await,
        RejectReason::ClaimInvalid
    );
    assert_eq!(
        reason_for_claims(with(claims(), "sub", json!(42))).await,
        RejectReason::ClaimInvalid
    );
}

#[tokio::test]
async fn jws_headers_that_are_not_an_id_tokens() {
    let payload = claims().to_string();
    let kid = brand_key().kid().as_str().to_owned();
    for (extra, expected) in [
        (json!({"typ": "at+jwt"}), RejectReason::TypNotAllowed),
        (json!({"typ": "logout+jwt"}), RejectReason::TypNotAllowed),
        (json!({"cty": "JWT"}), RejectReason::TypNotAllowed),
        (json!({"zip": "DEF"}), RejectReason::Malformed),
        (json!({"b64": false}), RejectReason::Malformed),
        (json!({"kid": 1}), RejectReason::Malformed),
    ] {
        let mut header = json!({"alg": "RS256", "kid": kid});
        header
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        assert_eq!(
            reason(&sign_raw(&header, payload.as_bytes(), &brand_key())).await,
            expected,
            "{header}"
        );
    }
    let lower = json!({"alg": "RS256", "kid": kid, "typ": "jwt"});
    assert!(check(
        &verifier(config()),
        &sign_raw(&lower, payload.as_bytes(), &brand_key()),
        &VerifyContext::at(NOW)
    )
    .await
    .is_ok());
}

#[tokio::test]
async fn the_docs_timestamp_variants_pass_only_when_relaxed() {
    let mut relaxed = config();
    relaxed.insecure_allow_millisecond_timestamps = true;
    relaxed.insecure_allow_string_timestamps = true;
    assert_eq!(
        relaxed.relaxations(),
        [
            "insecure_allow_millisecond_timestamps",
            "insecure_allow_string_timestamps",
            "any_audience"
        ]
    );
    let v = verifier(relaxed);
    let ms = with(
        with(claims(), "exp", json!((NOW + 3590) * 1000)),
        "iat",
        json!((NOW - 10) * 1000),
    );
    assert_eq!(
        check(&v, &sign(&ms), &VerifyContext::at(NOW))
            .await
            .unwrap()
            .expires_at(),
        NOW + 3590
    );
    let strings = with(
        with(claims(), "exp", json!((NOW + 3590).to_string())),
        "iat",
        json!((NOW - 10).to_string()),
    );
    assert!(check(&v, &sign(&strings), &VerifyContext::at(NOW))
        .await
        .is_ok());
}

#[tokio::test]
async fn audience_and_azp_when_a_client_id_is_set() {
    let v = verifier(config().client_id(ClientId::new("demo-client")));
    let at = VerifyContext::at(NOW);
    assert!(check(&v, &sign(&claims()), &at).await.is_ok());
    assert_eq!(
        check(&v, &sign(&with(claims(), "aud", json!("other"))), &at)
            .await
            .unwrap_err(),
        RejectReason::AudienceMismatch
    );
    assert_eq!(
        check(&v, &sign(&without(claims(), "aud")), &at)
            .await
            .unwrap_err(),
        RejectReason::AudienceMismatch
    );
    assert_eq!(
        check(&v, &sign(&with(claims(), "aud", json!(5))), &at)
            .await
            .unwrap_err(),
        RejectReason::ClaimInvalid
    );
    // Several audiences: every other one must be trusted (OIDC Core §3.1.3.7 item 3), then
    // azp must name the client (items 4 and 5).
    let several = with(claims(), "aud", json!(["demo-client", "other"]));
    assert_eq!(
        check(&v, &sign(&several), &at).await.unwrap_err(),
        RejectReason::AudienceMismatch,
        "an untrusted audience, though azp is the client id"
    );
    let trusting = {
        let mut c = config().client_id(ClientId::new("demo-client"));
        c.trusted_audiences = vec!["other".into()];
        verifier(c)
    };
    assert!(check(&trusting, &sign(&several), &at).await.is_ok());
    assert_eq!(
        check(
            &trusting,
            &sign(&with(several.clone(), "azp", json!("other"))),
            &at
        )
        .await
        .unwrap_err(),
        RejectReason::AzpMismatch
    );
    assert_eq!(
        check(&trusting, &sign(&without(several.clone(), "azp")), &at)
            .await
            .unwrap_err(),
        RejectReason::AzpMismatch
    );
    // The looser reading: azp naming the client is enough, and it is a listed relaxation.
    let loose = {
        let mut c = config().client_id(ClientId::new("demo-client"));
        c.allow_untrusted_audiences = true;
        c
    };
    assert_eq!(loose.relaxations(), ["allow_untrusted_audiences"]);
    let loose = verifier(loose);
    assert!(check(&loose, &sign(&several), &at).await.is_ok());
    assert_eq!(
        check(&loose, &sign(&without(several, "azp")), &at)
            .await
            .unwrap_err(),
        RejectReason::AzpMismatch
    );
    // A one-element array is one audience: no azp needed.
    assert!(check(
        &v,
        &sign(&without(
            with(claims(), "aud", json!(["demo-client"])),
            "azp"
        )),
        &at
    )
    .await
    .is_ok());
    // Without a configured client id no audience is checked (§4.2), and reports say so; the
    // looser aud reading is a relaxation only with a client id and the switch both.
    assert_eq!(config().relaxations(), ["any_audience"]);
    let strict = config().client_id(ClientId::new("demo-client"));
    assert!(
        strict.relaxations().is_empty(),
        "{:?}",
        strict.relaxations()
    );
    let mut switch_alone = config();
    switch_alone.allow_untrusted_audiences = true;
    assert_eq!(switch_alone.relaxations(), ["any_audience"]);
    assert!(check(
        &verifier(config()),
        &sign(&with(claims(), "aud", json!("other"))),
        &at
    )
    .await
    .is_ok());
}

#[tokio::test]
async fn nonce_at_hash_and_c_hash() {
    let v = verifier(config());
    let ctx = VerifyContext {
        nonce: Some(crate::claims::Nonce::new("n-1")),
        ..VerifyContext::at(NOW)
    };
    assert!(
        check(&v, &sign(&with(claims(), "nonce", json!("n-1"))), &ctx)
            .await
            .is_ok()
    );
    assert_eq!(
        check(&v, &sign(&with(claims(), "nonce", json!("n-11"))), &ctx)
            .await
            .unwrap_err(),
        RejectReason::NonceMismatch
    );
    assert_eq!(
        check(&v, &sign(&claims()), &ctx).await.unwrap_err(),
        RejectReason::NonceMismatch
    );
    let ctx = VerifyContext {
        access_token: Some("ya29.token".into()),
        code: Some("4/0Acode".into()),
        ..VerifyContext::at(NOW)
    };
    let good = with(
        with(
            claims(),
            "at_hash",
            json!(crate::jose::left_half_sha256("ya29.token")),
        ),
        "c_hash",
        json!(crate::jose::left_half_sha256("4/0Acode")),
    );
    assert!(check(&v, &sign(&good), &ctx).await.is_ok());
    assert_eq!(
        check(
            &v,
            &sign(&with(
                good.clone(),
                "at_hash",
                json!("AAAAAAAAAAAAAAAAAAAAAA")
            )),
            &ctx
        )
        .await
        .unwrap_err(),
        RejectReason::AtHashMismatch
    );
    assert_eq!(
        check(
            &v,
            &sign(&with(
                good.clone(),
                "c_hash",
                json!("AAAAAAAAAAAAAAAAAAAAAA")
            )),
            &ctx
        )
        .await
        .unwrap_err(),
        RejectReason::CHashMismatch
    );
    // From the token endpoint both hashes are optional; from the authorization endpoint each
    // is required beside the token it covers (OIDC Core §3.3.2.11, §3.2.2.10).
    for (name, reason) in [
        ("at_hash", RejectReason::AtHashMismatch),
        ("c_hash", RejectReason::CHashMismatch),
    ] {
        let missing = sign(&without(good.clone(), name));
        assert!(check(&v, &missing, &ctx).await.is_ok(), "{name}");
        let front = VerifyContext {
            front_channel: true,
            ..ctx.clone()
        };
        assert_eq!(check(&v, &missing, &front).await.unwrap_err(), reason);
        // Nothing beside it, nothing required.
        let alone = VerifyContext {
            front_channel: true,
            ..VerifyContext::at(NOW)
        };
        assert!(check(&v, &missing, &alone).await.is_ok(), "{name}");
    }
}

#[tokio::test]
async fn replays_are_refused_only_when_asked_for() {
    let token = sign(&claims());
    let ctx = VerifyContext::at(NOW);
    let lenient = verifier(config());
    for _ in 0..2 {
        assert!(
            check(&lenient, &token, &ctx).await.is_ok(),
            "the platform's default"
        );
    }
    let mut strict = config();
    strict.reject_replays = true;
    let strict = verifier(strict);
    assert!(check(&strict, &token, &ctx).await.is_ok());
    let again = strict.verify(&token, &ctx).await.unwrap_err();
    assert_eq!(again.reason, RejectReason::TokenReplayed);
    assert_eq!(
        again.detail,
        "this ID token was accepted before; each is accepted once until it expires"
    );
    // The same signed token in a fresh envelope is the same token.
    let platform = fixture_platform_key().unwrap();
    let wrap = || {
        Encrypter::new(&platform, KeyAlg::RsaOaep256, ContentEnc::A256Gcm)
            .unwrap()
            .encrypt(&token)
            .unwrap()
    };
    let (first, second) = (wrap(), wrap());
    assert_ne!(first, second);
    assert_eq!(
        check(&strict, &first, &ctx).await.unwrap_err(),
        RejectReason::TokenReplayed
    );
    // Another token for the same consumer is not a replay.
    let fresh = sign(&with(claims(), "iat", json!(NOW - 5)));
    assert!(check(&strict, &fresh, &ctx).await.is_ok());
    // A refused token is not remembered: it is refused for what it is, each time.
    let expired = sign(&with(claims(), "exp", json!(NOW - 61)));
    for _ in 0..2 {
        assert_eq!(
            check(&strict, &expired, &ctx).await.unwrap_err(),
            RejectReason::Expired
        );
    }
    // Remembered until exp plus the leeway, no longer: by then it has expired anyway.
    let late = VerifyContext::at(NOW + 3590 + 60);
    assert_eq!(
        check(&strict, &fresh, &late).await.unwrap_err(),
        RejectReason::Expired
    );
}

#[tokio::test]
async fn lp_sdes_of_the_wrong_shape_is_dropped_or_refused_under_lp_sdes_strict() {
    let strict = verifier({
        let mut c = config();
        c.lp_sdes_strict = true;
        c
    });
    let lenient = verifier(config());
    let at = VerifyContext::at(NOW);
    for (sdes, warning, shown) in [
        (
            json!({"type": "ctmrinfo"}),
            "lp_sdes dropped: it is not an array of SDE objects",
            None,
        ),
        (
            json!([{"type": "ctmrinfo", "info": {"balance": "x", "ctype": "vip"}}]),
            "ctmrinfo.info.balance dropped: it must be a number",
            Some(("ctmrinfo.ctype", "vip")),
        ),
    ] {
        let token = sign(&with(claims(), "lp_sdes", sdes.clone()));
        assert_eq!(
            check(&strict, &token, &at).await.unwrap_err(),
            RejectReason::LpSdesInvalid,
            "{sdes}"
        );
        let consumer = lenient.verify(&token, &at).await.unwrap();
        assert_eq!(consumer.warnings(), [warning], "{sdes}");
        // The agent sees what was kept, and nothing of what was dropped.
        let sde_fields: Vec<(&str, &str)> = consumer
            .fields()
            .iter()
            .filter(|f| f.source.starts_with("lp_sdes."))
            .map(|f| (f.key.as_str(), f.value.as_str()))
            .collect();
        assert_eq!(sde_fields, shown.into_iter().collect::<Vec<_>>(), "{sdes}");
    }
}

fn fake_jwe(header: Value) -> String {
    let seg = URL_SAFE_NO_PAD.encode([7u8; 16]);
    format!(
        "{}.{seg}.{seg}.{seg}.{seg}",
        URL_SAFE_NO_PAD.encode(header.to_string())
    )
}

#[tokio::test]
async fn envelope_rules() {
    assert_eq!(
        reason(&fake_jwe(json!({"alg": "dir", "enc": "A256GCM"}))).await,
        RejectReason::AlgNotAllowed
    );
    assert_eq!(
        reason(&fake_jwe(json!({"alg": "RSA1_5", "enc": "A256GCM"}))).await,
        RejectReason::AlgNotAllowed
    );
    assert_eq!(
        reason(&fake_jwe(json!({"alg": "RSA_OAEP_256", "enc": "A256GCM"}))).await,
        RejectReason::AlgNotAllowed,
        "the docs' old spelling"
    );
    assert_eq!(
        reason(&fake_jwe(json!({"alg": "RSA-OAEP-256", "enc": "A192GCM"}))).await,
        RejectReason::AlgNotAllowed
    );
    assert_eq!(
        reason(&fake_jwe(
            json!({"alg": "RSA-OAEP-256", "enc": "A256GCM", "zip": "DEF"})
        ))
        .await,
        RejectReason::EnvelopeInvalid
    );
    assert_eq!(
        reason(&fake_jwe(
            json!({"alg": "RSA-OAEP-256", "enc": "A256GCM", "crit": ["x"], "x": 1})
        ))
        .await,
        RejectReason::CritUnsupported
    );
    assert_eq!(
        reason(&fake_jwe(
            json!({"alg": "RSA-OAEP-256", "enc": "A256GCM", "cty": "json"})
        ))
        .await,
        RejectReason::EnvelopeInvalid
    );
    assert_eq!(
        reason(&fake_jwe(json!({"alg": "RSA-OAEP-256", "enc": "A256GCM"}))).await,
        RejectReason::DecryptFailed,
        "garbage ciphertext"
    );

    let platform = fixture_platform_key().unwrap();
    let encrypter = Encrypter::new(&platform, KeyAlg::RsaOaep256, ContentEnc::A256Gcm).unwrap();
    // Claims in the clear inside the envelope: not a signed JWT.
    assert_eq!(
        reason(&encrypter.encrypt(&claims().to_string()).unwrap()).await,
        RejectReason::EnvelopeInvalid
    );
    // An envelope inside an envelope.
    let inner = encrypter.encrypt(&sign(&claims())).unwrap();
    assert_eq!(
        reason(&encrypter.encrypt(&inner).unwrap()).await,
        RejectReason::EnvelopeInvalid
    );
    // Addressed to another key.
    let other = Encrypter::new(other_key().key(), KeyAlg::RsaOaep256, ContentEnc::A256Gcm).unwrap();
    assert_eq!(
        reason(&other.encrypt(&sign(&claims())).unwrap()).await,
        RejectReason::DecryptFailed
    );
    // A flipped ciphertext byte breaks the tag.
    let jwe = encrypter.encrypt(&sign(&claims())).unwrap();
    let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
    let mut ciphertext = URL_SAFE_NO_PAD.decode(&parts[3]).unwrap();
    ciphertext[0] ^= 1;
    parts[3] = URL_SAFE_NO_PAD.encode(ciphertext);
    assert_eq!(reason(&parts.join(".")).await, RejectReason::DecryptFailed);
    // A GCM tag cut to 8 bytes, or an IV cut short, is refused before decryption (OpenSSL
    // would check a short tag as given).
    for (index, keep) in [(4usize, 8usize), (2, 8)] {
        let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
        let bytes = URL_SAFE_NO_PAD.decode(&parts[index]).unwrap();
        parts[index] = URL_SAFE_NO_PAD.encode(&bytes[..keep]);
        assert_eq!(
            reason(&parts.join(".")).await,
            RejectReason::DecryptFailed,
            "segment {index}"
        );
    }
    // No platform key configured.
    let mut no_key = config();
    no_key.decryption_key = None;
    assert_eq!(
        check(&verifier(no_key), &jwe, &VerifyContext::at(NOW))
            .await
            .unwrap_err(),
        RejectReason::DecryptFailed
    );
    // Envelopes required, plain JWS sent.
    let mut required = config();
    required.require_encryption = true;
    let v = verifier(required);
    assert_eq!(
        check(&v, &sign(&claims()), &VerifyContext::at(NOW))
            .await
            .unwrap_err(),
        RejectReason::EncryptionRequired
    );
    assert!(check(&v, &jwe, &VerifyContext::at(NOW)).await.is_ok());
}

fn jwks_config(jwks: Value) -> VerifierConfig {
    VerifierConfig::new(Issuer::new(ISS), KeySource::JwksDocument(jwks.to_string()))
}

#[tokio::test]
async fn keys_by_kid_from_a_jwks() {
    let (a, b) = (brand_key(), other_key());
    let jwk =
        |k: &crate::keys::SigningKey| serde_json::to_value(k.key().jwk("sig", "RS256")).unwrap();
    let both = verifier(jwks_config(
        json!({"keys": [jwk(&a), jwk(&b), {"kty": "EC", "crv": "P-256"}, {"kty": "RSA", "n": "!!", "e": "AQAB"}]}),
    ));
    let at = VerifyContext::at(NOW);
    assert!(check(&both, &sign(&claims()), &at).await.is_ok());
    let by_b = Signer::rs256(&b).unwrap().sign(&claims()).unwrap();
    assert!(
        check(&both, &by_b, &at).await.is_ok(),
        "unparseable entries are skipped"
    );
    let unknown = sign_raw(
        &json!({"alg": "RS256", "kid": "0000"}),
        claims().to_string().as_bytes(),
        &a,
    );
    assert_eq!(
        check(&both, &unknown, &at).await.unwrap_err(),
        RejectReason::UnknownKid
    );
    let no_kid = sign_raw(
        &json!({"alg": "RS256"}),
        claims().to_string().as_bytes(),
        &a,
    );
    assert_eq!(
        check(&both, &no_kid, &at).await.unwrap_err(),
        RejectReason::KidAmbiguous
    );
    let mut lone = jwk(&a);
    lone.as_object_mut().unwrap().remove("kid");
    let one = verifier(jwks_config(json!({"keys": [lone]})));
    assert!(
        check(&one, &no_kid, &at).await.is_ok(),
        "a one-key JWKS without kids"
    );
    let enc_only = verifier(jwks_config(
        json!({"keys": [with(jwk(&a), "use", json!("enc"))]}),
    ));
    assert_eq!(
        check(&enc_only, &no_kid, &at).await.unwrap_err(),
        RejectReason::KeyUnavailable
    );
}

#[test]
fn every_reason_has_a_unique_code_that_round_trips() {
    let mut codes = std::collections::HashSet::new();
    for reason in RejectReason::ALL {
        assert!(codes.insert(reason.code()));
        assert_eq!(RejectReason::from_code(reason.code()), Some(reason));
        assert_eq!(serde_json::to_value(reason).unwrap(), reason.code());
        assert_eq!(reason.to_string(), reason.code());
    }
}

#[test]
fn profile_merges_with_provenance_and_authenticated_values_win() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let consumer = rt
        .block_on(check(
            &verifier(config()),
            &sign(&claims()),
            &VerifyContext::at(NOW),
        ))
        .unwrap();
    let page = json!([
        {"type": "ctmrinfo", "info": {"ctype": "bronze", "cstatus": "active"}},
        {"type": "personal", "personal": {"firstname": "Alice", "language": "en-US"}},
        {"type": "cart", "total": 12.5}
    ]);
    let profile = ConsumerProfile::merge(Some(&consumer), &page);
    assert_eq!(profile.issuer.as_deref(), Some(ISS));
    let shown: Vec<(&str, &str, String, Option<&str>)> = profile
        .fields
        .iter()
        .map(|f| {
            let from = match &f.provenance {
                Provenance::Authenticated { source } => source.clone(),
                Provenance::FromPage => "page".to_owned(),
            };
            (
                f.key.as_str(),
                f.value.as_str(),
                from,
                f.overridden_page_value.as_deref(),
            )
        })
        .collect();
    let row = |key, value, from: &str, page| (key, value, from.to_owned(), page);
    assert_eq!(
        shown,
        [
            row("consumer.customerId", "110169484474386276334", "sub", None),
            row(
                "ctmrinfo.ctype",
                "vip",
                "lp_sdes.ctmrinfo.ctype",
                Some("bronze")
            ),
            row(
                "ctmrinfo.customerId",
                "C-1",
                "lp_sdes.ctmrinfo.customerId",
                None
            ),
            row(
                "personal.firstname",
                "Alice",
                "lp_sdes.personal.firstname",
                None
            ),
            row(
                "personal.contacts[0].email",
                "alice@example.com",
                "lp_sdes.personal.contacts[0].email",
                None
            ),
            row("personal.lastname", "Liddell", "family_name", None),
            row("ctmrinfo.cstatus", "active", "page", None),
            row("personal.language", "en-US", "page", None),
            row("cart.total", "12.5", "page", None),
        ],
        "the page's own value is kept only where it differs"
    );
    let unauthenticated = ConsumerProfile::merge(None, &page);
    assert!(unauthenticated.issuer.is_none());
    assert!(unauthenticated
        .fields
        .iter()
        .all(|f| f.provenance == Provenance::FromPage));
}

#[test]
fn the_code_flow_needs_its_endpoint_and_credentials() {
    let err = Verifier::new(config().flow(Flow::Code)).unwrap_err();
    assert!(matches!(err, VerifierError::Config(_)), "{err}");
    let code = config().token_endpoint(
        "https://idp.brand.example/token".parse().unwrap(),
        ClientId::new("c"),
        crate::claims::ClientSecret::new("s"),
    );
    assert_eq!(code.flow, Flow::Code);
    assert!(Verifier::new(code).is_ok());
    assert_eq!(config().flow, Flow::Implicit);
}

#[tokio::test]
async fn envelope_allow_lists_narrow_what_is_opened() {
    let platform = fixture_platform_key().unwrap();
    let jwe = |alg, enc| {
        Encrypter::new(&platform, alg, enc)
            .unwrap()
            .encrypt(&sign(&claims()))
            .unwrap()
    };
    let mut narrow = config();
    narrow.allowed_key_algs = vec!["RSA-OAEP-256".into()];
    narrow.allowed_encs = vec!["A256GCM".into()];
    let v = verifier(narrow);
    let at = VerifyContext::at(NOW);
    assert!(
        check(&v, &jwe(KeyAlg::RsaOaep256, ContentEnc::A256Gcm), &at)
            .await
            .is_ok()
    );
    // Both are algorithms the verifier could open: only the allow-lists refuse them.
    assert_eq!(
        check(&v, &jwe(KeyAlg::RsaOaep, ContentEnc::A256Gcm), &at)
            .await
            .unwrap_err(),
        RejectReason::AlgNotAllowed
    );
    assert_eq!(
        check(&v, &jwe(KeyAlg::RsaOaep256, ContentEnc::A128Gcm), &at)
            .await
            .unwrap_err(),
        RejectReason::AlgNotAllowed
    );
}

#[tokio::test]
async fn timestamp_boundaries() {
    let at = VerifyContext::at(NOW);
    // Past 9e15 a float is no usable NumericDate, even where milliseconds are tolerated
    // (as milliseconds it would pass the number check and fail only for its lifetime).
    let mut ms = config();
    ms.insecure_allow_millisecond_timestamps = true;
    let ms = verifier(ms);
    for exp in [json!(1.0e16), json!(9.0e15), json!(-1.0e16), json!(1.0e19)] {
        assert_eq!(
            check(&ms, &sign(&with(claims(), "exp", exp.clone())), &at)
                .await
                .unwrap_err(),
            RejectReason::ClaimInvalid,
            "{exp}"
        );
    }
    // 10^11 is the first value read as milliseconds; one less is seconds (the year 5138).
    assert_eq!(
        reason_for_claims(with(claims(), "iat", json!(99_999_999_999_i64))).await,
        RejectReason::IssuedInFuture
    );
    assert_eq!(
        reason_for_claims(with(claims(), "iat", json!(100_000_000_000_i64))).await,
        RejectReason::ClaimInvalid
    );
    let v = verifier(config());
    let ok = |claims: Value| {
        let token = sign(&claims);
        let v = &v;
        async move { check(v, &token, &VerifyContext::at(NOW)).await }
    };
    // 1970 itself is a date; a second before it is not.
    assert_eq!(
        reason_for_claims(with(claims(), "nbf", json!(-1))).await,
        RejectReason::ClaimInvalid
    );
    assert!(ok(with(claims(), "nbf", json!(0))).await.is_ok());
    // nbf: now + leeway is still valid, a second later is not.
    assert!(ok(with(claims(), "nbf", json!(NOW + 60))).await.is_ok());
    assert_eq!(
        reason_for_claims(with(claims(), "nbf", json!(NOW + 61))).await,
        RejectReason::NotYetValid
    );
    // Lifetime: exactly max_lifetime_secs, and exp = iat, are allowed; one second more is not.
    let lifetime = |iat: i64, exp: i64| with(with(claims(), "iat", json!(iat)), "exp", json!(exp));
    assert!(ok(lifetime(NOW - 10, NOW - 10 + 86_400)).await.is_ok());
    assert!(ok(lifetime(NOW, NOW)).await.is_ok());
    assert_eq!(
        reason_for_claims(lifetime(NOW - 10, NOW - 10 + 86_401)).await,
        RejectReason::LifetimeInvalid
    );
    assert_eq!(
        reason_for_claims(lifetime(NOW, NOW - 1)).await,
        RejectReason::LifetimeInvalid
    );
}

#[tokio::test]
async fn a_sub_of_255_ascii_characters_is_the_longest() {
    let v = verifier(config());
    let longest = sign(&with(claims(), "sub", json!("7".repeat(255))));
    let consumer = check(&v, &longest, &VerifyContext::at(NOW)).await.unwrap();
    assert_eq!(consumer.sub().as_str().len(), 255);
    assert_eq!(
        reason_for_claims(with(claims(), "sub", json!("7".repeat(256)))).await,
        RejectReason::ClaimInvalid
    );
}

#[tokio::test]
async fn an_aud_that_is_neither_a_string_nor_an_array_is_invalid() {
    let v = verifier(config().client_id(ClientId::new("demo-client")));
    for aud in [json!({"demo-client": true}), json!(5), json!(true)] {
        assert_eq!(
            check(
                &v,
                &sign(&with(claims(), "aud", aud.clone())),
                &VerifyContext::at(NOW)
            )
            .await
            .unwrap_err(),
            RejectReason::ClaimInvalid,
            "{aud}"
        );
    }
}

#[test]
fn a_front_channel_artifact_that_is_empty_is_missing() {
    let params: std::collections::HashMap<String, String> = [
        ("code".to_owned(), String::new()),
        ("id_token".to_owned(), "a.b.c".to_owned()),
    ]
    .into_iter()
    .collect();
    let rejection = read_front_channel(&params, None, "code id_token").unwrap_err();
    assert_eq!(rejection.reason, RejectReason::HandoverMissing);
    assert_eq!(
        rejection.detail,
        "response_type \"code id_token\" asked for code, and the redirect carries none"
    );
    let front = read_front_channel(&params, None, "id_token").unwrap();
    assert_eq!(front.id_token.as_deref(), Some("a.b.c"));
    assert_eq!(front.code, None);
}

#[test]
fn every_rule_has_one_id_a_reason_and_a_basis_the_platform_reading_can_stand_on() {
    let mut ids = std::collections::HashSet::new();
    for rule in Rule::ALL {
        assert!(ids.insert(rule.id()), "{rule} twice");
        assert_eq!(Rule::from_id(rule.id()), Some(rule));
        assert!(!rule.cite().is_empty(), "{rule} cites nothing");
        match rule.refuses() {
            // A finding names the risk it lets through.
            Refuses::StrictOnly => assert!(!rule.risk().is_empty(), "{rule} names no risk"),
            // The platform reading refuses on the platform's own evidence, or where the
            // token cannot be read or opened at all, or where the connector says so.
            Refuses::Both if rule.basis().is_the_platforms() => {}
            Refuses::Both => assert!(
                [
                    Rule::HardSize,
                    Rule::JweEnc,
                    Rule::JweZip,
                    Rule::JweSizes,
                    Rule::EncryptionRequired,
                    Rule::Replay,
                    Rule::LpSdesConfigured,
                ]
                .contains(&rule),
                "{rule} refuses in the platform reading on a {} basis",
                rule.basis()
            ),
        }
    }
    for reason in RejectReason::ALL {
        assert_eq!(Rule::for_reason(reason).reason(), reason, "{reason}");
    }
}

#[test]
fn every_reason_names_the_platforms_error_code_or_says_unpublished() {
    let code = |reason: RejectReason| reason.platform_error_code();
    assert_eq!(code(RejectReason::SignatureInvalid), "9007");
    assert_eq!(code(RejectReason::IssuerMismatch), "9007");
    assert_eq!(code(RejectReason::Expired), "1012");
    assert_eq!(code(RejectReason::LpSdesInvalid), "1026");
    assert_eq!(code(RejectReason::UnknownKid), "1041");
    assert_eq!(code(RejectReason::KidAmbiguous), "1042");
    assert_eq!(code(RejectReason::KeyUnavailable), "1038");
    assert_eq!(code(RejectReason::DecryptFailed), "1004");
    assert_eq!(code(RejectReason::Malformed), "1008");
    assert_eq!(code(RejectReason::TokenEndpointError), "9011");
    assert_eq!(code(RejectReason::TokenEndpointUnreachable), "9013");
    assert_eq!(code(RejectReason::HandoverMissing), "9012");
    assert_eq!(code(RejectReason::LifetimeInvalid), "unpublished");
    assert_eq!(code(RejectReason::AudienceMismatch), "unpublished");
    assert_eq!(
        RejectReason::SignatureInvalid
            .platform_error()
            .map(|e| e.name),
        Some("CUSTOMER_JWT_NOT_VALID")
    );
    for reason in RejectReason::ALL {
        let code = code(reason);
        assert!(
            code == "unpublished" || (code.len() == 4 && code.bytes().all(|b| b.is_ascii_digit())),
            "{reason}: {code}"
        );
    }
}

/// One token breaking one rule only the strict reading holds: the platform reading
/// authenticates with that rule as its finding; a verifier set to the strict reading refuses
/// on it; and a token breaking nothing has no finding in either.
#[tokio::test]
async fn the_platform_reading_keeps_what_only_the_strict_reading_refuses() {
    let at = VerifyContext::at(NOW);
    let cases = [
        (
            with(claims(), "iat", json!(NOW - 400_000_000)),
            Rule::Lifetime,
        ),
        (
            with(claims(), "aud", json!("acc:qa57221676")),
            Rule::Audience,
        ),
        (with(claims(), "nbf", json!(NOW + 600)), Rule::NotBefore),
        (with(claims(), "iat", json!(NOW + 600)), Rule::IssuedAt),
        (with(claims(), "name", json!(7)), Rule::ClaimTypes),
        (
            with(claims(), "lp_sdes", json!({"type": "ctmrinfo"})),
            Rule::LpSdes,
        ),
    ];
    for (claims, rule) in cases {
        let token = sign(&claims);
        let connector = config().client_id(ClientId::new("demo-client"));
        let platform = verifier(connector.clone())
            .verify(&token, &at)
            .await
            .unwrap();
        let findings: Vec<Rule> = platform.strict_findings().iter().map(|f| f.rule).collect();
        assert_eq!(findings, [rule], "{claims}");
        assert!(platform.risks()[0].starts_with(&format!("{rule} ({}): ", rule.basis())));
        let strict = verifier(connector.reading(Reading::Strict))
            .verify(&token, &at)
            .await
            .unwrap_err();
        assert_eq!(strict.rule, rule, "{claims}");
        assert_eq!(strict.reason, rule.reason(), "{claims}");
    }
    // A refusal both readings make carries the strict reading's earlier refusal with it.
    let token = sign_raw(
        &with(header(), "typ", json!("at+jwt")),
        with(claims(), "exp", json!(NOW - 3600))
            .to_string()
            .as_bytes(),
        &brand_key(),
    );
    let connector = config().client_id(ClientId::new("demo-client"));
    let refusal = verifier(connector).verify(&token, &at).await.unwrap_err();
    assert_eq!(refusal.rule, Rule::Expiry);
    assert_eq!(refusal.strict().rule, Rule::Typ);
    let honest = verifier(config().client_id(ClientId::new("demo-client")))
        .verify(&sign(&claims()), &at)
        .await
        .unwrap();
    assert_eq!(honest.strict_findings(), []);
}
