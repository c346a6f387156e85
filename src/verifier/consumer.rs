//! The verdict's good half: [`AuthenticatedConsumer`], which only the verifier can make, and
//! [`ConsumerProfile`], which sets it beside what the page pushed on its own.

use std::fmt;
use std::sync::OnceLock;

use serde::Serialize;
use serde_json::Value;

use super::config::PhoneNumberMapping;
use super::rejection::Rejection;
use super::sdes::{flatten_authenticated, flatten_sdes};
use crate::claims::{CustomerInfo, Issuer, PersonalInfo, Subject};

/// Where a field shown to the agent came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Provenance {
    /// From the verified ID token; `source` names the claim (`sub`, `given_name`,
    /// `lp_sdes.ctmrinfo.balance`).
    Authenticated {
        /// The claim it came from.
        source: String,
    },
    /// Pushed by the page on its own: not verified.
    FromPage,
}

/// One field of customer information, keyed the way the platform shows it
/// (`consumer.customerId`, `ctmrinfo.balance`, `personal.contacts[0].email`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// Where it is shown.
    pub key: String,
    /// The value as text.
    pub value: String,
    /// The claim it came from.
    pub source: String,
}

/// The standard OIDC claims the platform maps to the agent's view (`liveperson-auth.md` §3.2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StandardClaims {
    /// `name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `given_name` -> personal first name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// `family_name` -> personal last name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// `email` -> personal contact e-mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// `gender` -> personal gender.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// `preferred_username` -> customer user name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// `phone_number` -> customer IMEI or contact phone, per the configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
}

/// A consumer whose ID token verified: identity, mapped claims, authenticated SDEs and the
/// warnings about what was dropped. Only the verifier constructs one.
///
/// Everything is checked before it exists; the agent's flattened [`fields`](Self::fields) (and
/// the warnings that come from mapping the standard claims onto them) are laid out from the
/// verified payload the first time they are asked for, since many verdicts are never shown.
#[derive(Clone)]
pub struct AuthenticatedConsumer {
    pub(super) sub: Subject,
    pub(super) iss: Issuer,
    pub(super) kid: Option<String>,
    pub(super) encrypted: bool,
    pub(super) issued_at: i64,
    pub(super) expires_at: i64,
    pub(super) claims: StandardClaims,
    pub(super) customer_info: Option<Box<CustomerInfo>>,
    pub(super) personal_info: Option<Box<PersonalInfo>>,
    /// What was dropped from `lp_sdes`.
    pub(super) dropped: Vec<String>,
    /// What is shown of `lp_sdes` when the lenient reading dropped parts of it.
    pub(super) shown_sdes: Option<Value>,
    pub(super) phone_number_mapping: PhoneNumberMapping,
    /// The refusals only the strict reading makes, in the order the rules ran.
    pub(super) findings: Vec<Rejection>,
    /// `aud` as JSON text, when present.
    pub(super) audience: Option<String>,
    /// The verified payload, JSON.
    pub(super) payload: Vec<u8>,
    pub(super) view: OnceLock<View>,
}

/// What the agent is shown: the fields in display order, and every warning.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct View {
    fields: Vec<Field>,
    warnings: Vec<String>,
}

impl AuthenticatedConsumer {
    /// The consumer id (`sub`), shown as the customer id.
    pub fn sub(&self) -> &Subject {
        &self.sub
    }

    /// The issuer that vouched for it.
    pub fn iss(&self) -> &Issuer {
        &self.iss
    }

    /// The signing key's id, when the token named one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// `aud` as the token had it, in JSON (`"acc:qa57221676"`, `["a","b"]`), when present.
    pub fn audience(&self) -> Option<&str> {
        self.audience.as_deref()
    }

    /// Whether the token arrived in a JWE envelope.
    pub fn encrypted(&self) -> bool {
        self.encrypted
    }

    /// `iat`, Unix seconds.
    pub fn issued_at(&self) -> i64 {
        self.issued_at
    }

