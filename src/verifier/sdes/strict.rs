//! The strict reading of `lp_sdes`, in one pass: the SDEs stream by and the types the
//! platform keeps are read straight into [`CustomerInfo`] and [`PersonalInfo`]; anything the
//! schema refuses is `lp_sdes_invalid`, with where and why.

use std::borrow::Cow;
use std::fmt;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize as _;
use serde_json::value::RawValue;

use super::{
    customer_violations, personal_violations, AuthenticatedSdes, BadField, Kept, UNSUPPORTED_TYPES,
};
use crate::claims::{CustomerInfo, PersonalInfo};
use crate::verifier::json::{message, Claim, Skip, Text};
use crate::verifier::reason::RejectReason;
use crate::verifier::rejection::Rejection;

fn invalid(detail: impl Into<String>) -> Rejection {
    Rejection::new(RejectReason::LpSdesInvalid, detail)
}

/// Reads an `lp_sdes` claim from its JSON text.
pub(crate) fn read(json: &str) -> Result<AuthenticatedSdes, Rejection> {
    let mut detail = None;
    let mut deserializer = serde_json::Deserializer::from_str(json);
    Seed::new(&mut detail)
        .deserialize(&mut deserializer)
        .and_then(|sdes| deserializer.end().map(|()| sdes))
        .map_err(|err| invalid(detail.unwrap_or_else(|| format!("lp_sdes: {}", message(&err)))))
}

/// Notes `detail` as the reason for a refusal, unless a deeper one was noted first, and makes
/// the error that stops the read.
fn fail<E: de::Error>(noted: &mut Option<String>, detail: String) -> E {
    let err = E::custom(&detail);
    noted.get_or_insert(detail);
    err
}

/// Reads `lp_sdes` (an array of SDEs, or `null` for none) where a deserializer stands on it, in
/// one pass: the types the platform keeps are read into [`CustomerInfo`] and [`PersonalInfo`]
/// as they stream by. The reason for a refusal is left in the `detail` it is given.
pub(crate) struct Seed<'r> {
    detail: &'r mut Option<String>,
}

impl<'r> Seed<'r> {
    pub(crate) fn new(detail: &'r mut Option<String>) -> Self {
        Self { detail }
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = AuthenticatedSdes;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = AuthenticatedSdes;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of SDE objects")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(AuthenticatedSdes::default())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = AuthenticatedSdes::default();
        for i in 0.. {
            let sde = Sde {
                i,
                detail: &mut *self.detail,
                out: &mut out,
            };
            match seq.next_element_seed(sde) {
                Ok(Some(())) => {}
                Ok(None) => break,
                Err(err) => {
                    self.detail
                        .get_or_insert_with(|| format!("lp_sdes[{i}]: {}", message(&err)));
                    return Err(err);
                }
            }
        }
        Ok(out)
    }
}

/// One SDE, `lp_sdes[i]`.
struct Sde<'r> {
    i: usize,
    detail: &'r mut Option<String>,
    out: &'r mut AuthenticatedSdes,
}

