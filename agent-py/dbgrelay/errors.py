"""The agent's exceptions: one base class with a stable ``code``, and every code the
agent uses, in one list.

Codes with a meaning the relay also has are spelt as the relay spells them
(src/common/relayError.ts): the wire codes of docs/protocol.md §8, and the relay's
local-only codes for configuration and TLS trust. The few codes only the agent has
follow. A relay's refusal passes its code through unchanged, and a relay that answers
an HTTP status without a JSON error is reported as ``HTTP_<status>``.
"""

from __future__ import annotations

# -- wire codes (docs/protocol.md §8), sent by the direct endpoint or received from the relay
AUTH_REQUIRED = "AUTH_REQUIRED"
AUTH_FAILED = "AUTH_FAILED"
AUTH_LOCKED = "AUTH_LOCKED"
BAD_REQUEST = "BAD_REQUEST"
PROTOCOL_VERSION = "PROTOCOL_VERSION"
HANDSHAKE_TIMEOUT = "HANDSHAKE_TIMEOUT"
TARGET_NAME_INVALID = "TARGET_NAME_INVALID"
TARGET_NAME_IN_USE = "TARGET_NAME_IN_USE"
TARGET_BUSY = "TARGET_BUSY"
UNKNOWN_TARGET = "UNKNOWN_TARGET"
MESSAGE_TOO_LARGE = "MESSAGE_TOO_LARGE"
RELAY_DRAINING = "RELAY_DRAINING"
LIMIT_REACHED = "LIMIT_REACHED"

# -- the relay's local-only codes, with the same meaning here
#: a bad or missing option, file or bridge configuration
CONFIG_INVALID = "CONFIG_INVALID"
#: the relay's certificate did not verify
TLS_VERIFY_FAILED = "TLS_VERIFY_FAILED"
#: the relay's chain does not hold the pinned certificate
TLS_PIN_MISMATCH = "TLS_PIN_MISMATCH"

# -- codes only the agent has
#: an error of the agent without a more specific code
AGENT_ERROR = "AGENT_ERROR"
#: the bridge did not register the target (exited, or no code from the relay)
REGISTRATION = "REGISTRATION"
#: the relay did not confirm the registration within ``register_timeout``
REGISTRATION_TIMEOUT = "REGISTRATION_TIMEOUT"
#: the installed debugpy is not one a pydevd fix was verified against
DEBUGPY_UNSUPPORTED = "DEBUGPY_UNSUPPORTED"
#: this user may not trace the process (--pid): Yama ptrace_scope, no CAP_SYS_PTRACE, a container
PTRACE_DENIED = "PTRACE_DENIED"
#: the agent could not be started in a running process (--pid), which runs on unchanged
INJECT_FAILED = "INJECT_FAILED"

#: Codes of docs/protocol.md §8 the agent sends or receives.
WIRE_CODES = (
    AUTH_REQUIRED,
    AUTH_FAILED,
    AUTH_LOCKED,
    BAD_REQUEST,
    PROTOCOL_VERSION,
    HANDSHAKE_TIMEOUT,
    TARGET_NAME_INVALID,
    TARGET_NAME_IN_USE,
    TARGET_BUSY,
    UNKNOWN_TARGET,
    MESSAGE_TOO_LARGE,
    RELAY_DRAINING,
    LIMIT_REACHED,
)
#: The relay's local-only codes the agent uses too.
SHARED_LOCAL_CODES = (CONFIG_INVALID, TLS_VERIFY_FAILED, TLS_PIN_MISMATCH)
#: Codes the relay does not have.
AGENT_ONLY_CODES = (AGENT_ERROR, REGISTRATION, REGISTRATION_TIMEOUT, DEBUGPY_UNSUPPORTED, PTRACE_DENIED, INJECT_FAILED)
#: Every code the agent itself raises or reports.
ALL_CODES = WIRE_CODES + SHARED_LOCAL_CODES + AGENT_ONLY_CODES


class DbgRelayError(Exception):
    """Base class; ``code`` is stable, the message is for humans."""

    code = AGENT_ERROR

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class ConfigError(DbgRelayError, ValueError):
    """Bad or missing option (relay URL, name, secret, trust settings)."""

    code = CONFIG_INVALID


class ProtocolError(DbgRelayError, ValueError):
    """A control message or hello line that does not follow docs/protocol.md."""

    code = BAD_REQUEST


class DapFramingError(DbgRelayError):
    """The DAP byte stream lost its Content-Length framing or was too large."""

    code = MESSAGE_TOO_LARGE


class TrustError(DbgRelayError):
    """The relay's certificate did not verify or did not match the pin."""

    code = TLS_VERIFY_FAILED


class RegistrationError(DbgRelayError):
    """The bridge did not register the target in time (or was refused)."""

    code = REGISTRATION


class InjectError(DbgRelayError):
    """The agent could not be started in a running process (``--pid``)."""

    code = INJECT_FAILED


class Refusal(DbgRelayError):
    """What the direct endpoint answers a client it refuses: ``code`` is one of the
    wire codes of docs/protocol.md §8 (``AUTH_FAILED``, ...), sent as the
    ``{"ok": false, "error": {...}}`` hello reply; the message never quotes a secret."""

    code = BAD_REQUEST

    def reply(self) -> dict:
        return {"ok": False, "error": {"code": self.code, "message": str(self)[:1024]}}
