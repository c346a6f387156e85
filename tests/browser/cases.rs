//! The cases: what a consumer does on the brand page, and what the agent then sees.

use std::time::{Duration, Instant};

use crate::harness::{Case, Context as _, Ctx, Row};
use crate::{ensure, ensure_eq};

/// Every case, in the order they run.
pub(crate) const ALL: &[Case] = &[
    ("embedded_code_flow", |ctx| {
        Box::pin(embedded_code_flow(ctx))
    }),
    ("embedded_implicit_flow_encrypted", |ctx| {
        Box::pin(embedded_implicit_flow_encrypted(ctx))
    }),
    ("popup_code_flow", |ctx| Box::pin(popup_code_flow(ctx))),
    ("deny_at_the_login_page", |ctx| {
        Box::pin(deny_at_the_login_page(ctx))
    }),
    ("rejected_token", |ctx| Box::pin(rejected_token(ctx))),
    ("expiry_and_reauthentication", |ctx| {
        Box::pin(expiry_and_reauthentication(ctx))
    }),
    ("popup_expiry_asks_to_log_in_again", |ctx| {
        Box::pin(popup_expiry_asks_to_log_in_again(ctx))
    }),
    ("markup_renders_as_text", |ctx| {
        Box::pin(markup_renders_as_text(ctx))
    }),
    ("a_brand_page_chats_through_its_own_connector", |ctx| {
        Box::pin(a_brand_page_chats_through_its_own_connector(ctx))
    }),
    ("js_method_on_a_namespace_object", |ctx| {
        Box::pin(js_method_on_a_namespace_object(ctx))
    }),
    ("identity_that_differs_from_the_token", |ctx| {
        Box::pin(identity_that_differs_from_the_token(ctx))
    }),
];

/// The workspace shows the page's identity (sub, iss, acr), marked as the page's.
async fn expect_identity(ctx: &Ctx, sub: &str, iss: &str) -> Result<(), String> {
    ensure_eq!(ctx.text("#identity-sub").await?, sub, "the identity's sub");
    ensure_eq!(ctx.text("#identity-iss").await?, iss, "the identity's iss");
    ensure_eq!(
        ctx.text("#identity-acr").await?,
        "loa1",
        "the identity's acr"
    );
    ensure_eq!(
        ctx.text("#identity .badge.page").await?,
        "from page, not verified",
        "the identity's marker"
    );
    Ok(())
}

/// The page's identity names another issuer than the token's: the conversation authenticates
/// (the token decides) and the workspace names the difference; without an identity function
/// the workspace says what the platform's monitoring makes of the visitor.
async fn identity_that_differs_from_the_token(ctx: Ctx) -> Result<(), String> {
    ctx.sign_in("alice").await?;
    ctx.choose("method", "dotted").await?;
    ctx.choose("identity", "other-iss").await?;
    ctx.chat("implicit", "plain", "embedded").await?;
    let workspace = ctx.window_settles("authenticated").await?;
    ctx.open_workspace(
        &workspace,
        "authenticated",
        "identity-iss-differs",
        &ctx.origin,
    )
    .await?;
    ensure_eq!(ctx.text("#sub").await?, ALICE, "sub");
    expect_identity(&ctx, ALICE, "https://accounts.wonderland.example").await?;
    let warning = format!(
        "⚠ identity iss \"https://accounts.wonderland.example\" differs from the token's iss \
         \"{}\": the platform wants them equal; the token's own verification decides",
        ctx.origin
    );
    ensure_eq!(ctx.count(".identity-warning").await?, 1, "warnings");
    ensure_eq!(ctx.text(".identity-warning").await?, warning, "the warning");
    let timeline = ctx.text("#events").await?;
    ensure!(
        timeline.contains(warning.trim_start_matches("⚠ ")),
        "the timeline lacks the warning: {timeline}"
    );

    ctx.open("/demo/brand").await?;
    ctx.choose("identity", "none").await?;
    ctx.chat("code", "plain", "embedded").await?;
    let workspace = ctx.window_settles("authenticated").await?;
    ctx.open_workspace(&workspace, "authenticated", "no-identity", &ctx.origin)
        .await?;
    ensure_eq!(
        ctx.text("#identity").await?,
        "none: the page set no identity function, or it called back null",
        "the identity"
    );
    ensure_eq!(
        ctx.text(".identity-warning").await?,
        "⚠ the page set no identity (lpTag.identities): the platform's monitoring counts this \
         visitor as unauthenticated",
        "the warning"
    );
    Ok(())
}

