"""Connections to the relay (docs/protocol.md §3–§6): control and data, wss or tcps.

Every connection is a :class:`SocketStream` (TLS with the agent's trust,
:mod:`dbgrelay.trust`); on wss the bridge's own WebSocket client upgrades it
(``wshandshake.py``, ``wsstream.py``), on tcps a hello line opens it. The agent's
credential (:mod:`dbgrelay.credentials`: a bearer token or a secret) travels only in
the ``Authorization`` header (wss) or the hello line (tcps) over a verified TLS
connection; neither is ever logged. Every TCP connection to the relay goes through
``HTTPS_PROXY`` unless ``NO_PROXY`` matches (:mod:`.proxytunnel`). Every socket to
the relay has TCP keepalive, and every data connection a deadline on the relay's
silence (:mod:`.liveness`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from typing import Any, Dict

from .. import protocol
from ..credentials import RelayCredential
from ..errors import DbgRelayError, ProtocolError
from ..relayurl import RelayEndpoint
from ..trust.relaytrust import RelayTrust
from .controlchannels import ControlChannel, LineControl, WsControl
from .liveness import (
    DEFAULT_HEARTBEAT_INTERVAL_MS,
    DEFAULT_HEARTBEAT_TIMEOUT_MS,
    DataHeartbeat,
    RelayLiveness,
    data_heartbeat,
)
from .socketdial import open_socket_stream
from .socketstream import SocketStream
from .streams import CallbackStream
from .wshandshake import UpgradeRefused, upgrade
from .wsstream import WebSocketStream

log = logging.getLogger("dbgrelay.control")

CONNECT_TIMEOUT_S = 10.0
#: Largest WebSocket message on a data connection (the relay's bound is dap.maxMessageBytes).
MAX_DATA_FRAME_BYTES = 16 * 1024 * 1024


class RelayRefused(DbgRelayError):
    """The relay refused us with a protocol error code (AUTH_FAILED, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}", code=code)
        self.relay_message = message


class RelayDialer:
    def __init__(self, endpoint: RelayEndpoint, credential: "RelayCredential | str", trust: RelayTrust, liveness: RelayLiveness = RelayLiveness()) -> None:
        self.endpoint = endpoint
        # a bare str is an agent secret (older callers, benchmarks)
        self._credential = credential if isinstance(credential, RelayCredential) else RelayCredential("secret", credential)
        self.trust = trust
        self.liveness = liveness
        self._registered = (DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_HEARTBEAT_TIMEOUT_MS)

    def note_registered(self, interval_ms: int, timeout_ms: int) -> None:
        """The ``heartbeat`` of the last ``registered`` message: the data connections'
        heartbeat interval and deadline unless :attr:`liveness` sets them."""
        self._registered = (interval_ms, timeout_ms)

    @property
    def data_heartbeat(self) -> DataHeartbeat:
        return data_heartbeat(self.liveness, *self._registered)

    def __repr__(self) -> str:  # never show the secret
        return f"RelayDialer({self.endpoint.display()})"

    async def _ssl(self) -> ssl.SSLContext:
        return await self.trust.context(self.endpoint.host, self.endpoint.port)

    # -- opening a connection ------------------------------------------------
    async def _connect(self) -> SocketStream:
        """A TLS connection to the relay (through the proxy rules), handshake done."""
        return await asyncio.wait_for(
            open_socket_stream(self.endpoint.host, self.endpoint.port, ssl_context=await self._ssl(), server_hostname=self.endpoint.host, to_relay=True, liveness=self.liveness),
            CONNECT_TIMEOUT_S,
        )

    async def _upgrade(self, stream: SocketStream, path: str) -> None:
        """wss: the WebSocket upgrade of ``path`` (below the URL's base path), with the
        credential; a refusal becomes :class:`RelayRefused`."""
        headers = {"Authorization": self._credential.authorization()}
        try:
            await asyncio.wait_for(upgrade(stream, self.endpoint.host_header(), self.endpoint.base_path + path, headers), CONNECT_TIMEOUT_S)
        except UpgradeRefused as exc:
            raise _refusal_from_http(exc) from None

    async def _hello(self, stream: SocketStream, hello: Dict[str, Any]) -> Dict[str, Any]:
        """tcps: send the hello line; the relay's ``ok`` reply (a refusal raises)."""
        await stream.write((protocol.encode(hello) + "\n").encode("utf-8"))
        return _check_hello_reply(await asyncio.wait_for(stream.readline(protocol.MAX_HELLO_BYTES), CONNECT_TIMEOUT_S))

    # -- public --------------------------------------------------------------
    async def open_control(self) -> ControlChannel:
        """The control connection: WebSocket text messages (wss) or lines (tcps)."""
        stream = await self._connect()
        try:
            if self.endpoint.scheme == "wss":
                await self._upgrade(stream, "/v1/agent")
                return WsControl(stream)
            await self._hello(stream, {"dbgrelay": protocol.PROTOCOL_VERSION, "op": "agent", **self._credential.hello_fields()})
            return LineControl(stream)
        except BaseException:
            stream.abort()
            raise

    async def open_data(self, session_id: str) -> CallbackStream:
        """The data connection of session ``session_id``: a :class:`SocketStream`
        (tcps, after the hello line) or :class:`WebSocketStream` (wss), with the
        relay's silence watched (``liveness.py``)."""
        stream = await self._connect()
        heartbeat = self.data_heartbeat
        try:
            if self.endpoint.scheme == "wss":
                await self._upgrade(stream, f"/v1/agent/sessions/{session_id}")
                ws = WebSocketStream(stream, MAX_DATA_FRAME_BYTES)
                ws.start_heartbeat(heartbeat.interval_ms / 1000, heartbeat.timeout_ms / 1000)
                return ws
            # revision 1.7: announce heartbeats; only a relay that answers heartbeatTimeoutMs echoes them
            reply = await self._hello(
                stream, {"dbgrelay": protocol.PROTOCOL_VERSION, "op": "agentData", "sessionId": session_id, "heartbeatMs": heartbeat.interval_ms, **self._credential.hello_fields()}
            )
            relay_timeout_ms = reply.get("heartbeatTimeoutMs")
            if isinstance(relay_timeout_ms, int):
                stream.dap_heartbeat_s = heartbeat.interval_ms / 1000
                stream.watch_silence(relay_timeout_ms / 1000)
            return stream
        except BaseException:
            stream.abort()
            raise


def _check_hello_reply(line: bytes) -> Dict[str, Any]:
    if not line.endswith(b"\n"):
        raise ConnectionError("relay closed the connection before answering the hello line")
    reply = protocol.validate_hello_reply(protocol.decode(line, protocol.MAX_HELLO_BYTES))
    if reply["ok"] is not True:
        raise RelayRefused(reply["error"]["code"], reply["error"]["message"])
    return reply


def _refusal_from_http(response: Any) -> RelayRefused:
    status = getattr(response, "status_code", "?")
    try:
        body = protocol.validate_http_error(json.loads(bytes(response.body or b"").decode("utf-8")))
        return RelayRefused(body["error"]["code"], body["error"]["message"])
    except (ValueError, ProtocolError, UnicodeDecodeError, RecursionError):  # RecursionError: a body nested too deep
        return RelayRefused("HTTP_%s" % status, f"relay answered HTTP {status}")
