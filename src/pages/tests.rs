use super::*;
use crate::claims::fixture_personas;

#[test]
fn markup_in_persona_claims_renders_as_text() {
    let personas = fixture_personas();
    let cards = personas
        .list
        .iter()
        .map(|p| PersonaCard::from_persona(p, Some("mallory")))
        .collect();
    let page = LoginPage {
        request_id: "r",
        client_id: "demo-client",
        redirect_uri: "https://liveperson.net",
        scope: "openid".into(),
        personas: cards,
        message: Some("<b>oops</b>"),
        action: "/o/oauth2/v2/auth/login",
    };
    let html = page.render().unwrap();
    assert!(
        !html.contains("<script>alert"),
        "persona markup leaked into the page"
    );
    assert!(
        html.contains("&#60;script&#62;alert(&#39;mallory&#39;)&#60;/script&#62;"),
        "{html}"
    );
    assert!(!html.contains("<img src=x"));
    assert!(!html.contains("<b>oops</b>"));
    assert!(html.contains("Zoë"));
}

#[test]
fn form_post_escapes_values() {
    let page = FormPostPage {
        action: "https://rp.example/cb?a=1&b=2",
        fields: vec![("state", "\"><script>x</script>")],
    };
    let html = page.render().unwrap();
    assert!(
        html.contains(r#"action="https://rp.example/cb?a=1&#38;b=2""#),
        "{html}"
    );
    assert!(!html.contains("<script>x</script>"));
}
