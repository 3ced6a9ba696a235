"""Reading a solution file for the verifier: the JSON that ``headway darp solve --json``
prints (its last JSON line, if the file holds more output), or a bare list of routes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from headway.optimizer.darp.errors import InvalidSolutionError


def read_routes(path: str | Path) -> tuple[list[list[Any]], float | None]:
    """(routes, claimed cost or None). Node ids are checked by the verifier, not here."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidSolutionError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidSolutionError(f"{path}: cannot read it as text ({exc})") from None
    document = _last_json(text)
    if document is None:
        raise InvalidSolutionError(
            f'{path}: no JSON found; expected {{"routes": [[0, ...], ...]}} or a list of routes'
        )
    claimed = None
    if isinstance(document, dict):
        cost = document.get("cost")
        claimed = float(cost) if isinstance(cost, int | float) else None
        document = document.get("routes")
    if not isinstance(document, list) or not all(isinstance(route, list) for route in document):
        raise InvalidSolutionError(f"{path}: 'routes' must be a list of lists of node ids")
    return document, claimed


def _last_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith(("{", "[")):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return None
