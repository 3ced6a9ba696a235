"""One vehicle's MQTT link: a gmqtt client per connection, MQTT 3.1.1.

gmqtt reconnects on its own after any loss, with its own timing and log lines, and its
background reconnect task can outlive the event loop. The simulator needs to decide when
a vehicle comes back (an injected connection loss lasts a set time), so automatic
reconnects are switched off and each (re)connection gets a fresh client, which also
carries a fresh last will.

A link is ``up`` from CONNACK until it is aborted, closed or lost; ``on_lost`` tells
the fleet about losses it did not cause.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import gmqtt
from gmqtt.mqtt.constants import MQTTv311
from gmqtt.mqtt.handler import MQTTConnectError

from headway.contracts.vda5050 import topic
from headway.sim.errors import LinkError

_LOG = logging.getLogger("headway.sim.mqtt")
_WRITE_BACKLOG_LIMIT = 1 << 20
"""Bytes queued in a socket's send buffer past which QoS 0 messages are dropped."""


def quiet_gmqtt() -> None:
    """gmqtt logs every connection loss as a warning with a traceback; the simulator
    loses connections on purpose and counts them in its stats instead."""
    for name in ("gmqtt", _LOG.name):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < logging.ERROR:
            logger.setLevel(logging.ERROR)


class _ManualReconnectClient(gmqtt.Client):  # type: ignore[misc]
    async def reconnect(self, delay: bool = False) -> None:
        """Never reconnect by itself: the fleet decides when a vehicle comes back."""


class VehicleLink:
    def __init__(
        self,
        manufacturer: str,
        serial: str,
        host: str,
        port: int,
        keepalive_s: int,
        on_lost: Callable[[VehicleLink], None],
        login: tuple[str, str] | None = None,
    ) -> None:
        self.serial = serial
        self._login = login
        self.connection_topic = topic(manufacturer, serial, "connection")
        self._client_id = f"{manufacturer}-{serial}"
        self._host = host
        self._port = port
        self._keepalive = keepalive_s
        self._on_lost = on_lost
        self._client: Any = None
        self.up = False
        self.connecting = False
        self.failures = 0
        """Failed attempts since the last success; drives the reconnect backoff."""
        self.retry_at = 0.0
        """Loop time before which no reconnect is attempted."""

    async def connect(self, will: bytes, timeout_s: float) -> None:
        """Connect with ``will`` as retained QoS 1 last will; raises LinkError."""
        client = _ManualReconnectClient(
            self._client_id,
            clean_session=True,
            will_message=gmqtt.Message(self.connection_topic, will, qos=1, retain=True),
            logger=_LOG,
        )
        client.on_disconnect = self._lost
        if self._login is not None:
            client.set_auth_credentials(*self._login)
        self.connecting = True
        try:
            await asyncio.wait_for(
                client.connect(self._host, self._port, keepalive=self._keepalive, version=MQTTv311),
                timeout_s,
            )
        except (OSError, TimeoutError, MQTTConnectError) as exc:
            _abort(client)
            self.failures += 1
            raise LinkError(
                f"{self.serial}: cannot connect to MQTT broker {self._host}:{self._port} "
                f"({exc or type(exc).__name__}); is it running and reachable?"
            ) from exc
        except BaseException:
            _abort(client)
            raise
        finally:
            self.connecting = False
        self._client = client
        self.up = True
        self.failures = 0

    def publish(self, name: str, payload: bytes, qos: int = 0, retain: bool = False) -> bool:
        """Send one message on ``name`` (a full topic); False if it was not sent."""
        client = self._client
        if not self.up or client is None:
            return False
        connection = client._connection
        if qos == 0 and connection._transport.get_write_buffer_size() > _WRITE_BACKLOG_LIMIT:
            return False
        client.publish(gmqtt.Message(name, payload, qos=qos, retain=retain))
        return True

    def abort(self) -> None:
        """Drop the TCP connection without DISCONNECT: the broker sends the last will."""
        client, self._client = self._client, None
        self.up = False
        if client is not None:
            _abort(client)

    async def close(self, last: bytes | None, timeout_s: float) -> None:
        """Publish ``last`` (retained QoS 1) on the connection topic, then DISCONNECT."""
        client, self._client = self._client, None
        was_up, self.up = self.up, False
        if client is None or not was_up:
            return
        try:
            if last is not None:
                client.publish(gmqtt.Message(self.connection_topic, last, qos=1, retain=True))
                # The PUBACK proves the broker has it before DISCONNECT ends the session.
                await asyncio.wait_for(client._persistent_storage.wait_empty(), timeout_s)
            await asyncio.wait_for(client.disconnect(), timeout_s)
        except (OSError, TimeoutError):
            _abort(client)

    def _lost(self, client: Any, packet: Any, exc: BaseException | None = None) -> None:
        if client is not self._client:
            return
        self._client = None
        if self.up:
            self.up = False
            self._on_lost(self)


def _abort(client: Any) -> None:
    connection = client._connection
    if connection is None:
        return
    if connection._keep_connection_callback is not None:
        connection._keep_connection_callback.cancel()
    connection._transport.abort()


CommandHandler = Callable[[str, str, bytes], None]
"""(serial number, message name, payload)"""


class CommandInbox:
    """The fleet's one receiving client for ``order`` and ``instantActions``.

    One client with two wildcard subscriptions instead of one subscription per vehicle:
    the embedded broker (amqtt) matches every published message against every
    subscription filter in turn, and 2,000 more filters made each message seven times
    as expensive (measured: 0.13 to 0.9 ms). The fleet hands a message to a vehicle only
    while that vehicle's own link is up, so an offline vehicle misses what is sent
    meanwhile, as a real one would with a clean MQTT session.
    """

    def __init__(
        self,
        manufacturer: str,
        host: str,
        port: int,
        handler: CommandHandler,
        login: tuple[str, str] | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._handler = handler
        self._filters = [topic(manufacturer, "+", name) for name in ("order", "instantActions")]
        self._client = gmqtt.Client(f"{manufacturer}-inbox", logger=_LOG)
        self._client.set_config({"reconnect_retries": -1, "reconnect_delay": 1})
        if login is not None:
            self._client.set_auth_credentials(*login)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._subscribed = asyncio.Event()

    def _on_connect(self, client: Any, flags: int, rc: int, properties: Any) -> None:
        for name in self._filters:
            client.subscribe(name, qos=1)
        self._subscribed.set()

    def _on_message(self, client: Any, name: str, payload: bytes, qos: int, props: Any) -> int:
        parts = name.split("/")
        if len(parts) == 5:
            self._handler(parts[3], parts[4], payload)
        return 0

    async def start(self, timeout_s: float) -> None:
        try:
            await asyncio.wait_for(
                self._client.connect(self._host, self._port, keepalive=30, version=MQTTv311),
                timeout_s,
            )
            await asyncio.wait_for(self._subscribed.wait(), timeout_s)
        except (OSError, TimeoutError, MQTTConnectError) as exc:
            _abort(self._client)
            raise LinkError(
                f"command inbox: cannot connect to MQTT broker {self._host}:{self._port} "
                f"({exc or type(exc).__name__}); is it running and reachable?"
            ) from exc

    async def stop(self, timeout_s: float) -> None:
        self._client.set_config({"reconnect_retries": 0})
        try:
            await asyncio.wait_for(self._client.disconnect(), timeout_s)
        except (OSError, TimeoutError):
            _abort(self._client)
