"""Client addresses: the socket's peer, unless a trusted proxy forwarded the request."""

from __future__ import annotations

import pytest

from lafactoria.http.client import ClientAddresses

PROXIES = ClientAddresses(["10.0.0.0/8", "2001:db8::1"])


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        # No proxies configured, or the peer is not one: the header is the client's own claim.
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),
        ("127.0.0.1", ["198.51.100.1"], "127.0.0.1"),
        # A trusted proxy: the rightmost address it did not add itself.
        ("10.1.2.3", ["198.51.100.1"], "198.51.100.1"),
        ("10.1.2.3", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),
        ("10.1.2.3", ["6.6.6.6", "198.51.100.1, 10.0.0.7"], "198.51.100.1"),
        ("2001:db8::1", ["[2001:db8::99]:443"], "2001:db8::99"),
        ("10.1.2.3", ["198.51.100.1:5678"], "198.51.100.1"),
        # Only proxies in the chain: the leftmost is as far as trust reaches.
        ("10.1.2.3", ["10.0.0.5"], "10.0.0.5"),
        # Garbage stops the walk at the last address a proxy vouched for.
        ("10.1.2.3", ["198.51.100.1, not-an-ip"], "10.1.2.3"),
        ("10.1.2.3", [], "10.1.2.3"),
        (None, ["198.51.100.1"], None),
    ],
)
def test_resolve(peer: str | None, forwarded_for: list[str], client: str | None) -> None:
    assert PROXIES.resolve(peer, forwarded_for) == client


def test_nothing_is_trusted_by_default() -> None:
    assert ClientAddresses([]).resolve("10.1.2.3", ["198.51.100.1"]) == "10.1.2.3"
