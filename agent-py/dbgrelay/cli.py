"""``python -m dbgrelay``: run a script or module with the agent, like ``python -m debugpy``."""

from __future__ import annotations

import argparse
import os
import runpy
import sys
from typing import Dict, List, Optional

from .errors import DbgRelayError

DESCRIPTION = """\
Run a Python program so that it can be debugged through a dbgrelay relay.

debugpy listens on 127.0.0.1 only; a separate bridge process dials out to the relay
(TLS, certificate verification always on), registers the target NAME and bridges
debug sessions. Engineers then attach with `dbgrelay attach NAME`.

Credentials (see agent-py/README.md):
  attach secret    the target's own secret (ptvsd model): engineers who present it
                   may attach to this target, and only to it. From --secret-file,
                   else DBGRELAY_SECRET, else the file named by DBGRELAY_SECRET_FILE.
  relay credential how the agent authenticates to the relay, first that applies:
                   --token-file / DBGRELAY_TOKEN (a bearer token, e.g. a JWT with
                   register:NAME), --agent-secret-file / DBGRELAY_AGENT_SECRET, or a
                   secret in the URL (tcps://SECRET@host:port); else the attach
                   secret, so a relay secret given as the attach secret works as before.
There is deliberately no option that takes a secret itself, and a secret in --relay
draws a warning: a command line is visible to every user of the machine (ps). The
credential variables are removed from the environment before the program runs, so
its own children do not inherit them.
"""

EPILOG = """\
examples:
  DBGRELAY_SECRET=... python -m dbgrelay --relay wss://relay:7443 --name web-1 --ca ca.pem app.py --port 8000
  python -m dbgrelay --relay tcps://relay:7444 --name worker --fingerprint sha256:AB:CD:... \\
      --secret-file /run/secrets/dbgrelay -m mypkg.worker

  DBGRELAY_TOKEN=... python -m dbgrelay --relay wss://relay:7443 --name web-1 --secret-file attach.txt app.py

logs: stderr; set DBGRELAY_AGENT_LOG=/path to also write them to a file, and
DBGRELAY_AGENT_LOG_LEVEL=DEBUG for more detail. No secret or token is ever logged.
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m dbgrelay", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False,  # `--secret X` is no --secret-file
        usage="python -m dbgrelay --relay URL --name NAME [options] (script.py | -m module) [args ...]",
    )
    p.add_argument("--relay", required=True, metavar="URL",
                   help="relay URL: wss://[SECRET@]host:port[/base-path] or tcps://[SECRET@]host:port "
                        "(SECRET percent-encoded: the agent's relay secret; visible in ps, prefer a file)")
    p.add_argument("--name", required=True, help="target name to register (letters, digits, . _ -; max 63)")
    trust = p.add_mutually_exclusive_group()
    trust.add_argument("--ca", metavar="FILE", help="PEM file with the CA that signed the relay's certificate")
    trust.add_argument("--fingerprint", metavar="sha256:HEX",
                       help="pin the relay's certificate or its CA by SHA-256 fingerprint "
                            "(colons optional); default: the system trust store")
    p.add_argument("--client-cert", metavar="FILE",
                   help="client certificate (PEM) to present when the relay asks for one (mTLS), "
                        "e.g. from `dbgrelay certs client NAME`; needs --client-key")
    p.add_argument("--client-key", metavar="FILE", help="private key (PEM) of --client-cert")
    p.add_argument("--secret-file", metavar="FILE",
                   help="file holding the target's attach secret, also the relay credential when no other "
                        "is given (else $DBGRELAY_SECRET)")
    p.add_argument("--token-file", metavar="FILE",
                   help="file holding a bearer token that authenticates the agent (else $DBGRELAY_TOKEN)")
    p.add_argument("--agent-secret-file", metavar="FILE",
                   help="file holding a secret that authenticates the agent (else $DBGRELAY_AGENT_SECRET)")
    p.add_argument("--label", action="append", default=[], metavar="KEY=VALUE",
                   help="label shown in `dbgrelay targets` (repeatable)")
    p.add_argument("--wait-for-client", action="store_true",
                   help="do not start the program until a debugger has attached")
    p.add_argument("--register-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="how long to wait for the relay to confirm the registration (default 10)")
    p.add_argument("-m", dest="module", metavar="MODULE", help="run a library module as a script")
    p.add_argument("target", nargs=argparse.REMAINDER, help="script.py [args ...] (or args for -m)")
    return p


def _labels(items: List[str], parser: argparse.ArgumentParser) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            parser.error(f"--label expects KEY=VALUE, got {item!r}")
        out[key] = value
    return out


def main(argv: Optional[List[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.module is None and not args.target:
        parser.error("give a script to run, or -m MODULE")
    from .credentials import CREDENTIAL_ENV_VARS, read_secret_file
    from .relayurl import parse_relay_url

    try:
        secret = read_secret_file(args.secret_file) if args.secret_file else None
        token = read_secret_file(args.token_file, "token") if args.token_file else None
        agent_secret = read_secret_file(args.agent_secret_file, "agent secret") if args.agent_secret_file else None
        if parse_relay_url(args.relay).secret is not None:
            print("dbgrelay: warning: the secret in --relay is visible to other local users in the process "
                  "list (ps); prefer --agent-secret-file or DBGRELAY_AGENT_SECRET", file=sys.stderr)
        import dbgrelay

        dbgrelay.enable_attach(
            relay=args.relay, name=args.name, secret=secret, cafile=args.ca, fingerprint=args.fingerprint,
            labels=_labels(args.label, parser), register_timeout=args.register_timeout,
            certfile=args.client_cert, keyfile=args.client_key, token=token, agent_secret=agent_secret,
        )
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
