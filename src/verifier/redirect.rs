//! The platform's window receiving the provider's redirect (`liveperson-auth.md` §1.4): `state`
//! echoed unchanged, then a code or a token, or an error.

use std::collections::HashMap;

use super::reason::RejectReason;
use super::rejection::Rejection;

/// What the redirect handed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handover {
    /// A code to redeem (Code Flow), with the ID token of a hybrid response if one came too.
    Code(String),
    /// An ID token (Implicit Flow), with the access token if one came too.
    IdToken {
        /// The ID token, JWS or JWE.
        id_token: String,
        /// The access token, for `at_hash`.
        access_token: Option<String>,
    },
}

/// The parameters a redirect `Location` carries: its fragment when it has one (implicit and
/// fragment responses), its query otherwise.
pub fn redirect_params(location: &str) -> HashMap<String, String> {
    let part = match location.split_once('#') {
        Some((_, fragment)) => fragment,
        None => location.split_once('?').map_or("", |(_, query)| query),
    };
    form_urlencoded::parse(part.as_bytes())
        .into_owned()
        .collect()
}

/// Reads the redirect's parameters (query or fragment). `expected_state` is the `state` the
/// window sent; it must come back unchanged (§1.4: "must echo state unchanged").
pub fn read_redirect(
    params: &HashMap<String, String>,
    expected_state: Option<&str>,
) -> Result<Handover, Rejection> {
    read_redirect_errors(params, expected_state)?;
    // A code wins: in the code flow the platform trusts only the token endpoint's ID token
    // (OIDC Core §3.1.2.5), whatever else the redirect carries.
    if let Some(code) = params.get("code") {
        return Ok(Handover::Code(code.clone()));
    }
    match params.get("id_token") {
        Some(id_token) => Ok(Handover::IdToken {
            id_token: id_token.clone(),
            access_token: params.get("access_token").cloned(),
        }),
        None => Err(Rejection::new(
            RejectReason::HandoverMissing,
            "the redirect carries neither a code nor an id_token",
        )),
    }
}

/// Reads an implicit-flow redirect: the JWT from `id_token`, or, where the platform's older
/// handovers put it (`liveperson-auth.md` §1.4: "the token goes in query/hash param `code`,
/// `token` or `id_token`"), from `token` or `code`, in that order of preference.
pub fn read_implicit_redirect(
    params: &HashMap<String, String>,
    expected_state: Option<&str>,
) -> Result<Handover, Rejection> {
    read_redirect_errors(params, expected_state)?;
    ["id_token", "token", "code"]
        .into_iter()
        .find_map(|name| params.get(name).filter(|v| !v.is_empty()))
        .map(|jwt| Handover::IdToken {
            id_token: jwt.clone(),
            access_token: params.get("access_token").cloned(),
        })
        .ok_or_else(|| {
            Rejection::new(
                RejectReason::HandoverMissing,
                "the redirect carries no id_token, token or code",
            )
        })
}

/// The checks every redirect gets first: `state` unchanged, and no `error`.
fn read_redirect_errors(
    params: &HashMap<String, String>,
    expected_state: Option<&str>,
) -> Result<(), Rejection> {
    if let Some(expected) = expected_state {
        match params.get("state") {
            Some(got) if got == expected => {}
            Some(_) => {
                return Err(Rejection::new(
                    RejectReason::StateMismatch,
                    "state differs from the one sent",
                ))
            }
            None => {
                return Err(Rejection::new(
                    RejectReason::StateMismatch,
                    "state is missing",
                ))
            }
        }
    }
    if let Some(error) = params.get("error") {
        let detail = match params.get("error_description") {
            Some(description) => format!("{error}: {description}"),
            None => error.clone(),
        };
        return Err(Rejection::new(RejectReason::AuthorizationError, detail));
    }
    Ok(())
}

/// What a front channel carried when the platform asked for more than one artifact: a hybrid
/// response (`code id_token`, `code token`, `code id_token token`) or `id_token token`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrontChannel {
    /// The authorization code.
    pub code: Option<String>,
    /// The front-channel ID token.
    pub id_token: Option<String>,
    /// The front-channel access token.
    pub access_token: Option<String>,
}

/// Reads a redirect for the artifacts `response_type` asked for: `state` and `error` as
/// [`read_redirect`] does, then every artifact asked for must be there, and nothing else is
/// taken (an ID token the platform did not ask for is not read).
pub fn read_front_channel(
    params: &HashMap<String, String>,
    expected_state: Option<&str>,
    response_type: &str,
) -> Result<FrontChannel, Rejection> {
    read_redirect_errors(params, expected_state)?;
    let asked = |what: &str| response_type.split(' ').any(|t| t == what);
    let take = |asked: bool, param: &str| -> Result<Option<String>, Rejection> {
        match (asked, params.get(param)) {
            (false, _) => Ok(None),
            (true, Some(value)) if !value.is_empty() => Ok(Some(value.clone())),
            (true, _) => Err(Rejection::new(
                RejectReason::HandoverMissing,
                format!("response_type {response_type:?} asked for {param}, and the redirect carries none"),
            )),
        }
    };
    Ok(FrontChannel {
        code: take(asked("code"), "code")?,
        id_token: take(asked("id_token"), "id_token")?,
        access_token: take(asked("token"), "access_token")?,
    })
}
