"""A relying party built on Authlib, as an application's tests would write one, and a
"browser" that signs in at the provider's login page.

The ID token is checked the way Authlib's own OpenID client does it
(`OpenIDMixin.parse_id_token`): the signature with joserfc (Authlib's JOSE implementation)
against the provider's JWKS, then the claims with `authlib.oidc.core.CodeIDToken`, here told
the issuer and audience to expect as well as the nonce.
"""

from __future__ import annotations

import urllib.parse
from html.parser import HTMLParser

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet

# Any loopback URL is a registered redirect URI of the default clients; nothing listens here:
# the redirect is read, not followed.
REDIRECT_URI = "http://127.0.0.1:8765/callback"


class RelyingParty:
    """One sign-in: an authorization request with state, nonce and PKCE, then the code."""

    def __init__(self, idp, client=None, **extra):
        client = client or idp.client
        self.client_id = client.id
        self.session = OAuth2Session(
            client.id,
            client.secret,
            scope="openid email profile",
            redirect_uri=REDIRECT_URI,
            code_challenge_method="S256",
        )
        trust(self.session, idp)
        discovery = self.session.get(idp.discovery_url, withhold_token=True)
        discovery.raise_for_status()
        self.metadata = discovery.json()
        self.nonce = generate_token(20)
        self.code_verifier = generate_token(48)
        self.authorization_url, self.state = self.session.create_authorization_url(
            self.metadata["authorization_endpoint"],
            nonce=self.nonce,
            code_verifier=self.code_verifier,
            **extra,
        )

    def redeem(self, callback_url: str) -> dict:
        """The token response for the code in ``callback_url`` (Authlib checks ``state``)."""
        return self.session.fetch_token(
            self.metadata["token_endpoint"],
            authorization_response=callback_url,
            code_verifier=self.code_verifier,
        )

    def verify(self, token: dict) -> CodeIDToken:
        """The ID token's claims once signature, iss, aud, exp, nonce and at_hash hold."""
        jwks = self.session.get(self.metadata["jwks_uri"], withhold_token=True)
        jwks.raise_for_status()
        decoded = jwt.decode(
            token["id_token"],
            KeySet.import_key_set(jwks.json()),
            algorithms=self.metadata["id_token_signing_alg_values_supported"],
        )
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            {
                "iss": {"essential": True, "value": self.metadata["issuer"]},
                "aud": {"essential": True, "value": self.client_id},
            },
            {
                "nonce": self.nonce,
                "client_id": self.client_id,
                "access_token": token["access_token"],
            },
        )
        claims.validate(leeway=120)
        return claims


class _Forms(HTMLParser):
    """Every form on a page: its action and the fields a browser would submit."""

    def __init__(self):
        super().__init__()
        self.forms: list = []
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": [], "buttons": []})
        elif not self.forms:
            return
        elif tag == "input":
            kind = a.get("type", "text")
            if kind == "checkbox" and "checked" not in a:
                return
            if "name" in a:
                self.forms[-1]["fields"].append((a["name"], a.get("value", "on")))
        elif tag == "button" and "name" in a:
            self.forms[-1]["buttons"].append((a["name"], a.get("value", "")))
        elif tag == "textarea":
            self._textarea = [a["name"], ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None:
            self.forms[-1]["fields"].append(tuple(self._textarea))
            self._textarea = None


def trust(session: requests.Session, idp) -> None:
    """Trust the provider's CA and nothing else. requests lets REQUESTS_CA_BUNDLE or
    CURL_CA_BUNDLE, when set, win over ``session.verify``: a session that must use its own CA
    stops reading the environment (which also keeps proxies away from loopback)."""
    session.verify = idp.ca
    session.trust_env = False


def browser(idp) -> requests.Session:
    session = requests.Session()
    trust(session, idp)
    return session


def sign_in_at_login_page(idp, authorization_url: str, persona: str, **edits) -> str:
    """Opens the login page, fills in ``persona``'s form (with ``edits`` over its claims),
    presses "Continue", and returns where the provider redirects: the callback URL."""
    web = browser(idp)
    page = web.get(authorization_url)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    parser = _Forms()
    parser.feed(page.text)
    (form,) = [f for f in parser.forms if ("persona", persona) in f["fields"]]
    assert ("action", "allow") in form["buttons"]
    fields = [(name, edits.pop(name, value)) for name, value in form["fields"]]
    assert not edits, f"the form has no field {sorted(edits)}"
    answer = web.post(
        urllib.parse.urljoin(page.url, form["action"]),
        data=fields + [("action", "allow")],
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def sign_in_headless(idp, authorization_url: str) -> str:
    """The redirect for an authorization URL with ``login_hint`` and ``prompt=none``."""
    answer = browser(idp).get(authorization_url, allow_redirects=False)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]
