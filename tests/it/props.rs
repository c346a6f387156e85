//! Properties: whatever the persona and lp_sdes, mint -> verify round-trips; whatever the
//! bytes, the verifier neither panics nor authenticates them; whatever a brand signs, it gets a
//! verdict.

use oidc_harness::claims::{
    ClaimScopes, ClientId, CustomerInfo, Date, IdTokenClaims, Issuer, Persona, PersonalInfo, Sde,
    Subject,
};
use oidc_harness::jose::{ContentEnc, Encrypter, KeyAlg, Signer};
use oidc_harness::keys::{fixture_platform_key, fixture_signing_keys};
use oidc_harness::verifier::{KeySource, Verifier, VerifierConfig, VerifyContext};
use proptest::prelude::*;

const NOW: i64 = 1_800_000_000;
const ISS: &str = "https://idp.brand.example";

fn verifier() -> Verifier {
    let key = fixture_signing_keys().unwrap().remove(0);
    Verifier::new(
        VerifierConfig::new(Issuer::new(ISS), KeySource::PublicKey(key.key().clone()))
            .decryption_key(fixture_platform_key().unwrap()),
    )
    .unwrap()
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

fn text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of("\\PC{1,24}")
}

fn customer_info() -> impl Strategy<Value = CustomerInfo> {
    (
        text(),
        text(),
        proptest::option::of(-1.0e9f64..1.0e9),
        text(),
        proptest::option::of(0i64..1_000_000),
        proptest::option::of((1i64..=28, 1i64..=12, 1900i64..=2100)),
    )
        .prop_map(
            |(ctype, customer_id, balance, user_name, company_size, date)| CustomerInfo {
                ctype,
                customer_id,
                balance,
                user_name,
                company_size,
                registration_date: date.map(|(day, month, year)| Date { day, month, year }),
                ..CustomerInfo::default()
            },
        )
}

fn personal_info() -> impl Strategy<Value = PersonalInfo> {
    (text(), text(), text()).prop_map(|(firstname, lastname, company)| PersonalInfo {
        firstname,
        lastname,
        company,
        ..PersonalInfo::default()
    })
}

fn persona() -> impl Strategy<Value = Persona> {
    (
        "[!-~]{1,64}",
        text(),
        text(),
        proptest::option::of(customer_info()),
        proptest::option::of(personal_info()),
    )
        .prop_map(|(sub, name, given_name, customer, personal)| {
            let mut sdes = Vec::new();
            if let Some(info) = customer {
                sdes.push(Sde::CustomerInfo { info });
            }
            if let Some(personal) = personal {
                sdes.push(Sde::PersonalInfo { personal });
            }
            Persona {
                id: "p".into(),
                sub: Subject::new(sub),
                email: None,
                email_verified: None,
                hd: None,
                name,
                given_name,
                family_name: None,
                picture: None,
                locale: None,
                gender: None,
                preferred_username: None,
                phone_number: None,
                lp_sdes: Some(serde_json::to_value(sdes).unwrap()),
            }
        })
}

