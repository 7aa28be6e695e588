"""Which HTTP proxy reaches the relay: ``HTTPS_PROXY`` and ``NO_PROXY`` from the environment.

The relay is always reached over TLS (wss and tcps alike), so ``https_proxy`` (else
``HTTPS_PROXY``) names the proxy; ``HTTP_PROXY`` and ``ALL_PROXY`` are not used. The
proxy must be an ``http://`` proxy that tunnels with ``CONNECT`` (RFC 9110 §9.3.6);
TLS to the relay stays end to end. ``no_proxy`` (else ``NO_PROXY``) lists the relays
reached directly, with the same rules as the TypeScript client (src/dial/noProxy.ts):

- ``*`` alone: every host;
- a name (``example.com``, ``.example.com``, ``*.example.com``): that name and every
  name under it, never a name that only ends the same (``notexample.com``);
- an IP address or CIDR block (``10.0.0.5``, ``10.0.0.0/8``, ``::1``): a relay host
  written as an IP address inside it;
- any of these with ``:port`` (``[v6]:port`` for IPv6): only that port.

Names are compared as written in the relay URL, never resolved: ``localhost`` does
not cover ``127.0.0.1``, and loopback is not exempt unless the variable lists it.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import re
from dataclasses import dataclass, field
from typing import Mapping, Optional, Tuple, Union
from urllib.parse import unquote, urlsplit

from .errors import ConfigError

_Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


@dataclass(frozen=True)
class HttpProxy:
    host: str
    port: int
    #: the variable it came from (``https_proxy`` or ``HTTPS_PROXY``)
    source: str
    #: ``Proxy-Authorization`` value from the URL's user part; never shown
    authorization: Optional[str] = field(default=None, repr=False, compare=False)

    def display(self) -> str:
        """``http://host:port``, without the credential: safe to log."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def _first_set(env: Mapping[str, str], names: Tuple[str, ...]) -> Optional[Tuple[str, str]]:
    for name in names:
        value = (env.get(name) or "").strip()
        if value:
            return name, value
    return None


def _split_port(entry: str) -> Tuple[str, Optional[int]]:
    bracketed = re.match(r"^\[([^\]]+)\](?::(\d{1,5}))?$", entry)
    if bracketed:
        return bracketed.group(1), int(bracketed.group(2)) if bracketed.group(2) else None
    if entry.count(":") > 1:  # bare IPv6 (or IPv6 CIDR): no port
        return entry, None
    with_port = re.match(r"^(.*):(\d{1,5})$", entry)
    return (with_port.group(1), int(with_port.group(2))) if with_port else (entry, None)


def _network(text: str) -> Optional[_Network]:
    address, _, prefix = text.partition("/")
    try:
        ipaddress.ip_address(address)
        if prefix and not prefix.isdigit():
            return None
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _ip(host: str) -> Optional[Union[ipaddress.IPv4Address, ipaddress.IPv6Address]]:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _entry_matches(raw: str, host: str, port: int) -> bool:
    entry = raw.strip().lower()
    if not entry:
        return False
    if entry == "*":
        return True
    name, entry_port = _split_port(entry)
    if entry_port is not None and entry_port != port:
        return False
    network = _network(name)
    if network is not None:
        address = _ip(host)
        return address is not None and address.version == network.version and address in network
    if _ip(host) is not None:
        return False
    suffix = re.sub(r"^\*?\.+", "", name).rstrip(".")
    return bool(suffix) and (host == suffix or host.endswith("." + suffix))


def no_proxy_matches(no_proxy: str, host: str, port: int) -> bool:
    """True when ``NO_PROXY`` (its value ``no_proxy``) says ``host:port`` is reached directly."""
    target = host.lower().strip("[]").rstrip(".")
    return any(_entry_matches(entry, target, port) for entry in re.split(r"[\s,]+", no_proxy))


def parse_proxy_url(value: str, source: str) -> HttpProxy:
    """``http://[user[:password]@]host[:port]`` (no scheme: ``http://``; port 80 by
    default). :class:`ConfigError` messages never quote the URL (it may hold a password)."""
    text = value if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", value) else "http://" + value
    try:
        parts = urlsplit(text)
        port = parts.port or 80
    except ValueError:
        raise ConfigError(f"{source}: not a valid proxy URL (expected http://[user:password@]host[:port])") from None
    if parts.scheme.lower() != "http":
        raise ConfigError(f"{source}: proxy scheme {parts.scheme}:// is not supported; use an http:// proxy (it tunnels TLS with CONNECT)")
    if not parts.hostname:
        raise ConfigError(f"{source}: the proxy URL has no host")
    authorization = None
    if parts.username is not None or parts.password is not None:
        user = unquote(parts.username or "")
        password = unquote(parts.password or "")
        authorization = "Basic " + base64.b64encode(f"{user}:{password}".encode("utf-8")).decode("ascii")
    return HttpProxy(parts.hostname, port, source, authorization)


def proxy_for_relay(host: str, port: int, env: Optional[Mapping[str, str]] = None) -> Optional[HttpProxy]:
    """The proxy to reach the relay at ``host:port`` through; None: connect directly."""
    env = os.environ if env is None else env
    proxy = _first_set(env, ("https_proxy", "HTTPS_PROXY"))
    if proxy is None:
        return None
    no_proxy = _first_set(env, ("no_proxy", "NO_PROXY"))
    if no_proxy is not None and no_proxy_matches(no_proxy[1], host, port):
        return None
    return parse_proxy_url(proxy[1], proxy[0])
