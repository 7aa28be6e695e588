"""Which form a call of :func:`dbgrelay.enable_attach` is.

Two signatures share the name: the relay form ``enable_attach(relay, name, secret=None,
...)`` (also positional, as before) and ptvsd 3's ``enable_attach(secret,
address=("0.0.0.0", 5678), certfile=None, keyfile=None, redirect_output=True)``.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_relay_call(args: Sequence[Any], kwargs: Mapping[str, Any]) -> bool:
    """Relay mode when ``relay=`` is given, or for the old positional form: a URL
    (``scheme://``) as first argument, or a name (a string) as second, where ptvsd's
    form has its ``(host, port)`` address. Everything else is the direct endpoint."""
    if "relay" in kwargs:
        return True
    if args and isinstance(args[0], str) and _URL.match(args[0]):
        return True
    return len(args) >= 2 and isinstance(args[1], str)
