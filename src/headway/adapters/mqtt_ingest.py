"""The stack bridge's MQTT subscriber: MQTT 3.1.1, QoS 1 acknowledged only once what a
message produced is durable.

gmqtt acknowledges a QoS 1 message before its handler runs (it always does under
MQTT 3.1.1), so a message could be lost between the broker handing it over and Kafka
storing it. Here every QoS 1 message is tagged, after its handler ran, with the
producer's sequence (``position()``: how many records it had produced); ``release(n)``,
called when every record up to ``n`` is acknowledged by Kafka, sends the PUBACKs of the
messages tagged up to ``n``, in the order they were received (as MQTT asks), written
together in one go rather than one socket write each.

A message not acknowledged when the connection drops is delivered again by the broker
when the session is persistent (``clean_session=False``, a stable client id); with a
clean session the broker forgets it. Duplicates are harmless downstream: the processor
ignores what it already applied and history keeps one row per (vehicle, timestamp).

Only what the bridge needs: CONNECT, SUBSCRIBE, PUBLISH in (QoS 0 and 1), PUBACK out,
PINGREQ; reconnects with backoff (0.5 s doubling to 10 s), and counts them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from collections import deque
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

Handler = Callable[[str, bytes], None]

_CONNACK, _PUBLISH, _SUBACK, _UNSUBACK, _PINGRESP = 2, 3, 9, 11, 13
_PINGREQ = b"\xc0\x00"
_DISCONNECT = b"\xe0\x00"
RECONNECT_FIRST_S = 0.5
RECONNECT_MAX_S = 10.0


class MqttIngestError(Exception):
    """The broker refused the connection or a subscription; the message says which."""


def _text(value: str) -> bytes:
    raw = value.encode()
    return struct.pack("!H", len(raw)) + raw


def _packet(first: int, body: bytes) -> bytes:
    length, size = bytearray(), len(body)
    while True:
        digit, size = size % 128, size // 128
        length.append(digit | (0x80 if size else 0))
        if not size:
            break
    return bytes([first]) + bytes(length) + body


class _Protocol(asyncio.Protocol):
    def __init__(self, owner: MqttIngest) -> None:
        self._owner = owner
        self._buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.lost = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(exc)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        pos, end = 0, len(buffer)
        owner = self._owner
        while end - pos >= 2:
            # Remaining length: one to four bytes, seven bits each.
            length, shift, i, complete = 0, 0, pos + 1, False
            while i < end and i < pos + 5:
                byte = buffer[i]
                i += 1
                length |= (byte & 0x7F) << shift
                if not byte & 0x80:
                    complete = True
                    break
                shift += 7
            if not complete or i + length > end:
                break
            owner._packet(buffer[pos], bytes(buffer[i : i + length]))
            pos = i + length
        if pos:
            del buffer[:pos]


class MqttIngest:
    def __init__(
        self,
        host: str,
        port: int,
        subscriptions: Sequence[tuple[str, int]],
        handler: Handler,
        position: Callable[[], int],
        client_id: str,
        username: str | None = None,
        password: str | None = None,
        clean_session: bool = True,
        keepalive_s: int = 30,
        timeout_s: float = 10.0,
    ) -> None:
        self._host, self._port = host, port
        self._subscriptions = list(subscriptions)
        self._handler = handler
        self._position = position
        self._client_id = client_id
        self._username, self._password = username, password
        self._clean = clean_session
        self._keepalive = keepalive_s
        self._timeout = timeout_s
        self._protocol: _Protocol | None = None
        self._ready: asyncio.Future[None] | None = None
        self._unsubscribed: asyncio.Future[None] | None = None
        self.last_message_at = 0.0  # event loop time
        self._pending: deque[tuple[int, int]] = deque()  # (tag, packet id), as received
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self.received = 0
        self.acknowledged = 0
        self.reconnects = 0
        self.handler_errors = 0

    # -- wire ------------------------------------------------------------------------

    def _connect_packet(self) -> bytes:
        flags = 0x02 if self._clean else 0
        payload = _text(self._client_id)
        if self._username:
            flags |= 0x80
            payload += _text(self._username)
            if self._password:
                flags |= 0x40
                payload += _text(self._password)
        header = _text("MQTT") + bytes([4, flags]) + struct.pack("!H", self._keepalive)
        return _packet(0x10, header + payload)

    def _subscribe_packet(self) -> bytes:
        body = struct.pack("!H", 1)
        for topic, qos in self._subscriptions:
            body += _text(topic) + bytes([qos])
        return _packet(0x82, body)

    def _packet(self, first: int, body: bytes) -> None:
        kind = first >> 4
        if kind == _PUBLISH:
            qos = (first >> 1) & 0x03
            size = (body[0] << 8) | body[1]
            topic = body[2 : 2 + size].decode("utf-8", "replace")
            start = 2 + size
            mid = 0
            if qos:
                mid = (body[start] << 8) | body[start + 1]
                start += 2
            self.received += 1
            self.last_message_at = asyncio.get_running_loop().time()
            try:
                self._handler(topic, body[start:])
            except Exception:  # a bug in the handler must not stop the stream
                self.handler_errors += 1
                log.exception("mqtt ingest: handler failed on %s", topic)
            if qos:
                self._pending.append((self._position(), mid))
        elif kind == _CONNACK:
            if self._ready is not None and not self._ready.done():
                if body[1] != 0:
                    self._ready.set_exception(
                        MqttIngestError(f"broker refused the connection (return code {body[1]})")
                    )
                elif not self._subscriptions:
                    self._ready.set_result(None)
                elif self._protocol is not None and self._protocol.transport is not None:
                    self._protocol.transport.write(self._subscribe_packet())
        elif kind == _UNSUBACK:
            if self._unsubscribed is not None and not self._unsubscribed.done():
                self._unsubscribed.set_result(None)
        elif kind == _SUBACK:
            refused = [
                topic
                for (topic, _), code in zip(self._subscriptions, body[2:], strict=False)
                if code == 0x80
            ]
            if self._ready is not None and not self._ready.done():
                if refused:
                    self._ready.set_exception(
                        MqttIngestError(f"broker refused the subscriptions {refused}")
                    )
                else:
                    self._ready.set_result(None)

    # -- acknowledgements ------------------------------------------------------------

    def release(self, through: int) -> None:
        """Everything produced up to ``through`` is durable: acknowledge what it covers."""
        pending = self._pending
        if not pending or pending[0][0] > through:
            return
        acks = bytearray()
        while pending and pending[0][0] <= through:
            _, mid = pending.popleft()
            acks += b"\x40\x02" + mid.to_bytes(2, "big")
        self.acknowledged += len(acks) // 4
        protocol = self._protocol
        if protocol is not None and protocol.transport is not None:
            protocol.transport.write(bytes(acks))

    @property
    def unacknowledged(self) -> int:
        return len(self._pending)

    # -- lifecycle -------------------------------------------------------------------

    async def _open(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        _, protocol = await asyncio.wait_for(
            loop.create_connection(lambda: _Protocol(self), self._host, self._port),
            self._timeout,
        )
        self._pending.clear()  # the broker delivers again what the old session held
        self._protocol = protocol
        assert protocol.transport is not None
        protocol.transport.write(self._connect_packet())
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), self._timeout)
        except BaseException:
            protocol.transport.close()
            raise
        return protocol

    async def start(self) -> None:
        protocol = await self._open()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._supervise(protocol), name="mqtt-ingest"),
            loop.create_task(self._ping(), name="mqtt-ingest-ping"),
        ]

    async def _supervise(self, protocol: _Protocol) -> None:
        pause = RECONNECT_FIRST_S
        while not self._stopping:
            exc = await protocol.lost
            self._protocol = None
            self._pending.clear()  # these acknowledgements would go nowhere now
            if self._stopping:
                return
            log.warning("mqtt ingest: connection lost (%s); reconnecting", exc)
            while not self._stopping:
                await asyncio.sleep(pause)
                try:
                    protocol = await self._open()
                except (OSError, TimeoutError, MqttIngestError) as error:
                    self.reconnects += 1
                    pause = min(pause * 2, RECONNECT_MAX_S)
                    log.warning("mqtt ingest: reconnect failed (%s); next in %.1f s", error, pause)
                    continue
                self.reconnects += 1
                pause = RECONNECT_FIRST_S
                break

    async def _ping(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self._keepalive / 2)
            protocol = self._protocol
            if protocol is not None and protocol.transport is not None:
                protocol.transport.write(_PINGREQ)

    async def unsubscribe(self) -> None:
        """Ask for no more messages: the broker sends the rest of the share group's
        traffic to the other bridges, and this one finishes what it has taken."""
        protocol = self._protocol
        if protocol is None or protocol.transport is None:
            return
        self._unsubscribed = asyncio.get_running_loop().create_future()
        body = struct.pack("!H", 2) + b"".join(_text(topic) for topic, _ in self._subscriptions)
        protocol.transport.write(_packet(0xA2, body))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._unsubscribed, self._timeout)

    async def abort(self) -> None:
        """Drop the connection as a crash would: the session, if persistent, stays."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.abort()

    async def stop(self) -> None:
        """Disconnect. A persistent session is then ended too (a clean connect), so the
        broker stops keeping messages for it; call after everything taken is released,
        or what was not is lost with the session. A process that dies instead leaves
        the session for its successor of the same name."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        protocol = self._protocol
        if protocol is not None and protocol.transport is not None:
            protocol.transport.write(_DISCONNECT)
            protocol.transport.close()
        if not self._clean:
            self._clean = True
            try:
                protocol = await self._open_session_only()
            except (OSError, TimeoutError, MqttIngestError) as exc:
                log.warning("mqtt ingest: session %s not ended (%s)", self._client_id, exc)
                return
            assert protocol.transport is not None
            protocol.transport.write(_DISCONNECT)
            protocol.transport.close()

    async def _open_session_only(self) -> _Protocol:
        """Connect without subscribing (CONNACK only)."""
        subscriptions, self._subscriptions = self._subscriptions, []
        try:
            return await self._open()
        finally:
            self._subscriptions = subscriptions
