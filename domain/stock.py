"""What the business sells and what it uses up: services (name, minutes,
price, on sale or not), materials in stock, and every move of stock.

A material's `on_hand` changes only here: a restock adds, a completed
session takes what it used (`taken`, called by appointment.complete in the
same Outcome, so one transaction), a stock count on material.update sets it.
Each move leaves a `stock_move` record (small records, a queryable history)
instead of a growing list on the material. Stock may go below zero (the
session happened; the oil was used) but never silently: the command's answer
carries a warning in the business's words. Crossing down to the reorder
level notifies the operators once per crossing: only the change that goes
from above the level to at-or-under it does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from domain import validate as v
from domain.commands import Change, Outcome, Snapshot
from domain.context import Ctx, upsert
from domain.errors import Forbidden, InvalidArgs, NotFound
from domain.notify import notices, operators
from domain.records import Entity, Record, bumped
from domain.times import iso

SERVICE_FIELDS = ("name", "minutes", "price", "active")
MATERIAL_FIELDS = ("name", "unit", "on_hand", "reorder_level", "active")
MAX_MINUTES = 12 * 60
MAX_QUANTITY = 1_000_000
# derived ids: notices use 1000+n (domain.notify); stock moves take their own range
_MOVE_IDS = 5000


def amount_text(quantity: float) -> str:
    """20.0 -> '20', 2850.0 -> '2,850', 2.5 -> '2.5'."""
    if quantity == int(quantity):
        return f"{int(quantity):,}"
    return f"{quantity:,.3f}".rstrip("0").rstrip(".")


def stock_text(material: Record) -> str:
    """'-20 ml', '3 pieces'."""
    unit = str(material.get("unit") or "").strip()
    number = amount_text(float(material.get("on_hand") or 0))
    return f"{number} {unit}".strip()


def is_low(material: Record) -> bool:
    """At or under its reorder level."""
    return float(material.get("on_hand") or 0) <= float(material.get("reorder_level") or 0)


def crossed(before: Record | None, after: Record) -> bool:
    """This change took the stock from above its reorder level to at or under it."""
    return is_low(after) and (before is None or not is_low(before))


def below_zero(material: Record) -> str:
    """The warning when a material runs out past zero."""
    return f"{material.get('name')} is now at {stock_text(material)}: restock it."


def low_text(material: Record) -> str:
    return (
        f"{material.get('name')} is low: {stock_text(material)} left "
        f"(reorder at {amount_text(float(material.get('reorder_level') or 0))})."
    )


def is_active(record: Record | None) -> bool:
    """Services and materials are on offer unless switched off (older records
    have no `active`)."""
    return bool(record) and (record or {}).get("active", True) is not False


def _operator(ctx: Ctx, what: str) -> None:
    if ctx.actor.role != "operator":
        raise Forbidden(f"Only the operator can {what}.")


def numeric(
    args: Mapping[str, Any], key: str, what: str, *, whole: bool = False, positive: bool = False
) -> float:
    value = args.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidArgs(f"Please give {what} as a number.")
    if positive and value <= 0:
        raise InvalidArgs(f"{what.capitalize()} must be more than zero.")
    if value < 0:
        raise InvalidArgs(f"{what.capitalize()} can't be negative.")
    if value > MAX_QUANTITY:
        raise InvalidArgs(f"{what.capitalize()} is too large.")
    if whole and value != int(value):
        raise InvalidArgs(f"{what.capitalize()} must be a whole number.")
    return int(value) if value == int(value) else float(value)


# ---- services ------------------------------------------------------------------------


def service_field(args: Mapping[str, Any], key: str) -> Any:
    """One field of a service, checked (the form shows each under its field)."""
    if key == "name":
        return v.required_text(args, "name", "the service's name")
    if key == "minutes":
        minutes = numeric(args, "minutes", "the minutes", whole=True, positive=True)
        if minutes > MAX_MINUTES:
            raise InvalidArgs(f"A service lasts at most {MAX_MINUTES} minutes.")
        return int(minutes)
    if key == "price":
        return numeric(args, "price", "the price")
    return v.flag(args, "active", "the service is on offer")


def _service_fields(args: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    v.only(args, SERVICE_FIELDS)
    return {
        key: service_field(args, key)
        for key in SERVICE_FIELDS
        if key in args or (not partial and key != "active")
    }


def _unique_name(snap: Snapshot, entity: str, name: str, own_id: str, what: str) -> None:
    for other in snap.all(entity):  # type: ignore[arg-type]
        if other["id"] != own_id and str(other.get("name", "")).lower() == name.lower():
            raise InvalidArgs(f"There is already a {what} called {other.get('name')}.")


def service_create(ctx: Ctx) -> Outcome:
    _operator(ctx, "add services")
    sid = ctx.new_id("service")
    f = _service_fields(ctx.cmd.args, partial=False)
    _unique_name(ctx.snap, "service", f["name"], sid, "service")
    record: Record = {"id": sid, "version": 1, "currency": "PHP", "active": True, **f}
    return Outcome((upsert("service", record, None),))


def _edit(
    ctx: Ctx, entity: Entity, fields: Callable[..., dict[str, Any]], what: str
) -> tuple[Record, Record]:
    """The operator's edit of a named service or material: (before, after)."""
    _operator(ctx, f"change {what}s")
    old = ctx.target(entity)
    f = fields(ctx.cmd.args, partial=True)
    if not f:
        raise InvalidArgs("Nothing to change.")
    if "name" in f:
        _unique_name(ctx.snap, entity, f["name"], old["id"], what)
    return old, bumped(old, **f)


