//! The token's JSON, read in one pass straight from the decoded bytes: the members of the JWS
//! header and of the payload that the rules look at, borrowed where the JSON has no escapes, and
//! `lp_sdes` typed as it streams by. No JSON tree is built: a payload is read once per
//! verification, and a tree of maps costs more than the parse itself.
//!
//! Members must be unique (RFC 7515 §5.2, RFC 7519 §4: reject, or take the last; we reject),
//! whatever their name. Members no rule reads are skipped.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::json::{Claim, Skip, Text};
use super::sdes::{self, AuthenticatedSdes};

/// `lp_sdes` as the payload carried it.
#[derive(Debug, Default)]
pub(super) enum LpSdes<'a> {
    /// No `lp_sdes` member.
    #[default]
    Absent,
    /// Read and accepted while the payload was read.
    Read(AuthenticatedSdes),
    /// Left as JSON text, to be read after the other claims' rules.
    Deferred(&'a RawValue),
}

/// The claims the rules read. `None` is an absent member; a `null` one is `Some`.
#[derive(Debug, Default)]
pub(super) struct Payload<'a> {
    pub(super) iss: Option<Claim<'a>>,
    pub(super) sub: Option<Claim<'a>>,
    pub(super) aud: Option<Claim<'a>>,
    pub(super) azp: Option<Claim<'a>>,
    pub(super) exp: Option<Claim<'a>>,
    pub(super) iat: Option<Claim<'a>>,
    pub(super) nbf: Option<Claim<'a>>,
    pub(super) nonce: Option<Claim<'a>>,
    pub(super) at_hash: Option<Claim<'a>>,
    pub(super) c_hash: Option<Claim<'a>>,
    pub(super) name: Option<Claim<'a>>,
    pub(super) given_name: Option<Claim<'a>>,
    pub(super) family_name: Option<Claim<'a>>,
    pub(super) email: Option<Claim<'a>>,
    pub(super) gender: Option<Claim<'a>>,
    pub(super) preferred_username: Option<Claim<'a>>,
    pub(super) phone_number: Option<Claim<'a>>,
    pub(super) lp_sdes: LpSdes<'a>,
}

/// Where one member's value goes.
pub(super) enum Slot<'s, 'a> {
    /// A member a rule reads.
    Claim(&'s mut Option<Claim<'a>>),
    /// `lp_sdes`.
    Sdes(&'s mut LpSdes<'a>),
    /// A member no rule reads.
    Skip,
}

/// A JSON object's members as the rules read them.
pub(super) trait Members<'a>: Default {
    /// The slot for the member `name`.
    fn slot(&mut self, name: &str) -> Slot<'_, 'a>;
}

/// Reads `bytes` as a JSON object of unique members into `members`, in place; `what` names it
/// in errors.
fn read_object<'a, M: Members<'a>>(
    bytes: &'a [u8],
    what: &str,
    defer_sdes: bool,
    members: &mut M,
) -> Result<(), String> {
    // JSON text is UTF-8 (RFC 8259 §8.1): checked once here, not string by string.
    let text = std::str::from_utf8(bytes).map_err(|err| format!("{what} is not UTF-8: {err}"))?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    deserializer
        .deserialize_map(ObjectVisitor {
            defer_sdes,
            members,
        })
        .and_then(|()| deserializer.end())
        .map_err(|err| format!("{what} is not a JSON object: {err}"))
}

fn duplicate<E: de::Error>(name: &str) -> E {
    E::custom(format!("duplicate member {name:?}"))
}

struct ObjectVisitor<'m, M> {
    defer_sdes: bool,
    members: &'m mut M,
}

