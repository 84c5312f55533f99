"""A leaky bucket per shop, as Shopify's GraphQL Admin API throttles."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class BucketStatus:
    maximum: float
    available: float
    restore_rate: float

    def as_dict(self) -> dict[str, float]:
        """As Shopify's ``throttleStatus``: whole points available, floats for the rest."""
        return {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": int(self.available),
            "restoreRate": self.restore_rate,
        }


class LeakyBucket:
    def __init__(
        self, maximum: float, restore_rate: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.maximum = maximum
        self.restore_rate = restore_rate
        self.clock = clock
        self._available = maximum
        self._at = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self.clock()
        self._available = min(self.maximum, self._available + (now - self._at) * self.restore_rate)
        self._at = now

    def take(self, cost: float) -> bool:
        """Take ``cost`` if the bucket holds it; False means THROTTLED."""
        with self._lock:
            self._refill()
            if cost > self._available:
                return False
            self._available -= cost
            return True

    def refund(self, amount: float) -> None:
        with self._lock:
            self._refill()
            self._available = min(self.maximum, self._available + max(amount, 0))

    def status(self) -> BucketStatus:
        with self._lock:
            self._refill()
            return BucketStatus(self.maximum, self._available, self.restore_rate)

    def configure(
        self,
        maximum: float | None = None,
        restore_rate: float | None = None,
        available: float | None = None,
    ) -> None:
        """Resize the bucket, change its rate, or set what it holds now (tests throttle so)."""
        with self._lock:
            self._refill()
            if maximum is not None:
                self.maximum = float(maximum)
                self._available = min(self._available, self.maximum)
            if restore_rate is not None:
                self.restore_rate = float(restore_rate)
            if available is not None:
                self._available = max(0.0, min(float(available), self.maximum))
