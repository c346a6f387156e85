//! A real token turned into a scenario file that reproduces it without the brand's key or its
//! customer's data (`oidc-harness fixture`, `check --save-fixtures`).
//!
//! The token's JSON text is edited in place ([`crate::jose::json_text`]): member order, escapes,
//! number spellings, duplicates and whitespace stay as the provider wrote them. What changes:
//! personal values become consistent fakes of the same type, length and character class; times
//! move by one offset to the scenario's clock; the issuer, client id, kid, nonce and hashes
//! become placeholders the replaying provider fills in ([`crate::jose::template`]); key
//! material in the header is replaced, never fetched. The token is then signed and sealed with
//! fixture keys in the same relation to the platform as the original's keys were: a signature
//! the platform refused is made with a key the provider does not publish, a kid the platform
//! did not know is one no fixture key has, an envelope it could not open is sealed to another
//! key. Before the file is written it is run, and it must get the original's verdict.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use hmac::{Hmac, Mac as _};
use rand::{Rng as _, SeedableRng as _};
use sha2::Sha256;

use super::file::{
    Expect, FlowKind, KeySpec, PhoneMappingSpec, Scenario, Verdict, VerifierSpec, DEFAULT_NOW,
};
use super::report::{Outcome, Status};
use super::runner::run_one;
use crate::jose::b64url::decode as b64url;
use crate::jose::json_text::{self, Kind, Step};
use crate::jose::template::{rsa_alg, sealable, Recipient, Sign, TokenTemplate};
use crate::verifier::{
    AuthenticatedConsumer, KeySource, PhoneNumberMapping, RejectReason, Rejection, Verifier,
    VerifierConfig, VerifyContext,
};

/// What the original token was checked with: `verify`'s options.
#[derive(Debug)]
pub struct Original {
    /// The token as received (JWS or JWE).
    pub token: String,
    /// The platform side it was verified with.
    pub config: VerifierConfig,
    /// The verification context (its time, nonce and access token).
    pub ctx: VerifyContext,
}

/// How the fixture is made.
#[derive(Debug, Clone)]
pub struct FixtureOptions {
    /// The flow the scenario hands the token over with.
    pub flow: FlowKind,
    /// Claim names whose values are kept as they are (anywhere in the payload).
    pub keep: Vec<String>,
    /// Claim names whose values are faked like personal ones (anywhere in the payload): for
    /// claims of the brand's own that hold personal data under a neutral name.
    pub fake: Vec<String>,
    /// The scenario id [default: `fixture-` and a digest of the file].
    pub id: Option<String>,
    /// Where the token came from, without secrets: the scenario's `source`.
    pub source: String,
}

/// A fixture, its replay, and what the maker wants the user to know.
#[derive(Debug)]
pub struct Fixture {
    /// The scenario file's text.
    pub text: String,
    /// The original's verdict, as the file expects it.
    pub expected: String,
    /// The file run once: it passes when it reproduces the original's verdict.
    pub replay: Outcome,
    /// Things kept as they were, or could not be reproduced exactly.
    pub notes: Vec<String>,
}

/// Makes the scenario file for `original`, runs it, and returns both.
pub async fn make(original: Original, options: &FixtureOptions) -> Result<Fixture, String> {
    if let Some(both) = options.keep.iter().find(|name| options.fake.contains(name)) {
        return Err(format!("{both:?} is named both to keep and to fake"));
    }
    let token = original.token.as_str();
    let verifier = Verifier::new(original.config.clone()).map_err(|e| e.to_string())?;
    let verdict = verifier.verify(token, &original.ctx).await;
    let reason = verdict.as_ref().err().map(|r| r.reason);
    let mut maker = Maker {
        original: &original,
        reason,
        faker: Faker::new(),
        offset: crate::clock::parse_rfc3339(DEFAULT_NOW).map_err(|e| e.to_string())?
            - original.ctx.now,
        notes: Vec::new(),
        sub: None,
        options,
    };
    let template = maker.template(token);
    let text = maker.file(&template, &verdict)?;
    let scenario = Scenario::parse(std::path::Path::new("fixture.toml"), &text)
        .map_err(|e| format!("the fixture does not parse: {e}"))?;
    let replay = run_one(&scenario).await;
    Ok(Fixture {
        expected: replay.expected.clone(),
        text,
        replay,
        notes: maker.notes,
    })
}

/// Whether a replay got the original's verdict.
pub fn reproduced(fixture: &Fixture) -> bool {
    fixture.replay.status == Status::Pass
}

