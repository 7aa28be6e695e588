"""Connections to the relay (docs/protocol.md §3–§6): control and data, wss or tcps.

The agent's credential (:mod:`dbgrelay.credentials`: a bearer token or a secret)
travels only in the ``Authorization`` header (wss) or the hello line
(tcps) over a verified TLS connection; neither is ever logged. Every TCP connection
to the relay goes through ``HTTPS_PROXY`` unless ``NO_PROXY`` matches
(:mod:`.proxytunnel`); websockets' own proxy handling is off, so one rule applies.
Every socket to the relay has TCP keepalive, and every data connection a deadline on
the relay's silence (:mod:`.liveness`).
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import logging
import ssl
from typing import Any, Dict, Optional, Protocol

from .. import protocol
from ..credentials import RelayCredential
from ..errors import DbgRelayError, ProtocolError
from ..relayurl import RelayEndpoint
from .streams import ByteStream, TcpByteStream, WebSocketByteStream, set_nodelay_on_transport
from .socketdial import open_socket_stream
from .connectors import callback_pumps_enabled
from .liveness import (
    DEFAULT_HEARTBEAT_INTERVAL_MS,
    DEFAULT_HEARTBEAT_TIMEOUT_MS,
    DataHeartbeat,
    RelayLiveness,
    data_heartbeat,
    set_keepalive,
)
from .proxytunnel import open_relay_socket
from .wsstream import UpgradeRefused, open_websocket
from .trust import RelayTrust

log = logging.getLogger("dbgrelay.control")
# websockets logs handshake headers (the Authorization header!) at DEBUG: keep it quiet
_WS_LOG = logging.getLogger("dbgrelay.websockets")
_WS_LOG.setLevel(logging.WARNING)

CONNECT_TIMEOUT_S = 10.0
#: Largest WebSocket message on a data connection (the relay's bound is dap.maxMessageBytes).
MAX_DATA_FRAME_BYTES = 16 * 1024 * 1024


class RelayRefused(DbgRelayError):
    """The relay refused us with a protocol error code (AUTH_FAILED, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}", code=code)
        self.relay_message = message


class ControlChannel(Protocol):
    async def send(self, message: Dict[str, Any]) -> None: ...
    async def recv(self) -> Optional[Dict[str, Any]]:
        """Next validated message; None when the connection closed."""
    async def close(self) -> None: ...


def basic_auth(secret: str) -> str:
    return "Basic " + base64.b64encode((secret + ":").encode("utf-8")).decode("ascii")


