"""When the support form refuses to answer: it would serve ticket data to other machines with no login."""

from __future__ import annotations

import pytest

from destination_milvus_zendesk.support.settings import network_exposure


@pytest.mark.parametrize("address", ["127.0.0.1", "localhost", "::1", " 127.0.0.1 "])
def test_loopback_is_served(address):
    assert network_exposure(address, allowed=False) is None


@pytest.mark.parametrize("address, where", [(None, "on every network interface"), ("", "on every network interface"),
                                            ("0.0.0.0", "on 0.0.0.0"), ("10.1.2.3", "on 10.1.2.3")])
def test_any_other_address_is_refused_unless_allowed(address, where):
    problem = network_exposure(address, allowed=False)
    assert problem is not None and where in problem and "SUPPORT_FORM_ALLOW_NETWORK=1" in problem
    assert network_exposure(address, allowed=True) is None