impl<'de> DeserializeSeed<'de> for Sde<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Sde<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an SDE object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let i = self.i;
        let mut kind: Option<Cow<'de, str>> = None;
        // A body that came before `type` (JSON members have no order), read once `type` is known;
        // one slot per kept type, `Kept as usize`.
        let mut early: [Option<&'de RawValue>; 2] = [None, None];
        let mut body_read = false;
        while let Some(Text(key)) = map.next_key()? {
            match &*key {
                "type" => {
                    if kind.is_some() {
                        return Err(fail(
                            self.detail,
                            format!("lp_sdes[{i}] has two \"type\" members"),
                        ));
                    }
                    match map.next_value()? {
                        Claim::Text(text) => kind = Some(text),
                        _ => {
                            return Err(fail(
                                self.detail,
                                format!("lp_sdes[{i}] has no string \"type\""),
                            ))
                        }
                    }
                }
                member => match (Kept::owning(member), kind.as_deref()) {
                    // The body of the type this SDE says it is: read now.
                    (Some(owner), Some(kind)) if Kept::of(kind) == Some(owner) => {
                        if body_read {
                            return Err(fail(
                                self.detail,
                                format!("lp_sdes[{i}] has two {key:?} members"),
                            ));
                        }
                        body_read = true;
                        let body = Body {
                            i,
                            kept: owner,
                            detail: &mut *self.detail,
                            out: &mut *self.out,
                        };
                        map.next_value_seed(body).inspect_err(|_| {
                            self.detail.get_or_insert_with(|| {
                                format!("lp_sdes[{i}] needs an object member {key:?}")
                            });
                        })?;
                    }
                    // A body before the type: kept as text until the type is known.
                    (Some(owner), None) => {
                        if early[owner as usize].replace(map.next_value()?).is_some() {
                            return Err(fail(
                                self.detail,
                                format!("lp_sdes[{i}] has two {key:?} members"),
                            ));
                        }
                    }
                    // Another type's body, or a member the platform does not read.
                    _ => {
                        map.next_value::<Skip>()?;
                    }
                },
            }
        }
        let Some(kind) = kind else {
            return Err(fail(
                self.detail,
                format!("lp_sdes[{i}] has no string \"type\""),
            ));
        };
        match Kept::of(&kind) {
            Some(kept) if !body_read => {
                let raw = early[kept as usize];
                let needs = || format!("lp_sdes[{i}] needs an object member {:?}", kept.body());
                let Some(raw) = raw else {
                    return Err(fail(self.detail, needs()));
                };
                let body = Body {
                    i,
                    kept,
                    detail: &mut *self.detail,
                    out: &mut *self.out,
                };
                let mut deserializer = serde_json::Deserializer::from_str(raw.get());
                if body.deserialize(&mut deserializer).is_err() {
                    return Err(de::Error::custom(self.detail.get_or_insert_with(needs)));
                }
            }
            Some(_) => {}
            None if UNSUPPORTED_TYPES.contains(&&*kind) => self.out.warnings.push(format!(
                "lp_sdes[{i}] type {kind:?} dropped: not supported in authenticated flows"
            )),
            None => self.out.warnings.push(format!(
                "lp_sdes[{i}] type {kind:?} dropped: unknown SDE type"
            )),
        }
        Ok(())
    }
}

/// The fields of a kept SDE (`info` or `personal`), checked and stored.
struct Body<'r> {
    i: usize,
    kept: Kept,
    detail: &'r mut Option<String>,
    out: &'r mut AuthenticatedSdes,
}

impl<'de> DeserializeSeed<'de> for Body<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Body<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let (i, kind) = (self.i, self.kept.kind());
        let refused = |detail: &mut Option<String>, why: String| {
            fail::<A::Error>(detail, format!("lp_sdes[{i}] {kind}: {why}"))
        };
        let warnings = &mut self.out.warnings;
        let replaced = match self.kept {
            Kept::Customer => {
                let fields = Only {
                    map,
                    kept: Kept::Customer,
                    warnings,
                };
                let info = CustomerInfo::deserialize(MapAccessDeserializer::new(fields))
                    .map_err(|err| refused(self.detail, message(&err)))?;
                check_customer(&info).map_err(|why| refused(self.detail, why))?;
                self.out.customer_info.replace(Box::new(info)).is_some()
            }
            Kept::Personal => {
                let fields = Only {
                    map,
                    kept: Kept::Personal,
                    warnings,
                };
                let info = PersonalInfo::deserialize(MapAccessDeserializer::new(fields))
                    .map_err(|err| refused(self.detail, message(&err)))?;
                check_personal(&info).map_err(|why| refused(self.detail, why))?;
                self.out.personal_info.replace(Box::new(info)).is_some()
            }
        };
        if replaced {
            self.out
                .warnings
                .push(format!("lp_sdes[{i}]: a second {kind} replaces the first"));
        }
        Ok(())
    }
}

