"""Staff and accounts (issue 16): who may do what, the fields each role
keeps, unique usernames whatever their case, the password rule, and a
deactivated person's bookings flagged for the operator — as tables."""

from __future__ import annotations

from typing import Any

import pytest

from domain import Actor, Command, apply
from domain.errors import DomainError, Forbidden, InvalidArgs, NotFound
from domain.policy import can_see
from domain.staff import MIN_PASSWORD, UsernameTaken, needs_new_person, password_problem
from tests.domain.world import D1, OP, T1, T2, World, world_at

ANA = {"username": "ana.r", "role": "therapist", "name": "Ana Reyes", "phone": "0917 555 0111"}
NEW_T = {
    "username": "lia",
    "role": "therapist",
    "name": "Lia Ramos",
    "phone": "0917 555 0199",
    "specialization": "Shiatsu",
    "pressure_preference": "firm",
    "license": "MT-2231",
}
NEW_D = {"username": "ben", "role": "driver", "name": "Ben Go", "phone": "0917", "plate": "ABC 123"}


def run(w: World, actor: Actor, command: str, target: str | None, /, **args: Any) -> Any:
    cmd = Command(command, target, args, None, client_id="test", seq=next(w.seq))
    outcome = apply(w.snap, actor, cmd, w.now)
    w.snap.commit(outcome)
    return outcome


def named(w: World) -> World:
    for sid in ("op", "t1", "t2", "t3", "d1", "d2"):
        record = w.snap.get("staff", sid)
        assert record is not None
        w.snap.put("staff", {**record, "username": f"{sid}.user"})
    return w


# ---- who may do what --------------------------------------------------------------

WHO: list[tuple[str, str, dict[str, Any]]] = [
    ("staff.create", "new1", NEW_T),
    ("staff.update", "t2", {"phone": "0918"}),
    ("staff.update", "t2", {"active": False}),
    ("staff.reset_password", "t2", {}),
]


@pytest.mark.parametrize(
    ("name", "target", "args"), WHO, ids=[f"{w[0]}-{i}" for i, w in enumerate(WHO)]
)
@pytest.mark.parametrize(
    ("actor", "allowed"), [(OP, True), (T1, False), (D1, False)], ids=["op", "ther", "drv"]
)
def test_only_the_operator_manages_staff(
    name: str, target: str, args: dict[str, Any], actor: Actor, allowed: bool
) -> None:
    w = named(World())
    if allowed:
        run(w, actor, name, target, **args)
    else:
        with pytest.raises(Forbidden, match="Only the operator"):
            run(w, actor, name, target, **args)


# (actor, target, allowed): only your own password, whoever you are
CHANGE: list[tuple[Actor, str, type[DomainError] | None]] = [
    (T1, "t1", None),
    (D1, "d1", None),
    (OP, "op", None),
    (T1, "t2", Forbidden),
    (OP, "t1", Forbidden),  # the operator resets, never sets, someone's password
]


@pytest.mark.parametrize(("actor", "target", "error"), CHANGE)
def test_change_password_is_your_own(
    actor: Actor, target: str, error: type[DomainError] | None
) -> None:
    w = named(World())
    args = {"current_password": "old-secret", "new_password": "a-new-secret"}
    if error is None:
        assert run(w, actor, "account.change_password", target, **args).changes == ()
    else:
        with pytest.raises(error):
            run(w, actor, "account.change_password", target, **args)


# ---- fields ----------------------------------------------------------------------


def test_create_keeps_the_roles_fields_and_clears_the_others() -> None:
    w = named(World())
    run(w, OP, "staff.create", "n1", **NEW_T)
    run(w, OP, "staff.create", "n2", **{**NEW_D, "license": "stray"})
    lia, ben = w.snap.get("staff", "n1"), w.snap.get("staff", "n2")
    assert lia is not None and ben is not None
    assert (lia["specialization"], lia["license"], lia["plate"]) == ("Shiatsu", "MT-2231", None)
    assert (ben["plate"], ben["license"]) == ("ABC 123", None)
    assert lia["active"] is True and lia["on_duty"] is False and lia["version"] == 1
    assert "password" not in str(lia) and "hash" not in str(lia)
    # everyone sees the new person (the booking form lists them)
    assert all(can_see(a, "staff", lia) for a in (OP, T1, D1))


BAD: list[tuple[dict[str, Any], str]] = [
    ({**ANA, "username": "a"}, "3 to 32"),
    ({**ANA, "username": "ana reyes"}, "3 to 32"),
    ({**ANA, "role": "manager"}, "choose a role"),
    ({**ANA, "name": "  "}, "the person's name"),
    ({k: v for k, v in ANA.items() if k != "phone"}, "a phone number"),
    ({**ANA, "password": "x"}, "Unknown field"),
]


