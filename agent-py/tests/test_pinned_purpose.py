"""The agent's trust refuses a client certificate presented as the relay's.

A certificate with ``extendedKeyUsage=clientAuth`` only (what ``dbgrelay certs client``
makes), signed by the CA the agent trusts, is not a relay certificate: with a pin on
that CA, a pin on the certificate itself, or the CA file, the TLS handshake fails
before a byte (a secret) is sent. OpenSSL checks the serverAuth purpose on every path
(the TypeScript client's pinned path checks it by hand, see src/dial/tlsTrust.ts).
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import subprocess
from pathlib import Path
from typing import List, Tuple

import pytest
from conftest import Certs

from dbgrelay.trust.relaytrust import RelayTrust


def make_client_only_cert(certs: Certs, tmp: Path) -> Tuple[str, str, bytes]:
    """A clientAuth-only certificate for 127.0.0.1/localhost signed by the fixture CA:
    (chain file leaf + CA, key file, leaf DER). Its names match, so only its purpose is wrong."""

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=tmp)

    (tmp / "client.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=localhost")
    run("x509", "-req", "-in", "client.csr", "-CA", certs.ca, "-CAkey", str(certs.root / "ca.key"), "-CAcreateserial", "-out", "client.pem", "-days", "2", "-extfile", "client.cnf")
    leaf_pem = (tmp / "client.pem").read_text()
    (tmp / "client-chain.pem").write_text(leaf_pem + Path(certs.ca).read_text())
    return str(tmp / "client-chain.pem"), str(tmp / "client.key"), ssl.PEM_cert_to_DER_cert(leaf_pem)


@pytest.mark.parametrize("trust_kind", ["pinned-ca", "pinned-leaf", "ca-file"])
def test_client_certificate_is_refused_as_the_relay(certs: Certs, tmp_path: Path, trust_kind: str) -> None:
    chain, key, leaf_der = make_client_only_cert(certs, tmp_path)
    received: List[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            received.append(await asyncio.wait_for(reader.read(4096), 2))
        except Exception:
            pass
        writer.close()

    async def main() -> None:
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.load_cert_chain(chain, key)
        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_ctx)
        port = server.sockets[0].getsockname()[1]
        async with server:
            if trust_kind == "pinned-ca":
                trust = RelayTrust(pin_hex=hashlib.sha256(certs.der("ca")).hexdigest())
            elif trust_kind == "pinned-leaf":
                trust = RelayTrust(pin_hex=hashlib.sha256(leaf_der).hexdigest())
            else:
                trust = RelayTrust(cafile=certs.ca)
            ctx = await trust.context("127.0.0.1", port)
            with pytest.raises(ssl.SSLCertVerificationError) as refused:
                _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="127.0.0.1")
                writer.write(b'{"secret":"must-not-arrive"}\n')
                await writer.drain()
                writer.close()
            assert "purpose" in str(refused.value)

    asyncio.run(main())
    assert b"must-not-arrive" not in b"".join(received)
