"""``python -m dbgrelay``: run a script or module with the agent, like ``python -m debugpy``."""

from __future__ import annotations

import argparse
import os
import runpy
import sys
from typing import Dict, List, Optional

from .errors import DbgRelayError

DESCRIPTION = """\
Run a Python program so that it can be debugged securely, in one of two forms.

Relay (--relay URL --name NAME): debugpy listens on 127.0.0.1 only; a separate bridge
process dials out to the relay (TLS, certificate verification always on), registers
the target NAME and bridges debug sessions. Engineers attach with `dbgrelay attach NAME`.

Direct endpoint (no --relay; ptvsd's model, made secure): the bridge process listens
on --host/--port itself with TLS 1.2+ from --certfile/--keyfile and lets in clients
that present the secret, e.g. `dbgrelay attach tcps://SECRET@HOST:PORT --ca CA.pem`.
The secret comes from --secret, --secret-file, DBGRELAY_SECRET or the file named by
DBGRELAY_SECRET_FILE; prefer the variable or the file: a command line is visible to
every user of the machine (ps), so --secret draws a warning. Without a certificate
the endpoint may only listen on a loopback address. It answers to the target name
--name (default "ptvsd") and always to "ptvsd".

Credentials of the relay form (see agent-py/README.md):
  attach secret    the target's own secret (ptvsd model): engineers who present it
                   may attach to this target, and only to it. From --secret-file,
                   else DBGRELAY_SECRET, else the file named by DBGRELAY_SECRET_FILE.
                   At least 16 characters; make one with
                   python -c 'import secrets; print(secrets.token_urlsafe(24))'
  relay credential how the agent authenticates to the relay, first that applies:
                   --token-file / DBGRELAY_TOKEN (a bearer token, e.g. a JWT with
                   register:NAME), --agent-secret-file / DBGRELAY_AGENT_SECRET, or a
                   secret in the URL (tcps://SECRET@host:port); else the attach
                   secret, so a relay secret given as the attach secret works as before
                   (of any length: it then sets no attach secret, as it opens every
                   target already).
With --relay no option takes a secret itself, and a secret in --relay draws a
warning. The credential variables are removed from the environment before the
program runs, so its own children do not inherit them. No secret is ever printed.
"""

EPILOG = """\
examples:
  DBGRELAY_SECRET=... python -m dbgrelay --relay wss://relay:7443 --name web-1 --ca ca.pem app.py --port 8000
  python -m dbgrelay --relay tcps://relay:7444 --name worker --fingerprint sha256:AB:CD:... \\
      --secret-file /run/secrets/dbgrelay -m mypkg.worker
  DBGRELAY_TOKEN=... python -m dbgrelay --relay wss://relay:7443 --name web-1 --secret-file attach.txt app.py

  direct endpoint:
  DBGRELAY_SECRET=... python -m dbgrelay --certfile cert.pem --keyfile key.pem --port 5678 app.py
  python -m dbgrelay --secret-file /run/secrets/debug --certfile cert.pem --keyfile key.pem \\
      --host 10.0.0.5 --port 5678 -m mypkg.worker

pause guard (relay form): a thread of the agent, invisible to the debugger, resumes the
program when it has been paused --unowned-pause seconds (default 30) while no live
session owns the pause (bridge stopped or gone, relay link dead, adapter wedged,
debugger's reader thread dead), dropping that client's breakpoints; --max-pause
bounds every pause (default 0: off). Each resume is logged and audited by the relay.

logs: stderr; set DBGRELAY_AGENT_LOG=/path to also write them to a file, and
DBGRELAY_AGENT_LOG_LEVEL=DEBUG for more detail. No secret or token is ever logged.
"""

