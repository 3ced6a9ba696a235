"""MQTT sending side of the platform (gmqtt): VDA 5050 ``order`` and ``instantActions``
to vehicles, QoS 1. The commander's ``CommandLink`` for the embedded broker and for
Mosquitto alike.

QoS 1 makes the broker take each message over; whether the vehicle got it is read
from its ``state``, never assumed. While the broker is unreachable ``send`` raises
LinkDown at once rather than buffering: the commander owns retries and expiry, and a
message buffered here could reach a vehicle after its command expired.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import gmqtt
from gmqtt.mqtt.constants import MQTTv311

from headway.contracts.vda5050 import topic
from headway.services.ports import LinkDown

COMMAND_MESSAGES = ("order", "instantActions")


class GmqttCommandLink:
    def __init__(
        self,
        host: str,
        port: int,
        client_id: str | None = None,
        username: str | None = None,
        password: str | None = None,
        qos: int = 1,
    ) -> None:
        self._host = host
        self._port = port
        self._qos = qos
        self._client = gmqtt.Client(client_id or f"headway-commander-{uuid.uuid4().hex[:8]}")
        self._client.set_config({"reconnect_retries": -1, "reconnect_delay": 1})
        if username:
            self._client.set_auth_credentials(username, password)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._up = False
        self.sent = 0
        logging.getLogger("gmqtt").setLevel(logging.ERROR)

    @property
    def up(self) -> bool:
        return self._up

    def _on_connect(self, client: Any, flags: int, rc: int, properties: Any) -> None:
        self._up = True

    def _on_disconnect(self, client: Any, packet: Any, exc: BaseException | None = None) -> None:
        self._up = False

    async def start(self, timeout_s: float = 10.0) -> None:
        await asyncio.wait_for(
            self._client.connect(self._host, self._port, version=MQTTv311, keepalive=30),
            timeout_s,
        )
        self._up = True

    async def stop(self) -> None:
        self._client.set_config({"reconnect_retries": 0})
        self._up = False
        await self._client.disconnect()

    async def send(self, manufacturer: str, serial: str, message: str, payload: bytes) -> None:
        if message not in COMMAND_MESSAGES:
            raise ValueError(f"not a command message: {message!r}; use {COMMAND_MESSAGES}")
        if not self._up:
            raise LinkDown(f"MQTT broker {self._host}:{self._port} is not connected")
        self._client.publish(topic(manufacturer, serial, message), payload, qos=self._qos)
        self.sent += 1
