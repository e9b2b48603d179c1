"""Who is on the other end: the client address rate limits count against.

The socket's peer is the client, unless the peer is one of the operator's trusted reverse
proxies: then ``X-Forwarded-For`` is read from the right, skipping trusted hops, and the first
address a trusted proxy vouches for is the client. A header sent by anyone else is ignored, so
a client cannot pick the address it is counted under.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

from starlette.requests import HTTPConnection

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ClientAddresses:
    def __init__(self, trusted_proxies: Sequence[str]) -> None:
        self._trusted: list[IPNetwork] = [
            ipaddress.ip_network(entry, strict=False) for entry in trusted_proxies
        ]

    def resolve(self, peer: str | None, forwarded_for: Iterable[str] = ()) -> str | None:
        """The client address for a connection from ``peer`` carrying these
        ``X-Forwarded-For`` header values (in the order received)."""
        if peer is None or not self._is_trusted(peer):
            return peer
        client = peer
        hops = [hop for value in forwarded_for for hop in value.split(",")]
        for hop in reversed(hops):
            address = _parse(hop)
            if address is None:
                # A garbled entry: nothing to its left can be trusted either.
                break
            client = str(address)
            if not self._is_trusted(client):
                break
        return client

    def _is_trusted(self, host: str) -> bool:
        address = _parse(host)
        return address is not None and any(address in network for network in self._trusted)


def _parse(value: str) -> IPAddress | None:
    text = value.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def client_address(connection: HTTPConnection, trusted_proxies: Sequence[str]) -> str | None:
    """The client address of an HTTP request or WebSocket, for any transport."""
    return _resolver(tuple(trusted_proxies)).resolve(
        connection.client.host if connection.client else None,
        connection.headers.getlist("x-forwarded-for"),
    )


@lru_cache(maxsize=4)
def _resolver(trusted_proxies: tuple[str, ...]) -> ClientAddresses:
    return ClientAddresses(trusted_proxies)
