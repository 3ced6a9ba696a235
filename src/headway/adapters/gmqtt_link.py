"""MQTT client side of the platform (gmqtt): subscribe to vehicle topics, hand messages on.

Used by the bridge against the embedded broker and against Mosquitto alike.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import gmqtt
from gmqtt.mqtt.constants import MQTTv311

MessageHandler = Callable[[str, bytes], None]


class GmqttSubscriber:
    def __init__(
        self,
        host: str,
        port: int,
        subscriptions: Sequence[tuple[str, int]],
        handler: MessageHandler,
        client_id: str | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._subscriptions = list(subscriptions)
        self._handler = handler
        self._client = gmqtt.Client(client_id or f"headway-bridge-{uuid.uuid4().hex[:8]}")
        self._client.set_config({"reconnect_retries": -1, "reconnect_delay": 1})
        if username:
            self._client.set_auth_credentials(username, password)
        self._client.on_message = self._on_message
        self._client.on_connect = self._on_connect
        self._subscribed = asyncio.Event()
        logging.getLogger("gmqtt").setLevel(logging.ERROR)

    def _on_connect(self, client: Any, flags: int, rc: int, properties: Any) -> None:
        for topic, qos in self._subscriptions:
            client.subscribe(topic, qos=qos)
        self._subscribed.set()

    def _on_message(
        self, client: Any, topic: str, payload: bytes, qos: int, properties: Any
    ) -> int:
        self._handler(topic, payload)
        return 0

    async def start(self, timeout_s: float = 10.0) -> None:
        await asyncio.wait_for(
            self._client.connect(self._host, self._port, version=MQTTv311, keepalive=30),
            timeout_s,
        )
        await asyncio.wait_for(self._subscribed.wait(), timeout_s)

    async def stop(self) -> None:
        self._client.set_config({"reconnect_retries": 0})
        await self._client.disconnect()
