"""HTTPS_PROXY / NO_PROXY for the agent's bridge: the same NO_PROXY rows as the
TypeScript client's test/unit/dial/noProxy.test.ts (keep them in step), proxy URL
parsing, and the CONNECT tunnel against a small proxy on loopback."""

from __future__ import annotations

import asyncio
import base64

import pytest

from dbgrelay.bridge.proxytunnel import open_relay_socket, open_tunnel
from dbgrelay.errors import ConfigError
from dbgrelay.proxyenv import no_proxy_matches, parse_proxy_url, proxy_for_relay

ROWS = [
    ("", "relay.example.com", 443, False),
    ("*", "relay.example.com", 443, True),
    ("example.com", "example.com", 443, True),
    ("example.com", "relay.example.com", 443, True),
    (".example.com", "relay.example.com", 443, True),
    ("*.example.com", "relay.example.com", 443, True),
    (".example.com", "example.com", 443, True),
    ("example.com", "notexample.com", 443, False),
    ("EXAMPLE.com", "Relay.Example.COM", 443, True),
    ("example.com:7443", "relay.example.com", 7443, True),
    ("example.com:7443", "relay.example.com", 7444, False),
    ("other.org, example.com", "relay.example.com", 443, True),
    ("other.org  example.com", "relay.example.com", 443, True),
    ("localhost", "127.0.0.1", 7443, False),
    ("127.0.0.1", "localhost", 7443, False),
    ("127.0.0.1", "127.0.0.1", 7443, True),
    ("127.0.0.1:7443", "127.0.0.1", 7443, True),
    ("127.0.0.1:7443", "127.0.0.1", 7444, False),
    ("127.0.0.0/8", "127.0.0.2", 7443, True),
    ("10.0.0.0/8", "11.0.0.1", 7443, False),
    ("10.0.0.0/8", "10.example.com", 7443, False),
    ("::1", "::1", 7443, True),
    ("[::1]:7443", "::1", 7443, True),
    ("[::1]:7443", "::1", 7444, False),
    ("fd00::/8", "fd12::5", 7443, True),
    ("fd00::/8", "10.0.0.1", 7443, False),
    ("relay.example.com.", "relay.example.com", 443, True),
    (",, ,", "relay.example.com", 443, False),
]


@pytest.mark.parametrize("no_proxy,host,port,bypass", ROWS)
def test_no_proxy_rows(no_proxy: str, host: str, port: int, bypass: bool) -> None:
    assert no_proxy_matches(no_proxy, host, port) is bypass


def test_variable_precedence_and_loopback_not_exempt() -> None:
    env = {"HTTPS_PROXY": "http://upper:3128", "https_proxy": "http://lower:3128"}
    assert proxy_for_relay("relay.example", 443, env).display() == "http://lower:3128"
    assert proxy_for_relay("relay.example", 443, {"HTTPS_PROXY": "upper:3128"}).source == "HTTPS_PROXY"
    assert proxy_for_relay("relay.example", 443, {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "relay.example"}) is None
    assert proxy_for_relay("relay.example", 443, {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "relay.example", "no_proxy": "other"}) is not None
    assert proxy_for_relay("relay.example", 443, {"HTTP_PROXY": "http://p:3128", "ALL_PROXY": "http://p:1"}) is None
    assert proxy_for_relay("127.0.0.1", 7443, {"HTTPS_PROXY": "http://p:3128"}) is not None


def test_proxy_url_credentials_stay_out_of_what_is_shown() -> None:
    proxy = parse_proxy_url("http://us%40er:p%3Ass@proxy.corp:8080/", "HTTPS_PROXY")
    assert (proxy.host, proxy.port, proxy.display()) == ("proxy.corp", 8080, "http://proxy.corp:8080")
    assert proxy.authorization == "Basic " + base64.b64encode(b"us@er:p:ss").decode()
    assert "p:ss" not in repr(proxy) and "p%3Ass" not in repr(proxy)
    assert parse_proxy_url("http://[::1]", "x").display() == "http://[::1]:80"


@pytest.mark.parametrize(
    "url,message",
    [
        ("https://proxy:3128", "proxy scheme https:// is not supported"),
        ("socks5://proxy:1080", "proxy scheme socks5:// is not supported"),
        ("http://proxy:99999", "not a valid proxy URL"),
    ],
)
def test_bad_proxy_urls(url: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_proxy_url(url, "HTTPS_PROXY")
    assert str(info.value).startswith(f"HTTPS_PROXY: {message}")


async def _fake_proxy(reply: bytes, heads: list) -> asyncio.base_events.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(reply)
        await writer.drain()
        data = await reader.read(100)
        writer.write(data)  # echo: the tunnel carries bytes both ways
        await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


def test_tunnel_sends_connect_with_credentials_and_carries_bytes() -> None:
    async def run() -> None:
        heads: list = []
        server = await _fake_proxy(b"HTTP/1.1 200 Connection Established\r\n\r\n", heads)
        port = server.sockets[0].getsockname()[1]
        loop = asyncio.get_running_loop()
        sock = await open_tunnel(parse_proxy_url(f"http://u:p@127.0.0.1:{port}", "HTTPS_PROXY"), "::1", 7444)
        await loop.sock_sendall(sock, b"ping")
        assert await loop.sock_recv(sock, 100) == b"ping"
        sock.close()
        server.close()
        auth = base64.b64encode(b"u:p").decode()
        assert heads == [f"CONNECT [::1]:7444 HTTP/1.1\r\nHost: [::1]:7444\r\nProxy-Authorization: Basic {auth}\r\n\r\n".encode()]

    asyncio.run(run())


def test_tunnel_refusal_names_the_proxy_and_status_not_the_password() -> None:
    async def run() -> None:
        server = await _fake_proxy(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n", [])
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(ConnectionError) as info:
            await open_tunnel(parse_proxy_url(f"http://user:hunter2@127.0.0.1:{port}", "https_proxy"), "relay.example", 443)
        server.close()
        message = str(info.value)
        assert message == (
            f"the proxy http://127.0.0.1:{port} (https_proxy) refused CONNECT relay.example:443: HTTP/1.1 407 Proxy Authentication Required (the proxy refused its credentials)"
        )
        assert "hunter2" not in message

    asyncio.run(run())


def test_relay_socket_goes_direct_when_no_proxy_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    async def run() -> None:
        server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # discard port: using it would fail
        monkeypatch.setenv("NO_PROXY", f"127.0.0.1:{port}")
        monkeypatch.delenv("https_proxy", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        sock = await open_relay_socket("127.0.0.1", port)
        assert sock.getpeername()[1] == port
        sock.close()
        monkeypatch.setenv("NO_PROXY", "127.0.0.1:1")
        with pytest.raises(ConnectionError, match=r"cannot reach the proxy http://127\.0\.0\.1:9 \(HTTPS_PROXY\)"):
            await open_relay_socket("127.0.0.1", port)
        server.close()

    asyncio.run(run())
