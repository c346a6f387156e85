//! The admin API changing a running provider: personas, clients and claims queued for the next
//! login. A change is seen by the next request; bad input is a 400 naming the member at fault
//! and changes nothing; concurrent changes and logins lose nothing.

use oidc_harness::idp::MockIdp;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

async fn send(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = http.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn admin(idp: &MockIdp, path: &str) -> String {
    format!("{}/_harness/{path}", idp.base_url())
}

/// Signs `persona` in headlessly and returns the ID token's claims, or the redirect's error.
async fn login(
    idp: &MockIdp,
    http: &reqwest::Client,
    client: &str,
    persona: &str,
) -> Result<Value, String> {
    let location = authorize(
        idp,
        http,
        &code_request(&[
            ("client_id", client),
            ("login_hint", persona),
            ("response_type", "id_token"),
        ]),
    )
    .await;
    let mut params = redirect_params(&location);
    match params.remove("id_token") {
        Some(token) => Ok(decode(&token).1),
        None => Err(params.remove("error").unwrap_or_default()),
    }
}

#[tokio::test]
async fn personas_are_created_replaced_and_deleted_while_serving() {
    let (idp, http) = spawn().await;
    let url = admin(&idp, "personas/erin");
    let erin = json!({
        "sub": "100000000000000000042",
        "email": "erin@example.org",
        "name": "Erin Example",
        "lp_sdes": [{"type": "ctmrinfo", "info": {"cstatus": "gold", "customerId": "E-42"}}]
    });
    let (status, body) = send(&http, reqwest::Method::PUT, url.clone(), Some(erin)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["id"], "erin");
    let claims = login(&idp, &http, "demo-client", "erin").await.unwrap();
    assert_eq!(claims["sub"], "100000000000000000042");
    assert_eq!(claims["name"], "Erin Example");
    assert_eq!(claims["lp_sdes"][0]["info"]["customerId"], "E-42");

    // Replaced: the next login says so; a token issued before keeps what it was issued with.
    let code = get_code(&idp, &http, &[("login_hint", "erin")]).await;
    let (_, before) = redeem(&idp, &http, &code, &[]).await;
    let (status, _) = send(
        &http,
        reqwest::Method::PUT,
        url.clone(),
        Some(json!({"id": "erin", "sub": "100000000000000000042", "name": "Erin Renamed"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let claims = login(&idp, &http, "demo-client", "erin").await.unwrap();
    assert_eq!(claims["name"], "Erin Renamed");
    assert!(claims.get("lp_sdes").is_none());
    let info = http
        .get(format!("{}/v1/userinfo", idp.base_url()))
        .bearer_auth(before["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(info["name"], "Erin Example");

    let (status, list) = send(&http, reqwest::Method::GET, admin(&idp, "personas"), None).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = list["personas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["alice", "bob", "zoe", "dana", "mallory", "erin"]);

    // Deleted: no more sign-ins; a second delete is a 404.
    let (status, _) = send(&http, reqwest::Method::DELETE, url.clone(), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        login(&idp, &http, "demo-client", "erin").await.unwrap_err(),
        "login_required"
    );
    let (status, body) = send(&http, reqwest::Method::DELETE, url, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"error": "not_found", "error_description": "no persona \"erin\""})
    );
}

#[tokio::test]
async fn bad_personas_name_the_member_and_change_nothing() {
    let (idp, http) = spawn().await;
    let cases = [
        (
            "frank",
            json!({"sub": 5}),
            "sub: invalid type: integer `5`, expected a string",
        ),
        (
            "frank",
            json!({"sub": "1", "colour": "red"}),
            "colour: unknown field `colour`",
        ),
        (
            "frank",
            json!({"id": "george", "sub": "1"}),
            "id: \"george\" differs from the path's \"frank\"",
        ),
        (
            "frank",
            json!({"sub": ""}),
            "sub must be 1 to 255 ASCII characters",
        ),
        (
            "frank",
            json!({"sub": "1", "lp_sdes": [{"type": "ctmrinfo", "info": {"colour": "red"}}]}),
            "lp_sdes: unknown field `colour`",
        ),
        (
            "frank",
            json!({"sub": "110169484474386276334"}),
            "sub: 110169484474386276334 is persona \"alice\"'s",
        ),
        (
            "frank",
            json!({"sub": "2", "email": "alice.liddell@example.com"}),
            "email: \"alice.liddell@example.com\" is persona \"alice\"'s",
        ),
        (
            "frank",
            json!(["not", "an", "object"]),
            "body: a persona is a JSON object",
        ),
        (
            "fr%20ank",
            json!({"sub": "3"}),
            "id must be non-empty letters, digits, '-' or '_'",
        ),
    ];
    for (id, body, description) in cases {
        let (status, answer) = send(
            &http,
            reqwest::Method::PUT,
            admin(&idp, &format!("personas/{id}")),
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer["error"], "invalid_request", "{body}");
        let got = answer["error_description"].as_str().unwrap();
        assert!(
            got.starts_with(description),
            "{body}: {got:?} does not start with {description:?}"
        );
    }
    let response = http
        .put(admin(&idp, "personas/frank"))
        .header("content-type", "application/json")
        .body("{\"sub\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let answer: Value = response.json().await.unwrap();
    assert!(
        answer["error_description"]
            .as_str()
            .unwrap()
            .starts_with("sub: EOF while parsing a value"),
        "{answer}"
    );
    let (_, list) = send(&http, reqwest::Method::GET, admin(&idp, "personas"), None).await;
    assert_eq!(list["personas"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn clients_are_registered_changed_and_removed_while_serving() {
    let (idp, http) = spawn().await;
    let url = admin(&idp, "clients/brand-x");
    let (status, body) = send(
        &http,
        reqwest::Method::PUT,
        url.clone(),
        Some(json!({"client_secret": "x-secret", "redirect_uris": ["https://brand-x.example/cb"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["client_id"], "brand-x");
    let code_for = |redirect: &'static str| {
        let idp = &idp;
        let http = &http;
        async move {
            let location = authorize(
                idp,
                http,
                &code_request(&[("client_id", "brand-x"), ("redirect_uri", redirect)]),
            )
            .await;
            redirect_params(&location).remove("code").unwrap()
        }
    };
    let redeem_as = |code: String, secret: &'static str| {
        let http = &http;
        let token = format!("{}/token", idp.base_url());
        async move {
            http.post(token)
                .basic_auth("brand-x", Some(secret))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", "https://brand-x.example/cb"),
                ])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let code = code_for("https://brand-x.example/cb").await;
    assert_eq!(redeem_as(code, "x-secret").await, StatusCode::OK);

    // A new secret: the old one is refused from the next request on.
    let (status, _) = send(
        &http,
        reqwest::Method::PUT,
        url.clone(),
        Some(json!({"client_secret": "rotated", "redirect_uris": ["https://brand-x.example/cb"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let code = code_for("https://brand-x.example/cb").await;
    assert_eq!(redeem_as(code, "x-secret").await, StatusCode::UNAUTHORIZED);
    let code = code_for("https://brand-x.example/cb").await;
    assert_eq!(redeem_as(code, "rotated").await, StatusCode::OK);

    let (status, list) = send(&http, reqwest::Method::GET, admin(&idp, "clients"), None).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = list["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "brand-x",
            "demo-client",
            "demo-encrypted",
            "demo-platform-errors"
        ]
    );

    let (status, _) = send(&http, reqwest::Method::DELETE, url.clone(), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let response = http
        .get(auth_url(
            &idp,
            &code_request(&[
                ("client_id", "brand-x"),
                ("redirect_uri", "https://brand-x.example/cb"),
            ]),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = send(&http, reqwest::Method::DELETE, url, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Bad input names the member and registers nothing.
    for (body, description) in [
        (
            json!({"redirect_uris": []}),
            "body: missing field `client_secret`",
        ),
        (
            json!({"client_secret": "s", "redirect_uris": ["/relative"]}),
            "redirect_uris[0]: \"/relative\" is not an absolute URL",
        ),
        (
            json!({"client_secret": "s", "error_style": "loud"}),
            "error_style: unknown variant `loud`",
        ),
        (
            json!({"client_secret": "s", "encrypt_id_token": {"alg": "RSA1_5"}}),
            "encrypt_id_token.alg: unknown variant `RSA1_5`",
        ),
        (
            json!({"client_id": "other", "client_secret": "s"}),
            "client_id: \"other\" differs from the path's \"brand-y\"",
        ),
    ] {
        let (status, answer) = send(
            &http,
            reqwest::Method::PUT,
            admin(&idp, "clients/brand-y"),
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let got = answer["error_description"].as_str().unwrap();
        assert!(got.starts_with(description), "{body}: {got:?}");
    }
    let (_, list) = send(&http, reqwest::Method::GET, admin(&idp, "clients"), None).await;
    assert_eq!(list["clients"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn queued_claims_go_to_the_next_login_once_in_order() {
    let (idp, http) = spawn().await;
    let queue = admin(&idp, "queue");
    for (target, claims) in [
        (
            json!({"persona": "bob"}),
            json!({"acr": "first-for-bob", "lp_sdes": [{"type": "ctmrinfo", "info": {"customerId": "queued"}}]}),
        ),
        (
            json!({"client": "demo-client"}),
            json!({"amr": ["client-1"]}),
        ),
        (
            json!({"client": "demo-client"}),
            json!({"amr": ["client-2"]}),
        ),
    ] {
        let mut body = target;
        body["claims"] = claims;
        let (status, answer) = send(&http, reqwest::Method::POST, queue.clone(), Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    let (_, waiting) = send(&http, reqwest::Method::GET, queue.clone(), None).await;
    assert_eq!(waiting["queued"].as_array().unwrap().len(), 3);
    assert_eq!(
        waiting["queued"][0],
        json!({"persona": "bob", "claims": {"acr": "first-for-bob", "lp_sdes": [{"type": "ctmrinfo", "info": {"customerId": "queued"}}]}})
    );

    // alice's login takes the client's first set only.
    let alice = login(&idp, &http, "demo-client", "alice").await.unwrap();
    assert_eq!(alice["amr"], json!(["client-1"]));
    assert!(alice.get("acr").is_none());
    // bob's takes his own and the client's second.
    let bob = login(&idp, &http, "demo-client", "bob").await.unwrap();
    assert_eq!(bob["acr"], "first-for-bob");
    assert_eq!(bob["lp_sdes"][0]["info"]["customerId"], "queued");
    assert_eq!(bob["amr"], json!(["client-2"]));
    // Then nothing is left.
    let bob = login(&idp, &http, "demo-client", "bob").await.unwrap();
    assert!(
        bob.get("acr").is_none() && bob.get("amr").is_none(),
        "{bob}"
    );
    let (_, waiting) = send(&http, reqwest::Method::GET, queue.clone(), None).await;
    assert_eq!(waiting["queued"], json!([]));

    for (body, description) in [
        (
            json!({"persona": "nobody", "claims": {}}),
            "persona: no persona \"nobody\"",
        ),
        (
            json!({"client": "nobody", "claims": {}}),
            "client: no client \"nobody\"",
        ),
        (
            json!({"client": "demo-client", "persona": "bob", "claims": {}}),
            "body: name exactly one of client and persona",
        ),
        (
            json!({"client": "demo-client"}),
            "body: missing field `claims`",
        ),
        (
            json!({"client": "demo-client", "claims": []}),
            "claims: invalid type: sequence, expected a map",
        ),
    ] {
        let (status, answer) = send(
            &http,
            reqwest::Method::POST,
            queue.clone(),
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let got = answer["error_description"].as_str().unwrap();
        assert!(got.starts_with(description), "{body}: {got:?}");
    }
    let (status, _) = send(
        &http,
        reqwest::Method::POST,
        queue.clone(),
        Some(json!({"client": "demo-client", "claims": {"x": 1}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = send(&http, reqwest::Method::DELETE, queue.clone(), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let alice = login(&idp, &http, "demo-client", "alice").await.unwrap();
    assert!(alice.get("x").is_none());

    let (status, state) = send(&http, reqwest::Method::GET, admin(&idp, "state"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(state["issuer"], idp.base_url());
    assert_eq!(state["personas"].as_array().unwrap().len(), 5);
    assert_eq!(state["clients"][0]["client_id"], "demo-client");
    assert_eq!(state["queued"], json!([]));
    assert_eq!(state["faults"]["mutate"], json!([]));
    assert_eq!(state["keys"].as_array().unwrap().len(), 2);
}

/// Many changes and logins at once: every change lands, every login succeeds, every queued
/// claim set goes to exactly one token.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_changes_and_logins_lose_nothing() {
    let (idp, http) = spawn().await;
    const N: usize = 40;
    let mut tasks = Vec::new();
    for i in 0..N {
        let (h, url) = (http.clone(), admin(&idp, &format!("personas/p{i}")));
        tasks.push(tokio::spawn(async move {
            let body = json!({"sub": format!("2000{i:017}")});
            let status = h.put(url).json(&body).send().await.unwrap().status();
            assert_eq!(status, StatusCode::CREATED);
            None
        }));
        let (h, url) = (http.clone(), admin(&idp, "queue"));
        tasks.push(tokio::spawn(async move {
            let body = json!({"client": "demo-client", "claims": {"ticket": i}});
            let status = h.post(url).json(&body).send().await.unwrap().status();
            assert_eq!(status, StatusCode::CREATED);
            None
        }));
    }
    for task in tasks.drain(..) {
        task.await.unwrap();
    }
    for _ in 0..N {
        let h = http.clone();
        let url = auth_url(&idp, &code_request(&[("response_type", "id_token")]));
        tasks.push(tokio::spawn(async move {
            let response = h.get(url).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::FOUND);
            let token = redirect_params(&location(&response))
                .remove("id_token")
                .unwrap();
            Some(decode(&token).1["ticket"].as_u64().unwrap())
        }));
        // A persona change racing each login.
        let (h, url) = (http.clone(), admin(&idp, "personas/alice"));
        tasks.push(tokio::spawn(async move {
            let body = json!({"sub": "110169484474386276334", "email": "alice.liddell@example.com", "name": "Alice Liddell"});
            let status = h.put(url).json(&body).send().await.unwrap().status();
            assert_eq!(status, StatusCode::OK);
            None
        }));
    }
    let mut tickets = Vec::new();
    for task in tasks {
        if let Some(ticket) = task.await.unwrap() {
            tickets.push(ticket);
        }
    }
    tickets.sort_unstable();
    assert_eq!(tickets, (0..N as u64).collect::<Vec<_>>());
    let (_, list) = send(&http, reqwest::Method::GET, admin(&idp, "personas"), None).await;
    assert_eq!(list["personas"].as_array().unwrap().len(), 5 + N);
    let (_, waiting) = send(&http, reqwest::Method::GET, admin(&idp, "queue"), None).await;
    assert_eq!(waiting["queued"], json!([]));
}

// --- who may call it ----------------------------------------------------------------------------

const TOKEN: &str = "s3cret-admin.token~1";

/// `serve`'s provider in-process with `admin_token` set.
async fn spawn_with_token() -> (MockIdp, reqwest::Client) {
    let config = oidc_harness::idp::IdpConfig {
        admin_token: Some(oidc_harness::claims::ClientSecret::new(TOKEN)),
        ..Default::default()
    };
    let idp = MockIdp::builder().config(config).start().await.unwrap();
    let http = idp.http_client();
    (idp, http)
}

/// Status, `WWW-Authenticate` and JSON body of `GET url` with `authorization`, if any.
async fn call(
    http: &reqwest::Client,
    url: &str,
    authorization: Option<&str>,
) -> (StatusCode, Option<String>, Value) {
    let mut request = http.get(url);
    if let Some(value) = authorization {
        request = request.header(reqwest::header::AUTHORIZATION, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null);
    (status, challenge, body)
}

fn missing_token() -> Value {
    json!({"error": "unauthorized", "error_description": "The admin API needs Authorization: Bearer <the token serve was given>."})
}

fn wrong_token() -> Value {
    json!({"error": "unauthorized", "error_description": "The admin API's bearer token is not this one."})
}

#[tokio::test]
async fn without_a_token_loopback_callers_need_none() {
    let (idp, http) = spawn().await;
    let (status, challenge, body) = call(&http, &admin(&idp, "faults"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(challenge, None);
    assert_eq!(body["mutate"], json!([]));
    // A bearer header is not asked for, and changes nothing.
    let bearer = format!("Bearer {TOKEN}");
    let (status, _, _) = call(&http, &admin(&idp, "state"), Some(&bearer)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn with_a_token_every_call_must_carry_it_loopback_too() {
    let (idp, http) = spawn_with_token().await;
    let url = admin(&idp, "faults");
    let (status, challenge, body) = call(&http, &url, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge.as_deref(), Some("Bearer"));
    assert_eq!(body, missing_token());

    for wrong in [
        "Bearer s3cret-admin.token~2",
        "Bearer s3cret-admin.token~1x",
        "Bearer s3cret",
    ] {
        let (status, challenge, body) = call(&http, &url, Some(wrong)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{wrong}");
        assert_eq!(
            challenge.as_deref(),
            Some(r#"Bearer error="invalid_token""#)
        );
        assert_eq!(body, wrong_token(), "{wrong}");
    }
    // The token in another scheme is no bearer token.
    for other in [format!("Basic {TOKEN}"), TOKEN.to_owned()] {
        let (status, challenge, body) = call(&http, &url, Some(&other)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{other}");
        assert_eq!(challenge.as_deref(), Some("Bearer"));
        assert_eq!(body, missing_token());
    }

    let (status, _, body) = call(&http, &url, Some(&format!("Bearer {TOKEN}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["mutate"], json!([]));
    // The scheme is case-insensitive (RFC 7235 §2.1).
    let (status, _, _) = call(&http, &url, Some(&format!("bearer {TOKEN}"))).await;
    assert_eq!(status, StatusCode::OK);

    // A refused change changes nothing; an accepted one takes effect.
    let fault = json!({"mutate": ["exp-past"]});
    let refused = http.put(&url).json(&fault).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(idp.state().faults().mutate.is_empty());
    let accepted = http
        .put(&url)
        .bearer_auth(TOKEN)
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::OK);
    let code = get_code(&idp, &http, &[]).await;
    let (_, tokens) = redeem(&idp, &http, &code, &[]).await;
    let (_, claims) = decode(tokens["id_token"].as_str().unwrap());
    assert!(
        claims["exp"].as_i64().unwrap() < claims["iat"].as_i64().unwrap(),
        "{claims}"
    );
    // The endpoints themselves ask for nothing.
    let discovery = format!("{}/.well-known/openid-configuration", idp.base_url());
    let (status, _, _) = call(&http, &discovery, None).await;
    assert_eq!(status, StatusCode::OK);
}

/// An address of this machine beyond loopback, if it has one: the one it would send from.
fn own_address() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    // Connecting a UDP socket sends nothing; it only picks the route and its source address.
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

/// Over a real socket from a peer beyond loopback: refused (403) without a token configured,
/// and with one answered only to its bearer. Where the machine has no address but loopback,
/// the guard's decision for such a peer is still tested by the unit tests in
/// src/idp/admin.rs.
#[tokio::test]
async fn beyond_loopback_only_the_token_opens_the_admin_api() {
    let Some(ip) = own_address() else {
        eprintln!("skipped: this machine has no address beyond loopback to call from");
        return;
    };
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let port = |server: &crate::cli::Server| {
        let listening = crate::cli::field(&server.banner, "listening");
        listening.rsplit(':').next().unwrap().to_owned()
    };

    let open = crate::cli::start(&["--addr", "0.0.0.0:0", "--no-tls"]);
    let url = format!("http://{ip}:{}/_harness/faults", port(&open));
    let (status, _, body) = call(&http, &url, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        json!({"error": "access_denied", "error_description": "The admin API answers loopback callers only."})
    );
    drop(open);

    let guarded = crate::cli::start(&["--addr", "0.0.0.0:0", "--no-tls", "--admin-token", TOKEN]);
    let url = format!("http://{ip}:{}/_harness/faults", port(&guarded));
    let (status, challenge, body) = call(&http, &url, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge.as_deref(), Some("Bearer"));
    assert_eq!(body, missing_token());
    let (status, _, body) = call(&http, &url, Some("Bearer wrong")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, wrong_token());
    let (status, _, body) = call(&http, &url, Some(&format!("Bearer {TOKEN}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["mutate"], json!([]));
}
