"""The TLS policy every context of the agent uses, client and server alike: TLS 1.2
or newer, forward-secret AEAD suites only, and no renegotiation.

TLS 1.2 offers only ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 (no RSA key
exchange, no DHE, no CBC, no SHA-1 MAC); TLS 1.3's suites are all of that kind and stay
as OpenSSL has them. Renegotiation is refused (``OP_NO_RENEGOTIATION``): a client
that asks for it mid-connection gets a ``no_renegotiation`` alert. The relay offers
the same set (docs/operations.md, "TLS").
"""

from __future__ import annotations

import ssl

#: OpenSSL names of the TLS 1.2 suites offered, in order of preference.
TLS12_CIPHERS = ":".join(
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
    )
)


def harden(ctx: ssl.SSLContext) -> ssl.SSLContext:
    """Apply the policy to ``ctx`` (returned for chaining): minimum TLS 1.2, the
    suites of :data:`TLS12_CIPHERS`, renegotiation off, and for a server the server's
    order of preference."""
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(TLS12_CIPHERS)
    ctx.options |= ssl.OP_NO_RENEGOTIATION | ssl.OP_CIPHER_SERVER_PREFERENCE
    return ctx
