//! The platform's IDP as mobile apps and API clients call it (`liveperson-auth.md` §8.3): an
//! app's SDK posts to `/api/account/{account}/app/default/authenticate?v=2.0`, a Messaging
//! Window API client to `/api/account/{account}/authenticate`, each with what the brand's
//! side supplied: a code (Code Flow connectors redeem it at the brand's token endpoint, with
//! the redirect URI it was issued for) or the brand's JWT (Implicit Flow connectors).
//!
//! The answer is the IDP's: `200 {"jwt": "<a consumer JWT of the platform's own>"}`, or
//! `500 {"internalErrorCode": "<code>"}` with the code as a JSON string (§8.4). The consumer
//! JWT is shaped as the platform's tutorial shows it: `sub` is the platform's consumer id (the
//! same for the same account, issuer and subject), `aud` is `acc:<account>`, and `lp.ext`
//! carries the brand's verified `sub`, `iss` and the kept `lp_sdes`; `exp` and `iat` are the
//! brand token's, so the consumer JWT expires with it and the app is asked for a fresh one.
//!
//! What the IDP answers to input it cannot use is not published; this one answers
//! INPUT_VALIDATION_ERROR (9012) to a body that is not a JSON object with exactly one of
//! `authCode`, `code` and `jwt` (or is too large, or not `application/json`), and
//! AC_CONNECTOR_NOT_FOUND (1024) to an account it has no connector for. A refusal whose
//! reason has no published code answers CUSTOMER_JWT_NOT_VALID (9007) from an Implicit Flow
//! connector and CUSTOMER_AUTH_FAILED (9011) from a Code Flow one. Every answer but a success
//! also names the reason in an `x-harness-reason` header, which the platform does not send.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::clock::Clock;
use crate::jose::Signer;
use crate::verifier::{
    AuthenticatedConsumer, CodeRedemption, Flow, Rejection, Verifier, VerifyContext,
};

/// The path of the Messaging Window API's call, below the IDP's origin.
pub const AUTHENTICATE_PATH: &str = "/api/account/{account}/authenticate";
/// The path of the mobile SDKs' call (with `?v=2.0`).
pub const SDK_AUTHENTICATE_PATH: &str = "/api/account/{account}/app/default/authenticate";
/// The header that says why a call was refused (the harness's own; the platform sends none).
pub const REASON_HEADER: &str = "x-harness-reason";
/// Bodies above this size are input the IDP does not take (9012).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// One account's authentication connector, as the platform's console configures it.
#[derive(Debug)]
pub struct Account {
    /// The account id in the path (`qa57221676`).
    pub id: String,
    /// The verifier for the connector: Code Flow (token endpoint and client credentials) or
    /// Implicit Flow (issuer and key).
    pub verifier: Verifier,
    /// The redirect URI a code is redeemed with when the call names none: the SDKs send the
    /// one the app's code was issued for, and default to `https://liveperson.net`.
    pub redirect_uri: String,
}

impl Account {
    /// `code` or `implicit`, as the start-up banner and the overview name the connector.
    pub fn flow(&self) -> &'static str {
        match self.verifier.config().flow {
            Flow::Code => "code",
            Flow::Implicit => "implicit",
        }
    }
}

/// The IDP: its accounts and the key its consumer JWTs are signed with.
#[derive(Debug)]
pub struct IdpApi {
    accounts: Vec<Account>,
    signer: Signer,
    /// The consumer JWTs' `iss`.
    issuer: String,
    clock: Arc<dyn Clock>,
    /// Every verdict, kept when [`IdpApi::recording`] asked for them.
    verdicts: Option<Mutex<Vec<Verdict>>>,
}

/// What the platform decided about one call: both readings (the consumer's strict findings
/// are the strict reading's refusals).
pub type Verdict = Result<AuthenticatedConsumer, Rejection>;

/// What the brand's side handed over, as the call's body names it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Credentials {
    /// The Messaging Window API's member: an external JWT, or a code for a Code Flow connector.
    #[serde(rename = "authCode")]
    auth_code: Option<String>,
    /// The SDKs' member for a code.
    code: Option<String>,
    /// The brand's JWT (an Implicit Flow connector).
    jwt: Option<String>,
    /// The redirect URI the code was issued for.
    redirect_uri: Option<String>,
}

/// A consumer JWT's claims.
#[derive(Debug, Serialize)]
struct ConsumerClaims<'a> {
    sub: String,
    aud: String,
    iss: &'a str,
    #[serde(rename = "lp.ext")]
    ext: External<'a>,
    exp: i64,
    iat: i64,
}

/// What the brand's token said, as the consumer JWT carries it.
#[derive(Debug, Serialize)]
struct External<'a> {
    sub: &'a str,
    iss: &'a str,
    /// The authenticated SDEs the platform kept, as the agent is shown them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    lp_sdes: Vec<Value>,
}

/// Why a call got no consumer JWT: the IDP's code, and the harness's reason for the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The `internalErrorCode`.
    pub code: &'static str,
    /// A reason code (`expired`) or, for input it does not take, `invalid_input` or
    /// `unknown_account`.
    pub reason: &'static str,
    /// What exactly was wrong, for the log.
    pub detail: String,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let mut response = (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(serde_json::json!({ "internalErrorCode": self.code })),
        )
            .into_response();
        response.headers_mut().insert(
            HeaderName::from_static(REASON_HEADER),
            HeaderValue::from_static(self.reason),
        );
        response
    }
}

fn invalid_input(detail: impl Into<String>) -> Refused {
    Refused {
        code: "9012",
        reason: "invalid_input",
        detail: detail.into(),
    }
}

