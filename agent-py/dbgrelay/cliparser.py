"""The command line of ``python -m dbgrelay``: its help, options and checks.

:func:`parse_command_line` splits the words (:mod:`dbgrelay.programargs`), parses the
agent's own, and refuses what does not fit together; :mod:`dbgrelay.cli` acts on them.
"""

from __future__ import annotations

import argparse
import sys
from typing import Dict, List, Optional

from .programargs import Program, split_command_line

DESCRIPTION = """\
Run a Python program so that it can be debugged securely, in one of two forms.

Relay (--relay URL --name NAME): debugpy listens on 127.0.0.1 only; a separate bridge
process dials out to the relay (TLS, certificate verification always on), registers
the target NAME and bridges debug sessions. Engineers attach with `dbgrelay attach NAME`.
The program starts at once, whatever the relay does: the bridge registers in the
background and keeps retrying (at most 5 s apart) for as long as the program runs; a
refused credential or an untrusted certificate is logged as an error. To start the
program only once registered, give --wait-for-relay[=SECONDS].

The agent's options come first; -m MODULE, -c CODE or the script starts the program,
and every word after it is the program's, as with `python -m debugpy`.

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

name templates: --name may hold {hostname} and {pid}, e.g. --name 'web-{hostname}-{pid}'.

logs: the agent logs under the Python logger "dbgrelay", so a program that configures
logging gets them in its own logs; until it does, they go to stderr. --log-to DIR
writes the agent's and debugpy's logs to files in DIR; DBGRELAY_AGENT_LOG=/path also
writes the agent's to a file, and DBGRELAY_AGENT_LOG_LEVEL=DEBUG gives more detail.
No secret or token is ever logged.

exit status: 2 for invalid options (before the program starts) and, with
--wait-for-relay, when the relay refuses or the time runs out; else the program's own.
"""

#: How long --wait-for-relay waits when given without a value.
DEFAULT_WAIT_S = 30.0

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
    "wait_for_relay": "--wait-for-relay",
    "pid": "--pid",
    "unowned_pause": "--unowned-pause",
    "max_pause": "--max-pause",
    "adapter_stall": "--adapter-stall",
    "no_pause_guard": "--no-pause-guard",
}
DIRECT_ONLY = {"secret": "--secret", "certfile": "--certfile", "keyfile": "--keyfile", "host": "--host", "port": "--port", "allow_no_secret": "--allow-no-secret"}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m dbgrelay",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,  # `--secret X` is no --secret-file
        usage=(
            "python -m dbgrelay (--relay URL --name NAME | [--certfile FILE --keyfile FILE] [--host H] --port P) [options] (script.py | -m module | -c code) [args ...]\n"
            "       python -m dbgrelay --relay URL --name NAME [options] --pid PID"
        ),
    )
    p.add_argument("--version", action="store_true", help="print the versions of the agent, debugpy and Python, and exit")
    p.add_argument(
        "--relay",
        metavar="URL",
        help="relay URL: wss://[SECRET@]host:port[/base-path] or tcps://[SECRET@]host:port (SECRET percent-encoded: the agent's relay secret; visible in ps, prefer a file)",
    )
    p.add_argument(
        "--name", help='target name to register (letters, digits, . _ -; max 63; {hostname} and {pid} are filled in); direct endpoint: the name it answers to besides "ptvsd"'
    )
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
    p.add_argument(
        "--wait-for-relay",
        nargs="?",
        type=float,
        const=DEFAULT_WAIT_S,
        default=None,
        metavar="SECONDS",
        help=f"start the program only once registered; exit 2 if the relay refuses or SECONDS pass (--wait-for-relay=SECONDS; default {DEFAULT_WAIT_S:g}). Default: start at once",
    )
    p.add_argument("--register-timeout", type=float, default=None, metavar="SECONDS", help="same as --wait-for-relay=SECONDS (0: do not wait)")
    p.add_argument(
        "--pid",
        type=int,
        metavar="PID",
        help="start the agent in the running Python process PID instead of starting a program (relay form; "
        "needs ptrace rights on it: the same user with ptrace allowed, or root; gdb before Python 3.14)",
    )
    p.add_argument("--log-to", metavar="DIR", help="write the agent's and debugpy's logs to files in DIR (made if missing)")
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
    program = p.add_argument_group("the program (last; every word after it is the program's)")
    program.add_argument("-m", dest="module", metavar="MODULE", help="run a library module as a script, e.g. -m gunicorn -w 2 app:app")
    program.add_argument("-c", dest="code", metavar="CODE", help="run CODE, as python -c does")
    program.add_argument("script", nargs="?", metavar="script.py", help="run a script; its arguments follow it")
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


def _version() -> str:
    from . import __version__

    try:
        import debugpy

        debugpy_version = str(debugpy.__version__)
    except ImportError:
        debugpy_version = "not installed"
    python = ".".join(str(v) for v in sys.version_info[:3])
    return f"dbgrelay agent {__version__} (debugpy {debugpy_version}, Python {python} {sys.executable})"


def parse_command_line(argv: List[str]) -> "tuple[argparse.Namespace, Optional[Program]]":
    """The options and the program (None with --pid); exits 2 with usage for bad ones."""
    parser = build_parser()
    words, program = split_command_line(argv, parser)
    args = parser.parse_args(words)
    if args.version:
        print(_version())
        raise SystemExit(0)
    if args.pid is not None:
        if program is not None:
            parser.error("--pid starts the agent in a running process: give no program with it")
        _check_form(args, parser)
        args.labels = _labels(args.label, parser)
        return args, None
    if program is None:
        parser.error("give a script to run, -m MODULE or -c CODE, or --pid PID")
    if args.register_timeout is not None and args.wait_for_relay is None:
        args.wait_for_relay = args.register_timeout
    if args.wait_for_relay is not None and args.wait_for_relay < 0:
        parser.error("--wait-for-relay takes a number of seconds, 0 or more")
    _check_form(args, parser)
    args.labels = _labels(args.label, parser)
    return args, program
