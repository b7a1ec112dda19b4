"""Sign-in throttling per account and per client address, with exponential backoff, and a rate
limit per API token.

Kept in Django's cache, not in the database: the default cache is a file cache under the data
directory, shared by every server process on the host, and a failed guess must not need the
database's write lock (an attacker could otherwise queue writes behind a long SQLite import).
django-axes was the alternative; it records each attempt as a database row, which is exactly that
write, and brings its own middleware and admin. What does reach the database is the audit event
of each failure and lockout, which the issue asks for.

The file cache's read-modify-write is not atomic: two simultaneous failures may count as one.
The backoff still doubles on the next one, which is what bounds guessing.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from detente.core import clock

WINDOW_SECONDS = 15 * 60  # failures older than this are forgotten
MAX_LOCK_SECONDS = 15 * 60


@dataclass(frozen=True)
class Lockout:
    scope: str  # "account" or "address"
    seconds: int


def _key(scope: str, value: str) -> str:
    return f"signin:{scope}:{hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]}"


def _limits() -> dict[str, int]:
    return {
        "account": int(settings.DETENTE_SIGNIN_FAILURES_PER_ACCOUNT),
        "address": int(settings.DETENTE_SIGNIN_FAILURES_PER_ADDRESS),
    }


def signin_locked(*, email: str, address: str) -> Lockout | None:
    """The lockout in force for this account or address, if any (longest first)."""
    now = clock.now().timestamp()
    found: Lockout | None = None
    for scope, value in (("account", email), ("address", address)):
        state = cache.get(_key(scope, value))
        if state and state[1] > now:
            remaining = math.ceil(state[1] - now)
            if found is None or remaining > found.seconds:
                found = Lockout(scope, remaining)
    return found


def signin_failed(*, email: str, address: str) -> Lockout | None:
    """Count one failure against the account and the address; return a lockout when this one
    reached a limit. Past the limit every further failure doubles the wait (30 s, 60 s, …,
    at most 15 minutes)."""
    now = clock.now().timestamp()
    started: Lockout | None = None
    for scope, value in (("account", email), ("address", address)):
        key = _key(scope, value)
        failures, until = cache.get(key) or (0, 0.0)
        failures += 1
        over = failures - _limits()[scope]
        if over >= 0:
            seconds = min(30 * 2**over, MAX_LOCK_SECONDS)
            until = now + seconds
            if started is None or seconds > started.seconds:
                started = Lockout(scope, seconds)
        cache.set(key, (failures, until), timeout=WINDOW_SECONDS + MAX_LOCK_SECONDS)
    return started


def signin_succeeded(*, email: str) -> None:
    """A right password and code clear the account's count (not the address's)."""
    cache.delete(_key("account", email))


# ------------------------------------------------------------------------------ API tokens


class TokenRate:
    """A fixed one-minute window per token, in this process's memory: the API's busiest route
    answers in about a millisecond, and a cache file read and written per request would cost
    more than the route. With several server processes the effective limit is per process
    (docs/deployment.md)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}

    def allow(self, prefix: str) -> int | None:
        """None when the request may go on, else the seconds until the window resets."""
        limit = int(settings.DETENTE_API_RATE_PER_MINUTE)
        if limit <= 0:
            return None
        now = time.monotonic()
        minute = int(now // 60)
        with self._lock:
            window, count = self._windows.get(prefix, (minute, 0))
            if window != minute:
                window, count = minute, 0
            count += 1
            self._windows[prefix] = (window, count)
            if len(self._windows) > 10_000:  # forget other tokens' old windows
                self._windows = {k: v for k, v in self._windows.items() if v[0] == minute}
        if count > limit:
            return max(1, 60 - int(now % 60))
        return None

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()


TOKEN_RATE = TokenRate()