    /// `exp`, Unix seconds: when the platform asks the page for a fresh token (§4.4).
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// The mapped standard claims.
    pub fn claims(&self) -> &StandardClaims {
        &self.claims
    }

    /// The authenticated `ctmrinfo`, if any.
    pub fn customer_info(&self) -> Option<&CustomerInfo> {
        self.customer_info.as_deref()
    }

    /// The authenticated `personal` info, if any.
    pub fn personal_info(&self) -> Option<&PersonalInfo> {
        self.personal_info.as_deref()
    }

    /// Every authenticated field, in display order.
    pub fn fields(&self) -> &[Field] {
        &self.view().fields
    }

    /// The value of one field.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields()
            .iter()
            .find(|f| f.key == key)
            .map(|f| f.value.as_str())
    }

    /// The refusals only the strict reading makes, in the order the rules ran: each names
    /// its rule, basis and reason. Empty when both readings authenticate.
    pub fn strict_findings(&self) -> &[Rejection] {
        &self.findings
    }

    /// The strict reading's verdict: this consumer, or the first refusal it would make.
    pub fn strict(self) -> Result<Self, Rejection> {
        match self.findings.first() {
            Some(first) => Err(first.clone()),
            None => Ok(self),
        }
    }

    /// What the platform reading let through that the strict reading refuses, one line each:
    /// the rule, its basis and the risk (`lifetime (assumed): a stolen token stays good until
    /// exp; exp - iat is 413366338 s ...`).
    pub fn risks(&self) -> Vec<String> {
        self.findings
            .iter()
            .map(|f| {
                format!(
                    "{} ({}): {}; {}",
                    f.rule.id(),
                    f.rule.basis(),
                    f.rule.risk(),
                    f.detail
                )
            })
            .collect()
    }

    /// What was dropped or overridden, for people.
    pub fn warnings(&self) -> &[String] {
        &self.view().warnings
    }

    fn view(&self) -> &View {
        self.view.get_or_init(|| {
            #[derive(serde::Deserialize)]
            struct Sdes {
                #[serde(default)]
                lp_sdes: Value,
            }
            // The payload was read and checked already; this cannot fail, and would show no
            // SDE fields rather than panic if it did.
            let lp_sdes = match &self.shown_sdes {
                Some(shown) => shown.clone(),
                None => serde_json::from_slice::<Sdes>(&self.payload)
                    .map(|sdes| sdes.lp_sdes)
                    .unwrap_or_default(),
            };
            let mut warnings = self.dropped.clone();
            let fields = fields(
                self.sub.as_str(),
                &self.claims,
                flatten_authenticated(&lp_sdes),
                self.phone_number_mapping,
                &mut warnings,
            );
            View { fields, warnings }
        })
    }
}

impl fmt::Debug for AuthenticatedConsumer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthenticatedConsumer")
            .field("sub", &self.sub)
            .field("iss", &self.iss)
            .field("kid", &self.kid)
            .field("encrypted", &self.encrypted)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .field("claims", &self.claims)
            .field("customer_info", &self.customer_info)
            .field("personal_info", &self.personal_info)
            .field("dropped", &self.dropped)
            .finish_non_exhaustive()
    }
}

impl Serialize for AuthenticatedConsumer {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown<'a> {
            sub: &'a Subject,
            iss: &'a Issuer,
            kid: &'a Option<String>,
            encrypted: bool,
            issued_at: i64,
            expires_at: i64,
            claims: &'a StandardClaims,
            customer_info: Option<&'a CustomerInfo>,
            personal_info: Option<&'a PersonalInfo>,
            fields: &'a [Field],
            warnings: &'a [String],
        }
        Shown {
            sub: &self.sub,
            iss: &self.iss,
            kid: &self.kid,
            encrypted: self.encrypted,
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            claims: &self.claims,
            customer_info: self.customer_info(),
            personal_info: self.personal_info(),
            fields: self.fields(),
            warnings: self.warnings(),
        }
        .serialize(serializer)
    }
}

