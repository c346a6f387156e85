//! `lp_sdes` in authenticated flows (`liveperson-auth.md` §3.3): `ctmrinfo` and `personal`
//! become authenticated customer information; unsupported SDE types, the fields the docs
//! exclude from authenticated flows (`storeNumber`, `storeZipCode`) and unknown fields are
//! dropped with a warning; a supported field of the wrong type is `lp_sdes_invalid`.
//!
//! This file holds the schema both readings share (the kept types, their fields, the value
//! rules) and the entry points: [`read`] ([`strict`], one pass as the claim streams by),
//! [`read_lenient`] ([`lenient`], for a claim `read` refused) and the agent's fields
//! ([`flat`]). The readers import from here and from [`super::json`], never from whoever
//! calls them.

use serde_json::Value;

use crate::claims::{CustomerInfo, Gender, PersonalInfo};

mod flat;
mod lenient;
mod strict;

pub(crate) use flat::flatten_authenticated;
pub use flat::flatten_sdes;
pub(crate) use lenient::read_lenient;
pub(crate) use strict::{read, Seed};

/// The SDE types the docs mark "no" for authenticated flows (§3.3, S10).
const UNSUPPORTED_TYPES: [&str; 7] = [
    "cart", "purchase", "prodView", "mrktInfo", "lead", "service", "error",
];

/// `ctmrinfo.info` fields usable in authenticated flows (§3.3 table, "auth-flow? yes").
fn is_customer_field(name: &str) -> bool {
    matches!(
        name,
        "cstatus"
            | "ctype"
            | "balance"
            | "currency"
            | "customerId"
            | "socialId"
            | "imei"
            | "userName"
            | "companySize"
            | "companyBranch"
            | "accountName"
            | "role"
            | "lastPaymentDate"
            | "registrationDate"
            | "loginStatus"
    )
}

/// `personal.personal` fields (§3.3).
fn is_personal_field(name: &str) -> bool {
    matches!(
        name,
        "firstname" | "lastname" | "age" | "contacts" | "gender" | "company" | "language"
    )
}

/// `contacts[].phoneType` values (§3.3).
const PHONE_TYPES: [&str; 9] = [
    "HOME", "MOBILE", "WORK", "FAX", "MAIN", "HOME_FAX", "WORK_FAX", "PAGER", "OTHER",
];

/// What survives of `lp_sdes`: the typed SDEs and what was dropped from them.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct AuthenticatedSdes {
    pub(crate) customer_info: Option<Box<CustomerInfo>>,
    pub(crate) personal_info: Option<Box<PersonalInfo>>,
    pub(crate) warnings: Vec<String>,
    /// What the agent is shown of `lp_sdes` when the lenient reading dropped parts of it; `None`
    /// when the claim is shown as the brand wrote it (less the fields no type keeps).
    pub(crate) shown: Option<Value>,
}

/// The two SDE types the platform keeps in authenticated flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kept {
    Customer,
    Personal,
}

impl Kept {
    fn of(kind: &str) -> Option<Self> {
        match kind {
            "ctmrinfo" => Some(Self::Customer),
            "personal" => Some(Self::Personal),
            _ => None,
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Self::Customer => "ctmrinfo",
            Self::Personal => "personal",
        }
    }

    /// Whether a field of this type is kept in authenticated flows.
    fn allows(self, name: &str) -> bool {
        match self {
            Self::Customer => is_customer_field(name),
            Self::Personal => is_personal_field(name),
        }
    }

    /// Whether a field of this type is one the docs exclude from authenticated flows.
    fn excludes(self, name: &str) -> bool {
        self == Self::Customer && matches!(name, "storeNumber" | "storeZipCode")
    }

    /// The type whose fields `member` holds, if it holds a kept type's fields.
    fn owning(member: &str) -> Option<Self> {
        match member {
            "info" => Some(Self::Customer),
            "personal" => Some(Self::Personal),
            _ => None,
        }
    }

    /// The member holding the fields: `info`, or `personal` (§3.3).
    fn body(self) -> &'static str {
        match self {
            Self::Customer => "info",
            Self::Personal => "personal",
        }
    }
}