struct Maker<'a> {
    original: &'a Original,
    reason: Option<RejectReason>,
    faker: Faker,
    /// Seconds added to every time.
    offset: i64,
    notes: Vec<String>,
    /// The faked `sub`, for the expectation.
    sub: Option<String>,
    /// The claims to keep or fake, the flow, the id and the source.
    options: &'a FixtureOptions,
}

fn utf8(bytes: Vec<u8>) -> Option<String> {
    String::from_utf8(bytes).ok()
}

fn member(json: &str, name: &str) -> Option<serde_json::Value> {
    serde_json::from_str::<serde_json::Value>(json)
        .ok()?
        .get(name)
        .cloned()
}

/// Claims that are about the consumer, at the top level of the payload.
const PERSONAL_CLAIMS: [&str; 14] = [
    "sub",
    "email",
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "picture",
    "profile",
    "website",
    "phone_number",
    "address",
    "birthdate",
];

/// `lp_sdes` fields about the consumer: `personal.*` and `ctmrinfo.info.*`.
const PERSONAL_SDE_FIELDS: [&str; 12] = [
    "firstname",
    "lastname",
    "company",
    "contacts",
    "customerId",
    "socialId",
    "imei",
    "userName",
    "accountName",
    "companyBranch",
    "storeNumber",
    "storeZipCode",
];

/// Names whose values are codes from a list, never personal text: faking them would change
/// what the platform accepts.
const CODES: [&str; 12] = [
    "type",
    "phoneType",
    "gender",
    "language",
    "locale",
    "cstatus",
    "ctype",
    "currency",
    "loginStatus",
    "role",
    "zoneinfo",
    "email_verified",
];

/// Words in a claim name that say its value is about a person.
const PERSONAL_WORDS: [&str; 16] = [
    "email", "mail", "name", "phone", "mobile", "address", "street", "city", "postal", "zip",
    "birth", "customer", "account", "member", "user", "ssn",
];

/// Whether the value at `path` of the payload is personal data.
fn personal(path: &[Step]) -> bool {
    fn key(step: &Step) -> Option<&str> {
        match step {
            Step::Key(k) => Some(k.as_str()),
            Step::Index(_) => None,
        }
    }
    if path.iter().filter_map(key).any(|k| CODES.contains(&k)) {
        return false;
    }
    match path {
        [Step::Key(top), ..] if PERSONAL_CLAIMS.contains(&top.as_str()) => true,
        [Step::Key(sdes), Step::Index(_), Step::Key(kind), Step::Key(field), ..]
            if sdes == "lp_sdes" && (kind == "personal" || kind == "info") =>
        {
            PERSONAL_SDE_FIELDS.contains(&field.as_str())
        }
        [Step::Key(sdes), ..] if sdes == "lp_sdes" => false,
        _ => path.iter().filter_map(key).any(|k| {
            let k = k.to_ascii_lowercase();
            PERSONAL_WORDS.iter().any(|w| k.contains(w))
        }),
    }
}

/// Top-level claims that are times, moved by the offset.
const TIMES: [&str; 5] = ["iat", "exp", "nbf", "auth_time", "updated_at"];

/// `raw` (a number, or a string holding one) moved by `offset` seconds, or by `offset`
/// milliseconds' worth when it is in milliseconds; spelled as before (`1795661188.0`,
/// `"1795661188"`). `None` for anything else (`1e400`, `null`).
fn shift_time(raw: &str, offset: i64) -> Option<String> {
    let (quote, number) = match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => ("\"", inner),
        None => ("", raw),
    };
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits = int.strip_prefix('-').unwrap_or(int);
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || (number.contains('.') && frac.is_empty())
    {
        return None;
    }
    let value: i64 = int.parse().ok()?;
    let by = if value.abs() >= 100_000_000_000 {
        offset.checked_mul(1000)?
    } else {
        offset
    };
    let moved = value.checked_add(by)?;
    let frac = if number.contains('.') {
        format!(".{frac}")
    } else {
        String::new()
    };
    Some(format!("{quote}{moved}{frac}{quote}"))
}