/// The connector's JS Method Name as a dotted path, or a name with a JS Context: the window
/// finds the page's `brand.auth.getToken` and calls it with `this` = `brand.auth` (the method
/// fails otherwise). A name the page does not define is an error in the conversation, not a
/// window left waiting.
async fn js_method_on_a_namespace_object(ctx: Ctx) -> Result<(), String> {
    ctx.sign_in("alice").await?;
    for (method, name) in [
        ("dotted", "dotted-method"),
        ("context", "method-with-context"),
    ] {
        ctx.open("/demo/brand").await?;
        ctx.choose("method", method).await?;
        ctx.chat("code", "plain", "embedded").await?;
        let workspace = ctx.window_settles("authenticated").await?;
        ctx.open_workspace(&workspace, "authenticated", name, &ctx.origin)
            .await?;
        ensure_eq!(ctx.text("#sub").await?, ALICE, "sub");
        // The brand page's identity function says who signed in there, as its provider did.
        expect_identity(&ctx, ALICE, &ctx.origin).await?;
        ensure_eq!(ctx.count(".identity-warning").await?, 0, "warnings");
    }

    ctx.open("/demo/brand").await?;
    ctx.choose("method", "missing").await?;
    ctx.chat("code", "plain", "embedded").await?;
    let workspace = ctx.window_settles("rejected").await?;
    ensure_eq!(
        ctx.text("#lp-status").await?,
        OFFLINE,
        "the consumer's window"
    );
    ctx.open_workspace(&workspace, "rejected", "missing-method", &ctx.origin)
        .await?;
    diagnostic(&ctx).await?;
    ensure_eq!(ctx.text("#reason").await?, "handover_missing", "reason");
    ensure_eq!(
        ctx.text("#reason-detail").await?,
        "the window could not call the page's method: the JS method \"brand.chat.getToken\" \
         cannot be found on the page: brand.chat is undefined",
        "detail"
    );
    Ok(())
}

/// Brand acme's page: the consumer signs in at acme's provider, and the platform verifies with
/// acme's connector: the workspace names acme's issuer.
async fn a_brand_page_chats_through_its_own_connector(ctx: Ctx) -> Result<(), String> {
    ctx.goto(&format!("{}/demo/brands/acme", ctx.origin))
        .await?;
    ctx.click("#sign-in").await?;
    ctx.login_as("bob").await?;
    ctx.wait("#signed-in-as[data-signed-in='yes']").await?;
    ctx.chat("code", "plain", "embedded").await?;
    let workspace = ctx.window_settles("authenticated").await?;
    ctx.open_workspace(&workspace, "authenticated", "brand-acme", &ctx.origin)
        .await?;
    ensure_eq!(
        ctx.text("#issuer").await?,
        format!("{}/brands/acme", ctx.origin),
        "issuer"
    );
    ensure_eq!(ctx.text("#sub").await?, BOB, "sub");
    Ok(())
}

const ALICE: &str = "110169484474386276334";
const BOB: &str = "104785613201744552819";
const ZOE: &str = "117033125970118273645";
const MALLORY: &str = "109876543210987654321";

const OFFLINE: &str =
    "We can't start a secure conversation right now. Please leave us a message and we'll get back to you.";

/// The consumer was told no reason and offered the offline survey (§4.3), which takes a message.
async fn offline_survey(ctx: &Ctx) -> Result<(), String> {
    ensure_eq!(
        ctx.count("#lp-offline-survey:not([hidden])").await?,
        1,
        "the offline survey is shown"
    );
    ensure_eq!(
        ctx.text("#lp-detail").await?,
        "",
        "no reason for the consumer"
    );
    ctx.click("#lp-offline-survey button").await?;
    ensure_eq!(
        ctx.text("#lp-detail").await?,
        "Thank you. We will get back to you.",
        "the survey's answer"
    );
    Ok(())
}

/// The workspace shows the reason as a harness diagnostic, never as an agent's view.
async fn diagnostic(ctx: &Ctx) -> Result<(), String> {
    let label = ctx.text("#harness-diagnostic").await?;
    ensure_eq!(
        label.contains("a real agent never sees this conversation"),
        true,
        "the diagnostic's label: {label}"
    );
    Ok(())
}

fn verified(value: &str, page: Option<&str>) -> Row {
    ("verified".into(), value.into(), page.map(Into::into))
}

fn from_page(value: &str) -> Row {
    ("page".into(), value.into(), None)
}

