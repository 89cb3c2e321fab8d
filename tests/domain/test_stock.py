"""Services, materials and stock (issue 16): who may do what, the stock
arithmetic (below zero with a warning, the reorder crossing noticed once),
an inactive service refused for new bookings, the old materials form
untouched — as tables, and a property: stock = initial + restocks − uses,
whatever the order."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import Actor, Command, Outcome, apply
from domain.errors import DomainError, Forbidden, InvalidArgs, NotFound
from domain.policy import can_see
from tests.domain.world import D1, OP, T1, T2, World, booking, world_at

OIL = {"name": "Massage oil", "unit": "ml", "on_hand": 500, "reorder_level": 100}
TOWELS = {"name": "Towels", "unit": "pieces", "on_hand": 10, "reorder_level": 2}


def do(
    w: World,
    actor: Actor,
    command: str,
    target: str | None = None,
    base_version: int | None = None,
    /,
    **args: Any,
) -> Outcome:
    """World.do, for args that include `name`."""
    cmd = Command(command, target, args, base_version, client_id="test", seq=next(w.seq))
    outcome = apply(w.snap, actor, cmd, w.now)
    w.snap.commit(outcome)
    return outcome


def stocked(status: str = "payment_verified") -> World:
    w = world_at(status)
    do(w, OP, "material.create", "oil", **OIL)
    do(w, OP, "material.create", "towels", **TOWELS)
    return w


def material(w: World, mid: str = "oil") -> dict[str, Any]:
    record = w.snap.get("material", mid)
    assert record is not None
    return record


def moves(w: World, mid: str = "oil") -> list[dict[str, Any]]:
    return [m for m in w.snap.all("stock_move") if m["material_id"] == mid]


def low_notices(w: World) -> list[dict[str, Any]]:
    return [n for n in w.snap.all("notification") if n["kind"] == "low_stock"]


# ---- who may do what --------------------------------------------------------------

# (command, target, args, who may)
WHO: list[tuple[str, str | None, dict[str, Any]]] = [
    ("service.create", "s9", {"name": "Hot stone", "minutes": 75, "price": 1300}),
    ("service.update", "s1", {"price": 950}),
    (
        "material.create",
        "stones",
        {"name": "Hot stones", "unit": "sets", "on_hand": 2, "reorder_level": 1},
    ),
    ("material.update", "oil", {"reorder_level": 50}),
    ("material.restock", "oil", {"quantity": 250, "note": "From Lazada"}),
]


@pytest.mark.parametrize(("name", "target", "args"), WHO, ids=[w[0] for w in WHO])
@pytest.mark.parametrize("actor", [OP, T1, D1], ids=["operator", "therapist", "driver"])
def test_only_the_operator_runs_the_business(
    name: str, target: str, args: dict[str, Any], actor: Actor
) -> None:
    w = stocked("pending")
    if actor.role == "operator":
        out = do(w, actor, name, target, **args)
        assert out.changes
    else:
        with pytest.raises(Forbidden, match="Only the operator"):
            do(w, actor, name, target, **args)


# ---- what each role sees ----------------------------------------------------------

SEES = [
    # entity, operator, therapist, driver
    ("material", True, True, True),  # the therapist's picker lists the stock
    ("stock_move", True, False, False),  # who used what: the operators' business
    ("service", True, True, True),
]


@pytest.mark.parametrize(("entity", "op", "therapist", "driver"), SEES)
def test_audiences(entity: str, op: bool, therapist: bool, driver: bool) -> None:
    record = {"id": "x", "version": 1, "material_id": "oil", "user_id": None}
    assert [can_see(a, entity, record) for a in (OP, T1, D1)] == [op, therapist, driver]  # type: ignore[arg-type]


# ---- services ---------------------------------------------------------------------

BAD_SERVICE = [
    ({"name": "", "minutes": 60, "price": 1}, "Please give the service's name."),
    ({"name": "X", "minutes": 0, "price": 1}, "The minutes must be more than zero."),
    ({"name": "X", "minutes": 30.5, "price": 1}, "The minutes must be a whole number."),
    ({"name": "X", "minutes": 60, "price": -1}, "The price can't be negative."),
    ({"name": "X", "minutes": 60, "price": "a"}, "Please give the price as a number."),
    ({"name": "swedish", "minutes": 60, "price": 1}, "There is already a service called Swedish."),
    ({"name": "X", "minutes": 60, "price": 1, "colour": "red"}, "Unknown field(s): colour."),
]


@pytest.mark.parametrize(("args", "words"), BAD_SERVICE)
def test_service_form_checks(args: dict[str, Any], words: str) -> None:
    with pytest.raises(InvalidArgs) as err:
        do(World(), OP, "service.create", "s9", **args)
    assert err.value.message == words


def test_an_inactive_service_cant_be_booked_but_old_bookings_keep_it() -> None:
    w = world_at("pending")  # a1 books s1
    do(w, OP, "service.update", "s1", active=False)
    with pytest.raises(InvalidArgs, match="Swedish isn't offered any more"):
        do(w, OP, "appointment.create", "a2", **booking(start_time="16:00", end_time="17:00"))
    do(
        w,
        OP,
        "appointment.create",
        "a3",
        **booking(service_ids=["s2"], start_time="18:00", end_time="19:00"),
    )
    with pytest.raises(InvalidArgs, match="Swedish isn't offered any more"):
        do(w, OP, "appointment.update", "a3", 1, service_ids=["s2", "s1"])
    # a1 had s1 already: editing it (keeping s1) is fine
    before = w.appt()
    do(w, OP, "appointment.update", "a1", before["version"], service_ids=["s1", "s2"])
    assert w.appt()["service_ids"] == ["s1", "s2"]
    do(w, OP, "service.update", "s1", active=True)
    do(w, OP, "appointment.create", "a2", **booking(start_time="16:00", end_time="17:00"))


# ---- stock arithmetic -------------------------------------------------------------

# (materials used, oil after, warning?, low-stock notice for the operator?)
USES = [
    ([{"material_id": "oil", "quantity": 30}], 470, None, False),
    ([{"material_id": "oil", "quantity": 400}], 100, None, True),  # at the level: low
    ([{"material_id": "oil", "quantity": 399}], 101, None, False),
    (
        [{"material_id": "oil", "quantity": 520}],
        -20,
        "Massage oil is now at -20 ml: restock it.",
        True,
    ),
    (
        [{"material_id": "oil", "quantity": 300}, {"material_id": "oil", "quantity": 300}],
        -100,
        "Massage oil is now at -100 ml: restock it.",
        True,
    ),
    ([{"name": "oil", "quantity": 30}], 500, None, False),  # the old form: no stock
    ([], 500, None, False),
]


@pytest.mark.parametrize(("used", "after", "warning", "told"), USES)
def test_completing_takes_from_stock(
    used: list[dict[str, Any]], after: float, warning: str | None, told: bool
) -> None:
    w = stocked()
    out = do(w, T1, "appointment.complete", "a1", materials=used)
    assert w.appt()["status"] == "completed"
    assert material(w)["on_hand"] == after
    assert out.warnings == ((warning,) if warning else ())
    by_id = [m for m in used if "material_id" in m]
    assert [m["delta"] for m in moves(w) if m["kind"] == "use"] == [-m["quantity"] for m in by_id]
    assert all(
        m["appointment_id"] == "a1" and m["by"] == "t1" for m in moves(w) if m["kind"] == "use"
    )
    assert [n["user_id"] for n in low_notices(w)] == (["op"] if told else [])
    if told:
        assert low_notices(w)[0]["text"].startswith("Massage oil is low:")
    # the appointment keeps what was used, by name too (the history reads it)
    assert [m["quantity"] for m in w.appt()["materials"]] == [m["quantity"] for m in used]
    assert all(m["name"] for m in w.appt()["materials"])
    assert material(w, "towels")["on_hand"] == 10  # untouched


def test_one_outcome_holds_the_appointment_the_stock_and_the_moves() -> None:
    """So the server writes them in one transaction."""
    w = stocked()
    out = do(
        w,
        T1,
        "appointment.complete",
        "a1",
        materials=[
            {"material_id": "oil", "quantity": 450},
            {"material_id": "towels", "quantity": 2},
        ],
    )
    kinds = [c.entity for c in out.changes]
    assert kinds == [
        "appointment",
        "material",
        "material",
        "stock_move",
        "stock_move",
        "notification",
    ]
    assert material(w)["version"] == 2


def test_the_reorder_crossing_is_noticed_once() -> None:
    """Down through the level: one notice per operator; further down: none;
    restocked above it and down again: one more."""
    w = stocked("pending")
    w.snap.put(
        "staff", {"id": "op2", "version": 1, "role": "operator", "name": "Ola", "active": True}
    )
    steps = [  # (command, args, notices so far)
        ("material.update", {"on_hand": 150}, 0),
        ("material.update", {"on_hand": 90}, 2),  # crossed: both operators
        ("material.update", {"on_hand": 40}, 2),  # still low: nothing new
        ("material.restock", {"quantity": 10}, 2),
        ("material.restock", {"quantity": 200}, 2),  # above again: re-armed
        ("material.update", {"reorder_level": 300}, 4),  # the level rose past it
    ]
    for name, args, expected in steps:
        do(w, OP, name, "oil", **args)
        assert len(low_notices(w)) == expected, (name, args)
    assert [m["kind"] for m in moves(w)] == ["count", "count", "count", "restock", "restock"]


def test_restock_adds_and_leaves_a_move_with_its_note() -> None:
    w = stocked("pending")
    do(w, OP, "material.restock", "oil", quantity=250, note="From Lazada")
    assert material(w)["on_hand"] == 750
    (move,) = moves(w)
    assert (move["kind"], move["delta"], move["on_hand"], move["note"], move["by"]) == (
        "restock",
        250,
        750,
        "From Lazada",
        "op",
    )


BAD_STOCK = [
    (
        "material.restock",
        "oil",
        {"quantity": 0},
        InvalidArgs,
        "The quantity must be more than zero.",
    ),
    (
        "material.restock",
        "oil",
        {"quantity": -5},
        InvalidArgs,
        "The quantity must be more than zero.",
    ),
    ("material.restock", "nope", {"quantity": 5}, NotFound, "That material doesn't exist"),
    (
        "material.create",
        "m9",
        {"name": "Oil", "unit": "ml", "on_hand": -1, "reorder_level": 1},
        InvalidArgs,
        "The stock on hand can't be negative.",
    ),
    (
        "material.create",
        "m9",
        {"name": "Oil", "unit": "", "on_hand": 1, "reorder_level": 1},
        InvalidArgs,
        "Please give the unit",
    ),
    (
        "material.create",
        "m9",
        {"name": "massage OIL", "unit": "ml", "on_hand": 1, "reorder_level": 1},
        InvalidArgs,
        "There is already a material called Massage oil.",
    ),
    ("material.update", "oil", {}, InvalidArgs, "Nothing to change."),
]


@pytest.mark.parametrize(("name", "target", "args", "error", "words"), BAD_STOCK)
def test_stock_form_checks(
    name: str, target: str, args: dict[str, Any], error: type[DomainError], words: str
) -> None:
    w = stocked("pending")
    before = w.state()
    with pytest.raises(error) as err:
        do(w, OP, name, target, **args)
    assert err.value.message.startswith(words)
    assert w.state() == before


BAD_USE = [
    ([{"material_id": "nope", "quantity": 1}], NotFound, "That material isn't in the stock list."),
    ([{"material_id": "oil", "quantity": 0}], InvalidArgs, "The quantity must be more than zero."),
    ([{"material_id": "oil"}], InvalidArgs, "Please give the quantity as a number."),
    ([{"material_id": "oil", "quantity": 1, "colour": 1}], InvalidArgs, "Unknown field(s)"),
    ("oil", InvalidArgs, "Materials must be a list"),
]


@pytest.mark.parametrize(("used", "error", "words"), BAD_USE)
def test_a_bad_materials_list_changes_nothing(
    used: Any, error: type[DomainError], words: str
) -> None:
    w = stocked()
    before = w.state()
    with pytest.raises(error) as err:
        do(w, T1, "appointment.complete", "a1", materials=used)
    assert err.value.message.startswith(words)
    assert w.state() == before


def test_only_the_assigned_therapist_completes_it() -> None:
    w = stocked()
    with pytest.raises(NotFound):  # not hers: she doesn't even see it
        do(w, T2, "appointment.complete", "a1", materials=[{"material_id": "oil", "quantity": 1}])
    assert material(w)["on_hand"] == 500


# ---- the property -----------------------------------------------------------------

step = st.one_of(
    st.tuples(st.just("restock"), st.integers(1, 300)),
    st.tuples(st.just("use"), st.integers(1, 300)),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(step, max_size=12), st.integers(0, 400), st.integers(0, 200))
def test_stock_is_initial_plus_restocks_minus_uses(
    steps: list[tuple[str, int]], initial: int, level: int
) -> None:
    """Whatever the order, on hand = initial + restocks − uses; the moves add
    up to it; the operator hears once per crossing down to the level."""
    from domain.stock import crossed

    w = World()
    do(w, OP, "material.create", "oil", name="Oil", unit="ml", on_hand=initial, reorder_level=level)
    crossings = int(initial <= level)
    for n, (kind, qty) in enumerate(steps):
        before = material(w)
        if kind == "restock":
            do(w, OP, "material.restock", "oil", quantity=qty)
        else:
            # each use is a completed session of its own
            aid = f"u{n}"
            w.snap.put("appointment", {**world_at("payment_verified").appt(), "id": aid})
            do(
                w,
                T1,
                "appointment.complete",
                aid,
                materials=[{"material_id": "oil", "quantity": qty}],
            )
        crossings += crossed(before, material(w))
    restocked = sum(q for k, q in steps if k == "restock")
    used = sum(q for k, q in steps if k == "use")
    assert material(w)["on_hand"] == initial + restocked - used
    assert sum(m["delta"] for m in moves(w)) == restocked - used
    assert len(low_notices(w)) == crossings


@pytest.mark.parametrize(
    ("quantity", "text"),
    [
        (20.0, "20"),
        (-20.0, "-20"),
        (2850.0, "2,850"),
        (2.5, "2.5"),
        (1_000_000.0, "1,000,000"),
        (0.125, "0.125"),
    ],
)
def test_amounts_read_as_people_write_them(quantity: float, text: str) -> None:
    from domain.stock import amount_text

    assert amount_text(quantity) == text
