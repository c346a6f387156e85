//! base64url without padding (RFC 4648 §5, RFC 7515 §2): how every segment of a compact token
//! is written. The one helper the signers, the malformation catalog and the fixture writer use.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// `bytes` as base64url without padding.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The bytes a canonical base64url segment spells, or `None`: padding, `+` or `/`,
/// whitespace and stray bits in the last character are all refused.
/// [`compact::b64url`](super::compact::b64url) accepts the same and says why it refuses.
pub fn decode(segment: &str) -> Option<Vec<u8>> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).ok()?;
    // Canonical only: the same bytes written differently are kept as written, elsewhere.
    (URL_SAFE_NO_PAD.encode(&bytes) == segment).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_what_is_not_canonical() {
        assert_eq!(encode(br#"{"a":1}"#), "eyJhIjoxfQ");
        assert_eq!(decode("eyJhIjoxfQ").as_deref(), Some(&br#"{"a":1}"#[..]));
        assert_eq!(decode(""), Some(Vec::new()));
        for bad in [
            "eyJhIjoxfQ==",
            "eyJh+joxfQ",
            "eyJh IjoxfQ",
            "eyJhIjoxfR",
            "e",
        ] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn decode_accepts_what_the_verifier_accepts(segment in "[A-Za-z0-9_+/= -]{0,12}") {
            let verifier = crate::jose::compact::b64url(&segment, "x").ok();
            proptest::prop_assert_eq!(decode(&segment), verifier);
        }

        #[test]
        fn decode_undoes_encode(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40)) {
            proptest::prop_assert_eq!(decode(&encode(&bytes)), Some(bytes));
        }
    }
}
