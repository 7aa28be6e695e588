"""The bridge's session logic keeps a real debugpy 1.8.22 adapter usable whatever the
client does (agent-py/README.md has the measurements behind it)."""

from __future__ import annotations

import asyncio
import os
import random
import time
from typing import Awaitable, Callable, Dict

import debugpy
import pytest
from asyncdap import AsyncDapClient, full_attach
from conftest import APP, BREAK_LINE, Debuggee
from streampair import LazyStream, socket_pair

from dbgrelay.bridge.adaptergate import AdapterGate
from dbgrelay.bridge.adaptersession import AdapterSession
from dbgrelay.bridge.connectors import tcp_connector

INIT = {"adapterID": "debugpy", "clientID": "fuzz"}


class Harness:
    def __init__(self, debuggee: Debuggee) -> None:
        self.debuggee = debuggee
        self.gate = AdapterGate()
        self.sessions: list = []
        self.clients: list = []

    def open(self) -> AsyncDapClient:
        pair = asyncio.ensure_future(socket_pair())
        label = f"s{len(self.sessions)}"

        async def run() -> None:
            bridge_end = (await pair)[1]
            await AdapterSession(label, bridge_end, tcp_connector("127.0.0.1", self.debuggee.port), self.gate).run()

        self.sessions.append(asyncio.ensure_future(run()))
        client = AsyncDapClient(LazyStream(pair, 0))
        self.clients.append(client)
        return client

    async def drop_all(self) -> None:
        """Drop every client a behaviour left open (e.g. after a refused attach)."""
        for client in self.clients:
            await client.close()
        self.clients.clear()

    async def normal_attach(self) -> None:
        c = self.open()
        await full_attach(c, timeout=8)
        r = await c.request("threads")
        assert r["success"] and any(t["name"] == "MainThread" for t in r["body"]["threads"]), r
        r = await c.request("disconnect", {"terminateDebuggee": False})
        assert r["success"], r
        await c.close()

    async def drain(self) -> None:
        await asyncio.wait_for(asyncio.gather(*self.sessions), 30)


# -- client behaviours: each ends by dropping the client side abruptly ---------
async def b_silent(h: Harness) -> None:
    await h.open().close()


async def b_partial_header(h: Harness) -> None:
    c = h.open()
    await c.stream.write(b"Content-Len")
    await c.close()


async def b_garbage(h: Harness) -> None:
    c = h.open()
    await c.stream.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await c.close()


async def b_initialize_nowait(h: Harness) -> None:
    c = h.open()
    await c.send("initialize", INIT)
    await c.close()


async def b_initialize(h: Harness) -> None:
    c = h.open()
    await c.request("initialize", INIT)
    await c.close()


async def b_attach_nowait(h: Harness) -> None:
    c = h.open()
    await c.request("initialize", INIT)
    await c.send("attach", {"justMyCode": False})
    await c.close()


async def b_attach_initialized(h: Harness) -> None:
    c = h.open()
    await c.request("initialize", INIT)
    await c.send("attach", {"justMyCode": False})
    await c.event("initialized")
    await c.close()


async def b_attached(h: Harness) -> None:
    c = h.open()
    await full_attach(c)
    await c.close()


async def b_paused(h: Harness) -> None:
    c = h.open()
    await full_attach(c, {str(APP): [BREAK_LINE]})
    await c.event("stopped")
    await c.close()


async def b_disconnect_nowait(h: Harness) -> None:
    c = h.open()
    await full_attach(c)
    await c.send("disconnect", {"terminateDebuggee": False})
    await c.close()


async def b_half_disconnect(h: Harness) -> None:
    c = h.open()
    await c.request("initialize", INIT)
    await c.send("attach", {"justMyCode": False})
    await c.event("initialized")
    await c.request("disconnect", {"terminateDebuggee": False})
    await c.close()


BEHAVIOURS: Dict[str, Callable[[Harness], Awaitable[None]]] = {name: fn for name, fn in globals().items() if name.startswith("b_")}


