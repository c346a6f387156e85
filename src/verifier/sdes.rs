//! `lp_sdes` in authenticated flows (`liveperson-auth.md` §3.3): `ctmrinfo` and `personal`
//! become authenticated customer information; unsupported SDE types, the fields the docs
//! exclude from authenticated flows (`storeNumber`, `storeZipCode`) and unknown fields are
//! dropped with a warning; a supported field of the wrong type is `lp_sdes_invalid`.

use serde_json::{Map, Value};

use super::reason::{RejectReason, Rejection};
use crate::claims::{CustomerInfo, Gender, PersonalInfo};

/// The SDE types the docs mark "no" for authenticated flows (§3.3, S10).
const UNSUPPORTED_TYPES: [&str; 7] = [
    "cart", "purchase", "prodView", "mrktInfo", "lead", "service", "error",
];

/// `ctmrinfo.info` fields usable in authenticated flows (§3.3 table, "auth-flow? yes").
const CUSTOMER_FIELDS: [&str; 15] = [
    "cstatus",
    "ctype",
    "balance",
    "currency",
    "customerId",
    "socialId",
    "imei",
    "userName",
    "companySize",
    "companyBranch",
    "accountName",
    "role",
    "lastPaymentDate",
    "registrationDate",
    "loginStatus",
];

/// `ctmrinfo.info` fields "NOT supported in an authenticated flow" (§3.3).
const CUSTOMER_EXCLUDED: [&str; 2] = ["storeNumber", "storeZipCode"];

/// `personal.personal` fields (§3.3).
const PERSONAL_FIELDS: [&str; 7] = [
    "firstname",
    "lastname",
    "age",
    "contacts",
    "gender",
    "company",
    "language",
];

/// `contacts[].phoneType` values (§3.3).
const PHONE_TYPES: [&str; 9] = [
    "HOME", "MOBILE", "WORK", "FAX", "MAIN", "HOME_FAX", "WORK_FAX", "PAGER", "OTHER",
];

/// What survives of `lp_sdes`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct AuthenticatedSdes {
    pub(crate) customer_info: Option<CustomerInfo>,
    pub(crate) personal_info: Option<PersonalInfo>,
    pub(crate) warnings: Vec<String>,
    /// The kept fields as the agent sees them (`ctmrinfo.balance`, `personal.contacts[0].email`),
    /// in the brand's order.
    pub(crate) flat: Vec<(String, String)>,
}

fn invalid(detail: impl Into<String>) -> Rejection {
    Rejection::new(RejectReason::LpSdesInvalid, detail)
}

/// Reports the members of `object` that are not `allowed` in `warnings`.
fn warn_unknown(
    object: &Map<String, Value>,
    allowed: &[&str],
    excluded: &[&str],
    path: &str,
    warnings: &mut Vec<String>,
) {
    for key in object.keys() {
        if allowed.contains(&key.as_str()) {
            continue;
        }
        if excluded.contains(&key.as_str()) {
            warnings.push(format!(
                "{path}.{key} dropped: not supported in authenticated flows"
            ));
        } else {
            warnings.push(format!(
                "{path}.{key} dropped: not a field of the SDE schema"
            ));
        }
    }
}

