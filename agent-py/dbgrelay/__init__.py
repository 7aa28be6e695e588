"""dbgrelay agent: make this Python process debuggable through a dbgrelay relay.

Thin facade with lazy imports (like debugpy's ``public_api``)::

    import dbgrelay
    dbgrelay.enable_attach(relay="wss://relay.example:7443", name="web-1", cafile="ca.pem")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Optional, Tuple

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from .errors import ConfigError, DbgRelayError, RegistrationError, TrustError  # noqa: F401


def enable_attach(
    relay: str,
    name: str,
    secret: Optional[str] = None,
    cafile: Optional[str] = None,
    fingerprint: Optional[str] = None,
    labels: Optional[Mapping[str, str]] = None,
    wait_registered: bool = True,
    register_timeout: float = 10.0,
    token: Optional[str] = None,
    agent_secret: Optional[str] = None,
    certfile: Optional[str] = None,
    keyfile: Optional[str] = None,
) -> None:
    """Start debugpy on loopback and register this process with a dbgrelay relay.

    - ``relay``: ``wss://[SECRET@]host:port[/base]`` or ``tcps://[SECRET@]host:port``;
      a ``SECRET@`` user part (percent-encoded) is the agent's relay secret.
    - ``name``: target name (``^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$``), used by
      ``dbgrelay attach <name>``.
    - ``secret``: the target's **attach secret** (ptvsd model): clients presenting it
      may attach to this target, and only to it. Defaults to ``$DBGRELAY_SECRET``,
      else the contents of the file named by ``$DBGRELAY_SECRET_FILE``. When no other
      relay credential is given it also authenticates the agent, so passing the
      relay secret here works as before.
    - ``token``: a bearer token (JWT with ``register:<name>``) that authenticates the
      agent; defaults to ``$DBGRELAY_TOKEN`` / ``$DBGRELAY_TOKEN_FILE``.
    - ``agent_secret``: a secret that authenticates the agent (e.g. the relay
      secret) when ``secret`` is only the attach secret; defaults to
      ``$DBGRELAY_AGENT_SECRET`` / ``$DBGRELAY_AGENT_SECRET_FILE``.
      Give at most one of ``token``, ``agent_secret`` and a URL ``SECRET@``; with
      none of them and no ``secret`` → :class:`ConfigError`.
    - ``cafile`` *or* ``fingerprint`` (``sha256:`` + 64 hex, colons optional; the
      relay's certificate or its CA); with neither, the system trust store.
      Certificate verification is always on.
    - ``certfile`` and ``keyfile``: a client certificate (PEM, e.g. from ``dbgrelay
      certs client NAME``) and its key, presented when the relay asks for one (mTLS,
      ``listeners.*.clientCertificates``). Checked at once (:class:`ConfigError`).
    - ``labels``: free-form ``str → str`` shown in ``dbgrelay targets``.
    - ``wait_registered`` (default True): block until the relay confirmed the
      registration, at most ``register_timeout`` seconds, then raise
      :class:`RegistrationError` (also raised at once if the relay refuses, e.g.
      ``AUTH_FAILED``). The bridge keeps retrying in the background either way, so a
      caller may catch the error and carry on. With ``False``, return at once.

    debugpy listens on ``127.0.0.1:0`` only, with pydevd's connection to the adapter
    set to ``TCP_NODELAY``. A separate bridge process (``python -m
    dbgrelay.bridge``, configuration on its stdin) dials out to the relay; it exits
    when this process exits. Calling again in the same process does nothing, and so
    does calling in a process that debugpy already debugs (e.g. a multiprocessing
    child of a debugged parent).
    """
    from .agent import enable_attach as _enable_attach

    _enable_attach(relay, name, secret, cafile, fingerprint, labels, wait_registered, register_timeout,
                   token=token, agent_secret=agent_secret, certfile=certfile, keyfile=keyfile)


def adapter_endpoint() -> Optional[Tuple[str, int]]:
    """``(host, port)`` where this process's debugpy adapter listens (always loopback),
    or None before :func:`enable_attach` started it. For benchmarks and operations:
    the bridge is the adapter's only intended client (see agent-py/README.md)."""
    from .agent import adapter_endpoint as _endpoint

    return _endpoint()


def apply_nodelay_fix() -> bool:
    """Set TCP_NODELAY on pydevd's connection to the debugpy adapter (see
    :mod:`dbgrelay.nodelay`); usable with a plain ``debugpy.listen`` program."""
    from .nodelay import apply_nodelay_fix as _apply

    return _apply()


def __getattr__(name: str):  # lazy access to the exception types
    if name in ("DbgRelayError", "ConfigError", "RegistrationError", "TrustError", "ProtocolError"):
        from . import errors

        return getattr(errors, name)
    raise AttributeError(name)


__all__ = ["enable_attach", "adapter_endpoint", "apply_nodelay_fix", "__version__", "DbgRelayError", "ConfigError",
           "RegistrationError", "TrustError"]
