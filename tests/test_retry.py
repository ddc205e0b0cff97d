"""RetryPolicy and Retry-After, as plain values: no Trio, no HTTP."""

from __future__ import annotations

import math
import random
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest

from trio_sse import RetryPolicy
from trio_sse._retry import retry_after, retry_seconds


def test_delays_grow_by_factor_up_to_the_cap_without_jitter() -> None:
    policy = RetryPolicy(base=0.5, factor=3, cap=10, jitter=0)
    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.5, 4.5, 10, 10]


def test_the_servers_retry_replaces_base() -> None:
    policy = RetryPolicy(base=5, factor=2, cap=60, jitter=0)
    assert [policy.delay(n, server_retry=0.25) for n in (1, 2, 3)] == [0.25, 0.5, 1.0]
    assert policy.delay(1, server_retry=0) == 0


def test_jitter_goes_on_top_of_the_servers_retry() -> None:
    draws = random.Random(5)
    policy = RetryPolicy(base=1, factor=2, cap=30, jitter=1.0, random=random.Random(5).random)
    waits = [policy.delay(n, server_retry=3) for n in range(1, 6)]
    expected = [min(30, 3 * 2 ** (n - 1) * (1 + draws.random())) for n in range(1, 6)]
    assert waits == expected
    assert all(wait >= 3 * 2 ** (n - 1) for n, wait in enumerate(waits[:3], 1))


@pytest.mark.parametrize("draw", [0.0, 0.5, 0.999999])
@pytest.mark.parametrize("jitter", [0.0, 0.3, 1.0])
def test_the_servers_retry_is_the_least_wait_and_the_cap_the_most(
    draw: float, jitter: float
) -> None:
    policy = RetryPolicy(base=1, factor=2, cap=10, jitter=jitter, random=lambda: draw)
    for server in (0.0, 0.1, 2.0, 9.0, 10.0, 50.0):
        for n in (1, 2, 5, 100):
            wait = policy.delay(n, server_retry=server)
            assert min(server, 10) <= wait <= 10
            assert wait == min(10, min(10, server * 2 ** (n - 1)) * (1 + jitter * draw))


@pytest.mark.parametrize("millis", [10**311, 10**312, 10**400, 10**4000])
def test_a_server_retry_too_large_for_a_float_waits_the_cap(millis: int) -> None:
    assert retry_seconds(millis) == (1e308 if millis == 10**311 else math.inf)
    policy = RetryPolicy(cap=42, jitter=0.5, random=lambda: 0.5)
    assert policy.delay(1, server_retry=retry_seconds(millis)) == 42
    assert policy.delay(10**6, server_retry=retry_seconds(millis)) == 42


def test_retry_seconds_of_ordinary_values() -> None:
    assert [retry_seconds(ms) for ms in (0, 1, 250, 3_600_000)] == [0, 0.001, 0.25, 3600]


def test_full_jitter_takes_a_seeded_random_part_away() -> None:
    policy = RetryPolicy(base=1, factor=2, cap=30, jitter=1.0, random=random.Random(7).random)
    draws = random.Random(7)
    expected = [min(30, 2 ** (n - 1)) * (1 - draws.random()) for n in range(1, 8)]
    assert [policy.delay(n) for n in range(1, 8)] == expected
    assert all(0 < d <= min(30, 2 ** (n - 1)) for n, d in enumerate(expected, 1))


def test_partial_jitter_keeps_the_rest() -> None:
    policy = RetryPolicy(base=10, jitter=0.25, random=lambda: 1.0)
    assert policy.delay(1) == 7.5


def test_a_huge_retry_number_is_the_cap() -> None:
    assert RetryPolicy(jitter=0, cap=42).delay(100_000) == 42


def test_gives_up_after_max_attempts_in_a_row() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert [policy.gives_up_after(n) for n in (1, 2, 3, 4)] == [False, False, True, True]
    assert not RetryPolicy(max_attempts=None).gives_up_after(10**9)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"base": -1},
        {"cap": -0.1},
        {"factor": 0.5},
        {"jitter": 1.5},
        {"jitter": -0.1},
        {"max_attempts": 0},
        {"base": float("nan")},
    ],
)
def test_nonsense_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_a_policy_is_a_frozen_comparable_value() -> None:
    assert RetryPolicy(base=2) == RetryPolicy(base=2, random=random.Random(1).random)
    assert "random" not in repr(RetryPolicy())
    with pytest.raises(AttributeError):
        RetryPolicy().base = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": " 1.5 "}, 1.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),  # the finer one first
        ({"retry-after-ms": "soon", "retry-after": "9"}, 9.0),
        ({"retry-after": "-3"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "tomorrow"}, None),
        ({}, None),
    ],
)
def test_retry_after_seconds(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after(headers) == expected


def test_retry_after_http_date() -> None:
    now = datetime(2026, 11, 24, 12, 0, 0, tzinfo=timezone.utc).timestamp()
    later = "Tue, 24 Nov 2026 12:00:30 GMT"
    assert retry_after({"retry-after": later}, now=lambda: now) == 30.0
    assert retry_after({"retry-after": "Tue, 24 Nov 2026 12:00:30 -0000"}, now=lambda: now) == 30.0
    past = format_datetime(datetime(2020, 1, 1, tzinfo=timezone.utc), usegmt=True)
    assert retry_after({"retry-after": past}, now=lambda: now) == 0.0


@pytest.mark.parametrize(
    "date",
    [
        "0 JAN 2147483648 0:0",
        "Fri, 1 Jan 99999999999999999999 00:00:00 GMT",
        "Sat, 1 Jan 10000 00:00:00 GMT",
    ],
)
def test_a_date_too_far_off_is_ignored(date: str) -> None:
    assert retry_after({"retry-after": date}) is None


def test_the_last_representable_date_is_honoured() -> None:
    now = datetime(2026, 11, 24, tzinfo=timezone.utc).timestamp()
    last = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc).timestamp()
    asked = retry_after({"retry-after": "Fri, 31 Dec 9999 23:59:59 GMT"}, now=lambda: now)
    assert asked == last - now
