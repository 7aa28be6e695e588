"""TLS trust of the agent and the bridge, in one place.

- :mod:`.policy`: the TLS policy every context uses (TLS 1.2+, forward-secret AEAD
  suites, no renegotiation).
- :mod:`.pinning`: ``sha256:`` certificate fingerprints (parse, compute, match a chain).
- :mod:`.clientcert`: client certificates for mTLS (checked in the debuggee, loaded
  into the bridge's contexts).
- :mod:`.contexts`: the SSL contexts (relay client by CA or by pin, direct endpoint
  server).
- :mod:`.certnames`: the names a certificate covers (its subjectAltName, from DER).
- :mod:`.failurehint`: the fix for a relay certificate that does not verify (a name
  it does not cover, a CA not trusted), worded as the relay's own client words it.
- :mod:`.relaytrust`: the bridge's :class:`~.relaytrust.RelayTrust`, which resolves a
  pin by probing the relay. It is not imported here, so the debuggee, which only
  validates options, never loads the bridge's dialing code.
"""

from __future__ import annotations

from .clientcert import check_client_certificate, load_client_certificate
from .contexts import client_context, context_for_ca, context_for_pinned, server_context
from .pinning import find_pinned, fingerprint_der, format_fingerprint, parse_fingerprint, peer_chain_der
from .policy import TLS12_CIPHERS, harden

__all__ = [
    "TLS12_CIPHERS",
    "harden",
    "parse_fingerprint",
    "fingerprint_der",
    "format_fingerprint",
    "find_pinned",
    "peer_chain_der",
    "check_client_certificate",
    "load_client_certificate",
    "client_context",
    "context_for_ca",
    "context_for_pinned",
    "server_context",
]
