"""Starting and stopping the bridge process from the debuggee (parent side)."""

from __future__ import annotations

import atexit
import json
import logging
import os
import subprocess
import sys
import threading
import time
from typing import Any, Dict, Optional, Tuple

from .agentthreads import start_hidden_thread
from .credentials import CREDENTIAL_ENV_VARS
from .errors import REGISTRATION_TIMEOUT, ConfigError, RegistrationError
from .logsetup import log_forwarded
from .pauseownership import OwnershipTracker

log = logging.getLogger("dbgrelay.agent")


#: One line to the bridge is written whole or not at all (POSIX: pipe writes up to
#: PIPE_BUF bytes are atomic), so a stopped bridge never blocks the writer.
MAX_LINE_BYTES = 4096


class BridgeProcess:
    """``python -m dbgrelay.bridge``: config on stdin, events on stdout, stderr inherited.

    Spawn it *before* ``debugpy.listen``: after that, pydevd patches subprocess
    creation and would inject the debugger into the bridge. After the config line,
    stdin carries ``{"event": "relay", "message": {...}}`` lines (control messages
    for the relay, from the pause guard), written without blocking. The thread that
    reads the bridge's events is hidden from the debugger, so it also runs while
    the program is paused (the pause guard relies on its ``alive`` events).
    """

    def __init__(self, pass_fds: Tuple[int, ...] = ()) -> None:
        # credentials reach the bridge on its stdin only (send_config), never via env or argv
        env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_ENV_VARS}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dbgrelay.bridge"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,
            env=env,
            close_fds=True,
            pass_fds=pass_fds,
        )
        self.registered = threading.Event()
        self.listening = threading.Event()  # direct endpoint mode
        self.exited = threading.Event()
        self.last_refusal: Optional[Dict[str, Any]] = None
        self._refused = threading.Event()
        #: the bridge's liveness reports, for the pause guard
        self.ownership = OwnershipTracker()
        self._write_lock = threading.Lock()
        self._configured = False
        self._pid = os.getpid()
        if hasattr(os, "register_at_fork"):
            # A child forked while another thread held the lock would block on it at
            # exit; the child never writes to or closes its parent's bridge anyway.
            os.register_at_fork(after_in_child=self._after_fork_in_child)
        start_hidden_thread(self._read_events, "dbgrelay-bridge-events")
        atexit.register(self.stop)

    def _after_fork_in_child(self) -> None:
        self._write_lock = threading.Lock()
        self._configured = False

    def send_config(self, config: Dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        with self._write_lock:
            self.proc.stdin.write((json.dumps(config) + "\n").encode("utf-8"))
            self.proc.stdin.flush()  # the pipe stays open: its EOF tells the bridge to exit
            try:
                os.set_blocking(self.proc.stdin.fileno(), False)
            except (OSError, AttributeError, ValueError):  # pragma: no cover - platforms without it
                log.warning("cannot make the bridge's stdin non-blocking; a stopped bridge may delay the pause guard's reports")
            self._configured = True

    def send_to_relay(self, message: Dict[str, Any]) -> bool:
        """Hand a control message to the bridge for the relay; False when it could not
        be written now (bridge stopped with a full pipe, gone, or not configured)."""
        line = (json.dumps({"event": "relay", "message": message}, separators=(",", ":")) + "\n").encode("utf-8")
        if len(line) > MAX_LINE_BYTES:
            return False
        with self._write_lock:
            stdin = self.proc.stdin
            if not self._configured or stdin is None or stdin.closed:
                return False
            try:
                return os.write(stdin.fileno(), line) == len(line)
            except OSError:  # BlockingIOError (pipe full), BrokenPipeError (bridge gone)
                return False

    def _read_events(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if not isinstance(event, dict):
                continue
            if event.get("event") == "alive":
                self.ownership.on_alive(event)
            elif event.get("event") == "log":
                log_forwarded(event, self.proc.pid)
            elif event.get("event") == "registered":
                self.registered.set()
            elif event.get("event") == "listening":
                self.listening.set()
            elif event.get("event") == "refused":
                self.last_refusal = event
                self._refused.set()
        self.ownership.on_bridge_exit()
        self.exited.set()

    def wait_registered(self, timeout: float) -> None:
        """Block until registered; raise :class:`RegistrationError` on a refusal,
        bridge exit or timeout. The bridge keeps retrying in the background for as long
        as this process runs, whether or not anyone waits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.registered.wait(0.05):
                return
            if self._refused.is_set() and self.last_refusal is not None:
                r = self.last_refusal
                raise RegistrationError(f"relay refused the agent: {r.get('code')}: {r.get('message')}", code=str(r.get("code")))
            if self.exited.is_set():
                raise RegistrationError("the dbgrelay bridge process exited; see its messages on stderr")
        raise RegistrationError(f"target not registered with the relay within {timeout:g} s", code=REGISTRATION_TIMEOUT)

    def wait_listening(self, timeout: float) -> None:
        """Direct endpoint mode: block until the bridge serves the listening socket;
        raise :class:`ConfigError` if it refused its configuration or exited."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.listening.wait(0.05):
                return
            if self._refused.is_set() and self.last_refusal is not None:
                raise ConfigError(f"the debug endpoint did not start: {self.last_refusal.get('message')}")
            if self.exited.is_set():
                raise ConfigError("the dbgrelay bridge process exited; see its messages on stderr")
        raise ConfigError(f"the debug endpoint did not start within {timeout:.0f} s")

    def stop(self) -> None:
        """Close the bridge's stdin: it exits, and the relay drops the target (only in
        the process that started the bridge, never in a forked child)."""
        if os.getpid() != self._pid:
            return
        with self._write_lock:
            try:
                if self.proc.stdin is not None and not self.proc.stdin.closed:
                    self.proc.stdin.close()
            except OSError:
                pass
