from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

APP = HERE / "debuggee_app.py"
BREAK_LINE = next(i for i, line in enumerate(APP.read_text().splitlines(), 1) if "BREAK_HERE" in line)


def ticked_since(ticks: List[float], t: float, timeout: float = 3.0) -> bool:
    """True once ``ticks`` (monotonic times of a program's heartbeat lines, appended by a
    reader thread) holds one after ``t``, waiting up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ticks and ticks[-1] > t:
            return True
        time.sleep(0.02)
    return False


class Debuggee:
    """tests/debuggee_app.py under debugpy.listen on 127.0.0.1:0; with ``guard``, its
    adapter starts through dbgrelay's adapter guard, as the agent starts it."""

    def __init__(self, nodelay: bool = False, guard: bool = False, env: Optional[Dict[str, str]] = None) -> None:
        env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1", **(env or {}))
        env["DBGRELAY_TEST_NODELAY"] = "1" if nodelay else "0"
        env["DBGRELAY_TEST_GUARD"] = "1" if guard else "0"
        self.proc = subprocess.Popen(
            [sys.executable, "-Xfrozen_modules=off", str(APP)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.proc.kill()
            raise RuntimeError(f"debuggee did not start (got {line!r})")
        self.port = int(line.split()[1])
        self.ticks: List[float] = []
        self.lines: List[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith("TICK"):
                self.ticks.append(time.monotonic())

    def running_since(self, t: float, timeout: float = 3.0) -> bool:
        """True once the main loop printed a TICK after monotonic time t."""
        return ticked_since(self.ticks, t, timeout)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def debuggee() -> Iterator[Debuggee]:
    d = Debuggee()
    yield d
    d.stop()


class Certs:
    """A CA, a server certificate for 127.0.0.1/localhost signed by it (chain file =
    leaf + CA, as the relay presents it), and an unrelated CA."""

    def __init__(self, root: Path) -> None:
        self.root = root

        def run(*args: str) -> None:
            subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=root)

        for ca in ("ca", "other-ca"):
            run(
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                f"{ca}.key",
                "-out",
                f"{ca}.pem",
                "-days",
                "2",
                "-subj",
                f"/CN=dbgrelay test {ca}",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign",
            )
        (root / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
        run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
        run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
        (root / "chain.pem").write_text((root / "server.pem").read_text() + (root / "ca.pem").read_text())
        self.ca = str(root / "ca.pem")
        self.other_ca = str(root / "other-ca.pem")
        self.chain = str(root / "chain.pem")
        self.key = str(root / "server.key")

    def der(self, name: str) -> bytes:
        import ssl

        return ssl.PEM_cert_to_DER_cert((self.root / f"{name}.pem").read_text())

    def fingerprint(self, name: str) -> str:
        import hashlib

        return "sha256:" + hashlib.sha256(self.der(name)).hexdigest()

    def server_context(self):  # type: ignore[no-untyped-def]
        import ssl

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.chain, self.key)
        return ctx


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    import shutil

    if shutil.which("openssl") is None:
        pytest.fail("openssl CLI is required to make test certificates and was not found on PATH")
    return Certs(tmp_path_factory.mktemp("certs"))
