"""The Python examples of the package's README run: each complete example (it starts with
an import) with its test functions called against a fresh provider, and the admin API
snippet against one."""

import pathlib
import re

import oidc_harness
import pytest

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def examples(start):
    return [block for block in BLOCKS if block.startswith(start)]


def test_the_readme_has_the_examples_this_file_runs():
    assert len(examples(("import ", "from "))) == 3
    assert len(examples("idp.admin.")) == 1


@pytest.mark.parametrize("block", examples(("import ", "from ")))
def test_a_complete_example_runs(block):
    namespace = {}
    exec(compile(block, str(README), "exec"), namespace)
    for name, function in list(namespace.items()):
        if name.startswith("test_"):
            with oidc_harness.provider() as idp:
                function(idp)


def test_the_admin_api_snippet_runs(oidc_provider):
    (block,) = examples("idp.admin.")
    exec(compile(block, str(README), "exec"), {"idp": oidc_provider})
    state = oidc_provider.admin.state()
    assert "erin" in [p["id"] for p in state["personas"]]
    assert "my-app" in [c["client_id"] for c in state["clients"]]
    assert state["queued"] == [
        {"persona": "alice", "claims": {"acr": "urn:example:mfa"}},
        {"client": "demo-client", "claims": {"aud": "someone-else"}},
    ]
    assert state["faults"]["lapses"] == []
