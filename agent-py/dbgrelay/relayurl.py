"""Relay URLs: ``wss://[SECRET@]host:port[/base]`` or ``tcps://[SECRET@]host:port``.

A ``SECRET@`` user part (the ptvsd ``wss://<secret>@site/ptvsd`` form) is the agent's
relay secret. It is percent-decoded as UTF-8 (RFC 3986 §2.1, §3.2.1), kept out of
``repr`` and :meth:`RelayEndpoint.display`, and sent only in the ``Authorization``
header or the hello line, never in a URL.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import unquote, urlsplit

from .errors import ConfigError


@dataclass(frozen=True)
class RelayEndpoint:
    scheme: str  # "wss" or "tcps"
    host: str
    port: int
    base_path: str  # "" or "/prefix" (no trailing slash); wss only
    #: the secret of the URL's user part, if any (never displayed)
    secret: Optional[str] = field(default=None, repr=False, compare=False)

    def ws_url(self, path: str) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"wss://{host}:{self.port}{self.base_path}{path}"

    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def display(self) -> str:
        """``scheme://host:port[/base]``: safe to print, never carries the secret."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.base_path}"


DEFAULT_PORTS = {"wss": 443, "tcps": 7444}

# A DNS name (RFC 1123 §2.1 labels), as the relay's client checks it (src/dial/relayEndpoint.ts).
_HOST_NAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$")

# RFC 3986 §3.2.1: userinfo = *( unreserved / pct-encoded / sub-delims / ":" )
_USERINFO = re.compile(r"^(?:[A-Za-z0-9._~!$&'()*+,;=-]|%[0-9A-Fa-f]{2})*$")


def redact_relay_url(url: str) -> str:
    """``url`` with its user part replaced by ``***``, for messages."""
    return re.sub(r"^([^:/?#]*://)[^@/?#]*@", r"\1***@", url, flags=re.S)


def _userinfo_secret(userinfo: str) -> str:
    user, colon, password = userinfo.partition(":")
    if colon and password:
        raise ConfigError("the relay URL's user part must be SECRET@ alone, without a password")
    if not _USERINFO.match(user):
        raise ConfigError("the relay URL's user part has characters that must be percent-encoded (RFC 3986 §3.2.1)")
    try:
        secret = unquote(user, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise ConfigError("the relay URL's user part is not valid percent-encoded UTF-8") from None
    if not secret:
        raise ConfigError("the relay URL's user part is empty")
    return secret


def _valid_host(host: str) -> bool:
    """An IP address or a DNS name: nothing a TLS name check, SNI or a ``Host`` header
    could read otherwise (urlsplit lets spaces and control characters through)."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return _HOST_NAME.match(host) is not None


def parse_relay_url(url: str) -> RelayEndpoint:
    """Parse a relay URL; :class:`ConfigError` messages never quote the user part."""
    if not isinstance(url, str) or not url:
        raise ConfigError("relay must be a URL like wss://host:port or tcps://host:port")
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:  # a bracketed host that is not an IPv6 address, a host invalid under NFKC
        raise ConfigError("relay URL has an invalid host (an IPv6 address goes in brackets: wss://[::1]:7443)") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        hint = " (TLS is required: use wss:// or tcps://)" if scheme in ("ws", "tcp", "http", "https") else ""
        raise ConfigError(f"relay URL scheme must be wss or tcps, not {scheme or 'missing'!r}{hint}")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise ConfigError("relay URL must not have a query or fragment (a credential never travels in a URL query)")
    secret: Optional[str] = None
    if "@" in parts.netloc:
        userinfo, _, hostport = parts.netloc.rpartition("@")
        if "@" in userinfo:
            raise ConfigError("the relay URL's user part must percent-encode '@' as %40")
        secret = _userinfo_secret(userinfo)
    if not parts.hostname:
        raise ConfigError("relay URL has no host")
    if not _valid_host(parts.hostname):
        raise ConfigError("relay URL host is not a valid name or address")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise ConfigError("relay URL has an invalid port") from None
    base = parts.path.rstrip("/")
    if base and scheme == "tcps":
        raise ConfigError("a tcps:// relay URL cannot have a path")
    return RelayEndpoint(scheme, parts.hostname, port, base, secret)
