"""Faults and queued claims set through the admin API; Authlib refuses what they break."""

import pytest
from joserfc.errors import BadSignatureError, ExpiredTokenError, InvalidClaimError
from rp import RelyingParty, sign_in_headless

ALICE_SUB = "110169484474386276334"


def alice_signs_in(idp):
    """A headless sign-in (login_hint, prompt=none) and the token response."""
    rp = RelyingParty(idp, login_hint="alice", prompt="none")
    return rp, rp.redeem(sign_in_headless(idp, rp.authorization_url))


@pytest.mark.parametrize(
    "mutation, refusal, claim",
    [
        ("iss-mismatch", InvalidClaimError, "iss"),
        ("aud-mismatch", InvalidClaimError, "aud"),
        ("nonce-mismatch", InvalidClaimError, "nonce"),
        ("exp-past", ExpiredTokenError, "exp"),
        ("sig-bitflip", BadSignatureError, None),
    ],
)
def test_authlib_refuses_the_id_token_a_fault_broke(oidc_provider, mutation, refusal, claim):
    faults = oidc_provider.admin.set_faults(mutate=[mutation])
    assert faults["mutate"] == [mutation]
    assert oidc_provider.admin.faults()["mutate"] == [mutation]

    rp, token = alice_signs_in(oidc_provider)
    with pytest.raises(refusal) as refused:
        rp.verify(token)
    assert type(refused.value) is refusal
    assert getattr(refused.value, "claim", None) == claim

    # Without the fault the same flow verifies: the fault, nothing else, broke the token.
    oidc_provider.admin.clear_faults()
    assert oidc_provider.admin.faults()["mutate"] == []
    rp, token = alice_signs_in(oidc_provider)
    assert rp.verify(token)["sub"] == ALICE_SUB


def test_claims_queued_for_a_persona_go_into_her_next_id_token_only(oidc_provider):
    admin = oidc_provider.admin
    assert admin.queue_claims({"acr": "urn:example:mfa"}, persona="alice") == 1
    assert admin.queued() == [{"persona": "alice", "claims": {"acr": "urn:example:mfa"}}]

    rp, token = alice_signs_in(oidc_provider)
    assert rp.verify(token)["acr"] == "urn:example:mfa"
    assert admin.queued() == []
    rp, token = alice_signs_in(oidc_provider)
    assert "acr" not in rp.verify(token)


def test_a_queued_audience_is_refused_by_authlib(oidc_provider):
    oidc_provider.admin.queue_claims({"aud": "someone-else"}, client="demo-client")
    rp, token = alice_signs_in(oidc_provider)
    with pytest.raises(InvalidClaimError) as refused:
        rp.verify(token)
    assert refused.value.claim == "aud"
