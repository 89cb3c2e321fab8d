"""Who may see what: the audience of every record.

The server sends an event only to its audience and serves bootstrap through
`can_see`; the client uses the same rules to know what its cache holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.commands import Actor
from domain.records import Entity, Record


@dataclass(frozen=True)
class Audience:
    users: frozenset[str] = frozenset()
    operators: bool = True  # every operator sees it
    everyone: bool = False  # every signed-in user sees it

    def includes(self, actor: Actor) -> bool:
        if self.everyone or actor.role == "system":
            return True
        if self.operators and actor.role == "operator":
            return True
        return actor.id in self.users


def audience(entity: Entity, record: Record) -> Audience:
    if entity == "appointment":
        people = set(record.get("therapist_ids") or [])
        people.update(p for p in (record.get("driver_id"), record.get("pickup_driver_id")) if p)
        return Audience(users=frozenset(people))
    if entity == "availability":
        return Audience(users=frozenset({record["user_id"]}))
    if entity == "shift":  # its person and the operators; never other staff
        return Audience(users=frozenset({record["user_id"]}))
    if entity == "notification":
        return Audience(users=frozenset({record["user_id"]}), operators=False)
    if entity in ("staff", "service", "material"):
        # material: the therapist's "complete" dialog offers the stock list as
        # a picker, so therapists see names, units and stock; drivers see it
        # too (the event log's audiences have no per-role slot; the stock of
        # towels is no secret among staff)
        return Audience(everyone=True)
    # client, stock_move (who used what on which appointment): operators only
    return Audience()


def can_see(actor: Actor, entity: Entity, record: Record) -> bool:
    return audience(entity, record).includes(actor)
