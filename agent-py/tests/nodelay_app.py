"""Reports whether pydevd's adapter socket has TCP_NODELAY, before and after the fix."""

import json
import socket
import sys

import debugpy

from dbgrelay import nodelay

debugpy.listen(("127.0.0.1", 0))
sock = nodelay.debugger_socket()
before = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) if sock else None
applied = nodelay.apply_nodelay_fix()
after = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) if sock else None
peer = sock.getpeername() if sock else None
import pydevd  # noqa: E402

print(json.dumps({"before": before, "after": after, "applied": applied, "peer": peer, "patched": getattr(pydevd.start_client, "_dbgrelay_nodelay", False)}))
sys.stdout.flush()
