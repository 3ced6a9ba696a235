"""``headway demo``: the whole system in one process on embedded defaults.

A synthetic city (or an imported one), the embedded MQTT broker, bridge, processor,
API and live map, and a simulated fleet that talks to it over real MQTT. Headless mode
runs for a fixed time and reports throughput and latency as one JSON object.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import time
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import uvicorn

from headway.bootstrap import EmbeddedPlatform, build_embedded
from headway.config import Settings
from headway.domain.users import Role
from headway.entrypoints.runtime import settle_heap
from headway.network.cch_router import CCHRouter
from headway.network.city import CityParams, generate_city
from headway.network.graph import RoadNetwork
from headway.sim.fleet import FleetSimulator, SimConfig
from headway.sim.riders import RiderConfig, RiderSimulator

WARMUP_AFTER_FLEET_UP_S = 5.0


@dataclass(frozen=True)
class DemoOptions:
    vehicles: int = 200
    speedup: float = 5.0
    port: int = 8000
    seed: int = 7
    headless: bool = False
    duration_s: float | None = None
    visualization_interval_s: float = 0.0
    osm: str | None = None
    """An OpenStreetMap file (or a network file, .npz) to run on instead of the synthetic city."""
    ride_requests_per_hour: float = 600.0
    """Simulated passengers asking for on-demand rides (per simulated hour; 0: none)."""
    fixed_route_vehicles: int | None = None
    """Vehicles driving the fixed routes' blocks (None: ``FIXED_ROUTE_SHARE`` of the
    fleet; 0: no fixed routes); the rest serve on-demand rides."""
    gtfs: str | None = None
    """A GTFS feed to run instead of the synthetic city's lines (on an imported map)."""
    holds: bool = True
    """Hold fixed-route vehicles to even the headways (False: to measure without)."""


FIXED_ROUTE_SHARE = 0.15


def load_network(seed: int, osm: str | None = None) -> RoadNetwork:
    if osm is None:
        return generate_city(CityParams(seed=seed))
    if osm.endswith(".npz"):
        return RoadNetwork.load(osm)
    from headway.network.osm_import import import_osm

    return import_osm(osm)[0]


