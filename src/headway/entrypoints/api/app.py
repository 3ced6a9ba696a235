"""The FastAPI application: routers, problem documents, the live feed and the web page."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

import headway
from headway.entrypoints.api import problems
from headway.entrypoints.api.context import ApiContext
from headway.entrypoints.api.live import LiveFeed
from headway.entrypoints.api.routers import auth, commands, live, ops, rides, transit, vehicles

ROUTERS = (
    auth.router,
    vehicles.router,
    commands.router,
    rides.router,
    transit.router,
    ops.router,
    live.router,
)
DEFAULT_WEB_DIR = Path(__file__).resolve().parents[4] / "web" / "dist"


def create_app(ctx: ApiContext, web_dir: Path | None = None) -> FastAPI:
    feed = LiveFeed(ctx.live, ctx.metrics, ctx.live_tick_s)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(feed.run(stop), name="live-feed")
        try:
            yield
        finally:
            stop.set()
            await task

    app = FastAPI(
        title="Headway",
        version=headway.__version__,
        description="Live fleet state, alerts and the road network of a Headway deployment.",
        lifespan=lifespan,
    )
    app.state.headway = ctx
    app.state.live_feed = feed
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router)
    site = web_dir or DEFAULT_WEB_DIR
    if (site / "index.html").exists():
        app.mount("/", StaticFiles(directory=site, html=True), name="web")
    return app
