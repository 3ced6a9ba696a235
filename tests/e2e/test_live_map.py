"""The live map, end to end: sign in, watch the whole fleet arrive, open a vehicle."""

from __future__ import annotations

import base64
import math
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page

from .harness import SCREENSHOTS, Demo

pytestmark = pytest.mark.e2e

VIEWPORT = {"width": 1400, "height": 860}
STATUSES = ("driving", "idle", "charging", "offline", "fault")

# Decodes a PNG in the browser and counts its colours: the browser is the one image
# library every e2e run already has.
PIXEL_STATS_JS = """
async ([b64, targets]) => {
  const img = new Image();
  img.src = "data:image/png;base64," + b64;
  await img.decode();
  const c = document.createElement("canvas");
  c.width = img.width;
  c.height = img.height;
  const g = c.getContext("2d");
  g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  const near = (i, [r, g, b], tol) =>
    Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) <= tol;
  const hist = new Map();
  for (let i = 0; i < d.length; i += 4) {
    const key = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
    hist.set(key, (hist.get(key) || 0) + 1);
  }
  let background = 0, most = -1;
  for (const [key, n] of hist) if (n > most) { most = n; background = key; }
  const bg = [background >> 16, (background >> 8) & 255, background & 255];
  const hits = Object.fromEntries(Object.keys(targets).map((k) => [k, 0]));
  let drawn = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (!near(i, bg, 24)) drawn++;
    for (const [k, rgb] of Object.entries(targets)) if (near(i, rgb, 30)) hits[k]++;
  }
  return { pixels: c.width * c.height, distinct: hist.size, drawn, hits };
}
"""


def _counters(page: Page) -> dict[str, int]:
    """The header's counters, read in one go so that they all come from the same frame."""
    counts: dict[str, int] = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('[data-testid^="count-"]')]
            .map((e) => [e.dataset.testid.slice("count-".length), Number(e.textContent)]))"""
    )
    return counts


def _rgb(css: str) -> list[int]:
    inner = css[css.index("(") + 1 : css.index(")")]
    return [int(float(v)) for v in inner.split(",")[:3]]


def _pixel_stats(page: Page, png: bytes, targets: dict[str, list[int]]) -> dict[str, Any]:
    stats: dict[str, Any] = page.evaluate(PIXEL_STATS_JS, [base64.b64encode(png).decode(), targets])
    return stats


def _loneliest_vehicle(page: Page) -> tuple[str, dict[str, float]]:
    """The vehicle farthest from any other on screen, away from the edges: a sure click."""
    points: dict[str, dict[str, float] | None] = page.evaluate(
        "() => Object.fromEntries(window.__headway.ids()"
        ".map((id) => [id, window.__headway.pagePoint(id)]))"
    )
    box = page.get_by_test_id("map").bounding_box()
    assert box is not None
    margin = 60
    inside = {
        vid: p
        for vid, p in points.items()
        if p is not None
        and box["x"] + margin < p["x"] < box["x"] + box["width"] - margin
        and box["y"] + margin < p["y"] < box["y"] + box["height"] - margin
    }
    assert inside, "no vehicle is drawn inside the map"

    def clearance(vid: str) -> float:
        p = inside[vid]
        others = (q for w, q in points.items() if w != vid and q is not None)
        return min(
            (math.dist((p["x"], p["y"]), (q["x"], q["y"])) for q in others), default=math.inf
        )

    best = max(inside, key=clearance)
    return best, inside[best]


def test_live_map_shows_the_fleet_and_a_vehicle(demo_server: Demo, chromium: Browser) -> None:
    demo = demo_server
    problems: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            problems.append(f"console: {msg.text}")

    def on_page_error(err: Error) -> None:
        problems.append(f"page error: {err}")

    page = chromium.new_page(viewport=VIEWPORT)
    try:
        page.set_default_timeout(60_000)
        page.on("console", on_console)
        page.on("pageerror", on_page_error)
        page.goto(demo.url)

        # A wrong password is refused with the server's reason, on the form.
        page.get_by_test_id("login-username").fill(demo.username)
        page.get_by_test_id("login-password").fill(demo.password + "-wrong")
        page.get_by_test_id("login-submit").click()
        error = page.get_by_test_id("login-error")
        error.wait_for()
        assert error.inner_text().strip()
        problems.clear()  # the refused sign-in is logged as a failed request

        page.get_by_test_id("login-password").fill(demo.password)
        page.get_by_test_id("login-submit").click()

        # The whole fleet arrives over the live feed and is drawn on the loaded map.
        page.wait_for_function(
            "(n) => window.__headway && window.__headway.mapLoaded"
            " && window.__headway.vehicles === n && window.__headway.renderedVehicles() === n",
            arg=demo.vehicles,
        )
        assert page.get_by_test_id("count-total").inner_text() == str(demo.vehicles)
        counts = _counters(page)
        assert counts["total"] == sum(counts[s] for s in STATUSES) == demo.vehicles, counts

        # The city's roads are drawn, and so, in the picture, is every status colour
        # that the counters report (before and after it was taken: statuses change live).
        # (The road layer may finish drawing a frame after the vehicles on a busy machine.)
        page.wait_for_function("() => window.__headway.renderedRoads() > 100")
        assert page.evaluate("() => window.__headway.renderedRoads()") > 100
        colours = {
            s: _rgb(
                page.eval_on_selector(
                    f'[data-status="{s}"] .dot', "e => getComputedStyle(e).backgroundColor"
                )
            )
            for s in STATUSES
        }
        before = _counters(page)
        picture = page.get_by_test_id("map").screenshot()
        after = _counters(page)
        stats = _pixel_stats(page, picture, colours)
        assert stats["distinct"] > 40, stats
        assert stats["drawn"] > 0.005 * stats["pixels"], f"the map is nearly blank: {stats}"
        shown = [s for s in STATUSES if before[s] and after[s]]
        assert shown, (before, after)
        for status in shown:
            assert stats["hits"][status] >= 12, (status, before, after, stats["hits"])

        # Clicking a vehicle opens its panel, fed by the API and the live feed.
        vid, point = _loneliest_vehicle(page)
        page.mouse.click(point["x"], point["y"])
        panel = page.get_by_test_id("vehicle-panel")
        panel.wait_for()
        assert page.get_by_test_id("vehicle-panel-id").inner_text() == vid
        assert page.get_by_test_id("vehicle-panel-status").inner_text().strip()
        assert page.evaluate("() => window.__headway.selected") == vid
        frames = page.evaluate("() => window.__headway.frames")
        page.wait_for_function("(f) => window.__headway.frames >= f + 2", arg=frames)
        assert panel.get_attribute("data-vehicle-id") == vid

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "live-map.png"))
        assert not problems, problems
    finally:
        page.close()
