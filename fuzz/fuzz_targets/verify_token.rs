//! Arbitrary bytes as a token: the verifier returns a reason, never panics, never authenticates.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use oidc_harness::claims::Issuer;
use oidc_harness::keys::{fixture_platform_key, fixture_signing_keys};
use oidc_harness::verifier::{KeySource, Verifier, VerifierConfig, VerifyContext};

fn verifier() -> &'static (tokio::runtime::Runtime, Verifier) {
    static V: OnceLock<(tokio::runtime::Runtime, Verifier)> = OnceLock::new();
    V.get_or_init(|| {
        let key = fixture_signing_keys().unwrap().remove(0);
        let config = VerifierConfig::new(Issuer::new("https://127.0.0.1:8443"), KeySource::PublicKey(key.key().clone()))
            .decryption_key(fixture_platform_key().unwrap());
        (tokio::runtime::Builder::new_current_thread().build().unwrap(), Verifier::new(config).unwrap())
    })
}

fuzz_target!(|data: &[u8]| {
    let (runtime, verifier) = verifier();
    let token = String::from_utf8_lossy(data);
    let verdict = runtime.block_on(verifier.verify(&token, &VerifyContext::at(1_800_000_000)));
    assert!(verdict.is_err(), "random bytes authenticated");
});
