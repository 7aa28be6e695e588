"""The private directory through which the agent's options reach an injected process.

The credentials never appear in a command line, an environment or a file another user
can read: they are written to ``handover.json`` (mode 0600) in a directory of mode 0700,
both owned by the target's user, which the injected code reads and deletes at once;
the injecting process removes the whole directory on every path. The bootstrap the
target runs names that directory and holds no secret.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import Any, Dict, List

HANDOVER_FILE = "handover.json"
BOOTSTRAP_FILE = "bootstrap.py"
RESULT_FILE = "result.json"

_BOOTSTRAP = """\
# dbgrelay: starts the agent in this process (python -m dbgrelay --pid). No secret here.
def _dbgrelay_bootstrap(directory, paths):
    import sys

    for path in paths:
        if path not in sys.path:
            sys.path.append(path)
    from dbgrelay.inject.injected import start_in_thread

    start_in_thread(directory)


_dbgrelay_bootstrap({directory!r}, {paths!r})
"""


@dataclass(frozen=True)
class Handover:
    directory: str

    @property
    def bootstrap(self) -> str:
        return os.path.join(self.directory, BOOTSTRAP_FILE)

    @property
    def result(self) -> str:
        return os.path.join(self.directory, RESULT_FILE)

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def _write_private(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def prepare(uid: int, gid: int, enable_kwargs: Dict[str, Any], paths: List[str]) -> Handover:
    """The directory with the handover and the bootstrap, owned by ``uid``:``gid``."""
    directory = tempfile.mkdtemp(prefix="dbgrelay-inject-")  # mode 0700
    handover = Handover(directory)
    try:
        _write_private(os.path.join(directory, HANDOVER_FILE), json.dumps({"kwargs": enable_kwargs}))
        _write_private(handover.bootstrap, _BOOTSTRAP.format(directory=directory, paths=list(paths)))
        if os.geteuid() == 0 and (uid, gid) != (0, 0):
            for path in (directory, os.path.join(directory, HANDOVER_FILE), handover.bootstrap):
                os.chown(path, uid, gid)
    except BaseException:
        handover.remove()
        raise
    return handover


def read_handover(directory: str) -> Dict[str, Any]:
    """In the target: the options, and the handover file is gone."""
    path = os.path.join(directory, HANDOVER_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
    kwargs = data.get("kwargs") if isinstance(data, dict) else None
    if not isinstance(kwargs, dict):
        raise ValueError("malformed handover")
    return kwargs


def write_result(directory: str, result: Dict[str, Any]) -> None:
    """In the target: the outcome, written whole (rename) for the injector to read."""
    temporary = os.path.join(directory, RESULT_FILE + ".tmp")
    with open(temporary, "w", encoding="utf-8") as f:
        json.dump(result, f)
    os.replace(temporary, os.path.join(directory, RESULT_FILE))
