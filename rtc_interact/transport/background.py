"""Tasks that go on after the call that started them (the aiortc wrappers' early returns)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

_held: set[asyncio.Future[None]] = set()
"""Tasks started here that nobody awaits (kept referenced until done)."""


def keep(task: asyncio.Future[None]) -> None:
    """Hold ``task`` until it is done; its exception, if any, is taken as read."""
    _held.add(task)
    task.add_done_callback(_forget)


def _forget(task: asyncio.Future[None]) -> None:
    _held.discard(task)
    if not task.cancelled():
        task.exception()


async def until_set(work: Coroutine[Any, Any, None],
                    event: asyncio.Event) -> asyncio.Future[None] | None:
    """Await ``work`` until it ends or ``event`` is set, whichever comes first: None when it
    ended (its exception raised here), else its task, which goes on in the background (held
    by ``keep``). Cancelling this cancels ``work`` too."""
    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        raise
    finally:
        waiter.cancel()
    if task.done():
        task.result()
        return None
    keep(task)
    return task