class RelayDialer:
    def __init__(self, endpoint: RelayEndpoint, credential: "RelayCredential | str", trust: RelayTrust,
                 liveness: RelayLiveness = RelayLiveness()) -> None:
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

    # -- wss -----------------------------------------------------------------
    async def _ws(self, path: str, heartbeat: Optional[DataHeartbeat] = None) -> Any:
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidStatus

        extra: Dict[str, Any] = {}
        if "proxy" in inspect.signature(connect.__init__).parameters:
            extra["proxy"] = None  # websockets >= 15 would otherwise honour *_PROXY env
        ctx = await self._ssl()
        sock = await asyncio.wait_for(open_relay_socket(self.endpoint.host, self.endpoint.port), CONNECT_TIMEOUT_S)
        set_keepalive(sock, self.liveness)
        if heartbeat is not None:  # a data connection: websockets pings and applies the deadline
            extra["ping_interval"] = heartbeat.interval_ms / 1000
            extra["ping_timeout"] = (heartbeat.timeout_ms - heartbeat.interval_ms) / 1000
        else:
            extra["ping_interval"] = None
        try:
            ws = await connect(
                self.endpoint.ws_url(path),
                sock=sock,
                ssl=ctx,
                server_hostname=self.endpoint.host,
                additional_headers={"Authorization": self._credential.authorization()},
                open_timeout=CONNECT_TIMEOUT_S,
                max_size=MAX_DATA_FRAME_BYTES,
                compression=None,
                logger=_WS_LOG,
                **extra,
            )
        except InvalidStatus as exc:
            sock.close()
            raise _refusal_from_http(exc.response) from None
        except BaseException:
            sock.close()
            raise
        set_nodelay_on_transport(ws.transport)
        return ws

    # -- tcps ----------------------------------------------------------------
    async def _tcps(self, hello: Dict[str, Any]) -> TcpByteStream:
        ctx = await self._ssl()
        sock = await asyncio.wait_for(open_relay_socket(self.endpoint.host, self.endpoint.port), CONNECT_TIMEOUT_S)
        set_keepalive(sock, self.liveness)
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    sock=sock, ssl=ctx, server_hostname=self.endpoint.host,
                    limit=protocol.MAX_CONTROL_MESSAGE_BYTES,
                ),
                CONNECT_TIMEOUT_S,
            )
        except BaseException:
            sock.close()
            raise
        stream = TcpByteStream(reader, writer)
        try:
            writer.write((protocol.encode(hello) + "\n").encode("utf-8"))
            await writer.drain()
            _check_hello_reply(await asyncio.wait_for(reader.readline(), CONNECT_TIMEOUT_S))
        except BaseException:
            await stream.close()
            raise
        return stream

    # -- public --------------------------------------------------------------
    async def open_control(self) -> ControlChannel:
        if self.endpoint.scheme == "wss":
            return WsControl(await self._ws("/v1/agent"))
        hello = {"dbgrelay": protocol.PROTOCOL_VERSION, "op": "agent", **self._credential.hello_fields()}
        return LineControl(await self._tcps(hello))

    async def open_data(self, session_id: str) -> ByteStream:
        """The data connection of session ``session_id``: a :class:`SocketStream`
        (tcps, after the hello line) or :class:`WebSocketStream` (wss), so the session
        runs its callback pumps; asyncio streams when those are turned off."""
        if not callback_pumps_enabled():
            return await self._open_data_asyncio(session_id)
        stream = await asyncio.wait_for(
            open_socket_stream(self.endpoint.host, self.endpoint.port, ssl_context=await self._ssl(),
                               server_hostname=self.endpoint.host, to_relay=True, liveness=self.liveness),
            CONNECT_TIMEOUT_S,
        )
        heartbeat = self.data_heartbeat
        try:
            if self.endpoint.scheme == "wss":
                path = f"{self.endpoint.base_path}/v1/agent/sessions/{session_id}"
                headers = {"Authorization": self._credential.authorization()}
                try:
                    ws = await asyncio.wait_for(
                        open_websocket(stream, self.endpoint.host_header(), path, headers, MAX_DATA_FRAME_BYTES),
                        CONNECT_TIMEOUT_S,
                    )
                except UpgradeRefused as exc:
                    raise _refusal_from_http(exc) from None
                ws.start_heartbeat(heartbeat.interval_ms / 1000, heartbeat.timeout_ms / 1000)
                return ws
            # revision 1.7: announce heartbeats; only a relay that answers heartbeatTimeoutMs echoes them
            hello = {"dbgrelay": protocol.PROTOCOL_VERSION, "op": "agentData", "sessionId": session_id,
                     "heartbeatMs": heartbeat.interval_ms, **self._credential.hello_fields()}
            await stream.write((protocol.encode(hello) + "\n").encode("utf-8"))
            reply = _check_hello_reply(await asyncio.wait_for(stream.readline(protocol.MAX_HELLO_BYTES),
                                                              CONNECT_TIMEOUT_S))
            relay_timeout_ms = reply.get("heartbeatTimeoutMs")
            if isinstance(relay_timeout_ms, int):
                stream.dap_heartbeat_s = heartbeat.interval_ms / 1000
                stream.watch_silence(relay_timeout_ms / 1000)
            return stream
        except BaseException:
            stream.abort()
            raise

    async def _open_data_asyncio(self, session_id: str) -> ByteStream:
        if self.endpoint.scheme == "wss":
            return WebSocketByteStream(await self._ws(f"/v1/agent/sessions/{session_id}", self.data_heartbeat))
        hello = {"dbgrelay": protocol.PROTOCOL_VERSION, "op": "agentData", "sessionId": session_id,
                 **self._credential.hello_fields()}
        return await self._tcps(hello)


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


class WsControl:
    def __init__(self, ws: Any) -> None:
        self.ws = ws

    async def send(self, message: Dict[str, Any]) -> None:
        await self.ws.send(protocol.encode(message))

    async def recv(self) -> Optional[Dict[str, Any]]:
        from websockets.exceptions import ConnectionClosed

        try:
            frame = await self.ws.recv()
        except ConnectionClosed:
            return None
        return protocol.parse_control(frame)

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.ws.close(), 2.0)
        except Exception:
            pass


class LineControl:
    def __init__(self, stream: TcpByteStream) -> None:
        self.stream = stream

    async def send(self, message: Dict[str, Any]) -> None:
        await self.stream.write((protocol.encode(message) + "\n").encode("utf-8"))

    async def recv(self) -> Optional[Dict[str, Any]]:
        try:
            line = await self.stream.reader.readline()
        except ValueError:  # asyncio's LimitOverrunError surfaces as ValueError
            raise ProtocolError("control message too large", code="MESSAGE_TOO_LARGE") from None
        except (OSError, ConnectionError):
            return None
        if not line:
            return None
        return protocol.parse_control(line)

    async def close(self) -> None:
        await self.stream.close()
