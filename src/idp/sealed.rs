//! Tokens that carry what the provider needs to know about them, under a MAC, so that serving
//! a flow leaves nothing behind: memory stays flat however many flows are served.
//!
//! **Access tokens**: `ya29.a0` + base64url(grant, expiry, MAC). Revocation keeps a small set
//! of revoked grant ids until the tokens would have expired anyway.
//!
//! **Codes**: `4/0Ab` + 68 base64url characters (73 in all, Google's length) of 10 random
//! bytes, the expiry, the grant id and a MAC. A pending code still lives in the code store
//! (its redirect URI, nonce and PKCE challenge); the code itself tells a replay (genuine,
//! unexpired, no longer pending) from a made-up code, and names the grant to revoke, without
//! a store of spent codes.
//!
//! Access token layout (before base64url): 12 random bytes (two tokens of one grant issued in
//! the same second still differ, as Google's do), version `1`, `exp` (i64, big-endian), scopes
//! (bit 0 `openid`, 1 `email`, 2 `profile`), persona (u16 index into the configured personas,
//! or `u16::MAX` when the person edited their claims at the login page and the grant is kept
//! aside), the grant id (u8 length, bytes), the client id (u8 length, bytes). Both kinds end
//! with HMAC-SHA-256 over all of that, cut to 16 bytes, under a key made at start-up.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

use super::scope::Scopes;

const PREFIX: &str = "ya29.a0";
const VERSION: u8 = 1;
const MAC_LEN: usize = 16;
const RANDOM_LEN: usize = 12;
/// The persona slot of a grant whose persona was edited (kept in a store by grant id).
pub(crate) const EDITED: u16 = u16::MAX;

const CODE_PREFIX: &str = "4/0Ab";
const CODE_RANDOM_LEN: usize = 10;
const CODE_GRANT_LEN: usize = 16;

/// What a code says, once its MAC checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CodeClaims {
    pub(crate) expires_at: i64,
    pub(crate) grant_id: String,
}

/// Issues a code for `claims`: 51 bytes before base64url, whatever the grant id's length (up
/// to 16 bytes are kept).
pub(crate) fn issue_code(key: &[u8; 32], claims: &CodeClaims) -> String {
    let mut data = random_start(CODE_RANDOM_LEN, 41);
    data.extend_from_slice(&claims.expires_at.to_be_bytes());
    let grant = &claims.grant_id.as_bytes()[..claims.grant_id.len().min(CODE_GRANT_LEN)];
    data.push(grant.len() as u8);
    data.extend_from_slice(grant);
    data.resize(data.len() + CODE_GRANT_LEN - grant.len(), 0);
    seal(key, CODE_PREFIX, data)
}

/// Reads a code this provider issued; `None` for anything else.
pub(crate) fn read_code(key: &[u8; 32], code: &str) -> Option<CodeClaims> {
    let data = open(key, CODE_PREFIX, code)?;
    let (_random, rest) = data.split_first_chunk::<CODE_RANDOM_LEN>()?;
    let (exp, rest) = rest.split_first_chunk::<8>()?;
    let (&len, rest) = rest.split_first()?;
    let grant = rest.get(..usize::from(len).min(CODE_GRANT_LEN))?;
    Some(CodeClaims {
        expires_at: i64::from_be_bytes(*exp),
        grant_id: String::from_utf8(grant.to_vec()).ok()?,
    })
}

/// What an access token says, once its MAC checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Claims {
    pub(crate) expires_at: i64,
    pub(crate) scopes: Scopes,
    pub(crate) persona: u16,
    pub(crate) grant_id: String,
    pub(crate) client_id: String,
}

fn mac(key: &[u8; 32], data: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length: this cannot fail.
    let mut mac = <Hmac<Sha256>>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac
}

/// `random` fresh random bytes, to start a token's data with (the thread's CSPRNG, as
/// [`crate::store::random_token`] explains).
fn random_start(random: usize, capacity: usize) -> Vec<u8> {
    let mut data = vec![0u8; random];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut data);
    data.reserve(capacity);
    data
}

/// Appends the MAC of `data` and returns `prefix` + base64url of it all.
fn seal(key: &[u8; 32], prefix: &str, mut data: Vec<u8>) -> String {
    let tag = mac(key, &data).finalize().into_bytes();
    data.extend_from_slice(&tag[..MAC_LEN]);
    let mut token = String::with_capacity(prefix.len() + data.len().div_ceil(3) * 4);
    token.push_str(prefix);
    URL_SAFE_NO_PAD.encode_string(&data, &mut token);
    token
}

/// The data of a token `seal` made under `key` with `prefix`; `None` for anything else. The
/// MAC is compared in constant time.
fn open(key: &[u8; 32], prefix: &str, token: &str) -> Option<Vec<u8>> {
    let mut data = URL_SAFE_NO_PAD.decode(token.strip_prefix(prefix)?).ok()?;
    let split = data.len().checked_sub(MAC_LEN)?;
    mac(key, &data[..split])
        .verify_truncated_left(&data[split..])
        .ok()?;
    data.truncate(split);
    Some(data)
}

