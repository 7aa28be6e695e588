"""The agent's credentials (docs/protocol.md §2): how it authenticates to the relay,
and the attach secret it sets for its target.

- **Relay credential** (control and data connections): a bearer token
  (``Authorization: Bearer`` over wss, ``token`` in the tcps hello line) or an agent
  secret (``Authorization: Basic base64("<secret>:")``, ``secret`` in the hello line).
- **Attach secret** (``secret=``, ptvsd's ``enable_attach(secret=...)``): sent in
  ``register``; clients presenting it may attach to this target only.

When no relay credential is given, the attach secret is the relay credential instead,
so ``enable_attach(relay=..., name=..., secret=<relay secret>)`` keeps working. That
secret (the relay secret: the only secret the relay accepts from an agent) already
opens every target, so it is not sent as an attach secret and the attach-secret minimum
does not apply to it; the target then has no attach secret of its own.
Nothing here ever puts a credential in a message, a ``repr`` or a log line.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, MutableMapping, Optional, Tuple

from .errors import ConfigError

SECRET_ENV = "DBGRELAY_SECRET"
SECRET_FILE_ENV = "DBGRELAY_SECRET_FILE"
TOKEN_ENV = "DBGRELAY_TOKEN"
TOKEN_FILE_ENV = "DBGRELAY_TOKEN_FILE"
AGENT_SECRET_ENV = "DBGRELAY_AGENT_SECRET"
AGENT_SECRET_FILE_ENV = "DBGRELAY_AGENT_SECRET_FILE"

#: Every environment variable that may carry a credential; kept out of the bridge's
#: environment, of debugpy's adapter and of the debugged program's children.
CREDENTIAL_ENV_VARS = (SECRET_ENV, SECRET_FILE_ENV, TOKEN_ENV, TOKEN_FILE_ENV, AGENT_SECRET_ENV, AGENT_SECRET_FILE_ENV)


def remove_credential_env(env: Optional[MutableMapping[str, str]] = None) -> List[str]:
    """Remove every :data:`CREDENTIAL_ENV_VARS` variable from ``env`` (default
    ``os.environ``, so processes started afterwards do not inherit them); returns the
    names that were set. Call it once the credentials were read, before anything is
    spawned."""
    env = os.environ if env is None else env
    return [name for name in CREDENTIAL_ENV_VARS if env.pop(name, None) is not None]


MAX_SECRET_CHARS = 4096
#: Shortest attach secret (docs/protocol.md §2.2): the relay refuses a ``register``
#: with a shorter one. With the relay's per-target guess limit (about 10 compared
#: guesses a minute) even 16 decimal digits would take about a billion years to find.
MIN_ATTACH_SECRET_CHARS = 16
#: How to make a good attach secret (quoted in errors and docs).
ATTACH_SECRET_RECIPE = "python -c 'import secrets; print(secrets.token_urlsafe(24))'"
MAX_TOKEN_CHARS = 8192
# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")


def read_secret_file(path: str, what: str = "secret") -> str:
    """The file's content with surrounding whitespace removed; errors never quote it."""
    try:
        with open(path, encoding="utf-8") as f:
            value = f.read().strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} file {path!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"the {what} file {path!r} is not UTF-8 text") from None
    if not value:
        raise ConfigError(f"the {what} file {path!r} is empty")
    return value


@dataclass(frozen=True)
class RelayCredential:
    """How the agent authenticates to the relay: ``kind`` is ``"token"`` or ``"secret"``;
    ``source`` says where it came from (for messages; never the value)."""

    kind: str
    value: str = field(repr=False)
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.kind == "token":
            if len(self.value) > MAX_TOKEN_CHARS or not _B64TOKEN.match(self.value):
                raise ConfigError(f"the token from {self.source or 'token='} is not a bearer token (RFC 6750: at most {MAX_TOKEN_CHARS} characters of A-Z a-z 0-9 - . _ ~ + / =)")
        elif self.kind == "secret":
            if not self.value or len(self.value) > MAX_SECRET_CHARS:
                raise ConfigError(f"the secret from {self.source or 'secret='} must be 1..{MAX_SECRET_CHARS} characters")
        else:
            raise ConfigError(f"unknown relay credential kind {self.kind!r}")

    def authorization(self) -> str:
        """The ``Authorization`` header value for wss (docs/protocol.md §2)."""
        if self.kind == "token":
            return "Bearer " + self.value
        # RFC 7617: the secret as the user name, empty password
        return "Basic " + base64.b64encode((self.value + ":").encode("utf-8")).decode("ascii")

    def hello_fields(self) -> Dict[str, str]:
        """The credential fields of a tcps hello line (docs/protocol.md §4)."""
        return {"token": self.value} if self.kind == "token" else {"secret": self.value}

    def check_scheme(self, scheme: str) -> None:
        """HTTP Basic cuts the user name at the first ``:`` (RFC 7617 §2): over wss a
        secret must not contain one."""
        if scheme == "wss" and self.kind == "secret" and ":" in self.value:
            raise ConfigError(f"the secret from {self.source or 'secret='} contains ':', which HTTP Basic authentication cannot carry over wss://; use tcps:// or another secret")

    def to_config(self) -> Dict[str, str]:
        """For the bridge's configuration (sent on its stdin, never in argv)."""
        return {"kind": self.kind, "value": self.value}

    @staticmethod
    def from_config(data: Any) -> "RelayCredential":
        if not isinstance(data, Mapping) or not isinstance(data.get("value"), str):
            raise ConfigError("bridge config: malformed credential")
        return RelayCredential(str(data.get("kind")), data["value"], "bridge config")


