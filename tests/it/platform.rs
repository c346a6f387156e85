//! The platform side over HTTP: the window API that hands codes and tokens to the verifier,
//! and the agent workspace page. The provider and the platform listen on different origins, as
//! a brand's provider and the platform do; both share one clock so expiry can be stepped.

use std::sync::Arc;

use oidc_harness::claims::{ClientId, ClientSecret};
use oidc_harness::clock::FixedClock;
use oidc_harness::idp::MockIdp;
use oidc_harness::platform::{self, BrandConnection, Connector, Platform, PlatformConfig};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

const NOW: i64 = 1_800_000_000;
const ALICE: &str = "110169484474386276334";

struct Demo {
    idp: MockIdp,
    http: reqwest::Client,
    base: String,
    clock: Arc<FixedClock>,
}

async fn demo() -> Demo {
    let clock = Arc::new(FixedClock::at(NOW));
    // A second brand, acme, with a connector of its own at the platform.
    let brands = oidc_harness::idp::IdpConfig::from_toml("[[brand]]\nname = \"acme\"\n").unwrap();
    let idp = MockIdp::builder()
        .config(brands)
        .clock(clock.clone())
        .start()
        .await
        .expect("provider starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = PlatformConfig {
        brands: vec![BrandConnection {
            name: "acme".into(),
            issuer: idp.brand("acme").unwrap().issuer().clone(),
            authorization_endpoint: format!("{}/o/oauth2/v2/auth", idp.brand_url("acme")),
            token_endpoint: format!("{}/token", idp.brand_url("acme")).parse().unwrap(),
            jwks_uri: format!("{}/oauth2/v3/certs", idp.brand_url("acme"))
                .parse()
                .unwrap(),
            plain: Connector {
                client_id: ClientId::new("demo-client"),
                client_secret: ClientSecret::new("demo-secret"),
            },
            encrypted: None,
        }],
        ..platform_config(&idp, &base)
    };
    let platform = Arc::new(Platform::new(config, clock.clone()).expect("platform builds"));
    tokio::spawn(async move { axum::serve(listener, platform::router(platform)).await });
    let http = idp.http_client();
    Demo {
        idp,
        http,
        base,
        clock,
    }
}

const PAGE_SDES: &str = r#"[
    {"type": "ctmrinfo", "info": {"customerId": "WEB-1", "ctype": "silver", "storeNumber": "77"}},
    {"type": "personal", "personal": {"firstname": "<i>Alicia</i>"}}
]"#;

