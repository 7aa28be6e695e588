"""``enable_attach``: debugpy on loopback, the bridge process, registration."""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import sys
import threading
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple, Union

from . import __version__
from .bridgeprocess import BridgeProcess
from .credentials import remove_credential_env
from .errors import ConfigError, DbgRelayError
from .logsetup import configure_program_logging, register_secret
from .options import DEFAULT_ADAPTER_STALL_S, DEFAULT_REGISTER_TIMEOUT_S, DEFAULT_UNOWNED_PAUSE_S, AgentOptions, DirectOptions, PauseGuardOptions, build_options
from .pauseguard import PauseGuard

log = logging.getLogger("dbgrelay.agent")

_lock = threading.Lock()

ENDPOINT_MESSAGE = "debugpy adapter listening on %s:%d (loopback only)"


def _announce(message: str, *args: Any) -> None:
    """Log once, at INFO but whatever the configured level (tools such as
    bench/dapLatency.ts parse the endpoint line from the agent log)."""
    log.handle(log.makeRecord(log.name, logging.INFO, __file__, 0, message, args, None))


def _announce_endpoint(host: str, port: int) -> None:
    _announce(ENDPOINT_MESSAGE, host, port)


def already_debugged() -> bool:
    """True in a process pydevd already traces (a debugpy subprocess, or a program
    that called ``debugpy.listen``/``connect`` itself)."""
    pydevd = sys.modules.get("pydevd")
    if pydevd is None:
        return False
    try:
        return pydevd.get_global_debugger() is not None
    except Exception:
        return False


def _process_info(root: Optional[str] = None, kill_timer: Optional[Tuple[float, str]] = None) -> Dict[str, Any]:
    """The ``process`` of the ``register`` message: who runs, and where its paths are
    rooted (``cwd``, ``root``: left out when too long to send)."""
    import debugpy

    from .programroot import default_root
    from .protocol import MAX_PATH_CHARS

    paths = {"cwd": os.getcwd(), "root": root or default_root()}
    return {
        "pid": os.getpid(),
        "host": socket.gethostname()[:255],
        "python": ".".join(str(v) for v in sys.version_info[:3]),
        "debugpy": str(debugpy.__version__)[:64],
        "agent": __version__,
        **{key: path for key, path in paths.items() if 0 < len(path) <= MAX_PATH_CHARS},
        **({"killTimer": {"seconds": kill_timer[0], "source": kill_timer[1][:64]}} if kill_timer else {}),
    }


@dataclass(frozen=True)
class _Running:
    options: Union[AgentOptions, DirectOptions]
    bridge: BridgeProcess
    adapter: Tuple[str, int]
    #: where the direct endpoint listens (None in relay mode)
    listening: Optional[Tuple[str, int]] = None
    #: the pause guard thread (None when off or unable to run)
    guard: Optional[PauseGuard] = None
    #: the program root reported at registration (relay mode; None: found at start)
    root: Optional[str] = None


_state: Optional[_Running] = None


def _start_bridge(
    config: Dict[str, Any], guard: PauseGuardOptions, pass_fds: Tuple[int, ...] = (), root: Optional[str] = None, kill_timer: Optional[Tuple[float, str]] = None
) -> Tuple[BridgeProcess, Tuple[str, int], Optional[PauseGuard]]:
    """Spawn the bridge, start debugpy on loopback, hand the bridge ``config`` plus the
    adapter endpoint and process info on its stdin, then start the pause guard. The
    credential variables leave ``os.environ`` before debugpy's adapter is spawned, so
    neither it nor anything it or the program starts inherits them."""
    bridge = BridgeProcess(pass_fds)  # before debugpy.listen, so pydevd does not patch it
    remove_credential_env()  # read already (options); the bridge got a copy without them
    try:
        import debugpy

        from .adapterlauncher import guarded_adapter_python
        from .continuerace import install_continue_race_fix
        from .nodelay import apply_nodelay_fix, install_patch

        install_patch()
        install_continue_race_fix()
        launcher = guarded_adapter_python(debugpy)
        try:
            host, port = debugpy.listen(("127.0.0.1", 0))
        finally:
            if launcher is not None:
                launcher.remove()
        _announce_endpoint(host, port)
        apply_nodelay_fix()
        bridge.send_config(
            {
                **config,
                "adapterHost": host,
                "adapterPort": port,
                "process": _process_info(root, kill_timer),
                "parentPid": os.getpid(),
                "pdeathsig": threading.current_thread() is threading.main_thread(),
                "guard": guard.bridge_config(),
            }
        )
    except BaseException:
        bridge.stop()
        raise
    from .guardstart import start_pause_guard

    return bridge, (host, port), start_pause_guard(guard, bridge)


