"""How the bridge notices a relay that went silent (docs/protocol.md §6).

A network black hole between agent and relay (packets dropped, no FIN or RST) leaves
a connection that TCP alone reports only after many minutes, while the debuggee may
sit paused at a breakpoint. So every connection to the relay has two bounds:

- **TCP keepalive** on every socket (control and data): after ``keepalive_idle_s`` of
  idleness the kernel probes every ``keepalive_interval_s`` and drops the connection
  after ``keepalive_count`` unanswered probes; ``TCP_USER_TIMEOUT`` (Linux) bounds
  unacknowledged data the same way. With the defaults (15 s, 5 s, 3) a dead peer is
  found within 30 s. This is the floor under everything else.
- **An application deadline on each data connection**, tighter and independent of
  any middlebox that answers keepalive probes itself:

  - wss: the bridge pings the relay every ``heartbeat.intervalMs`` of the
    ``registered`` message (the relay's own pings come every ``heartbeat.intervalMs``
    of *its* session config, 20 s by default, so the bridge does not depend on them),
    and a connection from which nothing arrived (no frame, no ping, no pong) for
    ``heartbeat.timeoutMs`` is dead;
  - tcps (revision 1.7): the ``agentData`` hello carries ``heartbeatMs`` (the same
    interval); a 1.7 relay answers ``heartbeatTimeoutMs`` T, echoes every
    ``dbgrelay.heartbeat`` event the bridge sends and never forwards it to the client.
    The bridge sends heartbeats only when the reply carried T (an older relay would
    forward them to the client) and takes a relay silent for T as gone.

A dead data connection ends the client side of its session: the session's teardown
detaches the adapter (``disconnect`` with ``terminateDebuggee: false``), so the
program resumes. Every value is an option of :class:`RelayLiveness`.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from typing import Any, Optional

from ..dapframing import DapReader, encode_message
from ..errors import DapFramingError

#: The event a tcps data connection's heartbeats are made of (docs/protocol.md §6): on
#: tcps a data connection carries nothing but DAP, so the heartbeat is a DAP event the
#: relay answers in kind and never forwards (wss uses WebSocket pings instead).
HEARTBEAT_EVENT = "dbgrelay.heartbeat"

#: The bytes of one heartbeat the bridge sends toward the relay.
HEARTBEAT_FRAME = encode_message({"seq": 0, "type": "event", "event": HEARTBEAT_EVENT})


log = logging.getLogger("dbgrelay.control")

#: Used until a ``registered`` message said otherwise (the relay's defaults).
DEFAULT_HEARTBEAT_INTERVAL_MS = 5_000
DEFAULT_HEARTBEAT_TIMEOUT_MS = 15_000
#: Bounds of ``heartbeatMs`` in a hello (docs/protocol.md §6).
MIN_HEARTBEAT_MS, MAX_HEARTBEAT_MS = 100, 3_600_000


@dataclass(frozen=True)
class RelayLiveness:
    """Liveness options of the bridge's connections to the relay."""

    keepalive_idle_s: int = 15
    keepalive_interval_s: int = 5
    keepalive_count: int = 3
    #: Heartbeat interval on data connections; None: ``registered``'s ``heartbeat.intervalMs``.
    data_heartbeat_ms: Optional[int] = None
    #: Silence after which a wss data connection is dead; None: ``registered``'s ``heartbeat.timeoutMs``.
    #: (A tcps data connection uses the relay's ``heartbeatTimeoutMs``.)
    data_timeout_ms: Optional[int] = None

    @property
    def keepalive_bound_s(self) -> int:
        """Longest time TCP takes to report a dead peer with these settings."""
        return self.keepalive_idle_s + self.keepalive_interval_s * self.keepalive_count


@dataclass(frozen=True)
class DataHeartbeat:
    """What one data connection uses: send every ``interval_ms``, dead after ``timeout_ms``."""

    interval_ms: int
    timeout_ms: int


def data_heartbeat(liveness: RelayLiveness, registered_interval_ms: int, registered_timeout_ms: int) -> DataHeartbeat:
    """The data connections' heartbeat from the options and the ``registered`` message."""
    interval = liveness.data_heartbeat_ms or registered_interval_ms
    interval = max(MIN_HEARTBEAT_MS, min(MAX_HEARTBEAT_MS, interval))
    timeout = liveness.data_timeout_ms or registered_timeout_ms
    return DataHeartbeat(interval, max(timeout, interval + 1))


def set_keepalive(sock: Any, liveness: RelayLiveness = RelayLiveness()) -> None:
    """TCP keepalive (and ``TCP_USER_TIMEOUT`` where there is one) on a TCP socket to
    the relay, so that a dead peer is found within ``liveness.keepalive_bound_s``."""
    if getattr(sock, "family", None) not in (socket.AF_INET, socket.AF_INET6):
        return
    options = [
        (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),
        # macOS names TCP_KEEPIDLE TCP_KEEPALIVE
        (socket.IPPROTO_TCP, getattr(socket, "TCP_KEEPIDLE", getattr(socket, "TCP_KEEPALIVE", None)), liveness.keepalive_idle_s),
        (socket.IPPROTO_TCP, getattr(socket, "TCP_KEEPINTVL", None), liveness.keepalive_interval_s),
        (socket.IPPROTO_TCP, getattr(socket, "TCP_KEEPCNT", None), liveness.keepalive_count),
        (socket.IPPROTO_TCP, getattr(socket, "TCP_USER_TIMEOUT", None), liveness.keepalive_bound_s * 1000),
    ]
    for level, name, value in options:
        if name is None:
            continue
        try:
            sock.setsockopt(level, name, value)
        except (OSError, AttributeError) as exc:
            log.debug("cannot set socket option %s: %s", name, exc)


def is_heartbeat_frame(reader: DapReader, frame: bytes, body_at: int) -> bool:
    """Is this frame a ``dbgrelay.heartbeat`` event (the relay's echo)?"""
    if frame.find(HEARTBEAT_EVENT.encode("ascii"), body_at) < 0:
        return False
    try:
        message = reader.parse(frame, body_at)
    except DapFramingError:
        return False  # the pump refuses it
    return message.get("type") == "event" and message.get("event") == HEARTBEAT_EVENT
