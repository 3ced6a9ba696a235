"""The passenger app, end to end: sign up, choose a trip on the map, take the offer and
ride it to the end; ask for a place outside the service area and read why not; book a
later ride and cancel it. A real browser against a running demo."""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, ViewportSize, expect

from .harness import SCREENSHOTS, Demo

pytestmark = pytest.mark.e2e

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1400, "height": 860}
PASSWORD = "a long enough passphrase"
# A ride this long is over in a minute or two of the demo's sped-up time.
TRIP_M = (1200.0, 2200.0)
# Pixels kept clear of the map's edges, its zoom buttons and the sheet's rounded top.
MARGIN = 36
# Waiting for the simulated shuttle: a ride of this kind ends within a few minutes on a
# busy two-core machine; nothing here asserts how fast it goes.
RIDE_TIMEOUT_MS = 300_000

Stop = dict[str, Any]


@pytest.fixture
def problems() -> list[str]:
    """Console errors and uncaught exceptions of the test's page."""
    return []


def watch(page: Page, problems: list[str]) -> None:
    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            problems.append(f"console: {msg.text}")

    def on_page_error(err: Error) -> None:
        problems.append(f"page error: {err}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)


@pytest.fixture
def phone(chromium: Browser, problems: list[str]) -> Iterator[Page]:
    page = chromium.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.set_default_timeout(60_000)
    watch(page, problems)
    try:
        yield page
    finally:
        page.close()


@pytest.fixture
def desktop(chromium: Browser, problems: list[str]) -> Iterator[Page]:
    page = chromium.new_page(viewport=DESKTOP)
    page.set_default_timeout(60_000)
    watch(page, problems)
    try:
        yield page
    finally:
        page.close()


def sign_up(page: Page, demo: Demo) -> str:
    """Create a passenger from the login screen's Ride side; returns the user name."""
    name = f"rider-{secrets.token_hex(4)}"
    page.goto(demo.url + "#/ride")
    expect(page.get_by_test_id("mode-ride")).to_have_attribute("aria-selected", "true")
    page.get_by_test_id("signup-toggle").click()
    page.get_by_test_id("login-username").fill(name)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("trip-planner")).to_be_visible()
    page.wait_for_function("() => window.__headwayRide && window.__headwayRide.mapLoaded")
    settle(page)
    return name


def settle(page: Page) -> None:
    """Wait until the map stops moving, so that page points hold still."""
    page.wait_for_function("() => !window.__headwayRide.moving()")


def metres(a: Stop, b: Stop) -> float:
    dy = (a["lat"] - b["lat"]) * 111_195.0
    dx = (a["lon"] - b["lon"]) * 111_195.0 * math.cos(math.radians(a["lat"]))
    return math.hypot(dx, dy)


def tappable_stops(page: Page) -> list[Stop]:
    """Stops drawn well inside the map, in a stable order."""
    box = page.get_by_test_id("ride-map").bounding_box()
    assert box is not None
    stops: list[Stop] = page.evaluate("() => window.__headwayRide.visibleStops()")
    inside = [
        s
        for s in stops
        if box["x"] + MARGIN < s["x"] < box["x"] + box["width"] - 2 * MARGIN
        and box["y"] + 2 * MARGIN < s["y"] < box["y"] + box["height"] - MARGIN
    ]
    return sorted(inside, key=lambda s: s["id"])


def trip(stops: list[Stop], attempt: int) -> tuple[Stop, Stop]:
    """Two stops a short ride apart; a different pair on each attempt."""
    low, high = TRIP_M
    pairs = [
        (a, b)
        for a in stops[attempt * 37 % len(stops) :][:60]
        for b in stops
        if low < metres(a, b) < high
    ]
    assert pairs, "no two stops on screen are a short ride apart"
    return pairs[0]


def tap(page: Page, stop: Stop) -> None:
    """A finger on a phone, a mouse click elsewhere."""
    if page.evaluate("() => navigator.maxTouchPoints > 0"):
        page.touchscreen.tap(stop["x"], stop["y"])
    else:
        page.mouse.click(stop["x"], stop["y"])


