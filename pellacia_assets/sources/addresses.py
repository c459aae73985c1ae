"""Fetches of addresses a third party chose, kept on the public internet.

A feed names its article pages, and any page may redirect anywhere: a hostile or hijacked feed could point
the factory at its own network (a cloud metadata service, an admin port on localhost). Checking a URL's
host before the request is not enough, since a redirect or a second DNS answer changes it between the
check and the connection; so the check is made where the socket is opened, on the address actually dialled.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
from collections.abc import Iterable

import httpcore
import httpx


class InternalAddressError(Exception):
    """A fetch would have connected to an internal address (loopback, private, link-local, reserved)."""

    def __init__(self, host: str, address: str) -> None:
        self.host = host
        self.address = address
        self.where = host if host == address else f"{host} ({address})"
        super().__init__(f"{self.where} is an internal address")


def private_allowed(variable: str) -> bool:
    """Whether the operator set `variable` (e.g. PELLACIA_FEEDS_ALLOW_PRIVATE) to let fetches reach
    internal addresses: a local test site, an intranet server."""
    return os.environ.get(variable, "").strip().lower() in ("1", "true", "yes", "on")


def is_internal(address: str) -> bool:
    """Whether `address` (an IP literal, IPv6 zone allowed) is anything but a public internet address."""
    return not ipaddress.ip_address(address.split("%")[0]).is_global


def resolve(host: str, port: int | None = None) -> list[str]:
    """The addresses `host` resolves to, in the resolver's order, each once."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def internal_addresses_of(hosts: Iterable[str]) -> frozenset[str]:
    """The internal addresses the `hosts` resolve to (those an operator chose, e.g. an intranet feed);
    a host that does not resolve now adds none."""
    found: set[str] = set()
    for host in hosts:
        try:
            found.update(address for address in resolve(host) if is_internal(address))
        except (OSError, UnicodeError):
            continue
    return frozenset(found)


class _PublicBackend(httpcore.SyncBackend):
    """Connects only to public addresses, and to the internal ones in `allowed`: the host is resolved
    here and the checked address itself is dialled, so no later DNS answer can differ from the one
    checked."""

    def __init__(self, allowed: frozenset[str]) -> None:
        self.allowed = allowed

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError) as error:
            raise httpcore.ConnectError(f"cannot resolve {host} ({error})") from error
        for address in addresses:
            if is_internal(address) and address not in self.allowed:
                raise InternalAddressError(host, address)
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        assert failure is not None  # getaddrinfo answers at least one address or raises
        raise failure


def public_transport(verify: ssl.SSLContext, allowed: frozenset[str] = frozenset()) -> httpx.HTTPTransport:
    """An httpx transport whose every connection, redirects included, goes to a public address or one of
    `allowed`; a refused one raises InternalAddressError out of the request. TLS still verifies the
    URL's host name (httpcore takes it from the request, not from the dialled address)."""
    transport = httpx.HTTPTransport(verify=verify)
    # httpx has no parameter for httpcore's network backend; its pool is rebuilt with the same TLS context.
    transport._pool = httpcore.ConnectionPool(
        ssl_context=verify,
        max_connections=100,  # httpx's default limits
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
        network_backend=_PublicBackend(allowed),
    )
    return transport
