use super::*;

fn scopes_all() -> ClaimScopes {
    ClaimScopes {
        email: true,
        profile: true,
    }
}

#[test]
fn fixture_personas_load_and_validate() {
    let personas = Personas::from_toml(include_str!("../../fixtures/personas.toml")).unwrap();
    assert_eq!(personas.ids(), ["alice", "bob", "zoe", "dana", "mallory"]);
    let alice = personas.find("alice").unwrap();
    let sdes: Vec<Sde> = serde_json::from_value(alice.lp_sdes.clone().unwrap()).unwrap();
    assert_eq!(sdes.len(), 2);
    match &sdes[0] {
        Sde::CustomerInfo { info } => {
            assert_eq!(info.balance, Some(-400.99));
            assert_eq!(info.store_zip_code.as_deref(), Some("20505"));
            assert_eq!(
                info.last_payment_date,
                Some(Date {
                    day: 15,
                    month: 10,
                    year: 2026
                })
            );
        }
        other => panic!("expected ctmrinfo first, got {other:?}"),
    }
    // Lookup by sub and by e-mail as well as by id.
    assert_eq!(personas.find("110169484474386276334").unwrap().id, "alice");
    assert_eq!(personas.find("zoe@example.org").unwrap().id, "zoe");
    assert!(personas.find("nobody").is_none());
    assert_eq!(fixture_personas(), personas);
}

#[test]
fn lp_sdes_keeps_the_file_order_of_members() {
    let alice = fixture_personas().find("alice").cloned().unwrap();
    let json = serde_json::to_string(&alice.lp_sdes).unwrap();
    assert!(
        json.starts_with(r#"[{"type":"ctmrinfo","info":{"cstatus":"active","ctype":"vip""#),
        "{json}"
    );
}

#[test]
fn a_misspelt_sde_field_is_rejected() {
    let text = r#"
[[persona]]
id = "x"
sub = "1"
[[persona.lp_sdes]]
type = "ctmrinfo"
[persona.lp_sdes.info]
customerID = "typo"
"#;
    let err = Personas::from_toml(text).unwrap_err().to_string();
    assert!(err.contains("customerID"), "{err}");
}

#[test]
fn duplicate_ids_and_empty_subs_are_rejected() {
    let dup = "[[persona]]\nid = \"a\"\nsub = \"1\"\n[[persona]]\nid = \"a\"\nsub = \"2\"\n";
    assert!(Personas::from_toml(dup)
        .unwrap_err()
        .to_string()
        .contains("used twice"));
    let empty = "[[persona]]\nid = \"a\"\nsub = \"\"\n";
    assert!(Personas::from_toml(empty)
        .unwrap_err()
        .to_string()
        .contains("sub must be"));
    let unknown = "[[persona]]\nid = \"a\"\nsub = \"1\"\nnickname = \"x\"\n";
    assert!(Personas::from_toml(unknown)
        .unwrap_err()
        .to_string()
        .contains("nickname"));
}

#[test]
fn id_token_claims_follow_googles_member_order() {
    let alice = fixture_personas().find("alice").cloned().unwrap();
    let mut claims = IdTokenClaims::for_persona(
        &alice,
        &Issuer::new("https://accounts.google.com"),
        &ClientId::new("demo-client"),
        scopes_all(),
        1_700_000_000,
        3600,
    );
    claims.at_hash = Some("x".into());
    claims.nonce = Some(Nonce::new("n"));
    let value = serde_json::to_value(&claims).unwrap();
    let order: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        order,
        [
            "iss",
            "azp",
            "aud",
            "sub",
            "email",
            "email_verified",
            "at_hash",
            "nonce",
            "name",
            "picture",
            "given_name",
            "family_name",
            "iat",
            "exp",
            "lp_sdes"
        ]
    );
    assert_eq!(value["exp"], 1_700_003_600);
    assert_eq!(value["email_verified"], true);
}

#[test]
fn scopes_limit_the_claims() {
    let alice = fixture_personas().find("alice").cloned().unwrap();
    let claims = IdTokenClaims::for_persona(
        &alice,
        &Issuer::new("https://i"),
        &ClientId::new("c"),
        ClaimScopes::default(),
        0,
        3600,
    );
    assert!(claims.email.is_none() && claims.email_verified.is_none() && claims.name.is_none());
    assert!(
        claims.lp_sdes.is_some(),
        "lp_sdes does not depend on Google's scopes"
    );
    let info = UserInfo::for_persona(&alice, scopes_all());
    let value = serde_json::to_value(info).unwrap();
    let order: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        order,
        [
            "sub",
            "name",
            "given_name",
            "family_name",
            "picture",
            "email",
            "email_verified"
        ]
    );
}

#[test]
fn secrets_are_redacted_and_compared_in_constant_time() {
    let secret = ClientSecret::new("demo-secret");
    assert_eq!(format!("{secret:?}"), "ClientSecret([redacted])");
    assert!(secret.matches("demo-secret"));
    assert!(!secret.matches("demo-secre"));
    assert!(!secret.matches("demo-secret "));
}

#[test]
fn gender_reads_either_spelling_and_nothing_else() {
    let read = |json: &str| serde_json::from_str::<Gender>(json).map_err(|e| e.to_string());
    assert_eq!(read("1"), Ok(Gender::Code(1)));
    assert_eq!(read("-2"), Ok(Gender::Code(-2)));
    assert_eq!(read("\"FEMALE\""), Ok(Gender::Name("FEMALE".into())));
    assert_eq!(read("\"a\\u0041\""), Ok(Gender::Name("aA".into())));
    for bad in ["1.5", "true", "null", "[1]", "{}", "9223372036854775808"] {
        let err = read(bad).unwrap_err();
        assert!(
            err.contains("expected a gender code (an integer) or name (a string)"),
            "{bad}: {err}"
        );
    }
    assert_eq!(serde_json::to_string(&Gender::Code(2)).unwrap(), "2");
    assert_eq!(
        serde_json::to_string(&Gender::Name("OTHER".into())).unwrap(),
        "\"OTHER\""
    );
}