impl<'de, M: Members<'de>> Visitor<'de> for ObjectVisitor<'_, M> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Names no rule reads, kept only to refuse duplicates among them too.
        let mut others: Vec<Cow<'de, str>> = Vec::new();
        while let Some(Text(name)) = map.next_key()? {
            match self.members.slot(&name) {
                Slot::Claim(slot) => {
                    if slot.is_some() {
                        return Err(duplicate(&name));
                    }
                    *slot = Some(map.next_value()?);
                }
                Slot::Sdes(slot) => {
                    if !matches!(slot, LpSdes::Absent) {
                        return Err(duplicate(&name));
                    }
                    *slot = if self.defer_sdes {
                        LpSdes::Deferred(map.next_value()?)
                    } else {
                        // The reason for a refusal is not kept here: a refused one-pass read
                        // is done again with lp_sdes deferred, which reports it.
                        LpSdes::Read(map.next_value_seed(sdes::Seed::new(&mut None))?)
                    };
                }
                Slot::Skip => {
                    map.next_value::<Skip>()?;
                    others.push(name);
                }
            }
        }
        others.sort_unstable();
        if let Some(pair) = others.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(duplicate(&pair[0]));
        }
        Ok(())
    }
}

impl<'a> Payload<'a> {
    /// Reads a payload, `lp_sdes` included, in one pass. A payload that pass refuses is read
    /// again with `lp_sdes` left as text, so that a broken `lp_sdes` is reported after the other
    /// claims' rules, as they run, and with its own reason.
    pub(super) fn read(bytes: &'a [u8]) -> Result<Self, String> {
        let mut payload = Self::default();
        if read_object(bytes, "the payload", false, &mut payload).is_err() {
            payload = Self::default();
            read_object(bytes, "the payload", true, &mut payload)?;
        }
        Ok(payload)
    }
}

impl<'a> Members<'a> for Payload<'a> {
    fn slot(&mut self, name: &str) -> Slot<'_, 'a> {
        Slot::Claim(match name {
            "iss" => &mut self.iss,
            "sub" => &mut self.sub,
            "aud" => &mut self.aud,
            "azp" => &mut self.azp,
            "exp" => &mut self.exp,
            "iat" => &mut self.iat,
            "nbf" => &mut self.nbf,
            "nonce" => &mut self.nonce,
            "at_hash" => &mut self.at_hash,
            "c_hash" => &mut self.c_hash,
            "name" => &mut self.name,
            "given_name" => &mut self.given_name,
            "family_name" => &mut self.family_name,
            "email" => &mut self.email,
            "gender" => &mut self.gender,
            "preferred_username" => &mut self.preferred_username,
            "phone_number" => &mut self.phone_number,
            "lp_sdes" => return Slot::Sdes(&mut self.lp_sdes),
            _ => return Slot::Skip,
        })
    }
}

/// The JWS header's members the rules read (RFC 7515 §4.1).
#[derive(Debug, Default)]
pub(super) struct JwsHeader<'a> {
    pub(super) alg: Option<Claim<'a>>,
    pub(super) kid: Option<Claim<'a>>,
    pub(super) typ: Option<Claim<'a>>,
    pub(super) cty: Option<Claim<'a>>,
    pub(super) crit: Option<Claim<'a>>,
    pub(super) zip: Option<Claim<'a>>,
    pub(super) b64: Option<Claim<'a>>,
}

impl<'a> JwsHeader<'a> {
    /// Reads a decoded JWS header.
    pub(super) fn read(bytes: &'a [u8]) -> Result<Self, String> {
        let mut header = Self::default();
        read_object(bytes, "the header", true, &mut header)?;
        Ok(header)
    }

    /// `kid`, when it is a string.
    pub(super) fn kid(&self) -> Option<&str> {
        match &self.kid {
            Some(Claim::Text(kid)) => Some(kid),
            _ => None,
        }
    }
}

