"""A code flow with Authlib against the `oidc_provider` fixture, signed in at the login page."""

from urllib.parse import parse_qs, urlsplit

from rp import REDIRECT_URI, RelyingParty, sign_in_at_login_page

ALICE_SUB = "110169484474386276334"


def test_authlib_completes_a_code_flow_and_verifies_the_id_token(oidc_provider):
    rp = RelyingParty(oidc_provider)
    assert rp.metadata["issuer"] == oidc_provider.issuer
    callback = sign_in_at_login_page(
        oidc_provider, rp.authorization_url, "alice", name="Alice Pleasance Liddell"
    )
    assert callback.startswith(REDIRECT_URI + "?")
    query = parse_qs(urlsplit(callback).query)
    assert query["state"] == [rp.state]
    assert query["code"][0].startswith("4/")

    token = rp.redeem(callback)
    assert token["token_type"] == "Bearer"
    assert token["access_token"].startswith("ya29.")
    claims = rp.verify(token)
    assert claims["iss"] == oidc_provider.issuer
    assert claims["aud"] == "demo-client"
    assert claims["azp"] == "demo-client"
    assert claims["nonce"] == rp.nonce
    assert claims["sub"] == ALICE_SUB
    assert claims["email"] == "alice.liddell@example.com"
    assert claims["email_verified"] is True
    # The name as edited on the login page.
    assert claims["name"] == "Alice Pleasance Liddell"
    assert [sdes["type"] for sdes in claims["lp_sdes"]] == ["ctmrinfo", "personal"]

    # The access token works at userinfo, through Authlib's session.
    info = rp.session.get(rp.metadata["userinfo_endpoint"])
    assert info.status_code == 200
    assert info.json()["sub"] == ALICE_SUB
    assert info.json()["name"] == "Alice Pleasance Liddell"


def test_the_fixture_describes_the_running_provider(oidc_provider):
    assert oidc_provider.issuer == f"https://127.0.0.1:{oidc_provider.port}"
    assert oidc_provider.endpoints["token"] == oidc_provider.issuer + "/token"
    assert [c.id for c in oidc_provider.clients] == [
        "demo-client",
        "demo-encrypted",
        "demo-platform-errors",
    ]
    assert oidc_provider.client.secret == "demo-secret"
    assert oidc_provider.personas == ["alice", "bob", "zoe", "dana", "mallory"]
    with open(oidc_provider.ca, encoding="ascii") as ca:
        assert ca.read().startswith("-----BEGIN CERTIFICATE-----")
