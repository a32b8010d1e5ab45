"""Per-process caches for rows every request reads and people rarely change.

API tokens, categories and places are looked up on every submission; fetching them costs more
than the rest of intake together (docs/benchmarks.md). Each server process keeps what it has
looked up for a short while (`LOCAL_CACHE_SECONDS`, 15 s by default):

- a change saved in this process (admin, services, commands) clears the cache at once, through
  the model signals wired in each app's `apps.py`;
- a change saved by another server process reaches this one when the entry expires, so a
  revoked token, a deactivated user or a retired category stops working everywhere within
  `LOCAL_CACHE_SECONDS`. Set it to 0 to look everything up on every request.

Misses are never cached: a category created a moment ago is found at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import ClassVar, Generic, TypeVar

from django.conf import settings

T = TypeVar("T")


class LocalCache(Generic[T]):
    """A bounded key → value map whose entries expire after `LOCAL_CACHE_SECONDS`."""

    instances: ClassVar[list[LocalCache]] = []
    clock: ClassVar[Callable[[], float]] = staticmethod(time.monotonic)

    def __init__(self, name: str, *, max_entries: int = 10_000) -> None:
        self.name = name
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, T]] = {}
        LocalCache.instances.append(self)

    def get(self, key: Hashable, load: Callable[[], T | None]) -> T | None:
        """The cached value for `key`, or `load()` (kept only when it is not None)."""
        seconds = settings.LOCAL_CACHE_SECONDS
        now = LocalCache.clock()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load()
        if value is not None and seconds > 0:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (now + seconds, value)
        else:
            self._entries.pop(key, None)
        return value

    def clear(self, *args, **kwargs) -> None:
        """Forget everything; usable directly as a signal receiver."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    @classmethod
    def clear_all(cls) -> None:
        for cache in cls.instances:
            cache.clear()
