"""What a DAP session has done so far, as seen by the bridge in both directions.

The bridge needs this to finish the session in an order debugpy's adapter survives
(see ``adaptersession.py`` and agent-py/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Set


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
    stopped: bool = False

    # -- client -> adapter -------------------------------------------------
    def on_client_message(self, m: Mapping[str, Any]) -> None:
        seq = m.get("seq")
        if isinstance(seq, int) and not isinstance(seq, bool):
            self.last_client_seq = max(self.last_client_seq, seq)
        if m.get("type") != "request":
            return
        command = m.get("command")
        if not isinstance(command, str):
            return
        self.sent.add(command)
        if isinstance(seq, int):
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
            elif event == "stopped":
                self.stopped = True
            elif event == "continued":
                self.stopped = False

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
