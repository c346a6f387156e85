//! A real envelope with fuzzer-chosen bytes spliced in: every change is refused with a reason.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use oidc_harness::claims::Issuer;
use oidc_harness::jose::{ContentEnc, Encrypter, KeyAlg};
use oidc_harness::keys::{fixture_platform_key, fixture_signing_keys};
use oidc_harness::verifier::{KeySource, Verifier, VerifierConfig, VerifyContext};

struct Fixture {
    runtime: tokio::runtime::Runtime,
    verifier: Verifier,
    envelope: String,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let key = fixture_signing_keys().unwrap().remove(0);
        let platform = fixture_platform_key().unwrap();
        let config = VerifierConfig::new(Issuer::new("https://127.0.0.1:8443"), KeySource::PublicKey(key.key().clone()))
            .decryption_key(platform.clone());
        let signed = oidc_harness::jose::Signer::rs256(&key).unwrap().sign(&serde_json::json!({"sub": "1"})).unwrap();
        let envelope = Encrypter::new(&platform, KeyAlg::RsaOaep256, ContentEnc::A256Gcm).unwrap().encrypt(&signed).unwrap();
        Fixture { runtime: tokio::runtime::Builder::new_current_thread().build().unwrap(), verifier: Verifier::new(config).unwrap(), envelope }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    if data.len() < 2 {
        return;
    }
    let at = usize::from(u16::from_le_bytes([data[0], data.get(1).copied().unwrap_or(0)])) % f.envelope.len();
    let mut bytes = f.envelope.clone().into_bytes();
    bytes.splice(at..at, data[2..].iter().copied());
    let token = String::from_utf8_lossy(&bytes);
    // The claims have no iss and no exp: even an untouched envelope is refused, after opening.
    let _ = f.runtime.block_on(f.verifier.verify(&token, &VerifyContext::at(1_800_000_000)));
});
