"""Authenticates a client's hello line at the direct endpoint (docs/protocol.md §2,
§4) the way the relay does: the secret's SHA-256 digest compared in constant time
(``hmac.compare_digest``), ``AUTH_REQUIRED`` / ``AUTH_FAILED`` / ``AUTH_LOCKED`` with
the relay's messages, and a per-source lockout. Nothing here keeps, logs or quotes
the clear secret."""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
from typing import Any, Mapping, Optional

from ..errors import AUTH_FAILED, AUTH_LOCKED, AUTH_REQUIRED, BAD_REQUEST, Refusal
from .failurelockout import FailureLockout

log = logging.getLogger("dbgrelay.agent")


def _digest(secret: str) -> bytes:
    # surrogatepass: a hello's JSON may carry a lone surrogate ("\ud800"), which strict
    # UTF-8 cannot encode; such a secret must be refused like any wrong one, not raise.
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


class HelloAuthenticator:
    """``secret`` None: every client is let in (``allow_no_secret=True``)."""

    def __init__(self, secret: Optional[str], lockout: Optional[FailureLockout] = None) -> None:
        self._expected = _digest(secret) if secret else None
        self.lockout = lockout or FailureLockout()

    def check(self, hello: Mapping[str, Any], source: str) -> None:
        """Returns when ``hello`` may proceed; raises :class:`Refusal` otherwise."""
        locked = self.lockout.locked_for(source)
        if locked > 0:
            raise Refusal(f"too many failed attempts from this address; try again in {math.ceil(locked)} s", code=AUTH_LOCKED)
        secret, token = hello.get("secret"), hello.get("token")
        if secret and token:
            raise Refusal('a hello line carries either "secret" or "token", not both', code=BAD_REQUEST)
        if self._expected is None:
            return
        if token:
            self._fail(source)
            raise Refusal("credential refused (bearer tokens are not accepted by a direct debug endpoint)", code=AUTH_FAILED)
        if not secret:
            raise Refusal("a credential is required", code=AUTH_REQUIRED)
        if not hmac.compare_digest(_digest(secret), self._expected):
            self._fail(source)
            raise Refusal("credential refused", code=AUTH_FAILED)

    def _fail(self, source: str) -> None:
        self.lockout.record_failure(source)
        if self.lockout.locked_for(source) > 0:
            log.warning("direct endpoint: %s locked out after repeated failed secrets", source)
