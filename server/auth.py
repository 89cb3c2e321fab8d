"""Passwords (argon2), tokens (HS256 JWT) and login throttling."""

from __future__ import annotations

import bisect
import hashlib
import hmac
import math
import secrets
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jwt
from argon2 import Parameters, PasswordHasher, Type, extract_parameters
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
    """Hashing and checking passwords without telling usernames apart.

    A wrong password for a real user costs one argon2 check with the
    parameters its stored hash was made with; for an unknown username, one
    check of a decoy made with parameters in use too. Which set, when stored
    hashes differ (the cost settings changed, users imported from elsewhere),
    is drawn by the username's keyed hash, weighted by how many stored hashes
    use each: the same name always costs the same, and unknown names cost
    what real ones do, in the same proportions. A successful sign-in rehashes
    a hash made with other parameters than today's (`needs_rehash`), so the
    mix converges on today's settings."""

    def __init__(self, settings: ServerSettings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.password_time_cost,
            memory_cost=settings.password_memory_kib,
            parallelism=1,
        )
        self._current = _key(extract_parameters(self._hasher.hash("")))
        self._decoys: dict[_Params, str] = {}
        self._in_use: Counter[_Params] = Counter()
        self._salt = secrets.token_bytes(16)  # keys the username → decoy draw

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def needs_rehash(self, stored: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored)
        except (InvalidHashError, ValueError):
            return False

    def in_use(self, stored: Iterable[str]) -> None:
        """The stored hashes now (all of them): which parameter sets decoys use."""
        counts: Counter[_Params] = Counter()
        for h in stored:
            try:
                counts[_key(extract_parameters(h))] += 1
            except (InvalidHashError, ValueError):
                continue
        self._in_use = counts

    def against(self, stored: str | None, username: str) -> str:
        """The hash a sign-in as `username` is checked against: the stored one,
        or (unknown username) the decoy of a parameter set in use."""
        if stored is not None:
            return stored
        params = self._decoy_parameters(username)
        decoy = self._decoys.get(params)
        if decoy is None:
            decoy = _hasher_of(params).hash(uuid.uuid4().hex)
            self._decoys[params] = decoy
        return decoy

    def _decoy_parameters(self, username: str) -> _Params:
        sets = sorted(self._in_use.items())
        if not sets:
            return self._current
        cumulative: list[int] = []
        total = 0
        for _, count in sets:
            total += count
            cumulative.append(total)
        digest = hmac.new(self._salt, username.lower().encode(), hashlib.sha256).digest()
        draw = int.from_bytes(digest[:8], "big") % total
        return sets[bisect.bisect_right(cumulative, draw)][0]

    def verify(self, stored: str | None, password: str, username: str = "") -> bool:
        try:
            return (self._hasher.verify(self.against(stored, username), password)
                    and stored is not None)
        except (VerificationError, InvalidHashError):
            return False


# An argon2 parameter set as a dict key (argon2's Parameters isn't hashable):
# (type, version, salt_len, hash_len, time_cost, memory_cost, parallelism).
_Params = tuple[int, int, int, int, int, int, int]


def _key(p: Parameters) -> _Params:
    return (int(p.type.value), p.version, p.salt_len, p.hash_len, p.time_cost, p.memory_cost,
            p.parallelism)


def _hasher_of(k: _Params) -> PasswordHasher:
    type_, _version, salt_len, hash_len, time_cost, memory_cost, parallelism = k
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost,
                          parallelism=parallelism, hash_len=hash_len, salt_len=salt_len,
                          type=Type(type_))


def token_key(token: str) -> str:
    """What the database keeps of a token that outlives its generation."""
    return hashlib.sha256(token.encode()).hexdigest()


def expired() -> AuthError:
    return AuthError("Your session has expired. Please sign in again.", "token_expired")


@dataclass(frozen=True)
class Session:
    """What a verified token says: who, which of their token generations, until when."""

    actor: Actor
    generation: int
    expires: float  # epoch seconds
    # sha256 of the token: the session a password change keeps (server.accounts)
    key: str = ""


