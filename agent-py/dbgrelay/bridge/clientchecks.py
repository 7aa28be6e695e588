"""The one check every parsed client message passes before it may reach the adapter.

The session's client pump (``clientpump.py``) calls :func:`admit_client_message` for
each client message, before the handshake state sees it. It

- drops ``dbgrelay.heartbeat`` events: the relay's echoes of the bridge's own
  heartbeats on a tcps data connection (docs/protocol.md §6, revision 1.7), which
  debugpy must never see;
- checks every request: every ``launch`` and an ``attach`` with arguments outside the
  allow-list are refused (:mod:`dbgrelay.attachpolicy`; an ``attach`` goes on without
  the keys that only matter on the debugger's machine, such as ``connect``), then the
  request must match the DAP schema and its debugpy-safe overlay
  (:mod:`dbgrelay.dapschema`). A refused request gets an error response
  (``success: false``, the message naming the keys or the field) and never reaches
  the adapter; the session goes on. Further per-request checks belong in
  :func:`check_request`;
- notes the time each request is forwarded, for
  :meth:`AdapterSession.oldest_pending_ms`.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Mapping, Optional, Protocol, Tuple

from ..attachpolicy import screen_start_request
from ..dapschema import validate_request
from .handshake import HandshakeState
from .liveness import HEARTBEAT_EVENT

log = logging.getLogger("dbgrelay.dap")

#: Requests debugpy 1.8 does not implement and never answers: its adapter waits for
#: pydevd's answer one request at a time, so one of these stalls the session for good
#: (docs/debugpy-faults.md). No DAP client sends them to debugpy, whose capabilities do
#: not announce them; the bridge answers them itself. The relay keeps the same list
#: (src/session/requestValidation.ts).
UNANSWERED_BY_DEBUGPY = frozenset({"loadedSources", "terminateThreads", "breakpointLocations", "cancel"})

#: debugpy's own requests between its adapter and pydevd, never a client's: a client's
#: ``pydevdAuthorize`` with a wrong token logs pydevd out, after which it refuses every
#: request (``continue`` and ``disconnect`` included) and a paused program stays paused.
INTERNAL_TO_DEBUGPY = frozenset({"pydevdAuthorize", "pydevdSystemInfo"})

#: Longest field pointer a refusal shows (it may hold a client's key names).
MAX_FIELD_CHARS = 256


def _shown(text: str) -> str:
    """``text`` bounded and with control characters replaced (it reaches logs)."""
    text = text if len(text) <= MAX_FIELD_CHARS else text[:MAX_FIELD_CHARS] + "…"
    return "".join(c if c.isprintable() else "?" for c in text)


def check_request(message: Mapping[str, Any]) -> Tuple[Optional[str], Mapping[str, Any]]:
    """``(refusal, message to forward)`` for a parsed client request: the refusal is
    the error response's message (None: the request goes on, possibly changed).
    Every parsed client request is checked here."""
    refusal, message = screen_start_request(message)
    if refusal is None:
        invalid = validate_request(message)
        if invalid is not None:
            field, expected = invalid
            refusal = f"request refused by dbgrelay: {_shown(field) or 'the message'} {_shown(expected)} (DAP schema)"
        elif message.get("command") in UNANSWERED_BY_DEBUGPY:
            refusal = f"request refused by dbgrelay: debugpy does not implement {message.get('command')} and would never answer"
        elif message.get("command") in INTERNAL_TO_DEBUGPY:
            refusal = f"request refused by dbgrelay: {message.get('command')} is debugpy's own request between its adapter and the debuggee"
    return refusal, message


class AdmittingSession(Protocol):
    """What :func:`admit_client_message` needs of the session (``AdapterSession``)."""

    label: str
    state: HandshakeState

    def refuse_request(self, request: Mapping[str, Any], message: str) -> None: ...
    def note_forwarded(self, seq: int, at: float) -> None: ...


def admit_client_message(session: AdmittingSession, message: Mapping[str, Any]) -> Optional[Mapping[str, Any]]:
    """The message to forward to the adapter (``message`` itself unless it had to be
    changed), or None when it was dropped or answered by the bridge itself."""
    kind = message.get("type")
    if kind == "event":
        return None if message.get("event") == HEARTBEAT_EVENT else message
    if kind != "request":
        return message
    refusal, forwarded = check_request(message)
    if refusal is not None:
        session.state.note_client_seq(message)
        log.warning("session %s: refused a client %r request: %s", session.label, str(message.get("command"))[:40], refusal)
        session.refuse_request(message, refusal)
        return None
    seq = message.get("seq")
    if isinstance(seq, int) and not isinstance(seq, bool):
        session.note_forwarded(seq, time.monotonic())
    return forwarded