/// A map of an SDE's fields with only those its type keeps left in: the others are skipped,
/// each with a warning, so that the strict types read the rest.
struct Only<'r, A> {
    map: A,
    kept: Kept,
    warnings: &'r mut Vec<String>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Only<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        while let Some(Text(key)) = self.map.next_key()? {
            if self.kept.allows(&key) {
                return seed
                    .deserialize(de::value::CowStrDeserializer::new(key))
                    .map(Some);
            }
            let why = if self.kept.excludes(&key) {
                "not supported in authenticated flows"
            } else {
                "not a field of the SDE schema"
            };
            let (kind, body) = (self.kept.kind(), self.kept.body());
            // One allocation of the exact length; `format!` grows its buffer as it writes.
            self.warnings
                .push([kind, ".", body, ".", &key, " dropped: ", why].concat());
            self.map.next_value::<Skip>()?;
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

fn first(bad: Vec<(BadField, String)>) -> Result<(), String> {
    bad.into_iter().next().map_or(Ok(()), |(_, why)| Err(why))
}

fn check_customer(info: &CustomerInfo) -> Result<(), String> {
    first(customer_violations(info))
}

fn check_personal(info: &PersonalInfo) -> Result<(), String> {
    first(personal_violations(info))
}

#[cfg(test)]
mod tests {
    use super::super::flatten_authenticated;
    use super::*;
    use serde_json::json;

    #[test]
    fn alices_sdes_survive_without_the_excluded_store_fields() {
        let alice = crate::claims::fixture_personas()
            .find("alice")
            .unwrap()
            .lp_sdes
            .clone()
            .unwrap();
        let out = read(&alice.to_string()).unwrap();
        let info = out.customer_info.unwrap();
        assert_eq!(info.customer_id.as_deref(), Some("CUST-0001-ALICE"));
        assert!(info.store_number.is_none() && info.store_zip_code.is_none());
        assert_eq!(out.personal_info.unwrap().contacts.len(), 2);
        assert_eq!(
            out.warnings,
            [
                "ctmrinfo.info.storeNumber dropped: not supported in authenticated flows",
                "ctmrinfo.info.storeZipCode dropped: not supported in authenticated flows"
            ]
        );
    }

    #[test]
    fn unsupported_and_unknown_types_are_dropped_with_warnings() {
        let out = read(&json!([{"type": "cart", "total": 1}, {"type": "wishlist"}, {"type": "ctmrinfo", "info": {"ctype": "vip", "nickname": "x"}}]).to_string()).unwrap();
        assert_eq!(out.customer_info.unwrap().ctype.as_deref(), Some("vip"));
        assert_eq!(out.warnings.len(), 3, "{:?}", out.warnings);
        assert!(out.warnings[0].contains("\"cart\" dropped: not supported"));
        assert!(out.warnings[1].contains("unknown SDE type"));
        assert!(out.warnings[2].contains("nickname dropped"));
    }

