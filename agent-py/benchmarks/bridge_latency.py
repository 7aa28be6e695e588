"""Per-message latency the bridge adds, measured without a relay or a debuggee.

    taskset -c 0 python agent-py/benchmarks/bridge_latency.py [--n 5000] [--body 150] [--modes ...]

One single-threaded harness (blocking sockets, TCP_NODELAY) plays both the relay end
(plain TCP, tcps = TLS + hello line, or wss = TLS + WebSocket binary frames) and a
fake debugpy adapter (greeting, then an answer to every request). The bridge runs in
its own process: the real ``RelayDialer`` and ``AdapterSession`` (``session``), or a
bare byte pump over the same streams (``pump``, the asyncio floor); ``socat:tcp`` is
a C forwarder and ``direct`` no forwarder at all (the harness's own cost). A mode is
``session``/``pump`` + ``:tcp`` (no TLS), ``:tcps`` or ``:wss``. For each request the
harness times client→adapter (written on the relay end until read whole on the
adapter end) and adapter→client and prints p50/p99 in microseconds, and the bridge
process's CPU time (user + system, after the connection is set up) per request.
The bridge runs on uvloop when installed, unless ``DBGRELAY_UVLOOP=0``; with
``PYTHONPATH`` pointing at another checkout's ``agent-py`` it measures that code.
Pin it to one CPU (``taskset -c 0``) for stable numbers: on a VM, cross-CPU wake-ups
add tens of microseconds of noise.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def frame(message: dict) -> bytes:
    body = json.dumps(message, separators=(",", ":")).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def nodelay(sock: socket.socket) -> socket.socket:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class Plain:
    """Reads whole DAP messages from a blocking socket (or a WebSocket on it)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.buf = sock, b""

    def recv(self) -> bytes:
        data = self.sock.recv(1 << 20)
        if not data:
            raise EOFError
        return data

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_message(self) -> bytes:
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                total = end + 4 + int(self.buf[16:end])
                if len(self.buf) >= total:
                    out, self.buf = self.buf[:total], self.buf[total:]
                    return out
            self.buf += self.recv()


class WsServer(Plain):
    def __init__(self, sock: socket.socket) -> None:
        super().__init__(sock)
        self.raw = b""
        request = b""
        while b"\r\n\r\n" not in request:
            request += sock.recv(4096)
        key = next(line.split(b":", 1)[1].strip() for line in request.split(b"\r\n") if line.lower().startswith(b"sec-websocket-key"))
        import hashlib

        accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
        sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")

    def recv(self) -> bytes:  # one client frame (masked), payload unmasked
        while True:
            if len(self.raw) >= 2:
                n, at = self.raw[1] & 0x7F, 2
                if n == 126:
                    n, at = int.from_bytes(self.raw[2:4], "big"), 4
                elif n == 127:
                    n, at = int.from_bytes(self.raw[2:10], "big"), 10
                if len(self.raw) >= at + 4 + n:
                    mask, payload = self.raw[at : at + 4], self.raw[at + 4 : at + 4 + n]
                    self.raw = self.raw[at + 4 + n :]
                    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
                    return (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big")
            data = self.sock.recv(1 << 20)
            if not data:
                raise EOFError
            self.raw += data

    def send(self, data: bytes) -> None:
        n = len(data)
        head = bytes([0x82, n]) if n < 126 else bytes([0x82, 126]) + n.to_bytes(2, "big") if n < 65536 else bytes([0x82, 127]) + n.to_bytes(8, "big")
        self.sock.sendall(head + data)


def make_certs(root: str) -> "tuple[str, str, str]":
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=root)

    run(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "key.pem",
        "-out",
        "cert.pem",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
    )
    return os.path.join(root, "cert.pem"), os.path.join(root, "key.pem"), os.path.join(root, "cert.pem")


def listen() -> socket.socket:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s


def tls(conn: socket.socket, certs: "tuple[str, str, str]") -> socket.socket:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certs[0], certs[1])
    return ctx.wrap_socket(conn, server_side=True)


