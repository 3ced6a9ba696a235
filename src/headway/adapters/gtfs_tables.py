"""The files of a GTFS feed as tables: a zip archive or a folder, CSV with a header,
required files and columns, and the field formats (times past midnight, dates).

Every problem goes to a ``Problems`` list with its file and line; the reader
(``gtfs_feed.py``) decides what a problem means for the feed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from headway.domain.transit import FeedError

MAX_PROBLEMS = 200
"""Stop collecting after this many: the first ones are what a user fixes first."""

REQUIRED_FILES = ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt")
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "agency.txt": ("agency_name", "agency_timezone"),
    "stops.txt": ("stop_id", "stop_lat", "stop_lon"),
    "routes.txt": ("route_id", "route_type"),
    "trips.txt": ("route_id", "service_id", "trip_id"),
    "stop_times.txt": ("trip_id", "stop_sequence", "arrival_time", "departure_time"),
    "calendar.txt": (
        "service_id",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "start_date",
        "end_date",
    ),
    "calendar_dates.txt": ("service_id", "date", "exception_type"),
    "shapes.txt": ("shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"),
    "frequencies.txt": ("trip_id", "start_time", "end_time", "headway_secs"),
}


class Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, text: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(text)

    @property
    def full(self) -> bool:
        return len(self.items) >= MAX_PROBLEMS


@dataclass
class Table:
    name: str
    columns: dict[str, int]
    rows: list[list[str]]

    def has(self, column: str) -> bool:
        return column in self.columns

    def records(self) -> Iterator[tuple[int, Row]]:
        """(line number in the file, row); the header is line 1."""
        for index, row in enumerate(self.rows):
            yield index + 2, Row(self.columns, row)


class Row:
    __slots__ = ("_columns", "_row")

    def __init__(self, columns: dict[str, int], row: list[str]) -> None:
        self._columns = columns
        self._row = row

    def get(self, column: str) -> str:
        i = self._columns.get(column)
        if i is None or i >= len(self._row):
            return ""
        return self._row[i].strip()


class FeedSource:
    """The files of a feed, from a zip archive or a folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._names: dict[str, str] = {}
        if path.is_dir():
            self._names = {p.name: str(p) for p in path.iterdir() if p.is_file()}
        elif path.is_file():
            try:
                self._zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise FeedError(
                    str(path), [f"not a zip archive or a folder of GTFS files ({exc})"]
                ) from None
            # Some producers put the files in a folder inside the archive.
            for info in self._zip.infolist():
                if not info.is_dir():
                    self._names.setdefault(info.filename.rsplit("/", 1)[-1], info.filename)
        else:
            raise FeedError(str(path), ["no such file or folder"])

    def __contains__(self, name: str) -> bool:
        return name in self._names

    def text(self, name: str) -> str:
        if self._zip is not None:
            data = self._zip.read(self._names[name])
        else:
            data = Path(self._names[name]).read_bytes()
        return data.decode("utf-8-sig")

    def files(self) -> list[str]:
        return sorted(self._names)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def read_table(source: FeedSource, name: str, problems: Problems) -> Table | None:
    try:
        text = source.text(name)
    except (UnicodeDecodeError, OSError, zipfile.BadZipFile, KeyError) as exc:
        problems.add(f"{name}: cannot be read as UTF-8 text ({exc})")
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        rows = [row for row in reader if row and any(cell.strip() for cell in row)]
    except csv.Error as exc:
        problems.add(f"{name}: not valid CSV ({exc})")
        return None
    if header is None:
        problems.add(f"{name}: empty; it needs at least a header line")
        return None
    columns = {column.strip(): i for i, column in enumerate(header)}
    missing = [c for c in REQUIRED_COLUMNS.get(name, ()) if c not in columns]
    if missing:
        problems.add(f"{name}: missing required column(s) {', '.join(missing)}")
        return None
    return Table(name, columns, rows)


def parse_time(text: str) -> int:
    """Seconds after midnight of the service day: '25:10:00' → 90600, '6:05:00' too.
    Raises ValueError."""
    parts = text.split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or not 1 <= len(parts[0]) <= 3:
        raise ValueError(text)
    hours, minutes, seconds = (int(p) for p in parts)
    if minutes > 59 or seconds > 59 or len(parts[1]) != 2 or len(parts[2]) != 2:
        raise ValueError(text)
    return hours * 3600 + minutes * 60 + seconds


def parse_date(text: str) -> dt.date:
    if len(text) != 8 or not text.isdigit():
        raise ValueError(text)
    return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
