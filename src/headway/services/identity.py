"""Who is calling: password checks (Argon2id) and signed access tokens (JWT, HS256).

Errors:
AuthError
 ├── BadCredentials   wrong user name or password
 └── BadToken         missing, malformed, badly signed or expired token
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from headway.domain.errors import HeadwayError
from headway.domain.users import Role, User

ISSUER = "headway"
CLOCK_LEEWAY_S = 30.0


class AuthError(HeadwayError):
    reason = "auth"


class BadCredentials(AuthError):
    reason = "bad_credentials"


class BadToken(AuthError):
    reason = "bad_token"


class UserExists(AuthError):
    pass


class UserStore(Protocol):
    def get(self, username: str) -> User | None: ...

    def put(self, user: User) -> None: ...


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    role: Role
    expires_at: float


class Identity:
    def __init__(
        self,
        users: UserStore,
        secret: str,
        ttl_s: int = 3600,
        clock: Callable[[], float] = time.time,
        hasher: PasswordHasher | None = None,
    ) -> None:
        if len(secret.encode()) < 32:
            raise ValueError("the token secret must have at least 32 bytes (HS256 key length)")
        self._users = users
        self._secret = secret
        self._ttl = ttl_s
        self._clock = clock
        self._hasher = hasher or PasswordHasher()
        # Verifying against a dummy hash for unknown users keeps timing the same for both.
        self._dummy = self._hasher.hash("not-a-real-password")

    @property
    def ttl_s(self) -> int:
        return self._ttl

    def add_user(self, username: str, password: str, role: Role) -> User:
        user = User(username, role, self._hasher.hash(password))
        self._users.put(user)
        return user

    def sign_up(self, username: str, password: str, role: Role) -> User:
        """A new account; raises UserExists if the name is taken."""
        if self._users.get(username) is not None:
            raise UserExists(f"the user name {username!r} is taken; choose another")
        return self.add_user(username, password, role)

    def authenticate(self, username: str, password: str) -> User:
        user = self._users.get(username)
        try:
            self._hasher.verify(user.password_hash if user else self._dummy, password)
        except (VerificationError, InvalidHashError):
            raise BadCredentials("wrong user name or password") from None
        if user is None:
            raise BadCredentials("wrong user name or password")
        return user

    def issue(self, subject: str, role: Role, ttl_s: int | None = None) -> str:
        now = int(self._clock())
        claims = {
            "sub": subject,
            "role": role.value,
            "iss": ISSUER,
            "iat": now,
            "exp": now + (self._ttl if ttl_s is None else ttl_s),
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                issuer=ISSUER,
                # Times are checked below against this service's clock.
                options={
                    "require": ["sub", "exp", "iat", "iss"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise BadToken(f"invalid token: {exc}") from None
        now = self._clock()
        if float(claims["exp"]) <= now:
            raise BadToken("token expired: log in again")
        if float(claims["iat"]) > now + CLOCK_LEEWAY_S:
            raise BadToken("token issued in the future: check the clocks")
        try:
            role = Role(str(claims.get("role")))
        except ValueError:
            raise BadToken("token carries no valid role") from None
        return Principal(str(claims["sub"]), role, float(claims["exp"]))
