"""pytest plugin (loaded through the ``pytest11`` entry point): the ``oidc_provider`` fixture.

Each test that asks for ``oidc_provider`` gets its own running provider, so faults, queued
claims and edited personas never leak into another test. Options for
:func:`oidc_harness.provider` go in a marker::

    @pytest.mark.oidc_provider(config="tests/harness.toml")
    def test_something(oidc_provider): ...
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from . import Provider, provider


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "oidc_provider(**options): options for the oidc_provider fixture "
        "(those of oidc_harness.provider)",
    )


@pytest.fixture
def oidc_provider(request: pytest.FixtureRequest) -> Iterator[Provider]:
    """A running oidc-harness provider, stopped after the test."""
    marker = request.node.get_closest_marker("oidc_provider")
    options = dict(marker.kwargs) if marker else {}
    with provider(**options) as idp:
        yield idp