impl IdpApi {
    /// An IDP with these accounts, signing its consumer JWTs with `signer` as `issuer`.
    pub fn new(
        accounts: Vec<Account>,
        signer: Signer,
        issuer: String,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            accounts,
            signer,
            issuer,
            clock,
            verdicts: None,
        }
    }

    /// Keeps every verdict, for a caller that checks both readings of what the IDP decided (a
    /// scenario); `serve` keeps none.
    pub fn recording(mut self) -> Self {
        self.verdicts = Some(Mutex::new(Vec::new()));
        self
    }

    /// The verdicts kept since the last call, oldest first.
    pub fn take_verdicts(&self) -> Vec<Verdict> {
        self.verdicts.as_ref().map_or_else(Vec::new, |v| {
            std::mem::take(&mut *v.lock().unwrap_or_else(|p| p.into_inner()))
        })
    }

    /// The accounts, in the order they were given.
    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// The consumer JWTs' issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The platform's consumer id for a brand's subject: the same for the same account,
    /// issuer and `sub`, and nothing of them readable from it.
    pub fn consumer_id(account: &str, iss: &str, sub: &str) -> String {
        let mut hash = Sha256::new();
        for part in [account, iss, sub] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        hex::encode(hash.finalize())
    }

    /// Verifies what the brand's side handed over to `account` as the platform does, and
    /// answers a consumer JWT for it.
    pub async fn authenticate(&self, account: &str, body: &[u8]) -> Result<String, Refused> {
        let account = self
            .accounts
            .iter()
            .find(|a| a.id == account)
            .ok_or_else(|| Refused {
                code: "1024",
                reason: "unknown_account",
                detail: format!("no authentication connector for account {account:?}"),
            })?;
        let credentials: Credentials = serde_json::from_slice(body)
            .map_err(|e| invalid_input(format!("the body is not the JSON expected: {e}")))?;
        let ((Some(handed), None, None) | (None, Some(handed), None) | (None, None, Some(handed))) =
            (credentials.auth_code, credentials.code, credentials.jwt)
        else {
            return Err(invalid_input(
                "the body names none, or more than one, of authCode, code and jwt",
            ));
        };
        if handed.is_empty() {
            return Err(invalid_input("the code or JWT is empty"));
        }
        let ctx = VerifyContext::at(self.clock.now());
        let verdict = match account.verifier.config().flow {
            Flow::Code => {
                let redemption = CodeRedemption {
                    code: handed,
                    redirect_uri: Some(
                        credentials
                            .redirect_uri
                            .unwrap_or_else(|| account.redirect_uri.clone()),
                    ),
                    code_verifier: None,
                };
                account.verifier.authenticate_code(&redemption, &ctx).await
            }
            Flow::Implicit => account.verifier.verify(&handed, &ctx).await,
        };
        if let Some(kept) = &self.verdicts {
            kept.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(verdict.clone());
        }
        let consumer = verdict.map_err(|rejection| refused(account, &rejection))?;
        self.consumer_jwt(&account.id, &consumer)
            .map_err(|e| Refused {
                code: "9014",
                reason: "sign_failed",
                detail: e,
            })
    }

    fn consumer_jwt(
        &self,
        account: &str,
        consumer: &AuthenticatedConsumer,
    ) -> Result<String, String> {
        let (sub, iss) = (consumer.sub().as_str(), consumer.iss().as_str());
        let mut lp_sdes = Vec::new();
        if let Some(info) = consumer.customer_info() {
            lp_sdes.push(serde_json::json!({"type": "ctmrinfo", "info": info}));
        }
        if let Some(personal) = consumer.personal_info() {
            lp_sdes.push(serde_json::json!({"type": "personal", "personal": personal}));
        }
        let claims = ConsumerClaims {
            sub: Self::consumer_id(account, iss, sub),
            aud: format!("acc:{account}"),
            iss: &self.issuer,
            ext: External { sub, iss, lp_sdes },
            exp: consumer.expires_at(),
            iat: consumer.issued_at(),
        };
        self.signer.sign(&claims).map_err(|e| e.to_string())
    }
}

/// The IDP's `internalErrorCode` for a refusal by a connector of type `flow`: the reason's
/// published code, or the connector's generic one (9007 for a JWT, 9011 for a code).
pub fn error_code(rejection: &Rejection, flow: Flow) -> &'static str {
    match (rejection.reason.platform_error(), flow) {
        (Some(error), _) => error.code,
        (None, Flow::Implicit) => "9007",
        (None, Flow::Code) => "9011",
    }
}

fn refused(account: &Account, rejection: &Rejection) -> Refused {
    let code = error_code(rejection, account.verifier.config().flow);
    tracing::info!(account = %account.id, code, %rejection, "the IDP refused a consumer");
    Refused {
        code,
        reason: rejection.reason.code(),
        detail: rejection.to_string(),
    }
}

/// Both authenticate calls. Bodies over [`MAX_BODY_BYTES`] are refused as input, like any
/// other body the IDP cannot use.
pub fn router(api: Arc<IdpApi>) -> Router {
    Router::new()
        .route(AUTHENTICATE_PATH, post(authenticate))
        .route(SDK_AUTHENTICATE_PATH, post(authenticate))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(api)
}

async fn authenticate(
    State(api): State<Arc<IdpApi>>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    let answer = match body {
        Err(e) => Err(invalid_input(format!(
            "the body could not be read: {}",
            e.body_text()
        ))),
        Ok(_) if !is_json => Err(invalid_input("the body must be application/json")),
        Ok(body) => api.authenticate(&account, &body).await,
    };
    match answer {
        Ok(jwt) => Json(serde_json::json!({ "jwt": jwt })).into_response(),
        Err(refused) => {
            tracing::debug!(account, detail = %refused.detail, "authenticate refused");
            refused.into_response()
        }
    }
}