/// A real calendar date between the years 1 and 9999: no 31 February, 29 February only in leap
/// years.
fn check_date(what: &str, day: i64, month: i64, year: i64) -> Result<(), String> {
    let real = (1..=9999).contains(&year)
        && u8::try_from(month)
            .ok()
            .and_then(|m| time::Month::try_from(m).ok())
            .zip(u8::try_from(day).ok())
            .is_some_and(|(month, day)| {
                time::Date::from_calendar_date(year as i32, month, day).is_ok()
            });
    if !real {
        return Err(format!(
            "{what} is not a calendar date ({day}/{month}/{year})"
        ));
    }
    Ok(())
}

/// A field that breaks one of the schema's value rules, named so the lenient reading can drop
/// exactly it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BadField {
    LastPaymentDate,
    RegistrationDate,
    Balance,
    Age,
    Gender,
    PhoneType(usize),
    Country(usize),
    Language,
}

impl BadField {
    /// Where it is, below the SDE's body (`contacts[0].phoneType`).
    pub(crate) fn path(self) -> String {
        match self {
            Self::LastPaymentDate => "lastPaymentDate".into(),
            Self::RegistrationDate => "registrationDate".into(),
            Self::Balance => "balance".into(),
            Self::Age => "age".into(),
            Self::Gender => "gender".into(),
            Self::PhoneType(i) => format!("contacts[{i}].phoneType"),
            Self::Country(i) => format!("contacts[{i}].address.country"),
            Self::Language => "language".into(),
        }
    }
}

/// Every value rule `info` breaks, in field order.
pub(crate) fn customer_violations(info: &CustomerInfo) -> Vec<(BadField, String)> {
    let mut bad = Vec::new();
    for (what, date, field) in [
        (
            "lastPaymentDate",
            info.last_payment_date,
            BadField::LastPaymentDate,
        ),
        (
            "registrationDate",
            info.registration_date,
            BadField::RegistrationDate,
        ),
    ] {
        if let Some(d) = date {
            if let Err(why) = check_date(what, d.day, d.month, d.year) {
                bad.push((field, why));
            }
        }
    }
    if info.balance.is_some_and(|b| !b.is_finite()) {
        bad.push((BadField::Balance, "balance must be a finite number".into()));
    }
    bad
}

/// Every value rule `info` breaks, in field order.
pub(crate) fn personal_violations(info: &PersonalInfo) -> Vec<(BadField, String)> {
    let mut bad = Vec::new();
    if let Some(age) = &info.age {
        if age.age.is_some_and(|a| !(0..=150).contains(&a)) {
            bad.push((BadField::Age, "age.age must be between 0 and 150".into()));
        } else if let (Some(day), Some(month), Some(year)) = (age.day, age.month, age.year) {
            if let Err(why) = check_date("age", day, month, year) {
                bad.push((BadField::Age, why));
            }
        }
    }
    match &info.gender {
        Some(Gender::Code(code)) if !(0..=2).contains(code) => bad.push((
            BadField::Gender,
            format!("gender code {code} is not 0, 1 or 2"),
        )),
        Some(Gender::Name(name))
            if !["MALE", "FEMALE", "OTHER"].contains(&name.to_ascii_uppercase().as_str()) =>
        {
            bad.push((
                BadField::Gender,
                format!("gender {name:?} is not MALE, FEMALE or OTHER"),
            ))
        }
        _ => {}
    }
    for (i, contact) in info.contacts.iter().enumerate() {
        if let Some(kind) = &contact.phone_type {
            if !PHONE_TYPES.contains(&kind.as_str()) {
                bad.push((
                    BadField::PhoneType(i),
                    format!(
                        "contacts[{i}].phoneType {kind:?} is not one of {}",
                        PHONE_TYPES.join(", ")
                    ),
                ));
            }
        }
        if let Some(country) = contact.address.as_ref().and_then(|a| a.country.as_deref()) {
            if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
                bad.push((
                    BadField::Country(i),
                    format!("contacts[{i}].address.country {country:?} is not ISO 3166-1 alpha-2 upper case"),
                ));
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
            bad.push((
                BadField::Language,
                format!("language {language:?} is not like en-US"),
            ));
        }
    }
    bad
}
