"""Sending ahead, on a stop, the answers the client will ask for next (docs/protocol.md
§6, "Prefetch on stopped", revision 1.13).

Over a real network every request after a ``stopped`` event is a round trip to the
debuggee: ``threads``, ``stackTrace``, ``scopes``, ``variables``, one after another,
before the debugger shows anything. When the relay asks for it in ``open``, the
bridge, next to debugpy, asks those requests itself as soon as the adapter reports a
stop, and sends the answers to the client in one ``dbgrelay.prefetch`` event *before*
the ``stopped`` event, so that ``dbgrelay attach`` answers the client's identical
requests at once (``src/client/prefetchCache.ts``). Each answer travels as the exact
bytes debugpy wrote (a JSON string), so the client gets what debugpy would have
answered, except ``seq`` and ``request_seq``.

How the stream stays right:

- From the ``stopped`` event on, the adapter's frames are held (in order) until the
  first-view answers are in or ``max_hold_s`` has passed; then the event, the
  ``stopped`` event and the held frames go on. The bridge's own answers never reach
  the client as responses (their ``request_seq`` is the bridge's,
  :data:`PREFETCH_SEQ_BASE` and up); late ones are dropped.
- The event names the stop (``stop``: how many ``stopped`` events this session has
  forwarded, this one included) and the last client request the adapter had seen
  (``afterSeq``). A client that sent a request which may change state after
  ``afterSeq``, or has seen another stop, uses none of it. A request of the client
  that may change state while the bridge is asking ends the prefetch of that stop:
  nothing is sent for it.
- What is sent counts against ``max_bytes`` per stop (the answers as they travel in
  the event, escaped); an answer that does not fit is left out, and the client asks
  for it as before. After the first view is out, the children of the values in the
  top frame's first scope that are built-in containers follow in a second event (the
  values a user expands next; listing other objects would run their property
  getters), within what is left of the budget; containers with more than
  :data:`MAX_NESTED_CHILDREN` children stay lazy.
- A ``stopped`` event that comes while another is held is counted too (``stop`` is
  what the client counts); the answers of a stop that was followed by another before
  they went out are not sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from ..dapframing import encode_message

# debugpy's spelling of a response's start: only answers spelled so are sent ahead,
# because the client replaces exactly those two numbers
from .pendingrequests import RESPONSE_START

log = logging.getLogger("dbgrelay.dap")

#: Requests that only read the debuggee's state. Any other client request may change
#: it, and makes what was sent ahead stale. The client keeps the same list
#: (``src/protocol/readOnlyRequests.ts``); both are checked against
#: ``test/fixtures/readOnlyRequests.json``.
READ_ONLY_COMMANDS = frozenset({"threads", "stackTrace", "scopes", "variables", "source", "modules", "exceptionInfo"})

#: seq numbers of the bridge's own requests to the adapter on a stop (far from any
#: client's, from the bridge's own messages to the client, and from the relay's own).
PREFETCH_SEQ_BASE = 0x2FFE0000
#: seq numbers of the bridge's ``dbgrelay.prefetch`` events to the client.
PREFETCH_EVENT_SEQ_BASE = 0x2FFD0000
#: The relay's own requests to the adapter start here (docs/protocol.md §6): they
#: count as changes, but their seq is no client's, so ``afterSeq`` never takes it.
RELAY_SEQ_BASE = 0x1FFFFC00
#: Children are sent ahead only for values of these types: listing them runs no code of
#: the program's (no property getters, no ``__getattr__``), only the ``repr`` of their
#: items, which the debugger shows for any value.
CONTAINER_TYPES = frozenset({"dict", "list", "tuple", "set", "frozenset"})
#: The event that carries the answers.
PREFETCH_EVENT = "dbgrelay.prefetch"
#: VS Code asks for the top frame first, then the next page of frames.
FIRST_FRAMES = {"startFrame": 0, "levels": 1}
MORE_FRAMES = {"startFrame": 1, "levels": 19}
#: Children of more values than this stay lazy.
MAX_NESTED_VALUES = 32
#: A value with more children than this stays lazy.
MAX_NESTED_CHILDREN = 100

_STOPPED = re.compile(rb'"event": ?"stopped"')
_PROBE_BYTES = 256


@dataclass(frozen=True)
class PrefetchSettings:
    """What the relay allows in ``open`` (``prefetch.maxBytes``, ``prefetch.maxHoldMs``)."""

    max_bytes: int
    max_hold_s: float

    @staticmethod
    def from_open(value: Any) -> Optional["PrefetchSettings"]:
        """The settings of an ``open`` message's ``prefetch`` member (already
        validated by :mod:`dbgrelay.protocol`), None when absent."""
        if not isinstance(value, dict):
            return None
        return PrefetchSettings(int(value["maxBytes"]), int(value["maxHoldMs"]) / 1000.0)


Answer = Tuple[str, Dict[str, Any], bytes, Dict[str, Any]]  # command, arguments, body bytes, parsed body


class StopPrefetcher:
    """The adapter→client path of one session when prefetch is on: frames come in
    whole (:meth:`on_adapter_frames`), go out through ``write_client``."""

    def __init__(
        self,
        label: str,
        settings: PrefetchSettings,
        write_adapter: Callable[[bytes], bool],
        write_client: Callable[[bytes], None],
        parse: Callable[[bytes, int], Dict[str, Any]],
    ) -> None:
        self.label = label
        self.settings = settings
        self._write_adapter = write_adapter
        self._write_client = write_client
        self._parse = parse
        self._seq = PREFETCH_SEQ_BASE
        self._waiting: Dict[int, "asyncio.Future[Tuple[bytes, int]]"] = {}
        self._unanswered: Set[int] = set()  # own requests whose answer is still to come (dropped when it does)
        self._closed = False
        self._held: Optional[List[bytes]] = None
        self._stops = 0
        self._last_client_seq = 0
        self._changes = 0  # client requests that may change state, forwarded so far
        self._task: Optional["asyncio.Future[None]"] = None
        self._event_seq = PREFETCH_EVENT_SEQ_BASE
        #: for logs and tests: (stop, answers sent, bytes sent) per event
        self.sent: List[Tuple[int, int, int]] = []

    # -- what the client does --------------------------------------------------
    def note_client_request(self, seq: Any, command: Any) -> None:
        """A client request goes to the adapter (after the bridge's checks)."""
        if isinstance(seq, int) and not isinstance(seq, bool) and self._last_client_seq < seq < RELAY_SEQ_BASE:
            self._last_client_seq = seq
        if command not in READ_ONLY_COMMANDS:
            self._changes += 1

    # -- the adapter's stream ----------------------------------------------------
    def on_adapter_frames(self, frames: List[Tuple[bytes, int]]) -> None:
        out: List[bytes] = []
        for frame, body_at in frames:
            start = RESPONSE_START.match(frame, body_at)
            if start is not None and int(start.group(1)) in self._unanswered:
                self._on_own_answer(int(start.group(1)), frame, body_at)
            elif self._held is not None:
                self._held.append(frame)
                if self._stopped_event(frame, body_at) is not None:
                    self._stops += 1  # counted as the client will count it
            elif not self._closed and (stopped := self._stopped_event(frame, body_at)) is not None:
                if out:
                    self._write_client(b"".join(out))
                    out = []
                self._on_stopped(frame, stopped)
            else:
                out.append(frame)
        if out:
            self._write_client(b"".join(out))

    def close(self) -> None:
        """Asks nothing more; what is held goes on now."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
        for future in self._waiting.values():
            future.cancel()
        self._waiting.clear()
        self._release()

    def _stopped_event(self, frame: bytes, body_at: int) -> Optional[Dict[str, Any]]:
        """The frame's message when it is a ``stopped`` event (parsed only then)."""
        if _STOPPED.search(frame, body_at, body_at + _PROBE_BYTES) is None:
            return None
        message = self._parse(frame, body_at)
        return message if message.get("type") == "event" and message.get("event") == "stopped" else None

    def _on_own_answer(self, seq: int, frame: bytes, body_at: int) -> None:
        self._unanswered.discard(seq)
        future = self._waiting.pop(seq, None)
        if future is not None and not future.done():
            future.set_result((frame, body_at))

    def _on_stopped(self, frame: bytes, stopped: Dict[str, Any]) -> None:
        self._stops += 1
        self._held = [frame]
        body = stopped.get("body") or {}
        thread_id = body.get("threadId") if isinstance(body, dict) else None
        # counted now: a client request forwarded from here on came after the stop
        self._task = asyncio.ensure_future(self._prefetch(self._stops, thread_id, self._changes))

    def _release(self) -> None:
        held, self._held = self._held, None
        if held:
            self._write_client(b"".join(held))

    # -- asking the adapter ------------------------------------------------------
    def _ask(self, command: str, arguments: Optional[Dict[str, Any]]) -> Tuple[int, "asyncio.Future[Tuple[bytes, int]]"]:
        self._seq += 1
        message: Dict[str, Any] = {"seq": self._seq, "type": "request", "command": command}
        if arguments is not None:
            message["arguments"] = arguments
        future: "asyncio.Future[Tuple[bytes, int]]" = asyncio.get_running_loop().create_future()
        seq = self._seq
        if self._closed:
            future.cancel()
            return seq, future
        self._waiting[seq] = future
        self._unanswered.add(seq)
        if not self._write_adapter(encode_message(message)):
            self._waiting.pop(seq, None)
            self._unanswered.discard(seq)
            future.cancel()
        return seq, future

    async def _answers(self, asks: List[Tuple[str, Optional[Dict[str, Any]]]], until: float, current: Callable[[], bool] = lambda: True) -> List[Optional[Answer]]:
        """The successful answers to ``asks``, None for one that failed, was spelled
        otherwise or did not come by ``until``. They are asked one after another:
        debugpy answers requests that arrive together tens of milliseconds late (its
        adapter and pydevd wait on each other's acknowledgements), one at a time in
        about a millisecond each."""
        answers: List[Optional[Answer]] = []
        for command, arguments in asks:
            if not current():  # a change or another stop came: the rest would be stale
                answers.extend(None for _ in range(len(asks) - len(answers)))
                break
            seq, future = self._ask(command, arguments)
            try:
                # a cancelled ask (the prefetcher closed, the adapter gone) ends the prefetch
                frame, body_at = await asyncio.wait_for(future, max(0.0, until - time.monotonic()))
            except asyncio.TimeoutError:
                self._waiting.pop(seq, None)  # its answer, if it comes, is dropped (_unanswered)
                answers.append(None)
                if time.monotonic() >= until:
                    answers.extend(None for _ in range(len(asks) - len(answers)))
                    break
                continue
            message = self._parse(frame, body_at)
            ok = message.get("success") is True and message.get("command") == command
            answers.append((command, arguments or {}, frame[body_at:], message) if ok else None)
        return answers

    async def _prefetch(self, stop: int, thread_id: Any, changes: int) -> None:
        budget = [self.settings.max_bytes]
        started = time.monotonic()
        until = started + self.settings.max_hold_s
        first: List[Answer] = []
        nested_asks: List[Tuple[str, Optional[Dict[str, Any]]]] = []
        more = False
        try:
            if isinstance(thread_id, int) and not isinstance(thread_id, bool):
                first = await self._first_view(thread_id, until)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a prefetch that fails costs only itself
            log.exception("session %s: prefetch on stop %d failed", self.label, stop)
            first = []
        finally:
            try:
                if self._changes == changes and self._stops == stop and first and not self._closed:
                    nested_asks = self._nested_asks(first)
                    more = self._send(stop, first, budget, more=bool(nested_asks))
            finally:
                self._release()
            log.debug("session %s: stop %d: %d answers of the first view in %.1f ms", self.label, stop, len(first), (time.monotonic() - started) * 1000)
        if not more:
            return
        nested: List[Answer] = []
        try:
            answers = await self._answers(nested_asks, time.monotonic() + max(self.settings.max_hold_s, 1.0), lambda: self._changes == changes and self._stops == stop)
            nested = [a for a in answers if a is not None and len((a[3].get("body") or {}).get("variables") or []) <= MAX_NESTED_CHILDREN]
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001
            log.exception("session %s: prefetch of nested values on stop %d failed", self.label, stop)
        if self._stops == stop and not self._closed:
            # the event the client may be waiting for (``more``), even with nothing in it
            self._send(stop, nested if self._changes == changes else [], budget, more=False, closing=True)

    async def _first_view(self, thread_id: int, until: float) -> List[Answer]:
        threads, top, more = await self._answers(
            [("threads", None), ("stackTrace", {"threadId": thread_id, **FIRST_FRAMES}), ("stackTrace", {"threadId": thread_id, **MORE_FRAMES})], until
        )
        view = [answer for answer in (threads, top, more) if answer is not None]
        frames = (top[3].get("body") or {}).get("stackFrames") if top is not None else None
        if not frames or not isinstance(frames[0], dict) or not isinstance(frames[0].get("id"), int):
            return view
        (scopes,) = await self._answers([("scopes", {"frameId": frames[0]["id"]})], until)
        if scopes is None:
            return view
        view.append(scopes)
        listed = (scopes[3].get("body") or {}).get("scopes") or []
        shown = next((s for s in listed if isinstance(s, dict) and not s.get("expensive")), None)
        reference = shown.get("variablesReference") if shown is not None else None
        if isinstance(reference, int) and reference > 0:
            (variables,) = await self._answers([("variables", {"variablesReference": reference})], until)
            if variables is not None:
                view.append(variables)
        return view

    @staticmethod
    def _nested_asks(first: List[Answer]) -> List[Tuple[str, Optional[Dict[str, Any]]]]:
        """``variables`` of the values in the first view's scope that are built-in
        containers (:data:`CONTAINER_TYPES`)."""
        if not first or first[-1][0] != "variables":
            return []
        references = []
        for child in (first[-1][3].get("body") or {}).get("variables") or []:
            if not isinstance(child, dict):
                continue
            reference = child.get("variablesReference")
            counted = sum(n for n in (child.get("namedVariables"), child.get("indexedVariables")) if isinstance(n, int))
            if child.get("type") in CONTAINER_TYPES and isinstance(reference, int) and reference > 0 and counted <= MAX_NESTED_CHILDREN:
                references.append(reference)
        return [("variables", {"variablesReference": r}) for r in references[:MAX_NESTED_VALUES]]

    def _send(self, stop: int, answers: List[Answer], budget: List[int], *, more: bool, closing: bool = False) -> bool:
        """One ``dbgrelay.prefetch`` event with the answers that fit in ``budget``;
        with ``more`` (and budget left), it tells the client that a second event for
        this stop follows. Returns whether it said so. An event with nothing in it is
        sent only when ``closing``: the second event a client may be waiting for."""
        items = []
        used = 0
        for command, arguments, body, _ in answers:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                continue
            cost = len(json.dumps(text))  # as it travels in the event: escaped, ASCII
            if cost > budget[0] - used:
                continue
            used += cost
            items.append({"command": command, "arguments": arguments, "response": text})
        budget[0] -= used
        more = more and budget[0] > 0
        if not items and not more and not closing:
            return False
        self._event_seq += 1
        body: Dict[str, Any] = {"stop": stop, "afterSeq": self._last_client_seq, "answers": items}
        if more:
            body["more"] = True
        self._write_client(encode_message({"seq": self._event_seq, "type": "event", "event": PREFETCH_EVENT, "body": body}))
        self.sent.append((stop, len(items), used))
        return more
