"""``python -m dbgrelay --pid PID``: start the agent inside a Python process that is
already running, so that the state of a live incident can be debugged.

- :mod:`.process`: what the target is (CPython, which version, opted out, agent already there).
- :mod:`.handover`: a private directory for the credentials and the bootstrap, readable
  only by the target's user and removed after use.
- :mod:`.runners`: how the bootstrap gets run: ``sys.remote_exec`` (PEP 768) on Python
  3.14 and later, gdb before that.
- :mod:`.injected`: what runs inside the target: ``enable_attach`` on a hidden thread.
"""

from .inject import inject_agent

__all__ = ["inject_agent"]
