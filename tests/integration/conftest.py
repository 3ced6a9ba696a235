"""Fixtures for tests against the real services that `scripts/stack` runs.

`stack` makes sure the stack is up (`scripts/stack up` is a no-op when it already is)
and hands out its connection settings. The services are shared by every test and every
run: tests isolate by unique names (topics, consumer groups, key prefixes, schemas),
never by cleaning up after themselves.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "scripts" / "stack"


@dataclass(frozen=True)
class Stack:
    """Where the stack's services listen, and the platform's logins to them."""

    dir: Path
    database_url: str  # postgresql://headway:…@127.0.0.1:55432/headway (PostGIS installed)
    redis_url: str  # redis://:…@127.0.0.1:56379/0
    kafka_bootstrap: str  # 127.0.0.1:59092
    mqtt_host: str
    mqtt_port: int  # plain MQTT, loopback
    mqtt_tls_port: int  # MQTT over TLS, server certificate from the stack's CA
    mqtt_username: str  # the platform's login: every uagv/# topic
    mqtt_password: str
    mqtt_ca_file: Path

    def headway_env(self, prefix: str, **extra: str) -> dict[str, str]:
        """The environment of a `headway run …` process on this stack, with its Kafka
        topics and group, and its Redis keys, under ``prefix`` (isolation by name)."""
        return dict(
            os.environ,
            HEADWAY_KAFKA_BOOTSTRAP=self.kafka_bootstrap,
            HEADWAY_KAFKA_TOPIC_PREFIX=f"{prefix}.",
            HEADWAY_REDIS_URL=self.redis_url,
            HEADWAY_REDIS_PREFIX=f"{prefix}:",
            HEADWAY_DATABASE_URL=self.database_url,
            HEADWAY_MQTT_HOST=self.mqtt_host,
            HEADWAY_STACK_MQTT_PORT=str(self.mqtt_port),
            HEADWAY_MQTT_USERNAME=self.mqtt_username,
            HEADWAY_MQTT_PASSWORD=self.mqtt_password,
            HEADWAY_OFFLINE_AFTER_S="3600",
            **extra,
        )

    def add_vehicle(self, manufacturer: str, serial: str) -> str:
        """An MQTT login for one vehicle (username `manufacturer/serial`); its password."""
        out = run_stack("add-vehicle", manufacturer, serial)
        return out.splitlines()[-1].removeprefix("password=")


def run_stack(*args: str, timeout: float = 1200) -> str:
    r = subprocess.run(
        [str(STACK), *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if r.returncode != 0:
        pytest.fail(f"`scripts/stack {' '.join(args)}` failed:\n{r.stdout}{r.stderr}")
    return r.stdout


@pytest.fixture(scope="session")
def stack() -> Stack:
    run_stack("up")
    env = json.loads(run_stack("env", "--json"))
    return Stack(
        dir=Path(env["stack_dir"]),
        database_url=env["database_url"],
        redis_url=env["redis_url"],
        kafka_bootstrap=env["kafka_bootstrap"],
        mqtt_host=env["mqtt_host"],
        mqtt_port=int(env["stack_mqtt_port"]),
        mqtt_tls_port=int(env["mqtt_tls_port"]),
        mqtt_username=env["mqtt_username"],
        mqtt_password=env["mqtt_password"],
        mqtt_ca_file=Path(env["mqtt_ca_file"]),
    )


@pytest.fixture
def unique() -> str:
    """A fresh name part for this test's topics, groups, keys and schemas."""
    return f"t{uuid.uuid4().hex[:12]}"
