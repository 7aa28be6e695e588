"""``python -m dbgrelay`` (also installed as ``dbgrelay-agent``): run a script, a module
or code with the agent, shaped like ``python -m debugpy``."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Dict, List, Optional

from .cliparser import DEFAULT_WAIT_S, parse_command_line
from .errors import DbgRelayError
from .programargs import Program, run_program
from .programroot import root_of

#: How long --pid waits for the running process to start its agent.
INJECT_TIMEOUT_S = 30.0


def _relay_kwargs(args: argparse.Namespace, program: Optional[Program]) -> Dict[str, object]:
    """``enable_attach``'s keyword arguments from the command line. For a running
    process (``program`` None, ``--pid``) the credentials of this process's environment
    are read here, as the target's environment is not this one."""
    from .credentials import credential_from_env, read_secret_file
    from .relayurl import parse_relay_url

    from_env = credential_from_env if program is None else (lambda _name, _file, _what: None)
    secret = read_secret_file(args.secret_file) if args.secret_file else from_env("DBGRELAY_SECRET", "DBGRELAY_SECRET_FILE", "secret")
    token = read_secret_file(args.token_file, "token") if args.token_file else from_env("DBGRELAY_TOKEN", "DBGRELAY_TOKEN_FILE", "token")
    agent_secret = (
        read_secret_file(args.agent_secret_file, "agent secret") if args.agent_secret_file else from_env("DBGRELAY_AGENT_SECRET", "DBGRELAY_AGENT_SECRET_FILE", "agent secret")
    )
    if parse_relay_url(args.relay).secret is not None:
        print(
            "dbgrelay: warning: the secret in --relay is visible to other local users in the process list (ps); prefer --agent-secret-file or DBGRELAY_AGENT_SECRET",
            file=sys.stderr,
        )
    return dict(
        relay=args.relay,
        name=args.name,
        secret=secret,
        cafile=args.ca,
        fingerprint=args.fingerprint,
        labels=args.labels,
        wait_registered=bool(args.wait_for_relay),
        register_timeout=args.wait_for_relay or DEFAULT_WAIT_S,
        certfile=args.client_cert,
        keyfile=args.client_key,
        token=token,
        agent_secret=agent_secret,
        **({"remote_root": root_of(program)} if program is not None else {}),
        **_guard_kwargs(args),
    )


def _enable_relay(args: argparse.Namespace, program: Program) -> None:
    import dbgrelay

    dbgrelay.enable_attach(**_relay_kwargs(args, program))  # type: ignore[arg-type]


def _inject(args: argparse.Namespace) -> int:
    """--pid: start the agent in a running process; 0 once it runs there, else 2."""
    from .inject import inject_agent

    result = inject_agent(args.pid, _relay_kwargs(args, None), INJECT_TIMEOUT_S)
    print(
        f"dbgrelay: the agent runs in process {args.pid} as target {result.get('name')!r} (bridge pid {result.get('bridgePid')}); it registers in the background", file=sys.stderr
    )
    return 0


def _guard_kwargs(args: argparse.Namespace) -> Dict[str, object]:
    """The pause guard's ``enable_attach`` keywords given on the command line."""
    out: Dict[str, object] = {"pause_guard": not args.no_pause_guard}
    for dest in ("unowned_pause", "max_pause", "adapter_stall"):
        if getattr(args, dest) is not None:
            out[dest] = getattr(args, dest)
    return out


def _enable_direct(args: argparse.Namespace) -> None:
    from .credentials import read_secret_file
    from .errors import ConfigError

    if args.secret is not None and args.secret_file is not None:
        raise ConfigError("give the secret with --secret or --secret-file, not both")
    if args.secret is not None:
        print("dbgrelay: warning: --secret is visible to other local users in the process list (ps); prefer DBGRELAY_SECRET or --secret-file", file=sys.stderr)
    secret = args.secret if args.secret is not None else (read_secret_file(args.secret_file) if args.secret_file else None)
    import dbgrelay

    host = args.host if args.host is not None else "0.0.0.0"
    address = dbgrelay.enable_attach(secret, (host, 5678 if args.port is None else args.port), args.certfile, args.keyfile, name=args.name, allow_no_secret=args.allow_no_secret)
    if address is not None:
        print(
            f"dbgrelay: debug endpoint listening on {address[0]}:{address[1]} "
            f"({'TLS' if args.certfile else 'plaintext, loopback only'}); attach with "
            f"`dbgrelay attach tcps://{address[0]}:{address[1]} --ca CA.pem` and the secret in DBGRELAY_SECRET",
            file=sys.stderr,
            flush=True,
        )


def _log_to(directory: str) -> None:
    """--log-to: the agent's log file and debugpy's logs in ``directory``."""
    from .errors import ConfigError
    from .logsetup import LOG_FILE_ENV

    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--log-to {directory!r}: {exc.strerror or exc}") from None
    os.environ[LOG_FILE_ENV] = os.path.join(os.path.abspath(directory), f"dbgrelay-agent.{os.getpid()}.log")
    import debugpy

    debugpy.log_to(directory)


def main(argv: Optional[List[str]] = None) -> int:
    args, program = parse_command_line(sys.argv[1:] if argv is None else argv)
    from .credentials import CREDENTIAL_ENV_VARS
    from .logsetup import install_stderr_fallback

    install_stderr_fallback()
    if program is None:
        try:
            return _inject(args)
        except DbgRelayError as exc:
            print(f"dbgrelay: {exc}", file=sys.stderr)
            return 2
    try:
        if args.log_to:
            _log_to(args.log_to)
        if args.relay is not None:
            _enable_relay(args, program)
        else:
            _enable_direct(args)
    except DbgRelayError as exc:
        print(f"dbgrelay: {exc}", file=sys.stderr)
        return 2
    for name in CREDENTIAL_ENV_VARS:
        os.environ.pop(name, None)
    if args.wait_for_client:
        import debugpy

        print("dbgrelay: waiting for a debugger to attach...", file=sys.stderr, flush=True)
        debugpy.wait_for_client()
    run_program(program)
    return 0