#: Options of each form, for the check that forms are not mixed (dest -> flag).
RELAY_ONLY = {
    "ca": "--ca",
    "fingerprint": "--fingerprint",
    "client_cert": "--client-cert",
    "client_key": "--client-key",
    "token_file": "--token-file",
    "agent_secret_file": "--agent-secret-file",
    "label": "--label",
    "register_timeout": "--register-timeout",
    "unowned_pause": "--unowned-pause",
    "max_pause": "--max-pause",
    "adapter_stall": "--adapter-stall",
    "no_pause_guard": "--no-pause-guard",
}
DIRECT_ONLY = {"secret": "--secret", "certfile": "--certfile", "keyfile": "--keyfile", "host": "--host", "port": "--port", "allow_no_secret": "--allow-no-secret"}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m dbgrelay",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,  # `--secret X` is no --secret-file
        usage="python -m dbgrelay (--relay URL --name NAME | [--certfile FILE --keyfile FILE] [--host H] --port P) [options] (script.py | -m module) [args ...]",
    )
    p.add_argument(
        "--relay",
        metavar="URL",
        help="relay URL: wss://[SECRET@]host:port[/base-path] or tcps://[SECRET@]host:port (SECRET percent-encoded: the agent's relay secret; visible in ps, prefer a file)",
    )
    p.add_argument("--name", help='target name to register (letters, digits, . _ -; max 63); direct endpoint: the name it answers to besides "ptvsd"')
    trust = p.add_mutually_exclusive_group()
    trust.add_argument("--ca", metavar="FILE", help="PEM file with the CA that signed the relay's certificate")
    trust.add_argument(
        "--fingerprint", metavar="sha256:HEX", help="pin the relay's certificate or its CA by SHA-256 fingerprint (colons optional); default: the system trust store"
    )
    p.add_argument(
        "--client-cert", metavar="FILE", help="client certificate (PEM) to present when the relay asks for one (mTLS), e.g. from `dbgrelay certs client NAME`; needs --client-key"
    )
    p.add_argument("--client-key", metavar="FILE", help="private key (PEM) of --client-cert")
    p.add_argument(
        "--secret-file",
        metavar="FILE",
        help="file holding the secret (else $DBGRELAY_SECRET): with --relay the target's attach "
        "secret, also the relay credential when no other is given; else the endpoint's secret",
    )
    p.add_argument("--token-file", metavar="FILE", help="file holding a bearer token that authenticates the agent (else $DBGRELAY_TOKEN)")
    p.add_argument("--agent-secret-file", metavar="FILE", help="file holding a secret that authenticates the agent (else $DBGRELAY_AGENT_SECRET)")
    direct = p.add_argument_group("direct endpoint (without --relay)")
    direct.add_argument("--secret", metavar="SECRET", help="the secret clients must present; visible in ps: prefer DBGRELAY_SECRET or --secret-file")
    direct.add_argument("--certfile", metavar="FILE", help="certificate (PEM) the endpoint presents (TLS 1.2+)")
    direct.add_argument("--keyfile", metavar="FILE", help="private key (PEM) of --certfile (default: in --certfile)")
    direct.add_argument("--host", help="address to listen on (default 0.0.0.0; without --certfile only loopback)")
    direct.add_argument("--port", type=int, help="port to listen on (default 5678; 0: any free port)")
    direct.add_argument("--allow-no-secret", action="store_true", help="let in any client without a secret (anyone who can connect can run code)")
    p.add_argument("--label", action="append", default=None, metavar="KEY=VALUE", help="label shown in `dbgrelay targets` (repeatable)")
    p.add_argument("--wait-for-client", action="store_true", help="do not start the program until a debugger has attached")
    p.add_argument("--register-timeout", type=float, default=None, metavar="SECONDS", help="how long to wait for the relay to confirm the registration (default 10)")
    guard = p.add_argument_group("pause guard (relay form)")
    guard.add_argument(
        "--unowned-pause",
        type=float,
        default=None,
        metavar="SECONDS",
        help="resume the program when it has been paused this long with no live session owning the pause, and drop that client's breakpoints (default 30)",
    )
    guard.add_argument(
        "--max-pause",
        type=float,
        default=None,
        metavar="SECONDS",
        help="resume the program after any pause this long, even one a live session owns (default 0: off; the relay's pause watchdog bounds owned pauses)",
    )
    guard.add_argument(
        "--adapter-stall",
        type=float,
        default=None,
        metavar="SECONDS",
        help="a request debugpy's adapter leaves unanswered this long makes its session stop owning the pause (default 10)",
    )
    guard.add_argument("--no-pause-guard", action="store_true", help="do not run the pause guard (not recommended in production)")
    p.add_argument("-m", dest="module", metavar="MODULE", help="run a library module as a script")
    p.add_argument("target", nargs=argparse.REMAINDER, help="script.py [args ...] (or args for -m)")
    return p


def _labels(items: Optional[List[str]], parser: argparse.ArgumentParser) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            parser.error(f"--label expects KEY=VALUE, got {item!r}")
        out[key] = value
    return out


def _check_form(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Relay and direct-endpoint options do not mix."""
    relay = args.relay is not None
    wrong = RELAY_ONLY if not relay else DIRECT_ONLY
    given = [flag for dest, flag in wrong.items() if getattr(args, dest) not in (None, False, [])]
    if relay and given == ["--secret"]:
        parser.error(
            "--secret is for the direct endpoint form; with --relay give the attach secret with --secret-file or DBGRELAY_SECRET (a command line is visible to every local user)"
        )
    if given:
        form = "the direct endpoint form (no --relay)" if relay else "the relay form (--relay)"
        parser.error(f"{', '.join(given)} belong(s) to {form}")
    if relay and not args.name:
        parser.error("--relay needs --name NAME")


def _enable_relay(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    from .credentials import read_secret_file
    from .relayurl import parse_relay_url

    secret = read_secret_file(args.secret_file) if args.secret_file else None
    token = read_secret_file(args.token_file, "token") if args.token_file else None
    agent_secret = read_secret_file(args.agent_secret_file, "agent secret") if args.agent_secret_file else None
    if parse_relay_url(args.relay).secret is not None:
        print(
            "dbgrelay: warning: the secret in --relay is visible to other local users in the process list (ps); prefer --agent-secret-file or DBGRELAY_AGENT_SECRET",
            file=sys.stderr,
        )
    import dbgrelay

    dbgrelay.enable_attach(
        relay=args.relay,
        name=args.name,
        secret=secret,
        cafile=args.ca,
        fingerprint=args.fingerprint,
        labels=_labels(args.label, parser),
        register_timeout=args.register_timeout or 10.0,
        certfile=args.client_cert,
        keyfile=args.client_key,
        token=token,
        agent_secret=agent_secret,
        **_guard_kwargs(args),
    )


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


def main(argv: Optional[List[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.module is None and not args.target:
        parser.error("give a script to run, or -m MODULE")
    _check_form(args, parser)
    from .credentials import CREDENTIAL_ENV_VARS

    try:
        if args.relay is not None:
            _enable_relay(args, parser)
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
    if args.module is not None:
        sys.argv = [args.module] + list(args.target)
        runpy.run_module(args.module, run_name="__main__", alter_sys=True)
    else:
        script, rest = args.target[0], args.target[1:]
        sys.argv = [script] + list(rest)
        sys.path[0] = os.path.dirname(os.path.abspath(script))
        runpy.run_path(script, run_name="__main__")
    return 0
