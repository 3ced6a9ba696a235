"""Small GTFS feeds written by the tests: a valid one to start from, and ways to break it."""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path

# A two-way line A - B - C (five minutes a hop), a weekday service with a holiday off
# and a Sunday added, a night trip past midnight, and one block given by the feed.
VALID: dict[str, str] = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\n"
    "T,Test Transit,https://example.org,Europe/Berlin\n",
    "stops.txt": "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
    "A,Alpha,49.4100,8.6900,,\n"
    "B,Beta,49.4100,8.7000,,\n"
    "C,Gamma,49.4100,8.7100,,\n"
    "C2,Gamma other side,49.4101,8.7101,,\n",
    "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type\n"
    "L1,T,1,Alpha - Gamma,3\n",
    "trips.txt": "route_id,service_id,trip_id,direction_id,block_id,shape_id\n"
    "L1,WK,t1,0,,s1\n"
    "L1,WK,t2,1,,s1\n"
    "L1,WK,t3,0,,s1\n"
    "L1,WK,night,0,B9,\n"
    "L1,WK,night2,1,B9,\n",
    "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence,timepoint\n"
    "t1,08:00:00,08:00:00,A,1,1\n"
    "t1,,,B,2,0\n"
    "t1,08:10:00,08:10:00,C,3,1\n"
    "t2,08:15:00,08:15:00,C2,1,1\n"
    "t2,08:20:00,08:21:00,B,2,1\n"
    "t2,08:26:00,08:26:00,A,3,1\n"
    "t3,08:30:00,08:30:00,A,1,1\n"
    "t3,08:35:00,08:35:00,B,2,1\n"
    "t3,08:40:00,08:40:00,C,3,1\n"
    "night,24:50:00,24:50:00,A,1,1\n"
    "night,25:10:00,25:10:00,C,2,1\n"
    "night2,25:20:00,25:20:00,C,1,1\n"
    "night2,25:40:00,25:40:00,A,2,1\n",
    "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
    "start_date,end_date\n"
    "WK,1,1,1,1,1,0,0,20240101,20240131\n",
    "calendar_dates.txt": "service_id,date,exception_type\nWK,20240101,2\nWK,20240107,1\n",
    "shapes.txt": "shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence\n"
    "s1,49.41,8.69,1\ns1,49.41,8.71,2\n",
}


def write_zip(path: Path, files: Mapping[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def write_folder(path: Path, files: Mapping[str, str]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (path / name).write_text(text, encoding="utf-8")
    return path


def changed(**files: str | None) -> dict[str, str]:
    """VALID with some files replaced (or removed, with None). Names use _ for dots:
    changed(stops_txt=...)."""
    out = dict(VALID)
    for key, text in files.items():
        name = key.replace("_txt", ".txt")
        if text is None:
            out.pop(name, None)
        else:
            out[name] = text
    return out
