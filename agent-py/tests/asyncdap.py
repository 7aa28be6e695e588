"""An asyncio DAP client over a dbgrelay ByteStream (tests)."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

from dbgrelay.bridge.streams import ByteStream
from dbgrelay.dapframing import DapReader, encode_message


class AsyncDapClient:
    def __init__(self, stream: ByteStream) -> None:
        self.stream = stream
        self.seq = 0
        self.received: List[Dict[str, Any]] = []
        self._changed = asyncio.Event()
        self.eof = False
        self._task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        reader = DapReader()
        try:
            while True:
                data = await self.stream.read()
                if not data:
                    return
                self.received.extend(reader.feed(data))
                self._changed.set()
        finally:
            self.eof = True
            self._changed.set()

    async def send(self, command: str, arguments: Optional[Dict[str, Any]] = None) -> int:
        self.seq += 1
        m: Dict[str, Any] = {"seq": self.seq, "type": "request", "command": command}
        if arguments is not None:
            m["arguments"] = arguments
        await self.stream.write(encode_message(m))
        return self.seq

    async def wait(self, pred, timeout: float = 5.0) -> Dict[str, Any]:  # type: ignore[no-untyped-def]
        async def look() -> Dict[str, Any]:
            while True:
                for m in self.received:
                    if pred(m):
                        self.received.remove(m)
                        return m
                if self.eof:
                    raise EOFError("DAP stream closed")
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(look(), timeout)

    async def response(self, seq: int, timeout: float = 5.0) -> Dict[str, Any]:
        return await self.wait(lambda m: m.get("type") == "response" and m.get("request_seq") == seq, timeout)

    async def event(self, name: str, timeout: float = 5.0) -> Dict[str, Any]:
        return await self.wait(lambda m: m.get("type") == "event" and m.get("event") == name, timeout)

    async def request(self, command: str, arguments: Optional[Dict[str, Any]] = None, timeout: float = 5.0) -> Dict[str, Any]:
        return await self.response(await self.send(command, arguments), timeout)

    async def close(self) -> None:
        await self.stream.close()
        self._task.cancel()


async def full_attach(c: AsyncDapClient, breakpoints: Optional[Dict[str, List[int]]] = None, timeout: float = 5.0) -> None:
    r = await c.request("initialize", {"adapterID": "debugpy", "clientID": "dbgrelay-test"}, timeout)
    assert r["success"], r
    attach = await c.send("attach", {"justMyCode": False})
    await c.event("initialized", timeout)
    for path, lines in (breakpoints or {}).items():
        r = await c.request("setBreakpoints", {"source": {"path": path}, "breakpoints": [{"line": n} for n in lines]}, timeout)
        assert r["success"], r
    r = await c.request("configurationDone", None, timeout)
    assert r["success"], r
    r = await c.response(attach, timeout)
    assert r["success"], r