@pytest.mark.parametrize(("args", "words"), BAD, ids=[b[1] for b in BAD])
def test_create_refuses_bad_fields_in_words(args: dict[str, Any], words: str) -> None:
    with pytest.raises(InvalidArgs, match=words):
        run(named(World()), OP, "staff.create", "n1", **args)


@pytest.mark.parametrize("username", ["T1.USER", "t1.user", "  T1.User "])
def test_usernames_are_unique_whatever_their_case(username: str) -> None:
    w = named(World())
    with pytest.raises(UsernameTaken, match="is taken") as caught:
        run(w, OP, "staff.create", "n1", **{**ANA, "username": username.strip()})
    assert (caught.value.status, caught.value.code) == (409, "username_taken")
    with pytest.raises(UsernameTaken):
        run(w, OP, "staff.update", "t2", username=username.strip())
    run(w, OP, "staff.update", "t1", username="T1.User")  # your own, another case: fine


def test_update_changes_fields_and_a_role_change_keeps_only_its_fields() -> None:
    w = named(World())
    run(w, OP, "staff.create", "n1", **NEW_T)
    run(w, OP, "staff.update", "n1", role="driver", plate="XYZ 9")
    n1 = w.snap.get("staff", "n1")
    assert n1 is not None
    assert (n1["role"], n1["plate"], n1["license"], n1["version"]) == ("driver", "XYZ 9", None, 2)
    with pytest.raises(InvalidArgs, match="Nothing to change"):
        run(w, OP, "staff.update", "n1")
    with pytest.raises(NotFound):
        run(w, OP, "staff.update", "nobody", phone="1")


def test_an_operator_cant_lock_themselves_out() -> None:
    w = named(World())
    with pytest.raises(Forbidden, match="your own account"):
        run(w, OP, "staff.update", "op", active=False)
    with pytest.raises(Forbidden, match="your own role"):
        run(w, OP, "staff.update", "op", role="driver")


def test_deactivating_takes_them_off_duty_and_reactivating_restores() -> None:
    w = named(World())
    run(w, OP, "staff.update", "d1", active=False)
    d1 = w.snap.get("staff", "d1")
    assert d1 is not None and (d1["active"], d1["on_duty"]) == (False, False)
    run(w, OP, "staff.update", "d1", active=True)
    d1 = w.snap.get("staff", "d1")
    assert d1 is not None and d1["active"] is True


# ---- passwords --------------------------------------------------------------------

PASSWORDS: list[tuple[object, str | None]] = [
    ("x" * MIN_PASSWORD, None),
    ("x" * (MIN_PASSWORD - 1), f"at least {MIN_PASSWORD}"),
    ("", "Please give"),
    (None, "Please give"),
    (" " * 12, "only spaces"),
    ("y" * 129, "at most 128"),
    ("T1-user-name", None),
    ("t1", f"at least {MIN_PASSWORD}"),
]


@pytest.mark.parametrize(("password", "problem"), PASSWORDS)
def test_the_password_rule(password: object, problem: str | None) -> None:
    found = password_problem(password, "someone")
    assert (found is None) if problem is None else (problem in str(found))


def test_change_password_checks_the_new_one_in_the_same_words() -> None:
    w = named(World())
    w.snap.put("staff", {**(w.snap.get("staff", "t1") or {}), "username": "ana-reyes1"})
    cases = [
        ({"current_password": "old", "new_password": "short"}, f"at least {MIN_PASSWORD}"),
        ({"current_password": "", "new_password": "long-enough"}, "current password"),
        ({"current_password": "same-same", "new_password": "same-same"}, "differ"),
        ({"current_password": "old", "new_password": "ANA-REYES1"}, "your username"),
        ({"current_password": "old", "new_password": "long-enough", "x": 1}, "Unknown"),
    ]
    for args, words in cases:
        with pytest.raises(InvalidArgs, match=words):
            run(w, T1, "account.change_password", "t1", **args)


# ---- bookings of someone who left --------------------------------------------------


def test_a_deactivated_persons_open_bookings_need_a_new_person() -> None:
    w = world_at("therapist_confirmed")
    w.snap.put("staff", {**(w.snap.get("staff", "t1") or {}), "username": "t1"})
    lookup = lambda sid: w.snap.get("staff", sid)  # noqa: E731
    assert needs_new_person(w.appt(), lookup) == []
    run(w, OP, "staff.update", "t1", active=False)
    assert needs_new_person(w.appt(), lookup) == ["Ana Reyes"]
    run(w, OP, "staff.update", "d1", active=False)
    assert needs_new_person(w.appt(), lookup) == ["Ana Reyes", "Dan Santos"]
    # a finished booking keeps its people: nothing to do
    done = {**w.appt(), "status": "transport_completed"}
    assert needs_new_person(done, lookup) == []
    # the operator moves it to someone else: the flag is gone
    run(w, OP, "staff.update", "d1", active=True)
    w.snap.put("appointment", {**w.appt(), "therapist_ids": [T2.id]})
    assert needs_new_person(w.appt(), lookup) == []
