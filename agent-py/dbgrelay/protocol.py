"""Control-protocol messages of docs/protocol.md (version 1, revision 1.9): validate, encode, decode.

The relay validates the same shapes in ``src/protocol/controlMessages.ts``; both
suites check the ``json vector:`` blocks of docs/protocol.md. Error messages never
quote a whole message (a hello line may carry the secret).
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Dict, Mapping

from . import errors
from .errors import ProtocolError

PROTOCOL_VERSION = 1
MAX_HELLO_BYTES = 8 * 1024
MAX_CONTROL_MESSAGE_BYTES = 64 * 1024
# Bound on a target's labels, keys and values together, in UTF-8 bytes (revision 1.9,
# docs/protocol.md §5; maxLabelBytes in src/protocol/controlMessages.ts).
MAX_LABEL_BYTES = 2048
# Most targets in one page of the target list (revision 1.9, §7; maxTargetsPage in TypeScript).
MAX_TARGETS_PAGE = 500

#: ``NAME`` or ``GROUP/MEMBER`` (one process of a group, e.g. a server's worker), §5.
TARGET_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}(?:/[A-Za-z0-9][A-Za-z0-9._-]{0,62})?$")
SESSION_ID_RE = re.compile(r"^[A-Za-z0-9_-]{22,128}$")
#: Bounds of an ``open`` message's ``prefetch`` (revision 1.13; the relay's
#: ``dap.prefetch`` settings stay well inside them).
MAX_PREFETCH_BYTES = 16 * 1024 * 1024
MAX_PREFETCH_HOLD_MS = 10_000

Message = Dict[str, Any]


def _fail(what: str) -> ProtocolError:
    return ProtocolError(what)


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _fail(f"{where} must be a JSON object")
    return value


def _str(m: Mapping[str, Any], key: str, where: str, *, min_len: int = 0, max_len: int = 1 << 30, pattern: "re.Pattern[str] | None" = None, optional: bool = False) -> None:
    if key not in m and optional:
        return
    v = m.get(key)
    if not isinstance(v, str) or not (min_len <= len(v) <= max_len):
        raise _fail(f"{where}.{key} must be a string of {min_len}..{max_len} characters")
    if pattern is not None and not pattern.match(v):
        raise _fail(f"{where}.{key} has an invalid format")


def _int(m: Mapping[str, Any], key: str, where: str, *, minimum: int = 0) -> None:
    v = m.get(key)
    if not isinstance(v, int) or isinstance(v, bool) or v < minimum:
        raise _fail(f"{where}.{key} must be an integer >= {minimum}")


def validate_target_name(name: Any) -> str:
    if not isinstance(name, str) or not TARGET_NAME_RE.match(name):
        raise ProtocolError(f"invalid target name {name!r}: must match {TARGET_NAME_RE.pattern}", code=errors.TARGET_NAME_INVALID)
    return name


def validate_labels(labels: Any, where: str = "labels") -> None:
    m = _obj(labels, where)
    if len(m) > 32:
        raise _fail(f"{where}: at most 32 labels")
    for k, v in m.items():
        if not isinstance(k, str) or not 1 <= len(k) <= 64:
            raise _fail(f"{where}: label keys are 1..64 characters")
        if not isinstance(v, str) or len(v) > 256:
            raise _fail(f"{where}.{k} must be a string of at most 256 characters")
    total = sum(_utf8_len(k) + _utf8_len(v) for k, v in m.items())
    if total > MAX_LABEL_BYTES:  # revision 1.9: the relay refuses the register
        raise _fail(f"{where}: labels take {total} bytes (keys and values together, UTF-8); at most {MAX_LABEL_BYTES} are allowed")


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _error_body(m: Mapping[str, Any], where: str) -> None:
    _str(m, "code", where, min_len=1, max_len=64)
    _str(m, "message", where, max_len=1024)


#: Bound on the working directory and program root an agent reports (revision 1.11).
MAX_PATH_CHARS = 4096


def _register(m: Mapping[str, Any]) -> None:
    _str(m, "agentId", "register", min_len=1, max_len=128)
    target = _obj(m.get("target"), "register.target")
    validate_target_name(target.get("name"))
    if "labels" in target:
        validate_labels(target["labels"], "register.target.labels")
    proc = _obj(m.get("process"), "register.process")
    _int(proc, "pid", "register.process")
    _str(proc, "host", "register.process", max_len=255)
    for key in ("python", "debugpy", "agent"):
        _str(proc, key, "register.process", max_len=64)
    for key in ("cwd", "root"):  # revision 1.11: where the program's paths are rooted
        _str(proc, key, "register.process", min_len=1, max_len=MAX_PATH_CHARS, optional=True)
    if "killTimer" in proc:  # revision 1.11: the server's bound on a worker that does not answer
        timer = _obj(proc["killTimer"], "register.process.killTimer")
        seconds = timer.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 < seconds <= 86_400:
            raise _fail("register.process.killTimer.seconds must be a number of seconds, more than 0 and at most 86400")
        _str(timer, "source", "register.process.killTimer", min_len=1, max_len=64)
    # the target's attach secret (§2.2); never quoted in an error
    _str(m, "attachSecret", "register", min_len=1, max_len=4096, optional=True)


def _registered(m: Mapping[str, Any]) -> None:
    _str(m, "target", "registered")
    hb = _obj(m.get("heartbeat"), "registered.heartbeat")
    _int(hb, "intervalMs", "registered.heartbeat", minimum=1)
    _int(hb, "timeoutMs", "registered.heartbeat", minimum=1)


def _ping(m: Mapping[str, Any]) -> None:
    _int(m, "id", str(m.get("type")))


def _open(m: Mapping[str, Any]) -> None:
    _str(m, "sessionId", "open", pattern=SESSION_ID_RE)
    if "prefetch" in m:  # revision 1.13: send answers ahead on each stop
        prefetch = _obj(m.get("prefetch"), "open.prefetch")
        _int(prefetch, "maxBytes", "open.prefetch", minimum=1)
        _int(prefetch, "maxHoldMs", "open.prefetch", minimum=1)
        if prefetch["maxBytes"] > MAX_PREFETCH_BYTES or prefetch["maxHoldMs"] > MAX_PREFETCH_HOLD_MS:
            raise _fail(f"open.prefetch: maxBytes at most {MAX_PREFETCH_BYTES}, maxHoldMs at most {MAX_PREFETCH_HOLD_MS}")


def _open_failed(m: Mapping[str, Any]) -> None:
    _str(m, "sessionId", "openFailed", pattern=SESSION_ID_RE)
    _str(m, "message", "openFailed", max_len=1024)


def _goaway(m: Mapping[str, Any]) -> None:
    _str(m, "reason", "goaway", max_len=1024)
    if "retryAfterMs" in m:
        _int(m, "retryAfterMs", "goaway")
        if m["retryAfterMs"] > 3_600_000:
            raise _fail("goaway.retryAfterMs must be at most 3600000")


GUARD_EVENTS = ("resumed",)
DEBUGGER_STATES = ("ok", "unguarded", "broken")


def _guard(m: Mapping[str, Any]) -> None:
    """What the pause guard in the debuggee did (revision 1.8)."""
    if m.get("event") not in GUARD_EVENTS:
        raise _fail("guard.event must be one of " + ", ".join(GUARD_EVENTS))
    _str(m, "reason", "guard", max_len=1024)
    _int(m, "pausedMs", "guard")


def _status(m: Mapping[str, Any]) -> None:
    """Whether the debugger in the debuggee works (revision 1.8)."""
    if m.get("debugger") not in DEBUGGER_STATES:
        raise _fail("status.debugger must be one of " + ", ".join(DEBUGGER_STATES))
    _str(m, "detail", "status", max_len=1024, optional=True)


CONTROL_VALIDATORS: Dict[str, Callable[[Mapping[str, Any]], None]] = {
    "register": _register,
    "registered": _registered,
    "ping": _ping,
    "pong": _ping,
    "open": _open,
    "openFailed": _open_failed,
    "error": lambda m: _error_body(m, "error"),
    "goaway": _goaway,  # revision 1.5
    "guard": _guard,  # revision 1.8
    "status": _status,  # revision 1.8
}


def validate_control(message: Any) -> Message:
    """Validate a control message (§5). Unknown ``type`` values are accepted as-is
    (forward compatibility within v1); callers ignore them."""
    m = _obj(message, "control message")
    kind = m.get("type")
    if not isinstance(kind, str):
        raise _fail("control message without a string 'type'")
    check = CONTROL_VALIDATORS.get(kind)
    if check is not None:
        check(m)
    return dict(m)


def is_known_control(message: Mapping[str, Any]) -> bool:
    return message.get("type") in CONTROL_VALIDATORS


#: Largest ``heartbeatMs`` a hello may announce (§6).
MAX_HEARTBEAT_MS = 3_600_000
_HELLO_FIELDS = {"attach": ("target",), "agent": (), "agentData": ("sessionId",), "targets": ()}


def validate_hello(message: Any) -> Message:
    """Validate a tcps hello line (§4)."""
    m = _obj(message, "hello")
    if m.get("dbgrelay") != PROTOCOL_VERSION or isinstance(m.get("dbgrelay"), bool):
        raise ProtocolError("unsupported protocol version in hello", code=errors.PROTOCOL_VERSION)
    op = m.get("op")
    if op not in _HELLO_FIELDS:
        raise _fail("hello.op must be one of " + ", ".join(_HELLO_FIELDS))
    if op == "attach":
        _str(m, "target", "hello", max_len=256)
        if "takeover" in m and not isinstance(m["takeover"], bool):
            raise _fail("hello.takeover must be true or false")
    if op == "agentData":
        _str(m, "sessionId", "hello", pattern=SESSION_ID_RE)
    if op in ("attach", "agentData") and "heartbeatMs" in m:  # revisions 1.4 and 1.7 (§6)
        _int(m, "heartbeatMs", "hello", minimum=100)
        if m["heartbeatMs"] > MAX_HEARTBEAT_MS:
            raise _fail(f"hello.heartbeatMs must be at most {MAX_HEARTBEAT_MS}")
    if op == "targets":  # paging, revision 1.9 (§7)
        _str(m, "after", "hello", min_len=1, max_len=256, optional=True)
        if "limit" in m:
            _int(m, "limit", "hello", minimum=1)
            if m["limit"] > MAX_TARGETS_PAGE:
                raise _fail(f"hello.limit must be at most {MAX_TARGETS_PAGE}")
    _str(m, "secret", "hello", max_len=4096, optional=True)
    _str(m, "token", "hello", max_len=8192, optional=True)
    return dict(m)


def validate_hello_reply(message: Any) -> Message:
    """Validate the relay's answer line (§4) or a ``/v1/targets`` body (§7)."""
    m = _obj(message, "hello reply")
    ok = m.get("ok")
    if ok is True:
        if "heartbeatTimeoutMs" in m:  # revisions 1.4 and 1.7 (§6)
            _int(m, "heartbeatTimeoutMs", "hello reply", minimum=1)
        if "targets" in m:
            if not isinstance(m["targets"], list):
                raise _fail("targets must be a list")
            for t in m["targets"]:
                _target_info(_obj(t, "target"))
        _str(m, "next", "hello reply", optional=True)  # more targets follow, revision 1.9 (§7)
    elif ok is False:
        _error_body(_obj(m.get("error"), "hello reply.error"), "hello reply.error")
    else:
        raise _fail("hello reply.ok must be true or false")
    return dict(m)