/// The brand page's default SDEs, all from the page: what a rejected conversation shows.
async fn only_page_fields(ctx: &Ctx) -> Result<(), String> {
    ctx.expect_rows(0, 5).await?;
    ctx.expect_field("ctmrinfo.customerId", from_page("WEB-SESSION-4411"))
        .await?;
    ctx.expect_field("personal.firstname", from_page("Alicia"))
        .await?;
    Ok(())
}

async fn embedded_code_flow(ctx: Ctx) -> Result<(), String> {
    ctx.sign_in("alice").await?;
    ensure_eq!(
        ctx.text("#signed-in-as").await?,
        format!("Signed in as Alice Liddell (sub {ALICE})."),
        "the brand page's own sign-in"
    );
    ctx.chat("code", "plain", "embedded").await?;
    let workspace = ctx.window_settles("authenticated").await?;
    ensure_eq!(
        ctx.text("#lp-detail").await?,
        format!("Signed in as customer {ALICE}."),
        "the consumer's window"
    );
    ctx.screenshot("brand-page").await?;

    ctx.open_workspace(
        &workspace,
        "authenticated",
        "embedded-code-flow",
        &ctx.origin,
    )
    .await?;
    ensure_eq!(ctx.text("#issuer").await?, ctx.origin, "issuer");
    ensure_eq!(ctx.text("#sub").await?, ALICE, "sub");
    ensure_eq!(
        ctx.text("#how").await?,
        "Code Flow with PKCE, embedded window",
        "how"
    );
    ensure_eq!(ctx.text("#envelope").await?, "signed JWT (JWS)", "token");
    ensure_eq!(ctx.text("#authentications").await?, "1", "tokens verified");
    ctx.expect_field("consumer.customerId", verified(ALICE, None))
        .await?;
    ensure_eq!(
        ctx.text("tr[data-key='consumer.customerId'] .source")
            .await?,
        "from sub",
        "source"
    );
    // Both gave a value: the verified one wins, the page's is struck through.
    ctx.expect_field(
        "ctmrinfo.customerId",
        verified("CUST-0001-ALICE", Some("WEB-SESSION-4411")),
    )
    .await?;
    ctx.expect_field("ctmrinfo.ctype", verified("vip", Some("silver")))
        .await?;
    ctx.expect_field("personal.firstname", verified("Alice", Some("Alicia")))
        .await?;
    // Both said the same: nothing to strike.
    ctx.expect_field("personal.language", verified("en-GB", None))
        .await?;
    ctx.expect_field("ctmrinfo.balance", verified("-400.99", None))
        .await?;
    ctx.expect_field(
        "personal.contacts[0].email",
        verified("alice.liddell@example.com", None),
    )
    .await?;
    // storeNumber is not supported in an authenticated flow (§3.3): only the page's shows.
    ctx.expect_field("ctmrinfo.storeNumber", from_page("123865"))
        .await?;
    ensure_eq!(
        ctx.count("tr[data-provenance='page']").await?,
        1,
        "page-only rows"
    );
    Ok(())
}

async fn embedded_implicit_flow_encrypted(ctx: Ctx) -> Result<(), String> {
    ctx.sign_in("bob").await?;
    ctx.chat("implicit", "encrypted", "embedded").await?;
    let workspace = ctx.window_settles("authenticated").await?;
    ctx.open_workspace(
        &workspace,
        "authenticated",
        "embedded-implicit-flow-encrypted",
        &ctx.origin,
    )
    .await?;
    ensure_eq!(
        ctx.text("#how").await?,
        "Implicit Flow, ID tokens encrypted, embedded window",
        "how"
    );
    ensure_eq!(
        ctx.text("#envelope").await?,
        "JWE envelope, opened with the platform's key, around a signed JWT",
        "token"
    );
    // Bob's token has a subject and a name only: everything else is the page's.
    ctx.expect_field("consumer.customerId", verified(BOB, None))
        .await?;
    ctx.expect_rows(1, 5).await?;
    ctx.expect_field("ctmrinfo.ctype", from_page("silver"))
        .await?;
    Ok(())
}

