"""Operator controls on the live map: command a vehicle and watch each command's status
change live, in a real browser against a running demo."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Locator, Page, expect

from .harness import SCREENSHOTS, Demo

pytestmark = pytest.mark.e2e

VIEWPORT = {"width": 1400, "height": 860}


def sign_in(page: Page, demo: Demo) -> None:
    page.goto(demo.url)
    page.get_by_test_id("login-username").fill(demo.username)
    page.get_by_test_id("login-password").fill(demo.password)
    page.get_by_test_id("login-submit").click()
    page.wait_for_function(
        "(n) => window.__headway && window.__headway.vehicles === n", arg=demo.vehicles
    )


def latest(page: Page, kind: str) -> Locator:
    """The newest command of ``kind`` in the panel's list."""
    return page.locator(f'[data-testid="command-item"][data-kind="{kind}"]').first


def test_an_operator_holds_pauses_and_resumes_a_vehicle(
    demo_server: Demo, chromium: Browser
) -> None:
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
        sign_in(page, demo_server)
        vid = page.evaluate("() => window.__headway.ids().sort()[0]")
        page.evaluate("(id) => window.__headway.select(id)", vid)
        panel = page.get_by_test_id("vehicle-panel")
        expect(panel).to_have_attribute("data-vehicle-id", vid)
        controls = page.get_by_test_id("command-controls")
        expect(controls).to_be_visible()

        page.get_by_test_id("command-pause").click()
        pause = latest(page, "pause")
        expect(pause.get_by_test_id("command-status")).to_have_text("done")

        page.get_by_test_id("command-resume").click()
        resume = latest(page, "resume")
        expect(resume.get_by_test_id("command-status")).to_have_text("done")

        page.get_by_test_id("command-hold-seconds").fill("30")
        page.get_by_test_id("command-hold").click()
        hold = latest(page, "hold")
        expect(hold).to_contain_text("Hold 30 s")
        expect(hold.get_by_test_id("command-status")).to_have_text(
            re.compile("acknowledged|running|done")
        )

        # The statuses came from the server: read the same commands back through the API.
        ids = pause.get_attribute("data-command-id"), resume.get_attribute("data-command-id")
        statuses = page.evaluate(
            """async (ids) => {
                 const token = JSON.parse(sessionStorage.getItem('headway.session')).token;
                 const get = async (id) => (await fetch('/api/v1/commands/' + id,
                   {headers: {Authorization: 'Bearer ' + token}})).json();
                 return Promise.all(ids.map(async (id) => (await get(id)).status));
               }""",
            list(ids),
        )
        assert statuses == ["done", "done"]

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "operator-controls.png"))
        assert not problems, problems
    finally:
        page.close()
