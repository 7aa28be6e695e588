"""A small blocking DAP client for tests (socket + reader thread)."""

from __future__ import annotations

import queue
import socket
import struct
import threading
import time
from typing import Any, Dict, List, Optional

from dbgrelay.dapframing import DapReader, encode_message


class DapClient:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.seq = 0
        self.messages: "queue.Queue[Optional[Dict[str, Any]]]" = queue.Queue()
        self.seen: List[Dict[str, Any]] = []
        self.closed = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    @classmethod
    def connect(cls, port: int, timeout: float = 5.0) -> "DapClient":
        return cls(socket.create_connection(("127.0.0.1", port), timeout=timeout))

    def _read(self) -> None:
        reader = DapReader()
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                for m in reader.feed(data):
                    self.messages.put(m)
        except OSError:
            pass
        finally:
            self.closed.set()
            self.messages.put(None)

    def send(self, command: str, arguments: Optional[Dict[str, Any]] = None) -> int:
        self.seq += 1
        msg: Dict[str, Any] = {"seq": self.seq, "type": "request", "command": command}
        if arguments is not None:
            msg["arguments"] = arguments
        self.sock.sendall(encode_message(msg))
        return self.seq

    def wait(self, pred, timeout: float = 5.0) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        for m in self.seen:
            if pred(m):
                self.seen.remove(m)
                return m
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("timed out waiting for a DAP message")
            try:
                m = self.messages.get(timeout=left)
            except queue.Empty:
                raise TimeoutError("timed out waiting for a DAP message") from None
            if m is None:
                self.messages.put(None)
                raise EOFError("DAP connection closed")
            if pred(m):
                return m
            self.seen.append(m)

    def response(self, seq: int, timeout: float = 5.0) -> Dict[str, Any]:
        return self.wait(lambda m: m.get("type") == "response" and m.get("request_seq") == seq, timeout)

    def event(self, name: str, timeout: float = 5.0) -> Dict[str, Any]:
        return self.wait(lambda m: m.get("type") == "event" and m.get("event") == name, timeout)

    def request(self, command: str, arguments: Optional[Dict[str, Any]] = None, timeout: float = 5.0) -> Dict[str, Any]:
        return self.response(self.send(command, arguments), timeout)

    def abort(self) -> None:
        """Close with RST (SO_LINGER 0), like a crashed client.

        The reader thread must leave recv() first: on Linux, close() while another
        thread is blocked in recv() does not release the socket (no RST is sent).
        """
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass
        self._thread.join(2)
        self.sock.close()

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._thread.join(2)
        self.sock.close()


def full_attach(c: DapClient, timeout: float = 5.0, breakpoints: Optional[Dict[str, List[int]]] = None) -> Dict[str, Any]:
    """initialize → attach → (initialized) → setBreakpoints → configurationDone → attach response."""
    r = c.request("initialize", {"adapterID": "debugpy", "clientID": "dbgrelay-test"}, timeout)
    assert r["success"], r
    attach_seq = c.send("attach", {"justMyCode": False})
    c.event("initialized", timeout)
    for path, lines in (breakpoints or {}).items():
        r = c.request("setBreakpoints", {"source": {"path": path}, "breakpoints": [{"line": n} for n in lines]}, timeout)
        assert r["success"], r
    r = c.request("configurationDone", None, timeout)
    assert r["success"], r
    r = c.response(attach_seq, timeout)
    assert r["success"], r
    return r
