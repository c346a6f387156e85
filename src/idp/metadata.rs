//! What the provider says about itself: its endpoint paths and the discovery document built
//! from them.

use axum::body::Bytes;
use serde::Serialize;

use crate::claims::Issuer;

/// Endpoint paths, Google's where Google has one on its own host (the mock serves every
/// endpoint from the issuer's host).
pub mod paths {
    /// Discovery.
    pub const DISCOVERY: &str = "/.well-known/openid-configuration";
    /// Authorization endpoint.
    pub const AUTHORIZE: &str = "/o/oauth2/v2/auth";
    /// The login page's form target.
    pub const LOGIN: &str = "/o/oauth2/v2/auth/login";
    /// Device authorization endpoint.
    pub const DEVICE_CODE: &str = "/device/code";
    /// Where a person enters a device user code.
    pub const DEVICE: &str = "/device";
    /// Token endpoint.
    pub const TOKEN: &str = "/token";
    /// The token endpoint at the path the platform's docs show.
    pub const TOKEN_V3: &str = "/oauth2/v3/token";
    /// UserInfo.
    pub const USERINFO: &str = "/v1/userinfo";
    /// Revocation.
    pub const REVOKE: &str = "/revoke";
    /// Google's debugging endpoint (`oauth2.googleapis.com/tokeninfo`); not in discovery.
    pub const TOKENINFO: &str = "/tokeninfo";
    /// The same on `www.googleapis.com`.
    pub const TOKENINFO_V3: &str = "/oauth2/v3/tokeninfo";
    /// JWKS.
    pub const JWKS: &str = "/oauth2/v3/certs";
    /// kid -> X.509 PEM.
    pub const PEM_CERTS: &str = "/oauth2/v1/certs";
}

/// The discovery document, members in the live document's order (`google-oidc.md` §1.1).
#[derive(Serialize)]
struct Discovery<'a> {
    issuer: &'a str,
    authorization_endpoint: String,
    device_authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    revocation_endpoint: String,
    jwks_uri: String,
    response_types_supported: [&'static str; 8],
    #[serde(skip_serializing_if = "Option::is_none")]
    response_modes_supported: Option<[&'static str; 3]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    authorization_response_iss_parameter_supported: Option<bool>,
    subject_types_supported: [&'static str; 1],
    id_token_signing_alg_values_supported: [&'static str; 1],
    scopes_supported: [&'static str; 3],
    token_endpoint_auth_methods_supported: [&'static str; 2],
    claims_supported: [&'static str; 11],
    code_challenge_methods_supported: [&'static str; 2],
    grant_types_supported: [&'static str; 4],
}

/// The response types Google's discovery lists, in its order.
pub const RESPONSE_TYPES: [&str; 8] = [
    "code",
    "token",
    "id_token",
    "code token",
    "code id_token",
    "token id_token",
    "code token id_token",
    "none",
];

/// Builds the document once: `issuer` as configured, every endpoint below `public_base`.
pub(crate) fn document(issuer: &Issuer, public_base: &str, rfc9207: bool) -> Bytes {
    let url = |path: &str| format!("{public_base}{path}");
    let doc = Discovery {
        issuer: issuer.as_str(),
        authorization_endpoint: url(paths::AUTHORIZE),
        device_authorization_endpoint: url(paths::DEVICE_CODE),
        token_endpoint: url(paths::TOKEN),
        userinfo_endpoint: url(paths::USERINFO),
        revocation_endpoint: url(paths::REVOKE),
        jwks_uri: url(paths::JWKS),
        response_types_supported: RESPONSE_TYPES,
        response_modes_supported: rfc9207.then_some(["query", "fragment", "form_post"]),
        authorization_response_iss_parameter_supported: rfc9207.then_some(true),
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
        scopes_supported: ["openid", "email", "profile"],
        token_endpoint_auth_methods_supported: ["client_secret_post", "client_secret_basic"],
        claims_supported: [
            "aud",
            "email",
            "email_verified",
            "exp",
            "family_name",
            "given_name",
            "iat",
            "iss",
            "name",
            "picture",
            "sub",
        ],
        code_challenge_methods_supported: ["plain", "S256"],
        grant_types_supported: [
            "authorization_code",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:device_code",
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
        ],
    };
    Bytes::from(serde_json::to_vec_pretty(&doc).unwrap_or_default())
}
