//! The malformation catalog: every deliberately broken token the harness can make, one
//! [`Mutation`] each, named after the catalog entries of `conformance-and-attacks.md` (§2).
//!
//! Dangerous things live here and nowhere else. A forgery starts from the header and claims an
//! honest provider would sign; each mutation edits them, changes how they are signed, or
//! changes the compact text afterwards. Unless a mutation says otherwise the result is re-signed
//! with the genuine key, so the rule under test is the only one that fails.

use hmac::{Hmac, Mac as _};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::Sha256;

use super::{b64url, rsa_sign, Encrypter, JoseError};
use crate::keys::SigningKey;

macro_rules! catalog {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $id:literal; )*) => {
        /// One deliberate malformation. The serde name is the one scenario files and
        /// `mint --mutate` use.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[non_exhaustive]
        pub enum Mutation {
            $( $(#[$doc])* #[serde(rename = $name)] $variant, )*
        }

        impl Mutation {
            /// Every mutation, in catalog order.
            pub const ALL: &'static [Mutation] = &[ $( Mutation::$variant, )* ];

            /// The name used in scenario files (`alg-none`).
            pub fn name(self) -> &'static str {
                match self { $( Mutation::$variant => $name, )* }
            }

            /// The catalog id (`H01`), or the OpenID RP test it reproduces.
            pub fn catalog_id(self) -> &'static str {
                match self { $( Mutation::$variant => $id, )* }
            }

            /// The mutation named `name`.
            pub fn from_name(name: &str) -> Option<Mutation> {
                Self::ALL.iter().copied().find(|m| m.name() == name)
            }
        }
    };
}

