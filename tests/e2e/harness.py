"""The pieces of a whole-system run: a real `headway demo` process and Debian's Chromium.

The browser is never downloaded: Playwright drives /usr/bin/chromium (installed by
`make browser`). Chromium has no GPU here, so WebGL comes from SwiftShader, ANGLE's
software renderer; MapLibre needs WebGL to draw anything.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "var" / "screenshots"

# Headless, sandbox-free (tests run as root), no calls home (the network is closed, and
# chromium's background connections would only fail), software WebGL via SwiftShader.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

DEMO_START_TIMEOUT_S = 90.0


@dataclass
class Demo:
    url: str
    username: str
    password: str
    vehicles: int
    output: list[str] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _admin_user(output: list[str]) -> str | None:
    """The demo prints `log in as USER / PASSWORD`; the password is the one we gave it."""
    for line in list(output):
        found = re.search(r"log in as (\S+) /", line)
        if found:
            return found.group(1)
    return None


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "healthz", timeout=2) as r:
            return bool(r.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def running_demo(workdir: Path, vehicles: int, seed: int) -> Iterator[Demo]:
    """`headway demo` on a free port, started as a user would start it."""
    headway = Path(sys.executable).parent / "headway"
    port = _free_port()
    password = secrets.token_urlsafe(12)
    env = {**os.environ, "HEADWAY_ADMIN_PASSWORD": password, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            str(headway),
            "demo",
            "--vehicles",
            str(vehicles),
            "--port",
            str(port),
            "--seed",
            str(seed),
        ],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    d = Demo(f"http://127.0.0.1:{port}/", "admin", password, vehicles)
    assert proc.stdout is not None
    stdout = proc.stdout
    reader = threading.Thread(target=lambda: d.output.extend(stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + DEMO_START_TIMEOUT_S
        # Up means: the API answers and the demo has printed its admin login.
        while not (_admin_user(d.output) and _healthy(d.url)):
            if proc.poll() is not None:
                pytest.fail(f"headway demo exited with {proc.returncode}:\n{''.join(d.output)}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"headway demo not up after {DEMO_START_TIMEOUT_S}s:\n" + "".join(d.output)
                )
            time.sleep(0.2)
        d.username = _admin_user(d.output) or d.username
        yield d
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        reader.join(timeout=5)
        stdout.close()
