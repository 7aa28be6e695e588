"""What a DAP session has done so far, as seen by the bridge in both directions.

The bridge needs this to finish the session in an order debugpy's adapter survives
(see ``adaptersession.py`` and agent-py/README.md).

Every client message is parsed (and must be a JSON object: nothing else reaches the
adapter). An adapter message is parsed only while the answer could matter
(:meth:`HandshakeState.adapter_needs_parse`): until the greeting is complete, and while
a handshake request is unanswered. The requests that add to ``pending`` are parsed
before they are forwarded, so their answers cannot slip by. Once attached, the
adapter's answers (stack traces, variables: the large messages) are only framed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, Mapping, Set

HANDSHAKE: FrozenSet[str] = frozenset({"initialize", "attach", "configurationDone", "disconnect", "terminate"})


@dataclass
class HandshakeState:
    last_client_seq: int = 0
    sent: Set[str] = field(default_factory=set)  # commands the client sent
    answered: Set[str] = field(default_factory=set)  # commands the adapter answered
    pending: Dict[int, str] = field(default_factory=dict)  # client seq -> command
    greeting_events: int = 0  # telemetry "output" events the adapter sent first
    initialized_event: bool = False
    attach_failed: bool = False
    sub_process: bool = False  # attach{subProcessId}

    # -- client -> adapter -------------------------------------------------
    def note_client_seq(self, m: Mapping[str, Any]) -> None:
        """Keep the bridge's own seq numbers above this client message's (also one
        that never reaches the adapter)."""
        seq = m.get("seq")
        if isinstance(seq, int) and not isinstance(seq, bool):
            self.last_client_seq = max(self.last_client_seq, seq)

    def on_client_message(self, m: Mapping[str, Any]) -> None:
        self.note_client_seq(m)
        seq = m.get("seq")
        if m.get("type") != "request":
            return
        command = m.get("command")
        if not isinstance(command, str):
            return
        self.sent.add(command)
        if command in HANDSHAKE and isinstance(seq, int):
            self.pending[seq] = command
        if command == "attach":
            args = m.get("arguments")
            if isinstance(args, dict) and "subProcessId" in args:
                self.sub_process = True

    # -- adapter -> client -------------------------------------------------
    def on_adapter_message(self, m: Mapping[str, Any]) -> None:
        kind = m.get("type")
        if kind == "response":
            command = self.pending.pop(m.get("request_seq"), None) or m.get("command")
            if isinstance(command, str):
                self.answered.add(command)
                if command == "attach" and not m.get("success", False):
                    self.attach_failed = True
        elif kind == "event":
            event = m.get("event")
            if event == "output" and (m.get("body") or {}).get("category") == "telemetry":
                self.greeting_events += 1
            elif event == "initialized":
                self.initialized_event = True

    def adapter_needs_parse(self) -> bool:
        """Must the next adapter message be parsed? Yes before the greeting is complete
        and while a request (the client's handshake requests or the bridge's own) or a
        handshake command waits for its answer."""
        return self.greeting_events < 2 or bool(self.pending) or not (self.sent & HANDSHAKE) <= self.answered

    # -- questions the teardown asks ---------------------------------------
    @property
    def greeted(self) -> bool:
        """The adapter finished sending its greeting (two telemetry events)."""
        return self.greeting_events >= 2

    def awaiting(self, command: str) -> bool:
        return command in self.pending.values()

    @property
    def ended_by_client(self) -> bool:
        return "disconnect" in self.sent or "terminate" in self.sent

    def next_seq(self) -> int:
        self.last_client_seq += 1
        return self.last_client_seq
