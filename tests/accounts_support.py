"""What the account tests share: a clock they move by hand and argon2 parameters cheap
enough that hashing takes microseconds (real parameters take tens of milliseconds)."""

from __future__ import annotations

from argon2 import PasswordHasher

GOOD_PASSWORD = "correct horse battery"
START = 1_750_000_000.0


def cheap_hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


class FakeClock:
    """Seconds since the epoch, moved by the test."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
