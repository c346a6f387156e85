//! What the provider saw each request carry: how the client authenticated and encoded its
//! token request, whether an authorization request sent a nonce and which PKCE method. A
//! scenario asserts these (`[expect.provider]`), so "the platform authenticates with Basic"
//! is checked where it happens, not inferred from a verdict that every method would get.
//!
//! Only the most recent [`Observations::CAPACITY`] requests are kept: a long-running `serve`
//! stays bounded.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

/// How a token request authenticated its client (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientAuthSeen {
    /// `Authorization: Basic`.
    Basic,
    /// `client_secret` in the body.
    Body,
    /// Neither: no secret was presented.
    None,
}

/// How a token request's body was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BodySeen {
    /// `application/x-www-form-urlencoded` (or no content type).
    Form,
    /// `application/json`.
    Json,
}

/// The PKCE method an authorization request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum PkceSeen {
    /// `code_challenge_method=S256`.
    S256,
    /// `plain` (said, or by default).
    #[serde(rename = "plain")]
    Plain,
    /// No challenge.
    #[serde(rename = "none")]
    None,
}

impl ClientAuthSeen {
    /// The name scenario files use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Basic => "basic",
            Self::Body => "body",
            Self::None => "none",
        }
    }
}

impl BodySeen {
    /// The name scenario files use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Form => "form",
            Self::Json => "json",
        }
    }
}

impl PkceSeen {
    /// The name scenario files use.
    pub fn name(self) -> &'static str {
        match self {
            Self::S256 => "S256",
            Self::Plain => "plain",
            Self::None => "none",
        }
    }
}

/// One request, as the provider saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "endpoint", rename_all = "lowercase")]
pub enum Observation {
    /// An authorization request that passed the client and redirect URI checks.
    Authorize {
        /// `response_type` as sent.
        response_type: String,
        /// Whether a `nonce` was sent.
        nonce: bool,
        /// The PKCE method.
        pkce: PkceSeen,
    },
    /// A token request whose body could be read.
    Token {
        /// `grant_type` as sent (empty when absent).
        grant_type: String,
        /// How the client authenticated.
        client_auth: ClientAuthSeen,
        /// How the body was encoded.
        body: BodySeen,
        /// Whether a `code_verifier` was sent.
        code_verifier: bool,
    },
    /// An ID token the provider issued: signed, before any envelope (a forged one as forged).
    /// A report shows its header and claims.
    Issued {
        /// The compact token.
        id_token: String,
    },
}

/// The recent requests, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Observations(Mutex<VecDeque<Observation>>);

impl Observations {
    /// How many requests are remembered.
    pub(crate) const CAPACITY: usize = 64;

    pub(crate) fn record(&self, observation: Observation) {
        let mut log = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if log.len() == Self::CAPACITY {
            log.pop_front();
        }
        log.push_back(observation);
    }

    pub(crate) fn list(&self) -> Vec<Observation> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_most_recent_are_kept_in_order() {
        let log = Observations::default();
        for i in 0..Observations::CAPACITY + 3 {
            log.record(Observation::Authorize {
                response_type: i.to_string(),
                nonce: false,
                pkce: PkceSeen::None,
            });
        }
        let list = log.list();
        assert_eq!(list.len(), Observations::CAPACITY);
        assert_eq!(
            list[0],
            Observation::Authorize {
                response_type: "3".into(),
                nonce: false,
                pkce: PkceSeen::None
            }
        );
    }

    #[test]
    fn names_are_the_ones_scenario_files_use() {
        let token = Observation::Token {
            grant_type: "authorization_code".into(),
            client_auth: ClientAuthSeen::Basic,
            body: BodySeen::Json,
            code_verifier: true,
        };
        assert_eq!(
            serde_json::to_value(&token).unwrap(),
            serde_json::json!({"endpoint": "token", "grant_type": "authorization_code",
                "client_auth": "basic", "body": "json", "code_verifier": true})
        );
        for (seen, name) in [
            (PkceSeen::S256, "S256"),
            (PkceSeen::Plain, "plain"),
            (PkceSeen::None, "none"),
        ] {
            assert_eq!(serde_json::to_value(seen).unwrap(), serde_json::json!(name));
            assert_eq!(seen.name(), name);
        }
        for seen in [
            ClientAuthSeen::Basic,
            ClientAuthSeen::Body,
            ClientAuthSeen::None,
        ] {
            assert_eq!(
                serde_json::to_value(seen).unwrap(),
                serde_json::json!(seen.name())
            );
        }
        for seen in [BodySeen::Form, BodySeen::Json] {
            assert_eq!(
                serde_json::to_value(seen).unwrap(),
                serde_json::json!(seen.name())
            );
        }
    }
}
