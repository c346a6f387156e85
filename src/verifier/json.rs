//! The verifier's streaming JSON primitives, shared by the payload reader and the `lp_sdes`
//! readers: a string borrowed where the JSON has no escapes ([`Text`]), one claim's value
//! ([`Claim`]), a value skipped within the parser's nesting limit ([`Skip`]), and a parser's
//! message without its position ([`message`]).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

/// A JSON string, borrowed from the input unless it had escapes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Text<'a>(pub(super) Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// One claim's value: text (the common case, borrowed when it can be), a number, `null`, or
/// any other JSON, boxed to keep the common cases small.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Claim<'a> {
    /// A JSON string.
    Text(Cow<'a, str>),
    /// A JSON number.
    Number(serde_json::Number),
    /// `null`.
    Null,
    /// A boolean, an array or an object.
    Other(Box<Value>),
}

impl Claim<'_> {
    /// As JSON, written straight into one string (no copy of the text, no formatter).
    pub(super) fn to_json(&self) -> String {
        match self {
            Claim::Text(text) => {
                serde_json::to_string(&**text).expect("a string always serializes")
            }
            Claim::Number(number) => number.to_string(),
            Claim::Null => "null".to_owned(),
            Claim::Other(value) => value.to_string(),
        }
    }
}

impl fmt::Display for Claim<'_> {
    /// As JSON, for error messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl<'de> Deserialize<'de> for Claim<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ClaimVisitor;
        impl<'de> Visitor<'de> for ClaimVisitor {
            type Value = Claim<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Claim::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Claim::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Claim::Text(Cow::Owned(v)))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Claim::Other(Box::new(Value::Bool(v))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Claim::Number(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Claim::Number(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                // JSON has no NaN or infinity, so every parsed f64 is a Number.
                Ok(serde_json::Number::from_f64(v).map_or(Claim::Null, Claim::Number))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Claim::Null)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Value::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(|value| Claim::Other(Box::new(value)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Value::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|value| Claim::Other(Box::new(value)))
            }
        }
        deserializer.deserialize_any(ClaimVisitor)
    }
}

/// Any JSON value, skipped. Unlike serde's `IgnoredAny`, which serde_json skips without a
/// depth limit, it goes through the parser's nesting limit (128), so a member no rule reads
/// cannot nest 10 000 deep either (catalog S19).
pub(super) struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SkipVisitor;
        impl<'de> Visitor<'de> for SkipVisitor {
            type Value = Skip;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
                while seq.next_element::<Skip>()?.is_some() {}
                Ok(Skip)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
                while map.next_entry::<IgnoredAny, Skip>()?.is_some() {}
                Ok(Skip)
            }
        }
        deserializer.deserialize_any(SkipVisitor)
    }
}

/// A parser's message without the position it appends: positions inside a claim mean little
/// to whoever reads the reason.
pub(super) fn message(err: &impl fmt::Display) -> String {
    let text = err.to_string();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match text.rsplit_once(" at line ") {
        Some((head, position))
            if position
                .split_once(" column ")
                .is_some_and(|(line, column)| digits(line) && digits(column)) =>
        {
            head.to_owned()
        }
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_as_json_is_what_serde_json_writes() {
        for json in [
            r#""plain""#,
            r#""quote \" and \\ and \u0001 and é""#,
            "42",
            "-1.5e3",
            "null",
            "true",
            r#"["a",{"b":1}]"#,
        ] {
            let claim: Claim<'_> = serde_json::from_str(json).unwrap();
            let value: Value = serde_json::from_str(json).unwrap();
            assert_eq!(claim.to_json(), value.to_string(), "{json}");
            assert_eq!(claim.to_string(), value.to_string(), "{json}");
        }
    }

    #[test]
    fn a_message_loses_only_a_real_position() {
        assert_eq!(message(&"bad value at line 1 column 22"), "bad value");
        for kept in [
            "bad value at line one column 22",
            "bad value at line 1 column x",
            "bad value at line  column 22",
            "bad value at line 1 column ",
            "bad value at line 1",
        ] {
            assert_eq!(message(&kept), kept);
        }
    }
}