class Tokens:
    """HS256 tokens signed with `secret_key`; during a key rotation, tokens
    signed with one of `previous_secret_keys` are still accepted until they
    expire (new ones are signed with the new key only). A token carries its
    account's generation (`gen`): a password reset moves the account to the
    next one, and every older token is refused (server.accounts)."""

    def __init__(self, settings: ServerSettings) -> None:
        self._key = settings.secret_key
        self._keys = (settings.secret_key, *settings.previous_secret_keys)
        self._ttl = settings.token_ttl
        # Tokens already verified → their session: a client sends the same
        # token with every command, and PyJWT's decode was ~5 % of the
        # server's CPU under load. Only verified tokens get in, each only
        # until its own `exp`.
        self._verified: dict[str, Session] = {}

    def issue(self, user_id: str, role: str, now: float | None = None,
              generation: int = 0) -> str:
        issued = int(now if now is not None else time.time())
        # jti: two sign-ins in the same second are still two sessions (a
        # password change keeps exactly the one that asked, server.accounts)
        claims = {"sub": user_id, "role": role, "iat": issued, "exp": issued + self._ttl,
                  "gen": generation, "jti": secrets.token_urlsafe(9)}
        return jwt.encode(claims, self._key, algorithm="HS256")

    def actor(self, token: str | None) -> Actor:
        """The actor a token names; AuthError when missing, expired or tampered."""
        return self.session(token).actor

    def session(self, token: str | None) -> Session:
        """The session a token carries; AuthError when missing, expired or tampered."""
        if not token:
            raise AuthError("Please sign in.")
        known = self._verified.get(token)
        if known is not None and known.expires > time.time():
            return known
        claims = self._decode(token)
        role = claims.get("role")
        sub = claims.get("sub")
        gen = claims.get("gen", 0)  # tokens from before generations: the first one
        if (role not in ROLES or not isinstance(sub, str) or isinstance(gen, bool)
                or not isinstance(gen, int)):
            raise AuthError("Your sign-in is not valid. Please sign in again.", "invalid_token")
        session = Session(Actor(id=sub, role=role), gen, float(claims["exp"]), token_key(token))
        if len(self._verified) >= VERIFIED_MAX:
            self._verified.clear()
        self._verified[token] = session
        return session

    def _decode(self, token: str) -> dict[str, Any]:
        for i, key in enumerate(self._keys):
            try:
                claims: dict[str, Any] = jwt.decode(
                    token, key, algorithms=["HS256"],
                    options={"require": ["sub", "exp", "role"]})
                return claims
            except jwt.ExpiredSignatureError as exc:
                raise expired() from exc
            except jwt.InvalidSignatureError:
                if i + 1 < len(self._keys):
                    continue  # signed with an older key, perhaps
                raise AuthError("Your sign-in is not valid. Please sign in again.",
                                "invalid_token") from None
            except (jwt.PyJWTError, ValueError) as exc:  # ValueError: undecodable text
                raise AuthError("Your sign-in is not valid. Please sign in again.",
                                "invalid_token") from exc
        raise AuthError("Your sign-in is not valid. Please sign in again.", "invalid_token")


@dataclass
class _Failures:
    count: int = 0
    blocked_until: float = 0.0
    last: float = 0.0  # when the last failure was


MAX_TRACKED = 100_000  # (username, ip) pairs, and addresses, remembered at most


class _Backoff:
    """Failures per key: the first `free` are free, then each attempt must
    wait twice as long as the last (capped at `cap`). With `forget_after`, a
    key's count starts over once it has had no failure for that long."""

    def __init__(self, free: int, cap: float, forget_after: float | None = None) -> None:
        self._free, self._cap, self._forget_after = free, cap, forget_after
        self._state: dict[object, _Failures] = {}

    def retry_after(self, key: object, t: float) -> int:
        state = self._state.get(key)
        if state is None or state.blocked_until <= t:
            return 0
        return max(1, math.ceil(state.blocked_until - t))

    def failed(self, key: object, t: float) -> None:
        # Re-inserted at the end: the dict's order is least recently failed first.
        state = self._state.pop(key, None) or _Failures()
        if self._forget_after is not None and t - state.last > self._forget_after:
            state = _Failures()
        self._state[key] = state
        state.count += 1
        state.last = t
        over = state.count - self._free
        if over > 0:
            state.blocked_until = t + min(self._cap, 2.0 ** min(over - 1, 60))
        if len(self._state) > MAX_TRACKED:
            self._evict(t)

    def _evict(self, now: float) -> None:
        """Bounded memory under a spray, without lifting live blocks: forget
        the least recently failed entries that block nothing now."""
        keep = MAX_TRACKED * 9 // 10
        for key in list(self._state):
            if len(self._state) <= keep:
                return
            if self._state[key].blocked_until <= now:
                del self._state[key]
        for key in list(self._state)[: len(self._state) - keep]:
            del self._state[key]  # every entry blocks: drop the oldest blocks

    def clear(self, key: object) -> None:
        self._state.pop(key, None)


class LoginThrottle:
    """Two ceilings on failed sign-ins, each in this process's memory:

    - per (username, ip): the first `login_free_failures` are free, then each
      attempt must wait twice as long as the last (capped); a success clears it.
      (A correct password from another address still works meanwhile.)
    - per ip, whatever the usernames (password spraying): the first
      `login_address_failures` are free, then the same doubling; only time
      clears it (`login_address_window` s without a failure), not a success —
      one good account doesn't buy a sprayer more tries."""

    def __init__(self, settings: ServerSettings) -> None:
        self._pairs = _Backoff(settings.login_free_failures, settings.login_max_delay)
        self._addresses = _Backoff(settings.login_address_failures, settings.login_max_delay,
                                   forget_after=settings.login_address_window)

    def retry_after(self, username: str, ip: str, now: float | None = None) -> int:
        """Seconds to wait before another attempt is heard (0: go ahead)."""
        t = now if now is not None else time.monotonic()
        return max(self._pairs.retry_after((username.lower(), ip), t),
                   self._addresses.retry_after(ip, t))

    def failed(self, username: str, ip: str, now: float | None = None) -> None:
        t = now if now is not None else time.monotonic()
        self._pairs.failed((username.lower(), ip), t)
        self._addresses.failed(ip, t)

    def succeeded(self, username: str, ip: str) -> None:
        self._pairs.clear((username.lower(), ip))
