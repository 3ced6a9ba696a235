"""`headway up` runs the stack profile's processes, serves the API, and restarts a
process that dies."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from headway.adapters.amqtt_broker import free_port
from tests.integration.conftest import ROOT, Stack

pytestmark = pytest.mark.integration


def test_up_serves_and_restarts_a_killed_process(stack: Stack, unique: str, tmp_path: Path) -> None:
    port = free_port()
    env = stack.headway_env(unique, HEADWAY_HTTP_PORT=str(port))
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        up = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "headway.entrypoints.cli",
                "up",
                "--no-services",
                "--processors",
                "1",
            ],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        ready = f"http://127.0.0.1:{port}/readyz"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(ready, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"the API never became ready:\n{log_path.read_text()[-3000:]}")
        deadline = time.monotonic() + 30
        children = psutil.Process(up.pid).children()
        # bridge, processor, api, commander, dispatcher
        while len(children) != 5 and time.monotonic() < deadline:
            time.sleep(0.3)
            children = psutil.Process(up.pid).children()
        assert len(children) == 5, log_path.read_text()[-3000:]
        processor = next(c for c in children if "processor" in " ".join(c.cmdline()))
        processor.send_signal(signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            live = [c for c in psutil.Process(up.pid).children() if c.is_running()]
            names = [" ".join(c.cmdline()) for c in live if c.status() != psutil.STATUS_ZOMBIE]
            if sum("processor" in n for n in names) == 1 and processor.pid not in {
                c.pid for c in live
            }:
                break
            time.sleep(0.3)
        else:
            pytest.fail(f"the processor was not restarted:\n{log_path.read_text()[-3000:]}")
        assert "restarting processor-1" in log_path.read_text()
    finally:
        up.send_signal(signal.SIGTERM)
        assert up.wait(timeout=60) == 0
    assert psutil.pid_exists(up.pid) is False
