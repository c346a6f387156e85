//! The verdict's good half: [`AuthenticatedConsumer`], which only the verifier can make, and
//! [`ConsumerProfile`], which sets it beside what the page pushed on its own.

use serde::Serialize;
use serde_json::Value;

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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuthenticatedConsumer {
    pub(super) sub: Subject,
    pub(super) iss: Issuer,
    pub(super) kid: Option<String>,
    pub(super) encrypted: bool,
    pub(super) issued_at: i64,
    pub(super) expires_at: i64,
    pub(super) claims: StandardClaims,
    pub(super) customer_info: Option<CustomerInfo>,
    pub(super) personal_info: Option<PersonalInfo>,
    pub(super) fields: Vec<Field>,
    pub(super) warnings: Vec<String>,
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
        self.customer_info.as_ref()
    }

    /// The authenticated `personal` info, if any.
    pub fn personal_info(&self) -> Option<&PersonalInfo> {
        self.personal_info.as_ref()
    }

    /// Every authenticated field, in display order.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// The value of one field.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.key == key)
            .map(|f| f.value.as_str())
    }

    /// What was dropped or overridden, for people.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

/// Flattens a JSON value into `(key, text)` pairs: objects with dots, arrays with `[i]`. The
/// key is built once per leaf and moved into the pair.
pub(crate) fn flatten(key: String, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| flatten(format!("{key}.{k}"), v, out)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| flatten(format!("{key}[{i}]"), v, out)),
        Value::String(s) => out.push((key, s.clone())),
        Value::Null => {}
        other => out.push((key, other.to_string())),
    }
}

/// Flattens SDEs as a page pushes them (`[{"type":"ctmrinfo","info":{…}}, …]`): the fields of
/// each under its type, skipping the `type` member itself.
pub fn flatten_sdes(sdes: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for sde in sdes.as_array().into_iter().flatten() {
        let Some(kind) = sde.get("type").and_then(Value::as_str) else {
            continue;
        };
        let body = match kind {
            "ctmrinfo" => sde.get("info"),
            "personal" => sde.get("personal"),
            _ => None,
        };
        match body {
            Some(body) => flatten(kind.to_owned(), body, &mut out),
            None => {
                for (k, v) in sde
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(k, _)| *k != "type")
                {
                    flatten(format!("{kind}.{k}"), v, &mut out);
                }
            }
        }
    }
    out
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
                c.fields
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
