"""The control connection (docs/protocol.md §5): register, heartbeat, open, reconnect.

Reconnect policy: every lost or refused connection is retried with
:class:`~dbgrelay.backoff.Backoff` (fast window, then full jitter up to 5 s), reset
after a successful ``registered``, for as long as the program runs: the program never
waits for it. A ``goaway`` (revision 1.5: the relay drains) closes the connection and
the next attempt waits ``retryAfterMs`` plus a jittered delay from past the fast
window, so a draining relay is never redialed at once; a relay still draining then
refuses with ``RELAY_DRAINING`` and the backoff grows.

Failures are logged once per change (:class:`~dbgrelay.bridge.attemptlog.AttemptLog`):
a relay that stays down is one warning, not one a second. Refusals such as
``AUTH_FAILED`` and certificate trust failures are errors, named with their fix, and
retried too (the relay's secret may be fixed or reloaded without restarting the
debuggee); each is also reported to the parent, so ``wait_registered`` can fail fast.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import uuid
from collections import deque
from typing import Any, Awaitable, Callable, Deque, Dict, Optional, Set

from ..backoff import Backoff
from ..errors import LIMIT_REACHED, RELAY_DRAINING, TLS_VERIFY_FAILED, DbgRelayError, ProtocolError, TrustError
from ..trust.failurehint import explain as explain_verify_failure
from .attemptlog import AttemptLog
from .controlchannels import ControlChannel
from .prefetch import PrefetchSettings
from .relayconn import RelayDialer, RelayRefused

log = logging.getLogger("dbgrelay.control")

HANDSHAKE_TIMEOUT_S = 10.0
DEFAULT_TIMEOUT_MS = 15000
#: Wait after a ``goaway`` without ``retryAfterMs``.
DEFAULT_GOAWAY_S = 2.0
#: Refusals that say "later", not "never": not reported to the parent as a refusal.
TRANSIENT_REFUSALS = (RELAY_DRAINING, LIMIT_REACHED)
#: What to do about a refusal, by code (logged with it).
REFUSAL_FIXES = {
    "AUTH_FAILED": (
        "check the agent's credential (--token-file / DBGRELAY_TOKEN, --agent-secret-file / DBGRELAY_AGENT_SECRET, "
        "the secret file or DBGRELAY_SECRET) against the relay's, and that it may register this name (register:NAME)"
    ),
    "AUTH_REQUIRED": "give the agent a credential the relay accepts (and a client certificate if the relay asks for one)",
    "AUTH_LOCKED": "too many failed attempts from this address: the relay lets it in again after its lockout time",
    "TARGET_NAME_IN_USE": "another process is registered under this name: give each process its own --name (e.g. with {pid})",
    TLS_VERIFY_FAILED: "check --ca / --fingerprint (dbgrelay certs fingerprint on the relay host prints it) and the name in --relay",
}


def refusal_fix(code: str) -> str:
    """What to do about a refusal with ``code``; the agent keeps retrying meanwhile."""
    return REFUSAL_FIXES.get(code, "see the relay's log") + "; retrying in the background"


#: Messages from the debuggee (``guard``, ``status``: revision 1.8) kept while the relay is unreachable.
MAX_NOTICES = 32


class ControlLoop:
    def __init__(
        self,
        dialer: RelayDialer,
        register: Dict[str, Any],
        on_open: Callable[..., "Awaitable[Any]"],
        report: Callable[[Dict[str, Any]], None],
        backoff: Optional[Backoff] = None,
    ) -> None:
        self.dialer = dialer
        self.agent_id = str(uuid.uuid4())  # once per bridge process, kept across reconnects
        self.register = dict(register, type="register", agentId=self.agent_id)
        self.on_open = on_open
        self.report = report
        self.backoff = backoff or Backoff()
        self.registrations = 0
        self.attempts = AttemptLog(log)
        self._tasks: Set["asyncio.Future[Any]"] = set()
        self._stopping = False
        self._task: Optional["asyncio.Future[Any]"] = None
        #: Seconds the next reconnect waits at least (set by ``goaway``).
        self._goaway_wait: Optional[float] = None
        self.goaways = 0
        #: the registered control connection, while there is one
        self._channel: Optional[ControlChannel] = None
        self._notices: Deque[Dict[str, Any]] = deque(maxlen=MAX_NOTICES)
        self._status: Optional[Dict[str, Any]] = None
        self._flusher: Optional["asyncio.Future[Any]"] = None
        self._flushing: Optional[ControlChannel] = None

    def start(self) -> "asyncio.Future[Any]":
        self._task = asyncio.ensure_future(self.run_forever())
        return self._task

    async def stop(self) -> None:
        """Stop for good. A flag as well as cancel(): Python 3.11's wait_for can
        swallow a cancellation that races with a completed read."""
        self._stopping = True
        for task in [self._task, *self._tasks]:
            if task is not None:
                task.cancel()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def run_forever(self) -> None:
        where = self.dialer.endpoint.display()
        while not self._stopping:
            try:
                await self.run_once()
                self.attempts.failed("closed", logging.WARNING, f"control connection to {where} closed; reconnecting")
            except RelayRefused as exc:
                if exc.code in TRANSIENT_REFUSALS:
                    self.attempts.failed(exc.code, logging.WARNING, f"relay {where} cannot take the agent now: {exc.code} ({exc.relay_message})")
                else:
                    self.attempts.failed(exc.code, logging.ERROR, f"relay {where} refused the agent: {exc.code} ({exc.relay_message}); {refusal_fix(exc.code)}")
                    self.report({"event": "refused", "code": exc.code, "message": exc.relay_message})
            except TrustError as exc:
                self.attempts.failed(exc.code, logging.ERROR, f"{exc}; {refusal_fix(TLS_VERIFY_FAILED)}")
                self.report({"event": "refused", "code": exc.code, "message": str(exc)})
                self.dialer.trust.forget()
            except ssl.SSLCertVerificationError as exc:
                # With the fix named when the name does not match or the CA is unknown (the same words as the relay's client).
                explained = await explain_verify_failure(exc, self.dialer.endpoint.host, self.dialer.endpoint.port, self.dialer.trust)
                message = explained or f"relay certificate not trusted: {exc.verify_message or exc}"
                fix = "retrying in the background" if explained else refusal_fix(TLS_VERIFY_FAILED)
                self.attempts.failed(TLS_VERIFY_FAILED, logging.ERROR, f"{message}; {fix}")
                self.report({"event": "refused", "code": TLS_VERIFY_FAILED, "message": message})
                self.dialer.trust.forget()
            except (OSError, asyncio.TimeoutError, ProtocolError, DbgRelayError) as exc:
                self.attempts.failed(str(exc) or type(exc).__name__, logging.WARNING, f"control connection to {where} failed: {exc or type(exc).__name__}")
            except Exception as exc:  # e.g. a hello reply line over its bound (ValueError)
                self.attempts.failed(type(exc).__name__, logging.WARNING, f"control connection to {where} failed: {type(exc).__name__}: {exc}")
            if self._stopping:
                return
            delay = self._next_delay()
            log.debug("reconnecting in %.2f s (attempt %d)", delay, self.backoff.attempts)
            await asyncio.sleep(delay)

    def _next_delay(self) -> float:
        wait, self._goaway_wait = self._goaway_wait, None
        if wait is None:
            return self.backoff.next_delay()
        # Past the fast-retry window: the relay asked us not to come back at once.
        self.backoff.attempts = max(self.backoff.attempts, self.backoff.fast_attempts)
        return wait + self.backoff.next_delay()

    async def run_once(self) -> None:
        channel = await asyncio.wait_for(self.dialer.open_control(), HANDSHAKE_TIMEOUT_S + 5)
        try:
            await channel.send(self.register)
            reply = await asyncio.wait_for(channel.recv(), HANDSHAKE_TIMEOUT_S)
            if reply is None:
                raise ConnectionError("relay closed the control connection before registering")
            if reply.get("type") == "error":
                raise RelayRefused(reply["code"], reply["message"])
            if reply.get("type") != "registered":
                raise ProtocolError(f"expected 'registered', got {reply.get('type')!r}")
            timeout_ms = reply["heartbeat"]["timeoutMs"]
            # the data connections' heartbeat follows the relay's (liveness.py)
            self.dialer.note_registered(reply["heartbeat"]["intervalMs"], timeout_ms)
            self.backoff.reset()
            self.registrations += 1
            log.info("registered target %r with %s (heartbeat timeout %d ms)", reply["target"], self.dialer.endpoint.display(), timeout_ms)
            self.attempts.succeeded(f"registered target {reply['target']!r} with {self.dialer.endpoint.display()}")
            self.report({"event": "registered", "target": reply["target"]})
            self._channel = channel
            if self._status is not None and self._status not in self._notices:
                self._notices.appendleft(self._status)  # the relay forgets it with the old connection
            self._flush_notices()
            await self._serve(channel, timeout_ms / 1000.0)
        finally:
            self._channel = None
            await channel.close()

    def relay_notice(self, message: Dict[str, Any]) -> None:
        """Send a message of the debuggee to the relay (``guard``, ``status``): now when
        registered, else after the next registration (the last ``MAX_NOTICES``). The
        latest ``status`` is sent again after every registration."""
        if message.get("type") == "status":
            self._status = message
        self._notices.append(message)
        self._flush_notices()

    def _flush_notices(self) -> None:
        channel = self._channel
        if channel is None or not self._notices:
            return
        if self._flusher is not None and not self._flusher.done() and self._flushing is channel:
            return  # that flush sends this message too

        async def flush() -> None:
            while self._notices and self._channel is channel:
                message = self._notices.popleft()
                try:
                    await channel.send(message)
                except Exception as exc:  # noqa: BLE001 - kept for the next connection
                    log.debug("could not send a notice to the relay: %s", exc)
                    self._notices.appendleft(message)
                    return

        self._flushing = channel
        self._flusher = asyncio.ensure_future(flush())

    async def _serve(self, channel: ControlChannel, timeout_s: float) -> None:
        while not self._stopping:
            try:
                message = await asyncio.wait_for(channel.recv(), timeout_s)
            except asyncio.TimeoutError:
                log.warning("nothing from the relay for %.1f s; dropping the control connection", timeout_s)
                return
            if message is None:
                return
            kind = message.get("type")
            if kind == "ping":
                await channel.send({"type": "pong", "id": message["id"]})
            elif kind == "open":
                self._spawn(channel, message["sessionId"], PrefetchSettings.from_open(message.get("prefetch")))
            elif kind == "goaway":
                retry_ms = message.get("retryAfterMs")
                valid = isinstance(retry_ms, int) and not isinstance(retry_ms, bool) and 0 <= retry_ms <= 3_600_000
                self._goaway_wait = retry_ms / 1000.0 if valid else DEFAULT_GOAWAY_S
                self.goaways += 1
                log.info("relay goes away (%s); reconnecting in %.1f s or later", str(message.get("reason", ""))[:200], self._goaway_wait)
                return
            elif kind == "error":
                log.warning("relay error on the control connection: %s (%s)", message["code"], message["message"])
                if message["code"] in ("AUTH_FAILED", "AUTH_REQUIRED", "TARGET_NAME_IN_USE"):
                    self.report({"event": "refused", "code": message["code"], "message": message["message"]})
                return
            # anything else (registered again, unknown types) is ignored (§5)

    def _spawn(self, channel: ControlChannel, session_id: str, prefetch: Optional[PrefetchSettings]) -> None:
        async def open_session() -> None:
            try:
                await (self.on_open(session_id, prefetch) if prefetch is not None else self.on_open(session_id))
            except Exception as exc:
                text = str(exc) if isinstance(exc, DbgRelayError) else f"{type(exc).__name__}: {exc}"
                log.warning("could not open data connection for a session: %s", text)
                try:
                    await channel.send({"type": "openFailed", "sessionId": session_id, "message": text[:1024] or "data connection failed"})
                except Exception:
                    pass

        task = asyncio.ensure_future(open_session())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
