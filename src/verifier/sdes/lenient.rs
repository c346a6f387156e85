//! The platform's reading of an `lp_sdes` the strict reader refused: nothing in the platform's
//! docs fails a login over SDE content, and they drop unsupported types and fields
//! (`liveperson-auth.md` §3.3), so whatever cannot be used is dropped, each part with a warning
//! that names it, and the rest is kept. `lp_sdes_strict` refuses instead (`lp_sdes_invalid`).
//!
//! Only refused claims come here: a valid claim is read once, by the streaming reader, and a
//! claim it refuses is read again below, value by value. The agent is then shown what was kept,
//! in the schema's order.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{
    customer_violations, personal_violations, AuthenticatedSdes, BadField, Kept, UNSUPPORTED_TYPES,
};
use crate::claims::{CustomerInfo, Gender, PersonalInfo};
use crate::verifier::json::{message, Text};
use crate::verifier::rejection::Rejection;

/// What one value must be.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Text,
    Number,
    Integer,
    Gender,
    /// An object of these members; with `all`, every member is required.
    Record(&'static [(&'static str, Shape)], bool),
    List(&'static Shape),
}

const DATE: Shape = Shape::Record(
    &[
        ("day", Shape::Integer),
        ("month", Shape::Integer),
        ("year", Shape::Integer),
    ],
    true,
);
const AGE: Shape = Shape::Record(
    &[
        ("age", Shape::Integer),
        ("year", Shape::Integer),
        ("month", Shape::Integer),
        ("day", Shape::Integer),
    ],
    false,
);
const ADDRESS: Shape = Shape::Record(&[("country", Shape::Text), ("region", Shape::Text)], false);
const CONTACT: Shape = Shape::Record(
    &[
        ("email", Shape::Text),
        ("phone", Shape::Text),
        ("phoneType", Shape::Text),
        ("address", ADDRESS),
    ],
    false,
);

/// The shape of a field its type keeps ([`Kept::allows`]).
fn field_shape(kept: Kept, name: &str) -> Shape {
    match (kept, name) {
        (Kept::Customer, "balance") => Shape::Number,
        (Kept::Customer, "companySize" | "loginStatus") => Shape::Integer,
        (Kept::Customer, "lastPaymentDate" | "registrationDate") => DATE,
        (Kept::Personal, "age") => AGE,
        (Kept::Personal, "gender") => Shape::Gender,
        (Kept::Personal, "contacts") => Shape::List(&CONTACT),
        _ => Shape::Text,
    }
}

/// An object's members in the brand's order, or why it is not one.
struct Members<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members: Vec<(Cow<'de, str>, &'de RawValue)> = Vec::new();
                while let Some(Text(key)) = map.next_key()? {
                    if members.iter().any(|(k, _)| *k == key) {
                        return Err(de::Error::custom(format_args!(
                            "it has two {key:?} members"
                        )));
                    }
                    members.push((key, map.next_value()?));
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

fn members(raw: &RawValue) -> Result<Members<'_>, String> {
    serde_json::from_str(raw.get()).map_err(|e| {
        let text = message(&e);
        if text.starts_with("invalid type") {
            "it is not an object".to_owned()
        } else {
            text
        }
    })
}

/// Reads `lp_sdes` (JSON text) the lenient way; `refusal` is what the strict reader said, and
/// is the warning if nothing more precise can be said.
pub(crate) fn read_lenient(json: &str, refusal: &Rejection) -> AuthenticatedSdes {
    let mut out = AuthenticatedSdes::default();
    let mut shown = Vec::new();
    match serde_json::from_str::<Option<Vec<&RawValue>>>(json) {
        Ok(items) => {
            for (i, raw) in items.into_iter().flatten().enumerate() {
                if let Some(sde) = sde(i, raw, &mut out) {
                    shown.retain(|s: &Value| s.get("type") != sde.get("type"));
                    shown.push(sde);
                }
            }
        }
        Err(_) => out
            .warnings
            .push("lp_sdes dropped: it is not an array of SDE objects".into()),
    }
    if out.warnings.is_empty() {
        out.warnings.push(format!("lp_sdes: {}", refusal.detail));
    }
    out.shown = Some(Value::Array(shown));
    out
}

