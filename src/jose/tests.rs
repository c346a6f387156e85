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

#[test]
fn rs256_tokens_are_byte_for_byte_josekits() {
    use josekit::jws::{JwsHeader, RS256};
    let claims = serde_json::json!({"iss": "https://x", "sub": "1", "name": "Zoë \"Q\" \\ 東"});
    for key in fixture_signing_keys().unwrap() {
        let ours = Signer::rs256(&key).unwrap().sign(&claims).unwrap();
        let mut header = JwsHeader::new();
        header.set_algorithm("RS256");
        header.set_key_id(key.kid().as_str());
        header.set_token_type("JWT");
        let signer = RS256
            .signer_from_pem(key.key().private_pem().unwrap())
            .unwrap();
        let payload = serde_json::to_vec(&claims).unwrap();
        let theirs = josekit::jws::serialize_compact(&payload, &header, &signer).unwrap();
        assert_eq!(ours, theirs);
    }
}

#[test]
fn a_pkcs8_key_reads_as_openssls_pem_reader_reads_it() {
    for key in fixture_signing_keys().unwrap() {
        let pem = key.key().private_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let theirs = openssl::rsa::Rsa::private_key_from_pem(pem.as_bytes()).unwrap();
        let ours = openssl_rsa_private(pem).unwrap();
        assert_eq!(
            ours.private_key_to_der().unwrap(),
            theirs.private_key_to_der().unwrap()
        );
    }
    // PKCS#1 ("RSA PRIVATE KEY") takes OpenSSL's reader, and reads the same key.
    let pkcs1 = openssl::rsa::Rsa::private_key_from_pem(
        fixture_platform_key()
            .unwrap()
            .private_pem()
            .unwrap()
            .as_bytes(),
    )
    .unwrap();
    let pkcs1_pem = String::from_utf8(pkcs1.private_key_to_pem().unwrap()).unwrap();
    assert!(pkcs1_pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    assert_eq!(
        openssl_rsa_private(&pkcs1_pem).unwrap().n().to_vec(),
        pkcs1.n().to_vec()
    );
    // A PKCS#8 key that is not RSA, and no key at all: a key error, no panic.
    let ec = openssl::pkey::PKey::from_ec_key(
        openssl::ec::EcKey::generate(
            &openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    let ec_pem = String::from_utf8(ec.private_key_to_pem_pkcs8().unwrap()).unwrap();
    assert!(matches!(
        openssl_rsa_private(&ec_pem),
        Err(JoseError::Key(_))
    ));
    assert!(matches!(
        openssl_rsa_private("no key"),
        Err(JoseError::Key(_))
    ));
}

#[test]
fn rs256_verifier_takes_what_openssl_takes_and_nothing_else() {
    let keys = fixture_signing_keys().unwrap();
    let jwt = Signer::rs256(&keys[0])
        .unwrap()
        .sign(&serde_json::json!({"sub": "1"}))
        .unwrap();
    let (input, signature) = jwt.rsplit_once('.').unwrap();
    let (input, signature) = (input.as_bytes(), b64url::decode(signature).unwrap());
    let verifier = Rs256Verifier::new(keys[0].key()).unwrap();
    let openssl_takes = |message: &[u8], signature: &[u8]| {
        let key = openssl::pkey::PKey::public_key_from_pem(keys[0].key().public_pem().as_bytes())
            .unwrap();
        let mut verifier =
            openssl::sign::Verifier::new(openssl::hash::MessageDigest::sha256(), &key).unwrap();
        verifier.verify_oneshot(signature, message).unwrap_or(false)
    };
    let both = |message: &[u8], signature: &[u8]| {
        let ours = verifier.verify(message, signature);
        assert_eq!(ours, openssl_takes(message, signature));
        ours
    };
    assert!(both(input, &signature));
    assert!(!both(b"another input", &signature));
    let mut flipped = signature.clone();
    flipped[100] ^= 1;
    assert!(!both(input, &flipped));
    assert!(!both(input, &signature[1..]));
    assert!(!both(input, &[&[0u8][..], &signature].concat()));
    assert!(!both(input, &[]));
    // The modulus itself, and a value past it.
    let rsa =
        openssl::rsa::Rsa::public_key_from_pem(keys[0].key().public_pem().as_bytes()).unwrap();
    assert!(!both(input, &rsa.n().to_vec()));
    assert!(!both(input, &[0xff; 256]));
    // Another key's signature of the same input.
    let other = Rs256Verifier::new(keys[1].key()).unwrap();
    assert!(!other.verify(input, &signature));
    // The right digest with the DigestInfo's NULL parameters left out, or under SHA-1's
    // DigestInfo: a valid PKCS#1 v1.5 block, and not an RS256 signature.
    let private =
        openssl::rsa::Rsa::private_key_from_pem(keys[0].key().private_pem().unwrap().as_bytes())
            .unwrap();
    let digest = openssl::sha::sha256(input);
    let no_null = [
        &[
            0x30, 0x2f, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x04, 0x20,
        ][..],
        &digest,
    ]
    .concat();
    for block in [no_null, digest.to_vec()] {
        let mut forged = vec![0; 256];
        let len = private
            .private_encrypt(&block, &mut forged, openssl::rsa::Padding::PKCS1)
            .unwrap();
        assert!(!both(input, &forged[..len]));
    }
}
