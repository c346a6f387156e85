//! One conversation as the platform keeps it: how it was started, what the page pushed, the
//! request the window is waiting on, and the verdict on the last token.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::store::random_token;
use crate::verifier::{AuthenticatedConsumer, ConsumerProfile, Rejection};

/// Where the conversation window runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// In the brand's page: the window calls the page's JS method (§1.5).
    Embedded,
    /// A separate window through the provider's authorization endpoint (§1.4).
    Popup,
}

/// The connector's authentication type (§1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowKind {
    /// The platform redeems a code at the token endpoint.
    Code,
    /// The page or the redirect hands over the ID token itself.
    Implicit,
}

impl Mode {
    /// As people read it: `embedded`, `popup`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Embedded => "embedded",
            Self::Popup => "popup",
        }
    }
}

impl FlowKind {
    /// As the platform's console names it: `Code Flow`, `Implicit Flow`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Code => "Code Flow",
            Self::Implicit => "Implicit Flow",
        }
    }
}

/// The verdict on the last code or token the window handed over.
#[derive(Debug, Clone)]
pub(super) enum Outcome {
    /// Nothing handed over yet.
    Pending,
    /// The consumer is authenticated.
    Authenticated(Box<AuthenticatedConsumer>),
    /// Refused, with the verifier's reason.
    Rejected(Rejection),
}

/// What the page's identity function called back (`lpTag.identities`, `liveperson-auth.md`
/// §1.5, §4.5): the page's word alone, never verified. The platform's monitoring uses it to
/// tell whether the visitor is authenticated on this page; the newer pages want its `iss` to
/// equal the token's (§4.1), an older one calls it arbitrary (§7.1 item 8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct PageIdentity {
    pub(super) iss: String,
    pub(super) acr: String,
    pub(super) sub: String,
}

/// The only authentication level the platform supports in an identity (§1.5).
pub(super) const IDENTITY_ACR: &str = "loa1";

/// Something that happened, for the agent's timeline.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Event {
    /// Unix seconds.
    pub(super) at: i64,
    /// What happened.
    pub(super) text: String,
}

/// The request the window is waiting on: PKCE, `state` and `nonce` are the platform's own and
/// never leave it, but for the challenge and the values sent to the provider.
#[derive(Debug, Clone, Default)]
pub(super) struct Pending {
    pub(super) code_verifier: Option<String>,
    pub(super) code_challenge: Option<String>,
    pub(super) state: Option<String>,
    pub(super) nonce: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Conversation {
    pub(super) id: String,
    /// The brand whose connector the conversation uses (`None`: the default brand).
    pub(super) brand: Option<String>,
    pub(super) mode: Mode,
    pub(super) flow: FlowKind,
    pub(super) encrypted: bool,
    /// The connector's PKCE toggle (§1.1, §1.6): Code Flow only.
    pub(super) pkce: bool,
    pub(super) page_sdes: Value,
    /// What the page's identity function called back, if anything.
    pub(super) identity: Option<PageIdentity>,
    pub(super) pending: Pending,
    pub(super) outcome: Outcome,
    pub(super) authentications: u32,
    pub(super) events: Vec<Event>,
    /// Bumped on every change, so a watching page knows when to reload.
    pub(super) version: u64,
}

/// Events kept per conversation; the oldest go first.
const MAX_EVENTS: usize = 50;

impl Conversation {
    pub(super) fn new(
        brand: Option<String>,
        mode: Mode,
        flow: FlowKind,
        encrypted: bool,
        pkce: bool,
        page_sdes: Value,
        identity: Option<PageIdentity>,
    ) -> Self {
        Self {
            id: random_token(12),
            brand,
            mode,
            flow,
            encrypted,
            pkce: pkce && flow == FlowKind::Code,
            page_sdes,
            identity,
            pending: Pending::default(),
            outcome: Outcome::Pending,
            authentications: 0,
            events: Vec::new(),
            version: 0,
        }
    }

    pub(super) fn log(&mut self, at: i64, text: impl Into<String>) {
        if self.events.len() == MAX_EVENTS {
            self.events.remove(0);
        }
        self.events.push(Event {
            at,
            text: text.into(),
        });
        self.version += 1;
    }

    /// A fresh request for the window: a new PKCE pair (Code Flow with PKCE on), and for the
    /// popup a new `state` (naming this conversation) and `nonce`.
    pub(super) fn renew(&mut self) {
        let (verifier, challenge) = if self.pkce {
            let (v, c) = crate::verifier::pkce_pair();
            (Some(v), Some(c))
        } else {
            (None, None)
        };
        let popup = self.mode == Mode::Popup;
        self.pending = Pending {
            code_verifier: verifier,
            code_challenge: challenge,
            state: popup.then(|| format!("{}.{}", self.id, random_token(16))),
            nonce: (popup && self.flow == FlowKind::Implicit).then(|| random_token(16)),
        };
    }

    /// `authenticated`, `expired` (at or past `exp`: the window asks for a fresh token, §4.4),
    /// `rejected` or `pending`.
    pub(super) fn status(&self, now: i64) -> &'static str {
        match &self.outcome {
            Outcome::Pending => "pending",
            Outcome::Authenticated(c) if now >= c.expires_at() => "expired",
            Outcome::Authenticated(_) => "authenticated",
            Outcome::Rejected(_) => "rejected",
        }
    }

