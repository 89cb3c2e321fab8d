"""A dispatch's change told to the screens together with the server's answer,
when that answer is only a few milliseconds away.

The embedded app's web tabs reach their server in the same process, on the
same event loop (main.py). There, the tapper's render of its own dispatch
(the card moving to another group, the counts: up to 20 ms) ran before the
command's transaction, and every other screen waited for it (bench ui,
seventh pass). Held until the answer (or `wait` seconds), it renders once,
after the commit: the other screens' patches leave sooner, and the tapper's
card itself has already changed (the tap's handler sends it at once).

Any change that is not a dispatch's own (the answer, the server's events,
the link going down, a message) lets the held one through, merged in front
of it; a second dispatch meanwhile joins the held one. A client whose server
is across a network never holds (`wait` 0): its answer may be a second away.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from store.changed import Changed
from store.subscriptions import ChangeListener


class Timer(Protocol):
    def cancel(self) -> None: ...


# (seconds, callback) -> a timer: asyncio's `loop.call_later`, or a test's clock
Schedule = Callable[[float, Callable[[], None]], Timer]


class WithAnswer:
    """`listener`, with each dispatch's own change held until the next change
    that is not (or `wait` seconds)."""

    def __init__(self, listener: ChangeListener, wait: float, schedule: Schedule) -> None:
        self.listener = listener
        self.wait = wait
        self.schedule = schedule
        self.held: Changed | None = None
        self.timer: Timer | None = None

    def __call__(self, changed: Changed) -> None:
        if changed.local:
            self.held = changed if self.held is None else self.held.then(changed)
            if self.timer is None:
                self.timer = self.schedule(self.wait, self.release)
            return
        held = self._take()
        self.listener(changed if held is None else held.then(changed))

    def release(self) -> None:
        """No answer in time (offline, or a slow commit): show it now."""
        held = self._take()
        if held is not None:
            self.listener(held)

    def close(self) -> None:
        """Unsubscribed: nothing more reaches the listener."""
        self._take()

    def _take(self) -> Changed | None:
        held, self.held = self.held, None
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        return held
