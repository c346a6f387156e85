//! The platform's `lp_sdes` claim: an array of engagement attributes ("SDEs") in the schema of
//! `liveperson-auth.md` §3.3. Only `ctmrinfo` and `personal` are carried in authenticated flows.
//!
//! These types are strict (`deny_unknown_fields`) so that fixtures and the verifier catch typos.

use serde::{Deserialize, Serialize};

/// One SDE, tagged by its `type` member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Sde {
    /// Customer info: `{"type":"ctmrinfo","info":{…}}`.
    #[serde(rename = "ctmrinfo")]
    CustomerInfo {
        /// The fields.
        info: CustomerInfo,
    },
    /// Personal info: `{"type":"personal","personal":{…}}` (the key is `personal`, not `info`).
    #[serde(rename = "personal")]
    PersonalInfo {
        /// The fields.
        personal: PersonalInfo,
    },
}

/// `ctmrinfo.info`; every field optional (`liveperson-auth.md` §3.3 table).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CustomerInfo {
    /// Customer status, case-insensitive, e.g. "cancelled".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cstatus: Option<String>,
    /// Customer type / tier, e.g. "vip".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ctype: Option<String>,
    /// Balance, e.g. -400.99.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance: Option<f64>,
    /// Currency, e.g. "USD".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The brand's customer id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// Social id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub social_id: Option<String>,
    /// IMEI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imei: Option<String>,
    /// User name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// Company size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_size: Option<i64>,
    /// Company branch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_branch: Option<String>,
    /// Account name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    /// Role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Last payment date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_payment_date: Option<Date>,
    /// Registration date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_date: Option<Date>,
    /// Login status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_status: Option<i64>,
    /// Store number: NOT supported in an authenticated flow (dropped by the verifier).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_number: Option<String>,
    /// Store zip code: NOT supported in an authenticated flow (dropped by the verifier).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_zip_code: Option<String>,
}

/// A calendar date as the SDE schema writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Date {
    /// Day of month.
    pub day: i64,
    /// Month, 1-12.
    pub month: i64,
    /// Year.
    pub year: i64,
}

/// `personal.personal`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonalInfo {
    /// First name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firstname: Option<String>,
    /// Last name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lastname: Option<String>,
    /// Age, with the date of birth.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age: Option<Age>,
    /// Contacts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
    /// Gender: the docs' table says an integer 0/1/2, their example a string (§7.1 item 7).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
    /// Company.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Language, e.g. "en-US".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// `personal.age`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Age {
    /// Age in years; computed from the date when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age: Option<i64>,
    /// Birth year.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<i64>,
    /// Birth month.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month: Option<i64>,
    /// Birth day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day: Option<i64>,
}

/// Gender in either documented spelling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Gender {
    /// 0, 1 or 2 (the docs' table).
    Code(i64),
    /// "MALE", "FEMALE" or "OTHER" (the docs' example).
    Name(String),
}

/// Read by the JSON type in hand rather than as an untagged enum, which buffers the value and
/// builds an error message for each variant it tries before the one that fits.
impl<'de> Deserialize<'de> for Gender {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct GenderVisitor;
        impl serde::de::Visitor<'_> for GenderVisitor {
            type Value = Gender;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a gender code (an integer) or name (a string)")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Gender, E> {
                Ok(Gender::Code(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Gender, E> {
                i64::try_from(v)
                    .map(Gender::Code)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Gender, E> {
                Ok(Gender::Name(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Gender, E> {
                Ok(Gender::Name(v))
            }
        }
        deserializer.deserialize_any(GenderVisitor)
    }
}

/// One entry of `personal.contacts`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Contact {
    /// E-mail address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// One of HOME, MOBILE, WORK, FAX, MAIN, HOME_FAX, WORK_FAX, PAGER, OTHER.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_type: Option<String>,
    /// Postal address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<ContactAddress>,
}

/// `contacts[].address`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactAddress {
    /// ISO 3166-1 alpha-2, upper case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}