    pub(super) fn consumer(&self) -> Option<&AuthenticatedConsumer> {
        match &self.outcome {
            Outcome::Authenticated(c) => Some(c),
            _ => None,
        }
    }

    pub(super) fn rejection(&self) -> Option<&Rejection> {
        match &self.outcome {
            Outcome::Rejected(r) => Some(r),
            _ => None,
        }
    }

    /// What the page's identity means to the platform, whatever the token: none at all, or a
    /// level other than `loa1`, and the visitor does not count as identified (§4.5; the
    /// platform's answer to another level is not documented, so this is the project's
    /// reading).
    pub(super) fn identity_notes(&self) -> Vec<String> {
        match &self.identity {
            None => vec![
                "the page set no identity (lpTag.identities): the platform's monitoring \
                          counts this visitor as unauthenticated"
                    .to_owned(),
            ],
            Some(identity) if identity.acr != IDENTITY_ACR => vec![format!(
                "identity acr {:?} is not {IDENTITY_ACR:?}, the only level the platform supports: \
                 its monitoring does not count this visitor as identified",
                identity.acr
            )],
            Some(_) => Vec::new(),
        }
    }

    /// Where the page's identity and the verified token disagree. Neither refuses the token:
    /// its own verification decides (§4.1 wants the two `iss` equal, §7.1 item 8 lets the brand
    /// choose), but the agent is told.
    pub(super) fn identity_mismatches(&self, consumer: &AuthenticatedConsumer) -> Vec<String> {
        let Some(identity) = &self.identity else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let iss = consumer.iss().as_str();
        if identity.iss != iss {
            out.push(format!(
                "identity iss {:?} differs from the token's iss {iss:?}: the platform wants them \
                 equal; the token's own verification decides",
                identity.iss
            ));
        }
        let sub = consumer.sub().to_string();
        if identity.sub != sub {
            out.push(format!(
                "identity sub {:?} differs from the token's sub {sub:?}: the page identifies \
                 another consumer than the token authenticates",
                identity.sub
            ));
        }
        out
    }

    /// Every note on the identity: what it means alone, then how it compares with the verified
    /// token (when there is one).
    pub(super) fn identity_warnings(&self) -> Vec<String> {
        let mut out = self.identity_notes();
        if let Some(consumer) = self.consumer() {
            out.extend(self.identity_mismatches(consumer));
        }
        out
    }

    /// What the agent sees: the authenticated fields, and what only the page said.
    pub(super) fn profile(&self) -> ConsumerProfile {
        ConsumerProfile::merge(self.consumer(), &self.page_sdes)
    }

    /// The conversation as the API shows it.
    pub(super) fn view(&self, now: i64) -> ConversationView {
        let consumer = self.consumer();
        ConversationView {
            id: self.id.clone(),
            mode: self.mode,
            flow: self.flow,
            encrypted: self.encrypted,
            pkce: self.pkce,
            status: self.status(now),
            reason: self.rejection().map(|r| r.reason.code()),
            detail: self.rejection().map(|r| r.detail.clone()),
            internal_error_code: self.rejection().map(Rejection::platform_error_code),
            findings: consumer
                .map(AuthenticatedConsumer::risks)
                .unwrap_or_default(),
            sub: consumer.map(|c| c.sub().to_string()),
            issuer: consumer.map(|c| c.iss().to_string()),
            token_encrypted: consumer.map(AuthenticatedConsumer::encrypted),
            expires_at: consumer.map(AuthenticatedConsumer::expires_at),
            expires_in_secs: consumer.map(|c| (c.expires_at() - now).max(0)),
            authentications: self.authentications,
            version: self.version,
            workspace_url: format!("/platform/agent/{}", self.id),
            profile: self.profile(),
            identity: self.identity.clone(),
            identity_warnings: self.identity_warnings(),
            events: self.events.clone(),
        }
    }
}

/// A conversation as `GET /platform/api/conversations/{id}` shows it.
#[derive(Debug, Clone, Serialize)]
pub(super) struct ConversationView {
    pub(super) id: String,
    pub(super) mode: Mode,
    pub(super) flow: FlowKind,
    pub(super) encrypted: bool,
    pub(super) pkce: bool,
    pub(super) status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) detail: Option<String>,
    /// The platform IDP's error code for the refusal, or `unpublished`.
    #[serde(rename = "internalErrorCode", skip_serializing_if = "Option::is_none")]
    pub(super) internal_error_code: Option<&'static str>,
    /// What the strict reading refuses that the platform reading let through: rule, basis,
    /// risk.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) findings: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) token_encrypted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) expires_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) expires_in_secs: Option<i64>,
    pub(super) authentications: u32,
    pub(super) version: u64,
    pub(super) workspace_url: String,
    pub(super) profile: ConsumerProfile,
    /// What the page's identity function called back (unauthenticated), or `null`.
    pub(super) identity: Option<PageIdentity>,
    /// What the identity means to the platform, and where it differs from the token.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) identity_warnings: Vec<String>,
    pub(super) events: Vec<Event>,
}
