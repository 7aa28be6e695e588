"""The ptvsd-compatible direct endpoint: ``enable_attach(secret, address, certfile,
keyfile)`` in a real process with real debugpy, a TLS client speaking the relay's
tcps hello (docs/protocol.md §4), ``wait_for_attach`` / ``is_attached``, refusals."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import ssl
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from asyncdap import AsyncDapClient, full_attach
from conftest import Certs
from peerstreams import TcpByteStream

from dbgrelay.bridge import helloauth
from dbgrelay.bridge.failurelockout import FailureLockout
from dbgrelay.bridge.helloauth import HelloAuthenticator
from dbgrelay.errors import ConfigError, Refusal
from dbgrelay.options.callforms import is_relay_call
from dbgrelay.options.direct import DIRECT_TARGET_NAME, build_direct_options

SECRET = "s3cret-" + uuid.uuid4().hex

APP = """
import os, sys, time
import dbgrelay
address = dbgrelay.enable_attach(os.environ["APP_SECRET"], ("127.0.0.1", 0), sys.argv[1], sys.argv[2], name="web-9")
print("ENDPOINT %s %d" % address, flush=True)
print("AGAIN %s %d" % dbgrelay.enable_attach(os.environ["APP_SECRET"], ("127.0.0.1", 0), sys.argv[1], sys.argv[2]),
      flush=True)
print("FIRST WAIT %s %s" % (dbgrelay.wait_for_attach(timeout=0.2), dbgrelay.is_attached()), flush=True)
print("SECOND WAIT %s" % dbgrelay.wait_for_attach(), flush=True)
while True:
    print("ATTACHED %s" % dbgrelay.is_attached(), flush=True)
    time.sleep(0.05)
