"""Where a program's own files are rooted, for the ``remoteRoot`` of a client's path
mappings: a script's directory, the ``sys.path`` entry a module's top-level package
comes from, else the working directory (an installed tool such as gunicorn runs the
program's code from there)."""

from __future__ import annotations

import importlib.util
import os
import sys
import sysconfig
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # pragma: no cover
    from .programargs import Program


def _installed(path: str) -> bool:
    """True for a file of the Python installation or a virtual environment's packages."""
    path = os.path.realpath(path)
    prefixes = {sys.prefix, sys.exec_prefix, sys.base_prefix, *(p for p in (sysconfig.get_paths().get(k) for k in ("purelib", "platlib", "scripts")) if p)}
    return any(path == p or path.startswith(os.path.realpath(p) + os.sep) for p in prefixes)


def script_root(script: str) -> str:
    """The directory of ``script``."""
    return os.path.dirname(os.path.abspath(script))


def module_root(module: str) -> str:
    """The ``sys.path`` entry holding ``module``'s top-level package; the working
    directory for an installed module or one that cannot be found."""
    top = module.split(".", 1)[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        spec = None
    origin: Optional[str] = None
    if spec is not None:
        locations = list(spec.submodule_search_locations or [])
        origin = os.path.dirname(locations[0]) if locations else (os.path.dirname(spec.origin) if spec.origin else None)
    if origin is None or _installed(origin):
        return os.getcwd()
    return os.path.abspath(origin)


def default_root() -> str:
    """For ``enable_attach`` called from the program: its main script's directory, or
    the working directory when the main file is an installed tool (or there is none)."""
    main = sys.argv[0] if sys.argv and sys.argv[0] not in ("", "-c") else None
    if main is not None and os.path.isfile(main) and not _installed(main):
        return script_root(main)
    return os.getcwd()


def root_of(program: "Program") -> str:
    """Where a program run by ``python -m dbgrelay`` has its files rooted."""
    if program.kind == "script":
        return script_root(program.target)
    return module_root(program.target) if program.kind == "module" else os.getcwd()
