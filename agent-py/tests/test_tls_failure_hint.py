"""A relay certificate that does not verify is reported with its fix, in the words of
the relay's own client (test/fixtures/tlsFailureHintVectors.json): a real TLS server
on loopback whose certificate names another host, and one signed by a CA the agent
does not trust."""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
from pathlib import Path
from typing import Any, List

import pytest
from conftest import Certs
from fakerelay import FakeRelay
from test_bridge_relay import SECRET, make_bridge, until

from dbgrelay.trust.certnames import certificate_names
from dbgrelay.trust.failurehint import classify, name_mismatch_hint, unknown_ca_hint

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "test" / "fixtures" / "tlsFailureHintVectors.json").read_text("utf-8"))


@pytest.mark.parametrize("vector", VECTORS["nameMismatch"], ids=lambda v: v["host"])
def test_name_mismatch_text_is_the_relay_clients(vector: Any) -> None:
    assert name_mismatch_hint(vector["names"], vector["host"]) == vector["text"]


@pytest.mark.parametrize("vector", VECTORS["unknownCa"], ids=lambda v: v["trust"])
def test_unknown_ca_text_is_the_relay_clients(vector: Any) -> None:
    assert unknown_ca_hint(vector["trust"], vector["server"], vector["ca"]) == vector["text"]


@pytest.mark.parametrize("vector", VECTORS["unknownCaLeafOnly"], ids=lambda v: v["trust"])
def test_unknown_ca_on_a_python_that_shows_only_the_leaf_recommends_pinning_the_ca(vector: Any) -> None:
    assert unknown_ca_hint(vector["trust"], vector["server"], None, ca_visible=False) == vector["text"]
    assert "no CA" not in vector["text"]


def test_a_chain_of_one_on_a_python_that_shows_only_the_leaf_is_not_called_a_relay_without_ca(monkeypatch: pytest.MonkeyPatch, certs: Certs) -> None:
    import dbgrelay.trust.failurehint as failurehint

    monkeypatch.setattr(failurehint, "whole_chain_visible", lambda: False)
    hint = failurehint.hint_for_chain(20, "127.0.0.1", [certs.der("server")], "system trust store")
    assert hint is not None and "the CA is not visible on this Python" in hint and "and no CA" not in hint
    monkeypatch.setattr(failurehint, "whole_chain_visible", lambda: True)
    assert "and no CA" in (failurehint.hint_for_chain(20, "127.0.0.1", [certs.der("server")], "system trust store") or "")


def test_classify_openssl_codes() -> None:
    assert [classify(code) for code in (62, 64)] == ["name-mismatch"] * 2
    assert [classify(code) for code in (2, 18, 19, 20, 21)] == ["unknown-ca"] * 5
    assert classify(10) == "other"  # X509_V_ERR_CERT_HAS_EXPIRED


def test_certificate_names_reads_the_subject_alt_name(certs: Certs) -> None:
    assert certificate_names(certs.der("server")) == ["127.0.0.1", "localhost"]
    assert certificate_names(certs.der("ca")) == []
    assert certificate_names(b"\x30\x03\x02\x01") == []  # cut short: no names, no exception


def elsewhere_context(certs: Certs) -> ssl.SSLContext:
    """A server context whose certificate (signed by the test CA) names relay.example.com and 10.0.0.5, not loopback."""
    root = certs.root
    if not (root / "elsewhere.pem").exists():
        (root / "elsewhere.cnf").write_text("subjectAltName=DNS:relay.example.com,IP:10.0.0.5,IP:fd00::5\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")

        def run(*args: str) -> None:
            subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=root)

        run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "elsewhere.key", "-out", "elsewhere.csr", "-subj", "/CN=relay.example.com")
        run("x509", "-req", "-in", "elsewhere.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "elsewhere.pem", "-days", "2", "-extfile", "elsewhere.cnf")
        (root / "elsewhere-chain.pem").write_text((root / "elsewhere.pem").read_text() + (root / "ca.pem").read_text())
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(root / "elsewhere-chain.pem"), str(root / "elsewhere.key"))
    return ctx


def refusal(server_context: ssl.SSLContext, **trust: Any) -> "tuple[List[Any], int, FakeRelay]":
    """The first refusal the bridge reports for a tcps relay presenting ``server_context``'s certificate."""

    async def main() -> "tuple[List[Any], int, FakeRelay]":
        relay = FakeRelay(server_context, SECRET)
        port = await relay.start_tcps()
        events: List[Any] = []
        bridge = make_bridge("tcps", port, 1, events, **trust)
        bridge.control.start()
        await until(lambda: events)
        await bridge.control.stop()
        return events, port, relay

    return asyncio.run(main())


@pytest.mark.parametrize("trust", ["cafile", "pinned CA"])
def test_a_name_the_certificate_does_not_cover_names_public_name(trust: str, certs: Certs, caplog: pytest.LogCaptureFixture) -> None:
    options = {"cafile": certs.ca} if trust == "cafile" else {"fingerprint": certs.fingerprint("ca")}
    events, port, relay = refusal(elsewhere_context(certs), **options)
    expected = f"cannot verify the relay's certificate at 127.0.0.1:{port}: " + name_mismatch_hint(["relay.example.com", "10.0.0.5", "fd00::5"], "127.0.0.1")
    assert events[0] == {"event": "refused", "code": "TLS_VERIFY_FAILED", "message": expected}
    assert "start it with --public-name 127.0.0.1 (development certificate) or give it a tls.certFile whose names include 127.0.0.1" in caplog.text
    assert not relay.hellos, "nothing may be sent to a relay whose certificate did not verify"


def test_a_ca_file_that_did_not_sign_it_names_the_file_and_the_presented_fingerprints(certs: Certs) -> None:
    events, port, relay = refusal(certs.server_context(), cafile=certs.other_ca)
    hint = unknown_ca_hint(f"CA file {certs.other_ca}", certs.fingerprint("server"), certs.fingerprint("ca"))
    assert events[0]["code"] == "TLS_VERIFY_FAILED"
    assert events[0]["message"] == f"cannot verify the relay's certificate at 127.0.0.1:{port}: {hint}"
    assert not relay.hellos
