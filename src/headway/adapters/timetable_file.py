"""Headway's timetable file: a validated feed (with its stops' places on the road
network) as zlib-compressed msgpack behind a magic line and a version.

Loading it skips the CSV parsing and the validation: what was written was already a
``TransitFeed``. A file of another version is refused with a hint to import again.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import Any

import msgspec

from headway.domain.transit import FeedError, TransitFeed

MAGIC = b"HEADWAY-TIMETABLE\n"
VERSION = 1


class _File(msgspec.Struct):
    version: int
    meta: dict[str, Any]
    feed: TransitFeed


def save_timetable(
    feed: TransitFeed, path: str | os.PathLike[str], meta: dict[str, Any] | None = None
) -> Path:
    """Write atomically (a temporary file renamed over the target); returns the path."""
    target = Path(path)
    body = msgspec.msgpack.encode(_File(VERSION, dict(meta or {}), feed))
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(MAGIC + zlib.compress(body, 6))
    tmp.replace(target)
    return target


def load_timetable(path: str | os.PathLike[str]) -> tuple[TransitFeed, dict[str, Any]]:
    """The feed and the metadata it was saved with; FeedError when unreadable."""
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise FeedError(source, [f"cannot read the timetable file ({exc.strerror})"]) from None
    if not data.startswith(MAGIC):
        raise FeedError(
            source, ["not a Headway timetable file; write one with 'headway gtfs import'"]
        )
    try:
        decoded = msgspec.msgpack.decode(zlib.decompress(data[len(MAGIC) :]), type=_File)
    except (zlib.error, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise FeedError(
            source, [f"damaged or from another Headway version ({exc}); import the feed again"]
        ) from None
    if decoded.version != VERSION:
        raise FeedError(
            source, [f"timetable file version {decoded.version}, expected {VERSION}; import again"]
        )
    return decoded.feed, decoded.meta
