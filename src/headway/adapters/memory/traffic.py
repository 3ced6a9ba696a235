"""The embedded profile's traffic store: each map's parts in a dict, and a version."""

from __future__ import annotations

from headway.services.traffic import STALE_AFTER_S, TrafficPart, TrafficSnapshot, merge_parts


class MemoryTrafficStore:
    def __init__(self) -> None:
        self._parts: dict[str, dict[str, TrafficPart]] = {}
        self._versions: dict[str, int] = {}

    async def publish(self, map_id: str, part: TrafficPart) -> int:
        self._parts.setdefault(map_id, {})[part.source] = part
        self._versions[map_id] = self._versions.get(map_id, 0) + 1
        return self._versions[map_id]

    async def version(self, map_id: str) -> int:
        return self._versions.get(map_id, 0)

    async def latest(
        self, map_id: str, now: float, stale_after_s: float = STALE_AFTER_S
    ) -> TrafficSnapshot | None:
        parts = list(self._parts.get(map_id, {}).values())
        return merge_parts(self._versions.get(map_id, 0), parts, now, stale_after_s)
