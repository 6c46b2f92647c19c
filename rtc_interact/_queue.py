"""A bounded async queue that drops the oldest item when full (media and event buffers)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from typing import Generic, TypeVar

T = TypeVar("T")


class DropOldestQueue(Generic[T]):
    """Single-consumer queue; ``put`` never blocks, ``dropped`` counts what fell off the front."""

    def __init__(self, maxlen: int) -> None:
        self._items: deque[T] = deque(maxlen=maxlen)
        self._wakeup = asyncio.Event()
        self._closed = False
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: T) -> None:
        """Append ``item``, dropping the oldest one if the queue is full."""
        if len(self._items) == self._items.maxlen:
            self.dropped += 1
        self._items.append(item)
        self._wakeup.set()

    def close(self) -> None:
        """Wake the consumer; iteration ends once the queue is empty."""
        self._closed = True
        self._wakeup.set()

    async def __aiter__(self) -> AsyncIterator[T]:
        while True:
            while self._items:
                yield self._items.popleft()
            if self._closed:
                return
            self._wakeup.clear()
            await self._wakeup.wait()