/// Validates and filters an `lp_sdes` claim.
pub(crate) fn authenticate(value: &Value) -> Result<AuthenticatedSdes, Rejection> {
    let Value::Array(sdes) = value else {
        return Err(invalid("lp_sdes must be a JSON array of SDE objects"));
    };
    let mut out = AuthenticatedSdes::default();
    for (i, sde) in sdes.iter().enumerate() {
        let Value::Object(sde) = sde else {
            return Err(invalid(format!("lp_sdes[{i}] is not an object")));
        };
        let Some(Value::String(kind)) = sde.get("type") else {
            return Err(invalid(format!("lp_sdes[{i}] has no string \"type\"")));
        };
        match kind.as_str() {
            "ctmrinfo" => {
                let info = body(sde, "info", i)?;
                let parsed: CustomerInfo = typed(
                    info,
                    &CUSTOMER_FIELDS,
                    &CUSTOMER_EXCLUDED,
                    "ctmrinfo.info",
                    &mut out.warnings,
                )
                .map_err(|err| invalid(format!("lp_sdes[{i}] ctmrinfo: {err}")))?;
                check_customer(&parsed)
                    .map_err(|m| invalid(format!("lp_sdes[{i}] ctmrinfo: {m}")))?;
                if out.customer_info.replace(parsed).is_some() {
                    out.warnings.push(format!(
                        "lp_sdes[{i}]: a second ctmrinfo replaces the first"
                    ));
                    out.flat.retain(|(k, _)| !k.starts_with("ctmrinfo."));
                }
                flatten_kept(info, &CUSTOMER_FIELDS, "ctmrinfo", &mut out.flat);
            }
            "personal" => {
                let personal = body(sde, "personal", i)?;
                let parsed: PersonalInfo = typed(
                    personal,
                    &PERSONAL_FIELDS,
                    &[],
                    "personal.personal",
                    &mut out.warnings,
                )
                .map_err(|err| invalid(format!("lp_sdes[{i}] personal: {err}")))?;
                check_personal(&parsed)
                    .map_err(|m| invalid(format!("lp_sdes[{i}] personal: {m}")))?;
                if out.personal_info.replace(parsed).is_some() {
                    out.warnings.push(format!(
                        "lp_sdes[{i}]: a second personal replaces the first"
                    ));
                    out.flat.retain(|(k, _)| !k.starts_with("personal."));
                }
                flatten_kept(personal, &PERSONAL_FIELDS, "personal", &mut out.flat);
            }
            other if UNSUPPORTED_TYPES.contains(&other) => {
                out.warnings.push(format!(
                    "lp_sdes[{i}] type {other:?} dropped: not supported in authenticated flows"
                ));
            }
            other => out.warnings.push(format!(
                "lp_sdes[{i}] type {other:?} dropped: unknown SDE type"
            )),
        }
    }
    Ok(out)
}

/// The SDE's object member `key` (`info`, `personal`), as a JSON value that is an object.
fn body<'a>(sde: &'a Map<String, Value>, key: &str, i: usize) -> Result<&'a Value, Rejection> {
    match sde.get(key) {
        Some(body @ Value::Object(_)) => Ok(body),
        _ => Err(invalid(format!(
            "lp_sdes[{i}] needs an object member {key:?}"
        ))),
    }
}

/// Parses an SDE body into its typed form. When every member is one the schema allows (the usual
/// case) the JSON is read in place; otherwise the others are dropped with a warning first.
fn typed<T: serde::de::DeserializeOwned>(
    body: &Value,
    allowed: &[&str],
    excluded: &[&str],
    path: &str,
    warnings: &mut Vec<String>,
) -> Result<T, serde_json::Error> {
    let Value::Object(map) = body else {
        return T::deserialize(body);
    };
    if map.keys().all(|k| allowed.contains(&k.as_str())) {
        return T::deserialize(body);
    }
    warn_unknown(map, allowed, excluded, path, warnings);
    let kept = map
        .iter()
        .filter(|(k, _)| allowed.contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), v));
    T::deserialize(serde::de::value::MapDeserializer::<_, serde_json::Error>::new(kept))
}

/// Flattens the allowed members of an SDE body under `prefix`.
fn flatten_kept(body: &Value, allowed: &[&str], prefix: &str, out: &mut Vec<(String, String)>) {
    for (key, value) in body.as_object().into_iter().flatten() {
        if allowed.contains(&key.as_str()) {
            super::consumer::flatten(format!("{prefix}.{key}"), value, out);
        }
    }
}

fn check_date(what: &str, day: i64, month: i64, year: i64) -> Result<(), String> {
    if !(1..=31).contains(&day) || !(1..=12).contains(&month) || !(1..=9999).contains(&year) {
        return Err(format!(
            "{what} is not a calendar date ({day}/{month}/{year})"
        ));
    }
    Ok(())
}

