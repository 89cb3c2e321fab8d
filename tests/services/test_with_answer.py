"""A dispatch's change held for the server's answer (services.with_answer),
on a clock the test moves by hand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from services.with_answer import WithAnswer
from store.changed import Changed

MINE = Changed(keys=frozenset({("appointment", "a1")}), sync=True, local=True)
MINE_TOO = Changed(keys=frozenset({("appointment", "a2")}), sync=True, local=True)
ANSWER = Changed(keys=frozenset({("appointment", "a1")}), sync=True)
LINK = Changed(sync=True)


@dataclass
class Timer:
    delay: float
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class Clock:
    """`loop.call_later`'s twin: timers that fire when the test says."""
    timers: list[Timer] = field(default_factory=list)

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        self.timers.append(timer := Timer(delay, callback))
        return timer

    def fire(self) -> None:
        for timer in self.timers:
            if not timer.cancelled:
                timer.callback()

    def pending(self) -> list[float]:
        return [t.delay for t in self.timers if not t.cancelled]


def held(wait: float = 0.06) -> tuple[WithAnswer, list[Changed], Clock]:
    heard: list[Changed] = []
    clock = Clock()
    return WithAnswer(heard.append, wait, clock.call_later), heard, clock


def test_what_the_server_says_passes_at_once() -> None:
    listener, heard, clock = held()
    listener(ANSWER)
    listener(LINK)
    assert heard == [ANSWER, LINK] and clock.pending() == []


def test_a_dispatch_waits_for_the_answer_and_arrives_with_it_once() -> None:
    listener, heard, clock = held()
    listener(MINE)
    assert heard == [] and clock.pending() == [0.06]
    listener(ANSWER)
    assert heard == [MINE.then(ANSWER)] and not heard[0].local
    assert clock.pending() == []  # the timer is off
    clock.fire()
    assert len(heard) == 1


def test_a_second_dispatch_joins_the_first_under_one_timer() -> None:
    listener, heard, clock = held()
    listener(MINE)
    listener(MINE_TOO)
    assert heard == [] and clock.pending() == [0.06]
    listener(LINK)
    (both,) = heard
    assert both.keys == {("appointment", "a1"), ("appointment", "a2")}


def test_no_answer_in_time_shows_the_dispatch_alone() -> None:
    listener, heard, clock = held()
    listener(MINE)
    clock.fire()  # offline, or a slow commit
    assert heard == [MINE]
    listener(ANSWER)  # when it comes, on its own
    assert heard == [MINE, ANSWER]


def test_closed_it_tells_nothing_more() -> None:
    listener, heard, clock = held()
    listener(MINE)
    listener.close()
    clock.fire()
    assert heard == [] and clock.pending() == []
