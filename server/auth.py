"""Passwords (argon2), tokens (HS256 JWT) and login throttling."""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from domain.commands import Actor
from server.settings import ServerSettings

ROLES = ("operator", "therapist", "driver")
VERIFIED_MAX = 10_000  # verified tokens remembered at most (Tokens.actor)


class AuthError(Exception):
    def __init__(self, message: str, code: str = "unauthorized") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class Passwords:
    def __init__(self, settings: ServerSettings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.password_time_cost,
            memory_cost=settings.password_memory_kib,
            parallelism=1,
        )
        # Verifying against this when the username is unknown costs the same
        # time as a real check, so timing doesn't reveal which usernames exist.
        self._decoy = self._hasher.hash(uuid.uuid4().hex)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored or self._decoy, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False


class Tokens:
    def __init__(self, settings: ServerSettings) -> None:
        self._key = settings.secret_key
        self._ttl = settings.token_ttl
        # Tokens already verified → (actor, expiry): a client sends the same
        # token with every command, and PyJWT's decode was ~5 % of the
        # server's CPU under load. Only verified tokens get in, each only
        # until its own `exp`.
        self._verified: dict[str, tuple[Actor, float]] = {}

    def issue(self, user_id: str, role: str, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        claims = {"sub": user_id, "role": role, "iat": issued, "exp": issued + self._ttl}
        return jwt.encode(claims, self._key, algorithm="HS256")

    def actor(self, token: str | None) -> Actor:
        """The actor a token names; AuthError when missing, expired or tampered."""
        if not token:
            raise AuthError("Please sign in.")
        known = self._verified.get(token)
        if known is not None and known[1] > time.time():
            return known[0]
        try:
            claims = jwt.decode(token, self._key, algorithms=["HS256"],
                                options={"require": ["sub", "exp", "role"]})
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("Your session has expired. Please sign in again.",
                            "token_expired") from exc
        except (jwt.PyJWTError, ValueError) as exc:  # ValueError: undecodable text
            raise AuthError("Your sign-in is not valid. Please sign in again.",
                            "invalid_token") from exc
        role = claims.get("role")
        sub = claims.get("sub")
        if role not in ROLES or not isinstance(sub, str):
            raise AuthError("Your sign-in is not valid. Please sign in again.", "invalid_token")
        actor = Actor(id=sub, role=role)
        if len(self._verified) >= VERIFIED_MAX:
            self._verified.clear()
        self._verified[token] = (actor, float(claims["exp"]))
        return actor


@dataclass
class _Failures:
    count: int = 0
    blocked_until: float = 0.0


MAX_TRACKED = 100_000  # (username, ip) pairs remembered at most


class LoginThrottle:
    """Per (username, ip): the first few failures are free, then each attempt
    must wait twice as long as the last (capped). A success clears it."""

    def __init__(self, settings: ServerSettings) -> None:
        self._free = settings.login_free_failures
        self._cap = settings.login_max_delay
        self._state: dict[tuple[str, str], _Failures] = {}

    def retry_after(self, username: str, ip: str, now: float | None = None) -> int:
        """Seconds to wait before another attempt is heard (0: go ahead)."""
        state = self._state.get((username.lower(), ip))
        t = now if now is not None else time.monotonic()
        if state is None or state.blocked_until <= t:
            return 0
        return max(1, math.ceil(state.blocked_until - t))

    def failed(self, username: str, ip: str, now: float | None = None) -> None:
        t = now if now is not None else time.monotonic()
        key = (username.lower(), ip)
        # Re-inserted at the end: the dict's order is least recently failed first.
        state = self._state.pop(key, None) or _Failures()
        self._state[key] = state
        state.count += 1
        over = state.count - self._free
        if over > 0:
            state.blocked_until = t + min(self._cap, float(2 ** (over - 1)))
        if len(self._state) > MAX_TRACKED:
            self._evict(t)

    def _evict(self, now: float) -> None:
        """Bounded memory under a username spray, without lifting live blocks:
        forget the least recently failed entries that block nothing now."""
        keep = MAX_TRACKED * 9 // 10
        for key in list(self._state):
            if len(self._state) <= keep:
                return
            if self._state[key].blocked_until <= now:
                del self._state[key]
        for key in list(self._state)[: len(self._state) - keep]:
            del self._state[key]  # every entry blocks: drop the oldest blocks

    def succeeded(self, username: str, ip: str) -> None:
        self._state.pop((username.lower(), ip), None)
