"""Which ``attach`` arguments may reach debugpy's adapter, and that no ``launch`` may.

The bridge is the last hop before the adapter (and the only one in direct-endpoint
mode), so it refuses what would make the adapter act beyond configuring the session:
``launch`` (starts a program), and an ``attach`` whose arguments inject into another
process (``processId``, ``debugpyArgs``, ``linuxAttachPreferLldb``), name an
interpreter or a program (``python``, ``pythonArgs``, ``program``, ``module``,
``code``, ``cwd``, ``env``), open a listening socket (``listen``) or reload code
(``autoReload``). An allow-list, not a deny-list: any key not listed is refused, and
so are arguments that are not an object.

:data:`ALLOWED_ATTACH_KEYS` only configure the session: debugpy 1.8's
``adapter/clients.py`` (``attach_request``, and ``notify_of_subprocess``, whose
``startDebugging`` configuration a debugger sends back for a subprocess) and pydevd's
``pydevd_json_debug_options.py`` / ``set_debugger_property`` read them.
:data:`DROPPED_ATTACH_KEYS` matter only on the debugger's machine and are accepted and
removed before the request goes on: where the debugger's own connection goes
(``connect``, or the older ``host``/``port``; VS Code always sends one of them and a
subprocess configuration carries ``connect``; debugpy's adapter never dials them in an
``attach``) and VS Code's local settings.

The relay applies the same rule (src/session/attachArguments.ts); the cases both sides
agree on are in test/fixtures/attachArgumentVectors.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, Mapping, Optional, Sequence, Tuple

#: Keys of an ``attach`` request's arguments that are forwarded to the adapter.
ALLOWED_ATTACH_KEYS: FrozenSet[str] = frozenset(
    {
        # the DAP client's own bookkeeping, ignored by debugpy
        "type",
        "request",
        "name",
        "__restart",
        "__sessionId",
        "__configurationTarget",
        # which announced subprocess the session attaches to
        "subProcessId",
        # what debugpy's adapter and pydevd read to configure the session
        "subProcess",
        "justMyCode",
        "debugStdLib",
        "rules",
        "pathMappings",
        "clientOS",
        "redirectOutput",
        "showReturnValue",
        "stopOnEntry",
        "debugOptions",
        "django",
        "flask",
        "jinja",
        "pyramid",
        "gevent",
        "maxExceptionStackFrames",
        "breakOnSystemExitZero",
        "variablePresentation",
        "steppingResumesAllThreads",
        "stopAllThreadsOnSuspend",
        "resolveSymlinks",
    }
)

#: Keys accepted and removed before the ``attach`` reaches the adapter.
DROPPED_ATTACH_KEYS: FrozenSet[str] = frozenset(
    {
        "connect",
        "host",
        "port",
        "workspaceFolder",
        "logToFile",
        "localRoot",
        "remoteRoot",
    }
)

#: What a refusal names when the arguments are not an object.
NOT_AN_OBJECT = "(arguments that are not an object)"
#: Refused keys a refusal names at most (the rest are counted), each cut to this length.
MAX_NAMED_KEYS = 8
MAX_KEY_CHARS = 64


@dataclass(frozen=True)
class AttachVerdict:
    """``refused``: the keys that stop the ``attach`` (empty: it goes on);
    ``forwarded``: the arguments without the dropped keys, or None when nothing had
    to be removed (the request goes on untouched)."""

    refused: Tuple[str, ...] = ()
    forwarded: Optional[Dict[str, Any]] = None


def check_attach_arguments(arguments: Any, present: bool = True) -> AttachVerdict:
    """The verdict on an ``attach`` request's ``arguments`` (``present`` False: the
    request has none, which debugpy judges itself)."""
    if not present:
        return AttachVerdict()
    if not isinstance(arguments, dict):
        return AttachVerdict(refused=(NOT_AN_OBJECT,))
    refused = tuple(str(key) for key in arguments if key not in ALLOWED_ATTACH_KEYS and key not in DROPPED_ATTACH_KEYS)
    if refused:
        return AttachVerdict(refused=refused)
    if not any(key in DROPPED_ATTACH_KEYS for key in arguments):
        return AttachVerdict()
    return AttachVerdict(forwarded={key: value for key, value in arguments.items() if key in ALLOWED_ATTACH_KEYS})


def _printable(text: str) -> str:
    return "".join(char if char.isprintable() else "?" for char in text)


def refusal_reason(keys: Sequence[str]) -> str:
    """The error message for refused ``keys`` (bounded: the client chose the names)."""
    named = ", ".join(_printable(key[:MAX_KEY_CHARS]) for key in keys[:MAX_NAMED_KEYS])
    more = f" and {len(keys) - MAX_NAMED_KEYS} more" if len(keys) > MAX_NAMED_KEYS else ""
    noun = "argument" if len(keys) == 1 else "arguments"
    return f"attach {noun} {named}{more} refused: dbgrelay forwards only arguments that configure debugging of the running process"


LAUNCH_REFUSAL = "launch refused: dbgrelay only attaches to a process that is already running"


def screen_start_request(message: Mapping[str, Any]) -> Tuple[Optional[str], Mapping[str, Any]]:
    """``(refusal, message to forward)`` for a client request: a refusal (the error
    response's message) for every ``launch`` and a refused ``attach``; otherwise the
    message, as it came or (an ``attach`` with dropped keys) a copy without them."""
    command = message.get("command")
    if command == "launch":
        return LAUNCH_REFUSAL, message
    if command != "attach":
        return None, message
    verdict = check_attach_arguments(message.get("arguments"), "arguments" in message)
    if verdict.refused:
        return refusal_reason(verdict.refused), message
    if verdict.forwarded is not None:
        return None, dict(message, arguments=verdict.forwarded)
    return None, message
