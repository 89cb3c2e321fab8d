"""What the client tells its screens: one `Changed` per batch of changes.

Every change to one user's client state (records, the pending marks, the
link, messages for the user, a resync, the outbox's lists) is published by
the `Store` as one `Changed` (`Store.publish`; inside `Store.batch()` they
merge into one). The views' port (views/port.py) speaks these types; they
live here, below services/ and views/, so the client can produce them and
services/ never imports views/.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from domain.records import Entity, Record
from domain.words import WORDS
from store.cache import Key
from store.messages import Message

# One record's change in a batch: (before, after) as the views saw it
# (None: not there).
RecordChange = tuple[Record | None, Record | None]


class Link(StrEnum):
    """The connection to the server, as the indicator shows it."""

    ONLINE = "online"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"


@dataclass(frozen=True)
class QueuedCommand:
    seq: int  # its place in the outbox: what `ClientPort.dismiss` takes
    name: str
    target: str | None
    error: str | None = None  # set on failed commands: the server's message
    args: Mapping[str, Any] = field(default_factory=dict)  # as it was sent


@dataclass(frozen=True)
class SyncInfo:
    """For the indicator and the sync inspector."""

    link: Link = Link.ONLINE
    queued: tuple[QueuedCommand, ...] = ()
    failed: tuple[QueuedCommand, ...] = ()
    cursor: int | None = None
    last_event: str | None = None  # a short description of the latest event


@dataclass(frozen=True)
class Notice:
    """A message for a snackbar: a success, or a rollback with the server's
    friendly message."""

    text: str
    ok: bool = True
    # a refusal: the change that didn't go through (kept in the failed list
    # until dismissed), so the screen can offer to edit it and try again
    failed: QueuedCommand | None = None
    # why the server no longer accepts our sign-in: the sign-in screen keeps
    # these words (a snackbar's go in seconds)
    signs_out: bool = False


@dataclass(frozen=True)
class ServerEvent:
    """One event as the server sent it (docs/architecture.md, the wire contract): what
    happened (`cause`, the command's name) besides what it changed."""

    seq: int
    entity: Entity
    id: str
    op: str  # upsert | delete
    version: int
    data: Record | None  # the record after the event; None on delete
    cause: str
    # the frame's event as it came (engine-level listeners, the inspector)
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> ServerEvent:
        return cls(
            seq=int(raw.get("seq") or 0),
            entity=raw["entity"],
            id=str(raw["id"]),
            op=str(raw.get("op") or "upsert"),
            version=int(raw.get("version") or 0),
            data=raw.get("data"),
            cause=str(raw.get("cause") or ""),
            raw=raw,
        )


@dataclass(frozen=True)
class Changed:
    """What one batch touched: views refresh only these keys."""

    keys: frozenset[Key] = frozenset()
    sync: bool = False  # the link / queue changed
    reset: bool = False  # everything may have changed (re-bootstrap)
    notices: tuple[Notice, ...] = ()
    signed_out: bool = False  # the server no longer accepts our sign-in
    # made by a dispatch on this device, nothing from the server in it: what
    # the screens show before the server has answered (services.with_answer)
    local: bool = False
    # the server events of the batch, in seq order (their keys are in `keys`):
    # for the activity feed, which words what happened
    events: tuple[ServerEvent, ...] = ()
    # below the views: each key's (before, after), for the store's record
    # and query subscriptions; the messages the notices word
    changes: Mapping[Key, RecordChange] = field(default_factory=dict, compare=False, repr=False)
    messages: tuple[Message, ...] = field(default=(), compare=False, repr=False)

    def __bool__(self) -> bool:
        return bool(self.keys or self.sync or self.reset or self.notices or self.signed_out
                    or self.events or self.messages)

    def then(self, later: Changed) -> Changed:
        """This batch followed by `later`, as one: a key keeps its first
        `before` and its last `after`."""
        if not self:
            return later
        if not later:
            return self
        changes = self.changes
        if later.changes:
            changes = dict(changes)
            for key, (before, after) in later.changes.items():
                changes[key] = (changes[key][0] if key in changes else before, after)
        return Changed(
            keys=self.keys | later.keys,
            sync=self.sync or later.sync,
            reset=self.reset or later.reset,
            notices=self.notices + later.notices,
            signed_out=self.signed_out or later.signed_out,
            local=self.local and later.local,
            events=self.events + later.events,
            changes=changes,
            messages=self.messages + later.messages,
        )


def of_records(changes: Mapping[Key, RecordChange], local: bool = False) -> Changed:
    """A batch of record changes; sync too: it may be an acknowledgement
    that cleared a card's waiting mark. `local`: a dispatch's own."""
    return Changed(keys=frozenset(changes), sync=True, local=local, changes=changes)


def signs_out(message: Message) -> bool:
    """The server no longer accepts our sign-in; the message says why."""
    return message.kind == "problem" and message.code == "signed_out"


def notice(message: Message, name: str | None, failed: QueuedCommand | None) -> Notice | None:
    """The snackbar for a message: a command's own `saved` words once the
    server applied it (`name`: the command; None words: too small to
    announce), the message's words otherwise."""
    if message.kind == "rollback" and message.seq is not None:
        return Notice(message.text, ok=False, failed=failed)
    if message.kind != "success":
        return Notice(message.text, ok=False, signs_out=signs_out(message))
    words = WORDS.get(name) if name is not None else None
    if words is not None and words.saved != "":
        return Notice(words.saved) if words.saved else None
    return Notice(message.text)


def of_message(message: Message, name: str | None = None,
               failed: QueuedCommand | None = None) -> Changed:
    told = notice(message, name, failed)
    return Changed(
        sync=True,
        notices=(told,) if told is not None else (),
        signed_out=signs_out(message),
        messages=(message,),
    )


def describe(event: Mapping[str, Any] | None) -> str | None:
    """The latest event in a few words, for the sync inspector."""
    if not event:
        return None
    return f"#{event.get('seq')} {event.get('cause') or event.get('op')} {event.get('entity')}"