class Demo:
    """Start and stop the demo's parts; usable from tests as an async context manager."""

    def __init__(
        self,
        options: DemoOptions,
        settings: Settings | None = None,
        network: RoadNetwork | None = None,
    ) -> None:
        self.options = options
        base = settings or Settings()
        self.settings = base.model_copy(update={"http_port": options.port})
        self.network = network or load_network(options.seed, options.osm)
        router = CCHRouter(self.network)
        transit = None
        count = options.fixed_route_vehicles
        if count is None:
            count = round(options.vehicles * FIXED_ROUTE_SHARE)
        if options.osm is not None and options.gtfs is None:
            count = 0  # the synthetic lines are laid on the synthetic city's arterials
        if count > 0 and self.network.stops:
            from headway.entrypoints.demo_transit import fixed_route_setup

            # The same roads (with the feed's stops added, for a GTFS feed): same router.
            transit = fixed_route_setup(self.network, router, count, options.gtfs, options.holds)
            self.network = transit.network
        self.platform: EmbeddedPlatform = build_embedded(
            self.settings,
            self.network,
            time_scale=options.speedup,
            fixed_routes=transit.setup if transit is not None else None,
        )
        self.settings = self.platform.settings
        self.sim = FleetSimulator(
            self.network,
            SimConfig(
                vehicles=options.vehicles,
                speedup=options.speedup,
                seed=options.seed,
                mqtt_host=self.platform.broker.host,
                mqtt_port=self.platform.mqtt_port,
                visualization_interval_s=options.visualization_interval_s,
            ),
            router=router,
        )
        self._server: uvicorn.Server | None = None
        self._server_task: asyncio.Task[None] | None = None
        self.riders: RiderSimulator | None = None
        self._riders_client: httpx.AsyncClient | None = None
        self._riders_stop = asyncio.Event()
        self._riders_task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.settings.http_host}:{self.settings.http_port}"

    async def __aenter__(self) -> Demo:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        for serial in self.sim.vehicle_ids:
            self.platform.registry.register(self.sim.config.manufacturer, serial)
        await self.platform.start()
        if not self.options.headless:
            config = uvicorn.Config(
                self.platform.app,
                host=self.settings.http_host,
                port=self.settings.http_port,
                log_level="warning",
                lifespan="on",
                ws="websockets-sansio",
            )
            self._server = uvicorn.Server(config)
            self._server_task = asyncio.create_task(self._server.serve(), name="http")
            while not self._server.started:
                if self._server_task.done():
                    self._server_task.result()
                    raise RuntimeError(f"the web server did not start on {self.url}")
                await asyncio.sleep(0.02)
        settle_heap()  # the network, broker and API are built: keep the collector off them
        await self.sim.start()
        if self.options.ride_requests_per_hour > 0 and self.platform.rides is not None:
            self._riders_client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self.platform.app), base_url="http://headway"
            )
            self.riders = RiderSimulator(
                self._riders_client,
                self.network,
                RiderConfig(
                    rate_per_hour=self.options.ride_requests_per_hour,
                    speedup=self.options.speedup,
                    seed=self.options.seed,
                ),
            )
            self._riders_task = asyncio.create_task(
                self.riders.run(self._riders_stop), name="riders"
            )

    async def stop(self) -> None:
        self._riders_stop.set()
        if self._riders_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._riders_task
        if self._riders_client is not None:
            await self._riders_client.aclose()
        await self.sim.stop()
        if self._server is not None and self._server_task is not None:
            self._server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await self._server_task
        await self.platform.stop()

    def token(self, role: Role = Role.ADMIN) -> str:
        return self.platform.identity.issue(f"demo-{role.value}", role)

    def api_client(self) -> httpx.AsyncClient:
        """An HTTP client talking to the API in process, logged in as admin."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.platform.app),
            base_url="http://headway",
            headers={"Authorization": f"Bearer {self.token()}"},
        )

    async def wait_until_all_visible(self, timeout_s: float) -> float:
        """Seconds until every simulated vehicle has a live state and the dispatcher
        has looked at the fleet since (the fleet is up: a ride asked for earlier could
        find no vehicle known to the dispatcher and be refused)."""
        started = time.monotonic()
        expected = len(self.sim.vehicle_ids)
        while self.platform.processor.known_vehicles < expected:
            if time.monotonic() - started > timeout_s:
                raise TimeoutError(
                    f"only {self.platform.processor.known_vehicles} of {expected} vehicles "
                    f"reported within {timeout_s:.0f} s"
                )
            await asyncio.sleep(0.05)
        dispatcher = self.platform.dispatcher
        if dispatcher is not None:
            # Two ticks: the first may have begun before the last vehicle was visible.
            seen = dispatcher.stats.ticks + 2
            while dispatcher.stats.ticks < seen:
                if time.monotonic() - started > timeout_s:
                    raise TimeoutError(f"the dispatcher did not tick within {timeout_s:.0f} s")
                await asyncio.sleep(0.05)
        return time.monotonic() - started

    async def visible_vehicle_ids(self) -> set[str]:
        """Ids of the vehicles whose live state the API serves, paging through it all."""
        seen: set[str] = set()
        cursor = ""
        async with self.api_client() as client:
            while True:
                page = await client.get(
                    "/api/v1/vehicles", params={"limit": 1000, "cursor": cursor}
                )
                page.raise_for_status()
                body = page.json()
                seen.update(item["id"] for item in body["items"])
                if body["next_cursor"] is None:
                    return seen
                cursor = body["next_cursor"]


async def run_headless(options: DemoOptions, settings: Settings | None = None) -> dict[str, Any]:
    duration = options.duration_s or 30.0
    demo = Demo(options, settings)
    start_cpu = _cpu_s()
    async with demo:
        fleet_up = await demo.wait_until_all_visible(timeout_s=60.0)
        # The connect storm (every vehicle's ONLINE, factsheet and first state at once)
        # drains within a few seconds; the figures are for the sustained load after it.
        await asyncio.sleep(WARMUP_AFTER_FLEET_UP_S)
        settle_heap()
        processor = demo.platform.processor
        processor.stats.latencies_s.clear()
        events_before = processor.stats.records
        started = time.monotonic()
        cpu_before = _cpu_s()
        await asyncio.sleep(duration)
        elapsed = time.monotonic() - started
        cpu = _cpu_s() - cpu_before
        events = processor.stats.records - events_before
        latencies = np.array(processor.stats.latencies_s) * 1000.0
        visible = await demo.visible_vehicle_ids()
        expected = set(demo.sim.vehicle_ids)
        statuses = {k.value: v for k, v in processor.status_counts().items()}
        dead = sum((await demo.platform.dead_letters.counts()).values())
        rides = demo.riders.stats.summary() if demo.riders is not None else None
        dispatcher = demo.platform.dispatcher
        trips = None
        if dispatcher is not None:
            s = dispatcher.stats
            trips = {"sent": s.trips_sent, "done": s.trips_done, "failed": s.trips_failed}
        fixed = demo.platform.fixed_routes
        fixed_routes = None
        if fixed is not None:
            from headway.entrypoints.demo_transit import fixed_route_report

            fixed_routes = fixed_route_report(fixed)
    return {
        "vehicles": options.vehicles,
        "duration_s": round(elapsed, 2),
        "events": events,
        "events_per_s": round(events / elapsed, 1),
        "visible_vehicles": len(visible & expected),
        "p50_ingest_to_visible_ms": _pct(latencies, 50),
        "p99_ingest_to_visible_ms": _pct(latencies, 99),
        "max_ingest_to_visible_ms": _pct(latencies, 100),
        "dead_letters": dead,
        "cpu_core_share": round(cpu / elapsed, 3),
        "startup_cpu_s": round(cpu_before - start_cpu, 2),
        "statuses": statuses,
        "speedup": options.speedup,
        "fleet_up_s": round(fleet_up, 2),
        "warmup_s": round(fleet_up + WARMUP_AFTER_FLEET_UP_S, 2),
        "rides": rides,
        "dispatch_trips": trips,
        "fixed_routes": fixed_routes,
    }


async def run_interactive(options: DemoOptions, settings: Settings | None = None) -> None:
    demo = Demo(options, settings)
    async with demo:
        settle_heap()
        print(f"Headway is running: {demo.url}", flush=True)
        print(
            f"  log in as {demo.settings.admin_user} / "
            f"{demo.settings.admin_password.get_secret_value()}",
            flush=True,
        )
        print(
            f"  API docs {demo.url}/docs   metrics {demo.url}/metrics   "
            f"MQTT mqtt://{demo.platform.broker.host}:{demo.platform.mqtt_port}",
            flush=True,
        )
        print(f"  {options.vehicles} vehicles, time x{options.speedup:g}; Ctrl-C stops", flush=True)
        if options.duration_s:
            await asyncio.sleep(options.duration_s)
        else:
            await asyncio.Event().wait()


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _pct(values: np.ndarray, q: float) -> float | None:
    if values.size == 0:
        return None
    return round(float(np.percentile(values, q)), 2)