@dataclass(frozen=True)
class AgentCredentials:
    """The relay credential and the target's attach secret (None: the target has none)."""

    relay: RelayCredential
    attach_secret: Optional[str] = field(default=None, repr=False)
    #: True when the secret given as attach secret is the relay credential itself
    #: (issue-2 usage): it opens every target already, so the target sets none.
    attach_is_relay_secret: bool = False

    def values(self) -> List[str]:
        """Every clear value, for the log filter of :mod:`dbgrelay.logsetup`."""
        return [v for v in (self.relay.value, self.attach_secret) if v]


def check_attach_secret_length(secret: str, source: str) -> None:
    """Refuses an attach secret shorter than :data:`MIN_ATTACH_SECRET_CHARS`, saying why
    and how to make one; the message gives the length, never the secret."""
    if len(secret) >= MIN_ATTACH_SECRET_CHARS:
        return
    raise ConfigError(
        f"the attach secret from {source or 'secret='} is {len(secret)} character{'' if len(secret) == 1 else 's'}; at least "
        f"{MIN_ATTACH_SECRET_CHARS} are required so that it cannot be guessed, and the relay refuses "
        f"shorter ones. Make one with: {ATTACH_SECRET_RECIPE} (to authenticate the agent with a "
        f"shorter relay secret and set no attach secret, give it as agent_secret= / {AGENT_SECRET_ENV})"
    )


def _env_value(env: Mapping[str, str], name: str, file_name: str, what: str) -> Optional[Tuple[str, str]]:
    if env.get(name):
        return env[name], name
    if env.get(file_name):
        return read_secret_file(env[file_name], what), file_name
    return None


def credential_from_env(name: str, file_name: str, what: str) -> Optional[str]:
    """A credential from this process's environment: ``name``, else the file named by ``file_name``."""
    found = _env_value(os.environ, name, file_name, what)
    return found[0] if found else None


def resolve_credentials(
    secret: Optional[str] = None,
    token: Optional[str] = None,
    agent_secret: Optional[str] = None,
    url_secret: Optional[str] = None,
    env: Optional[Mapping[str, str]] = None,
) -> AgentCredentials:
    """Select the agent's credentials.

    Attach secret: ``secret``, else ``$DBGRELAY_SECRET``, else the file named by
    ``$DBGRELAY_SECRET_FILE``, else none.

    Relay credential, first that applies: exactly one of ``token``, ``agent_secret``
    or the relay URL's ``SECRET@`` (more than one is an error); else
    ``$DBGRELAY_TOKEN``/``$DBGRELAY_TOKEN_FILE`` or
    ``$DBGRELAY_AGENT_SECRET``/``$DBGRELAY_AGENT_SECRET_FILE`` (both kinds set is an
    error); else the attach secret. None at all raises :class:`ConfigError`.

    An attach secret that is also the relay credential (the fallback above, or the same
    value given both ways) is the relay secret: it is kept as the relay credential only
    (``attach_secret`` None, ``attach_is_relay_secret`` True) and no minimum length
    applies. A separate attach secret has at least :data:`MIN_ATTACH_SECRET_CHARS`.
    """
    env = os.environ if env is None else env
    attach: Optional[str] = secret or None
    attach_source = "secret="
    if attach is None:
        found = _env_value(env, SECRET_ENV, SECRET_FILE_ENV, "secret")
        attach, attach_source = found if found else (None, "")
    if attach is not None and len(attach) > MAX_SECRET_CHARS:
        raise ConfigError(f"the attach secret must be at most {MAX_SECRET_CHARS} characters")
    relay = _relay_credential(token, agent_secret, url_secret, env)
    if relay is None and attach is not None:
        relay = RelayCredential("secret", attach, attach_source)
    if relay is None:
        raise ConfigError(
            "no relay secret: pass secret=..., or set DBGRELAY_SECRET (or DBGRELAY_SECRET_FILE); "
            "or authenticate the agent with token=... / DBGRELAY_TOKEN, agent_secret=... / "
            "DBGRELAY_AGENT_SECRET, or a secret in the relay URL"
        )
    if attach is not None and relay.kind == "secret" and relay.value == attach:
        # The relay secret given as attach secret (issue-2 usage): it opens every target
        # already, so neither the minimum nor a per-target attach secret would protect anything.
        return AgentCredentials(relay, None, attach_is_relay_secret=True)
    if attach is not None:
        check_attach_secret_length(attach, attach_source)
    return AgentCredentials(relay, attach)


def _relay_credential(token: Optional[str], agent_secret: Optional[str], url_secret: Optional[str], env: Mapping[str, str]) -> Optional[RelayCredential]:
    """The relay credential given explicitly or in the environment; None: none was."""
    explicit = [
        c
        for c in (
            RelayCredential("token", token, "token=") if token else None,
            RelayCredential("secret", agent_secret, "agent_secret=") if agent_secret else None,
            RelayCredential("secret", url_secret, "the relay URL") if url_secret else None,
        )
        if c is not None
    ]
    if len(explicit) > 1:
        raise ConfigError("give one relay credential: token=, agent_secret= or a secret in the relay URL (" + ", ".join(c.source for c in explicit) + " were given)")
    if explicit:
        return explicit[0]
    env_token = _env_value(env, TOKEN_ENV, TOKEN_FILE_ENV, "token")
    env_secret = _env_value(env, AGENT_SECRET_ENV, AGENT_SECRET_FILE_ENV, "agent secret")
    if env_token and env_secret:
        raise ConfigError(f"both {env_token[1]} and {env_secret[1]} are set; set only one relay credential")
    if env_token:
        return RelayCredential("token", env_token[0], env_token[1])
    if env_secret:
        return RelayCredential("secret", env_secret[0], env_secret[1])
    return None