impl Demo {
    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    async fn start(&self, mode: &str, flow: &str, encrypted: bool) -> Value {
        let page_sdes: Value = serde_json::from_str(PAGE_SDES).unwrap();
        let (status, body) = self
            .post(
                "/platform/api/conversations",
                json!({"mode": mode, "flow": flow, "encrypted": encrypted, "page_sdes": page_sdes}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// A code for alice from the provider's headless login, bound to `challenge`.
    async fn code(&self, challenge: &str) -> String {
        get_code(
            &self.idp,
            &self.http,
            &[
                ("code_challenge", challenge),
                ("code_challenge_method", "S256"),
            ],
        )
        .await
    }

    /// Hands a code or token over, and returns the conversation as the platform records it.
    async fn hand_over(&self, id: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!(
                "{}/platform/api/conversations/{id}/token",
                self.base
            ))
            .json(&body)
            .send()
            .await
            .unwrap();
        self.settled(response, id).await
    }

    /// The answer to a hand-over: the conversation on success; on a rejection, exactly what the
    /// platform tells the consumer's browser (§4.3, §6.3), and then the conversation as the
    /// agent workspace reads it, with the harness's diagnostic.
    async fn settled(&self, response: reqwest::Response, id: &str) -> Value {
        let status = response.status();
        let conversation = response
            .headers()
            .get("x-harness-conversation")
            .map(|v| v.to_str().unwrap().to_owned());
        let body: Value = response.json().await.unwrap();
        if status == StatusCode::OK {
            return body;
        }
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(
            body,
            json!({"error": {"message": "Failed to validate user with customer authentication service", "internalCode": 10}})
        );
        assert_eq!(conversation.as_deref(), Some(id));
        let (status, view) = self.get(&format!("/platform/api/conversations/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(view["status"], "rejected", "{view}");
        view
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    async fn workspace(&self, id: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let response = self
            .http
            .get(format!("{}/platform/agent/{id}", self.base))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        (status, headers, response.text().await.unwrap())
    }
}

fn field<'a>(view: &'a Value, key: &str) -> &'a Value {
    view["profile"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == key)
        .unwrap_or_else(|| panic!("no field {key} in {view}"))
}

/// The query of a URL, as a map.
fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

impl Demo {
    /// The popup's round trip for alice (headless at the provider): the authorization
    /// request with `state` and `nonce`, then the redirect's fragment to the window.
    async fn popup_implicit(&self, id: &str, state: &str, nonce: &str) -> Value {
        let redirect_uri = format!("{}/platform/window/callback", self.base);
        let location = authorize(
            &self.idp,
            &self.http,
            &[
                ("client_id", "demo-encrypted"),
                ("redirect_uri", redirect_uri.as_str()),
                ("response_type", "id_token"),
                ("scope", "openid"),
                ("state", state),
                ("nonce", nonce),
                ("login_hint", "alice"),
                ("prompt", "none"),
            ],
        )
        .await;
        let fragment = location.split_once('#').unwrap().1.to_owned();
        self.callback(id, &fragment).await
    }

    /// The popup's page sends the redirect as it came.
    async fn callback(&self, id: &str, response: &str) -> Value {
        let answer = self
            .http
            .post(format!("{}/platform/api/window/callback", self.base))
            .json(&json!({ "response": response }))
            .send()
            .await
            .unwrap();
        self.settled(answer, id).await
    }
}

/// Each brand's conversation is verified by that brand's connector alone: acme's code works for
/// an acme conversation (as acme's consumer), the default brand's code does not, and a brand
/// the platform has no connector for is refused.
#[tokio::test]
async fn each_brand_has_its_own_connector() {
    let demo = demo().await;
    let start = |brand: &str| json!({"brand": brand, "mode": "embedded", "flow": "code", "encrypted": false});
    let code_at = |base: String, challenge: String| {
        let http = demo.http.clone();
        async move {
            let query = form_urlencoded::Serializer::new(String::new())
                .extend_pairs([
                    ("client_id", "demo-client"),
                    ("redirect_uri", REDIRECT),
                    ("response_type", "code"),
                    ("scope", "openid email profile"),
                    ("login_hint", "alice"),
                    ("prompt", "none"),
                    ("code_challenge", &challenge),
                    ("code_challenge_method", "S256"),
                ])
                .finish();
            let response = http
                .get(format!("{base}/o/oauth2/v2/auth?{query}"))
                .send()
                .await
                .unwrap();
            redirect_params(&location(&response))
                .remove("code")
                .unwrap()
        }
    };
    let acme = demo.idp.brand_url("acme");
    let (status, started) = demo
        .post("/platform/api/conversations", start("acme"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let id = started["conversation"].as_str().unwrap();
    let challenge = started["code_challenge"].as_str().unwrap().to_owned();
    let code = code_at(acme.clone(), challenge).await;
    let view = demo
        .hand_over(
            id,
            json!({"token": {"ssoKey": code, "redirect_uri": REDIRECT}}),
        )
        .await;
    assert_eq!(view["status"], "authenticated", "{view}");
    assert_eq!(view["sub"], ALICE);
    assert_eq!(view["issuer"], acme);

    // The default brand's code at acme's connector: acme's token endpoint never issued it.
    let (_, started) = demo
        .post("/platform/api/conversations", start("acme"))
        .await;
    let id = started["conversation"].as_str().unwrap();
    let challenge = started["code_challenge"].as_str().unwrap().to_owned();
    let code = code_at(demo.idp.base_url().to_owned(), challenge).await;
    let view = demo
        .hand_over(
            id,
            json!({"token": {"ssoKey": code, "redirect_uri": REDIRECT}}),
        )
        .await;
    assert_eq!(view["status"], "rejected");
    assert_eq!(view["reason"], "token_endpoint_error");

    let (status, body) = demo
        .post("/platform/api/conversations", start("globex"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error_description"], "no brand \"globex\"");
    // Its page: acme's authorization endpoint and brand name, for the tag to pass on.
    let page = demo
        .http
        .get(format!("{}/demo/brands/acme", demo.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!(
            "data-brand=\"acme\" data-authorize=\"{acme}/o/oauth2/v2/auth\""
        )),
        "{page}"
    );
    let missing = demo
        .http
        .get(format!("{}/demo/brands/globex", demo.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn embedded_code_flow_redeems_with_pkce_and_the_pages_redirect_uri() {
    let demo = demo().await;
    let started = demo.start("embedded", "code", false).await;
    let id = started["conversation"].as_str().unwrap();
    let challenge = started["code_challenge"].as_str().unwrap();
    assert_eq!(challenge.len(), 43);
    assert!(started.get("authorize_url").is_none());

    let code = demo.code(challenge).await;
    let view = demo
        .hand_over(
            id,
            json!({"token": {"ssoKey": code, "redirect_uri": REDIRECT}}),
        )
        .await;
    assert_eq!(view["status"], "authenticated");
    assert_eq!(view["sub"], ALICE);
    assert_eq!(view["issuer"], demo.idp.issuer().as_str());
    assert_eq!(view["token_encrypted"], false);
    assert_eq!(view["authentications"], 1);
    assert_eq!(view["expires_in_secs"], 3600);
    assert_eq!(view["expires_at"], NOW + 3600);
    assert_eq!(
        field(&view, "ctmrinfo.customerId"),
        &json!({"key": "ctmrinfo.customerId", "value": "CUST-0001-ALICE",
                "provenance": {"kind": "authenticated", "source": "lp_sdes.ctmrinfo.customerId"},
                "overridden_page_value": "WEB-1"})
    );
    assert_eq!(
        field(&view, "ctmrinfo.storeNumber"),
        &json!({"key": "ctmrinfo.storeNumber", "value": "77", "provenance": {"kind": "from_page"}})
    );

    // The code and its PKCE verifier were spent: handing the code over again fails at the
    // provider, and the latest verdict is what the conversation shows.
    let again = demo
        .hand_over(
            id,
            json!({"token": {"ssoKey": code, "redirect_uri": REDIRECT}}),
        )
        .await;
    assert_eq!(again["status"], "rejected");
    assert_eq!(again["reason"], "token_endpoint_error");
    assert!(again.get("sub").is_none());
}

#[tokio::test]
async fn the_workspace_marks_every_field_and_escapes_values() {
    let demo = demo().await;
    let started = demo.start("embedded", "implicit", false).await;
    let id = started["conversation"].as_str().unwrap();
    assert!(started.get("code_challenge").is_none());
    let token = demo
        .idp
        .mint_id_token("mallory", &Default::default())
        .unwrap();
    let view = demo.hand_over(id, json!({"token": token})).await;
    assert_eq!(view["status"], "authenticated", "{view}");

    let (status, headers, html) = demo.workspace(id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers["content-security-policy"],
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; frame-ancestors 'self'; base-uri 'none'"
    );
    assert!(html.contains(r#"<div id="agent" data-conversation=""#));
    assert!(html.contains(r#"data-status="authenticated""#));
    assert!(html.contains(r#"<tr data-key="ctmrinfo.customerId" data-provenance="verified">"#));
    assert!(html.contains(r#"<span class="value">&#60;img src=x onerror=alert(1)&#62;</span>"#));
    // The page's values are escaped too.
    assert!(html.contains(r#"<tr data-key="personal.firstname" data-provenance="page">"#));
    assert!(html.contains(r#"<span class="value">&#60;i&#62;Alicia&#60;/i&#62;</span>"#));
    assert!(!html.contains("<img src=x"), "a value became markup");
    assert!(!html.contains("<i>Alicia"), "a value became markup");
    // The page's customerId lost to the verified one and is shown struck through.
    assert!(html.contains(r#"<del class="page-value" title="what the page said">WEB-1</del>"#));
    assert!(html.contains(r#"<tr data-key="ctmrinfo.storeNumber" data-provenance="page">"#));
    assert!(html.contains(r#"<span class="badge page">from page, not verified</span>"#));
}

#[tokio::test]
async fn a_page_that_reports_an_error_or_nothing_gets_no_conversation() {
    let demo = demo().await;
    let id = demo.start("embedded", "code", false).await["conversation"]
        .as_str()
        .unwrap()
        .to_owned();
    let view = demo
        .hand_over(
            &id,
            json!({"token": "", "error": "the consumer is not signed in"}),
        )
        .await;
    assert_eq!(view["status"], "rejected");
    assert_eq!(view["reason"], "handover_missing");
    assert_eq!(
        view["detail"],
        "the page reported an error: the consumer is not signed in"
    );
    // The agent workspace shows why, labelled as what it is: a diagnostic of the harness.
    let (status, _, html) = demo.workspace(&id).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"<div class="diagnostic" id="harness-diagnostic">"#),
        "{html}"
    );
    assert!(
        html.contains("a real agent never sees this conversation"),
        "{html}"
    );
    assert!(
        html.contains(r#"reason <code id="reason">handover_missing</code>"#),
        "{html}"
    );
    // Any value but null is an error (§1.5), objects included.
    let view = demo
        .hand_over(&id, json!({"token": {}, "error": {"code": 7}}))
        .await;
    assert_eq!(view["detail"], r#"the page reported an error: {"code":7}"#);
    let view = demo.hand_over(&id, json!({"token": {}})).await;
    assert_eq!(view["reason"], "handover_missing");
    assert_eq!(
        view["detail"],
        "the page called back without a code or token"
    );
    // Page fields are still shown, none verified.
    let fields = view["profile"]["fields"].as_array().unwrap();
    assert_eq!(fields.len(), 4);
    assert!(fields
        .iter()
        .all(|f| f["provenance"]["kind"] == "from_page"));

    let (status, _, html) = demo.workspace(&id).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<code id="reason">handover_missing</code>"#));
}

#[tokio::test]
async fn popup_implicit_flow_checks_state_and_nonce_once() {
    let demo = demo().await;
    let started = demo.start("popup", "implicit", true).await;
    let id = started["conversation"].as_str().unwrap();
    let query = query_of(started["authorize_url"].as_str().unwrap());
    assert!(started["authorize_url"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{}/o/oauth2/v2/auth?", demo.idp.base_url())));
    assert_eq!(query["client_id"], "demo-encrypted");
    assert_eq!(query["response_type"], "id_token");
    assert_eq!(
        query["redirect_uri"],
        format!("{}/platform/window/callback", demo.base)
    );
    assert!(query["state"].starts_with(&format!("{id}.")));
    assert!(!query.contains_key("code_challenge"));

    let view = demo
        .popup_implicit(id, &query["state"], &query["nonce"])
        .await;
    assert_eq!(view["status"], "authenticated", "{view}");
    assert_eq!(view["mode"], "popup");
    assert_eq!(view["token_encrypted"], true);

    // The same state again: it was used.
    let view = demo
        .popup_implicit(id, &query["state"], &query["nonce"])
        .await;
    assert_eq!(view["status"], "rejected");
    assert_eq!(view["reason"], "state_mismatch");

    // A token minted for another nonce, after a fresh request: the platform documents no nonce
    // rule, so its reading authenticates and names what the strict reading refuses.
    let renewed = demo
        .post(
            &format!("/platform/api/conversations/{id}/renew"),
            json!({}),
        )
        .await
        .1;
    let state = &query_of(renewed["authorize_url"].as_str().unwrap())["state"];
    assert_ne!(state, &query["state"]);
    let view = demo.popup_implicit(id, state, "somebody-elses-nonce").await;
    assert_eq!(view["status"], "authenticated", "{view}");
    assert_eq!(view["findings"].as_array().map(Vec::len), Some(1), "{view}");
    assert!(
        view["findings"][0]
            .as_str()
            .unwrap()
            .starts_with("nonce (standard): a token from another sign-in can be replayed into this one; nonce \"somebody-elses-nonce\" is not the one sent"),
        "{view}"
    );
}

#[tokio::test]
async fn popup_errors_from_the_provider_are_rejections_with_the_reason() {
    let demo = demo().await;
    let started = demo.start("popup", "code", false).await;
    let state = &query_of(started["authorize_url"].as_str().unwrap())["state"];
    let response = form_urlencoded::Serializer::new(String::new())
        .append_pair("error", "access_denied")
        .append_pair("error_description", "The user denied the request.")
        .append_pair("state", state)
        .finish();
    let id = started["conversation"].as_str().unwrap();
    let view = demo.callback(id, &response).await;
    assert_eq!(view["status"], "rejected");
    assert_eq!(view["reason"], "authorization_error");
    assert_eq!(
        view["detail"],
        "access_denied: The user denied the request."
    );
}

#[tokio::test]
async fn expiry_then_a_fresh_token_re_authenticates() {
    let demo = demo().await;
    let started = demo.start("embedded", "code", false).await;
    let id = started["conversation"].as_str().unwrap();
    let code = demo.code(started["code_challenge"].as_str().unwrap()).await;
    demo.hand_over(
        id,
        json!({"token": {"ssoKey": code, "redirect_uri": REDIRECT}}),
    )
    .await;

    demo.clock.advance(3600);
    let view = get_json(
        &demo.http,
        format!("{}/platform/api/conversations/{id}", demo.base),
    )
    .await;
    assert_eq!(view["status"], "expired");
    assert_eq!(view["expires_in_secs"], 0);
    let (_, _, html) = demo.workspace(id).await;
    assert!(html.contains(r#"data-status="expired""#));
    assert!(html.contains("Token expired at 2027-01-15 09:00:00 UTC"));

    let (status, renewed) = demo
        .post(
            &format!("/platform/api/conversations/{id}/renew"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let challenge = renewed["code_challenge"].as_str().unwrap();
    assert_ne!(challenge, started["code_challenge"].as_str().unwrap());
    let code = demo.code(challenge).await;
    let view = demo
        .hand_over(
            id,
            json!({"token": {"ssoKey": code, "redirect_uri": REDIRECT}}),
        )
        .await;
    assert_eq!(view["status"], "authenticated");
    assert_eq!(view["authentications"], 2);
    let events: Vec<&str> = view["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "embedded window opened; asking the page for a token (Code Flow with PKCE)",
            "the page set no identity (lpTag.identities): the platform's monitoring counts this \
             visitor as unauthenticated",
            &format!(
                "authenticated from the page: sub {ALICE} vouched for by {}",
                demo.idp.issuer()
            ),
            "the token expired; the window asks for a fresh one",
            "re-authenticated from the page with a fresh token (#2)",
        ]
    );
}

#[tokio::test]
async fn bad_requests_get_json_errors() {
    let demo = demo().await;
    let url = format!("{}/platform/api/conversations", demo.base);
    let expect =
        |(status, body): (StatusCode, Value), want: StatusCode, error: &str, description: &str| {
            assert_eq!(status, want, "{body}");
            assert_eq!(body["error"], error, "{body}");
            assert_eq!(body["error_description"], description, "{body}");
        };
    let raw = |content_type: &'static str, body: String| {
        let request = demo
            .http
            .post(&url)
            .header("content-type", content_type)
            .body(body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            (status, response.json::<Value>().await.unwrap())
        }
    };

    expect(
        raw("text/plain", r#"{"mode":"embedded","flow":"code"}"#.into()).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "invalid_request",
        "send the body as application/json",
    );
    let (status, body) = raw("application/json", "{not json".into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("the body is not the JSON expected: "));
    expect(
        demo.post(
            "/platform/api/conversations",
            json!({"mode": "embedded", "flow": "code", "page_sdes": {"type": "ctmrinfo"}}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "page_sdes must be an array of SDEs",
    );
    let (status, body) = demo
        .post(
            "/platform/api/conversations",
            json!({"mode": "sideways", "flow": "code"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    expect(
        demo.post(
            "/platform/api/conversations/nope/token",
            json!({"token": "x"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
        "no such conversation (it may have ended)",
    );
    expect(
        demo.post(
            "/platform/api/window/callback",
            json!({"response": "code=abc"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "the redirect carries no state naming a conversation",
    );
    let huge = "x".repeat(70_000);
    let (status, body) = raw(
        "application/json",
        format!(r#"{{"mode":"embedded","flow":"code","page_sdes":["{huge}"]}}"#),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["error"], "invalid_request");

    let (status, _, html) = demo.workspace("nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("No such conversation"));
}

#[tokio::test]
async fn the_brand_page_names_the_connectors_and_loads_only_its_own_scripts() {
    let demo = demo().await;
    let response = demo
        .http
        .get(format!("{}/demo/brand", demo.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains(&format!(
        r#"<div id="brand" data-brand="" data-authorize="{}/o/oauth2/v2/auth" data-client="demo-client" data-encrypted-client="demo-encrypted">"#,
        demo.idp.base_url()
    )));
    assert!(!html.contains("<script>"), "no inline script");
    assert!(html.contains(r#"<script src="/platform/assets/tag.js"></script>"#));
    assert!(html.contains(r#"<script src="/demo/assets/brand.js"></script>"#));

    let response = demo
        .http
        .get(format!("{}/platform/assets/tag.js", demo.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("lpTag.startChat = async function"));
    let missing = demo
        .http
        .get(format!("{}/platform/assets/../Cargo.toml", demo.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_agent_index_lists_the_newest_conversations_first() {
    let demo = demo().await;
    let html = |demo: &Demo| {
        let http = demo.http.clone();
        let url = format!("{}/platform/agent", demo.base);
        async move { http.get(url).send().await.unwrap().text().await.unwrap() }
    };
    assert!(html(&demo).await.contains("None yet"));

    let first = demo.start("embedded", "code", false).await;
    let second = demo.start("popup", "implicit", true).await;
    let token = demo
        .idp
        .mint_id_token("alice", &Default::default())
        .unwrap();
    let first_id = first["conversation"].as_str().unwrap();
    let second_id = second["conversation"].as_str().unwrap();
    let (status, _) = demo
        .post(
            &format!("/platform/api/conversations/{second_id}/token"),
            json!({"token": token}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a popup takes no page handover"
    );

    let page = html(&demo).await;
    let row = |id: &str, status: &str, how: &str| {
        format!(
            r#"<tr><td><a class="mono" href="/platform/agent/{id}">{id}</a></td><td>{status}</td><td class="mono"></td><td>{how}</td></tr>"#
        )
    };
    let newest = page
        .find(&row(
            second_id,
            "pending",
            "Implicit Flow (JWE), popup window",
        ))
        .expect("the popup conversation is listed");
    let older = page
        .find(&row(first_id, "pending", "Code Flow, embedded window"))
        .expect("the embedded conversation is listed");
    assert!(newest < older, "newest first");
}

#[tokio::test]
async fn with_pkce_off_the_code_is_redeemed_without_a_verifier() {
    let demo = demo().await;
    let page_sdes: Value = serde_json::from_str(PAGE_SDES).unwrap();
    let (status, started) = demo
        .post(
            "/platform/api/conversations",
            json!({"mode": "embedded", "flow": "code", "pkce": false, "page_sdes": page_sdes}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(started.get("code_challenge").is_none(), "{started}");
    let id = started["conversation"].as_str().unwrap();
    let code = get_code(&demo.idp, &demo.http, &[]).await;
    let view = demo
        .hand_over(
            id,
            json!({"token": {"ssoKey": code, "redirect_uri": REDIRECT}}),
        )
        .await;
    assert_eq!(view["status"], "authenticated", "{view}");
    assert_eq!(view["pkce"], false);
    let (_, _, html) = demo.workspace(id).await;
    assert!(html.contains(r#"<td id="how">Code Flow, embedded window</td>"#));

    // With PKCE on, a code bound to no challenge is refused by the provider.
    let started = demo.start("embedded", "code", false).await;
    let id = started["conversation"].as_str().unwrap();
    let code = get_code(&demo.idp, &demo.http, &[]).await;
    let view = demo
        .hand_over(
            id,
            json!({"token": {"ssoKey": code, "redirect_uri": REDIRECT}}),
        )
        .await;
    assert_eq!(view["status"], "rejected", "{view}");
    assert_eq!(view["reason"], "token_endpoint_error");
}

/// When the tag cannot call the page's method (its JS Method Name or JS Context does not
/// resolve), the conversation is refused with what was missing; the text is bounded.
#[tokio::test]
async fn a_method_the_window_cannot_call_is_named_in_the_conversation() {
    let demo = demo().await;
    let id = demo.start("embedded", "code", false).await["conversation"]
        .as_str()
        .unwrap()
        .to_owned();
    let missing = r#"the JS method "brand.chat.getToken" cannot be found on the page: brand.chat is undefined"#;
    let view = demo
        .hand_over(
            &id,
            json!({"token": "", "error": null, "method_error": missing}),
        )
        .await;
    assert_eq!(view["reason"], "handover_missing");
    assert_eq!(
        view["detail"],
        format!("the window could not call the page's method: {missing}")
    );
    let (status, body) = demo
        .post(
            &format!("/platform/api/conversations/{id}/token"),
            json!({"token": "", "method_error": "x".repeat(1025)}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "invalid_request", "error_description": "method_error is longer than 1024 characters"})
    );
    let (status, body) = demo
        .post(
            &format!("/platform/api/conversations/{id}/token"),
            json!({"token": "", "method_error": 7}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("the body is not the JSON expected: invalid type: integer `7`"),
        "{body}"
    );
}

/// Starts an embedded Implicit Flow conversation whose page gave `identity`, hands over
/// alice's ID token, and returns the conversation id and the verdict.
async fn alice_with_identity(demo: &Demo, identity: Value) -> (String, Value) {
    let (status, started) = demo
        .post(
            "/platform/api/conversations",
            json!({"mode": "embedded", "flow": "implicit", "identity": identity}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let id = started["conversation"].as_str().unwrap().to_owned();
    let token = demo
        .idp
        .mint_id_token("alice", &Default::default())
        .unwrap();
    let view = demo.hand_over(&id, json!({ "token": token })).await;
    assert_eq!(view["status"], "authenticated", "{view}");
    (id, view)
}

/// Text as the workspace's templates escape it.
fn escaped(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
}

fn texts(events: &Value) -> Vec<&str> {
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect()
}

/// The page's identity is shown as the page's, never verified, beside the token's subject.
/// Once the token verifies, an identity whose iss or sub differs from the token's is a named
/// warning in the log and the workspace, and the token still authenticates; no identity, or a
/// level other than loa1, is named as what the platform's monitoring makes of it.
#[tokio::test]
async fn the_pages_identity_is_compared_with_the_verified_token() {
    let demo = demo().await;
    let issuer = demo.idp.issuer().as_str().to_owned();
    let (id, view) =
        alice_with_identity(&demo, json!({"iss": issuer, "acr": "loa1", "sub": ALICE})).await;
    assert_eq!(
        view["identity"],
        json!({"iss": issuer, "acr": "loa1", "sub": ALICE})
    );
    assert!(view.get("identity_warnings").is_none(), "{view}");
    assert_eq!(
        texts(&view["events"])[1],
        format!(
            "the page's identity (not verified): iss {issuer:?}, acr \"loa1\", sub \"{ALICE}\""
        )
    );
    let (_, _, html) = demo.workspace(&id).await;
    assert!(
        html.contains(&format!(
            r#"<code>sub</code> <span class="mono" id="identity-sub">{ALICE}</span> · <code>iss</code> <span class="mono" id="identity-iss">{issuer}</span> · <code>acr</code> <span class="mono" id="identity-acr">loa1</span> <span class="badge page">from page, not verified</span>"#
        )),
        "{html}"
    );
    assert!(!html.contains("identity-warning"), "{html}");

    let other = "https://accounts.wonderland.example";
    let (id, view) = alice_with_identity(
        &demo,
        json!({"iss": other, "acr": "loa1", "sub": "WEB-SESSION-4411"}),
    )
    .await;
    let warnings = [
        format!(
            "identity iss \"{other}\" differs from the token's iss {issuer:?}: the platform wants \
             them equal; the token's own verification decides"
        ),
        format!(
            "identity sub \"WEB-SESSION-4411\" differs from the token's sub \"{ALICE}\": the page \
             identifies another consumer than the token authenticates"
        ),
    ];
    assert_eq!(view["identity_warnings"], json!(warnings));
    assert_eq!(view["sub"], ALICE, "the token's sub stands");
    let events = texts(&view["events"]);
    assert_eq!(events[events.len() - 2..], warnings);
    let (_, _, html) = demo.workspace(&id).await;
    for warning in &warnings {
        assert!(
            html.contains(&format!(
                r#"<div class="banner warn identity-warning">⚠ {}</div>"#,
                escaped(warning)
            )),
            "{warning}: {html}"
        );
    }
    assert!(html.contains(r#"<td class="mono" id="sub">110169484474386276334</td>"#));
    assert!(html.contains(r#"<span class="mono" id="identity-sub">WEB-SESSION-4411</span>"#));

    let acr = "identity acr \"loa2\" is not \"loa1\", the only level the platform supports: its \
               monitoring does not count this visitor as identified";
    let (_, view) =
        alice_with_identity(&demo, json!({"iss": issuer, "acr": "loa2", "sub": ALICE})).await;
    assert_eq!(view["identity_warnings"], json!([acr]));
    assert!(texts(&view["events"]).contains(&acr));

    let none = "the page set no identity (lpTag.identities): the platform's monitoring counts \
                this visitor as unauthenticated";
    let (id, view) = alice_with_identity(&demo, Value::Null).await;
    assert_eq!(view["identity"], Value::Null);
    assert_eq!(view["identity_warnings"], json!([none]));
    let (_, _, html) = demo.workspace(&id).await;
    assert!(
        html.contains(r#"<td id="identity">none: the page set no identity function, or it called back null</td>"#),
        "{html}"
    );
    assert!(html.contains(&escaped(none)), "{html}");
}

/// The identity is the page's word: its shape is checked before anything starts, each fault
/// with a 400 that names it.
#[tokio::test]
async fn a_malformed_identity_is_a_400_that_names_the_fault() {
    let demo = demo().await;
    let long = "x".repeat(256);
    let cases = [
        (
            json!("alice"),
            "identity must be an object {iss, acr, sub} or null",
        ),
        (
            json!([]),
            "identity must be an object {iss, acr, sub} or null",
        ),
        (
            json!({"acr": "loa1", "sub": "s"}),
            "identity.iss is missing: iss, acr and sub are all required",
        ),
        (
            json!({"iss": "i", "sub": "s"}),
            "identity.acr is missing: iss, acr and sub are all required",
        ),
        (
            json!({"iss": "i", "acr": "loa1", "sub": 42}),
            "identity.sub must be a string",
        ),
        (
            json!({"iss": "", "acr": "loa1", "sub": "s"}),
            "identity.iss must not be empty",
        ),
        (
            json!({"iss": "i", "acr": "loa1", "sub": long}),
            "identity.sub is longer than 255 characters",
        ),
        (
            json!({"iss": "i", "acr": "loa1", "sub": "s", "email": "a@example.com"}),
            "identity has a member \"email\" the platform does not define: only iss, acr and sub",
        ),
    ];
    for (identity, description) in cases {
        let (status, body) = demo
            .post(
                "/platform/api/conversations",
                json!({"mode": "embedded", "flow": "code", "identity": identity}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{identity}: {body}");
        assert_eq!(
            body,
            json!({"error": "invalid_request", "error_description": description}),
            "{identity}"
        );
    }
    // 255 characters is the most, and null is no identity.
    for identity in [
        json!({"iss": "i", "acr": "loa1", "sub": "x".repeat(255)}),
        Value::Null,
    ] {
        let (status, body) = demo
            .post(
                "/platform/api/conversations",
                json!({"mode": "embedded", "flow": "code", "identity": identity}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
}

/// `serve`'s demo platform, and an HTTP client that trusts its CA and follows no redirect.
struct Served {
    _server: crate::cli::Server,
    base: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

fn serve_with(config: &str) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("harness.toml");
    std::fs::write(&toml, format!("addr = \"127.0.0.1:0\"\n{config}")).unwrap();
    let server = crate::cli::start(&[
        "--config",
        toml.to_str().unwrap(),
        "--state-dir",
        dir.path().to_str().unwrap(),
    ]);
    let base = crate::cli::field(&server.banner, "listening").to_owned();
    let pem = std::fs::read(dir.path().join("ca.pem")).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Served {
        _server: server,
        base,
        http,
        _dir: dir,
    }
}

impl Served {
    /// A popup Code Flow conversation for `persona`, start to verdict; returns the scope the
    /// window sent and the conversation as the platform records it.
    async fn popup_for(&self, persona: &str) -> (String, Value) {
        let started: Value = self
            .http
            .post(format!("{}/platform/api/conversations", self.base))
            .json(&json!({"mode": "popup", "flow": "code"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let authorize_url = started["authorize_url"].as_str().unwrap();
        let scopes: Vec<String> = url::Url::parse(authorize_url)
            .unwrap()
            .query_pairs()
            .filter(|(k, _)| k == "scope")
            .map(|(_, v)| v.into_owned())
            .collect();
        assert_eq!(scopes.len(), 1, "{authorize_url}");
        let response = self
            .http
            .get(format!("{authorize_url}&login_hint={persona}&prompt=none"))
            .send()
            .await
            .unwrap();
        let redirect = location(&response);
        let (window, query) = redirect.split_once('?').unwrap();
        assert_eq!(window, format!("{}/platform/window/callback", self.base));
        let view: Value = self
            .http
            .post(format!("{}/platform/api/window/callback", self.base))
            .json(&json!({ "response": query }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(view["status"], "authenticated", "{view}");
        (scopes[0].clone(), view)
    }
}

/// The fields' keys and sources, in order.
fn sources(view: &Value) -> Vec<(String, String)> {
    view["profile"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let source = f["provenance"]["source"].as_str().unwrap_or("page");
            (f["key"].as_str().unwrap().to_owned(), source.to_owned())
        })
        .collect()
}

/// The popup window asks for `scope=openid`, as the platform was seen doing (§1.4, §8.5), so a
/// Google-shaped provider's token carries no e-mail or profile claims (dana has no `lp_sdes`:
/// what the agent sees of her is the claims); `[platform] window_scope` asks for more. A
/// scope without openid stops `serve` with one line.
#[tokio::test]
async fn the_popup_window_sends_scope_openid_unless_configured() {
    const DANA: &str = "112233445566778899001";
    let served = serve_with("");
    let (scope, view) = served.popup_for("dana").await;
    assert_eq!(scope, "openid");
    assert_eq!(view["sub"], DANA);
    assert_eq!(
        sources(&view),
        [("consumer.customerId".to_owned(), "sub".to_owned())]
    );
    drop(served);

    let served = serve_with("[platform]\nwindow_scope = \"openid email profile\"\n");
    let (scope, view) = served.popup_for("dana").await;
    assert_eq!(scope, "openid email profile");
    let with_profile = sources(&view);
    for (key, source) in [
        ("personal.firstname", "given_name"),
        ("personal.contacts[0].email", "email"),
    ] {
        assert!(
            with_profile.contains(&(key.to_owned(), source.to_owned())),
            "{key} from {source}: {with_profile:?}"
        );
    }
    assert_eq!(field(&view, "personal.firstname")["value"], "Dana");

    for bad in ["email profile", "openid  email", "openid \"email\"", ""] {
        let dir = tempfile::tempdir().unwrap();
        let toml = dir.path().join("harness.toml");
        std::fs::write(&toml, format!("[platform]\nwindow_scope = {bad:?}\n")).unwrap();
        let (code, _, stderr) = crate::cli::run(&["serve", "--config", toml.to_str().unwrap()]);
        assert_eq!(code, 2, "{bad:?}: {stderr}");
        assert_eq!(
            stderr,
            format!(
                "error: platform.window_scope {bad:?} must be scope tokens separated by single \
                 spaces, openid among them\n"
            ),
            "{bad:?}"
        );
    }
}
