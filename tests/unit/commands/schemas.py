"""The official VDA 5050 2.1.0 JSON schemas, as validators (with date-time checked)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import FormatChecker
from jsonschema.validators import validator_for

SCHEMAS = Path(__file__).resolve().parents[3].parent / "shared/data/schemas/vda5050/2.1.0"
_RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


@cache
def validator(name: str) -> Any:
    checker = FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def is_datetime(value: object) -> bool:
        if not isinstance(value, str) or not _RFC3339.match(value):
            return False
        datetime.fromisoformat(value)
        return True

    schema = json.loads((SCHEMAS / f"{name}.schema").read_text())
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=checker)


def problems(name: str, payload: bytes | dict[str, Any]) -> list[str]:
    """Schema violations of one message (``order``, ``instantActions``, ``state``...)."""
    body = json.loads(payload) if isinstance(payload, bytes) else payload
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator(name).iter_errors(body)]