def harness(mode: str, transport: str, n: int, body: int, certs: "tuple[str, str, str]") -> "tuple[list[list[int]], float]":
    adapter_l, relay_l = listen(), listen()
    bridge = None
    if mode != "direct":
        ports = relay_l.getsockname()[1], adapter_l.getsockname()[1]
        command = [sys.executable, *os.environ.get("BENCH_WRAP", "").split(), __file__, "--bridge", mode, transport, certs[2], *map(str, ports)]
        if mode == "socat":  # a C forwarder, plain TCP only
            command = ["socat", "TCP:127.0.0.1:%d,nodelay" % ports[0], "TCP:127.0.0.1:%d,nodelay" % ports[1]]
        bridge = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        conn = nodelay(relay_l.accept()[0])
        if transport == "tcp":
            relay = Plain(conn)
        elif transport == "wss":
            relay = WsServer(tls(conn, certs))
        else:
            relay = Plain(tls(conn, certs))
            while not relay.buf.endswith(b"\n"):
                relay.buf += relay.recv()
            relay.buf = b""
            relay.send(b'{"ok":true}\n')
    else:
        relay = Plain(nodelay(socket.create_connection(adapter_l.getsockname())))
    relay.send(frame({"seq": 1, "type": "request", "command": "initialize", "arguments": {"adapterID": "x"}}))
    adapter = Plain(nodelay(adapter_l.accept()[0]))
    for i in (1, 2):
        adapter.send(frame({"seq": i, "type": "event", "event": "output", "body": {"category": "telemetry", "output": "ptvsd", "data": {}}}))
    adapter.read_message()
    adapter.send(frame({"seq": 3, "type": "response", "request_seq": 1, "success": True, "command": "initialize", "body": {}}))
    for _ in range(3):
        relay.read_message()
    threads = [{"id": i, "name": "Thread-%d" % i} for i in range(max(1, body // 32))]
    up, down = [], []
    for seq in range(2, n + 2):
        request = frame({"command": "threads", "type": "request", "seq": seq})
        t0 = time.perf_counter_ns()
        relay.send(request)
        adapter.read_message()
        t1 = time.perf_counter_ns()
        response = frame({"seq": seq + 10, "type": "response", "request_seq": seq, "success": True, "command": "threads", "body": {"threads": threads}})
        t2 = time.perf_counter_ns()
        adapter.send(response)
        relay.read_message()
        t3 = time.perf_counter_ns()
        up.append(t1 - t0)
        down.append(t3 - t2)
    relay.sock.close()
    adapter.sock.close()
    cpu = float("nan")
    if bridge is not None:
        out = bridge.communicate(timeout=10)[0]
        cpu = float(out.split()[-1]) * 1e6 / n if out.startswith("CPU") else cpu
    return [up, down], cpu


async def run_bridge(mode: str, scheme: str, cafile: str, relay_port: int, adapter_port: int) -> None:
    from dbgrelay.bridge.adaptersession import tcp_connector
    from dbgrelay.bridge.relayconn import RelayDialer
    from dbgrelay.relayurl import parse_relay_url
    from dbgrelay.trust.relaytrust import RelayTrust

    if scheme == "tcp":  # no TLS: the asyncio floor
        stream = await tcp_connector("127.0.0.1", relay_port)()
    else:
        dialer = RelayDialer(parse_relay_url(f"{scheme}://127.0.0.1:{relay_port}"), "s", RelayTrust(cafile, None))
        stream = await dialer.open_data("Qm9vdHN0cmFwLXNlc3Npb24taWQtMDAwMDAwMDE")
    start = cpu_seconds()
    try:
        await bridge_session(mode, stream, adapter_port)
    finally:
        print("CPU", cpu_seconds() - start, flush=True)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def bridge_session(mode: str, stream, adapter_port: int) -> None:  # type: ignore[no-untyped-def]
    from dbgrelay.bridge.adaptergate import AdapterGate
    from dbgrelay.bridge.adaptersession import AdapterSession, SessionTimeouts, tcp_connector

    if mode == "session":
        timeouts = SessionTimeouts(response_s=0.2, adapter_close_s=0.2)
        await AdapterSession("bench", stream, tcp_connector("127.0.0.1", adapter_port), AdapterGate(), timeouts=timeouts).run()
        return
    first = await stream.read()
    adapter = await tcp_connector("127.0.0.1", adapter_port)()
    await adapter.write(first)

    async def pump(src, dst) -> None:  # type: ignore[no-untyped-def]
        while data := await src.read():
            await dst.write(data)

    await asyncio.wait([asyncio.ensure_future(pump(stream, adapter)), asyncio.ensure_future(pump(adapter, stream))], return_when=asyncio.FIRST_COMPLETED)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--body", type=int, default=150, help="approximate response body size")
    parser.add_argument("--modes", nargs="*", default=["direct", "pump:tcps", "session:tcps", "pump:wss", "session:wss"])
    parser.add_argument("--bridge", nargs=5)
    args = parser.parse_args()
    if args.bridge:
        mode, scheme, cafile, relay_port, adapter_port = args.bridge
        try:
            from dbgrelay.bridge.app import run_event_loop  # uvloop if installed, unless DBGRELAY_UVLOOP=0
        except ImportError:  # an older agent (before/after comparisons)
            run_event_loop = asyncio.run

        run_event_loop(run_bridge(mode, scheme, cafile, int(relay_port), int(adapter_port)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        certs = make_certs(tmp)
        print(f"{args.n} requests, response body ~{args.body} B; µs p50 / p99")
        for spec in args.modes:
            mode, _, transport = spec.partition(":")
            (up, down), cpu = harness(mode, transport or "tcp", args.n, args.body, certs)
            cut = len(up) // 10  # warm-up
            cells = []
            for samples in (up[cut:], down[cut:]):
                s = sorted(samples)
                cells.append(f"{statistics.median(s) / 1000:7.1f} / {s[int(len(s) * 0.99)] / 1000:7.1f}")
            print(f"{spec:14s} client→adapter {cells[0]}   adapter→client {cells[1]}   bridge CPU/request {cpu:6.1f}")


if __name__ == "__main__":
    main()
