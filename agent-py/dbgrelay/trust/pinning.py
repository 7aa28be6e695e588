"""``sha256:`` certificate fingerprints: parse a pin, fingerprint DER, match a chain, name a mismatch."""

from __future__ import annotations

import hashlib
import re
import ssl
from typing import Any, List, Optional, Sequence

from ..errors import ConfigError

try:
    from _ssl import ENCODING_DER as _ENCODING_DER  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - very old or exotic builds
    _ENCODING_DER = 2

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def parse_fingerprint(text: str) -> str:
    """Normalise ``sha256:AB:CD:…`` (colons optional, any case) to 64 lowercase hex."""
    if not isinstance(text, str):
        raise ConfigError("fingerprint must be a string like sha256:<64 hex digits>")
    prefix, sep, rest = text.strip().partition(":")
    if not sep or prefix.lower() != "sha256":
        raise ConfigError("fingerprint must start with 'sha256:' (only SHA-256 pins are supported)")
    digits = rest.replace(":", "").lower()
    if not _HEX64.match(digits):
        raise ConfigError("fingerprint must be 'sha256:' followed by 64 hex digits (colons optional)")
    return digits


def fingerprint_der(der: bytes) -> str:
    """64 lowercase hex digits of the SHA-256 of a DER certificate."""
    return hashlib.sha256(der).hexdigest()


def format_fingerprint(hex_digits: str) -> str:
    """``sha256:AB:CD:…``, the form `dbgrelay serve` prints."""
    up = hex_digits.upper()
    return "sha256:" + ":".join(up[i : i + 2] for i in range(0, len(up), 2))


def find_pinned(chain_der: Sequence[bytes], pin_hex: str) -> Optional[int]:
    """Index of the certificate in ``chain_der`` (leaf first) whose fingerprint is
    ``pin_hex``, or ``None``."""
    for i, der in enumerate(chain_der):
        if fingerprint_der(der) == pin_hex:
            return i
    return None


def peer_chain_der(ssl_object: Any) -> List[bytes]:
    """The chain the server presented (leaf first), DER, without verification.

    Python 3.13 has the public ``get_unverified_chain()``; 3.10–3.12 only have it on
    the private ``_sslobj``; before 3.10 only the leaf is available.
    """
    getter = getattr(ssl_object, "get_unverified_chain", None)
    if getter is None:
        inner = getattr(ssl_object, "_sslobj", None)
        getter = getattr(inner, "get_unverified_chain", None)
    if getter is not None:
        chain = getter() or []
        out: List[bytes] = []
        for cert in chain:
            if isinstance(cert, bytes):
                out.append(cert)
            else:
                out.append(cert.public_bytes(_ENCODING_DER))
        if out:
            return out
    leaf = ssl_object.getpeercert(binary_form=True)
    return [leaf] if leaf else []


def whole_chain_visible() -> bool:
    """True when this Python shows a peer's whole chain (3.10+, see :func:`peer_chain_der`);
    before 3.10 only the leaf is visible, and a chain of one says nothing about the CA."""
    inner = getattr(getattr(ssl, "_ssl", None), "_SSLSocket", None)
    return hasattr(ssl.SSLObject, "get_unverified_chain") or hasattr(inner, "get_unverified_chain")


def pin_mismatch_message(where: str, pin_hex: str, chain: List[bytes]) -> str:
    """Names both sides of a pin mismatch: the expected (pinned) fingerprint, and
    what the relay offered, by role (server certificate, then its issuers)."""
    offered = "; ".join(f"{'server' if i == 0 else 'issuer'} {format_fingerprint(fingerprint_der(der))}" for i, der in enumerate(chain)) or "no certificate"
    return f"relay {where} does not present the pinned certificate: expected (pinned) {format_fingerprint(pin_hex)}; offered by the relay: {offered}"
