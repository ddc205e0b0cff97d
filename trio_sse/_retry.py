"""When to try a request again, and how long to wait first."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Final

__all__ = ["DEFAULT_RETRY_STATUSES", "RetryPolicy", "retry_after", "retry_seconds"]

DEFAULT_RETRY_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504, 529})
"""Statuses that say "not now" rather than "no": timeouts, rate limits, overload
(Anthropic's 529 included) and the gateway errors a restarting server gives."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a stream retries a failed connection: a frozen value, safe to share.

    The wait before retry number *n* (1, 2, ...) of a run of failures grows from
    ``w(n) = min(cap, start * factor ** (n - 1))``, with ``r`` uniform in [0, 1):

    - with no ``retry:`` from the server, ``start`` is ``base`` and jitter takes a random
      part away: ``w(n) * (1 - jitter * r)`` (``jitter=1.0`` is "full jitter", uniform
      between 0 and ``w(n)``);
    - with the server's last ``retry:`` time ``s``, ``start`` is ``s`` and jitter goes on
      top, as EventSource asks (the server's time is the least wait):
      ``min(cap, w(n) * (1 + jitter * r))``. Never less than ``min(s, cap)``: a server
      cannot make a stream wait longer than ``cap``, however large its ``retry:``.

    A ``Retry-After`` (or ``retry-after-ms``) header on a retryable status replaces the
    computed wait, as the server asked (see :func:`retry_after`). A connection that
    delivered at least one event ends a run: the next failure starts again from ``start``.

    Attributes:
        base: seconds before the first retry when the server gave no ``retry:``.
        factor: growth of the wait from one retry to the next.
        cap: the longest computed wait, in seconds, the server's ``retry:`` included
            (``Retry-After`` may ask for longer).
        jitter: the fraction of each wait that is random, 0 (none) to 1 (full jitter).
        max_attempts: connection attempts in a row that deliver no event before the
            stream gives up (the first attempt counts); ``None`` for no limit.
        retry_statuses: the HTTP statuses worth retrying; any other non-2xx ends the
            stream with :class:`StatusError`.
        random: where jitter comes from, a function returning a float in [0, 1);
            pass ``random.Random(seed).random`` for a reproducible schedule.
    """

    base: float = 1.0
    factor: float = 2.0
    cap: float = 30.0
    jitter: float = 1.0
    max_attempts: int | None = 6
    retry_statuses: frozenset[int] = DEFAULT_RETRY_STATUSES
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not (self.base >= 0 and self.cap >= 0):
            raise ValueError(f"base and cap must be 0 or more, got {self.base} and {self.cap}")
        if not self.factor >= 1:
            raise ValueError(f"factor must be 1 or more, got {self.factor}")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"jitter must be between 0 and 1, got {self.jitter}")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError(f"max_attempts must be 1 or more (or None), got {self.max_attempts}")

    def delay(self, retry: int, *, server_retry: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first) of a run.

        The formula is in the class docstring. Never raises for a large ``retry`` or
        ``server_retry`` (an infinite one included): the wait is then the cap.

        Args:
            retry: which retry of the current run of failures this is, from 1.
            server_retry: the server's ``retry:`` value, in seconds, if it sent one (see
                :func:`retry_seconds`).
        """
        start = self.base if server_retry is None else server_retry
        try:
            ceiling = min(self.cap, start * self.factor ** (retry - 1))
        except OverflowError:  # factor ** retry beyond a float: the cap, certainly
            ceiling = self.cap
        if server_retry is None:
            return ceiling * (1 - self.jitter * self.random())
        return min(self.cap, ceiling * (1 + self.jitter * self.random()))

    def gives_up_after(self, attempts: int) -> bool:
        """Whether ``attempts`` failed attempts in a row exhaust the policy."""
        return self.max_attempts is not None and attempts >= self.max_attempts


def retry_seconds(millis: int) -> float:
    """A ``retry:`` field's value (milliseconds, any number of digits) in seconds.

    One too large for a float is infinite (which :meth:`RetryPolicy.delay` takes as its
    cap) rather than an ``OverflowError``.
    """
    try:
        return millis / 1000
    except OverflowError:
        return math.inf


def retry_after(
    headers: Mapping[str, str], *, now: Callable[[], float] = time.time
) -> float | None:
    """The wait a response asks for, in seconds; ``None`` if it asks for none (or nonsense).

    ``retry-after-ms`` (sent by the OpenAI and Anthropic APIs) is read first, then
    ``Retry-After`` as a number of seconds or an HTTP date. A date in the past means 0;
    a date too far off to represent (past the year 9999, say) is nonsense, so ``None``:
    the policy's own wait applies.
    """
    millis = headers.get("retry-after-ms")
    if millis is not None:
        seconds = _non_negative_float(millis)
        if seconds is not None:
            return seconds / 1000
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _non_negative_float(value)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": RFC 9110 dates are GMT anyway
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now())


def _non_negative_float(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    if not 0 <= value < float("inf"):  # also refuses NaN
        return None
    return value