/// One SDE: what the agent is shown of it, if its type is kept and anything of it survives.
fn sde(i: usize, raw: &RawValue, out: &mut AuthenticatedSdes) -> Option<Value> {
    let mut drop_all = |why: String| out.warnings.push(format!("lp_sdes[{i}] dropped: {why}"));
    let sde = match members(raw) {
        Ok(sde) => sde,
        Err(why) => {
            drop_all(why);
            return None;
        }
    };
    let kind = sde
        .0
        .iter()
        .find(|(k, _)| k == "type")
        .and_then(|(_, v)| serde_json::from_str::<String>(v.get()).ok());
    let Some(kind) = kind else {
        drop_all("it has no string \"type\"".into());
        return None;
    };
    let Some(kept) = Kept::of(&kind) else {
        let why = if UNSUPPORTED_TYPES.contains(&kind.as_str()) {
            "not supported in authenticated flows"
        } else {
            "unknown SDE type"
        };
        out.warnings
            .push(format!("lp_sdes[{i}] type {kind:?} dropped: {why}"));
        return None;
    };
    let (kind, body_name) = (kept.kind(), kept.body());
    let body = sde
        .0
        .iter()
        .find(|(k, _)| k == body_name)
        .ok_or_else(|| format!("it needs an object member {body_name:?}"))
        .and_then(|(_, body)| members(body).map_err(|why| format!("{body_name}: {why}")));
    let body = match body {
        Ok(body) => body,
        Err(why) => {
            out.warnings
                .push(format!("lp_sdes[{i}] {kind} dropped: {why}"));
            return None;
        }
    };
    let prefix = format!("{kind}.{body_name}");
    let mut fields = Map::new();
    for (name, value) in body.0 {
        let path = format!("{prefix}.{name}");
        if !kept.allows(&name) {
            let why = if kept.excludes(&name) {
                "not supported in authenticated flows"
            } else {
                "not a field of the SDE schema"
            };
            out.warnings.push(format!("{path} dropped: {why}"));
            continue;
        }
        if let Some(value) = clean(value, field_shape(kept, &name), &path, &mut out.warnings) {
            fields.insert(name.into_owned(), value);
        }
    }
    let fields = Value::Object(fields);
    let typed = match kept {
        Kept::Customer => CustomerInfo::deserialize(&fields).map(|mut info| {
            for (bad, why) in customer_violations(&info) {
                clear_customer(&mut info, bad);
                out.warnings
                    .push(format!("{prefix}.{} dropped: {why}", bad.path()));
            }
            let shown = serde_json::to_value(&info).unwrap_or_default();
            let replaced = out.customer_info.replace(Box::new(info)).is_some();
            (shown, replaced)
        }),
        Kept::Personal => PersonalInfo::deserialize(&fields).map(|mut info| {
            for (bad, why) in personal_violations(&info) {
                clear_personal(&mut info, bad);
                out.warnings
                    .push(format!("{prefix}.{} dropped: {why}", bad.path()));
            }
            let shown = serde_json::to_value(&info).unwrap_or_default();
            let replaced = out.personal_info.replace(Box::new(info)).is_some();
            (shown, replaced)
        }),
    };
    match typed {
        Ok((shown, replaced)) => {
            if replaced {
                out.warnings
                    .push(format!("lp_sdes[{i}]: a second {kind} replaces the first"));
            }
            Some(serde_json::json!({ "type": kind, body_name: shown }))
        }
        // Cannot happen: every kept value has its type's shape by now.
        Err(err) => {
            out.warnings
                .push(format!("lp_sdes[{i}] {kind} dropped: {err}"));
            None
        }
    }
}

