"""mTLS on the agent side: client certificate options and what the bridge presents."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from pathlib import Path
from typing import List, Optional, Tuple

import pytest
from conftest import Certs

from dbgrelay.cliparser import build_parser as _parser
from dbgrelay.errors import ConfigError, TrustError
from dbgrelay.trust.clientcert import check_client_certificate
from dbgrelay.trust.pinning import parse_fingerprint
from dbgrelay.trust.relaytrust import RelayTrust


def make_client_cert(certs: Certs, tmp: Path, name: str, ca: str = "ca") -> Tuple[str, str]:
    """A client certificate with CN ``name`` signed by the fixture CA ``ca``."""

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=tmp)

    (tmp / "client.cnf").write_text("basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
    run(
        "x509",
        "-req",
        "-in",
        f"{name}.csr",
        "-CA",
        str(certs.root / f"{ca}.pem"),
        "-CAkey",
        str(certs.root / f"{ca}.key"),
        "-CAcreateserial",
        "-out",
        f"{name}.pem",
        "-days",
        "2",
        "-extfile",
        "client.cnf",
    )
    return str(tmp / f"{name}.pem"), str(tmp / f"{name}.key")


async def mtls_server(certs: Certs, seen: List[Optional[str]]) -> Tuple[asyncio.AbstractServer, int]:
    """A TLS server that requires a client certificate from the fixture CA and records its CN."""
    ctx = certs.server_context()
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(certs.ca)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peercert") or {}
        cn = next((value for rdn in peer.get("subject", ()) for key, value in rdn if key == "commonName"), None)
        seen.append(cn)
        writer.write(b"hello\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
    return server, server.sockets[0].getsockname()[1]


async def read_greeting(ctx: ssl.SSLContext, port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="127.0.0.1")
    try:
        return await asyncio.wait_for(reader.readline(), 5)
    finally:
        writer.close()


def test_options_need_both_files_that_belong_together(certs: Certs, tmp_path: Path) -> None:
    cert, key = make_client_cert(certs, tmp_path, "agent-1")
    other_cert, _ = make_client_cert(certs, tmp_path, "agent-2")
    assert check_client_certificate(None, None) == (None, None)
    assert check_client_certificate(cert, key) == (cert, key)
    with pytest.raises(ConfigError, match="both"):
        check_client_certificate(cert, None)
    with pytest.raises(ConfigError, match="does not exist"):
        check_client_certificate(cert, str(tmp_path / "missing.key"))
    with pytest.raises(ConfigError, match="cannot use the client certificate") as info:
        check_client_certificate(other_cert, key)
    assert "PRIVATE KEY" not in str(info.value)


def test_cli_takes_client_cert_and_key() -> None:
    args = _parser().parse_args(["--relay", "tcps://h:1", "--name", "w", "--client-cert", "c.pem", "--client-key", "k.pem", "app.py"])
    assert (args.client_cert, args.client_key) == ("c.pem", "k.pem")


@pytest.mark.parametrize("pinned", [False, True])
def test_bridge_presents_the_client_certificate(certs: Certs, tmp_path: Path, pinned: bool) -> None:
    cert, key = make_client_cert(certs, tmp_path, "agent-web")

    async def main() -> List[Optional[str]]:
        seen: List[Optional[str]] = []
        server, port = await mtls_server(certs, seen)
        async with server:
            if pinned:  # the pin probe presents the certificate too
                trust = RelayTrust(pin_hex=parse_fingerprint(certs.fingerprint("ca")), certfile=cert, keyfile=key)
            else:
                trust = RelayTrust(cafile=certs.ca, certfile=cert, keyfile=key)
            assert await read_greeting(await trust.context("127.0.0.1", port), port) == b"hello\n"
        return seen

    assert asyncio.run(main())[-1] == "agent-web"


def test_without_a_client_certificate_the_server_refuses(certs: Certs) -> None:
    async def main() -> None:
        seen: List[Optional[str]] = []
        server, port = await mtls_server(certs, seen)
        async with server:
            ctx = await RelayTrust(cafile=certs.ca).context("127.0.0.1", port)
            with pytest.raises((ssl.SSLError, ConnectionError, asyncio.IncompleteReadError)):
                greeting = await read_greeting(ctx, port)
                if not greeting:  # TLS 1.3: the refusal arrives after the handshake
                    raise ConnectionError("closed")
        assert seen == []

    asyncio.run(main())


def test_unloadable_client_certificate_is_a_trust_error(certs: Certs, tmp_path: Path) -> None:
    cert, _ = make_client_cert(certs, tmp_path, "agent-3")

    async def main() -> None:
        with pytest.raises(TrustError, match="cannot use the client certificate"):
            await RelayTrust(cafile=certs.ca, certfile=cert, keyfile=certs.key).context("127.0.0.1", 1)

    asyncio.run(main())
