"""A TCP connection, optionally TLS, driven straight from the event loop's readiness
callbacks (``add_reader``/``add_writer``) on a non-blocking socket: a
:class:`ByteStream` that can also hand its bytes to a callback (``set_handler``).

Every connection of the bridge is one: to the relay (control and data) and to the
adapter. It skips asyncio's transport and SSL protocol layers: one readable callback
does ``recv`` on the socket (``ssl.SSLSocket`` decrypts in place) and hands the bytes
on; a write goes straight to ``send`` and only what the kernel does not take is
buffered. Measured with ``agent-py/benchmarks/bridge_latency.py``, that takes about a
third off the bridge's time per message (agent-py/README.md).

The stream mode (``read``/``readline``/``write``) serves the hello line, the HTTP
upgrade, the tcps control lines and the first client bytes. Reading pauses while
anyone holds it (``hold_reading``): a full buffer, the session waiting for the
adapter gate, or the peer's full write buffer.

A connection to the relay can watch its peer's silence (:meth:`watch_silence`,
``liveness.py``): once nothing arrived for the deadline while this side was reading,
the stream is aborted and reports end of stream, as if the peer had closed it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from typing import Callable, List, Optional, Set

from .streams import set_nodelay

log = logging.getLogger("dbgrelay.dap")

READ_CHUNK = 256 * 1024
#: Bytes queued for writing above which the stream reports ``write_paused``.
WRITE_HIGH_WATER = 256 * 1024

_RETRY = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)
_GONE = (ConnectionError, ssl.SSLError, OSError)


class SocketStream:
    def __init__(self, sock: socket.socket, *, buffer_limit: int = 4 * READ_CHUNK) -> None:
        sock.setblocking(False)
        self.sock = sock
        self._fd = sock.fileno()
        self._tls = isinstance(sock, ssl.SSLSocket)
        self._loop = asyncio.get_running_loop()
        self._limit = buffer_limit
        self._buf = bytearray()
        self._eof = False
        self._closed = False
        self._reading = False
        self._holds: Set[str] = set()
        self._waiter: Optional["asyncio.Future[None]"] = None
        self._on_data: Optional[Callable[[bytes], None]] = None
        self._on_eof: Optional[Callable[[], None]] = None
        # Writing: chunks the kernel has not taken yet. A TLS write that could not
        # finish must be retried with the same bytes (OpenSSL), so chunks are never merged.
        self._pending_tls = False
        self._out: List[bytes] = []
        self._out_bytes = 0
        self._writing = False
        #: Writers and drains waiting for the queued bytes to go out, woken together.
        self._drain_waiters: List["asyncio.Future[None]"] = []
        self.on_write_paused: Optional[Callable[[bool], None]] = None
        self.write_paused = False
        # Silence watch (watch_silence): deadline, last time a byte arrived, its timer.
        self._silence_s = 0.0
        self._heard_at = 0.0
        self._silence_timer: Optional[asyncio.TimerHandle] = None
        #: True once the peer stayed silent past the deadline (the stream was aborted).
        self.silent = False
        #: Set on a tcps data connection whose relay echoes ``dbgrelay.heartbeat``
        #: events (revision 1.7): the session sends one this often (seconds).
        self.dap_heartbeat_s: Optional[float] = None
        set_nodelay(sock)
        self._start_reading()

    # -- reading -----------------------------------------------------------------
    def _start_reading(self) -> None:
        if not self._reading and not self._eof and not self._closed:
            self._loop.add_reader(self._fd, self._on_readable)
            self._reading = True

    def _stop_reading(self) -> None:
        if self._reading:
            self._loop.remove_reader(self._fd)
            self._reading = False

    def _on_readable(self) -> None:
        sock = self.sock
        while True:
            try:
                data = sock.recv(READ_CHUNK)
            except _RETRY:
                return
            except _GONE:
                data = b""
            if not data:
                self._stop_reading()
                self._set_eof()
                return
            if self._silence_s:
                self._heard_at = self._loop.time()
            if self._on_data is not None:
                self._on_data(data)
            else:
                self._buf += data
                if len(self._buf) > self._limit:
                    self.hold_reading("buffer")
                self._wake()
            if not self._tls or self._closed or not sock.pending():
                return
            if self._holds:
                # Decrypted bytes wait inside the TLS object, where no readiness
                # callback reports them: fetch them when reading is released.
                self._pending_tls = True
                return

    def _set_eof(self) -> None:
        if self._eof:
            return
        self._eof = True
        if self._on_eof is not None:
            self._on_eof()
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    # -- the peer's silence --------------------------------------------------------
    def watch_silence(self, timeout_s: float) -> None:
        """From now on, count the peer as gone once no byte arrived for ``timeout_s``:
        the stream is aborted (end of stream, :attr:`silent` set). Time during which
        this side does not read (a hold) does not count as the peer's silence."""
        if self._closed or timeout_s <= 0:
            return
        self._silence_s = timeout_s
        self._heard_at = self._loop.time()
        if self._silence_timer is None:
            self._silence_timer = self._loop.call_later(self._silence_tick(), self._check_silence)

    def _silence_tick(self) -> float:
        return max(0.01, min(1.0, self._silence_s / 4))

    def _check_silence(self) -> None:
        self._silence_timer = None
        if self._closed:
            return
        now = self._loop.time()
        if self._holds or self.write_paused:
            # Not reading, or the peer is not reading us (backpressure: our heartbeats
            # wait behind the data, so no echo can come back). A peer that is really
            # gone leaves our queued bytes unacknowledged, and TCP_USER_TIMEOUT
            # (liveness.py) ends the connection.
            self._heard_at = now
        elif now - self._heard_at >= self._silence_s:
            log.warning("relay connection silent for %.1f s; closing it as dead", now - self._heard_at)
            self.silent = True
            self.abort()
            return
        self._silence_timer = self._loop.call_later(self._silence_tick(), self._check_silence)

    def hold_reading(self, reason: str) -> None:
        self._holds.add(reason)
        self._stop_reading()

    def release_reading(self, reason: str) -> None:
        if reason not in self._holds:
            return
        self._holds.discard(reason)
        if not self._holds:
            self._start_reading()
            if self._pending_tls:
                self._pending_tls = False
                self._loop.call_soon(self._on_readable)

    def release_all_reading(self) -> None:
        """Read again whoever held reading (a closing handshake must see the peer's answer)."""
        for reason in list(self._holds):
            self.release_reading(reason)

    def set_handler(self, on_data: Optional[Callable[[bytes], None]], on_eof: Callable[[], None]) -> None:
        """From now on, bytes go to ``on_data`` (None: dropped) and the end of stream
        to ``on_eof`` (called at once if it already ended); buffered bytes first."""
        self._on_data = on_data or (lambda data: None)
        self._on_eof = on_eof
        data, self._buf = bytes(self._buf), bytearray()
        self.release_reading("buffer")
        if data:
            self._on_data(data)
        if self._eof:
            on_eof()

    async def _wait(self) -> None:
        self._waiter = self._loop.create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    async def read(self) -> bytes:
        """Everything buffered (at least one byte); ``b""`` at end of stream."""
        while not self._buf and not self._eof:
            await self._wait()
        data, self._buf = bytes(self._buf), bytearray()
        self.release_reading("buffer")
        return data

    async def readline(self, limit: int) -> bytes:
        """One line with its ``\\n`` (without it at end of stream); ValueError over ``limit``."""
        while True:
            end = self._buf.find(b"\n")
            if end >= 0 or self._eof:
                end = end + 1 if end >= 0 else len(self._buf)
                if end > limit:
                    raise ValueError("line too long")
                line, self._buf = bytes(self._buf[:end]), self._buf[end:]
                if len(self._buf) <= self._limit:
                    self.release_reading("buffer")
                return line
            if len(self._buf) > limit:
                raise ValueError("line too long")
            await self._wait()

    async def read_exactly(self, n: int) -> bytes:
        """``n`` bytes, or fewer at end of stream."""
        while len(self._buf) < n and not self._eof:
            await self._wait()
        data, self._buf = bytes(self._buf[:n]), self._buf[n:]
        if len(self._buf) <= self._limit:
            self.release_reading("buffer")
        return data

    # -- writing -----------------------------------------------------------------
    def write_nowait(self, data: bytes) -> bool:
        """Send ``data`` (queued when the kernel cannot take it now); False when the
        connection is closed or broken."""
        if self._closed:
            return False
        if not data:
            return True
        if self._out:
            self._queue(data)
            return True
        try:
            sent = self.sock.send(data)
        except _RETRY:
            sent = 0
        except _GONE:
            self._broken()
            return False
        if sent < len(data):
            self._queue(data[sent:] if sent else data)
        return True

    def _queue(self, data: bytes) -> None:
        self._out.append(data)
        self._out_bytes += len(data)
        if not self._writing:
            self._loop.add_writer(self._fd, self._on_writable)
            self._writing = True
        if not self.write_paused and self._out_bytes > WRITE_HIGH_WATER:
            self.write_paused = True
            if self.on_write_paused is not None:
                self.on_write_paused(True)

    def _on_writable(self) -> None:
        while self._out:
            chunk = self._out[0]
            try:
                sent = self.sock.send(chunk)
            except _RETRY:
                return
            except _GONE:
                self._broken()
                return
            self._out_bytes -= sent
            if sent < len(chunk):
                self._out[0] = chunk[sent:]
                return
            self._out.pop(0)
        self._loop.remove_writer(self._fd)
        self._writing = False
        self._writes_done()

    def _writes_done(self) -> None:
        waiters, self._drain_waiters = self._drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        if self.write_paused:
            self.write_paused = False
            if self.on_write_paused is not None:
                self.on_write_paused(False)

    def _broken(self) -> None:
        """The peer is gone (reset, broken pipe): stop everything, report end of stream."""
        self._abort()
        self._set_eof()

    async def write(self, data: bytes) -> None:
        if not self.write_nowait(data):
            raise ConnectionResetError("connection closed")
        while self.write_paused and not self._closed:
            await self._drain_waiter()

    def _drain_waiter(self) -> "asyncio.Future[None]":
        waiter = self._loop.create_future()
        self._drain_waiters.append(waiter)
        return waiter

    async def drain(self, timeout: float) -> None:
        """Wait until everything queued is sent (or ``timeout``)."""
        if self._out and not self._closed:
            waiter = self._drain_waiter()
            try:
                await asyncio.wait_for(asyncio.shield(waiter), timeout)
            except asyncio.TimeoutError:
                if waiter in self._drain_waiters:
                    self._drain_waiters.remove(waiter)

    # -- closing -----------------------------------------------------------------
    def _abort(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._silence_timer is not None:
            self._silence_timer.cancel()
            self._silence_timer = None
        self._stop_reading()
        if self._writing:
            self._loop.remove_writer(self._fd)
            self._writing = False
        self._out.clear()
        self._out_bytes = 0
        self._writes_done()
        try:
            self.sock.close()
        except OSError:
            pass

    def abort(self) -> None:
        """Close at once, dropping anything not sent."""
        self._abort()
        self._set_eof()

    async def close(self) -> None:
        """Send what is queued (2 s at most), then close the connection."""
        if self._closed:
            return
        await self.drain(2.0)
        self.abort()

    @property
    def closed(self) -> bool:
        return self._closed
