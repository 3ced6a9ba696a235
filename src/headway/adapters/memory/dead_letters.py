"""Dead letters kept in memory: a bounded list of the newest plus counts by reason."""

from __future__ import annotations

from collections import Counter, deque

from headway.contracts.events import DeadLetter


class MemoryDeadLetters:
    def __init__(self, keep: int = 1000) -> None:
        self._recent: deque[DeadLetter] = deque(maxlen=keep)
        self._counts: Counter[str] = Counter()

    def add(self, letter: DeadLetter) -> None:
        self._recent.append(letter)
        self._counts[letter.reason] += 1

    async def counts(self) -> dict[str, int]:
        return dict(self._counts)

    async def recent(self, limit: int) -> list[DeadLetter]:
        return list(self._recent)[-limit:][::-1]
