"""Fixtures for the dial-a-ride tests: the Cordeau benchmark files."""

from __future__ import annotations

from pathlib import Path

import pytest

from headway.optimizer.darp import CordeauInstance, read_instance

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "bench-data" / "cordeau-2006-darp"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA / "a2-16.txt").exists():
        pytest.fail(f"benchmark files not found in {DATA}: the tests read ../shared")
    return DATA


@pytest.fixture(scope="session")
def a2_16(data_dir: Path) -> CordeauInstance:
    return read_instance(data_dir / "a2-16.txt")