fn scope_bits(scopes: Scopes) -> u8 {
    u8::from(scopes.openid) | u8::from(scopes.email) << 1 | u8::from(scopes.profile) << 2
}

/// Encodes and MACs `claims`.
pub(crate) fn issue(key: &[u8; 32], claims: &Claims) -> String {
    let mut data = random_start(
        RANDOM_LEN,
        28 + claims.grant_id.len() + claims.client_id.len(),
    );
    data.push(VERSION);
    data.extend_from_slice(&claims.expires_at.to_be_bytes());
    data.push(scope_bits(claims.scopes));
    data.extend_from_slice(&claims.persona.to_be_bytes());
    for text in [&claims.grant_id, &claims.client_id] {
        // Grant ids are 16 characters and client ids come from configuration; longer ones
        // are cut rather than refused (the MAC still covers what was written).
        let bytes = &text.as_bytes()[..text.len().min(255)];
        data.push(bytes.len() as u8);
        data.extend_from_slice(bytes);
    }
    seal(key, PREFIX, data)
}

/// Reads a token this provider issued; `None` for anything else (forged, altered, foreign,
/// truncated). The MAC is compared in constant time. Expiry is the caller's check.
pub(crate) fn read(key: &[u8; 32], token: &str) -> Option<Claims> {
    let data = open(key, PREFIX, token)?;
    let (_random, rest) = data.split_first_chunk::<RANDOM_LEN>()?;
    let (&version, rest) = rest.split_first()?;
    if version != VERSION {
        return None;
    }
    let (exp, rest) = rest.split_first_chunk::<8>()?;
    let (&bits, rest) = rest.split_first()?;
    let (persona, mut rest) = rest.split_first_chunk::<2>()?;
    let mut text = || {
        let (&len, tail) = rest.split_first()?;
        let (bytes, tail) = tail.split_at_checked(usize::from(len))?;
        rest = tail;
        String::from_utf8(bytes.to_vec()).ok()
    };
    let grant_id = text()?;
    let client_id = text()?;
    Some(Claims {
        expires_at: i64::from_be_bytes(*exp),
        scopes: Scopes {
            openid: bits & 1 != 0,
            email: bits & 2 != 0,
            profile: bits & 4 != 0,
        },
        persona: u16::from_be_bytes(*persona),
        grant_id,
        client_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            expires_at: 1_800_003_599,
            scopes: Scopes {
                openid: true,
                email: false,
                profile: true,
            },
            persona: 2,
            grant_id: "AbCdEfGhIjKlMnOp".into(),
            client_id: "demo-client".into(),
        }
    }

    #[test]
    fn round_trip_and_shape() {
        let key = [7u8; 32];
        let token = issue(&key, &claims());
        assert!(token.starts_with("ya29.a0"), "{token}");
        assert!(token[7..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(read(&key, &token), Some(claims()));
        assert_ne!(issue(&key, &claims()), token, "each token is new");
    }

    #[test]
    fn codes_have_googles_shape_and_name_their_grant() {
        let key = [9u8; 32];
        let claims = CodeClaims {
            expires_at: 1_800_000_600,
            grant_id: "AbCdEfGhIjKlMnOp".into(),
        };
        let code = issue_code(&key, &claims);
        assert!(code.starts_with("4/0A") && code.len() == 73, "{code}");
        assert_eq!(read_code(&key, &code), Some(claims.clone()));
        assert_ne!(issue_code(&key, &claims), code);
        assert_eq!(read_code(&[1u8; 32], &code), None);
        let mut altered = code.into_bytes();
        altered[40] = if altered[40] == b'A' { b'B' } else { b'A' };
        assert_eq!(read_code(&key, &String::from_utf8(altered).unwrap()), None);
        assert_eq!(read_code(&key, "4/0Ax"), None);
        let short = CodeClaims {
            expires_at: 1,
            grant_id: "minted".into(),
        };
        let code = issue_code(&key, &short);
        assert_eq!(code.len(), 73);
        assert_eq!(read_code(&key, &code), Some(short));
    }

    #[test]
    fn another_key_or_any_changed_character_is_refused() {
        let key = [7u8; 32];
        let token = issue(&key, &claims());
        assert_eq!(read(&[8u8; 32], &token), None);
        for i in 7..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(bytes).unwrap();
            if altered != token {
                assert_eq!(read(&key, &altered), None, "position {i}");
            }
        }
        for cut in [0, 7, 10, token.len() - 1] {
            assert_eq!(read(&key, &token[..cut]), None, "cut at {cut}");
        }
        assert_eq!(read(&key, "ya29.bogus"), None);
        assert_eq!(read(&key, ""), None);
    }
}