def ride_dropoff_stop(page: Page) -> str:
    return page.get_by_test_id("ride-dropoff-stop").inner_text()


def status(page: Page) -> str:
    return str(page.evaluate("() => window.__headwayRide.status"))


def request_an_offer(page: Page) -> None:
    """Tap a pickup, take a neighbouring stop from the list, tap a drop-off, request.

    The demo's simulated passengers keep the fleet busy, so a request may be refused for
    want of a free shuttle: then the trip changes and the passenger asks again.
    """
    for attempt in range(4):
        planner = page.get_by_test_id("trip-planner")
        for end in ("pickup", "dropoff"):
            clear = page.get_by_test_id(f"plan-{end}-clear")
            if clear.count():
                clear.click()
        page.get_by_test_id("plan-pickup").get_by_role("button").first.click()
        a, b = trip(tappable_stops(page), attempt)

        tap(page, a)
        expect(page.get_by_test_id("plan-pickup-stop")).not_to_be_empty()
        # Pick the second-nearest stop from the list instead of the one tapped.
        nearby = page.get_by_test_id("nearby-stops").get_by_test_id("nearby-stop")
        expect(nearby.first).to_be_visible()
        if nearby.count() > 1:
            chosen = nearby.nth(1).locator(".stop-name").inner_text()
            nearby.nth(1).click()
            expect(page.get_by_test_id("plan-pickup-stop")).to_contain_text(chosen)

        tap(page, b)
        expect(page.get_by_test_id("plan-dropoff-stop")).not_to_be_empty()
        expect(planner.get_by_test_id("request-ride")).to_have_text("Request ride")
        planner.get_by_test_id("request-ride").click()

        page.wait_for_selector('[data-testid="ride-offer"], [data-testid="ride-refusal"]')
        if page.get_by_test_id("ride-offer").count():
            return
        reason = page.get_by_test_id("ride-refusal").get_attribute("data-reason")
        assert reason in ("no_vehicle_in_range", "no_feasible_insertion"), reason
        page.get_by_test_id("refusal-change").click()
    pytest.fail("every request was refused for want of a free shuttle")


def test_a_passenger_signs_up_books_and_rides_to_the_end(
    demo_server: Demo, phone: Page, problems: list[str]
) -> None:
    page = phone
    sign_up(page, demo_server)
    request_an_offer(page)

    offer = page.get_by_test_id("ride-offer")
    expect(offer).to_have_attribute("data-status", "offered")
    expect(page.get_by_test_id("offer-countdown")).to_have_text(re.compile(r"^0:\d\d$"))
    expect(page.get_by_test_id("offer-window")).to_have_text(re.compile(r"\d:\d\d"))
    expect(page.get_by_test_id("offer-dropoff-eta")).to_have_text(re.compile(r"\d:\d\d"))
    expect(page.get_by_test_id("offer-pickup-stop")).not_to_be_empty()
    expect(page.get_by_test_id("offer-pickup-walk")).to_contain_text(re.compile("walk|Right"))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "passenger-offer.png"))
    page.get_by_test_id("offer-accept").click()

    tracker = page.get_by_test_id("ride-tracker")
    expect(tracker).to_have_attribute("data-status", re.compile("accepted|assigned|picked_up"))
    ride_id = tracker.get_attribute("data-ride-id")
    # Booked, the shuttle shows on the map on its way to the pickup, with its ETA.
    page.wait_for_function(
        "() => window.__headwayRide.renderedShuttles() === 1", timeout=RIDE_TIMEOUT_MS
    )
    expect(page.get_by_test_id("ride-eta")).to_contain_text(re.compile(r"min|\d+ s|Now|arriving"))
    settle(page)
    page.screenshot(path=str(SCREENSHOTS / "passenger-ride.png"))

    page.wait_for_function(
        """() => window.__headwayRide.status === 'picked_up'
               && window.__headwayRide.renderedShuttles() === 1""",
        timeout=RIDE_TIMEOUT_MS,
    )
    expect(page.get_by_test_id("ride-status")).to_have_text("On board")
    expect(page.get_by_test_id("ride-cancel")).to_have_count(0)
    expect(page.get_by_test_id("ride-eta")).to_contain_text(ride_dropoff_stop(page))

    expect(tracker).to_have_attribute("data-status", "completed", timeout=RIDE_TIMEOUT_MS)
    expect(page.get_by_test_id("ride-headline")).to_contain_text("You arrived at")
    page.wait_for_function("() => window.__headwayRide.renderedShuttles() === 0")

    # The ride went through the server: its own record says so, and the list shows it.
    record = page.evaluate(
        """async (id) => {
             const token = JSON.parse(sessionStorage.getItem('headway.session')).token;
             const auth = {headers: {Authorization: 'Bearer ' + token}};
             return (await fetch('/api/v1/rides/' + id, auth)).json();
           }""",
        ride_id,
    )
    assert record["status"] == "completed"
    assert record["picked_up_at"]
    assert record["completed_at"]
    page.get_by_test_id("history-open").click()
    first = page.get_by_test_id("history-item").first
    expect(first).to_have_attribute("data-status", "completed")
    assert not problems, problems


