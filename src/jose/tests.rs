use super::*;
use crate::keys::{fixture_platform_key, fixture_signing_keys};

#[test]
fn header_is_googles_in_googles_order() {
    let key = &fixture_signing_keys().unwrap()[0];
    let signer = Signer::rs256(key).unwrap();
    let jwt = signer.sign(&serde_json::json!({"sub": "1"})).unwrap();
    let header = jwt.split('.').next().unwrap();
    let header = String::from_utf8(b64url::decode(header).unwrap()).unwrap();
    assert_eq!(
        header,
        format!(r#"{{"alg":"RS256","kid":"{}","typ":"JWT"}}"#, key.kid())
    );
    assert_eq!(signer.algorithm(), "RS256");
}

#[test]
fn rs256_is_deterministic_and_payload_bytes_are_ours() {
    let signer = Signer::rs256(&fixture_signing_keys().unwrap()[0]).unwrap();
    let a = signer.sign(&serde_json::json!({"b": 1, "a": 2})).unwrap();
    let b = signer.sign(&serde_json::json!({"b": 1, "a": 2})).unwrap();
    assert_eq!(a, b);
    let payload = b64url::decode(a.split('.').nth(1).unwrap()).unwrap();
    assert_eq!(payload, br#"{"b":1,"a":2}"#);
}

#[test]
fn every_enc_round_trips_with_the_platform_key() {
    let platform = fixture_platform_key().unwrap();
    for alg in [KeyAlg::RsaOaep256, KeyAlg::RsaOaep] {
        for enc in ContentEnc::ALL {
            let jwe = Encrypter::new(&platform, alg, enc)
                .unwrap()
                .encrypt("a.b.c")
                .unwrap();
            assert_eq!(jwe.split('.').count(), 5);
            let (header, plain) = decrypt(&jwe, &platform).unwrap();
            assert_eq!(plain, b"a.b.c");
            assert_eq!(header["alg"], alg.name());
            assert_eq!(header["enc"], enc.name());
            assert_eq!(header["cty"], "JWT");
            assert_eq!(header["kid"], platform.kid().as_str());
        }
    }
}

#[test]
fn the_wrong_key_cannot_decrypt() {
    let platform = fixture_platform_key().unwrap();
    let other = fixture_signing_keys().unwrap()[0].key().clone();
    let jwe = Encrypter::new(&platform, KeyAlg::default(), ContentEnc::default())
        .unwrap()
        .encrypt("a.b.c")
        .unwrap();
    assert!(decrypt(&jwe, &other).is_err());
}

#[test]
fn at_hash_matches_the_oidc_core_example() {
    // OIDC Core A.3: access_token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y" has
    // at_hash "77QmUPtjPfzWtF2AnpK9RQ" (computed with RS256 / SHA-256).
    assert_eq!(
        left_half_sha256("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
        "77QmUPtjPfzWtF2AnpK9RQ"
    );
    // ... and c_hash "LDktKdoQak3Pk0cnXxCltA" for code "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk".
    assert_eq!(
        left_half_sha256("Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"),
        "LDktKdoQak3Pk0cnXxCltA"
    );
}

#[test]
fn a_non_object_is_named_and_the_payload_is_the_bytes_signed() {
    let err = compact::json_object(b"[1]", "the header").unwrap_err();
    assert!(
        err.0.starts_with(
            "the header is not a JSON object: invalid type: sequence, expected a JSON object"
        ),
        "{err}"
    );
    // {"alg":"RS256"} . {"sub":"1"} . "sig"
    let jws = compact::UnverifiedJws::parse("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln").unwrap();
    assert_eq!(jws.unverified_header(), br#"{"alg":"RS256"}"#);
    assert_eq!(jws.unverified_payload(), br#"{"sub":"1"}"#);
    assert_eq!(jws.signature(), b"sig");
}
