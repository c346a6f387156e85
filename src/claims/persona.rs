//! Personas: the consumers the mock provider can log in. The committed set lives in
//! `fixtures/personas.toml` and is embedded in the binary.

use serde::{Deserialize, Serialize};

use super::lp_sdes::Sde;
use super::types::Subject;

/// A consumer the mock provider can log in, with the claims it will assert about them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Persona {
    /// Short handle used by `login_hint` and on the login page (`alice`).
    pub id: String,
    /// The stable subject identifier; Google's are 21-digit numeric strings.
    pub sub: Subject,
    /// Shown with the `email` scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Shown with the `email` scope. Defaults to `true` when `email` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// Google Workspace domain, for organisation accounts only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hd: Option<String>,
    /// Full name (`profile` scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Given name (`profile` scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Family name (`profile` scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Picture URL (`profile` scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// Locale; Google stopped sending it in 2024, so only set it to test old tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Gender (`profile` scope): not a Google claim; the platform maps it to personal info
    /// (`liveperson-auth.md` §3.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// Preferred user name (`profile` scope): not a Google claim; the platform maps it to
    /// the customer's user name (§3.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// Phone number (`profile` scope here): not a Google claim; the platform maps it to the
    /// IMEI or a contact phone, as its connector says (§3.2, §7.1 item 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// The platform's `lp_sdes` claim, kept as JSON so the login page can send anything;
    /// personas read from files are checked against the schema on load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lp_sdes: Option<serde_json::Value>,
}

/// Why a persona set could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PersonaError {
    /// The TOML did not parse.
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    /// A persona breaks a rule.
    #[error("persona {id:?}: {message}")]
    Invalid {
        /// Which persona.
        id: String,
        /// What is wrong.
        message: String,
    },
}

impl Persona {
    /// Checks the rules a persona file must follow: a non-empty id and `sub` (at most 255 ASCII
    /// characters, as Google documents), and an `lp_sdes` that matches the schema.
    pub fn validate(&self) -> Result<(), PersonaError> {
        let invalid = |message: String| PersonaError::Invalid {
            id: self.id.clone(),
            message,
        };
        if self.id.is_empty()
            || !self
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(invalid(
                "id must be non-empty letters, digits, '-' or '_'".into(),
            ));
        }
        let sub = self.sub.as_str();
        if sub.is_empty() || sub.len() > 255 || !sub.is_ascii() {
            return Err(invalid("sub must be 1 to 255 ASCII characters".into()));
        }
        if let Some(sdes) = &self.lp_sdes {
            serde_json::from_value::<Vec<Sde>>(sdes.clone())
                .map_err(|err| invalid(format!("lp_sdes: {err}")))?;
        }
        Ok(())
    }
}

/// The personas a provider knows, in file order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Personas {
    /// The personas.
    #[serde(rename = "persona", default)]
    pub list: Vec<Persona>,
}

impl Personas {
    /// Parses and validates a `personas.toml` text.
    pub fn from_toml(text: &str) -> Result<Self, PersonaError> {
        let personas: Self = toml::from_str(text)?;
        personas.validate()?;
        Ok(personas)
    }

    /// Validates every persona and that ids and subs are unique.
    pub fn validate(&self) -> Result<(), PersonaError> {
        let mut seen = std::collections::HashSet::new();
        for persona in &self.list {
            persona.validate()?;
            if !seen.insert(persona.id.as_str()) || !seen.insert(persona.sub.as_str()) {
                return Err(PersonaError::Invalid {
                    id: persona.id.clone(),
                    message: "id or sub used twice".into(),
                });
            }
        }
        Ok(())
    }

    /// Finds a persona by `login_hint`: its id, its `sub` or its e-mail address.
    pub fn find(&self, hint: &str) -> Option<&Persona> {
        self.list
            .iter()
            .find(|p| p.id == hint || p.sub.as_str() == hint || p.email.as_deref() == Some(hint))
    }

    /// The persona ids, in order.
    pub fn ids(&self) -> Vec<&str> {
        self.list.iter().map(|p| p.id.as_str()).collect()
    }
}

/// The committed personas (`fixtures/personas.toml`).
pub fn fixture_personas() -> Personas {
    static PERSONAS: std::sync::OnceLock<Personas> = std::sync::OnceLock::new();
    // The fixture is checked by a unit test, so a broken file fails `cargo test`, not users.
    PERSONAS
        .get_or_init(|| {
            Personas::from_toml(include_str!("../../fixtures/personas.toml")).unwrap_or_default()
        })
        .clone()
}
