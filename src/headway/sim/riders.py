"""Simulated passengers: they sign up, ask for rides through the public API, accept most
offers, cancel a few, and follow their rides to the end.

Requests arrive as a Poisson stream at ``rate_per_hour`` (simulated time, so the wall
rate is ``rate_per_hour x speedup / 3600`` per second). Origins and destinations are
stops, two thirds of trips start or end near the town centre (the stops closest to the
middle of the map), the rest anywhere: a suburban pattern of trips into and out of the
centre with some crosstown travel. Like the vehicle simulator, this speaks only the
public interface (HTTP) and never imports the platform.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from headway.network.graph import RoadNetwork

log = logging.getLogger(__name__)

PASSWORD_BYTES = 12


@dataclass(frozen=True)
class RiderConfig:
    rate_per_hour: float = 600.0
    """Ride requests per simulated hour."""
    speedup: float = 1.0
    seed: int = 1
    passengers: int = 50
    accept_share: float = 0.9
    cancel_share: float = 0.05
    """Of accepted rides, the share cancelled before pickup."""
    centre_share: float = 2 / 3
    max_seats: int = 3
    poll_s: float = 1.0


@dataclass
class RiderStats:
    requested: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    """Final status of each ride followed to its end, and refusals by reason."""
    refusals: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    waits_s: list[float] = field(default_factory=list)
    """Wall seconds from earliest pickup to pickup."""

    def summary(self) -> dict[str, object]:
        waits = sorted(self.waits_s)
        return {
            "requested": self.requested,
            "outcomes": dict(self.statuses),
            "refusals": dict(self.refusals),
            "errors": self.errors,
            "mean_wait_wall_s": round(sum(waits) / len(waits), 2) if waits else None,
        }


class RiderSimulator:
    def __init__(self, client: httpx.AsyncClient, network: RoadNetwork, config: RiderConfig):
        self._client = client
        self._config = config
        self._rng = random.Random(f"{config.seed}/riders")
        frame = network.frame
        self._stops = [frame.to_wgs84(s.x, s.y) for s in network.stops]
        if len(self._stops) < 2:
            raise ValueError("riders need at least two stops")
        cx = sum(s.x for s in network.stops) / len(network.stops)
        cy = sum(s.y for s in network.stops) / len(network.stops)
        by_centre = sorted(
            range(len(network.stops)),
            key=lambda i: (network.stops[i].x - cx) ** 2 + (network.stops[i].y - cy) ** 2,
        )
        self._centre = by_centre[: max(2, len(by_centre) // 10)]
        self._tokens: list[str] = []
        self._followers: set[asyncio.Task[None]] = set()
        self.stats = RiderStats()

    async def run(self, stop: asyncio.Event) -> None:
        await self._sign_up()
        per_wall_s = self._config.rate_per_hour * self._config.speedup / 3600.0
        try:
            while not stop.is_set():
                gap = self._rng.expovariate(per_wall_s) if per_wall_s > 0 else 3600.0
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), gap)
                    break
                self._spawn(self._ride())
        finally:
            for task in list(self._followers):
                task.cancel()
            for task in list(self._followers):
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _sign_up(self) -> None:
        for _ in range(self._config.passengers):
            name = f"rider-{secrets.token_hex(4)}"
            response = await self._client.post(
                "/api/v1/auth/passengers",
                json={"username": name, "password": secrets.token_urlsafe(PASSWORD_BYTES)},
            )
            response.raise_for_status()
            self._tokens.append(response.json()["access_token"])

    def _spawn(self, coroutine: object) -> None:
        task = asyncio.ensure_future(coroutine)  # type: ignore[call-overload]
        self._followers.add(task)
        task.add_done_callback(self._followers.discard)

    def _trip(self) -> tuple[tuple[float, float], tuple[float, float]]:
        rng, stops = self._rng, self._stops
        anywhere = rng.randrange(len(stops))
        if rng.random() < self._config.centre_share:
            centre = rng.choice(self._centre)
            pair = (centre, anywhere) if rng.random() < 0.5 else (anywhere, centre)
        else:
            pair = (anywhere, rng.randrange(len(stops)))
        return stops[pair[0]], stops[pair[1]]

    async def _ride(self) -> None:
        rng, config = self._rng, self._config
        headers = {"Authorization": f"Bearer {rng.choice(self._tokens)}"}
        (la, lo), (lb, lob) = self._trip()
        body = {
            "origin": {"lat": la, "lon": lo},
            "destination": {"lat": lb, "lon": lob},
            "seats": rng.choice([1, 1, 1, 2, 2, config.max_seats]),
        }
        accept = rng.random() < config.accept_share
        cancel = accept and rng.random() < config.cancel_share
        self.stats.requested += 1
        try:
            offer = await self._client.post("/api/v1/rides", json=body, headers=headers)
            offer.raise_for_status()
            ride = offer.json()
            if ride["status"] == "refused":
                self.stats.statuses["refused"] += 1
                self.stats.refusals[ride["reason"]] += 1
                return
            ride_id = ride["id"]
            action = "accept" if accept else "decline"
            answer = await self._client.post(f"/api/v1/rides/{ride_id}/{action}", headers=headers)
            if answer.status_code == 409:
                self.stats.statuses["offer_lost"] += 1
                return
            answer.raise_for_status()
            if not accept:
                self.stats.statuses["declined"] += 1
                return
            if cancel:
                await asyncio.sleep(rng.uniform(0.5, 3.0))
                response = await self._client.post(
                    f"/api/v1/rides/{ride_id}/cancel", headers=headers
                )
                if response.status_code == 200:
                    self.stats.statuses["cancelled"] += 1
                    return
            await self._follow(ride_id, headers)
        except httpx.HTTPError as exc:
            self.stats.errors += 1
            log.info("rider: %s", exc)

    async def _follow(self, ride_id: str, headers: dict[str, str]) -> None:
        while True:
            await asyncio.sleep(self._config.poll_s)
            response = await self._client.get(f"/api/v1/rides/{ride_id}", headers=headers)
            response.raise_for_status()
            ride = response.json()
            if ride["status"] in ("completed", "cancelled", "expired"):
                self.stats.statuses[ride["status"]] += 1
                if ride.get("picked_up_at"):
                    picked = datetime.fromisoformat(ride["picked_up_at"])
                    earliest = datetime.fromisoformat(ride["earliest_pickup"])
                    self.stats.waits_s.append((picked - earliest).total_seconds())
                return
