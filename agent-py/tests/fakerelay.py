"""A minimal relay for agent tests: tcps and wss, docs/protocol.md v1, one agent."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any, Dict, List, Optional

from dbgrelay import protocol


class FakeRelay:
    def __init__(
        self,
        ssl_ctx: Any,
        secret: str,
        heartbeat: Dict[str, int] = None,  # type: ignore[assignment]
        token: Optional[str] = None,
    ) -> None:
        self.ssl_ctx = ssl_ctx
        self.secret = secret
        self.token = token  # also accepted: a bearer token (hello "token", Authorization: Bearer)
        self.heartbeat = heartbeat or {"intervalMs": 200, "timeoutMs": 1000}
        self.registers: List[Dict[str, Any]] = []
        self.hellos: List[Dict[str, Any]] = []
        self.auth_headers: List[Optional[str]] = []
        self.pongs: List[int] = []
        self.open_failed: List[Dict[str, Any]] = []
        #: other agent messages (e.g. revision 1.8 ``guard`` and ``status``)
        self.notices: List[Dict[str, Any]] = []
        self.control_connected = asyncio.Event()
        self.control_closed = asyncio.Event()
        self._control_send: Any = None
        self._data: Dict[str, "asyncio.Future[Any]"] = {}
        self.send_pings = True
        #: Revision 1.7: answer an agentData hello's heartbeatMs with this heartbeatTimeoutMs.
        self.data_heartbeat_timeout_ms: Optional[int] = None

    # -- tcps ----------------------------------------------------------------
    async def start_tcps(self) -> int:
        self.tcps = await asyncio.start_server(self._tcps_conn, "127.0.0.1", 0, ssl=self.ssl_ctx)
        return self.tcps.sockets[0].getsockname()[1]

    async def _tcps_conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
        except Exception:
            writer.close()
            return
        if not line:
            writer.close()
            return
        hello = protocol.validate_hello(json.loads(line))
        self.hellos.append(hello)
        if hello.get("secret") != self.secret and not (self.token and hello.get("token") == self.token):
            writer.write(b'{"ok":false,"error":{"code":"AUTH_FAILED","message":"credential refused"}}\n')
            await writer.drain()
            writer.close()
            return
        if hello["op"] == "agentData" and "heartbeatMs" in hello and self.data_heartbeat_timeout_ms:
            writer.write(b'{"ok":true,"heartbeatTimeoutMs":%d}\n' % self.data_heartbeat_timeout_ms)
        else:
            writer.write(b'{"ok":true}\n')
        await writer.drain()
        if hello["op"] == "agent":

            async def send(m: Dict[str, Any]) -> None:
                writer.write((json.dumps(m) + "\n").encode())
                await writer.drain()

            async def recv() -> Optional[Dict[str, Any]]:
                line = await reader.readline()
                return json.loads(line) if line else None

            await self._control(send, recv)
            writer.close()
        elif hello["op"] == "agentData":
            self._data[hello["sessionId"]].set_result(("tcps", reader, writer))

    # -- wss -----------------------------------------------------------------
    async def start_wss(self) -> int:
        from websockets.asyncio.server import serve
        from websockets.datastructures import Headers
        from websockets.http11 import Response

        def auth(connection: Any, request: Any) -> Any:
            header = request.headers.get("Authorization")
            self.auth_headers.append(header)
            expected = "Basic " + base64.b64encode((self.secret + ":").encode()).decode()
            if header != expected and not (self.token and header == "Bearer " + self.token):
                body = b'{"error":{"code":"AUTH_FAILED","message":"credential refused"}}'
                return Response(401, "Unauthorized", Headers({"Content-Type": "application/json"}), body)
            return None

        # no pings of its own: a test can make a data connection go silent (pause its transport)
        self.wss = await serve(self._wss_conn, "127.0.0.1", 0, ssl=self.ssl_ctx, process_request=auth, ping_interval=None)
        return self.wss.sockets[0].getsockname()[1] if hasattr(self.wss, "sockets") else list(self.wss.server.sockets)[0].getsockname()[1]

    async def _wss_conn(self, ws: Any) -> None:
        path = ws.request.path
        if path.endswith("/v1/agent"):

            async def send(m: Dict[str, Any]) -> None:
                await ws.send(json.dumps(m))

            async def recv() -> Optional[Dict[str, Any]]:
                try:
                    return json.loads(await ws.recv())
                except Exception:
                    return None

            await self._control(send, recv)
        elif "/v1/agent/sessions/" in path:
            sid = path.rsplit("/", 1)[1]
            done = asyncio.get_running_loop().create_future()
            self._data[sid].set_result(("wss", ws, done))
            await done

    # -- control -------------------------------------------------------------
    async def _control(self, send: Any, recv: Any) -> None:
        first = await recv()
        register = protocol.validate_control(first)
        self.registers.append(register)
        await send({"type": "registered", "target": register["target"]["name"], "heartbeat": self.heartbeat})
        self._control_send = send
        self.control_connected.set()
        self.control_closed.clear()
        pinger = asyncio.ensure_future(self._pinger(send))
        try:
            while True:
                m = await recv()
                if m is None:
                    return
                protocol.validate_control(m)
                if m["type"] == "pong":
                    self.pongs.append(m["id"])
                elif m["type"] == "openFailed":
                    self.open_failed.append(m)
                    self._data[m["sessionId"]].set_exception(RuntimeError(m["message"]))
                else:
                    self.notices.append(m)
        finally:
            pinger.cancel()
            self.control_connected.clear()
            self.control_closed.set()

    async def _pinger(self, send: Any) -> None:
        n = 0
        while True:
            await asyncio.sleep(self.heartbeat["intervalMs"] / 1000)
            if self.send_pings:
                n += 1
                await send({"type": "ping", "id": n})

    async def open_session(self, session_id: str, timeout: float = 10) -> Any:
        self._data[session_id] = asyncio.get_running_loop().create_future()
        await self._control_send({"type": "open", "sessionId": session_id})
        return await asyncio.wait_for(self._data[session_id], timeout)


class HeartbeatEcho:
    """The relay's side of a tcps data connection with heartbeats (revision 1.7), as a
    ByteStream for a test client: every ``dbgrelay.heartbeat`` event from the agent is
    answered on the connection and never handed to the client. :meth:`go_silent`
    makes the relay a black hole: nothing is read or written any more, nothing closed."""

    def __init__(self, inner: Any, writer: Any) -> None:
        from dbgrelay.dapframing import DapReader

        self.inner = inner
        self.writer = writer
        self.reader = DapReader()
        self.echoed = 0
        self.silent = False

    async def read(self) -> bytes:
        while True:
            data = await self.inner.read()
            if not data:
                return b""
            out = []
            for frame, body_at in self.reader.feed_raw(data):
                if b'"dbgrelay.heartbeat"' in frame[body_at:]:
                    self.echoed += 1
                    await self.inner.write(frame)
                else:
                    out.append(frame)
            if out:
                return b"".join(out)

    async def write(self, data: bytes) -> None:
        if not self.silent:
            await self.inner.write(data)

    def go_silent(self) -> None:
        self.silent = True
        self.writer.transport.pause_reading()

    async def close(self) -> None:
        await self.inner.close()
