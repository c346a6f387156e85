use super::*;

#[test]
fn kid_is_forty_hex_and_derived_from_the_key() {
    let keys = fixture_signing_keys().unwrap();
    assert_eq!(keys.len(), 2);
    for key in &keys {
        let kid = key.kid().as_str();
        assert_eq!(kid.len(), 40);
        assert!(kid
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    }
    assert_ne!(keys[0].kid(), keys[1].kid());
    // The same key read from its public forms gives the same kid.
    let public = RsaKey::from_public_pem_or_base64(&keys[0].key().public_pem()).unwrap();
    assert_eq!(public.kid(), keys[0].kid());
    let line = RsaKey::from_public_pem_or_base64(&keys[0].key().public_base64_line()).unwrap();
    assert_eq!(line.kid(), keys[0].kid());
    assert!(line.private_pem().is_none());
}

#[test]
fn jwk_has_googles_six_members_and_a_2048_bit_modulus() {
    let keys = fixture_signing_keys().unwrap();
    let jwk = serde_json::to_value(keys[0].key().jwk("sig", "RS256")).unwrap();
    let members: Vec<&str> = jwk
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(members, ["alg", "use", "kty", "e", "n", "kid"]);
    assert_eq!(jwk["e"], "AQAB");
    assert_eq!(jwk["n"].as_str().unwrap().len(), 342);
}

#[test]
fn committed_public_forms_match_the_private_keys() {
    let platform = fixture_platform_key().unwrap();
    assert_eq!(platform.public_pem(), fixtures::PLATFORM_ENCRYPTION_PUB);
    let line = include_str!("../../fixtures/keys/idp-signing-1.pub.b64");
    let keys = fixture_signing_keys().unwrap();
    assert_eq!(line.trim(), keys[0].key().public_base64_line());
    assert!(!line.trim().contains('\n'));
}

#[test]
fn garbage_is_a_parse_error_not_a_panic() {
    assert!(matches!(
        RsaKey::from_private_pem("nope"),
        Err(KeyError::Parse(_))
    ));
    assert!(matches!(
        RsaKey::from_public_pem_or_base64("!!!"),
        Err(KeyError::Parse(_))
    ));
}

#[test]
fn generate_reproduces_the_committed_fixtures() {
    // The recipe in fixtures/README.md must give back exactly the committed files.
    let dir = tempfile::tempdir().unwrap();
    let written = generate_fixture_set(dir.path()).unwrap();
    assert!(written.len() >= 9, "{written:?}");
    for file in written {
        let fresh = std::fs::read_to_string(dir.path().join(&file.name)).unwrap();
        let committed = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/keys")
                .join(&file.name),
        )
        .unwrap();
        assert_eq!(
            fresh, committed,
            "{} differs from the committed fixture",
            file.name
        );
    }
}