fn mint(persona: &Persona) -> String {
    let claims = IdTokenClaims::for_persona(
        persona,
        &Issuer::new(ISS),
        &ClientId::new("demo-client"),
        ClaimScopes {
            email: true,
            profile: true,
        },
        NOW - 5,
        3600,
    );
    Signer::rs256(&fixture_signing_keys().unwrap()[0])
        .unwrap()
        .sign(&claims)
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn mint_then_verify_round_trips(persona in persona(), encrypt in any::<bool>()) {
        let mut token = mint(&persona);
        if encrypt {
            token = Encrypter::new(&fixture_platform_key().unwrap(), KeyAlg::RsaOaep256, ContentEnc::A256Gcm).unwrap().encrypt(&token).unwrap();
        }
        let consumer = block_on(verifier().verify(&token, &VerifyContext::at(NOW))).map_err(|r| TestCaseError::fail(r.to_string()))?;
        prop_assert_eq!(consumer.sub(), &persona.sub);
        prop_assert_eq!(consumer.encrypted(), encrypt);
        let sdes: Vec<Sde> = serde_json::from_value(persona.lp_sdes.unwrap()).unwrap();
        for sde in sdes {
            match sde {
                Sde::CustomerInfo { info } => {
                    prop_assert_eq!(consumer.customer_info(), Some(&info));
                    prop_assert_eq!(consumer.field("ctmrinfo.ctype"), info.ctype.as_deref());
                }
                Sde::PersonalInfo { personal } => prop_assert_eq!(consumer.personal_info(), Some(&personal)),
            }
        }
        // The only warnings possible here: a standard claim that disagrees with lp_sdes.
        for warning in consumer.warnings() {
            prop_assert!(warning.starts_with("given_name ") && warning.contains("differs from lp_sdes.personal.firstname"), "{}", warning);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_authenticates(bytes in proptest::collection::vec(any::<u8>(), 0..600), dots in 0usize..6) {
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        for i in 0..dots {
            let at = (i * 37) % (text.len() + 1);
            if text.is_char_boundary(at) {
                text.insert(at, '.');
            }
        }
        prop_assert!(block_on(verifier().verify(&text, &VerifyContext::at(NOW))).is_err());
    }

    #[test]
    fn one_changed_byte_never_authenticates(index in any::<prop::sample::Index>(), replacement in "[A-Za-z0-9_.=+/ -]", encrypt in any::<bool>()) {
        let alice = oidc_harness::claims::fixture_personas().find("alice").cloned().unwrap();
        let mut token = mint(&alice);
        if encrypt {
            token = Encrypter::new(&fixture_platform_key().unwrap(), KeyAlg::RsaOaep, ContentEnc::A128CbcHs256).unwrap().encrypt(&token).unwrap();
        }
        let at = index.index(token.len());
        let mut bytes = token.clone().into_bytes();
        prop_assume!(bytes[at] != replacement.as_bytes()[0]);
        bytes[at] = replacement.as_bytes()[0];
        let changed = String::from_utf8(bytes).unwrap();
        prop_assert!(block_on(verifier().verify(&changed, &VerifyContext::at(NOW))).is_err(), "changed byte {} of {}", at, token.len());
    }
}

/// A JSON value in the SDE schema's words, well-formed or not.
fn sde_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{json, Value};
    let word = prop::sample::select(vec![
        "day",
        "month",
        "year",
        "age",
        "email",
        "phone",
        "phoneType",
        "MOBILE",
        "address",
        "country",
        "GB",
        "region",
        "FEMALE",
        "vip",
        "type",
        "nickname",
    ]);
    let leaf = prop_oneof![
        4 => word.clone().prop_map(|w| json!(w)),
        3 => (0i64..13).prop_map(|n| json!(n)),
        1 => any::<f64>().prop_map(|f| json!(f)),
        1 => any::<bool>().prop_map(|b| json!(b)),
        1 => Just(Value::Null),
        2 => "\\PC{0,6}".prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(3, 16, 4, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::btree_map(word.clone(), inner, 0..4).prop_map(|m| Value::Object(
                m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    })
}

/// `lp_sdes` shaped like the schema, with fields of the right type more often than not.
fn sdes_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{json, Value};
    let field = prop::sample::select(vec![
        "cstatus",
        "ctype",
        "balance",
        "customerId",
        "companySize",
        "lastPaymentDate",
        "loginStatus",
        "storeNumber",
        "firstname",
        "lastname",
        "age",
        "contacts",
        "gender",
        "language",
        "nickname",
    ]);
    // A value of the field's own type, more often than not.
    let typed = |field: &'static str| -> BoxedStrategy<Value> {
        let string = "[a-z]{1,6}".prop_map(|s| json!(s)).boxed();
        let date = (1i64..29, 1i64..13, 1990i64..2030)
            .prop_map(|(d, m, y)| json!({"day": d, "month": m, "year": y}));
        match field {
            "balance" => (-1e6f64..1e6).prop_map(|f| json!(f)).boxed(),
            "companySize" | "loginStatus" => (0i64..300).prop_map(|n| json!(n)).boxed(),
            "lastPaymentDate" => date.boxed(),
            "age" => (0i64..100, date).prop_map(|(age, mut d)| { d["age"] = json!(age); d }).boxed(),
            "contacts" => proptest::collection::vec(
                (string, prop::sample::select(vec!["MOBILE", "WORK"]))
                    .prop_map(|(email, kind)| json!({"email": email, "phoneType": kind, "address": {"country": "GB"}})),
                0..3,
            )
            .prop_map(Value::Array)
            .boxed(),
            "gender" => prop_oneof![
                prop::sample::select(vec!["FEMALE", "MALE", "OTHER"]).prop_map(|s| json!(s)),
                (0i64..3).prop_map(|n| json!(n)),
            ]
            .boxed(),
            "language" => prop::sample::select(vec!["en-GB", "pl-PL", "fr"]).prop_map(|s| json!(s)).boxed(),
            _ => string,
        }
    };
    let member = field
        .prop_flat_map(move |field| (Just(field), prop_oneof![3 => typed(field), 1 => sde_json()]));
    let body = proptest::collection::vec(member, 0..5)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()));
    let sde = (
        prop::sample::select(vec!["ctmrinfo", "personal", "cart", "wishlist"]),
        prop::bool::weighted(0.2),
        body,
    )
        .prop_map(|(kind, misplaced, body)| {
            let member = if (kind == "personal") != misplaced {
                "personal"
            } else {
                "info"
            };
            json!({"type": kind, member: body})
        });
    prop_oneof![
        4 => proptest::collection::vec(sde, 0..4).prop_map(Value::Array),
        1 => sde_json(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    /// Whatever a brand signs, the verifier answers with a verdict, and the agent's view of an
    /// accepted token, laid out on first read, is well-formed.
    #[test]
    fn any_signed_payload_gets_a_verdict(lp_sdes in sdes_json(), extra in sde_json()) {
        use oidc_harness::verifier::RejectReason;
        let claims = serde_json::json!({
            "iss": ISS, "sub": "110169484474386276334", "iat": NOW - 10, "exp": NOW + 3590,
            "lp_sdes": lp_sdes, "extra": extra,
        });
        let key = fixture_signing_keys().unwrap().remove(0);
        let token = Signer::rs256(&key).unwrap().sign(&claims).unwrap();
        let strict = {
            let key = fixture_signing_keys().unwrap().remove(0);
            let mut config = VerifierConfig::new(Issuer::new(ISS), KeySource::PublicKey(key.key().clone()));
            config.lp_sdes_strict = true;
            Verifier::new(config).unwrap()
        };
        let lenient = block_on(verifier().verify(&token, &VerifyContext::at(NOW)));
        // The platform's default never fails a login over lp_sdes; lp_sdes_strict refuses
        // exactly the claims the default had to drop something from, and otherwise agrees.
        match (&lenient, block_on(strict.verify(&token, &VerifyContext::at(NOW)))) {
            (Ok(lenient), Ok(strict)) => {
                prop_assert_eq!(lenient.fields(), strict.fields());
                prop_assert_eq!(lenient.warnings(), strict.warnings());
            }
            (Ok(lenient), Err(rejection)) => {
                prop_assert_eq!(rejection.reason, RejectReason::LpSdesInvalid, "{}", rejection);
                prop_assert!(!lenient.warnings().is_empty());
            }
            (Err(rejection), _) => prop_assert!(false, "the default refused: {}", rejection),
        }
        match lenient {
            Ok(consumer) => {
                prop_assert_eq!(consumer.fields()[0].key.as_str(), "consumer.customerId");
                for field in consumer.fields() {
                    prop_assert!(
                        ["consumer.", "ctmrinfo.", "personal."].iter().any(|p| field.key.starts_with(p)),
                        "{:?}", field
                    );
                    prop_assert!(field.key.starts_with("consumer.") || field.source.starts_with("lp_sdes."), "{:?}", field);
                }
                prop_assert_eq!(consumer.fields().iter().any(|f| f.key.starts_with("ctmrinfo.")), consumer.customer_info().is_some_and(|c| *c != CustomerInfo::default()));
                prop_assert!(consumer.warnings().iter().all(|w| !w.is_empty()));
            }
            Err(rejection) => prop_assert_eq!(rejection.reason, RejectReason::LpSdesInvalid, "{}", rejection),
        }
    }
}