/// The agent's fields: the consumer id, the authenticated SDEs, then the standard claims
/// mapped as §3.2 says where an SDE did not already give that field.
fn fields(
    sub: &str,
    claims: &StandardClaims,
    flat: Vec<(String, String)>,
    phone: PhoneNumberMapping,
    warnings: &mut Vec<String>,
) -> Vec<Field> {
    let mut fields = Vec::with_capacity(flat.len() + 8);
    fields.push(Field {
        key: "consumer.customerId".into(),
        value: sub.to_owned(),
        source: "sub".into(),
    });
    for (key, value) in flat {
        let source = format!("lp_sdes.{key}");
        fields.push(Field { key, value, source });
    }
    let phone_key = match phone {
        PhoneNumberMapping::CustomerImei => "ctmrinfo.imei",
        PhoneNumberMapping::PersonalContactPhone => "personal.contacts[0].phone",
    };
    let mapped = [
        ("personal.firstname", &claims.given_name, "given_name"),
        ("personal.lastname", &claims.family_name, "family_name"),
        ("personal.contacts[0].email", &claims.email, "email"),
        ("personal.gender", &claims.gender, "gender"),
        (
            "ctmrinfo.userName",
            &claims.preferred_username,
            "preferred_username",
        ),
        (phone_key, &claims.phone_number, "phone_number"),
    ];
    for (key, value, claim) in mapped {
        let Some(value) = value else { continue };
        match fields.iter().find(|f| f.key == key) {
            Some(existing) if existing.value != *value => warnings.push(format!(
                "{claim} {value:?} differs from {} {:?}; {key} shows the lp_sdes value",
                existing.source, existing.value
            )),
            Some(_) => {}
            None => fields.push(Field {
                key: key.to_owned(),
                value: value.clone(),
                source: claim.to_owned(),
            }),
        }
    }
    // Consumer first, then customer info, then personal info.
    let section = |key: &str| match key.split('.').next() {
        Some("consumer") => 0,
        Some("ctmrinfo") => 1,
        _ => 2,
    };
    fields.sort_by_key(|f| section(&f.key));
    fields
}

/// One line of the agent's consumer panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileField {
    /// Where it is shown.
    pub key: String,
    /// The value shown.
    pub value: String,
    /// Verified, or from the page.
    pub provenance: Provenance,
    /// The page's own value for this field when an authenticated one replaced it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overridden_page_value: Option<String>,
}

/// What the agent sees: authenticated fields first, then what only the page said. Where both
/// give a value the authenticated one wins and the page's is kept beside it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConsumerProfile {
    /// The issuer, when authenticated.
    pub issuer: Option<String>,
    /// The fields.
    pub fields: Vec<ProfileField>,
}

impl ConsumerProfile {
    /// Merges an authenticated consumer (if any) with the SDEs the page pushed.
    pub fn merge(consumer: Option<&AuthenticatedConsumer>, page_sdes: &Value) -> Self {
        let page = flatten_sdes(page_sdes);
        let mut fields: Vec<ProfileField> = consumer
            .map(|c| {
                c.fields()
                    .iter()
                    .map(|f| ProfileField {
                        key: f.key.clone(),
                        value: f.value.clone(),
                        provenance: Provenance::Authenticated {
                            source: f.source.clone(),
                        },
                        overridden_page_value: page
                            .iter()
                            .find(|(k, v)| *k == f.key && *v != f.value)
                            .map(|(_, v)| v.clone()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        for (key, value) in page {
            if !fields.iter().any(|f| f.key == key) {
                fields.push(ProfileField {
                    key,
                    value,
                    provenance: Provenance::FromPage,
                    overridden_page_value: None,
                });
            }
        }
        Self {
            issuer: consumer.map(|c| c.iss.to_string()),
            fields,
        }
    }
}