"""


# -- call forms and options ------------------------------------------------------
def test_call_forms_select_the_mode() -> None:
    relay = [
        ((), {"relay": "wss://r:7443", "name": "web-1"}),
        (("wss://r:7443", "web-1"), {}),
        (("tcps://r:7444", "web-1", "attach-secret", "ca.pem"), {}),
        (("s3cret",), {"relay": "tcps://r:7444", "name": "web-1"}),
        ((), {"relay": "unused://x", "name": "ignored"}),
    ]
    direct = [
        (("s3cret",), {}),
        (("s3cret", ("0.0.0.0", 5678)), {}),
        (("s3cret", ("127.0.0.1", 0), "cert.pem", "key.pem", False), {}),
        ((), {"secret": "s3cret", "address": ("127.0.0.1", 0)}),
        ((None,), {"allow_no_secret": True}),
        ((), {}),
    ]
    assert all(is_relay_call(a, k) for a, k in relay)
    assert not any(is_relay_call(a, k) for a, k in direct)


def test_options_refuse_no_secret_without_opt_in_and_plaintext_off_loopback(certs: Certs, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs a secret.*allow_no_secret=True"):
        build_direct_options(None, ("127.0.0.1", 0), env={})
    with pytest.raises(ConfigError, match="needs a secret"):
        build_direct_options("", ("127.0.0.1", 0), env={})
    assert build_direct_options(None, ("127.0.0.1", 0), allow_no_secret=True, env={}).secret is None
    assert build_direct_options(None, ("127.0.0.1", 0), env={"DBGRELAY_SECRET": "from-env"}).secret == "from-env"
    opts = build_direct_options("s3cret", ("::1", 0), env={})
    assert (opts.host, opts.port, opts.name, opts.tls) == ("::1", 0, DIRECT_TARGET_NAME, False)
    assert "s3cret" not in repr(opts)
    for host in ("0.0.0.0", "", "10.1.2.3", "example.org"):
        with pytest.raises(ConfigError, match="without TLS"):
            build_direct_options("s3cret", (host, 5678), env={})
    with pytest.raises(ConfigError, match="without TLS"):
        build_direct_options("s3cret", env={})  # ptvsd's default address needs a certificate
    assert build_direct_options("s3cret", ("0.0.0.0", 5678), certs.chain, certs.key, env={}).tls
    with pytest.raises(ConfigError, match="cannot use the certificate"):
        build_direct_options("s3cret", ("0.0.0.0", 5678), certs.chain, certs.ca, env={})
    with pytest.raises(ConfigError, match="needs certfile"):
        build_direct_options("s3cret", ("127.0.0.1", 0), None, certs.key, env={})
    for bad in (5678, ("h",), ("h", "5678"), ("h", 70000), (None, 1)):
        with pytest.raises(ConfigError, match="address"):
            build_direct_options("s3cret", bad, env={})
    with pytest.raises(ConfigError) as info:
        build_direct_options("s3cret", ("127.0.0.1", 0), name="../x", env={})
    assert info.value.code == "TARGET_NAME_INVALID"


def test_secrets_are_compared_in_constant_time_on_digests(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: List[Tuple[bytes, bytes]] = []
    real = helloauth.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(helloauth.hmac, "compare_digest", spy)
    auth = HelloAuthenticator(SECRET)
    auth.check({"op": "attach", "secret": SECRET}, "10.0.0.1")
    for wrong in ("x", SECRET + "x", SECRET[:-1]):
        with pytest.raises(Refusal) as info:
            auth.check({"op": "attach", "secret": wrong}, "10.0.0.1")
        assert info.value.code == "AUTH_FAILED" and str(info.value) == "credential refused"
    assert len(calls) == 4
    expected = hashlib.sha256(SECRET.encode()).digest()
    assert all(len(a) == len(b) == 32 and b == expected for a, b in calls)
    with pytest.raises(Refusal) as info:
        auth.check({"op": "attach"}, "10.0.0.1")
    assert info.value.code == "AUTH_REQUIRED"
    with pytest.raises(Refusal) as info:
        auth.check({"op": "attach", "token": "eyJ.x.y"}, "10.0.0.1")
    assert info.value.code == "AUTH_FAILED"
    with pytest.raises(Refusal) as info:
        auth.check({"op": "attach", "token": "t", "secret": SECRET}, "10.0.0.1")
    assert info.value.code == "BAD_REQUEST"
    HelloAuthenticator(None).check({"op": "attach"}, "10.0.0.1")  # allow_no_secret: anyone


def test_repeated_failures_lock_the_source_out() -> None:
    now = [1000.0]
    auth = HelloAuthenticator(SECRET, FailureLockout(clock=lambda: now[0]))
    for _ in range(10):
        with pytest.raises(Refusal):
            auth.check({"op": "attach", "secret": "wrong"}, "10.0.0.1")
    with pytest.raises(Refusal) as info:
        auth.check({"op": "attach", "secret": SECRET}, "10.0.0.1")
    assert info.value.code == "AUTH_LOCKED" and "try again in 10 s" in str(info.value)
    auth.check({"op": "attach", "secret": SECRET}, "10.0.0.2")  # other sources are not affected
    now[0] += 11
    auth.check({"op": "attach", "secret": SECRET}, "10.0.0.1")


def test_wait_for_attach_needs_enable_attach() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import dbgrelay\nprint(dbgrelay.is_attached())\ndbgrelay.break_into_debugger()\ndbgrelay.wait_for_attach(1)"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.stdout.strip() == "False"
    assert "ConfigError: wait_for_attach() needs enable_attach() first" in out.stderr


def test_cli_refusals_are_clear() -> None:
    env = {"PATH": "/usr/bin:/bin"}

    def run(*a: str) -> "subprocess.CompletedProcess[str]":
        return subprocess.run([sys.executable, "-m", "dbgrelay", *a], capture_output=True, text=True, timeout=30, env=env)

    out = run("--port", "0", "app.py")
    assert out.returncode == 2 and "needs a secret" in out.stderr
    out = run("--host", "0.0.0.0", "--port", "0", "--secret", "x", "app.py")
    assert out.returncode == 2 and "without TLS" in out.stderr and "visible to other local users" in out.stderr
    out = run("--port", "0", "--ca", "ca.pem", "app.py")
    assert out.returncode == 2 and "--ca belong(s) to the relay form" in out.stderr


# -- a real process --------------------------------------------------------------
class App:
    def __init__(self, certs: Certs, tmp_path: Path) -> None:
        script = tmp_path / "app.py"
        script.write_text(APP)
        env = dict(os.environ, APP_SECRET=SECRET, PYDEVD_DISABLE_FILE_VALIDATION="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-Xfrozen_modules=off", str(script), certs.chain, certs.key], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        self.lines: List[str] = []
        self.errors: List[str] = []
        threading.Thread(target=self._read, args=(self.proc.stdout, self.lines), daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.errors), daemon=True).start()
        self.port = int(self.wait_line("ENDPOINT").split()[2])

    @staticmethod
    def _read(pipe: Any, into: List[str]) -> None:
        for line in pipe:
            into.append(line.rstrip("\n"))

    def wait_line(self, prefix: str, start: int = 0, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines[start:]:
                if line.startswith(prefix):
                    return line
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"no {prefix!r} line; stdout {self.lines[-5:]}, stderr {self.errors[-10:]}")


@pytest.fixture
def app(certs: Certs, tmp_path: Path) -> Iterator[App]:
    a = App(certs, tmp_path)
    yield a
    a.proc.kill()
    a.proc.wait()


async def dial(certs: Certs, port: int, hello: Dict[str, Any]) -> Tuple[Dict[str, Any], TcpByteStream]:
    ctx = ssl.create_default_context(cafile=certs.ca)
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="localhost")
    writer.write((json.dumps(hello) + "\n").encode())
    reply = json.loads(await asyncio.wait_for(reader.readline(), 10))
    return reply, TcpByteStream(reader, writer)


def test_direct_endpoint_serves_a_debug_session_and_reports_attachment(app: App, certs: Certs) -> None:
    assert app.wait_line("AGAIN") == f"AGAIN 127.0.0.1 {app.port}"  # a second call changes nothing
    assert app.wait_line("FIRST WAIT") == "FIRST WAIT False False"

    async def main() -> None:
        # refused before any DAP byte: the reply line, then the end of the stream
        for hello, code in (
            ({"target": DIRECT_TARGET_NAME, "secret": "wrong"}, "AUTH_FAILED"),
            ({"target": DIRECT_TARGET_NAME}, "AUTH_REQUIRED"),
            ({"target": "web-1", "secret": SECRET}, "UNKNOWN_TARGET"),
        ):
            reply, stream = await dial(certs, app.port, {"dbgrelay": 1, "op": "attach", **hello})
            assert reply["ok"] is False and reply["error"]["code"] == code, reply
            assert await asyncio.wait_for(stream.read(), 10) == b""
            await stream.close()
        reply, stream = await dial(certs, app.port, {"dbgrelay": 1, "op": "targets", "secret": SECRET})
        assert reply["ok"] is True and [(t["name"], t["kind"], t["transport"]) for t in reply["targets"]] == [("web-9", "direct", "tcps")]
        await stream.close()
        assert not any(line.startswith("SECOND WAIT") for line in app.lines)

        for target in (DIRECT_TARGET_NAME, "web-9"):  # the reserved name and its own name
            mark = len(app.lines)
            reply, stream = await dial(certs, app.port, {"dbgrelay": 1, "op": "attach", "target": target, "secret": SECRET})
            assert reply == {"ok": True}
            client = AsyncDapClient(stream)
            await full_attach(client, timeout=15)
            await asyncio.get_running_loop().run_in_executor(None, app.wait_line, "ATTACHED True", mark)
            threads = await client.request("threads", timeout=10)
            assert any(t["name"] == "MainThread" for t in threads["body"]["threads"])
            await client.request("disconnect", {"terminateDebuggee": False}, timeout=10)
            await client.close()
            mark = len(app.lines)
            await asyncio.get_running_loop().run_in_executor(None, app.wait_line, "ATTACHED False", mark)

    asyncio.run(main())
    assert app.wait_line("SECOND WAIT") == "SECOND WAIT True"
    assert SECRET not in "\n".join(app.lines + app.errors)


def test_direct_endpoint_refuses_dangerous_attach_arguments_and_launch(app: App, certs: Certs) -> None:
    """In direct mode the bridge is the only hop: it applies the attach allow-list."""

    async def main() -> None:
        reply, stream = await dial(certs, app.port, {"dbgrelay": 1, "op": "attach", "target": "web-9", "secret": SECRET})
        assert reply == {"ok": True}
        client = AsyncDapClient(stream)
        assert (await client.request("initialize", {"adapterID": "debugpy", "clientID": "t"}, 15))["success"]
        refused = await client.request("attach", {"processId": os.getpid(), "debugpyArgs": ["--log-to", "/tmp"]}, 10)
        assert refused["success"] is False and "processId, debugpyArgs" in refused["message"], refused
        launch = await client.request("launch", {"program": "/bin/true"}, 10)
        assert launch["success"] is False, launch
        attach = await client.send("attach", {"justMyCode": False})
        await client.event("initialized", 15)
        assert (await client.request("configurationDone", None, 10))["success"]
        assert (await client.response(attach, 10))["success"]
        threads = await client.request("threads", timeout=10)
        assert any(t["name"] == "MainThread" for t in threads["body"]["threads"])
        await client.request("disconnect", {"terminateDebuggee": False}, timeout=10)
        await client.close()

    asyncio.run(main())