TARGET_KINDS = ("agent", "tcp", "ssh", "ssh-reverse", "direct")


def _target_info(t: Mapping[str, Any]) -> None:
    """One entry of the target list (§7); process fields only for agents (revision 1.3)."""
    for key in ("name", "host", "connectedAt"):
        _str(t, key, "target")
    kind = t.get("kind", "agent")
    if kind not in TARGET_KINDS:
        raise _fail("target.kind must be one of " + ", ".join(TARGET_KINDS))
    for key in ("python", "debugpy", "agent", "address", "detail", "cwd", "root"):
        _str(t, key, "target", optional=True)
    _obj(t.get("labels"), "target.labels")
    if "pid" in t:
        _int(t, "pid", "target")
    _int(t, "sessions", "target")
    if "reachable" in t and not isinstance(t["reachable"], bool):
        raise _fail("target.reachable must be true or false")
    if "debugger" in t and t["debugger"] not in DEBUGGER_STATES:  # revision 1.8
        raise _fail("target.debugger must be one of " + ", ".join(DEBUGGER_STATES))
    if t.get("transport") not in ("wss", "tcps", "tcp", "ssh"):
        raise _fail("target.transport must be wss, tcps, tcp or ssh")


def validate_http_error(message: Any) -> Message:
    m = _obj(message, "http error")
    _error_body(_obj(m.get("error"), "http error.error"), "http error.error")
    return dict(m)


def encode(message: Mapping[str, Any]) -> str:
    """One JSON object on one line (no newline inside; callers add the ``\\n``)."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def decode(text: "str | bytes", max_bytes: int = MAX_CONTROL_MESSAGE_BYTES) -> Any:
    if len(text) > max_bytes:
        raise ProtocolError("control message too large", code=errors.MESSAGE_TOO_LARGE)
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError("control message is not valid JSON") from None
    except RecursionError:
        raise ProtocolError("control message nests too deep") from None


def parse_control(text: "str | bytes") -> Message:
    return validate_control(decode(text))