def service_update(ctx: Ctx) -> Outcome:
    service, new = _edit(ctx, "service", _service_fields, "service")
    return Outcome((upsert("service", new, service),))


def check_bookable(snap: Snapshot, service_ids: list[str], already: list[str] = ()) -> None:  # type: ignore[assignment]
    """Refuse a service that is off offer, unless the booking already had it
    (old bookings keep theirs)."""
    for sid in service_ids:
        service = snap.get("service", sid)
        if sid not in already and service is not None and not is_active(service):
            raise InvalidArgs(
                f"{service.get('name')} isn't offered any more: choose another service."
            )


# ---- materials -----------------------------------------------------------------------


MATERIAL_WORDS = {
    "name": "the material's name",
    "unit": "the unit (ml, pieces, sets…)",
    "on_hand": "the stock on hand",
    "reorder_level": "the reorder level",
}


def material_field(args: Mapping[str, Any], key: str) -> Any:
    """One field of a material, checked (the form shows each under its field)."""
    if key in ("name", "unit"):
        return v.required_text(args, key, MATERIAL_WORDS[key])
    if key in ("on_hand", "reorder_level"):
        return numeric(args, key, MATERIAL_WORDS[key])
    return v.flag(args, "active", "the material is in use")


def restock_quantity(args: Mapping[str, Any]) -> float:
    return numeric(args, "quantity", "the quantity", positive=True)