async fn popup_code_flow(ctx: Ctx) -> Result<(), String> {
    ctx.open("/demo/brand").await?;
    let page = ctx.browser.window().await.ctx("window")?;
    ctx.chat("code", "plain", "popup").await?;
    ctx.other_window(&page).await?;
    // The popup went to the provider's authorization endpoint: its login page.
    ctx.wait("#persona-zoe").await?;
    ctx.screenshot("login-page").await?;
    ctx.login_as("zoe").await?;
    let workspace = ctx.window_settles("authenticated").await?;
    let url = ctx.browser.current_url().await.ctx("popup URL")?;
    ensure_eq!(url.path(), "/platform/window/callback", "the popup's page");
    ensure!(
        url.query().is_none(),
        "the code stays in the address bar: {url}"
    );
    ensure_eq!(
        ctx.text("#lp-detail").await?,
        format!("Signed in as customer {ZOE}."),
        "the popup window"
    );

    // The brand page heard from its popup.
    ctx.browser
        .switch_to_window(page)
        .await
        .ctx("back to the page")?;
    ctx.window_settles("authenticated").await?;
    ensure_eq!(
        ctx.text("#lp-status").await?,
        "Your conversation continues in the popup window, signed in.",
        "the brand page's window"
    );

    ctx.open_workspace(&workspace, "authenticated", "popup-code-flow", &ctx.origin)
        .await?;
    ensure_eq!(
        ctx.text("#how").await?,
        "Code Flow with PKCE, popup window",
        "how"
    );
    ctx.expect_field("consumer.customerId", verified(ZOE, None))
        .await?;
    ctx.expect_field("personal.firstname", verified("Zoë", Some("Alicia")))
        .await?;
    ctx.expect_field("personal.language", verified("pl-PL", Some("en-GB")))
        .await?;
    ctx.expect_field("personal.lastname", verified("Ångström-Łukasiewicz", None))
        .await?;
    Ok(())
}

async fn deny_at_the_login_page(ctx: Ctx) -> Result<(), String> {
    ctx.open("/demo/brand").await?;
    let page = ctx.browser.window().await.ctx("window")?;
    ctx.chat("code", "plain", "popup").await?;
    ctx.other_window(&page).await?;
    ctx.click("#deny").await?;
    let workspace = ctx.window_settles("rejected").await?;
    ensure_eq!(
        ctx.text("#lp-status").await?,
        OFFLINE,
        "the consumer's window"
    );
    offline_survey(&ctx).await?;

    ctx.open_workspace(
        &workspace,
        "rejected",
        "deny-at-the-login-page",
        &ctx.origin,
    )
    .await?;
    diagnostic(&ctx).await?;
    ensure_eq!(ctx.text("#reason").await?, "authorization_error", "reason");
    ensure_eq!(
        ctx.text("#reason-detail").await?,
        "access_denied: The user denied the request.",
        "detail"
    );
    only_page_fields(&ctx).await
}

async fn rejected_token(ctx: Ctx) -> Result<(), String> {
    ctx.sign_in("alice").await?;
    ctx.choose("tamper", "corrupt").await?;
    ctx.chat("implicit", "plain", "embedded").await?;
    let workspace = ctx.window_settles("rejected").await?;
    ensure_eq!(
        ctx.text("#lp-status").await?,
        OFFLINE,
        "the consumer's window"
    );
    offline_survey(&ctx).await?;

    ctx.open_workspace(&workspace, "rejected", "rejected-token", &ctx.origin)
        .await?;
    diagnostic(&ctx).await?;
    ensure_eq!(ctx.text("#reason").await?, "signature_invalid", "reason");
    ensure_eq!(
        ctx.text("#reason-detail").await?,
        "the RS256 signature does not verify with the brand's key",
        "detail"
    );
    only_page_fields(&ctx).await
}

