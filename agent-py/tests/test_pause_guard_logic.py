"""The pause guard's decisions with a fake clock and a fake debugger; the bridge's
ownership reports; the lines between debuggee and bridge."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

import pytest

from dbgrelay.bridge.app import parent_notice
from dbgrelay.bridge.guardreport import GuardReportSettings, alive_event, ownership
from dbgrelay.bridge.lifeline import LineSplitter
from dbgrelay.errors import ConfigError
from dbgrelay.options.guard import PauseGuardOptions
from dbgrelay.pauseguard import PauseGuard
from dbgrelay.pauseownership import OwnershipTracker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeDebugger:
    def __init__(self) -> None:
        self.paused = False
        self.link: Tuple[bool, str] = (True, "")
        self.calls: List[str] = []

    def paused_threads(self) -> List[Any]:
        return ["main"] if self.paused else []

    def link_health(self) -> Tuple[bool, str]:
        return self.link

    def resume_all(self) -> None:
        self.calls.append("resume")
        self.paused = False

    def forget_client(self) -> None:
        self.calls.append("forget")

    def take_notes(self) -> List[str]:
        return []


def make(unowned: float = 30.0, max_pause: float = 0.0) -> Tuple[PauseGuard, FakeDebugger, OwnershipTracker, Clock, List[Dict[str, Any]]]:
    clock = Clock()
    debugger = FakeDebugger()
    tracker = OwnershipTracker(clock)
    sent: List[Dict[str, Any]] = []
    guard = PauseGuard(PauseGuardOptions(unowned_pause=unowned, max_pause=max_pause), debugger, tracker, sent.append, clock)
    return guard, debugger, tracker, clock, sent


def advance(guard: PauseGuard, clock: Clock, seconds: float, tracker: Optional[OwnershipTracker] = None, owned: Optional[bool] = None) -> Optional[Dict[str, Any]]:
    """Poll every 0.25 s for ``seconds``; the bridge reports every 0.5 s when ``owned`` is given."""
    result = None
    steps = int(seconds / 0.25)
    for i in range(steps):
        clock.now += 0.25
        if tracker is not None and owned is not None and i % 2 == 0:
            tracker.on_alive({"event": "alive", "owned": owned, "detail": "" if owned else "no debug session"})
        result = guard.poll() or result
    return result


def test_an_owned_pause_is_left_alone_without_a_hard_bound() -> None:
    guard, debugger, tracker, clock, sent = make(unowned=30)
    debugger.paused = True
    assert advance(guard, clock, 120, tracker, owned=True) is None
    assert debugger.calls == [] and debugger.paused
    assert [m["type"] for m in sent] == ["status"] and sent[0] == {"type": "status", "debugger": "ok"}


def test_an_unowned_pause_is_resumed_after_the_bound_and_the_client_state_dropped() -> None:
    guard, debugger, tracker, clock, sent = make(unowned=30)
    debugger.paused = True
    assert advance(guard, clock, 29.5, tracker, owned=False) is None
    assert debugger.calls == []
    message = advance(guard, clock, 1.0, tracker, owned=False)
    assert message is not None and message["type"] == "guard" and message["event"] == "resumed"
    assert 30000 <= message["pausedMs"] <= 30500
    assert "unowned_pause (30 s)" in message["reason"] and "no debug session" in message["reason"]
    assert debugger.calls == ["forget", "resume"]
    assert sent[-1] == message and guard.resumes == 1


def test_a_silent_bridge_stops_owning_the_pause() -> None:
    """A bridge stopped with SIGSTOP sends nothing: its last 'owned' report goes stale."""
    guard, debugger, tracker, clock, sent = make(unowned=5)
    debugger.paused = True
    assert advance(guard, clock, 3, tracker, owned=True) is None
    # the bridge stops reporting: its report goes stale after 1.5 s, and the unowned
    # pause counts from then, not from the stop
    assert advance(guard, clock, 6, tracker) is None
    message = advance(guard, clock, 1, tracker)
    assert message is not None
    assert "has not reported for" in message["reason"] and "stopped or gone" in message["reason"]
    assert debugger.calls == ["forget", "resume"]


def test_a_long_owned_pause_survives_a_short_gap_in_the_reports() -> None:
    """An engineer who owned a pause for minutes does not lose it to a starved bridge."""
    guard, debugger, tracker, clock, sent = make(unowned=5)
    debugger.paused = True
    assert advance(guard, clock, 120, tracker, owned=True) is None
    assert advance(guard, clock, 2.5) is None  # no report for 2.5 s: stale, but briefly
    assert advance(guard, clock, 10, tracker, owned=True) is None
    assert debugger.calls == []


def test_an_exited_bridge_owns_nothing_at_once() -> None:
    tracker = OwnershipTracker(Clock())
    tracker.on_alive({"event": "alive", "owned": True})
    assert tracker.owned(1000.0, 1.5) == (True, "")
    tracker.on_bridge_exit()
    assert tracker.owned(1000.0, 1.5) == (False, "the bridge process exited")


def test_a_dead_reader_thread_makes_a_pause_unowned_and_is_reported_broken() -> None:
    guard, debugger, tracker, clock, sent = make(unowned=5)
    debugger.paused = True
    advance(guard, clock, 1, tracker, owned=True)
    debugger.link = (False, "pydevd's reader thread is not running")
    assert advance(guard, clock, 4.75, tracker, owned=True) is None  # unowned from the first poll that saw it
    message = advance(guard, clock, 0.5, tracker, owned=True)
    assert message is not None and "pydevd's reader thread is not running" in message["reason"]
    statuses = [m for m in sent if m["type"] == "status"]
    assert statuses == [{"type": "status", "debugger": "ok"}, {"type": "status", "debugger": "broken", "detail": "pydevd's reader thread is not running"}]


def test_the_hard_bound_resumes_an_owned_pause_and_keeps_its_breakpoints() -> None:
    guard, debugger, tracker, clock, sent = make(unowned=30, max_pause=10)
    debugger.paused = True
    assert advance(guard, clock, 9.75, tracker, owned=True) is None
    message = advance(guard, clock, 0.5, tracker, owned=True)
    assert message is not None and "max_pause (10 s)" in message["reason"]
    assert debugger.calls == ["resume"]


def test_the_pause_clock_restarts_when_the_program_runs() -> None:
    guard, debugger, tracker, clock, sent = make(unowned=5)
    debugger.paused = True
    advance(guard, clock, 4, tracker, owned=False)
    debugger.paused = False
    advance(guard, clock, 0.5, tracker, owned=False)
    debugger.paused = True
    assert advance(guard, clock, 4, tracker, owned=False) is None
    assert advance(guard, clock, 1.25, tracker, owned=False) is not None


def test_a_failing_notify_does_not_stop_the_resume() -> None:
    guard, debugger, tracker, clock, _ = make(unowned=1)

    def broken(_: Dict[str, Any]) -> None:
        raise BrokenPipeError("bridge gone")

    guard.notify = broken
    debugger.paused = True
    assert advance(guard, clock, 1.5) is not None
    assert debugger.calls == ["forget", "resume"]


@pytest.mark.parametrize("kwargs", [{"unowned_pause": 0}, {"max_pause": -1}, {"max_pause": 0.1}, {"adapter_stall": 0}, {"poll_interval": 0}, {"owner_report_timeout": 0.5}])
def test_options_are_bounded(kwargs: Dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        PauseGuardOptions(**kwargs)  # type: ignore[arg-type]


def test_defaults_and_bridge_config() -> None:
    options = PauseGuardOptions()
    assert (options.enabled, options.unowned_pause, options.max_pause, options.adapter_stall) == (True, 30.0, 0.0, 10.0)
    assert options.bridge_config() == {"adapterStallMs": 10000, "aliveIntervalMs": 500}
    assert GuardReportSettings.from_config(options.bridge_config()) == GuardReportSettings(10000.0, 0.5)
    assert GuardReportSettings.from_config({"adapterStallMs": "x"}) == GuardReportSettings()


# -- the bridge's side ------------------------------------------------------------


class Session:
    def __init__(self, label: str, relay_alive: bool = True, pending_ms: Optional[float] = None) -> None:
        self.label = label
        self.relay_alive = relay_alive
        self._pending = pending_ms

    def oldest_pending_ms(self, now: Optional[float] = None) -> Optional[float]:
        return self._pending


class OldSession:
    """A session without relay_alive / oldest_pending_ms: owns while it runs."""

    label = "#9"


def test_ownership_of_sessions() -> None:
    assert ownership([], 10000) == (False, "no debug session")
    assert ownership([OldSession()], 10000) == (True, "")
    assert ownership([Session("#1")], 10000) == (True, "")
    assert ownership([Session("#1", pending_ms=9999)], 10000) == (True, "")
    dead = ownership([Session("#1", relay_alive=False)], 10000)
    assert dead == (False, "session #1: relay connection dead")
    stalled = ownership([Session("#2", pending_ms=12000)], 10000)
    assert stalled == (False, "session #2: the debug adapter has not answered a request for 12.0 s")
    assert ownership([Session("#1", relay_alive=False), Session("#2")], 10000) == (True, "")
    event = alive_event([Session("#1", relay_alive=False)], GuardReportSettings())
    assert event == {"event": "alive", "owned": False, "sessions": 1, "detail": "session #1: relay connection dead"}


def test_parent_lines_carry_only_valid_guard_and_status_messages() -> None:
    guard = {"type": "guard", "event": "resumed", "reason": "r", "pausedMs": 5}
    assert parent_notice(json.dumps({"event": "relay", "message": guard}).encode()) == guard
    status = {"type": "status", "debugger": "broken", "detail": "d"}
    assert parent_notice(json.dumps({"event": "relay", "message": status}).encode()) == status
    assert parent_notice(json.dumps({"event": "relay", "message": {"type": "register"}}).encode()) is None
    assert parent_notice(json.dumps({"event": "relay", "message": {"type": "open", "sessionId": "x" * 30}}).encode()) is None
    assert parent_notice(json.dumps({"event": "relay", "message": {"type": "guard", "event": "x"}}).encode()) is None
    assert parent_notice(b"not json") is None


def test_line_splitter_drops_overlong_lines() -> None:
    splitter = LineSplitter(limit=8)
    assert splitter.feed(b"ab\ncd") == [b"ab"]
    assert splitter.feed(b"e\n") == [b"cde"]
    assert splitter.feed(b"x" * 20) == []
    assert splitter.feed(b"yy\nok\n") == [b"ok"]


class FakeBridge:
    def __init__(self) -> None:
        self.ownership = OwnershipTracker()
        self.sent: List[Dict[str, Any]] = []

    def send_to_relay(self, message: Dict[str, Any]) -> bool:
        self.sent.append(message)
        return True


def test_an_untested_debugpy_version_is_refused_loudly_and_reported(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import debugpy

    from dbgrelay.guardstart import start_pause_guard
    from dbgrelay.pydevdstate import unsupported_reason

    assert unsupported_reason() is None  # the installed, tested version
    monkeypatch.setattr(debugpy, "__version__", "1.9.0")
    assert "debugpy 1.9.0 is not a version the pause guard was tested with (1.8.x)" == unsupported_reason()
    bridge = FakeBridge()
    caplog.set_level("ERROR", logger="dbgrelay.guard")
    assert start_pause_guard(PauseGuardOptions(), bridge) is None  # type: ignore[arg-type]
    assert bridge.sent == [{"type": "status", "debugger": "unguarded", "detail": unsupported_reason()}]
    assert any(r.levelname == "ERROR" and "pause guard CANNOT RUN" in r.getMessage() for r in caplog.records)


def test_a_guard_turned_off_is_reported_unguarded() -> None:
    from dbgrelay.guardstart import start_pause_guard

    bridge = FakeBridge()
    assert start_pause_guard(PauseGuardOptions(enabled=False), bridge) is None  # type: ignore[arg-type]
    assert bridge.sent == [{"type": "status", "debugger": "unguarded", "detail": "the pause guard is turned off"}]


def test_nothing_is_logged_while_the_program_is_paused(caplog: pytest.LogCaptureFixture) -> None:
    """A suspended thread may hold a logging lock: the guard logs only once the program runs."""
    caplog.set_level("DEBUG", logger="dbgrelay.guard")
    guard, debugger, tracker, clock, sent = make(unowned=2)
    debugger.paused = True
    debugger.link = (False, "pydevd's reader thread was told to stop")
    advance(guard, clock, 1.5)
    assert sent[-1]["debugger"] == "broken"  # the relay hears at once (a non-blocking pipe write)
    assert not [r for r in caplog.records if r.name == "dbgrelay.guard"]
    assert advance(guard, clock, 1.0) is not None
    messages = [r.getMessage() for r in caplog.records if r.name == "dbgrelay.guard"]
    assert any("the debugger in this process is broken" in m for m in messages)
    assert any(m.startswith("pause guard resumed the program after 2.") for m in messages)