def _material_fields(args: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    v.only(args, MATERIAL_FIELDS)
    return {
        key: material_field(args, key)
        for key in MATERIAL_FIELDS
        if key in args or (not partial and key != "active")
    }


def _move(
    ctx: Ctx,
    n: int,
    material: Record,
    delta: float,
    kind: str,
    *,
    appointment_id: str | None = None,
    note: str | None = None,
) -> Change:
    mid = ctx.cmd.derived_id(_MOVE_IDS + n)
    record: Record = {
        "id": mid,
        "version": 1,
        "material_id": material["id"],
        "delta": delta,
        "kind": kind,  # use | restock | count
        "on_hand": material["on_hand"],  # after the move
        "appointment_id": appointment_id,
        "by": ctx.actor.id,
        "at": iso(ctx.now),
        "note": note,
    }
    return Change("stock_move", mid, "upsert", record, None)


def _low_notices(ctx: Ctx, pairs: list[tuple[Record | None, Record]], start: int) -> list[Change]:
    out: list[Change] = []
    people = operators(ctx.snap)
    for before, after in pairs:
        if crossed(before, after):
            out += notices(
                ctx.cmd,
                ctx.now,
                people,
                "low_stock",
                low_text(after),
                None,
                start=start + len(out),
            )
    return out


def material_create(ctx: Ctx) -> Outcome:
    _operator(ctx, "add materials")
    mid = ctx.new_id("material")
    f = _material_fields(ctx.cmd.args, partial=False)
    _unique_name(ctx.snap, "material", f["name"], mid, "material")
    record: Record = {"id": mid, "version": 1, "active": True, **f}
    return Outcome((upsert("material", record, None), *_low_notices(ctx, [(None, record)], 0)))


def material_update(ctx: Ctx) -> Outcome:
    material, new = _edit(ctx, "material", _material_fields, "material")
    changes = [upsert("material", new, material)]
    delta = float(new["on_hand"]) - float(material.get("on_hand") or 0)
    if delta:
        changes.append(_move(ctx, 0, new, delta, "count", note="Stock count"))
    return Outcome((*changes, *_low_notices(ctx, [(material, new)], 0)))


def material_restock(ctx: Ctx) -> Outcome:
    _operator(ctx, "restock")
    material = ctx.target("material")
    v.only(ctx.cmd.args, ("quantity", "note"))
    quantity = restock_quantity(ctx.cmd.args)
    note = v.text(ctx.cmd.args, "note", "a note", required=False)
    new = bumped(material, on_hand=_sum(material.get("on_hand"), quantity))
    return Outcome(
        (upsert("material", new, material), _move(ctx, 0, new, quantity, "restock", note=note))
    )


def _sum(on_hand: Any, delta: float) -> float:
    total = float(on_hand or 0) + delta
    return int(total) if total == int(total) else round(total, 6)


# ---- materials used in a session -----------------------------------------------------


def used(args: Mapping[str, Any], snap: Snapshot) -> list[Record]:
    """The `materials` of appointment.complete: `{material_id, quantity}` for
    stock materials, or the older `{name, quantity}` (free text, no stock)."""
    value = args.get("materials")
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 50:
        raise InvalidArgs("Materials must be a list of {material_id, quantity}.")
    out: list[Record] = []
    for item in value:
        if not isinstance(item, dict):
            raise InvalidArgs("Each material needs a name and a quantity.")
        qty = v.amount(item, "quantity", "the quantity")
        if "material_id" in item:
            v.only(item, ("material_id", "quantity", "name"))
            mid = v.ident(item, "material_id", "a material")
            material = snap.get("material", str(mid))
            if material is None:
                raise NotFound("That material isn't in the stock list.")
            out.append({"material_id": mid, "name": material.get("name"), "quantity": qty})
        else:  # as before: other keys are dropped
            name = v.required_text(item, "name", "the material's name")
            out.append({"name": name, "quantity": qty})
    return out


def taken(ctx: Ctx, appointment_id: str, items: list[Record]) -> tuple[list[Change], list[str]]:
    """Take `items` (from `used`) out of stock: the materials' changes, a
    stock move each, the operators' low-stock notices, and warnings for what
    went below zero."""
    materials: dict[str, tuple[Record, Record]] = {}  # id -> (before, after)
    moves: list[Change] = []
    for item in items:
        mid = item.get("material_id")
        if not mid:
            continue  # the old free-text form touches no stock
        before, current = materials.get(mid) or (ctx.snap.get("material", mid), None)
        assert before is not None
        current = bumped(
            current or before,
            on_hand=_sum((current or before)["on_hand"], -float(item["quantity"])),
        )
        if materials.get(mid):
            current["version"] = int(before["version"]) + 1  # one bump per command
        materials[mid] = (before, current)
        moves.append(
            _move(
                ctx,
                len(moves),
                current,
                -float(item["quantity"]),
                "use",
                appointment_id=appointment_id,
            )
        )
    changes = [upsert("material", after, before) for before, after in materials.values()]
    warnings = [below_zero(after) for _, after in materials.values() if after["on_hand"] < 0]
    low = _low_notices(ctx, list(materials.values()), 0)
    return [*changes, *moves, *low], warnings


HANDLERS: dict[str, Callable[[Ctx], Outcome]] = {
    "service.create": service_create,
    "service.update": service_update,
    "material.create": material_create,
    "material.update": material_update,
    "material.restock": material_restock,
}