fn check_customer(info: &CustomerInfo) -> Result<(), String> {
    for (what, date) in [
        ("lastPaymentDate", info.last_payment_date),
        ("registrationDate", info.registration_date),
    ] {
        if let Some(d) = date {
            check_date(what, d.day, d.month, d.year)?;
        }
    }
    if info.balance.is_some_and(|b| !b.is_finite()) {
        return Err("balance must be a finite number".into());
    }
    Ok(())
}

fn check_personal(info: &PersonalInfo) -> Result<(), String> {
    if let Some(age) = &info.age {
        if age.age.is_some_and(|a| !(0..=150).contains(&a)) {
            return Err("age.age must be between 0 and 150".into());
        }
        if let (Some(day), Some(month), Some(year)) = (age.day, age.month, age.year) {
            check_date("age", day, month, year)?;
        }
    }
    match &info.gender {
        Some(Gender::Code(code)) if !(0..=2).contains(code) => {
            return Err(format!("gender code {code} is not 0, 1 or 2"))
        }
        Some(Gender::Name(name))
            if !["MALE", "FEMALE", "OTHER"].contains(&name.to_ascii_uppercase().as_str()) =>
        {
            return Err(format!("gender {name:?} is not MALE, FEMALE or OTHER"))
        }
        _ => {}
    }
    for (i, contact) in info.contacts.iter().enumerate() {
        if let Some(kind) = &contact.phone_type {
            if !PHONE_TYPES.contains(&kind.as_str()) {
                return Err(format!(
                    "contacts[{i}].phoneType {kind:?} is not one of {}",
                    PHONE_TYPES.join(", ")
                ));
            }
        }
        if let Some(country) = contact.address.as_ref().and_then(|a| a.country.as_deref()) {
            if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(format!("contacts[{i}].address.country {country:?} is not ISO 3166-1 alpha-2 upper case"));
            }
        }
    }
    if let Some(language) = &info.language {
        let valid = {
            let mut parts = language.splitn(2, ['-', '_']);
            let lang = parts.next().unwrap_or("");
            let region = parts.next();
            lang.len() == 2
                && lang.bytes().all(|b| b.is_ascii_lowercase())
                && region.is_none_or(|r| r.len() == 2 && r.bytes().all(|b| b.is_ascii_uppercase()))
        };
        if !valid {
            return Err(format!("language {language:?} is not like en-US"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
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
        let out = authenticate(&alice).unwrap();
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
        let out = authenticate(&json!([{"type": "cart", "total": 1}, {"type": "wishlist"}, {"type": "ctmrinfo", "info": {"ctype": "vip", "nickname": "x"}}])).unwrap();
        assert_eq!(out.customer_info.unwrap().ctype.as_deref(), Some("vip"));
        assert_eq!(out.warnings.len(), 3, "{:?}", out.warnings);
        assert!(out.warnings[0].contains("\"cart\" dropped: not supported"));
        assert!(out.warnings[1].contains("unknown SDE type"));
        assert!(out.warnings[2].contains("nickname dropped"));
    }

    #[test]
    fn wrong_types_are_lp_sdes_invalid() {
        for bad in [
            json!({"type": "ctmrinfo"}),
            json!([{"type": "ctmrinfo", "info": {"balance": "lots"}}]),
            json!([{"type": "ctmrinfo", "info": {"companySize": 2.5}}]),
            json!([{"type": "ctmrinfo", "info": {"lastPaymentDate": {"day": 40, "month": 1, "year": 2020}}}]),
            json!([{"type": "personal", "personal": {"gender": 7}}]),
            json!([{"type": "personal", "personal": {"gender": "robot"}}]),
            json!([{"type": "personal", "personal": {"contacts": [{"phoneType": "CELL"}]}}]),
            json!([{"type": "personal", "personal": {"contacts": [{"address": {"country": "gb"}}]}}]),
            json!([{"type": "personal", "personal": {"language": "english"}}]),
            json!([{"type": "personal"}]),
            json!([{"kind": "personal"}]),
            json!(["ctmrinfo"]),
        ] {
            let err = authenticate(&bad).unwrap_err();
            assert_eq!(err.reason, RejectReason::LpSdesInvalid, "{bad}");
        }
    }
}
