"""Users kept in memory (the embedded profile creates its admin at start)."""

from __future__ import annotations

from headway.domain.users import User


class MemoryUserStore:
    def __init__(self) -> None:
        self._users: dict[str, User] = {}

    def get(self, username: str) -> User | None:
        return self._users.get(username)

    def put(self, user: User) -> None:
        self._users[user.username] = user