impl Maker<'_> {
    /// The template for `token`, or the token kept whole when it is no compact JWS or JWE of
    /// JSON.
    fn template(&mut self, token: &str) -> TokenTemplate {
        let parts: Vec<&str> = token.split('.').collect();
        let template = match parts.len() {
            3 => self.jws(&parts),
            5 => self.jwe(&parts),
            _ => None,
        };
        template.unwrap_or_else(|| {
            self.notes.push(
                "the token is no compact JWS or JWE of JSON (its segments, encoding or \
                 serialization are unusual); it is kept as it was: check that it carries no \
                 personal data before sharing the file"
                    .into(),
            );
            TokenTemplate {
                compact: Some(token.to_owned()),
                ..TokenTemplate::default()
            }
        })
    }

    fn jws(&mut self, parts: &[&str]) -> Option<TokenTemplate> {
        let header = utf8(b64url(parts[0])?)?;
        let payload = utf8(b64url(parts[1])?)?;
        let signature = b64url(parts[2])?;
        let alg = member(&header, "alg")
            .and_then(|a| a.as_str().map(str::to_owned))
            .unwrap_or_default();
        let header = self.header(&header)?;
        let payload = self.payload(&payload)?;
        let (sign, signature_len) = if rsa_alg(&alg) {
            // A signature the platform refused is made by a key the provider does not publish;
            // one it accepted, or never got to, by the published key. A length no RSA key
            // makes (cut short, emptied) stays.
            let sign = if self.reason == Some(RejectReason::SignatureInvalid) {
                Sign::Unpublished
            } else {
                Sign::Published
            };
            let odd = signature.is_empty() || signature.len() % 128 != 0;
            (sign, odd.then_some(signature.len()))
        } else {
            // No fixture key makes this alg (none, HS256, ES256, a typo): the platform refuses
            // it for its alg, and zero bytes of the same length stand in for the signature.
            (Sign::Zeros, Some(signature.len()))
        };
        Some(TokenTemplate {
            header: Some(header),
            payload: Some(payload),
            sign,
            signature_len,
            ..TokenTemplate::default()
        })
    }

    fn jwe(&mut self, parts: &[&str]) -> Option<TokenTemplate> {
        let header = utf8(b64url(parts[0])?)?;
        let lens: Vec<usize> = parts[1..]
            .iter()
            .map(|p| b64url(p).map(|b| b.len()))
            .collect::<Option<_>>()?;
        let text = |name: &str| {
            member(&header, name)
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        let (alg, enc) = (text("alg"), text("enc"));
        let opened = self
            .original
            .config
            .decryption_key
            .as_ref()
            .and_then(|key| crate::jose::decrypt(&parts.join("."), key).ok())
            .map(|(_, plaintext)| plaintext);
        let envelope = self.envelope_header(&header)?;
        let mut inner = match &opened {
            Some(plaintext) => {
                let plaintext = utf8(plaintext.clone())?;
                let inner: Vec<&str> = plaintext.split('.').collect();
                if inner.len() == 3 {
                    self.jws(&inner)?
                } else if inner.len() == 1 {
                    // Bare claims in the envelope: no signature at all.
                    TokenTemplate {
                        payload: Some(self.payload(&plaintext)?),
                        ..TokenTemplate::default()
                    }
                } else {
                    return None;
                }
            }
            // Never opened: what was inside cannot matter to the verdict.
            None => TokenTemplate {
                header: Some(r#"{"alg":"RS256","kid":"${kid}","typ":"JWT"}"#.into()),
                payload: Some(r#"{"iss":"${iss}","aud":"${client_id}"}"#.into()),
                ..TokenTemplate::default()
            },
        };
        inner.envelope = Some(envelope);
        inner.encrypt_to = match (opened.is_some(), sealable(&alg, &enc)) {
            (_, false) => Recipient::Nobody,
            (true, true) => Recipient::Platform,
            (false, true) => Recipient::Other,
        };
        inner.segment_lens = if inner.encrypt_to == Recipient::Nobody {
            Some([lens[0], lens[1], lens[2], lens[3]])
        } else {
            // The IV and tag lengths `enc` makes; anything else (a cut tag, a short IV) stays.
            let (iv, tag) = match enc.as_str() {
                "A128CBC-HS256" => (16, 16),
                "A192CBC-HS384" => (16, 24),
                "A256CBC-HS512" => (16, 32),
                _ => (12, 16),
            };
            (lens[1] != iv || lens[3] != tag).then_some([
                0,
                if lens[1] == iv { 0 } else { lens[1] },
                0,
                if lens[3] == tag { 0 } else { lens[3] },
            ])
        };
        Some(inner)
    }

    /// The JWS header: the kid becomes the fixture key's (or, where the platform knew no key
    /// for it, one no fixture key has); embedded keys and key URLs are replaced.
    fn header(&mut self, header: &str) -> Option<String> {
        let unknown_kid = self.reason == Some(RejectReason::UnknownKid);
        let attacker = crate::keys::fixture_attacker_key().ok()?;
        let faker = &mut self.faker;
        json_text::rewrite(header, |path, kind, raw| {
            let [Step::Key(name)] = path else {
                return None;
            };
            match (name.as_str(), kind) {
                ("kid", Kind::String) if unknown_kid => Some(faker.string(raw)),
                ("kid", Kind::String) => Some("\"${kid}\"".into()),
                ("jku" | "x5u", Kind::String) => {
                    Some(format!("\"https://fixture.invalid/{name}\""))
                }
                ("jwk", Kind::Object) => {
                    serde_json::to_string(&attacker.key().jwk("sig", "RS256")).ok()
                }
                ("x5c", Kind::Array) => {
                    let der: String = attacker
                        .cert_pem()
                        .lines()
                        .filter(|l| !l.starts_with("-----"))
                        .collect();
                    Some(format!("[\"{der}\"]"))
                }
                _ => None,
            }
        })
        .ok()
    }

    /// The envelope's header: its `kid` (the platform key's) faked, the rest kept.
    fn envelope_header(&mut self, header: &str) -> Option<String> {
        let faker = &mut self.faker;
        json_text::rewrite(header, |path, kind, raw| match (path, kind) {
            ([Step::Key(name)], Kind::String) if name == "kid" => Some(faker.string(raw)),
            _ => None,
        })
        .ok()
    }

    /// The payload with personal values faked, times moved and the values the replaying
    /// provider fills in turned into placeholders.
    fn payload(&mut self, payload: &str) -> Option<String> {
        let named = |names: &[String], path: &[Step]| {
            path.iter()
                .any(|s| matches!(s, Step::Key(k) if names.contains(k)))
        };
        let keep = |path: &[Step]| named(&self.options.keep, path);
        let personal = |path: &[Step]| personal(path) || named(&self.options.fake, path);
        // First the personal values, so the same value is faked wherever else it appears.
        let mut personal_values = HashSet::new();
        json_text::rewrite(payload, |path, kind, raw| {
            if matches!(kind, Kind::String | Kind::Number) && personal(path) && !keep(path) {
                let value = json_text::decode_string(raw).unwrap_or_else(|| raw.to_owned());
                if value.chars().count() >= 4 || path.len() == 1 {
                    personal_values.insert(value);
                }
            }
            None
        })
        .ok()?;
        let c = &self.original.config;
        let ctx = &self.original.ctx;
        let issuer = c.issuer.as_str().to_owned();
        let client_id = c.client_id.as_ref().map(|id| id.as_str().to_owned());
        let nonce = ctx.nonce.as_ref().map(|n| n.as_str().to_owned());
        let at_hash = ctx
            .access_token
            .as_deref()
            .map(crate::jose::left_half_sha256);
        let offset = self.offset;
        let faker = &mut self.faker;
        let mut sub = None;
        let out = json_text::rewrite(payload, |path, kind, raw| {
            if keep(path) {
                return None;
            }
            let value = json_text::decode_string(raw);
            let top = match path.first() {
                Some(Step::Key(k)) => k.as_str(),
                _ => "",
            };
            let placeholder = |name: &str| Some(format!("\"${{{name}}}\""));
            match (top, path.len(), kind) {
                ("iss", 1, Kind::String) if value.as_deref() == Some(issuer.as_str()) => {
                    return placeholder("iss")
                }
                ("aud", 1 | 2, Kind::String) | ("azp", 1, Kind::String)
                    if client_id.is_some() && value == client_id =>
                {
                    return placeholder("client_id")
                }
                ("nonce", 1, Kind::String) if nonce.is_some() && value == nonce => {
                    return placeholder("nonce")
                }
                // Unchecked by the original (no access token), or right: the replaying
                // provider's own. A wrong one stays wrong.
                ("at_hash", 1, Kind::String) if at_hash.is_none() || value == at_hash => {
                    return placeholder("at_hash")
                }
                ("c_hash", 1, Kind::String) => return placeholder("c_hash"),
                (time, 1, Kind::Number | Kind::String) if TIMES.contains(&time) => {
                    return shift_time(raw, offset)
                }
                _ => {}
            }
            let fake = match kind {
                Kind::String
                    if personal(path)
                        || value.as_ref().is_some_and(|v| personal_values.contains(v)) =>
                {
                    faker.string(raw)
                }
                Kind::Number if personal(path) || personal_values.contains(raw) => {
                    faker.number(raw)
                }
                _ => return None,
            };
            if path == [Step::Key("sub".into())] {
                sub = json_text::decode_string(&fake);
            }
            Some(fake)
        })
        .ok()?;
        if sub.is_some() {
            self.sub = sub;
        }
        Some(out)
    }
}

/// Consistent fakes: the same value gets the same fake within one fixture, and a value's fake
/// keeps its length and each character's class (a lower-case letter stays one, a digit stays a
/// digit, a non-ASCII letter stays non-ASCII, punctuation stays as it is). Keyed by a secret
/// drawn for each fixture, so a fake says nothing about the value behind it.
struct Faker {
    secret: [u8; 32],
    seen: HashMap<String, String>,
}

const LOWER_ACCENTED: &str = "àáâäãåæçèéêëìíîïñòóôöõøùúûüý";

impl Faker {
    fn new() -> Self {
        Self {
            secret: rand::random(),
            seen: HashMap::new(),
        }
    }

    fn rng(&self, value: &str) -> rand_chacha::ChaCha20Rng {
        let mut mac = <Hmac<Sha256>>::new_from_slice(&self.secret).expect("HMAC takes any key");
        mac.update(value.as_bytes());
        rand_chacha::ChaCha20Rng::from_seed(mac.finalize().into_bytes().into())
    }

    /// The fake of a decoded value.
    fn fake(&mut self, value: &str) -> String {
        self.fake_where(value.to_owned(), value, |_| true)
    }

    /// The fake of `value`, changing only the characters `fakeable` allows.
    /// `key` is what the fake is remembered under.
    fn fake_where(&mut self, key: String, value: &str, fakeable: impl Fn(char) -> bool) -> String {
        if let Some(fake) = self.seen.get(&key) {
            return fake.clone();
        }
        // A URL keeps its scheme: what follows it is the personal part.
        let (scheme, rest) = ["https://", "http://"]
            .iter()
            .find_map(|s| value.strip_prefix(s).map(|rest| (*s, rest)))
            .unwrap_or(("", value));
        let mut rng = self.rng(value);
        let mut fake = String::new();
        // A few draws at most: a fake equal to its value (one letter, a lucky draw) is drawn
        // again.
        for _ in 0..8 {
            fake = scheme.to_owned();
            fake.extend(rest.chars().enumerate().map(|(i, c)| {
                if fakeable(c) {
                    fake_char(c, i == 0, &mut rng)
                } else {
                    c
                }
            }));
            if fake != value {
                break;
            }
        }
        self.seen.insert(key, fake.clone());
        fake
    }

    /// The fake of a string literal, written character by character as the original was
    /// (`\u00e9` stays an escape, `é` stays raw).
    fn string(&mut self, raw: &str) -> String {
        let Some(units) = json_text::units(raw) else {
            return raw.to_owned();
        };
        let value: String = units.iter().map(|u| u.ch).collect();
        let fake = self.fake(&value);
        let mut out = String::with_capacity(raw.len());
        out.push('"');
        for (unit, ch) in units.iter().zip(fake.chars()) {
            if ch == unit.ch {
                out.push_str(unit.raw);
            } else if unit.raw.starts_with("\\u") && (ch as u32) < 0x10000 {
                let upper = unit.raw[2..].bytes().any(|b| b.is_ascii_uppercase());
                let _ = if upper {
                    write!(out, "\\u{:04X}", ch as u32)
                } else {
                    write!(out, "\\u{:04x}", ch as u32)
                };
            } else {
                out.push(ch);
            }
        }
        out.push('"');
        out
    }

    /// The fake of a number: its digits faked (a leading one stays non-zero), its sign, point
    /// and exponent kept, so it is still a JSON number.
    fn number(&mut self, raw: &str) -> String {
        let leading = raw.strip_prefix('-').unwrap_or(raw);
        let fake = self.fake_where(format!("number {leading}"), leading, |c| c.is_ascii_digit());
        if leading.len() == raw.len() {
            fake
        } else {
            format!("-{fake}")
        }
    }
}

/// One character of the same class.
fn fake_char(c: char, first: bool, rng: &mut impl rand::Rng) -> char {
    let pick = |set: &str, rng: &mut dyn rand::RngCore| {
        let chars: Vec<char> = set.chars().collect();
        chars[rng.gen_range(0..chars.len())]
    };
    match c {
        'a'..='z' => char::from(rng.gen_range(b'a'..=b'z')),
        'A'..='Z' => char::from(rng.gen_range(b'A'..=b'Z')),
        // A leading digit stays non-zero, so a number keeps its magnitude.
        '1'..='9' if first => char::from(rng.gen_range(b'1'..=b'9')),
        '0'..='9' => char::from(rng.gen_range(b'0'..=b'9')),
        // Han, Hiragana, Katakana, Hangul, Cyrillic: a character of the same block.
        '\u{4e00}'..='\u{9fff}' => char::from_u32(rng.gen_range(0x4e00..=0x9fff)).unwrap_or(c),
        '\u{3041}'..='\u{3096}' => char::from_u32(rng.gen_range(0x3041..=0x3096)).unwrap_or(c),
        '\u{30a1}'..='\u{30fa}' => char::from_u32(rng.gen_range(0x30a1..=0x30fa)).unwrap_or(c),
        '\u{ac00}'..='\u{d7a3}' => char::from_u32(rng.gen_range(0xac00..=0xd7a3)).unwrap_or(c),
        '\u{0430}'..='\u{044f}' => char::from_u32(rng.gen_range(0x0430..=0x044f)).unwrap_or(c),
        '\u{0410}'..='\u{042f}' => char::from_u32(rng.gen_range(0x0410..=0x042f)).unwrap_or(c),
        c if c.is_alphabetic() && !c.is_ascii() => {
            let lower = pick(LOWER_ACCENTED, rng);
            if c.is_uppercase() {
                lower.to_uppercase().next().unwrap_or(lower)
            } else {
                lower
            }
        }
        c => c,
    }
}

/// The original's verdict on the platform side.
type Verified = Result<AuthenticatedConsumer, Rejection>;

/// What a fixture file opens with: where it came from.
const MADE_BY: &str = "\
# Made by `oidc-harness fixture`: the original's header and payload as written, with
# personal values faked, times moved to `now`, and ${...} filled in by the provider.
";

impl Maker<'_> {
    /// The scenario file: where it came from, then the scenario that replays the token.
    fn file(&self, template: &TokenTemplate, verdict: &Verified) -> Result<String, String> {
        let write = |scenario: &Scenario| scenario.to_toml().map_err(|e| e.to_string());
        let options = self.options;
        let mut scenario = Scenario::new(
            String::new(),
            title(template, verdict),
            options.flow,
            self.expect(verdict),
        );
        scenario.now = Some(DEFAULT_NOW.to_owned());
        scenario.source = Some(options.source.clone());
        scenario.response_type = self.response_type(template);
        scenario.provider.token = Some(template.clone());
        scenario.verifier = self.verifier(template);
        scenario.id = match &options.id {
            Some(id) => id.clone(),
            None => format!("fixture-{}", digest(&write(&scenario)?)),
        };
        Ok(format!("{MADE_BY}{}", write(&scenario)?))
    }

    /// `id_token token` where the original's access token made its `at_hash` count, so that
    /// one is handed over with the token (a code flow redeems one anyway).
    fn response_type(&self, template: &TokenTemplate) -> Option<String> {
        let at_hash_checked = self.original.ctx.access_token.is_some()
            && template
                .payload
                .as_deref()
                .and_then(|p| member(p, "at_hash"))
                .is_some();
        (at_hash_checked && !self.options.flow.redeems_a_code())
            .then(|| "id_token token".to_owned())
    }

    /// The platform side the original was verified with, as `[verifier]` says it.
    fn verifier(&self, template: &TokenTemplate) -> VerifierSpec {
        let c = &self.original.config;
        let kid_absent = template
            .header
            .as_deref()
            .and_then(|h| member(h, "kid"))
            .is_none();
        let public_key = matches!(c.signing_key, KeySource::PublicKey(_))
            || (kid_absent && self.reason != Some(RejectReason::KidAmbiguous));
        VerifierSpec {
            key: if public_key {
                KeySpec::PublicKey
            } else {
                KeySpec::Jwks
            },
            check_audience: c.client_id.is_some(),
            nonce: self.original.ctx.nonce.is_some(),
            require_encryption: c.require_encryption,
            decryption_key: c.decryption_key.is_some(),
            insecure_allow_millisecond_timestamps: c.insecure_allow_millisecond_timestamps,
            insecure_allow_string_timestamps: c.insecure_allow_string_timestamps,
            lp_sdes_strict: c.lp_sdes_strict,
            allow_untrusted_audiences: c.allow_untrusted_audiences,
            phone_number_mapping: match c.phone_number_mapping {
                PhoneNumberMapping::CustomerImei => PhoneMappingSpec::CustomerImei,
                PhoneNumberMapping::PersonalContactPhone => PhoneMappingSpec::PersonalContactPhone,
            },
            leeway_secs: c.leeway_secs,
            trusted_audiences: c.trusted_audiences.clone(),
            ..VerifierSpec::default()
        }
    }

    /// The strict reading's verdict, the platform reading's where it differs, and the faked
    /// `sub` of a consumer the platform took.
    fn expect(&self, verdict: &Verified) -> Expect {
        let strict = crate::verifier::strict_refusal(verdict).map(|r| r.reason);
        let mut expect = Expect::only(match strict {
            None => Verdict::Authenticated,
            Some(_) => Verdict::Rejected,
        });
        // The flip check removes the kept token and mints an honest one instead.
        expect.reason = strict.map(|reason| reason.code().to_owned());
        expect.platform = match verdict {
            Ok(_) if strict.is_some() => Some("authenticated".to_owned()),
            Err(r) if strict != Some(r.reason) => Some(r.reason.code().to_owned()),
            _ => None,
        };
        expect.sub = self.sub.clone().filter(|_| verdict.is_ok());
        expect
    }
}

/// The file's title: what kind of token was kept, and the platform's verdict on it.
fn title(template: &TokenTemplate, verdict: &Verified) -> String {
    let alg = template
        .header
        .as_deref()
        .and_then(|h| member(h, "alg"))
        .and_then(|a| a.as_str().map(str::to_owned))
        .unwrap_or_else(|| "unsigned".into());
    let shape = match (&template.compact, &template.envelope) {
        (Some(_), _) => "token of an unusual shape (whole, as it was)".to_owned(),
        (None, Some(_)) => format!("{alg} token in an envelope"),
        (None, None) => format!("{alg} token"),
    };
    let outcome = match (verdict, crate::verifier::strict_refusal(verdict)) {
        (Ok(_), None) => "authenticated".to_owned(),
        (Ok(_), Some(s)) => format!(
            "authenticated (the strict reading: rejected ({}))",
            s.reason.code()
        ),
        (Err(r), _) => format!("rejected ({})", r.reason.code()),
    };
    format!("Kept {shape}, personal data replaced; the platform's verdict was {outcome}")
}

/// A short digest of `text`, for a file's default id.
fn digest(text: &str) -> String {
    use sha2::Digest as _;
    hex::encode(&Sha256::digest(text.as_bytes())[..4])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::template::Sign;

    #[test]
    fn a_written_file_reads_back_as_what_was_written() {
        let mut config = VerifierConfig::new(
            crate::claims::Issuer::new("https://idp.example"),
            KeySource::JwksDocument("{}".into()),
        );
        config.leeway_secs = 0;
        config.trusted_audiences = vec!["it's \"other\"".into(), "b".into()];
        config.insecure_allow_string_timestamps = true;
        config.phone_number_mapping = PhoneNumberMapping::PersonalContactPhone;
        let original = Original {
            token: String::new(),
            config,
            ctx: VerifyContext::at(0),
        };
        let options = FixtureOptions {
            flow: FlowKind::PopupImplicit,
            keep: Vec::new(),
            fake: Vec::new(),
            id: None,
            source: "oidc-harness fixture 'a b.jwt' --id \"x\" \\".into(),
        };
        let maker = Maker {
            original: &original,
            reason: Some(RejectReason::SignatureInvalid),
            faker: Faker::new(),
            offset: 0,
            notes: Vec::new(),
            sub: Some("108374656301234567890".into()),
            options: &options,
        };
        let template = TokenTemplate {
            header: Some("{\n  \"alg\": \"RS256\",\n  \"kid\": \"${kid}\"\n}".into()),
            payload: Some("{\"iss\":\"${iss}\",\t\"n\":\"'''\\\"\\\"\\\"\"}\r\n".into()),
            sign: Sign::Unpublished,
            signature_len: Some(255),
            ..TokenTemplate::default()
        };
        let verdict = Err(Rejection::new(RejectReason::SignatureInvalid, "bad"));
        let text = maker.file(&template, &verdict).unwrap();
        let scenario = Scenario::parse(std::path::Path::new("t.toml"), &text)
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert!(text.starts_with(MADE_BY), "{text}");
        assert_eq!(scenario.provider.token.as_ref(), Some(&template));
        assert_eq!(scenario.verifier, maker.verifier(&template));
        assert_eq!(
            (
                scenario.verifier.key,
                scenario.verifier.nonce,
                scenario.verifier.leeway_secs
            ),
            (KeySpec::Jwks, false, 0)
        );
        assert_eq!(scenario.flow, FlowKind::PopupImplicit);
        assert_eq!(scenario.source.as_deref(), Some(options.source.as_str()));
        assert_eq!(scenario.now.as_deref(), Some(DEFAULT_NOW));
        assert_eq!(scenario.expect.verdict, Verdict::Rejected);
        assert_eq!(scenario.expect.reason.as_deref(), Some("signature_invalid"));
        assert_eq!(
            (&scenario.expect.platform, &scenario.expect.sub),
            (&None, &None)
        );
        assert_eq!(
            scenario.title,
            "Kept RS256 token, personal data replaced; the platform's verdict was rejected \
             (signature_invalid)"
        );
        let digest = scenario.id.strip_prefix("fixture-").unwrap();
        assert!(
            digest.len() == 8 && digest.bytes().all(|b| b.is_ascii_hexdigit()),
            "{}",
            scenario.id
        );
        // The text is that scenario as it is written: written once, in one form.
        assert_eq!(text, format!("{MADE_BY}{}", scenario.to_toml().unwrap()));
    }

    #[test]
    fn times_move_by_the_offset_and_keep_their_spelling() {
        for (raw, moved) in [
            ("1795661188", Some("1795661198")),
            ("1795661188.0", Some("1795661198.0")),
            ("\"1795661188\"", Some("\"1795661198\"")),
            ("1795661188000", Some("1795661198000")),
            ("-5", Some("5")),
            ("1e400", None),
            ("null", None),
            ("\"soon\"", None),
            ("1.", None),
        ] {
            assert_eq!(shift_time(raw, 10).as_deref(), moved, "{raw}");
        }
    }

    #[test]
    fn fakes_keep_length_class_and_escapes_and_are_consistent() {
        let mut faker = Faker::new();
        let email = faker.string(r#""alice.o'neil+x@example.com""#);
        assert_eq!(email.len(), r#""alice.o'neil+x@example.com""#.len());
        assert_ne!(email, r#""alice.o'neil+x@example.com""#);
        let shape = |s: &str| {
            s.chars()
                .map(|c| match c {
                    'a'..='z' => 'a',
                    'A'..='Z' => 'A',
                    '0'..='9' => '9',
                    c => c,
                })
                .collect::<String>()
        };
        assert_eq!(shape(&email), shape(r#""alice.o'neil+x@example.com""#));
        assert_eq!(faker.string(r#""alice.o'neil+x@example.com""#), email);
        let sub = faker.string("\"108374656301234567890\"");
        assert_eq!(sub.len(), 23);
        assert!(sub[1..22].bytes().all(|b| b.is_ascii_digit()) && !sub.starts_with("\"0"));
        // The escape stays an escape of a non-ASCII letter; the raw one stays raw.
        let name = faker.string("\"Jos\\u00e9 Ni\u{f1}o\"");
        let units = json_text::units(&name).unwrap();
        assert!(units[3].raw.starts_with("\\u") && !units[3].ch.is_ascii());
        assert!(units[3].ch.is_alphabetic() && units[3].ch.is_lowercase());
        assert!(units[7].raw == units[7].ch.to_string() && !units[7].ch.is_ascii());
        assert_eq!(units[4].ch, ' ');
        assert_eq!(faker.number("-42.5"), faker.number("-42.5"));
        let number = faker.number("-42.5e+10");
        assert_eq!(number.len(), 9);
        assert!(
            number.starts_with('-') && &number[3..4] == "." && &number[5..7] == "e+",
            "{number}"
        );
        assert!(
            number[1..]
                .bytes()
                .all(|b| b.is_ascii_digit() || b"-.e+".contains(&b)),
            "{number}"
        );
        assert!(
            number.contains('e') && number.contains('.') && !number.starts_with("-0"),
            "{number}"
        );
        assert!(serde_json::from_str::<f64>(&number).is_ok(), "{number}");
    }

    #[test]
    fn personal_paths_are_the_consumer_and_not_codes() {
        let p = |path: &[&str]| {
            personal(
                &path
                    .iter()
                    .map(|s| match s.parse::<usize>() {
                        Ok(i) => Step::Index(i),
                        Err(_) => Step::Key((*s).to_owned()),
                    })
                    .collect::<Vec<_>>(),
            )
        };
        assert!(p(&["sub"]));
        assert!(p(&["address", "street_address"]));
        assert!(p(&["lp_sdes", "0", "personal", "firstname"]));
        assert!(p(&["lp_sdes", "1", "personal", "contacts", "0", "email"]));
        assert!(p(&["lp_sdes", "1", "info", "customerId"]));
        assert!(p(&["customer_number"]));
        assert!(!p(&["lp_sdes", "1", "info", "ctype"]));
        assert!(!p(&[
            "lp_sdes",
            "1",
            "personal",
            "contacts",
            "0",
            "phoneType"
        ]));
        assert!(!p(&["lp_sdes", "1", "type"]));
        assert!(!p(&["lp_sdes", "1", "info", "balance"]));
        assert!(!p(&["email_verified"]));
        assert!(!p(&["exp"]));
        assert!(!p(&["hd"]));
    }
}