    #[test]
    fn each_refusal_says_where_and_why() {
        for (sdes, detail) in [
            (json!({"type": "ctmrinfo"}), "lp_sdes: invalid type: map, expected a JSON array of SDE objects"),
            (json!(["ctmrinfo"]), "lp_sdes[0]: invalid type: string \"ctmrinfo\", expected an SDE object"),
            (json!([{"kind": "personal"}]), "lp_sdes[0] has no string \"type\""),
            (json!([{}, {"type": 7}]), "lp_sdes[0] has no string \"type\""),
            (json!([{"type": "cart"}, {"type": 7}]), "lp_sdes[1] has no string \"type\""),
            (json!([{"type": "personal"}]), "lp_sdes[0] needs an object member \"personal\""),
            (json!([{"type": "personal", "personal": [1]}]), "lp_sdes[0] needs an object member \"personal\""),
            (json!([{"personal": "x", "type": "personal"}]), "lp_sdes[0] needs an object member \"personal\""),
            (json!([{"type": "ctmrinfo", "info": {"balance": "lots"}}]), "lp_sdes[0] ctmrinfo: invalid type: string \"lots\", expected f64"),
            (json!([{"info": {"balance": "lots"}, "type": "ctmrinfo"}]), "lp_sdes[0] ctmrinfo: invalid type: string \"lots\", expected f64"),
            (json!([{"type": "personal", "personal": {"gender": 7}}]), "lp_sdes[0] personal: gender code 7 is not 0, 1 or 2"),
            (json!([{"type": "personal", "personal": {"age": {"age": 30, "eyes": 2}}}]), "lp_sdes[0] personal: unknown field `eyes`, expected one of `age`, `year`, `month`, `day`"),
        ] {
            assert_eq!(read(&sdes.to_string()).unwrap_err().detail, detail, "{sdes}");
        }
        for (sdes, detail) in [
            (
                r#"[{"type":"ctmrinfo","type":"personal"}]"#,
                "lp_sdes[0] has two \"type\" members",
            ),
            (
                r#"[{"type":"ctmrinfo","info":{},"info":{}}]"#,
                "lp_sdes[0] has two \"info\" members",
            ),
            (
                r#"[{"type":"ctmrinfo","info":{"ctype":"a","ctype":"b"}}]"#,
                "lp_sdes[0] ctmrinfo: duplicate field `ctype`",
            ),
            (r#"[] []"#, "lp_sdes: trailing characters"),
        ] {
            assert_eq!(read(sdes).unwrap_err().detail, detail, "{sdes}");
        }
    }

    #[test]
    fn dates_are_real_calendar_dates() {
        let date = |day, month, year| {
            read(&json!([{"type": "ctmrinfo", "info": {"lastPaymentDate": {"day": day, "month": month, "year": year}}}]).to_string())
                .map(|_| ())
                .map_err(|e| e.detail)
        };
        assert_eq!(date(29, 2, 2024), Ok(()));
        assert_eq!(date(31, 12, 9999), Ok(()));
        assert_eq!(date(1, 1, 1), Ok(()));
        for (day, month, year) in [
            (29, 2, 2025),
            (29, 2, 1900),
            (31, 4, 2026),
            (0, 1, 2026),
            (1, 13, 2026),
            (1, 1, 0),
            (1, 1, 10000),
            (256, 1, 2026),
        ] {
            assert_eq!(
                date(day, month, year),
                Err(format!("lp_sdes[0] ctmrinfo: lastPaymentDate is not a calendar date ({day}/{month}/{year})"))
            );
        }
    }

    #[test]
    fn a_body_before_its_type_reads_the_same() {
        let first =
            read(r#"[{"type":"ctmrinfo","info":{"ctype":"vip","storeNumber":"1"}}]"#).unwrap();
        let later =
            read(r#"[{"info":{"ctype":"vip","storeNumber":"1"},"type":"ctmrinfo"}]"#).unwrap();
        assert_eq!(first, later);
        assert_eq!(later.customer_info.unwrap().ctype.as_deref(), Some("vip"));
        assert_eq!(
            later.warnings,
            ["ctmrinfo.info.storeNumber dropped: not supported in authenticated flows"]
        );
        assert_eq!(read("null").unwrap(), AuthenticatedSdes::default());
    }

    #[test]
    fn the_agents_fields_keep_the_brands_order_and_the_last_of_a_type() {
        let sdes = json!([
            {"type": "personal", "personal": {"lastname": "Liddell", "firstname": "Alice", "nickname": "x"}},
            {"type": "ctmrinfo", "info": {"ctype": "old"}},
            {"type": "ctmrinfo", "info": {"role": "owner", "ctype": "vip", "storeNumber": "1", "lastPaymentDate": {"day": 1, "month": 2, "year": 2026}}},
            {"type": "cart", "total": 3}
        ]);
        let out = read(&sdes.to_string()).unwrap();
        assert_eq!(
            out.warnings,
            [
                "personal.personal.nickname dropped: not a field of the SDE schema",
                "ctmrinfo.info.storeNumber dropped: not supported in authenticated flows",
                "lp_sdes[2]: a second ctmrinfo replaces the first",
                "lp_sdes[3] type \"cart\" dropped: not supported in authenticated flows",
            ]
        );
        assert_eq!(out.customer_info.unwrap().ctype.as_deref(), Some("vip"));
        assert_eq!(
            flatten_authenticated(&sdes),
            [
                ("personal.lastname", "Liddell"),
                ("personal.firstname", "Alice"),
                ("ctmrinfo.role", "owner"),
                ("ctmrinfo.ctype", "vip"),
                ("ctmrinfo.lastPaymentDate.day", "1"),
                ("ctmrinfo.lastPaymentDate.month", "2"),
                ("ctmrinfo.lastPaymentDate.year", "2026"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
    }

    #[test]
    fn only_ctmrinfos_store_fields_are_unsupported_and_another_types_body_is_not_read() {
        let out = read(
            r#"[{"type":"ctmrinfo","info":{"ctype":"vip","nickname":"x","storeZipCode":"1"},"personal":{"firstname":"Eve"}},
                {"type":"personal","personal":{"firstname":"Ann","storeNumber":"1"}},
                {"type":"cart","info":{"ctype":"gold"}}]"#,
        )
        .unwrap();
        assert_eq!(
            out.warnings,
            [
                "ctmrinfo.info.nickname dropped: not a field of the SDE schema",
                "ctmrinfo.info.storeZipCode dropped: not supported in authenticated flows",
                "personal.personal.storeNumber dropped: not a field of the SDE schema",
                "lp_sdes[2] type \"cart\" dropped: not supported in authenticated flows",
            ]
        );
        assert_eq!(out.customer_info.unwrap().ctype.as_deref(), Some("vip"));
        assert_eq!(out.personal_info.unwrap().firstname.as_deref(), Some("Ann"));
    }

    #[test]
    fn wrong_types_are_lp_sdes_invalid() {
        for bad in [
            json!({"type": "ctmrinfo"}),
            json!([{"type": "ctmrinfo", "info": {"balance": "lots"}}]),
            json!([{"type": "ctmrinfo", "info": {"companySize": 2.5}}]),
            json!([{"type": "ctmrinfo", "info": {"lastPaymentDate": {"day": 40, "month": 1, "year": 2020}}}]),
            json!([{"type": "ctmrinfo", "info": {"lastPaymentDate": {"day": 31, "month": 4, "year": 2026}}}]),
            json!([{"type": "ctmrinfo", "info": {"registrationDate": {"day": 29, "month": 2, "year": 2025}}}]),
            json!([{"type": "personal", "personal": {"age": {"day": 30, "month": 2, "year": 1990}}}]),
            json!([{"type": "personal", "personal": {"gender": 7}}]),
            json!([{"type": "personal", "personal": {"gender": "robot"}}]),
            json!([{"type": "personal", "personal": {"contacts": [{"phoneType": "CELL"}]}}]),
            json!([{"type": "personal", "personal": {"contacts": [{"address": {"country": "gb"}}]}}]),
            json!([{"type": "personal", "personal": {"language": "english"}}]),
            json!([{"type": "personal", "personal": {"language": "en-USA"}}]),
            json!([{"type": "personal", "personal": {"language": "en-us"}}]),
            json!([{"type": "personal"}]),
            json!([{"kind": "personal"}]),
            json!(["ctmrinfo"]),
        ] {
            let err = read(&bad.to_string()).unwrap_err();
            assert_eq!(err.reason, RejectReason::LpSdesInvalid, "{bad}");
        }
        // Nesting past the parser's limit, even in a field that would be dropped.
        let deep = format!(
            r#"[{{"type":"ctmrinfo","info":{{"ctype":"vip","nickname":{}{}}}}}]"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        let err = read(&deep).unwrap_err();
        assert_eq!(err.detail, "lp_sdes[0] ctmrinfo: recursion limit exceeded");
    }
}
