"""Pure-Python Flet harness: run a view against a recording connection.

A real flet `Session` over a `Connection` that serializes every message the
way the web transport does, so the diffs Flet computes are real and a test can
see how much of the UI one event rewrote.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import flet as ft
import msgpack
from flet.controls.base_control import BaseControl
from flet.controls.context import _context_page
from flet.controls.value_types import Prop
from flet.messaging.connection import Connection
from flet.messaging.protocol import Message, MessageAction, configure_encode_object_for_msgpack
from flet.messaging.session import Session
from flet.pubsub.pubsub_hub import PubSubHub

C = TypeVar("C", bound=BaseControl)


class RecordingConnection(Connection):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.messages: list[Message] = []
        self.page_url = "http://test.local"
        self.loop = loop
        self.executor = ThreadPoolExecutor(2)
        self.pubsubhub = PubSubHub(loop=loop, executor=self.executor)

    def send_message(self, message: Message) -> None:
        # Serializing is required: the encoder records the snapshots that the
        # next diff is computed against; without it later diffs are empty.
        self.messages.append(message)
        msgpack.packb(
            [message.action, message.body],
            default=configure_encode_object_for_msgpack(BaseControl),
        )

    def patches(self) -> list[Message]:
        return [m for m in self.messages if m.action == MessageAction.PATCH_CONTROL]


class Harness:
    def __init__(self, width: int = 1280, height: int = 800, route: str = "/") -> None:
        self.loop = asyncio.get_running_loop()
        self.conn = RecordingConnection(self.loop)
        self.session = Session(self.conn)
        self.page = self.session.page
        self.session.apply_page_patch(
            {"route": route, "width": width, "height": height, "web": True}
        )
        _context_page.set(self.page)
        msgpack.packb(
            self.session.get_page_patch(),
            default=configure_encode_object_for_msgpack(BaseControl),
        )

    async def run(self, main: Callable[[ft.Page], Awaitable[None] | None]) -> None:
        _context_page.set(self.page)
        result = main(self.page)
        if asyncio.iscoroutine(result):
            await result
        await self.session.after_event(self.page)
        await self.settle()

    async def settle(self, turns: int = 10) -> None:
        for _ in range(turns):
            await asyncio.sleep(0)

    # ---- finders
    def all(self) -> list[BaseControl]:
        """Every control on the page now (walked from the page, so controls a
        re-render replaced are not found)."""
        return descendants(self.page)

    def by_type(self, cls: type[C]) -> list[C]:
        return [c for c in self.all() if isinstance(c, cls)]

    def semantics(self, identifier: str) -> ft.Semantics:
        hits = [s for s in self.by_type(ft.Semantics) if s.identifier == identifier]
        assert len(hits) == 1, f"{len(hits)} controls with identifier {identifier!r}"
        return hits[0]

    def has_semantics(self, identifier: str) -> bool:
        return any(s.identifier == identifier for s in self.by_type(ft.Semantics))

    def buttons_in(self, root: BaseControl) -> list[str]:
        """Labels of the enabled-or-not buttons shown inside `root`, in order
        (a hidden one is not built on the screen: Flet leaves it out)."""
        return [
            str(b.content)
            for b in descendants(root)
            if isinstance(b, ft.Button) and isinstance(b.content, str) and b.visible
        ]

    def button(self, label: str, within: BaseControl | None = None) -> ft.Button:
        pool = descendants(within) if within is not None else self.all()
        named = [b for b in pool if isinstance(b, ft.Button) and b.content == label]
        # the one shown (a card's hidden button may keep words another now shows)
        hits = [b for b in named if b.visible] or named
        assert len(hits) == 1, f"{len(hits)} buttons labelled {label!r}"
        return hits[0]

    def texts(self, root: BaseControl | None = None) -> list[str]:
        pool = descendants(root) if root is not None else self.all()
        return [str(t.value) for t in pool if isinstance(t, ft.Text) and t.value is not None]

    def field(self, label: str) -> ft.TextField:
        hits = [f for f in self.by_type(ft.TextField) if f.label == label]
        assert len(hits) == 1, f"{len(hits)} text fields labelled {label!r}"
        return hits[0]

    # ---- the client's side
    async def click(self, ctrl: BaseControl) -> None:
        # as Flet's connection does: the event's own after_event (auto-update
        # unless the handler called update()) is all that runs; another one
        # here would send what a handler forgot to
        await self.session.dispatch_event(ctrl._i, "click", None)
        await self.settle()

    async def type_text(self, ctrl: BaseControl, text: str) -> None:
        self.session.apply_patch(ctrl._i, {"value": text})
        await self.session.dispatch_event(ctrl._i, "change", text)
        await self.settle()

    async def toggle(self, ctrl: BaseControl, value: object) -> None:
        self.session.apply_patch(ctrl._i, {"value": value})
        await self.session.dispatch_event(ctrl._i, "change", value)
        await self.settle()

    async def resize(self, w: int, h: int) -> None:
        self.session.apply_page_patch({"width": w, "height": h})
        await self.session.dispatch_event(self.page._i, "resize", {"width": w, "height": h})
        await self.settle()

    def mark(self) -> int:
        """A bookmark in the message log: patches after it are `since(mark)`."""
        return len(self.conn.messages)

    def patched_ids(self, since: int) -> set[int]:
        """The ids of the controls that patches sent after `since` targeted."""
        return {
            int(m.body.id)
            for m in self.conn.messages[since:]
            if m.action == MessageAction.PATCH_CONTROL
        }


def descendants(root: Any) -> list[BaseControl]:
    """Every control under `root` (inclusive), walking dataclass fields."""
    out: list[BaseControl] = []
    seen: set[int] = set()

    def walk(obj: Any) -> None:
        if isinstance(obj, BaseControl):
            if id(obj) in seen:
                return
            seen.add(id(obj))
            out.append(obj)
            # Flet keeps a property only while it differs from its default, in
            # `_values`: only those (and the fields kept otherwise) can hold a child.
            for name, value in obj._values.items():
                if _followed(name):
                    walk(value)
            for name in _fields_kept_apart(type(obj)):
                walk(getattr(obj, name, None))
        elif isinstance(obj, (list, tuple)):
            for x in obj:
                walk(x)

    walk(root)
    return out


def _followed(name: str) -> bool:
    return not (name.startswith("_") and name != "_dialogs") and name != "parent"


_KEPT_APART: dict[type, tuple[str, ...]] = {}


def _fields_kept_apart(cls: type) -> tuple[str, ...]:
    """The fields of `cls` that are no `Prop` (so not in `_values`), followed."""
    names = _KEPT_APART.get(cls)
    if names is None:
        names = tuple(
            name for name in getattr(cls, "__dataclass_fields__", {})
            if _followed(name) and not isinstance(_raw_attribute(cls, name), Prop)
        )
        _KEPT_APART[cls] = names
    return names


def _raw_attribute(cls: type, name: str) -> Any:
    for klass in cls.__mro__:
        if name in vars(klass):
            return vars(klass)[name]
    return None
