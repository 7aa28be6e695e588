"""Target name templates: ``{hostname}`` and ``{pid}`` in ``--name`` / ``name=``,
expanded in the process that registers (a forked worker gets its own pid)."""

from __future__ import annotations

import os
import re
import socket
from typing import Callable, Dict

from ..errors import TARGET_NAME_INVALID, ConfigError

_FIELD = re.compile(r"\{([^{}]*)\}")
#: A host name's characters that a target name may not hold become this.
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def _hostname() -> str:
    return _UNSAFE.sub("-", socket.gethostname()) or "host"


FIELDS: Dict[str, Callable[[], str]] = {"hostname": _hostname, "pid": lambda: str(os.getpid())}


def expand_name_template(name: str) -> str:
    """``name`` with each ``{hostname}`` and ``{pid}`` replaced; any other ``{...}``
    raises :class:`ConfigError` (a typo must not register a literal brace)."""

    def field(match: "re.Match[str]") -> str:
        key = match.group(1)
        if key not in FIELDS:
            raise ConfigError(f"unknown field {{{key}}} in target name {name!r}: use {{hostname}} or {{pid}}", code=TARGET_NAME_INVALID)
        return FIELDS[key]()

    return _FIELD.sub(field, name) if isinstance(name, str) else name
