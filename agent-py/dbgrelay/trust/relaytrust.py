"""The bridge's trust in one relay: CA file, system store, or a sha256 pin.

Verification is always on. With a pin, the bridge first makes one TLS handshake
with verification off, sends nothing, and looks for the pinned certificate in the
chain the relay presents (leaf first, then its CA). It then builds a verifying
context that trusts exactly that certificate (:func:`.contexts.context_for_pinned`).
Every real connection (the ones that carry the secret) uses that verifying context,
so the secret never goes to an unverified peer.

With a client certificate (``certfile``/``keyfile``, for relays that ask for one:
mTLS) every context, the pin probe included, presents it.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Optional

from ..bridge.proxytunnel import open_relay_socket
from ..errors import TLS_PIN_MISMATCH, TrustError
from .clientcert import load_client_certificate
from .contexts import client_context, context_for_ca, context_for_pinned
from .pinning import find_pinned, peer_chain_der, pin_mismatch_message

log = logging.getLogger("dbgrelay.control")


async def fetch_chain(host: str, port: int, timeout: float = 10.0, certfile: Optional[str] = None, keyfile: Optional[str] = None) -> list:
    """The certificate chain (DER, leaf first) the relay at ``host:port`` presents,
    from one unverified handshake that sends nothing."""
    probe = load_client_certificate(client_context(), certfile, keyfile)
    probe.check_hostname = False
    probe.verify_mode = ssl.CERT_NONE
    sock = await asyncio.wait_for(open_relay_socket(host, port), timeout)  # through HTTPS_PROXY like the rest
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(sock=sock, ssl=probe, server_hostname=host), timeout)
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


class RelayTrust:
    """Hands out the SSLContext for connections to one relay host:port."""

    def __init__(self, cafile: Optional[str] = None, pin_hex: Optional[str] = None, certfile: Optional[str] = None, keyfile: Optional[str] = None) -> None:
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
            raise TrustError(pin_mismatch_message(f"{host}:{port}", self.pin_hex, chain), code=TLS_PIN_MISMATCH)
        log.info("pinned certificate found at position %d of the relay's chain", index)
        return context_for_pinned(chain[index], is_leaf=(index == 0))
