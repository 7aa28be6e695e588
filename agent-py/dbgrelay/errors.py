"""The agent's exceptions: one base class with a stable ``code``."""

from __future__ import annotations


class DbgRelayError(Exception):
    """Base class; ``code`` is stable, the message is for humans."""

    code = "AGENT_ERROR"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class ConfigError(DbgRelayError, ValueError):
    """Bad or missing option (relay URL, name, secret, trust settings)."""

    code = "CONFIG"


class ProtocolError(DbgRelayError, ValueError):
    """A control message or hello line that does not follow docs/protocol.md."""

    code = "BAD_REQUEST"


class DapFramingError(DbgRelayError):
    """The DAP byte stream lost its Content-Length framing or was too large."""

    code = "MESSAGE_TOO_LARGE"


class TrustError(DbgRelayError):
    """The relay's certificate did not verify or did not match the pin."""

    code = "TLS_TRUST"


class RegistrationError(DbgRelayError):
    """The bridge did not register the target in time (or was refused)."""

    code = "REGISTRATION"


class Refusal(DbgRelayError):
    """What the direct endpoint answers a client it refuses: ``code`` is one of the
    wire codes of docs/protocol.md §8 (``AUTH_FAILED``, ...), sent as the
    ``{"ok": false, "error": {...}}`` hello reply; the message never quotes a secret."""

    code = "BAD_REQUEST"

    def reply(self) -> dict:
        return {"ok": False, "error": {"code": self.code, "message": str(self)[:1024]}}
