"""What to do when the relay's certificate does not verify, worded exactly as the
relay's own client does (src/dial/tlsFailureHint.ts; both are checked against
test/fixtures/tlsFailureHintVectors.json).

A name mismatch names the names the certificate covers, the host dialed and
``--public-name``; a CA that is not trusted names the CA file (or the system trust
store) and the fingerprints the relay presented. The presented chain comes from one
more handshake without verification that sends nothing (:func:`.relaytrust.fetch_chain`);
its facts are only shown, never trusted.
"""

from __future__ import annotations

import logging
import ssl
from typing import TYPE_CHECKING, List, Optional, Sequence

from .certnames import certificate_names
from .pinning import fingerprint_der, whole_chain_visible

if TYPE_CHECKING:
    from .relaytrust import RelayTrust

log = logging.getLogger("dbgrelay.control")

#: OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH and X509_V_ERR_IP_ADDRESS_MISMATCH
NAME_MISMATCH_CODES = frozenset({62, 64})
#: OpenSSL's codes for a chain that ends at no trusted CA: UNABLE_TO_GET_ISSUER_CERT,
#: DEPTH_ZERO_SELF_SIGNED_CERT, SELF_SIGNED_CERT_IN_CHAIN, UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
#: UNABLE_TO_VERIFY_LEAF_SIGNATURE
UNKNOWN_CA_CODES = frozenset({2, 18, 19, 20, 21})


def classify(verify_code: int) -> str:
    """``name-mismatch``, ``unknown-ca`` or ``other``, from ``SSLCertVerificationError.verify_code``."""
    if verify_code in NAME_MISMATCH_CODES:
        return "name-mismatch"
    if verify_code in UNKNOWN_CA_CODES:
        return "unknown-ca"
    return "other"


def name_mismatch_hint(names: Sequence[str], host: str) -> str:
    """The fix for a certificate that does not name ``host``."""
    covered = ", ".join(names) if names else "no name"
    return (
        f"the relay's certificate covers {covered}, you dialed {host}; make the relay's certificate cover {host}: "
        f"start it with --public-name {host} (development certificate) or give it a tls.certFile whose names include {host}, or dial a name it covers"
    )


def unknown_ca_hint(trust: str, server_fingerprint: str, ca_fingerprint: Optional[str], ca_visible: bool = True) -> str:
    """The fix for a certificate signed by no CA in ``trust`` (``CA file <path>`` or
    ``system trust store``): the fingerprints to compare on the relay host before pinning.
    ``ca_visible`` False: this Python shows only the server certificate (before 3.10), so
    whether the relay sent its CA is not known; the CA's fingerprint is pinned instead."""
    if ca_fingerprint is None and not ca_visible:
        return (
            f"the relay's certificate does not chain to the {trust}; the relay presented server {server_fingerprint} "
            f"(the CA is not visible on this Python, which shows only the server certificate); "
            f"pin the CA: --fingerprint with the output of `dbgrelay certs fingerprint <dataDir>/ca.pem` on the relay host, "
            f"or copy the relay's ca.pem and pass it with --ca"
        )
    presented = f"server {server_fingerprint} and no CA" if ca_fingerprint is None else f"server {server_fingerprint}, CA {ca_fingerprint}"
    file = "server" if ca_fingerprint is None else "ca"
    return (
        f"the relay's certificate does not chain to the {trust}; the relay presented {presented}; "
        f"compare with `dbgrelay certs fingerprint <dataDir>/{file}.pem` on the relay host, "
        f"then pin it with --fingerprint {ca_fingerprint or server_fingerprint} or copy the relay's ca.pem and pass it with --ca"
    )


def trust_description(cafile: Optional[str], pin_hex: Optional[str] = None) -> str:
    """What the agent trusts, in the words of the relay's client (``describeTrust``)."""
    if pin_hex is not None:
        return f"pinned sha256:{pin_hex}"
    return f"CA file {cafile}" if cafile else "system trust store"


def hint_for_chain(verify_code: int, host: str, chain: List[bytes], trust: str) -> Optional[str]:
    """The fix for a failure with ``verify_code`` given the chain (DER, leaf first) the
    relay presented; ``None`` when its kind is ``other`` or the chain is empty."""
    if not chain:
        return None
    kind = classify(verify_code)
    if kind == "name-mismatch":
        return name_mismatch_hint(certificate_names(chain[0]), host)
    if kind == "unknown-ca":
        ca = "sha256:" + fingerprint_der(chain[-1]) if len(chain) > 1 else None
        return unknown_ca_hint(trust, "sha256:" + fingerprint_der(chain[0]), ca, ca_visible=whole_chain_visible())
    return None


def where(host: str, port: int) -> str:
    """``host:port``, with brackets around an IPv6 address."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def explain(exc: ssl.SSLCertVerificationError, host: str, port: int, trust: "RelayTrust") -> Optional[str]:
    """The whole message for a refused relay certificate with its fix, or ``None``
    when there is no fix to name (another kind of failure, or the relay could not be
    asked for its chain again)."""
    if classify(exc.verify_code) == "other":
        return None
    from .relaytrust import fetch_chain  # the bridge's dialing code: not loaded by the debuggee

    try:
        chain = await fetch_chain(host, port, certfile=trust.certfile, keyfile=trust.keyfile)
    except Exception as probe_error:  # the hint is a courtesy: the refusal stands without it
        log.debug("could not fetch the relay's chain to explain a verification failure: %s", probe_error)
        return None
    hint = hint_for_chain(exc.verify_code, host, chain, trust_description(trust.cafile, trust.pin_hex))
    return None if hint is None else f"cannot verify the relay's certificate at {where(host, port)}: {hint}"
