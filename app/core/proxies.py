"""The client's address, believing `X-Forwarded-For` only from the proxies the operator names.

uvicorn's own proxy handling trusts 127.0.0.1 by default, so anyone on the host could pick
their address and step around the per-address login limit; `cordon-server serve` turns it
off and this module decides instead, from `CORDON_TRUSTED_PROXIES` (default: none).
"""

import ipaddress
from collections.abc import Sequence

from starlette.requests import HTTPConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Sequence[str]) -> tuple[Network, ...]:
    """Addresses or CIDR networks; a bare address is a network of one."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values)


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(conn: HTTPConnection, trusted: Sequence[Network]) -> str:
    """The peer's address; when the peer is a trusted proxy, the nearest address in
    `X-Forwarded-For` that is not itself a trusted proxy (entries further left were written
    by the client and prove nothing)."""
    peer = conn.client.host if conn.client else "unknown"
    if not trusted or not _trusted(peer, trusted):
        return peer
    hops = [
        hop.strip()
        for value in conn.headers.getlist("x-forwarded-for")
        for hop in value.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop[:64]
    return hops[0][:64] if hops else peer