catalog! {
    /// Only two segments: `h.p`.
    TwoSegments = "two-segments", "S01";
    /// A fourth segment: `h.p.s.foo`.
    ExtraSegment = "extra-segment", "S02";
    /// The payload segment emptied: `h..s`.
    EmptyPayload = "empty-payload", "S04";
    /// The signature removed, the dot kept: `h.p.`.
    EmptySig = "empty-sig", "S05";
    /// The signature three bytes short.
    TruncatedSig = "truncated-sig", "S06";
    /// `=` padding appended to the header segment.
    B64Padding = "b64-padding", "S07";
    /// `-` and `_` written as `+` and `/`.
    B64StdAlphabet = "b64-std-alphabet", "S08";
    /// A newline inside the payload segment.
    B64Whitespace = "b64-whitespace", "S09";
    /// The signature's last character with non-zero spare bits (same bytes, other text).
    B64Noncanonical = "b64-noncanonical", "S10";
    /// A payload segment whose length is 1 mod 4.
    B64BadLength = "b64-bad-length", "S11";
    /// A header that is a JSON array.
    HeaderNotObject = "header-not-object", "S12";
    /// A payload that is a JSON array.
    PayloadNotObject = "payload-not-object", "S13";
    /// A payload that is not UTF-8.
    NonUtf8 = "non-utf8", "S14";
    /// `{"alg":"RS256","alg":"none"}`.
    DupHeaderMember = "dup-header-member", "S15";
    /// `{"alg":"RS256","\u0061lg":"none"}`: a duplicate spelled with an escape.
    DupEscapedMember = "dup-escaped-member", "S16";
    /// `"sub"` twice in the claims.
    DupClaim = "dup-claim", "S17";
    /// The JWS in JSON (flattened) serialization instead of compact.
    JsonSerialization = "json-serialization", "S18";
    /// A claim nested 10 000 arrays deep.
    DeepNesting = "deep-nesting", "S19";
    /// `exp: 1e400`.
    BigNumber = "big-number", "S20";
    /// `sub: true`, re-signed.
    TypeConfusion = "type-confusion", "S21";
    /// `{"alg":"none"}` with an empty signature.
    AlgNone = "alg-none", "H01";
    /// `{"alg":"nOnE"}`.
    AlgNoneCase = "alg-none-case", "H02";
    /// `alg: none` with the original RS256 signature kept.
    AlgNoneKeepSig = "alg-none-keep-sig", "H03";
    /// `alg: "RS256 "` (a trailing space).
    AlgOdd = "alg-odd", "H04";
    /// HS256, keyed with the provider's public key PEM (the classic confusion).
    HsKeyedWithPubkey = "hs-keyed-with-pubkey", "H05";
    /// A valid PS256 signature by the genuine key where RS256 is registered.
    AlgNotRegistered = "alg-not-registered", "H06";
    /// HS256 keyed with the client's own secret.
    HsWithOwnSecret = "hs-with-own-secret", "H07";
    /// `alg: RS1`.
    AlgUnsupported = "alg-unsupported", "H08";
    /// `"crit":["urn:x"],"urn:x":1`.
    CritUnknown = "crit-unknown", "H09";
    /// `"crit":[]`.
    CritMalformed = "crit-malformed", "H10";
    /// `{"b64":false,"crit":["b64"]}`.
    B64False = "b64-false", "H11";
    /// `zip: DEF` in a JWS header.
    ZipInJws = "zip-in-jws", "H12";
    /// `typ: at+jwt`.
    TypWrong = "typ-wrong", "H13";
    /// `cty: JWT` in the JWS header.
    CtyNested = "cty-nested", "H14";
    /// JSON serialization with `alg` only in the unprotected header.
    UnprotectedParams = "unprotected-params", "H15";
    /// `jku` naming a reachable attacker's JWKS that holds the attacker's key under the
    /// brand's kid, signed by the attacker's key.
    JkuSpoof = "jku-spoof", "K01";
    /// `x5u` naming an attacker's URL, signed by the attacker's key.
    X5uSpoof = "x5u-spoof", "K02";
    /// The attacker's key embedded as `jwk`, signed by it; the brand's kid kept.
    JwkEmbedded = "jwk-embedded", "K03";
    /// A self-signed `x5c` chain, signed by its key; the brand's kid kept.
    X5cEmbedded = "x5c-embedded", "K04";
    /// `kid: ../../../../../../dev/null`.
    KidTraversal = "kid-traversal", "K05";
    /// `kid: x' UNION SELECT '1';--`.
    KidSqli = "kid-sqli", "K06";
    /// `kid: |sleep 10`.
    KidCmd = "kid-cmd", "K07";
    /// `kid: ""`.
    KidBlank = "kid-blank", "K08";
    /// `kid: 1`.
    KidNonstring = "kid-nonstring", "K09";
    /// A random kid the provider never published, signed by the genuine key.
    KidUnknown = "kid-unknown", "K10";
    /// No kid at all.
    KidAbsent = "kid-absent", "K11";
    /// HS256 with an empty key.
    HmacBlank = "hmac-blank", "K17";
    /// Every signature byte XORed with 0x5A.
    SigBitflip = "sig-bitflip", "C01";
    /// The signature of another valid token.
    SigTransplant = "sig-transplant", "C02";
    /// ES256 with a signature of 64 zero bytes.
    EcdsaZero = "ecdsa-zero", "C03";
    /// ES256 with a DER-encoded signature.
    EcdsaDer = "ecdsa-der", "C05";
    /// ES256 with r = n (out of range).
    EcdsaRange = "ecdsa-range", "C04";
    /// ES256 with a 63-byte signature.
    EcdsaLen = "ecdsa-len", "C06";
    /// ES256 with a high-s signature: valid ECDSA, but the platform allows RS256 only.
    EcdsaHighS = "ecdsa-high-s", "C07";
    /// The RS256 signature one byte short.
    RsaSigLen = "rsa-sig-len", "C08";
    /// A PSS signature under an RS256 header.
    PssPkcs1Swap = "pss-pkcs1-swap", "C09";
    /// EdDSA with a non-canonical S.
    EddsaNoncanonical = "eddsa-noncanonical", "C10";
    /// HS256 MAC cut to 16 bytes.
    MacTruncated = "mac-truncated", "C11";
    /// A signature by a key the provider never published.
    SignWithUnpublishedKey = "sign-with-unpublished-key", "rp-id_token-bad-sig-rs256";
    /// An envelope around bare claims (not a signed JWT).
    JweUnsignedInner = "jwe-unsigned-inner", "E01";
    /// An envelope where no envelope was registered.
    JweShapeToJws = "jwe-shape-to-jws", "S03";
    /// An envelope header saying `RSA1_5`.
    JweAlgDowngrade = "jwe-alg-downgrade", "E02";
    /// An envelope header saying `dir`.
    JweDir = "jwe-dir", "E03";
    /// An envelope header saying `ECDH-ES` with a bogus `epk`.
    JweInvalidCurve = "jwe-invalid-curve", "E04";
    /// `ECDH-ES` with a P-384 `epk` carrying a private `d`, against an RSA platform key.
    JweEpkMismatch = "jwe-epk-mismatch", "E05";
    /// `RSA1_5` with a bad PKCS#1 padding (the padding-oracle setup).
    JweRsa15Oracle = "jwe-rsa1_5-oracle", "E06";
    /// The GCM tag cut to 8 bytes.
    JweGcmTagLen = "jwe-gcm-tag-len", "E07";
    /// A CBC-HS tag of the full HMAC length instead of the truncated one.
    JweCbcHsTag = "jwe-cbc-hs-tag", "E08";
    /// The IV cut to 8 bytes.
    JweIvLen = "jwe-iv-len", "E09";
    /// One byte of the protected header changed.
    JweAadTamper = "jwe-aad-tamper", "E10";
    /// `zip: DEF` in the envelope header.
    JweZip = "jwe-zip-bomb", "E11";
    /// `PBES2-HS256+A128KW` with `p2c: 2147483647`.
    JwePbes2P2c = "jwe-pbes2-p2c", "E12";
    /// An envelope inside an envelope.
    JweNested = "jwe-cty-mismatch", "E13";
    /// An unknown `crit` entry in the envelope header.
    JweCrit = "jwe-crit-zip-unknown", "E14";
    /// `exp` six minutes ago.
    ExpPast = "exp-past", "T01";
    /// `exp` removed.
    ExpMissing = "exp-missing", "T02";
    /// `exp` as a string.
    ExpString = "exp-string", "T03";
    /// `exp` with a fraction (legal).
    ExpFloat = "exp-float", "T04";
    /// `exp: null`.
    ExpNonnumber = "exp-nonnumber", "T05";
    /// `exp: 18446744073709551616`.
    ExpOverflow = "exp-overflow", "T06";
    /// `nbf` two minutes ahead.
    NbfFuture = "nbf-future", "T07";
    /// `iat` removed.
    IatMissing = "iat-missing", "T08";
    /// `iat` an hour ahead.
    IatFuture = "iat-future", "T09";
    /// `iat` thirty days ago, `exp` still ahead.
    IatStale = "iat-stale", "T10";
    /// `iat` as a string.
    IatType = "iat-type", "T11";
    /// `exp` before `iat`.
    ExpBeforeIat = "exp-before-iat", "T12";
    /// `exp` and `iat` in milliseconds, as the platform docs' example token has them.
    MillisecondTimestamps = "millisecond-timestamps", "liveperson-auth §7.1-5";
    /// `aud` = client id + "1".
    AudMismatch = "aud-mismatch", "A01";
    /// `aud` removed.
    AudMissing = "aud-missing", "A02";
    /// `aud: ["other"]`.
    AudArrayNomatch = "aud-array-nomatch", "A03";
    /// `aud: []`.
    AudArrayEmpty = "aud-array-empty", "A04";
    /// `aud: [client, "untrusted"]`, no azp.
    AudArrayUntrusted = "aud-array-untrusted", "A05";
    /// `aud: [client, "untrusted"]`, `azp: client`: azp names the client, and an untrusted
    /// audience is still listed (OIDC Core §3.1.3.7 item 3).
    AudArrayUntrustedAzp = "aud-array-untrusted-azp", "A05 (azp)";
    /// `aud: [client, "x"]`, `azp: "x"`.
    AudArrayAzpOther = "aud-array-azp-other", "A06";
    /// `azp: "other"` with a single audience.
    AzpMismatch = "azp-mismatch", "A07";
    /// `aud: [1]`.
    AudType = "aud-type", "A08";
    /// `aud` upper-cased.
    AudExactness = "aud-exactness", "A09";
    /// `aud: [client]` (legal).
    AudArraySingle = "aud-array-single", "A10";
    /// `iss` = issuer + "1".
    IssMismatch = "iss-mismatch", "I01";
    /// `iss` with a trailing slash.
    IssTrailingSlash = "iss-trailing-slash", "I02";
    /// `iss` upper-cased in its scheme.
    IssConfusable = "iss-confusable", "I03";
    /// `iss: 7`.
    IssType = "iss-type", "I04";
    /// `sub` removed.
    SubMissing = "sub-missing", "I06";
    /// `sub: ""`.
    SubInvalid = "sub-invalid", "I07";
    /// `sub` upper-cased: a different consumer, never the same one.
    SubConfusable = "sub-confusable", "I09";
    /// `nonce` + "1".
    NonceMismatch = "nonce-mismatch", "N01";
    /// `nonce` removed.
    NonceMissing = "nonce-missing", "N02";
    /// `nonce: 7`.
    NonceType = "nonce-type", "N05";
    /// `at_hash` + "1".
    AtHashBad = "at_hash-bad", "N06";
    /// `at_hash` removed: required when the authorization endpoint issues an access token with
    /// the ID token (OIDC Core §3.2.2.10, §3.3.2.11), optional from the token endpoint.
    AtHashMissing = "at_hash-missing", "N06 (missing)";
    /// `c_hash` + "1", in a hybrid response's ID token.
    CHashBad = "c_hash-bad", "N07";
    /// `c_hash` removed from a hybrid response's ID token (OIDC Core §3.3.2.11).
    CHashMissing = "c_hash-missing", "N07 (missing)";
    /// `at_hash` over the whole digest.
    HashConstruction = "hash-construction", "N08";
    /// `lp_sdes`: ctmrinfo's `lastPaymentDate` on 31 February, a date no calendar has.
    SdesImpossibleDate = "sdes-impossible-date", "liveperson-auth §3.3 (date)";
    /// `lp_sdes`: a member the schema does not have inside `personal.contacts[0]`.
    SdesNestedUnknown = "sdes-nested-unknown", "liveperson-auth §3.3 (nested)";
    /// A back-channel logout token instead of an ID token.
    LogoutTokenAsIdt = "logout-token-as-idt", "X01";
    /// An RFC 9068 access token instead of an ID token.
    AccessTokenAsIdt = "access-token-as-idt", "X02";
    /// A valid token for another client.
    OtherClientToken = "other-client-token", "X03";
    /// A different issuer signing with the trusted key.
    OtherIssuerSameKey = "other-issuer-same-key", "X04";
    /// 40 000 dots.
    ManyDots = "many-dots", "R01";
    /// A 5 000-entry `aud`: a token past the size limit.
    Oversize = "oversize", "R02";
}

