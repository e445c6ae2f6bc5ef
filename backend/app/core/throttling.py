"""Guards for the password endpoints: rate limits and a bound on concurrent hashing.

State is kept in this process (each replica counts on its own), so with N replicas a
client gets up to N times each limit. That is enough to stop one client from exhausting
a replica's memory with Argon2; a shared store would be needed for exact global limits.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from app.core.config import Settings


class Throttled(Exception):
    """Refused for now: the same request may succeed `retry_after` seconds later."""

    def __init__(self, status_code: int, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.retry_after = retry_after


class AuthThrottle:
    """Per-client and per-account login limits, a per-client registration limit, and a
    fixed number of password hashing slots."""

    def __init__(self, settings: Settings) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._login_per_client = parse(settings.LOGIN_RATE_LIMIT_PER_CLIENT)
        self._login_per_account = parse(settings.LOGIN_RATE_LIMIT_PER_ACCOUNT)
        self._register_per_client = parse(settings.REGISTER_RATE_LIMIT_PER_CLIENT)
        self._hash_slots = threading.BoundedSemaphore(settings.PASSWORD_HASH_CONCURRENCY)

    def _retry_after(self, item: RateLimitItem, *identifiers: str) -> int:
        reset_at = self._limiter.get_window_stats(item, *identifiers).reset_time
        return max(1, math.ceil(reset_at - time.time()))

    def _refuse(self, item: RateLimitItem, identifiers: tuple[str, ...], what: str) -> Throttled:
        retry_after = self._retry_after(item, *identifiers)
        return Throttled(
            429, f"Too many {what}; wait {retry_after} s (Retry-After) and try again.", retry_after
        )

    def check_login(self, client: str, account: str) -> None:
        """Count a login attempt from `client`; raise Throttled when either limit is reached.

        The account's limit is only checked here: failed attempts count against it.
        """
        if not self._limiter.hit(self._login_per_client, "login-client", client):
            raise self._refuse(
                self._login_per_client, ("login-client", client), "login attempts from this client"
            )
        if not self._limiter.test(self._login_per_account, "login-account", account):
            raise self._refuse(
                self._login_per_account,
                ("login-account", account),
                "failed logins for this account",
            )

    def record_failed_login(self, account: str) -> None:
        self._limiter.hit(self._login_per_account, "login-account", account)

    def check_register(self, client: str) -> None:
        if not self._limiter.hit(self._register_per_client, "register-client", client):
            raise self._refuse(
                self._register_per_client,
                ("register-client", client),
                "registrations from this client",
            )

    @contextmanager
    def hashing_slot(self) -> Iterator[None]:
        """Hold one of the hashing slots, or raise Throttled (503) at once when none is free.

        Waiting would park a worker thread per request; refusing keeps the answer quick and
        the memory bounded.
        """
        if not self._hash_slots.acquire(blocking=False):
            raise Throttled(
                503, "The server is busy checking other passwords; try again in a second.", 1
            )
        try:
            yield
        finally:
            self._hash_slots.release()