def test_a_refusal_reads_in_plain_words_and_a_booked_ride_can_be_cancelled(
    demo_server: Demo, desktop: Page, problems: list[str]
) -> None:
    page = desktop
    sign_up(page, demo_server)
    # Zoom out until the land beyond the service area shows, then tap it for the pickup.
    for _ in range(2):
        page.get_by_role("button", name="Zoom out").click()
        settle(page)
    west, south, east, north = page.evaluate(
        "async () => (await (await fetch('/api/v1/network')).json()).bbox"
    )
    outside = page.evaluate(
        "([lon, lat]) => window.__headwayRide.pagePoint(lon, lat)",
        [west - 0.6 * (east - west) / 2, (south + north) / 2],
    )
    box = page.get_by_test_id("ride-map").bounding_box()
    assert box is not None
    assert box["x"] < outside["x"] < box["x"] + box["width"], outside
    page.mouse.click(outside["x"], outside["y"])
    expect(page.get_by_test_id("plan-pickup-stop")).to_have_text(re.compile("No stop within"))
    tap(page, tappable_stops(page)[0])
    page.get_by_test_id("request-ride").click()

    refusal = page.get_by_test_id("ride-refusal")
    expect(refusal).to_have_attribute("data-reason", "outside_service_area")
    expect(page.get_by_test_id("refusal-headline")).to_have_text(
        "That place is outside the area the shuttles serve."
    )
    expect(page.get_by_test_id("refusal-message")).to_contain_text("The pickup point is more than")
    page.screenshot(path=str(SCREENSHOTS / "passenger-refusal.png"))

    # A ride for later, so that the shuttle cannot pick up before the cancel.
    page.get_by_test_id("refusal-change").click()
    page.get_by_test_id("leave-30").click()
    request_an_offer(page)
    page.get_by_test_id("offer-accept").click()
    tracker = page.get_by_test_id("ride-tracker")
    expect(tracker).to_have_attribute("data-status", re.compile("accepted|assigned"))
    page.get_by_test_id("ride-cancel").click()
    page.get_by_test_id("ride-cancel-confirm").click()
    expect(tracker).to_have_attribute("data-status", "cancelled")
    expect(page.get_by_test_id("ride-headline")).to_have_text("Ride cancelled")
    assert status(page) == "cancelled"

    page.get_by_test_id("history-open").click()
    items = page.get_by_test_id("history-item")
    expect(items.first).to_have_attribute("data-status", "cancelled")
    # The oldest ride is the first refusal.
    expect(items.last).to_have_attribute("data-status", "refused")
    expect(items.last).to_contain_text("outside the area")
    assert not problems, problems