/// `raw` as `shape` says, with what does not fit dropped and named in `warnings`; `None` when
/// nothing of it can be kept.
fn clean(raw: &RawValue, shape: Shape, path: &str, warnings: &mut Vec<String>) -> Option<Value> {
    let mut drop = |why: &str| {
        warnings.push(format!("{path} dropped: {why}"));
        None
    };
    match shape {
        Shape::Text => match serde_json::from_str::<String>(raw.get()) {
            Ok(text) => Some(Value::String(text)),
            Err(_) => drop("it must be a string"),
        },
        Shape::Number => match serde_json::from_str::<Value>(raw.get()) {
            Ok(number @ Value::Number(_)) => Some(number),
            _ => drop("it must be a number"),
        },
        Shape::Integer => match serde_json::from_str::<i64>(raw.get()) {
            Ok(n) => Some(Value::from(n)),
            Err(_) => drop("it must be a whole number"),
        },
        Shape::Gender => match serde_json::from_str::<Gender>(raw.get()) {
            Ok(gender) => serde_json::to_value(gender).ok(),
            Err(_) => drop("it must be a code or a name"),
        },
        Shape::List(item) => match serde_json::from_str::<Vec<&RawValue>>(raw.get()) {
            Ok(items) => Some(Value::Array(
                items
                    .into_iter()
                    .enumerate()
                    .filter_map(|(j, raw)| clean(raw, *item, &format!("{path}[{j}]"), warnings))
                    .collect(),
            )),
            Err(_) => drop("it must be an array"),
        },
        Shape::Record(fields, all) => {
            let members = match members(raw) {
                Ok(members) => members,
                Err(why) => return drop(&why),
            };
            let mut kept = Map::new();
            for (name, value) in members.0 {
                let inner = format!("{path}.{name}");
                match fields.iter().find(|(f, _)| *f == name) {
                    Some((_, shape)) => {
                        if let Some(value) = clean(value, *shape, &inner, warnings) {
                            kept.insert(name.into_owned(), value);
                        }
                    }
                    None => {
                        warnings.push(format!("{inner} dropped: not a field of the SDE schema"))
                    }
                }
            }
            if all && kept.len() != fields.len() {
                let names: Vec<&str> = fields.iter().map(|(f, _)| *f).collect();
                warnings.push(format!("{path} dropped: it needs {}", names.join(", ")));
                return None;
            }
            Some(Value::Object(kept))
        }
    }
}

fn clear_customer(info: &mut CustomerInfo, bad: BadField) {
    match bad {
        BadField::LastPaymentDate => info.last_payment_date = None,
        BadField::RegistrationDate => info.registration_date = None,
        BadField::Balance => info.balance = None,
        _ => {}
    }
}

