"""The embedded profile's MQTT broker: amqtt, running inside the Headway process.

Vehicles (and the simulator) connect to it over real TCP with the real MQTT 3.1.1
protocol, so the ingest path is the same as against Mosquitto in the stack profile.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from amqtt.broker import Broker


class _Broker(Broker):  # type: ignore[misc]
    """amqtt's broker with one fix: retained messages go only to their subscribers.

    amqtt 0.12 replays, to every client that connects, the retained messages matching
    *any* client's subscription (it means to do so only for a resumed session's own
    subscriptions). With the bridge subscribed to every vehicle's retained
    ``connection`` and ``factsheet`` topics, each vehicle that connected got every
    earlier vehicle's retained messages: quadratic in the fleet, about a million
    useless deliveries for 1,000 vehicles, and minutes of start-up.
    """

    async def _publish_retained_messages_for_subscription(
        self, subscription: tuple[str, int], session: Any
    ) -> None:
        subscribers = self._subscriptions.get(subscription[0], ())
        if any(s.client_id == session.client_id for s, _ in subscribers):
            await super()._publish_retained_messages_for_subscription(subscription, session)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


class AmqttEmbeddedBroker:
    """Start/stop wrapper; ``port=0`` picks a free port, readable after ``start``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, max_connections: int = 20000):
        self.host = host
        self.port = port or free_port(host)
        self._max_connections = max_connections
        self._broker: Any = None

    @property
    def running(self) -> bool:
        return self._broker is not None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    async def start(self) -> None:
        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(logging.ERROR)
        config = {
            "listeners": {
                "default": {
                    "type": "tcp",
                    "bind": f"{self.host}:{self.port}",
                    "max_connections": self._max_connections,
                }
            },
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
            },
        }
        self._broker = _Broker(config)
        await self._broker.start()

    async def stop(self) -> None:
        if self._broker is not None:
            await self._broker.shutdown()
            self._broker = None
