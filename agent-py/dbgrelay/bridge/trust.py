"""TLS trust for connections to the relay: CA file, system store, or a sha256 pin.

Verification is always on. With a pin, the bridge first makes one TLS handshake
with verification off, sends nothing, and looks for the pinned certificate in the
chain the relay presents (leaf first, then its CA). It then builds a verifying
context that trusts exactly that certificate (``cadata`` with partial-chain
verification): a pinned CA verifies the leaf with hostname checking, a pinned leaf
is trusted as itself. Every real connection (the ones that carry the secret) uses
that verifying context, so the secret never goes to an unverified peer.

With a client certificate (``certfile``/``keyfile``, for relays that ask for one:
mTLS) every context, the pin probe included, presents it.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import List, Optional

from ..errors import TrustError
from ..pinning import find_pinned, fingerprint_der, format_fingerprint, peer_chain_der
from ..tlspolicy import harden
from .proxytunnel import open_relay_socket

log = logging.getLogger("dbgrelay.control")


def _base_context() -> ssl.SSLContext:
    return harden(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))


def load_client_certificate(ctx: ssl.SSLContext, certfile: Optional[str], keyfile: Optional[str]) -> ssl.SSLContext:
    """Make ``ctx`` present the client certificate ``certfile`` (PEM, optionally with its
    chain) with ``keyfile`` when the relay asks for one. Raises :class:`TrustError` when
    they cannot be loaded or do not belong together (never quoting key material)."""
    if certfile is None and keyfile is None:
        return ctx
    if certfile is None or keyfile is None:
        raise TrustError("give both a client certificate and its key, or neither")
    try:
        ctx.load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__
        raise TrustError(f"cannot use the client certificate {certfile!r} with key {keyfile!r}: {reason}") from None
    return ctx


def context_for_ca(cafile: Optional[str]) -> ssl.SSLContext:
    return harden(ssl.create_default_context(cafile=cafile))


def context_for_pinned(der: bytes, is_leaf: bool) -> ssl.SSLContext:
    ctx = _base_context()
    ctx.load_verify_locations(cadata=ssl.DER_cert_to_PEM_cert(der))
    if hasattr(ssl, "VERIFY_X509_PARTIAL_CHAIN"):
        ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    # a pinned leaf *is* the identity; a pinned CA vouches for names, so check them
    ctx.check_hostname = not is_leaf
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


async def fetch_chain(host: str, port: int, timeout: float = 10.0,
                      certfile: Optional[str] = None, keyfile: Optional[str] = None) -> list:
    probe = load_client_certificate(_base_context(), certfile, keyfile)
    probe.check_hostname = False
    probe.verify_mode = ssl.CERT_NONE
    sock = await asyncio.wait_for(open_relay_socket(host, port), timeout)  # through HTTPS_PROXY like the rest
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(sock=sock, ssl=probe, server_hostname=host), timeout
        )
    except BaseException:
        sock.close()
        raise
    try:
        return peer_chain_der(writer.get_extra_info("ssl_object"))
    finally:
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), 2.0)
        except Exception:
            pass


def pin_mismatch_message(where: str, pin_hex: str, chain: List[bytes]) -> str:
    """Names both sides of a pin mismatch: the expected (pinned) fingerprint, and
    what the relay offered, by role (server certificate, then its issuers)."""
    offered = "; ".join(
        f"{'server' if i == 0 else 'issuer'} {format_fingerprint(fingerprint_der(der))}" for i, der in enumerate(chain)
    ) or "no certificate"
    return (f"relay {where} does not present the pinned certificate: expected (pinned) "
            f"{format_fingerprint(pin_hex)}; offered by the relay: {offered}")


class RelayTrust:
    """Hands out the SSLContext for connections to one relay host:port."""

    def __init__(self, cafile: Optional[str] = None, pin_hex: Optional[str] = None,
                 certfile: Optional[str] = None, keyfile: Optional[str] = None) -> None:
        self.cafile = cafile
        self.pin_hex = pin_hex
        self.certfile = certfile
        self.keyfile = keyfile
        self._ctx: Optional[ssl.SSLContext] = None

    async def context(self, host: str, port: int) -> ssl.SSLContext:
        if self._ctx is None:
            if self.pin_hex is None:
                ctx = context_for_ca(self.cafile)
            else:
                ctx = await self._resolve_pin(host, port)
            self._ctx = load_client_certificate(ctx, self.certfile, self.keyfile)
        return self._ctx

    def forget(self) -> None:
        """Drop the cached context (after a verification failure: re-probe)."""
        if self.pin_hex is not None:
            self._ctx = None

    async def _resolve_pin(self, host: str, port: int) -> ssl.SSLContext:
        assert self.pin_hex is not None
        chain = await fetch_chain(host, port, certfile=self.certfile, keyfile=self.keyfile)
        index = find_pinned(chain, self.pin_hex)
        if index is None:
            raise TrustError(pin_mismatch_message(f"{host}:{port}", self.pin_hex, chain), code="TLS_PIN_MISMATCH")
        log.info("pinned certificate found at position %d of the relay's chain", index)
        return context_for_pinned(chain[index], is_leaf=(index == 0))