fn clear_personal(info: &mut PersonalInfo, bad: BadField) {
    match bad {
        BadField::Age => info.age = None,
        BadField::Gender => info.gender = None,
        BadField::Language => info.language = None,
        BadField::PhoneType(i) => {
            if let Some(contact) = info.contacts.get_mut(i) {
                contact.phone_type = None;
            }
        }
        BadField::Country(i) => {
            if let Some(address) = info.contacts.get_mut(i).and_then(|c| c.address.as_mut()) {
                address.country = None;
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::read;
    use super::*;
    use crate::verifier::reason::RejectReason;
    use serde_json::json;

    fn lenient(sdes: &str) -> AuthenticatedSdes {
        let refusal = read(sdes).expect_err("the strict reader refuses it");
        read_lenient(sdes, &refusal)
    }

    #[test]
    fn each_strict_refusal_drops_what_it_names_and_keeps_the_rest() {
        for (sdes, warnings, kept) in [
            (
                json!({"type": "ctmrinfo"}).to_string(),
                vec!["lp_sdes dropped: it is not an array of SDE objects"],
                json!([]),
            ),
            (
                json!(["ctmrinfo", {"type": "ctmrinfo", "info": {"ctype": "vip"}}]).to_string(),
                vec!["lp_sdes[0] dropped: it is not an object"],
                json!([{"type": "ctmrinfo", "info": {"ctype": "vip"}}]),
            ),
            (
                json!([{"kind": "personal"}, {"type": 7}]).to_string(),
                vec![
                    "lp_sdes[0] dropped: it has no string \"type\"",
                    "lp_sdes[1] dropped: it has no string \"type\"",
                ],
                json!([]),
            ),
            (
                json!([{"type": "personal"}, {"type": "personal", "personal": [1]}]).to_string(),
                vec![
                    "lp_sdes[0] personal dropped: it needs an object member \"personal\"",
                    "lp_sdes[1] personal dropped: personal: it is not an object",
                ],
                json!([]),
            ),
            (
                json!([{"type": "ctmrinfo", "info": {"balance": "lots", "ctype": "vip", "companySize": 2.5}}]).to_string(),
                vec![
                    "ctmrinfo.info.balance dropped: it must be a number",
                    "ctmrinfo.info.companySize dropped: it must be a whole number",
                ],
                json!([{"type": "ctmrinfo", "info": {"ctype": "vip"}}]),
            ),
            (
                json!([{"type": "ctmrinfo", "info": {"role": "owner", "lastPaymentDate": {"day": 31, "month": 2, "year": 2026}, "registrationDate": {"day": 1, "month": 2}}}]).to_string(),
                vec![
                    "ctmrinfo.info.registrationDate dropped: it needs day, month, year",
                    "ctmrinfo.info.lastPaymentDate dropped: lastPaymentDate is not a calendar date (31/2/2026)",
                ],
                json!([{"type": "ctmrinfo", "info": {"role": "owner"}}]),
            ),
            (
                json!([{"type": "personal", "personal": {"firstname": "Ann", "gender": 7, "language": "english", "age": {"age": 30, "eyes": 2}}}]).to_string(),
                vec![
                    "personal.personal.age.eyes dropped: not a field of the SDE schema",
                    "personal.personal.gender dropped: gender code 7 is not 0, 1 or 2",
                    "personal.personal.language dropped: language \"english\" is not like en-US",
                ],
                json!([{"type": "personal", "personal": {"firstname": "Ann", "age": {"age": 30}}}]),
            ),
            (
                json!([{"type": "personal", "personal": {"contacts": [
                    {"email": "a@example.com", "phoneType": "CELL", "fax": "1", "address": {"country": "gb", "region": "Kent", "zip": "1"}},
                    "not a contact",
                    {"phone": 5}
                ]}}]).to_string(),
                vec![
                    "personal.personal.contacts[0].fax dropped: not a field of the SDE schema",
                    "personal.personal.contacts[0].address.zip dropped: not a field of the SDE schema",
                    "personal.personal.contacts[1] dropped: it is not an object",
                    "personal.personal.contacts[2].phone dropped: it must be a string",
                    "personal.personal.contacts[0].phoneType dropped: contacts[0].phoneType \"CELL\" is not one of HOME, MOBILE, WORK, FAX, MAIN, HOME_FAX, WORK_FAX, PAGER, OTHER",
                    "personal.personal.contacts[0].address.country dropped: contacts[0].address.country \"gb\" is not ISO 3166-1 alpha-2 upper case",
                ],
                json!([{"type": "personal", "personal": {"contacts": [
                    {"email": "a@example.com", "address": {"region": "Kent"}},
                    {}
                ]}}]),
            ),
            (
                r#"[{"type":"ctmrinfo","type":"personal"},{"type":"ctmrinfo","info":{"ctype":"a","ctype":"b"}},{"type":"cart"}]"#.to_owned(),
                vec![
                    "lp_sdes[0] dropped: it has two \"type\" members",
                    "lp_sdes[1] ctmrinfo dropped: info: it has two \"ctype\" members",
                    "lp_sdes[2] type \"cart\" dropped: not supported in authenticated flows",
                ],
                json!([]),
            ),
        ] {
            let out = lenient(&sdes);
            assert_eq!(out.warnings, warnings, "{sdes}");
            assert_eq!(out.shown, Some(kept), "{sdes}");
        }
    }

    #[test]
    fn what_is_kept_is_typed_and_the_last_of_a_type_wins() {
        let out = lenient(
            &json!([
                {"type": "ctmrinfo", "info": {"ctype": "old", "balance": "x"}},
                {"type": "ctmrinfo", "info": {"ctype": "vip", "storeNumber": "1"}},
                {"type": "personal", "personal": {"firstname": "Ann", "gender": "robot"}}
            ])
            .to_string(),
        );
        assert_eq!(
            out.warnings,
            [
                "ctmrinfo.info.balance dropped: it must be a number",
                "ctmrinfo.info.storeNumber dropped: not supported in authenticated flows",
                "lp_sdes[1]: a second ctmrinfo replaces the first",
                "personal.personal.gender dropped: gender \"robot\" is not MALE, FEMALE or OTHER",
            ]
        );
        assert_eq!(out.customer_info.unwrap().ctype.as_deref(), Some("vip"));
        let personal = out.personal_info.unwrap();
        assert_eq!(
            (personal.firstname.as_deref(), personal.gender),
            (Some("Ann"), None)
        );
        assert_eq!(
            out.shown,
            Some(json!([
                {"type": "ctmrinfo", "info": {"ctype": "vip"}},
                {"type": "personal", "personal": {"firstname": "Ann"}}
            ]))
        );
    }

    #[test]
    fn a_dropped_value_is_gone_from_the_typed_sdes_too() {
        let out = lenient(
            &json!([
                {"type": "ctmrinfo", "info": {"ctype": "vip", "registrationDate": {"day": 30, "month": 2, "year": 2025}, "lastPaymentDate": {"day": 1, "month": 2, "year": 2026}}},
                {"type": "personal", "personal": {"firstname": "Ann", "age": {"age": 30, "day": 30, "month": 2, "year": 1996}}}
            ])
            .to_string(),
        );
        assert_eq!(
            out.warnings,
            [
                "ctmrinfo.info.registrationDate dropped: registrationDate is not a calendar date (30/2/2025)",
                "personal.personal.age dropped: age is not a calendar date (30/2/1996)",
            ]
        );
        let customer = out.customer_info.unwrap();
        assert_eq!(customer.registration_date, None);
        assert!(customer.last_payment_date.is_some());
        let personal = out.personal_info.unwrap();
        assert_eq!(
            (personal.firstname.as_deref(), personal.age),
            (Some("Ann"), None)
        );
        // JSON has no infinite number: 1e400 is no number at all, and never a balance.
        let out = lenient(r#"[{"type":"ctmrinfo","info":{"ctype":"vip","balance":1e400}}]"#);
        assert_eq!(
            out.warnings,
            ["ctmrinfo.info.balance dropped: it must be a number"]
        );
        assert_eq!(out.customer_info.unwrap().balance, None);
    }

    #[test]
    fn a_claim_the_strict_reader_takes_reads_the_same() {
        let alice = crate::claims::fixture_personas()
            .find("alice")
            .unwrap()
            .lp_sdes
            .clone()
            .unwrap()
            .to_string();
        let strict = read(&alice).unwrap();
        let lenient = read_lenient(&alice, &Rejection::new(RejectReason::LpSdesInvalid, "-"));
        assert_eq!(lenient.customer_info, strict.customer_info);
        assert_eq!(lenient.personal_info, strict.personal_info);
        assert_eq!(lenient.warnings, strict.warnings);
    }

    #[test]
    fn nothing_precise_to_say_falls_back_on_the_refusal() {
        let deep = format!("[{}{}]", "[".repeat(200), "]".repeat(200));
        let out = lenient(&deep);
        assert_eq!(out.warnings.len(), 1);
        assert!(out.warnings[0].starts_with("lp_sdes"), "{:?}", out.warnings);
        assert_eq!(out.shown, Some(json!([])));
    }
}
