"""The context manager itself: start, describe, refuse, stop."""

import importlib.metadata
import os
import socket
import subprocess
import sysconfig

import oidc_harness
import pytest


def test_the_provider_stops_on_exit_and_removes_its_state():
    with oidc_harness.provider() as idp:
        assert idp.running
        state_dir, port = idp.state_dir, idp.port
        assert os.path.isfile(os.path.join(state_dir, "ca.pem"))
    assert not idp.running
    assert idp.returncode == 0
    assert idp.stdout_text.endswith("shutting down\nstopped")
    assert not os.path.exists(state_dir)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_a_server_that_exits_early_is_reported_with_its_stderr(tmp_path):
    missing = tmp_path / "missing.toml"
    with pytest.raises(oidc_harness.ProviderError) as failed:
        with oidc_harness.provider(config=missing):
            pytest.fail("the provider started without its config file")
    message = str(failed.value)
    assert message.startswith("oidc-harness serve exited with status 2 before it was ready:\n")
    assert f"error: {missing}: No such file or directory" in message


def test_admin_refusals_carry_the_providers_error(oidc_provider):
    with pytest.raises(oidc_harness.AdminError) as refused:
        oidc_provider.admin.set_faults(mutate=["no-such-mutation"])
    assert refused.value.status == 400
    assert refused.value.error == "invalid_request"
    assert refused.value.description.startswith("unknown variant `no-such-mutation`")
    assert oidc_provider.admin.faults()["mutate"] == []


@pytest.mark.oidc_provider(tls=False)
def test_the_marker_passes_options_to_the_fixture(oidc_provider):
    assert oidc_provider.ca is None
    assert oidc_provider.issuer == f"http://127.0.0.1:{oidc_provider.port}"
    assert oidc_provider.admin.state()["issuer"] == oidc_provider.issuer


def test_a_bad_override_of_the_binary_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("OIDC_HARNESS_BIN", str(tmp_path / "nothing"))
    with pytest.raises(oidc_harness.ProviderError) as failed:
        oidc_harness.binary()
    assert str(failed.value) == f"OIDC_HARNESS_BIN={tmp_path / 'nothing'}: not an executable file"


@pytest.mark.skipif(
    "OIDC_HARNESS_BIN" in os.environ,
    reason="OIDC_HARNESS_BIN runs another binary than the wheel's",
)
def test_the_wheel_installs_the_binary_of_its_own_version():
    version = f"oidc-harness {importlib.metadata.version('oidc-harness')}\n"
    # On PATH in the environment (a launcher when the wheel bundles shared libraries) ...
    on_path = os.path.join(sysconfig.get_path("scripts"), "oidc-harness")
    # ... and the executable the package runs, inside this environment.
    found = oidc_harness.binary()
    assert found in (
        os.path.join(sysconfig.get_path("platlib"), "oidc_harness.scripts", "oidc-harness"),
        on_path,
    )
    for executable in (on_path, found):
        answer = subprocess.run(
            [executable, "--version"], capture_output=True, text=True, check=True
        )
        assert answer.stdout == version


def test_personas_are_listed_and_deleted_through_the_admin_api(oidc_provider):
    personas = oidc_provider.admin.personas
    assert [p["id"] for p in personas.list()] == oidc_provider.personas
    personas.delete("mallory")
    assert [p["id"] for p in personas.list()] == ["alice", "bob", "zoe", "dana"]
    with pytest.raises(oidc_harness.AdminError) as refused:
        personas.delete("mallory")
    assert (refused.value.status, refused.value.error) == (404, "not_found")