def enable_attach(
    relay: str,
    name: str,
    secret: Optional[str] = None,
    cafile: Optional[str] = None,
    fingerprint: Optional[str] = None,
    labels: Optional[Mapping[str, str]] = None,
    wait_registered: bool = False,
    register_timeout: float = DEFAULT_REGISTER_TIMEOUT_S,
    token: Optional[str] = None,
    agent_secret: Optional[str] = None,
    certfile: Optional[str] = None,
    keyfile: Optional[str] = None,
    pause_guard: bool = True,
    unowned_pause: float = DEFAULT_UNOWNED_PAUSE_S,
    max_pause: float = 0.0,
    adapter_stall: float = DEFAULT_ADAPTER_STALL_S,
    remote_root: Optional[str] = None,
    kill_timer: Optional[Tuple[float, str]] = None,
) -> None:
    """Relay form of :func:`dbgrelay.enable_attach` (see there). The pause guard's
    keywords (:class:`~dbgrelay.options.guard.PauseGuardOptions`): ``pause_guard``
    (False: off), ``unowned_pause`` (s, default 30), ``max_pause`` (s, 0: off),
    ``adapter_stall`` (s, default 10). ``remote_root``: where the program's files are
    rooted, reported for clients' path mappings (default: the main script's directory,
    else the working directory). ``kill_timer``: ``(seconds, source)``, the server's
    own bound on a worker that does not answer (e.g. ``(server.timeout, "gunicorn
    --timeout")`` in a gunicorn ``post_fork`` hook): the relay resumes a pause before it."""
    global _state
    with _lock:
        if _state is not None:
            return
        if already_debugged():
            log.info("process is already being debugged (debugpy subprocess?); not starting an agent")
            return
        configure_program_logging()
        guard = PauseGuardOptions(enabled=pause_guard, unowned_pause=unowned_pause, max_pause=max_pause, adapter_stall=adapter_stall)
        options = build_options(
            relay,
            name,
            secret,
            cafile,
            fingerprint,
            labels,
            wait_registered,
            register_timeout,
            token=token,
            agent_secret=agent_secret,
            certfile=certfile,
            keyfile=keyfile,
            guard=guard,
        )
        if kill_timer is not None:
            options = dataclasses.replace(options, kill_timer=check_kill_timer(kill_timer))
        bridge = start_relay_agent(options, remote_root)
    if wait_registered:
        bridge.wait_registered(register_timeout)


def check_kill_timer(kill_timer: Tuple[float, str]) -> Tuple[float, str]:
    """``(seconds, source)`` with 0 < seconds <= one day and a source of 1..64 characters."""
    try:
        seconds, source = float(kill_timer[0]), str(kill_timer[1])
    except (TypeError, ValueError, IndexError):
        raise ConfigError("kill_timer must be (seconds, source), e.g. (30, 'gunicorn --timeout')") from None
    if not 0 < seconds <= 86_400 or not 1 <= len(source) <= 64:
        raise ConfigError("kill_timer must be (seconds, source) with 0 < seconds <= 86400 and a source of 1..64 characters")
    return seconds, source


def start_relay_agent(options: AgentOptions, remote_root: Optional[str]) -> BridgeProcess:
    """Start the relay form with validated ``options`` (the caller holds ``_lock``, and
    no agent runs in this process): bridge, debugpy, pause guard; then forked workers
    become group members (:mod:`dbgrelay.workers`)."""
    global _state
    for value in options.credentials.values():
        register_secret(value)
    if options.credentials.attach_is_relay_secret:
        log.info("the secret is the agent's relay credential (the relay secret), which already opens every target: registering %r without an attach secret", options.name)
    bridge, adapter, running_guard = _start_bridge(options.bridge_config(), options.guard, root=remote_root, kill_timer=options.kill_timer)
    _state = _Running(options, bridge, adapter, guard=running_guard, root=remote_root)
    log.info("bridge pid %d dialing %s", bridge.proc.pid, options.relay_url)
    _announce("%s", options.guard.describe())
    from .workers.forkhook import install_fork_hook, member_payload
    from .workers.spawnhook import install_spawn_hook

    install_fork_hook(sys.modules[__name__])  # type: ignore[arg-type]  # this module is the agent the hooks call back
    install_spawn_hook(member_payload)
    return bridge


