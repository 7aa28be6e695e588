"""The direct endpoint (ptvsd model): the bridge process itself listens, and a client
speaks to it exactly what it speaks to the relay's tcps listener (docs/protocol.md §4):
TLS 1.2+, one hello line (``op: "attach"`` with the target name and the secret, or
``op: "targets"``), the ``{"ok": ...}`` reply line, then raw DAP.

Each accepted session is an :class:`AdapterSession`, so it gets every protection of
the relay mode: a fresh adapter connection only once DAP bytes arrive, the
:class:`AdapterGate`, handshake tracking, and a clean detach (the program keeps
running) when the client is lost. The endpoint answers to its configured name and to
:data:`~dbgrelay.options.direct.DIRECT_TARGET_NAME`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import socket
import ssl
import time
from typing import Any, Callable, Dict, Optional, Set

from .. import protocol
from ..errors import BAD_REQUEST, HANDSHAKE_TIMEOUT, MESSAGE_TOO_LARGE, TARGET_BUSY, UNKNOWN_TARGET, ProtocolError, Refusal
from ..options.direct import DIRECT_TARGET_NAME
from ..options.directconfig import DirectConfig
from ..trust.contexts import server_context
from .adaptergate import AdapterGate
from .adaptersession import AdapterSession
from .connectors import tcp_connector
from .helloauth import HelloAuthenticator
from .lifeline import wait_for_parent_exit
from .liveness import set_keepalive
from .socketdial import start_tls
from .socketstream import SocketStream

log = logging.getLogger("dbgrelay.agent")

#: Time for the TLS handshake and the hello line together (the relay's default).
HANDSHAKE_TIMEOUT_S = 10.0
#: Connections that have not finished their hello yet; more are closed at once.
MAX_HANDSHAKES = 32
#: Live sessions (the main one plus subprocess sessions).
MAX_SESSIONS = 16
#: How long a refused client has to read the reply before the connection is dropped.
REFUSAL_GRACE_S = 2.0


class DirectEndpoint:
    def __init__(self, config: DirectConfig, report: Callable[[Dict[str, Any]], None]) -> None:
        self.config = config
        self.report = report
        self.gate = AdapterGate()
        self.auth = HelloAuthenticator(config.secret)
        self._tls: Optional[ssl.SSLContext] = server_context(config.certfile, config.keyfile) if config.certfile else None
        self._listener = socket.socket(fileno=config.listen_fd)
        self._handshakes = 0
        self._sessions: Set[AdapterSession] = set()
        self._tasks: "Set[asyncio.Future[Any]]" = set()
        self._count = 0
        self._started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")

    # -- lifecycle ---------------------------------------------------------------
    async def run(self) -> str:
        self._listener.setblocking(False)
        accepting = asyncio.ensure_future(self._accept_loop())
        host, port = self._listener.getsockname()[:2]
        log.info("direct endpoint listening on %s:%d (%s), answering to %s", host, port, "TLS" if self._tls else "plaintext, loopback only", self._names())
        self.report({"event": "listening", "host": host, "port": port})
        try:
            return await wait_for_parent_exit(self.config.parent_pid)
        finally:
            accepting.cancel()
            self._listener.close()
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.wait(self._tasks, timeout=2)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _accept_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                sock, peer = await loop.sock_accept(self._listener)
            except OSError as exc:  # e.g. EMFILE: do not spin
                log.warning("direct endpoint: accept failed: %s", exc)
                await asyncio.sleep(0.1)
                continue
            if self._handshakes >= MAX_HANDSHAKES:
                log.warning("direct endpoint: %d handshakes pending; closing the connection from %s", self._handshakes, peer[0])
                sock.close()
                continue
            self._spawn(self._serve(sock, str(peer[0])))

    # -- one connection ----------------------------------------------------------
    async def _serve(self, sock: socket.socket, source: str) -> None:
        self._handshakes += 1
        try:
            deadline = time.monotonic() + HANDSHAKE_TIMEOUT_S
            stream = await self._open_stream(sock, source, HANDSHAKE_TIMEOUT_S)
            if stream is None:
                return
            try:
                line = await asyncio.wait_for(stream.readline(protocol.MAX_HELLO_BYTES), max(0.01, deadline - time.monotonic()))
                if not line.endswith(b"\n"):
                    stream.abort()  # left without a hello: nothing to answer
                    return
                hello = self._admit(line, source)
            except asyncio.TimeoutError:
                return await self._refuse(stream, source, Refusal(f"no hello line within {HANDSHAKE_TIMEOUT_S * 1000:.0f} ms", code=HANDSHAKE_TIMEOUT))
            except ValueError:
                return await self._refuse(stream, source, Refusal(f"hello line exceeds {protocol.MAX_HELLO_BYTES} bytes", code=MESSAGE_TOO_LARGE))
            except Refusal as refusal:
                return await self._refuse(stream, source, refusal)
        finally:
            self._handshakes -= 1
        if hello["op"] == "targets":
            reply = {"ok": True, "targets": [self._target_info()]}
            await stream.write((protocol.encode(reply) + "\n").encode("utf-8"))
            await stream.close()
            return
        await self._run_session(stream, source, hello["target"])

    async def _open_stream(self, sock: socket.socket, source: str, timeout: float) -> Optional[SocketStream]:
        try:
            # A client that vanished without a FIN must not own a paused program for
            # ever: keepalive finds it (liveness.py), and the session is torn down.
            set_keepalive(sock)
            if self._tls is not None:
                sock = await asyncio.wait_for(start_tls(sock, self._tls, server_side=True), timeout)
            return SocketStream(sock)
        except (OSError, ssl.SSLError, asyncio.TimeoutError) as exc:
            log.info("direct endpoint: TLS handshake with %s failed: %s", source, getattr(exc, "reason", None) or type(exc).__name__)
            with contextlib.suppress(OSError):
                sock.close()
            return None

    def _admit(self, line: bytes, source: str) -> Dict[str, Any]:
        """Parse, authenticate, then route the hello (the relay's order); raises :class:`Refusal`."""
        try:
            hello = protocol.validate_hello(protocol.decode(line, protocol.MAX_HELLO_BYTES))
        except ProtocolError as exc:
            raise Refusal(str(exc), code=exc.code) from None
        self.auth.check(hello, source)
        op = hello["op"]
        if op not in ("attach", "targets"):
            raise Refusal(f'this is a direct debug endpoint, not a relay: it serves "attach" and "targets", not "{op}"', code=BAD_REQUEST)
        if op == "attach":
            target = hello["target"]
            if target not in (self.config.name, DIRECT_TARGET_NAME):
                raise Refusal(f"no target {protocol.encode(target)[:80]} here; this direct debug endpoint answers to {self._names()}", code=UNKNOWN_TARGET)
            if len(self._sessions) >= MAX_SESSIONS:
                raise Refusal(f"this debug endpoint already serves {MAX_SESSIONS} sessions", code=TARGET_BUSY)
        return hello

    async def _refuse(self, stream: SocketStream, source: str, refusal: Refusal) -> None:
        log.warning("direct endpoint: refused %s: %s (%s)", source, refusal, refusal.code)
        with contextlib.suppress(OSError, ConnectionError):
            await stream.write((protocol.encode(refusal.reply()) + "\n").encode("utf-8"))
        await stream.drain(REFUSAL_GRACE_S)
        # read to the client's end (whatever it sends is dropped), so closing does not
        # reset the connection before the reply is read
        ended = asyncio.get_running_loop().create_future()
        stream.set_handler(None, lambda: ended.done() or ended.set_result(None))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(ended, REFUSAL_GRACE_S)
        stream.abort()

    async def _run_session(self, stream: SocketStream, source: str, target: str) -> None:
        self._count += 1
        session = AdapterSession(f"#{self._count}", stream, tcp_connector(self.config.adapter_host, self.config.adapter_port), self.gate)
        self._sessions.add(session)
        try:
            await stream.write(b'{"ok":true}\n')
            log.info("direct endpoint: session #%d from %s attached (target %r)", self._count, source, target)
            await session.run()
        except (OSError, ConnectionError):
            stream.abort()
        finally:
            self._sessions.discard(session)

    def _names(self) -> str:
        names = dict.fromkeys((self.config.name, DIRECT_TARGET_NAME))
        return " and ".join(f'"{name}"' for name in names)

    def _target_info(self) -> Dict[str, Any]:
        """This endpoint as one entry of a target list (docs/protocol.md §7)."""
        process = self.config.process
        return {
            "name": self.config.name,
            "kind": "direct",
            "labels": {},
            "host": str(process.get("host", "")),
            "pid": int(process.get("pid", 0)),
            "python": str(process.get("python", "")),
            "debugpy": str(process.get("debugpy", "")),
            "agent": str(process.get("agent", "")),
            "transport": "tcps" if self._tls is not None else "tcp",
            "connectedAt": self._started,
            "sessions": len(self._sessions),
        }
