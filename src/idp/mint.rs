//! How an ID token is made from its claims: signed with the active key and sealed in the
//! client's envelope, forged on purpose (`mutate` faults), or rendered from a kept template
//! (`faults.token`). Every input is passed in; what is in force is the provider's to say.

use serde::Serialize;
use serde_json::Value;

use super::error::OAuthError;
use super::registry::Client;
use crate::claims::Issuer;
use crate::jose::malform::{ForgeKeys, Mutation};
use crate::jose::template::{Live, TemplateKeys, TokenTemplate};
use crate::jose::Signer;
use crate::keys::{self, SigningKey};

/// Signs `claims` (the JWS the client's envelope, if any, will wrap).
pub(crate) fn sign<T: Serialize>(signer: &Signer, claims: &T) -> Result<String, OAuthError> {
    signer.sign(claims).map_err(|err| {
        tracing::error!(%err, "signing failed");
        OAuthError::ServerError
    })
}

/// Encrypts a signed token for the client if it wants envelopes.
pub(crate) fn envelope(client: &Client, signed: String) -> Result<String, OAuthError> {
    match &client.encrypter {
        None => Ok(signed),
        Some(encrypter) => encrypter.encrypt(&signed).map_err(|err| {
            tracing::error!(%err, "encryption failed");
            OAuthError::ServerError
        }),
    }
}

/// Forges a token with `mutations` applied (`jose::malform`), `genuine` being the active key.
pub(crate) fn forge<T: Serialize>(
    mutations: &[Mutation],
    genuine: &SigningKey,
    client: &Client,
    claims: &T,
    now: i64,
) -> Result<String, OAuthError> {
    // Loaded only when forging: serve's start-up never pays for it.
    let attacker = keys::fixture_attacker_key().map_err(|_| OAuthError::ServerError)?;
    let Value::Object(claims) =
        serde_json::to_value(claims).map_err(|_| OAuthError::ServerError)?
    else {
        return Err(OAuthError::ServerError);
    };
    let header = serde_json::Map::from_iter([
        ("alg".to_owned(), "RS256".into()),
        ("kid".to_owned(), genuine.kid().as_str().into()),
        ("typ".to_owned(), "JWT".into()),
    ]);
    let keys = ForgeKeys {
        genuine,
        unpublished: &attacker,
        client_secret: client.config.client_secret.expose(),
        envelope: client.encrypter.as_ref(),
        now,
    };
    crate::jose::malform::forge(mutations, header, claims, &keys).map_err(|err| {
        tracing::error!(%err, "forging failed");
        OAuthError::ServerError
    })
}

/// Issues a kept token: the template's text with this request's issuer, client, active kid
/// (`published`), nonce and hashes in its placeholders.
pub(crate) fn from_template<T: Serialize>(
    template: &TokenTemplate,
    issuer: &Issuer,
    published: &SigningKey,
    client: &Client,
    claims: &T,
) -> Result<String, OAuthError> {
    let claims = serde_json::to_value(claims).map_err(|_| OAuthError::ServerError)?;
    let member = |name: &str| claims.get(name).and_then(Value::as_str);
    let fixture = |e: keys::KeyError| {
        tracing::error!(%e, "fixture key");
        OAuthError::ServerError
    };
    let unpublished = keys::fixture_attacker_key().map_err(fixture)?;
    // The client's own platform key when its configuration names one, as its other
    // envelopes are sealed.
    let fixture_platform;
    let platform = match &client.platform_key {
        Some(key) => key,
        None => {
            fixture_platform = keys::fixture_platform_key().map_err(fixture)?;
            &fixture_platform
        }
    };
    let live = Live {
        iss: issuer.as_str(),
        client_id: client.id.as_str(),
        kid: published.kid().as_str(),
        nonce: member("nonce"),
        at_hash: member("at_hash"),
        c_hash: member("c_hash"),
    };
    template
        .render(
            &live,
            &TemplateKeys {
                published,
                unpublished: &unpublished,
                platform,
                other: unpublished.key(),
            },
        )
        .map_err(|err| {
            tracing::error!(%err, "issuing the kept token failed");
            OAuthError::ServerError
        })
}