/// What a forgery may sign with besides the genuine key.
#[derive(Debug)]
pub struct ForgeKeys<'a> {
    /// The provider's genuine, published signing key.
    pub genuine: &'a SigningKey,
    /// A key the provider never published (the "attacker").
    pub unpublished: &'a SigningKey,
    /// The client's secret (for HS256 keyed with it).
    pub client_secret: &'a str,
    /// The envelope the client asked for, if any.
    pub envelope: Option<&'a Encrypter>,
    /// Now, Unix seconds.
    pub now: i64,
}

impl ForgeKeys<'_> {
    /// HS256 keyed with the client's own secret.
    fn client_secret_mac(&self) -> Signing {
        Signing::Hs256(self.client_secret.as_bytes().to_vec())
    }
}

#[derive(Debug, Clone)]
enum Signing {
    Fixed(Vec<u8>),
    Genuine,
    Unpublished,
    Empty,
    Hs256(Vec<u8>),
    Pss,
    Zero(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    TwoSegments,
    ExtraSegment,
    EmptyPayload,
    TruncatedSig,
    Padding,
    StdAlphabet,
    Whitespace,
    Noncanonical,
    BadLength,
    Bitflip,
    Transplant,
    SigShort,
    MacTruncated,
    KeepSigAlgNone,
    JsonSerialization,
    UnprotectedParams,
    ManyDots,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Envelope {
    AsConfigured,
    Forced,
    TagLong,
    BareClaims,
    Header(&'static str),
    TagShort,
    IvShort,
    AadTamper,
    Nested,
}

/// The pieces of a token being forged.
#[derive(Debug)]
struct Forgery {
    header: Map<String, Value>,
    claims: Map<String, Value>,
    raw_header: Option<Vec<u8>>,
    raw_payload: Option<Vec<u8>>,
    signing: Signing,
    after: Vec<After>,
    envelope: Envelope,
}

fn set(map: &mut Map<String, Value>, key: &str, value: Value) {
    map.insert(key.to_owned(), value);
}

fn text(map: &Map<String, Value>, key: &str) -> String {
    map.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

impl Forgery {
    /// The token an honest provider would sign from `header` and `claims`.
    fn new(header: Map<String, Value>, claims: Map<String, Value>) -> Self {
        Forgery {
            header,
            claims,
            raw_header: None,
            raw_payload: None,
            signing: Signing::Genuine,
            after: Vec::new(),
            envelope: Envelope::AsConfigured,
        }
    }

    /// Says `alg` in the header and signs as `signing` does.
    fn sign_as(&mut self, alg: &str, signing: Signing) {
        set(&mut self.header, "alg", json!(alg));
        self.signing = signing;
    }

    /// A header of `alg` alone, and no signature.
    fn unsigned_as(&mut self, alg: &str) {
        self.header = Map::from_iter([("alg".to_owned(), json!(alg))]);
        self.signing = Signing::Empty;
    }

    /// Points the verifier at the attacker's key with header member `name` and signs with it.
    fn sign_as_attacker(&mut self, name: &str, value: Value) {
        set(&mut self.header, name, value);
        self.signing = Signing::Unpublished;
    }

    /// The claims serialized with one more member, `member` (`"name":value`), at the end.
    fn payload_with(&self, member: &str) -> Vec<u8> {
        let mut body = serde_json::to_string(&self.claims).unwrap_or_default();
        body.pop();
        body.push(',');
        body.push_str(member);
        body.push('}');
        body.into_bytes()
    }

    /// The claims serialized with the number of `exp` written as `literal`.
    fn payload_with_exp(&self, literal: &str) -> Vec<u8> {
        let body = serde_json::to_string(&self.claims).unwrap_or_default();
        let exp = self
            .claims
            .get("exp")
            .map(Value::to_string)
            .unwrap_or_default();
        body.replace(&format!("\"exp\":{exp}"), &format!("\"exp\":{literal}"))
            .into_bytes()
    }

    /// A header saying `alg` twice: RS256, then `none` under the name `spelling`.
    fn header_with_second_alg(&self, spelling: &str) -> Vec<u8> {
        let kid = text(&self.header, "kid");
        format!(r#"{{"alg":"RS256","kid":"{kid}","{spelling}":"none"}}"#).into_bytes()
    }
}

/// One step of [`Mutation::prepare`]: records the mutation in the forgery and says `true` if it
/// belongs to the step's catalog family, else leaves the forgery alone and says `false`.
type Family = fn(Mutation, &mut Forgery, &ForgeKeys<'_>) -> bool;

/// The catalog's families (§2 of `conformance-and-attacks.md`); every mutation is in exactly
/// one of them.
const FAMILIES: &[Family] = &[
    Mutation::break_structure,
    Mutation::edit_header,
    Mutation::misdirect_key,
    Mutation::break_signature,
    Mutation::break_envelope,
    Mutation::edit_times,
    Mutation::edit_parties,
    Mutation::break_binding,
    Mutation::break_lp_sdes,
    Mutation::confuse_token,
    Mutation::exhaust_resources,
];

impl Mutation {
    /// Records this mutation in `f`, through the one family it belongs to.
    fn prepare(self, f: &mut Forgery, keys: &ForgeKeys<'_>) {
        for family in FAMILIES {
            if family(self, f, keys) {
                return;
            }
        }
    }

    /// S: structure and encoding.
    fn break_structure(self, f: &mut Forgery, _: &ForgeKeys<'_>) -> bool {
        use Mutation as M;
        match self {
            M::TwoSegments => f.after.push(After::TwoSegments),
            M::ExtraSegment => f.after.push(After::ExtraSegment),
            M::EmptyPayload => f.after.push(After::EmptyPayload),
            M::EmptySig => f.signing = Signing::Empty,
            M::TruncatedSig => f.after.push(After::TruncatedSig),
            M::B64Padding => f.after.push(After::Padding),
            M::B64StdAlphabet => f.after.push(After::StdAlphabet),
            M::B64Whitespace => f.after.push(After::Whitespace),
            M::B64Noncanonical => f.after.push(After::Noncanonical),
            M::B64BadLength => f.after.push(After::BadLength),
            M::HeaderNotObject => f.raw_header = Some(br#"["RS256"]"#.to_vec()),
            M::PayloadNotObject => {
                f.raw_payload =
                    Some(serde_json::to_vec(&json!([f.claims.clone()])).unwrap_or_default())
            }
            M::NonUtf8 => f.raw_payload = Some(b"{\"sub\":\"\xff\xfe\"}".to_vec()),
            M::DupHeaderMember => f.raw_header = Some(f.header_with_second_alg("alg")),
            M::DupEscapedMember => f.raw_header = Some(f.header_with_second_alg(r"\u0061lg")),
            M::DupClaim => f.raw_payload = Some(f.payload_with(r#""sub":"mallory""#)),
            M::JsonSerialization => f.after.push(After::JsonSerialization),
            M::DeepNesting => {
                let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
                f.raw_payload = Some(f.payload_with(&format!(r#""deep":{deep}"#)));
            }
            M::BigNumber => f.raw_payload = Some(f.payload_with_exp("1e400")),
            M::TypeConfusion => set(&mut f.claims, "sub", json!(true)),
            _ => return false,
        }
        true
    }

    /// H: header and algorithm.
    fn edit_header(self, f: &mut Forgery, keys: &ForgeKeys<'_>) -> bool {
        use Mutation as M;
        let h = &mut f.header;
        match self {
            M::AlgNone => f.unsigned_as("none"),
            M::AlgNoneCase => f.unsigned_as("nOnE"),
            M::AlgNoneKeepSig => f.after.push(After::KeepSigAlgNone),
            M::AlgOdd => set(h, "alg", json!("RS256 ")),
            M::HsKeyedWithPubkey => f.sign_as(
                "HS256",
                Signing::Hs256(keys.genuine.key().public_pem().into_bytes()),
            ),
            M::AlgNotRegistered => f.sign_as("PS256", Signing::Pss),
            M::HsWithOwnSecret => f.sign_as("HS256", keys.client_secret_mac()),
            M::AlgUnsupported => set(h, "alg", json!("RS1")),
            M::CritUnknown => {
                set(h, "crit", json!(["urn:x"]));
                set(h, "urn:x", json!(1));
            }
            M::CritMalformed => set(h, "crit", json!([])),
            M::B64False => {
                set(h, "b64", json!(false));
                set(h, "crit", json!(["b64"]));
            }
            M::ZipInJws => set(h, "zip", json!("DEF")),
            M::TypWrong => set(h, "typ", json!("at+jwt")),
            M::CtyNested => set(h, "cty", json!("JWT")),
            M::UnprotectedParams => f.after.push(After::UnprotectedParams),
            _ => return false,
        }
        true
    }

    /// K: key selection and key sourcing.
    fn misdirect_key(self, f: &mut Forgery, keys: &ForgeKeys<'_>) -> bool {
        use Mutation as M;
        let h = &mut f.header;
        match self {
            // The brand's kid, and a jku the verifier could reach: the provider serves the
            // attacker's key under that kid there. Only a verifier that never follows jku
            // refuses the token.
            M::JkuSpoof => {
                let iss = text(&f.claims, "iss");
                f.sign_as_attacker("jku", json!(format!("{iss}/_harness/attacker/jwks.json")));
            }
            M::X5uSpoof => f.sign_as_attacker("x5u", json!("https://attacker.example/cert.pem")),
            // The brand's kid stays: the published key is found, and only a verifier that
            // trusted the embedded key would accept the attacker's signature.
            M::JwkEmbedded => f.sign_as_attacker(
                "jwk",
                serde_json::to_value(keys.unpublished.key().jwk("sig", "RS256"))
                    .unwrap_or_default(),
            ),
            M::X5cEmbedded => {
                let cert = keys
                    .unpublished
                    .cert_pem()
                    .lines()
                    .filter(|l| !l.starts_with("-----"))
                    .collect::<String>();
                f.sign_as_attacker("x5c", json!([cert]));
            }
            M::KidTraversal => set(h, "kid", json!("../../../../../../dev/null")),
            M::KidSqli => set(h, "kid", json!("x' UNION SELECT '1';--")),
            M::KidCmd => set(h, "kid", json!("|sleep 10")),
            M::KidBlank => set(h, "kid", json!("")),
            M::KidNonstring => set(h, "kid", json!(1)),
            M::KidUnknown => set(
                h,
                "kid",
                json!(hex::encode(Sha256Digest::of(&keys.now.to_string()))[..40].to_owned()),
            ),
            M::KidAbsent => {
                h.remove("kid");
            }
            M::HmacBlank => f.sign_as("HS256", Signing::Hs256(Vec::new())),
            _ => return false,
        }
        true
    }

    /// C: signature mathematics, and the OpenID RP test's signature by an unpublished key.
    fn break_signature(self, f: &mut Forgery, keys: &ForgeKeys<'_>) -> bool {
        use Mutation as M;
        match self {
            M::SigBitflip => f.after.push(After::Bitflip),
            M::SigTransplant => f.after.push(After::Transplant),
            M::EcdsaZero => f.sign_as("ES256", Signing::Zero(64)),
            M::EcdsaDer => f.sign_as("ES256", Signing::Zero(71)),
            M::EcdsaRange => f.sign_as("ES256", Signing::Fixed(P256_ORDER_R_AND_ONE_S.to_vec())),
            M::EcdsaLen => f.sign_as("ES256", Signing::Zero(63)),
            M::EcdsaHighS => f.sign_as("ES256", Signing::Fixed([[1u8; 32], [0xff; 32]].concat())),
            M::EddsaNoncanonical => f.sign_as("EdDSA", Signing::Fixed(vec![0xff; 64])),
            M::RsaSigLen => f.after.push(After::SigShort),
            M::PssPkcs1Swap => f.signing = Signing::Pss,
            M::MacTruncated => {
                f.sign_as("HS256", keys.client_secret_mac());
                f.after.push(After::MacTruncated);
            }
            M::SignWithUnpublishedKey => f.signing = Signing::Unpublished,
            _ => return false,
        }
        true
    }

    /// E: the JWE envelope, and an envelope where none was registered (S03).
    fn break_envelope(self, f: &mut Forgery, _: &ForgeKeys<'_>) -> bool {
        use Mutation as M;
        f.envelope = match self {
            M::JweUnsignedInner => Envelope::BareClaims,
            M::JweAlgDowngrade | M::JweRsa15Oracle => {
                Envelope::Header(r#"{"alg":"RSA1_5","enc":"A128CBC-HS256"}"#)
            }
            M::JweDir => Envelope::Header(r#"{"alg":"dir","enc":"A256GCM"}"#),
            M::JweInvalidCurve => Envelope::Header(
                r#"{"alg":"ECDH-ES","enc":"A256GCM","epk":{"kty":"EC","crv":"P-256","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}"#,
            ),
            M::JweEpkMismatch => Envelope::Header(
                r#"{"alg":"ECDH-ES","enc":"A256GCM","epk":{"kty":"EC","crv":"P-384","x":"AAAA","y":"AAAA","d":"AAAA"}}"#,
            ),
            M::JweCbcHsTag => Envelope::TagLong,
            M::JweShapeToJws => Envelope::Forced,
            M::JweGcmTagLen => Envelope::TagShort,
            M::JweIvLen => Envelope::IvShort,
            M::JweAadTamper => Envelope::AadTamper,
            M::JweZip => Envelope::Header(r#"{"alg":"RSA-OAEP-256","enc":"A256GCM","zip":"DEF"}"#),
            M::JwePbes2P2c => Envelope::Header(
                r#"{"alg":"PBES2-HS256+A128KW","enc":"A128CBC-HS256","p2s":"AAAAAAAAAAA","p2c":2147483647}"#,
            ),
            M::JweNested => Envelope::Nested,
            M::JweCrit => Envelope::Header(
                r#"{"alg":"RSA-OAEP-256","enc":"A256GCM","crit":["urn:x"],"urn:x":1}"#,
            ),
            _ => return false,
        };
        true
    }

    /// T: time claims, and the platform docs' millisecond timestamps.
    fn edit_times(self, f: &mut Forgery, keys: &ForgeKeys<'_>) -> bool {
        use Mutation as M;
        let now = keys.now;
        let c = &mut f.claims;
        match self {
            M::ExpPast => set(c, "exp", json!(now - 360)),
            M::ExpMissing => {
                c.remove("exp");
            }
            M::ExpString => set(c, "exp", json!((now + 3600).to_string())),
            M::ExpFloat => set(c, "exp", json!(now as f64 + 3600.5)),
            M::ExpNonnumber => set(c, "exp", Value::Null),
            M::ExpOverflow => f.raw_payload = Some(f.payload_with_exp("18446744073709551616")),
            M::NbfFuture => set(c, "nbf", json!(now + 120)),
            M::IatMissing => {
                c.remove("iat");
            }
            M::IatFuture => set(c, "iat", json!(now + 3600)),
            M::IatStale => set(c, "iat", json!(now - 30 * 86_400)),
            M::IatType => set(c, "iat", json!(now.to_string())),
            M::ExpBeforeIat => {
                set(c, "iat", json!(now + 50));
                set(c, "exp", json!(now + 30));
            }
            M::MillisecondTimestamps => {
                let exp = c.get("exp").and_then(Value::as_i64).unwrap_or(now + 3600);
                let iat = c.get("iat").and_then(Value::as_i64).unwrap_or(now);
                set(c, "exp", json!(exp * 1000));
                set(c, "iat", json!(iat * 1000));
            }
            _ => return false,
        }
        true
    }

    /// A and I: who the token is for (aud, azp), from (iss) and about (sub).
    fn edit_parties(self, f: &mut Forgery, _: &ForgeKeys<'_>) -> bool {
        use Mutation as M;
        let c = &mut f.claims;
        let (aud, iss) = (text(c, "aud"), text(c, "iss"));
        match self {
            M::AudMismatch => set(c, "aud", json!(format!("{aud}1"))),
            M::AudMissing => {
                c.remove("aud");
            }
            M::AudArrayNomatch => set(c, "aud", json!(["other"])),
            M::AudArrayEmpty => set(c, "aud", json!([])),
            M::AudArrayUntrusted => {
                set(c, "aud", json!([aud, "untrusted"]));
                c.remove("azp");
            }
            M::AudArrayUntrustedAzp => {
                set(c, "aud", json!([aud, "untrusted"]));
                set(c, "azp", json!(aud));
            }
            M::AudArrayAzpOther => {
                set(c, "aud", json!([aud, "x"]));
                set(c, "azp", json!("x"));
            }
            M::AzpMismatch => set(c, "azp", json!("other")),
            M::AudType => set(c, "aud", json!([1])),
            M::AudExactness => set(c, "aud", json!(aud.to_uppercase())),
            M::AudArraySingle => set(c, "aud", json!([aud])),
            M::IssMismatch => set(c, "iss", json!(format!("{iss}1"))),
            M::IssTrailingSlash => set(c, "iss", json!(format!("{iss}/"))),
            M::IssConfusable => set(c, "iss", json!(iss.replacen("https://", "HTTPS://", 1))),
            M::IssType => set(c, "iss", json!(7)),
            M::SubMissing => {
                c.remove("sub");
            }
            M::SubInvalid => set(c, "sub", json!("")),
            M::SubConfusable => set(c, "sub", json!(format!("{}X", text(c, "sub")))),
            _ => return false,
        }
        true
    }

    /// N: nonce and hash binding.
    fn break_binding(self, f: &mut Forgery, _: &ForgeKeys<'_>) -> bool {
        use Mutation as M;
        let c = &mut f.claims;
        match self {
            M::NonceMismatch => set(c, "nonce", json!(format!("{}1", text(c, "nonce")))),
            M::NonceMissing => {
                c.remove("nonce");
            }
            M::NonceType => set(c, "nonce", json!(7)),
            M::AtHashBad => set(c, "at_hash", json!(format!("{}1", text(c, "at_hash")))),
            M::AtHashMissing => {
                c.remove("at_hash");
            }
            // Only an ID token issued with a code has a c_hash to break.
            M::CHashBad => {
                if c.contains_key("c_hash") {
                    set(c, "c_hash", json!(format!("{}1", text(c, "c_hash"))));
                }
            }
            M::CHashMissing => {
                c.remove("c_hash");
            }
            M::HashConstruction => {
                let at = text(c, "at_hash");
                set(c, "at_hash", json!(b64url::encode(Sha256Digest::of(&at))));
            }
            _ => return false,
        }
        true
    }

    /// The platform's `lp_sdes` claim (liveperson-auth §3.3).
    fn break_lp_sdes(self, f: &mut Forgery, _: &ForgeKeys<'_>) -> bool {
        use Mutation as M;
        match self {
            M::SdesImpossibleDate => edit_sdes(&mut f.claims, "ctmrinfo", "info", |info| {
                info["lastPaymentDate"] = json!({"day": 31, "month": 2, "year": 2026});
            }),
            M::SdesNestedUnknown => edit_sdes(&mut f.claims, "personal", "personal", |personal| {
                if let Some(contact) = personal.get_mut("contacts").and_then(|c| c.get_mut(0)) {
                    contact["fax"] = json!("+44 1865 270009");
                }
            }),
            _ => return false,
        }
        true
    }

    /// X: another kind of token, or a token for another client or issuer.
    fn confuse_token(self, f: &mut Forgery, _: &ForgeKeys<'_>) -> bool {
        use Mutation as M;
        let (h, c) = (&mut f.header, &mut f.claims);
        match self {
            M::LogoutTokenAsIdt => {
                set(h, "typ", json!("logout+jwt"));
                c.remove("nonce");
                set(
                    c,
                    "events",
                    json!({"http://schemas.openid.net/event/backchannel-logout": {}}),
                );
            }
            M::AccessTokenAsIdt => {
                let aud = text(c, "aud");
                set(h, "typ", json!("at+jwt"));
                set(c, "client_id", json!(aud));
                set(c, "scope", json!("openid"));
            }
            M::OtherClientToken => {
                set(c, "aud", json!("another-brand-client"));
                set(c, "azp", json!("another-brand-client"));
            }
            M::OtherIssuerSameKey => set(c, "iss", json!("https://other-issuer.example")),
            _ => return false,
        }
        true
    }

    /// R: resource limits.
    fn exhaust_resources(self, f: &mut Forgery, _: &ForgeKeys<'_>) -> bool {
        use Mutation as M;
        match self {
            M::ManyDots => f.after.push(After::ManyDots),
            M::Oversize => set(
                &mut f.claims,
                "aud",
                Value::Array((0..5_000).map(|i| json!(format!("a{i}"))).collect()),
            ),
            _ => return false,
        }
        true
    }
}

/// Applies `edit` to the `body` member of every `lp_sdes` entry of type `kind`.
fn edit_sdes(claims: &mut Map<String, Value>, kind: &str, body: &str, edit: impl Fn(&mut Value)) {
    let sdes = claims.get_mut("lp_sdes").and_then(Value::as_array_mut);
    for sde in sdes.into_iter().flatten() {
        if sde.get("type").and_then(Value::as_str) != Some(kind) {
            continue;
        }
        if let Some(body) = sde.get_mut(body) {
            edit(body);
        }
    }
}

/// An ES256 signature whose r is the P-256 group order n and whose s is 1.
const P256_ORDER_R_AND_ONE_S: [u8; 64] = {
    let n: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63,
        0x25, 0x51,
    ];
    let mut out = [0u8; 64];
    let mut i = 0;
    while i < 32 {
        out[i] = n[i];
        i += 1;
    }
    out[63] = 1;
    out
};

/// SHA-256, as bytes.
struct Sha256Digest;

impl Sha256Digest {
    fn of(text: &str) -> Vec<u8> {
        use sha2::Digest as _;
        Sha256::digest(text.as_bytes()).to_vec()
    }
}

fn hs256(key: &[u8], input: &[u8]) -> Result<Vec<u8>, JoseError> {
    // HMAC takes keys of any length, including the empty and short keys these forgeries need.
    let mut mac = <Hmac<Sha256>>::new_from_slice(key).map_err(|e| JoseError::Key(e.to_string()))?;
    mac.update(input);
    Ok(mac.finalize().into_bytes().to_vec())
}

/// Makes the token an honest provider would sign from `header` and `claims`, then breaks it as
/// `mutations` say, then wraps it in the client's envelope (or a broken one).
pub fn forge(
    mutations: &[Mutation],
    header: Map<String, Value>,
    claims: Map<String, Value>,
    keys: &ForgeKeys<'_>,
) -> Result<String, JoseError> {
    let mut f = Forgery::new(header, claims);
    for mutation in mutations {
        mutation.prepare(&mut f, keys);
    }
    let header_bytes = match &f.raw_header {
        Some(raw) => raw.clone(),
        None => serde_json::to_vec(&f.header)?,
    };
    let payload_bytes = match &f.raw_payload {
        Some(raw) => raw.clone(),
        None => serde_json::to_vec(&f.claims)?,
    };
    let input = format!(
        "{}.{}",
        b64url::encode(&header_bytes),
        b64url::encode(&payload_bytes)
    );
    let signature = match &f.signing {
        Signing::Genuine => rsa_sign(keys.genuine, "RS256", input.as_bytes())?,
        Signing::Unpublished => rsa_sign(keys.unpublished, "RS256", input.as_bytes())?,
        Signing::Pss => rsa_sign(keys.genuine, "PS256", input.as_bytes())?,
        Signing::Empty => Vec::new(),
        Signing::Hs256(key) => hs256(key, input.as_bytes())?,
        Signing::Zero(len) => vec![0; *len],
        Signing::Fixed(bytes) => bytes.clone(),
    };
    let mut token = format!("{input}.{}", b64url::encode(&signature));
    for after in &f.after {
        token = apply_after(*after, &token, &f, keys)?;
    }
    envelope(&f, token, &serde_json::to_string(&f.claims)?, keys)
}

fn apply_after(
    after: After,
    token: &str,
    f: &Forgery,
    keys: &ForgeKeys<'_>,
) -> Result<String, JoseError> {
    let parts: Vec<&str> = token.split('.').collect();
    let (h, p, s) = (
        parts[0],
        parts.get(1).copied().unwrap_or(""),
        parts.get(2).copied().unwrap_or(""),
    );
    Ok(match after {
        After::TwoSegments => format!("{h}.{p}"),
        After::ExtraSegment => format!("{token}.foo"),
        After::EmptyPayload => format!("{h}..{s}"),
        After::TruncatedSig => {
            // Three bytes short, encoded canonically: the outcome never depends on which
            // spare bits the shortened text happens to carry.
            let sig = b64url::decode(s).unwrap_or_default();
            format!("{h}.{p}.{}", b64url::encode(&sig[..sig.len().saturating_sub(3)]))
        }
        After::Padding => format!("{h}==.{p}.{s}"),
        After::StdAlphabet => {
            // Force at least one character that differs between the alphabets.
            let std = |x: &str| x.replace('-', "+").replace('_', "/");
            let sig = if s.contains(['-', '_']) { std(s) } else { format!("{}+", &s[..s.len() - 1]) };
            format!("{}.{}.{sig}", std(h), std(p))
        }
        After::Whitespace => format!("{h}.{}\n{}.{s}", &p[..p.len() / 2], &p[p.len() / 2..]),
        After::Noncanonical => {
            // 256 bytes of RSA-2048 signature end in 2 spare bits; set them.
            let mut sig = s.to_owned();
            if let Some(last) = sig.pop() {
                let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
                let index = alphabet.iter().position(|c| *c as char == last).unwrap_or(0);
                sig.push(alphabet[(index | 0b11) % 64] as char);
            }
            format!("{h}.{p}.{sig}")
        }
        After::BadLength => {
            // A length of 1 mod 4 is never base64, whatever the payload's own length.
            let mut payload = p.to_owned();
            payload.push('A');
            while payload.len() % 4 != 1 {
                payload.push('A');
            }
            format!("{h}.{payload}.{s}")
        }
        After::Bitflip => {
            let flipped: Vec<u8> = b64url::decode(s).unwrap_or_default().iter().map(|b| b ^ 0x5A).collect();
            format!("{h}.{p}.{}", b64url::encode(&flipped))
        }
        After::Transplant => {
            let mut other = f.claims.clone();
            other.insert("sub".into(), json!("someone-else"));
            let other_input = format!("{h}.{}", b64url::encode(&serde_json::to_vec(&other)?));
            format!("{h}.{p}.{}", b64url::encode(&rsa_sign(keys.genuine, "RS256", other_input.as_bytes())?))
        }
        After::SigShort => {
            let sig = b64url::decode(s).unwrap_or_default();
            format!("{h}.{p}.{}", b64url::encode(&sig[1..]))
        }
        After::MacTruncated => {
            let sig = b64url::decode(s).unwrap_or_default();
            format!("{h}.{p}.{}", b64url::encode(&sig[..16.min(sig.len())]))
        }
        After::KeepSigAlgNone => format!("{}.{p}.{s}", b64url::encode(br#"{"alg":"none"}"#)),
        After::JsonSerialization => json!({"protected": h, "payload": p, "signature": s}).to_string(),
        After::UnprotectedParams => {
            json!({"protected": b64url::encode(b"{}"), "header": {"alg": "RS256"}, "payload": p, "signature": s}).to_string()
        }
        After::ManyDots => ".".repeat(40_000),
    })
}

fn envelope(
    f: &Forgery,
    signed: String,
    claims_json: &str,
    keys: &ForgeKeys<'_>,
) -> Result<String, JoseError> {
    let fake = |header: &str| {
        let seg = b64url::encode([7u8; 16]);
        format!(
            "{}.{seg}.{seg}.{seg}.{seg}",
            b64url::encode(header.as_bytes())
        )
    };
    let forced;
    let encrypter = match (keys.envelope, f.envelope) {
        (Some(encrypter), _) => encrypter,
        (None, Envelope::Forced) => {
            let platform =
                crate::keys::fixture_platform_key().map_err(|e| JoseError::Key(e.to_string()))?;
            forced = Encrypter::new(
                &platform,
                super::KeyAlg::RsaOaep256,
                super::ContentEnc::A256Gcm,
            )?;
            &forced
        }
        (None, Envelope::Header(header)) => return Ok(fake(header)),
        (None, _) => return Ok(signed),
    };
    let segments = |jwe: &str| jwe.split('.').map(str::to_owned).collect::<Vec<_>>();
    Ok(match f.envelope {
        Envelope::AsConfigured | Envelope::Forced => encrypter.encrypt(&signed)?,
        Envelope::TagLong => {
            let mut parts = segments(&encrypter.encrypt(&signed)?);
            let mut tag = b64url::decode(&parts[4]).unwrap_or_default();
            tag.extend_from_slice(&[0u8; 16]);
            parts[4] = b64url::encode(&tag);
            parts.join(".")
        }
        Envelope::BareClaims => encrypter.encrypt(claims_json)?,
        Envelope::Header(header) => fake(header),
        Envelope::Nested => encrypter.encrypt(&encrypter.encrypt(&signed)?)?,
        Envelope::TagShort => {
            let mut parts = segments(&encrypter.encrypt(&signed)?);
            let tag = b64url::decode(&parts[4]).unwrap_or_default();
            parts[4] = b64url::encode(&tag[..8.min(tag.len())]);
            parts.join(".")
        }
        Envelope::IvShort => {
            let mut parts = segments(&encrypter.encrypt(&signed)?);
            let iv = b64url::decode(&parts[2]).unwrap_or_default();
            parts[2] = b64url::encode(&iv[..8.min(iv.len())]);
            parts.join(".")
        }
        Envelope::AadTamper => {
            let mut parts = segments(&encrypter.encrypt(&signed)?);
            let mut header: Value =
                serde_json::from_slice(&b64url::decode(&parts[0]).unwrap_or_default())?;
            header["kid"] = json!(format!("{}x", header["kid"].as_str().unwrap_or_default()));
            parts[0] = b64url::encode(&serde_json::to_vec(&header)?);
            parts.join(".")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ids_are_unique_and_round_trip() {
        let mut names = std::collections::HashSet::new();
        for m in Mutation::ALL {
            assert!(names.insert(m.name()), "{} twice", m.name());
            assert_eq!(Mutation::from_name(m.name()), Some(*m));
            assert_eq!(serde_json::to_value(m).unwrap(), m.name());
        }
        assert!(Mutation::ALL.len() >= 100, "{}", Mutation::ALL.len());
    }

    #[test]
    fn every_mutation_is_in_exactly_one_family() {
        let genuine = crate::keys::fixture_signing_keys().unwrap().remove(0);
        let unpublished = crate::keys::fixture_attacker_key().unwrap();
        let keys = ForgeKeys {
            genuine: &genuine,
            unpublished: &unpublished,
            client_secret: "secret",
            envelope: None,
            now: 1_700_000_000,
        };
        for m in Mutation::ALL {
            let families: Vec<usize> = (0..FAMILIES.len())
                .filter(|i| FAMILIES[*i](*m, &mut Forgery::new(Map::new(), Map::new()), &keys))
                .collect();
            assert_eq!(
                families.len(),
                1,
                "{} is in families {families:?}",
                m.name()
            );
        }
    }
}