/// On the server whose ID tokens live 4 s, the window asks the page again when each expires.
async fn expiry_and_reauthentication(ctx: Ctx) -> Result<(), String> {
    let origin = ctx.short_lived_origin.clone();
    ctx.sign_in_at(&origin, "alice").await?;
    ctx.chat("code", "plain", "embedded").await?;
    ctx.window_settles("authenticated").await?;
    let id = ctx.window_conversation().await?;
    let api = format!("{origin}/platform/api/conversations/{id}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let view = loop {
        let view: serde_json::Value = ctx
            .http
            .get(&api)
            .send()
            .await
            .ctx("conversation")?
            .json()
            .await
            .ctx("conversation")?;
        if view["authentications"].as_u64() >= Some(2) {
            break view;
        }
        ensure!(
            Instant::now() < deadline,
            "no re-authentication within 20 s: {view}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    ensure_eq!(
        view["status"],
        "authenticated",
        "status after re-authentication"
    );
    let events: Vec<&str> = view["events"]
        .as_array()
        .ok_or("no events")?
        .iter()
        .filter_map(|e| e["text"].as_str())
        .collect();
    ensure!(
        events.contains(&"the token expired; the window asks for a fresh one"),
        "events: {events:?}"
    );
    ensure!(
        events.contains(&"re-authenticated from the page with a fresh token (#2)"),
        "events: {events:?}"
    );
    ctx.window_settles("authenticated").await?;

    ctx.goto(&format!("{origin}/platform/agent/{id}")).await?;
    ctx.wait("#agent").await?;
    ctx.screenshot("expiry-and-reauthentication").await?;
    ctx.every_row_matches_the_api(&origin).await?;
    let shown: u32 = ctx
        .text("#authentications")
        .await?
        .parse()
        .map_err(|e| format!("tokens verified: {e}"))?;
    ensure!(shown >= 2, "tokens verified: {shown}");
    let timeline = ctx.text("#events").await?;
    ensure!(
        timeline.contains("re-authenticated from the page with a fresh token (#2)"),
        "timeline: {timeline}"
    );
    Ok(())
}

/// In the popup, an expired token is the consumer's to renew: the window asks them to log in
/// again, and the new sign-in re-authenticates the same conversation.
async fn popup_expiry_asks_to_log_in_again(ctx: Ctx) -> Result<(), String> {
    let origin = ctx.short_lived_origin.clone();
    ctx.goto(&format!("{origin}/demo/brand")).await?;
    let page = ctx.browser.window().await.ctx("window")?;
    ctx.chat("code", "plain", "popup").await?;
    ctx.other_window(&page).await?;
    ctx.login_as("alice").await?;
    ctx.window_settles("authenticated").await?;
    ctx.window_settles("expired").await?;
    ensure_eq!(
        ctx.text("#lp-status").await?,
        "Your session expired. Please log in again to go on chatting.",
        "the popup after expiry"
    );
    ctx.click("#lp-login-again").await?;
    ctx.login_as("zoe").await?;
    ctx.window_settles("authenticated").await?;
    ensure_eq!(
        ctx.text("#lp-detail").await?,
        format!("Signed in as customer {ZOE}."),
        "after logging in again"
    );
    let id = ctx.window_conversation().await?;
    ctx.goto(&format!("{origin}/platform/agent/{id}")).await?;
    ctx.wait("#agent").await?;
    ctx.screenshot("popup-expiry-asks-to-log-in-again").await?;
    let timeline = ctx.text("#events").await?;
    for event in [
        "the token expired; the window asks for a fresh one",
        "re-authenticated from the provider's redirect with a fresh token (#2)",
    ] {
        ensure!(
            timeline.contains(event),
            "no {event:?} in the timeline: {timeline}"
        );
    }
    ensure_eq!(ctx.text("#sub").await?, ZOE, "the consumer now");
    ctx.expect_field("consumer.customerId", verified(ZOE, None))
        .await?;
    ctx.every_row_matches_the_api(&origin).await?;
    Ok(())
}

async fn markup_renders_as_text(ctx: Ctx) -> Result<(), String> {
    ctx.sign_in("mallory").await?;
    ensure_eq!(
        ctx.text("#signed-in-as").await?,
        format!("Signed in as <script>alert('mallory')</script> (sub {MALLORY})."),
        "the brand page shows the name as text"
    );
    let sdes = ctx.wait("#page-sdes").await?;
    sdes.clear().await.ctx("page SDEs")?;
    sdes.send_keys(
        r#"[{"type":"ctmrinfo","info":{"companyBranch":"<script>document.title='pwned'</script>"}}]"#,
    )
    .await
    .ctx("page SDEs")?;
    ctx.chat("code", "plain", "embedded").await?;
    let workspace = ctx.window_settles("authenticated").await?;
    ctx.open_workspace(
        &workspace,
        "authenticated",
        "markup-renders-as-text",
        &ctx.origin,
    )
    .await?;
    ctx.expect_field(
        "ctmrinfo.customerId",
        verified("<img src=x onerror=alert(1)>", None),
    )
    .await?;
    ctx.expect_field("personal.firstname", verified("<b>Mallory</b>", None))
        .await?;
    ctx.expect_field("personal.lastname", verified("\"O'Brien\" & Co", None))
        .await?;
    ctx.expect_field(
        "ctmrinfo.companyBranch",
        from_page("<script>document.title='pwned'</script>"),
    )
    .await?;
    ensure_eq!(
        ctx.count("#agent img, #agent b, #agent script").await?,
        0,
        "elements made from values"
    );
    let title = ctx.browser.title().await.ctx("title")?;
    ensure!(
        title.starts_with("Agent workspace"),
        "the title changed: {title}"
    );
    Ok(())
}
