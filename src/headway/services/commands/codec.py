"""Command records to bytes and back (JSON), for stores that keep a record as a document
(the PostgreSQL adapter's ``jsonb`` column, a Redis hash) and for the contract tests."""

from __future__ import annotations

import msgspec

from headway.domain.commands import Command

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Command)


def encode_command(command: Command) -> bytes:
    return _encoder.encode(command)


def decode_command(data: bytes | str) -> Command:
    return _decoder.decode(data)
