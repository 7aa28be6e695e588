from __future__ import annotations

import random

import pytest

from dbgrelay.backoff import Backoff


def test_fast_window_then_exponential_ceiling_capped() -> None:
    b = Backoff(rand=lambda: 1.0)
    delays = [b.next_delay() for _ in range(15)]
    assert delays[:3] == [0.25, 0.25, 0.25]
    assert delays[3:10] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    assert max(delays) == 5.0 and delays[-1] == 5.0


def test_full_jitter_within_bounds() -> None:
    rng = random.Random(1)
    b = Backoff(rand=rng.random)
    for attempt in range(200):
        d = b.next_delay()
        assert 0.0 <= d <= b.ceiling(attempt)
        assert d <= 5.0


def test_jitter_spreads_values() -> None:
    rng = random.Random(2)
    values = []
    for _ in range(200):
        b = Backoff(rand=rng.random, attempts=8)
        values.append(b.next_delay())
    assert min(values) < 1.0 and max(values) > 4.0  # ceiling 5 s: spread, not constant


def test_reset_returns_to_fast_window() -> None:
    b = Backoff(rand=lambda: 1.0)
    for _ in range(10):
        b.next_delay()
    b.reset()
    assert b.next_delay() == 0.25


@pytest.mark.parametrize("attempt", [1000, 10_000])
def test_huge_attempt_counts_do_not_overflow(attempt: int) -> None:
    assert Backoff().ceiling(attempt) == 5.0