impl<'a> Members<'a> for JwsHeader<'a> {
    fn slot(&mut self, name: &str) -> Slot<'_, 'a> {
        Slot::Claim(match name {
            "alg" => &mut self.alg,
            "kid" => &mut self.kid,
            "typ" => &mut self.typ,
            "cty" => &mut self.cty,
            "crit" => &mut self.crit,
            "zip" => &mut self.zip,
            "b64" => &mut self.b64,
            _ => return Slot::Skip,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    /// A member name as JSON text: the ones the rules read, others, and escaped spellings.
    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(r#""iss""#.to_owned()),
            Just(r#""sub""#.to_owned()),
            Just(r#""aud""#.to_owned()),
            Just(r#""exp""#.to_owned()),
            Just(r#""i\u0073s""#.to_owned()),
            Just(r#""picture""#.to_owned()),
            Just(r#""p\u0069cture""#.to_owned()),
            Just(r#""I\u0053S""#.to_owned()),
            "[a-c]{1,2}".prop_map(|n| format!("{n:?}")),
        ]
    }

    /// A JSON value as text.
    fn value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just(r#""a\"B\u00e9""#.to_owned()),
            Just("1e400".to_owned()),
            Just("-0".to_owned()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| format!("{f:e}")),
            "[ -~]{0,8}".prop_map(|s| Value::String(s).to_string()),
        ];
        leaf.prop_recursive(3, 12, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                proptest::collection::vec((name(), inner), 0..3).prop_map(|m| {
                    let members: Vec<String> =
                        m.into_iter().map(|(k, v)| format!("{k}:{v}")).collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        })
    }

    proptest! {
        /// The one-pass reader accepts exactly the objects the tree reader accepts (unique
        /// members, however spelt), and reads the same value for every claim it keeps.
        #[test]
        fn reads_what_the_tree_reader_reads(members in proptest::collection::vec((name(), value()), 0..6)) {
            let members: Vec<String> = members.into_iter().map(|(k, v)| format!("{k}:{v}")).collect();
            let json = format!("{{{}}}", members.join(","));
            let tree = crate::jose::compact::json_object(json.as_bytes(), "the payload");
            let read = Payload::read(json.as_bytes());
            prop_assert_eq!(read.is_ok(), tree.is_ok(), "{} {:?}", json, read.as_ref().err());
            if let (Ok(read), Ok(tree)) = (read, tree) {
                for (claim, name) in [(&read.iss, "iss"), (&read.sub, "sub"), (&read.aud, "aud"), (&read.exp, "exp")] {
                    let as_value = claim.as_ref().map(|claim| match claim {
                        Claim::Text(text) => Value::String(text.to_string()),
                        Claim::Number(number) => Value::Number(number.clone()),
                        Claim::Null => Value::Null,
                        Claim::Other(value) => (**value).clone(),
                    });
                    prop_assert_eq!(as_value.as_ref(), tree.get(name), "{} in {}", name, json);
                }
            }
        }
    }

    #[test]
    fn claims_borrow_unless_escaped_and_keep_nulls() {
        let payload =
            Payload::read(br#"{"iss":"https://a","sub":"1\u0032","nbf":null,"x":[1,{"y":2}]}"#)
                .unwrap();
        assert!(matches!(
            payload.iss,
            Some(Claim::Text(Cow::Borrowed("https://a")))
        ));
        assert!(matches!(&payload.sub, Some(Claim::Text(Cow::Owned(s))) if s == "12"));
        assert_eq!(payload.nbf, Some(Claim::Null));
        assert_eq!(payload.exp, None);
        assert!(matches!(payload.lp_sdes, LpSdes::Absent));
    }

    #[test]
    fn a_claim_reads_in_messages_as_the_json_it_was() {
        let payload = Payload::read(
            br#"{"iss":"a\"b\u00e9","sub":12,"aud":null,"azp":[true,{"x":1.5}],"exp":-0.5}"#,
        )
        .unwrap();
        let shown: Vec<String> = [
            &payload.iss,
            &payload.sub,
            &payload.aud,
            &payload.azp,
            &payload.exp,
        ]
        .iter()
        .map(|claim| claim.as_ref().unwrap().to_string())
        .collect();
        assert_eq!(
            shown,
            [r#""a\"bé""#, "12", "null", r#"[true,{"x":1.5}]"#, "-0.5"]
        );
    }

    #[test]
    fn the_standard_claims_are_all_read() {
        let payload = Payload::read(
            br#"{"name":"N","given_name":"G","family_name":"F","email":"E","gender":"X",
                "preferred_username":"U","phone_number":"P","nonce":"n","at_hash":"a","c_hash":"c"}"#,
        )
        .unwrap();
        let read: Vec<String> = [
            &payload.name,
            &payload.given_name,
            &payload.family_name,
            &payload.email,
            &payload.gender,
            &payload.preferred_username,
            &payload.phone_number,
            &payload.nonce,
            &payload.at_hash,
            &payload.c_hash,
        ]
        .iter()
        .map(|claim| claim.as_ref().map_or("absent".into(), Claim::to_string))
        .collect();
        assert_eq!(
            read,
            [
                r#""N""#, r#""G""#, r#""F""#, r#""E""#, r#""X""#, r#""U""#, r#""P""#, r#""n""#,
                r#""a""#, r#""c""#
            ]
        );
    }

    #[test]
    fn escaped_names_are_the_names_they_spell() {
        let payload = Payload::read(br#"{"i\u0073s":"https://a"}"#).unwrap();
        assert_eq!(payload.iss, Some(Claim::Text(Cow::Borrowed("https://a"))));
        let err = Payload::read(br#"{"iss":"a","i\u0073s":"b"}"#).unwrap_err();
        assert!(err.contains("duplicate member \"iss\""), "{err}");
    }

    #[test]
    fn every_duplicate_member_is_refused() {
        for json in [
            r#"{"sub":"1","sub":"2"}"#,
            r#"{"picture":"a","email_verified":true,"picture":"b"}"#,
            r#"{"lp_sdes":[],"lp_sdes":null}"#,
        ] {
            let err = Payload::read(json.as_bytes()).unwrap_err();
            assert!(err.contains("duplicate member"), "{json}: {err}");
        }
    }

    #[test]
    fn only_a_utf8_object_is_a_payload() {
        let not_objects: [&[u8]; 6] = [b"[1,2]", b"\"iss\"", b"null", b"{\"iss\":1", b"{} {}", b""];
        for json in not_objects {
            let err = Payload::read(json).unwrap_err();
            assert!(
                err.starts_with("the payload is not a JSON object: "),
                "{json:?}: {err}"
            );
        }
        assert_eq!(
            Payload::read(b"[1,2]").unwrap_err(),
            "the payload is not a JSON object: invalid type: sequence, expected a JSON object at line 1 column 0"
        );
        let err = Payload::read(b"{\"iss\":\"\xff\"}").unwrap_err();
        assert!(err.starts_with("the payload is not UTF-8: "), "{err}");
    }

    #[test]
    fn the_header_is_read_the_same_way() {
        let header =
            JwsHeader::read(br#"{"alg":"RS256","kid":"k1","x5u":"https://evil"}"#).unwrap();
        assert_eq!(header.alg, Some(Claim::Text(Cow::Borrowed("RS256"))));
        assert_eq!(header.kid(), Some("k1"));
        assert_eq!(JwsHeader::read(br#"{"kid":7}"#).unwrap().kid(), None);
        let err = JwsHeader::read(br#"{"alg":"RS256","alg":"none"}"#).unwrap_err();
        assert!(
            err.starts_with("the header is not a JSON object: duplicate member \"alg\""),
            "{err}"
        );
    }

    #[test]
    fn nesting_is_limited_in_members_no_rule_reads_too() {
        let deep = format!(
            r#"{{"iss":"a","deep":{}{}}}"#,
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        let err = Payload::read(deep.as_bytes()).unwrap_err();
        assert!(err.contains("recursion limit exceeded"), "{err}");
        let fine = format!(
            r#"{{"iss":"a","deep":{}{}}}"#,
            "[".repeat(100),
            "]".repeat(100)
        );
        assert!(Payload::read(fine.as_bytes()).is_ok());
    }

    #[test]
    fn a_broken_lp_sdes_is_deferred_not_fatal() {
        let payload = Payload::read(br#"{"lp_sdes":{"type":"ctmrinfo"},"iss":"a"}"#).unwrap();
        assert!(
            matches!(payload.lp_sdes, LpSdes::Deferred(raw) if raw.get() == r#"{"type":"ctmrinfo"}"#)
        );
        assert_eq!(payload.iss, Some(Claim::Text(Cow::Borrowed("a"))));
        let good =
            Payload::read(br#"{"lp_sdes":[{"type":"ctmrinfo","info":{"ctype":"vip"}}]}"#).unwrap();
        let LpSdes::Read(sdes) = good.lp_sdes else {
            panic!("read in one pass")
        };
        assert_eq!(sdes.customer_info.unwrap().ctype.as_deref(), Some("vip"));
    }
}
