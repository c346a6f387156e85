//! Properties: whatever the persona and lp_sdes, mint -> verify round-trips; whatever the
//! bytes, the verifier neither panics nor authenticates them.

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
