"""The live feed: one WebSocket frame per tick per client, each frame encoded once.

A single broadcaster task reads the changes since its last tick and fans one encoded
frame out to every client. A client that joins, or falls behind (its small queue is
full), gets a full snapshot at the next tick instead of deltas, so nobody ever applies
an older delta after a newer snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

import msgspec
from starlette.websockets import WebSocket, WebSocketDisconnect

from headway.entrypoints.api.schemas import alert_dict, vehicle_dict
from headway.services.metrics import Metrics
from headway.services.ports import LiveState

QUEUE_FRAMES = 4


@dataclass(eq=False)
class _Client:
    websocket: WebSocket
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(QUEUE_FRAMES))
    needs_snapshot: bool = True


class LiveFeed:
    def __init__(self, live: LiveState, metrics: Metrics, tick_s: float = 0.5) -> None:
        self._live = live
        self._metrics = metrics
        self._tick_s = tick_s
        self._clients: set[_Client] = set()
        self._cursor = 0
        self.frames_built = 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            started = time.monotonic()
            await self.tick()
            delay = self._tick_s - (time.monotonic() - started)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, delay))

    async def tick(self) -> None:
        self._cursor, changed = await self._live.changes_since(self._cursor)
        if not self._clients:
            return
        alerts = [alert_dict(a) for a in await self._live.active_alerts()]
        now = time.time()
        delta = _encode("tick", now, [vehicle_dict(s) for s in changed], alerts)
        snapshot: str | None = None
        for client in list(self._clients):
            if client.needs_snapshot:
                if snapshot is None:
                    _, everything = await self._live.changes_since(0)
                    snapshot = _encode(
                        "snapshot", now, [vehicle_dict(s) for s in everything], alerts
                    )
                frame = snapshot
            else:
                frame = delta
            try:
                client.queue.put_nowait(frame)
                client.needs_snapshot = False
            except asyncio.QueueFull:
                while not client.queue.empty():
                    client.queue.get_nowait()
                client.needs_snapshot = True
        self.frames_built += 1 + (snapshot is not None)

    async def serve(self, websocket: WebSocket) -> None:
        """Send frames to one accepted client until it goes away."""
        client = _Client(websocket)
        self._clients.add(client)
        self._metrics.ws_clients.inc()
        reader = asyncio.create_task(self._drain_incoming(websocket))
        try:
            while not reader.done():
                getter = asyncio.create_task(client.queue.get())
                done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    break
                await websocket.send_text(getter.result())
                self._metrics.ws_frames.inc()
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            reader.cancel()
            self._clients.discard(client)
            self._metrics.ws_clients.dec()

    @staticmethod
    async def _drain_incoming(websocket: WebSocket) -> None:
        """Clients say nothing we act on; reading notices when they leave."""
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            while True:
                await websocket.receive_text()


def _encode(
    kind: str, ts: float, vehicles: list[dict[str, object]], alerts: list[dict[str, object]]
) -> str:
    body = {"type": kind, "ts": ts, "vehicles": vehicles, "alerts": alerts}
    return msgspec.json.encode(body).decode()
