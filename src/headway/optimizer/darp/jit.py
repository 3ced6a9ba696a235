"""The one door to numba: a typed ``njit`` so mypy keeps the signatures it decorates.

Kernels compile on first call and are cached on disk next to their module, so only the
first run on a machine pays for compilation (about 10 s for the whole solver).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba

F = TypeVar("F", bound=Callable[..., Any])


def njit(function: F) -> F:
    """Compile ``function`` in nopython mode, cached, with the GIL released."""
    return cast(F, numba.njit(cache=True, nogil=True)(function))
