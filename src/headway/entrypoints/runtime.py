"""Process-wide runtime tuning for long-running Headway processes.

CPython's cyclic garbage collector walks every tracked object in a full collection.
A process holding a thousand MQTT sessions, a road network and a fleet's states has
hundreds of thousands of them, and full collections measured 300–900 ms here: each one
a stall of the whole event loop, showing up directly as ingest latency. After start-up,
everything built so far is long-lived, so it is moved out of the collector's sight
(``gc.freeze``), and young collections run less often (a higher first threshold), so
the hot path's short-lived objects are collected in cheap, rare passes.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000


def settle_heap() -> None:
    """Call once the process has built its long-lived state (after start-up)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
