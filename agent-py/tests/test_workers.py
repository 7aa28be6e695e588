"""Workers as group members: names, options and what forked them (the end-to-end
recipes on real servers are in test/e2e/serverWorkers.test.ts)."""

from __future__ import annotations

import sys
import types

import pytest

from dbgrelay.agent import check_kill_timer
from dbgrelay.errors import ConfigError
from dbgrelay.options.relay import build_options
from dbgrelay.workers.forkhook import member_name, member_options
from dbgrelay.workers.serverkind import ServerKind, detect


def test_a_member_is_named_after_the_group_of_its_parent() -> None:
    assert member_name("web-1", 4242) == "web-1/4242"
    assert member_name("web-1/17", 4242) == "web-1/4242"  # a worker's own child joins the same group


def test_a_member_keeps_the_parent_options_with_its_own_name_labels_and_kill_timer() -> None:
    parent = build_options("wss://h:1", "web-1", "s" * 20, labels={"env": "prod"}, wait_registered=True)
    kind = ServerKind("gunicorn", "2", (30.0, "gunicorn --timeout"))
    member = member_options(parent, kind, 4242, 100)
    assert member.name == "web-1/4242" and member.wait_registered is False
    assert dict(member.labels) == {"env": "prod", "server": "gunicorn", "worker": "2", "parent": "100", "killTimer": "30s (gunicorn --timeout)"}
    assert member.kill_timer == (30.0, "gunicorn --timeout")
    assert member.credentials is parent.credentials and member.relay == parent.relay


def test_labels_past_their_bound_leave_the_parent_labels_out() -> None:
    parent = build_options("wss://h:1", "web-1", "s" * 20, labels={f"k{i}": "v" for i in range(31)})
    member = member_options(parent, ServerKind("fork"), 7, 1)
    assert dict(member.labels) == {"server": "fork", "parent": "1"}


def _frame_in(path: str, function: str) -> types.FrameType:
    """A real frame of a function named ``function`` in a file called ``path``, with locals ``self`` and ``worker``."""
    source = f"def {function}(self, worker):\n    return sys._getframe()\n"
    namespace: dict = {"sys": sys}
    exec(compile(source, path, "exec"), namespace)  # noqa: S102 - a frame with a chosen file name
    arbiter = types.SimpleNamespace(timeout=45)
    return namespace[function](arbiter, types.SimpleNamespace(age=3, timeout=22.5))


def test_what_forked_the_worker_is_read_from_the_fork_call() -> None:
    gunicorn = detect(_frame_in("/venv/lib/python3.11/site-packages/gunicorn/arbiter.py", "spawn_worker"))
    assert gunicorn == ServerKind("gunicorn", "3", (45.0, "gunicorn --timeout"))  # the arbiter's timeout, not the worker's half
    assert detect(_frame_in("/usr/lib/python3.11/multiprocessing/popen_fork.py", "_launch")).server == "multiprocessing"
    assert detect(_frame_in("/venv/lib/python3.11/site-packages/billiard/popen_fork.py", "_launch")).server == "celery"
    assert detect(_frame_in("/srv/app/mine.py", "fork_it")) == ServerKind("fork")


def test_a_kill_timer_is_checked() -> None:
    assert check_kill_timer((30, "gunicorn --timeout")) == (30.0, "gunicorn --timeout")
    for bad in ((0, "x"), (-1, "x"), (86_401, "x"), (30, ""), (30, "x" * 65), ("soon", "x"), (30,)):
        with pytest.raises(ConfigError):
            check_kill_timer(bad)  # type: ignore[arg-type]


def test_a_spawned_child_that_cannot_import_the_agent_still_starts() -> None:
    import subprocess

    from dbgrelay.workers.spawnhook import CHILD_PREFIX

    # -S: no site-packages, so no dbgrelay: the child must run multiprocessing's code all the same
    out = subprocess.run([sys.executable, "-S", "-c", CHILD_PREFIX + "print('worker runs')"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.strip() == "worker runs", out.stderr


def test_start_data_that_does_not_load_leaves_the_worker_without_an_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    import dbgrelay.workers.spawned as spawned
    from dbgrelay.workers.spawnhook import PREPARATION_KEY

    prepared = []
    monkeypatch.setattr(spawned, "_original_prepare", prepared.append)
    started = []
    monkeypatch.setattr(spawned, "_start_member", started.append)
    spawned.prepare({"name": "SpawnPoolWorker-1", PREPARATION_KEY: b"not a pickle"})
    assert prepared == [{"name": "SpawnPoolWorker-1"}] and started == []