def test_debugpy_version_is_the_measured_one() -> None:
    assert debugpy.__version__.startswith("1.8."), debugpy.__version__


def test_every_behaviour_then_immediate_normal_attach(debuggee: Debuggee) -> None:
    """Each behaviour once, each followed at once by a normal attach that must work."""

    async def main() -> None:
        h = Harness(debuggee)
        for name, behaviour in BEHAVIOURS.items():
            await asyncio.wait_for(behaviour(h), 10)
            await h.drop_all()
            try:
                await asyncio.wait_for(h.normal_attach(), 15)
            except Exception as exc:  # pragma: no cover - the failure message matters
                raise AssertionError(f"normal attach failed after {name}: {exc!r}") from exc
        await h.drain()

    asyncio.run(main())


def test_random_behaviours_with_concurrent_drops(debuggee: Debuggee) -> None:
    """Random sequences, some overlapping, then a normal attach, bounded in time."""
    seed = int(os.environ.get("DBGRELAY_FUZZ_SEED", str(random.randrange(1 << 30))))
    rng = random.Random(seed)
    names = sorted(BEHAVIOURS)

    async def main() -> None:
        h = Harness(debuggee)
        deadline = time.monotonic() + 8
        rounds = 0
        while time.monotonic() < deadline and rounds < 8:
            picks = [rng.choice(names) for _ in range(rng.randint(1, 3))]
            # the first behaviour runs alone; others overlap with it
            try:
                results = await asyncio.wait_for(asyncio.gather(*(BEHAVIOURS[p](h) for p in picks), return_exceptions=True), 15)
            except asyncio.TimeoutError:  # pragma: no cover - the seed makes it reproducible
                raise AssertionError(f"seed {seed}: {picks} did not finish in 15 s") from None
            await h.drop_all()
            # overlapping main sessions may be refused ("already being debugged");
            # anything else is a bug
            for pick, result in zip(picks, results):
                if isinstance(result, Exception) and len(picks) == 1:
                    raise AssertionError(f"seed {seed}: {pick} failed alone: {result!r}")
            try:
                await asyncio.wait_for(h.normal_attach(), 15)
            except Exception as exc:  # pragma: no cover
                raise AssertionError(f"seed {seed}: normal attach failed after {picks}: {exc!r}") from exc
            rounds += 1
        await h.drain()
        assert rounds >= 1, "no round completed"

    asyncio.run(main())


def test_drop_while_paused_resumes_the_program(debuggee: Debuggee) -> None:
    async def main() -> None:
        h = Harness(debuggee)
        c = h.open()
        await full_attach(c, {str(APP): [BREAK_LINE]})
        stopped = await c.event("stopped")
        assert stopped["body"]["reason"] == "breakpoint"
        ticks_before = len(debuggee.ticks)
        time.sleep(0.3)
        assert len(debuggee.ticks) == ticks_before, "program kept running while paused"
        dropped_at = time.monotonic()
        await c.close()
        await h.drain()
        assert debuggee.running_since(dropped_at), "program did not run again after the drop"
        # and the breakpoint is gone: a new session is not stopped by it
        c = h.open()
        await full_attach(c)
        with pytest.raises(asyncio.TimeoutError):
            await c.event("stopped", timeout=0.5)
        await c.request("disconnect", {"terminateDebuggee": False})
        await c.close()
        await h.drain()

    asyncio.run(main())


def test_adapter_is_not_contacted_for_a_silent_client(debuggee: Debuggee) -> None:
    async def main() -> None:
        h = Harness(debuggee)
        connects = 0
        real = tcp_connector("127.0.0.1", debuggee.port)

        async def counting():  # type: ignore[no-untyped-def]
            nonlocal connects
            connects += 1
            return await real()

        a, b = await socket_pair()
        session = AdapterSession("silent", b, counting, h.gate)
        task = asyncio.ensure_future(session.run())
        await a.close()
        await task
        assert connects == 0
        assert "not contacted" in session.outcome

    asyncio.run(main())
