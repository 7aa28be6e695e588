"""dbgrelay agent: make this Python process debuggable, through a dbgrelay relay or
on a direct TLS endpoint of its own (the ptvsd 3 API, made secure).

Thin facade with lazy imports (like debugpy's ``public_api``)::

    import dbgrelay
    dbgrelay.enable_attach(relay="wss://relay.example:7443", name="web-1", cafile="ca.pem")
    # or, ptvsd style:
    dbgrelay.enable_attach("s3cret", address=("0.0.0.0", 5678), certfile="cert.pem", keyfile="key.pem")
    dbgrelay.wait_for_attach()
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Mapping, Optional, Tuple, overload

__version__ = "0.1.0"

# A library's manners: the agent's records go to the program's logging, never
# straight to its stderr (dbgrelay/logsetup.py).
logging.getLogger("dbgrelay").addHandler(logging.NullHandler())

if TYPE_CHECKING:  # pragma: no cover
    from .errors import ConfigError, DbgRelayError, RegistrationError, TrustError  # noqa: F401


@overload
def enable_attach(
    relay: str,
    name: str,
    secret: Optional[str] = ...,
    cafile: Optional[str] = ...,
    fingerprint: Optional[str] = ...,
    labels: Optional[Mapping[str, str]] = ...,
    wait_registered: bool = ...,
    register_timeout: float = ...,
    token: Optional[str] = ...,
    agent_secret: Optional[str] = ...,
    certfile: Optional[str] = ...,
    keyfile: Optional[str] = ...,
    pause_guard: bool = ...,
    unowned_pause: float = ...,
    max_pause: float = ...,
    adapter_stall: float = ...,
    remote_root: Optional[str] = ...,
    kill_timer: Optional[Tuple[float, str]] = ...,
) -> None: ...


@overload
def enable_attach(
    secret: Optional[str] = ...,
    address: Tuple[str, int] = ...,
    certfile: Optional[str] = ...,
    keyfile: Optional[str] = ...,
    redirect_output: bool = ...,
    *,
    name: Optional[str] = ...,
    allow_no_secret: bool = ...,
) -> Optional[Tuple[str, int]]: ...


def enable_attach(*args: Any, **kwargs: Any) -> Optional[Tuple[str, int]]:
    """Make this process debuggable, in one of two modes.

    **Direct endpoint** (ptvsd 3's signature, made secure)::

        enable_attach(secret, address=("0.0.0.0", 5678), certfile=None, keyfile=None,
                      redirect_output=True, *, name=None, allow_no_secret=False)

    A separate bridge process listens on ``address`` (port 0: any free port) with TLS
    1.2+ from ``certfile``/``keyfile`` (``keyfile`` None: the key is in ``certfile``);
    clients speak the relay's tcps protocol to it (docs/protocol.md §4: hello line with
    ``op: "attach"``, the target name and the secret; then raw DAP), e.g. ``dbgrelay
    attach tcps://SECRET@host:5678``. The secret (default ``$DBGRELAY_SECRET``, else
    the file in ``$DBGRELAY_SECRET_FILE``) is compared in constant time; no secret at
    all needs ``allow_no_secret=True`` and logs a warning. Without ``certfile`` the
    address must be loopback. The endpoint answers to the target name ``name``
    (default ``"ptvsd"``) and always to the reserved name ``"ptvsd"``. Returns the
    ``(host, port)`` it listens on. ``redirect_output`` is accepted for
    compatibility: debugpy sends program output to the client as the client's attach
    request asks (``redirectOutput``, on by default in VS Code).

    **Relay** (``relay=`` given, or the earlier positional form ``enable_attach(relay,
    name, ...)``)::

        enable_attach(relay, name, secret=None, cafile=None, fingerprint=None,
                      labels=None, wait_registered=False, register_timeout=30.0,
                      token=None, agent_secret=None, certfile=None, keyfile=None,
                      pause_guard=True, unowned_pause=30.0, max_pause=0.0, adapter_stall=10.0,
                      remote_root=None, kill_timer=None)

    - ``relay``: ``wss://[SECRET@]host:port[/base]`` or ``tcps://[SECRET@]host:port``;
      a ``SECRET@`` user part (percent-encoded) is the agent's relay secret.
    - ``name``: target name (``^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$``, or ``GROUP/MEMBER``
      of two such parts for one process of a group, e.g. a server's worker), used by
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
    - ``wait_registered`` (default False: return at once): block until the relay
      confirmed the registration, at most ``register_timeout`` seconds (default 30),
      then raise :class:`RegistrationError` (also raised at once if the relay refuses,
      e.g. ``AUTH_FAILED``). Either way the bridge keeps retrying in the background
      (capped, jittered backoff: at most 5 s between attempts) for as long as this
      process runs, so a relay outage never stops the program; a refused credential or
      an untrusted certificate is logged at ERROR under the ``dbgrelay`` logger.
      :func:`wait_registered` waits later. Returns None.
    - ``name`` may hold ``{hostname}`` and ``{pid}``, replaced in this process.
    - ``remote_root``: where the program's own files are, sent to the relay with the
      working directory so that ``dbgrelay attach`` prints path mappings that match
      (default: the main script's directory, else the working directory).
    - ``kill_timer``: ``(seconds, source)``, the server's own bound on a worker that does
      not answer (e.g. ``(server.timeout, "gunicorn --timeout")`` in a ``post_fork``
      hook); the relay resumes a pause before it and warns the client at attach.
      Workers forked under the agent find gunicorn's and Celery's by themselves.
    - The pause guard (a thread in this process the debugger never sees or suspends;
      agent-py/README.md, "The pause guard"): ``unowned_pause`` seconds paused with no live
      session owning the pause, or ``max_pause`` seconds paused at all (0: no hard
      maximum), and it resumes every thread through pydevd itself; a session whose
      adapter left a request unanswered for ``adapter_stall`` seconds owns nothing.
      ``pause_guard=False`` turns it off (the target is then listed as unguarded).

    Either way debugpy listens on ``127.0.0.1:0`` only, with pydevd's connection to
    the adapter set to ``TCP_NODELAY``, and a separate bridge process (``python -m
    dbgrelay.bridge``, configuration on its stdin) serves the sessions, so a paused
    program still serves them; it exits when this process exits. Calling again in the
    same process does nothing (and returns what the first call returned), and so does
    calling in a process that debugpy already debugs (e.g. a multiprocessing child of
    a debugged parent).
    """
    from .options.callforms import is_relay_call

    if is_relay_call(args, kwargs):
        from .agent import enable_attach as enable_relay_attach  # the relay form's signature

        enable_relay_attach(*args, **kwargs)
        return None
    return _enable_direct(*args, **kwargs)


def _enable_direct(
    secret: Optional[str] = None,
    address: Tuple[str, int] = ("0.0.0.0", 5678),
    certfile: Optional[str] = None,
    keyfile: Optional[str] = None,
    redirect_output: bool = True,
    *,
    name: Optional[str] = None,
    allow_no_secret: bool = False,
) -> Optional[Tuple[str, int]]:
    """The direct-endpoint form of :func:`enable_attach` (ptvsd 3's signature)."""
    from .agent import already_debugged, enable_direct_attach, endpoint_address, is_enabled
    from .options.direct import build_direct_options

    if is_enabled():  # a second call changes nothing (as in relay mode)
        return endpoint_address()
    if already_debugged():  # e.g. a multiprocessing child of a debugged parent
        return None
    del redirect_output  # see enable_attach: the client's attach request decides
    options = build_direct_options(secret, address, certfile, keyfile, name=name, allow_no_secret=allow_no_secret)
    return enable_direct_attach(options)


def wait_registered(timeout: float = 30.0) -> None:
    """Block until the relay has confirmed this process's registration, at most
    ``timeout`` seconds; raise :class:`RegistrationError` on a refusal, the bridge's
    exit or the timeout (the bridge keeps retrying). Raises :class:`ConfigError` when
    :func:`enable_attach` did not start an agent in the relay form."""
    from .agent import wait_registered as _wait

    _wait(timeout)


def wait_for_attach(timeout: Optional[float] = None) -> bool:
    """Block until a debugger client has attached (ptvsd); ``timeout`` in seconds, None
    for no limit. Returns True once attached, False if the time ran out first. Raises
    :class:`ConfigError` when :func:`enable_attach` was not called."""
    from .attachstate import wait_for_attach as _wait

    return _wait(timeout)


def is_attached() -> bool:
    """True while a debugger client is attached to this process (ptvsd)."""
    from .attachstate import is_attached as _is_attached

    return _is_attached()


def break_into_debugger() -> None:
    """If a debugger client is attached, stop here, on the line after the call, as at
    a breakpoint; without a client, do nothing (ptvsd)."""
    import sys

    from .attachstate import break_into_debugger as _break

    _break(sys._getframe(1))


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


__all__ = [
    "enable_attach",
    "wait_registered",
    "wait_for_attach",
    "is_attached",
    "break_into_debugger",
    "adapter_endpoint",
    "apply_nodelay_fix",
    "__version__",
    "DbgRelayError",
    "ConfigError",
    "RegistrationError",
    "TrustError",
]
