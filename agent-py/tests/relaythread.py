"""A FakeRelay running on its own event loop thread, for tests that drive the agent
as a separate process; and the children of a process, for finding its bridge."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any, List

from fakerelay import FakeRelay


class RelayThread:
    def __init__(self, relay: FakeRelay, scheme: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.relay = relay
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            start = self.relay.start_tcps() if scheme == "tcps" else self.relay.start_wss()
            self.port = self.loop.run_until_complete(start)
            ready.set()
            self.loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        assert ready.wait(10)
        self.url = f"{scheme}://127.0.0.1:{self.port}"

    def wait(self, predicate: Any, timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return False


def children_of(pid: int) -> List[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out
