"""The agent's TLS policy (dbgrelay.trust.policy) on both sides: the direct endpoint's
server context and the bridge's contexts for the relay offer TLS 1.2 suites with
ECDHE and AEAD only (TLS 1.3 as is) and refuse renegotiation. The test certificates
are ECDSA, so the ECDHE-ECDSA CBC suites are the weak ones a listener could take.
(test/e2e/tlsSuites.test.ts probes the running direct endpoint, renegotiation included.)"""

from __future__ import annotations

import socket
import ssl
import threading
from typing import List, Optional

import pytest
from conftest import Certs

from dbgrelay.trust.contexts import client_context, context_for_ca, context_for_pinned, server_context
from dbgrelay.trust.policy import TLS12_CIPHERS

WEAK = ["ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384", "ECDHE-ECDSA-AES128-SHA256"]
STRONG = ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"]


def handshake(server: ssl.SSLContext, client: ssl.SSLContext) -> Optional[str]:
    """One TLS handshake over a loopback socket pair: the cipher, or None when it failed."""
    left, right = socket.socketpair()
    result: List[Optional[str]] = [None]

    def serve() -> None:
        try:
            with server.wrap_socket(left, server_side=True) as tls:
                result[0] = (tls.cipher() or (None,))[0]
        except (ssl.SSLError, OSError):
            left.close()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with client.wrap_socket(right, server_hostname="localhost"):
            pass
    except (ssl.SSLError, OSError):
        right.close()
    thread.join(5)
    return result[0]


def tls12_client(ciphers: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(ciphers)
    return ctx


def tls12_server(certs: Certs, ciphers: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(ciphers)
    ctx.load_cert_chain(certs.chain, certs.key)
    return ctx


def test_the_tls12_list_is_ecdhe_with_aead_only() -> None:
    for suite in TLS12_CIPHERS.split(":"):
        assert suite.startswith("ECDHE-") and ("-GCM-" in suite or suite.endswith("CHACHA20-POLY1305")), suite


@pytest.mark.parametrize("suite", WEAK)
def test_direct_endpoint_refuses_a_weak_suite(certs: Certs, suite: str) -> None:
    assert handshake(server_context(certs.chain, certs.key), tls12_client(suite)) is None


@pytest.mark.parametrize("suite", STRONG)
def test_direct_endpoint_takes_an_ecdhe_aead_suite(certs: Certs, suite: str) -> None:
    assert handshake(server_context(certs.chain, certs.key), tls12_client(suite)) == suite


def test_direct_endpoint_speaks_tls13_and_refuses_renegotiation(certs: Certs) -> None:
    ctx = server_context(certs.chain, certs.key)
    assert ctx.options & ssl.OP_NO_RENEGOTIATION
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname, client.verify_mode = False, ssl.CERT_NONE
    assert handshake(ctx, client) in {"TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"}


def bridge_client(certs: Certs, which: str) -> ssl.SSLContext:
    """The bridge's context for a relay trusted by CA file, by a pinned CA, or the
    unverified probe that fetches the chain to find a pin."""
    if which == "ca":
        return context_for_ca(certs.ca)
    if which == "pinned":
        return context_for_pinned(certs.der("ca"), False)
    probe = client_context()
    probe.check_hostname, probe.verify_mode = False, ssl.CERT_NONE
    return probe


@pytest.mark.parametrize("which", ["ca", "pinned", "probe"])
def test_bridge_contexts_offer_only_ecdhe_aead(certs: Certs, which: str) -> None:
    assert bridge_client(certs, which).options & ssl.OP_NO_RENEGOTIATION
    assert handshake(tls12_server(certs, ":".join(WEAK)), bridge_client(certs, which)) is None
    strong = "ECDHE-ECDSA-AES256-GCM-SHA384"
    assert handshake(tls12_server(certs, strong), bridge_client(certs, which)) == strong