def forget_after_fork() -> Optional[_Running]:
    """In a forked child: drop the parent's agent (its bridge, adapter and guard are the
    parent's) and return it, so that the child can start one of its own."""
    global _state, _lock
    parent, _state = _state, None
    _lock = threading.Lock()  # another thread may have held it at the fork
    return parent


def start_lock() -> threading.Lock:
    """The lock held while an agent starts in this process."""
    return _lock


def running_state() -> Optional[_Running]:
    """The agent running in this process, if any."""
    return _state


def wait_registered(timeout: float = DEFAULT_REGISTER_TIMEOUT_S) -> None:
    """Block until the relay confirmed the registration (see :func:`dbgrelay.wait_registered`)."""
    state = _state
    if state is None or not isinstance(state.options, AgentOptions):
        raise ConfigError("wait_registered() needs an agent started by enable_attach(relay=..., name=...)")
    state.bridge.wait_registered(timeout)


def _listen(host: str, port: int) -> socket.socket:
    try:
        family = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
        return socket.create_server((host, port), family=family, backlog=64)
    except OSError as exc:
        raise ConfigError(f"the debug endpoint cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def enable_direct_attach(options: DirectOptions, start_timeout: float = 10.0, guard: PauseGuardOptions = PauseGuardOptions()) -> Optional[Tuple[str, int]]:
    """Direct endpoint mode (see :mod:`dbgrelay.options.direct`): bind ``host:port``
    here (a busy port fails now), let the bridge serve it. Returns where it listens
    (the actual port for port 0); None when debugpy already debugs this process.
    A second call returns the first call's address and changes nothing."""
    global _state
    with _lock:
        if _state is not None:
            return _state.listening
        if already_debugged():
            log.info("process is already being debugged (debugpy subprocess?); not starting an endpoint")
            return None
        configure_program_logging()
        if options.secret:
            register_secret(options.secret)
        else:
            log.warning(
                "enable_attach(allow_no_secret=True): the debug endpoint on %s:%d has NO SECRET; anyone who can connect to it can run arbitrary code in this process",
                options.host,
                options.port,
            )
        listener = _listen(options.host, options.port)
        try:
            listening = listener.getsockname()[:2]
            bridge, adapter, running_guard = _start_bridge(options.bridge_config(listener.fileno()), guard, pass_fds=(listener.fileno(),))
        finally:
            listener.close()  # the bridge holds its own copy: the port closes when the bridge exits
        _state = _Running(options, bridge, adapter, (str(listening[0]), int(listening[1])), running_guard)
        _announce("%s", guard.describe())
    bridge.wait_listening(start_timeout)
    log.info("bridge pid %d serves the debug endpoint on %s:%d (%s)", bridge.proc.pid, listening[0], listening[1], "TLS" if options.tls else "plaintext, loopback")
    return _state.listening


def endpoint_address() -> Optional[Tuple[str, int]]:
    """Where the direct endpoint listens; None in relay mode or before ``enable_attach``."""
    return _state.listening if _state else None


def is_enabled() -> bool:
    """True once :func:`enable_attach` started an agent in this process (either mode)."""
    return _state is not None


def adapter_endpoint() -> Optional[Tuple[str, int]]:
    """``(host, port)`` of the debugpy adapter (loopback), once ``enable_attach`` ran."""
    return _state.adapter if _state else None


def adapter_port() -> Optional[int]:
    """The loopback port of the debugpy adapter, once ``enable_attach`` ran."""
    return _state.adapter[1] if _state else None


def bridge_pid() -> Optional[int]:
    return _state.bridge.proc.pid if _state else None


def running_pause_guard() -> Optional[PauseGuard]:
    """The running pause guard (None before ``enable_attach``, or when it is off or cannot run)."""
    return _state.guard if _state else None


__all__ = [
    "enable_attach",
    "wait_registered",
    "enable_direct_attach",
    "endpoint_address",
    "is_enabled",
    "adapter_endpoint",
    "adapter_port",
    "bridge_pid",
    "running_pause_guard",
    "DbgRelayError",
]
