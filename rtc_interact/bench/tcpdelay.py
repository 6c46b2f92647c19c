"""A TCP relay on 127.0.0.1 that delays each direction, so HTTP signaling feels the link's RTT.

Only delay is modelled (TCP hides loss as delay anyway, and our UDP emulator handles the media);
a new connection waits one RTT before forwarding, standing in for the TCP handshake.
"""

from __future__ import annotations

import asyncio
import contextlib

from ..linkemu.relay import check_loopback


class TcpDelayProxy:
    """Forward 127.0.0.1:<port> to ``target`` with ``up_ms`` (to target) and ``down_ms`` delay."""

    def __init__(self, target: tuple[str, int], up_ms: float, down_ms: float) -> None:
        self.target = check_loopback(target)
        self.up_s, self.down_s = up_ms / 1000, down_ms / 1000
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0
        self.connections = 0
        """TCP connections accepted so far."""

    async def __aenter__(self) -> TcpDelayProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            await asyncio.sleep(self.up_s + self.down_s)  # the handshake's round trip
            up_reader, up_writer = await asyncio.open_connection(*self.target)
            await asyncio.gather(self._pipe(reader, up_writer, self.up_s),
                                 self._pipe(up_reader, writer, self.down_s))
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    delay_s: float) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                await asyncio.sleep(max(0.0, due - loop.time()))
                if not data:
                    with contextlib.suppress(OSError):
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()

        sender = asyncio.ensure_future(deliver())
        try:
            while True:
                data = await reader.read(65536)
                queue.put_nowait((loop.time() + delay_s, data))
                if not data:
                    break
            await sender
        finally:
            sender.cancel()
