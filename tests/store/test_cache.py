from __future__ import annotations

from pathlib import Path

from store.cache import Cache


def _cache(place: Path | None) -> Cache:
    return Cache(place / "cache.json" if place is not None else None)


def rec(id: str, version: int, **fields: object) -> dict[str, object]:
    return {"id": id, "version": version, **fields}


def event(seq: int, id: str, version: int, op: str = "upsert", **data: object) -> dict[str, object]:
    return {"seq": seq, "entity": "appointment", "id": id, "op": op, "version": version,
            "data": rec(id, version, **data) if op == "upsert" else None, "cause": "x"}


def test_bootstrap_replaces_everything_and_sets_cursor(place: Path | None) -> None:
    cache = _cache(place)
    assert cache.needs_bootstrap
    cache.put("appointment", rec("old", 1))
    changed = cache.replace_all({"cursor": 7, "appointments": [rec("a1", 2)],
                                 "staff": [rec("t1", 1, role="therapist")]})
    assert cache.cursor == 7 and not cache.needs_bootstrap
    assert cache.get("appointment", "old") is None
    assert cache.get("appointment", "a1") == rec("a1", 2)
    assert changed == {("appointment", "old"), ("appointment", "a1"), ("staff", "t1")}
    cache.close()


def test_older_events_are_ignored(place: Path | None) -> None:
    cache = _cache(place)
    cache.replace_all({"cursor": 0})
    assert cache.apply_event(event(1, "a1", 3, status="arrived")) == ("appointment", "a1")
    assert cache.apply_event(event(2, "a1", 2, status="journey")) is None
    assert cache.get("appointment", "a1") == rec("a1", 3, status="arrived")
    assert cache.cursor == 2  # the cursor still moves: the event was received
    cache.close()


def test_a_delete_leaves_a_tombstone_against_late_upserts(place: Path | None) -> None:
    cache = _cache(place)
    cache.replace_all({"cursor": 0, "appointments": [rec("a1", 1)]})
    assert cache.apply_event(event(1, "a1", 2, op="delete")) == ("appointment", "a1")
    assert cache.put("appointment", rec("a1", 2)) is False  # e.g. a late command response
    assert cache.get("appointment", "a1") is None
    assert cache.put("appointment", rec("a1", 3)) is True  # visible again later
    cache.close()


def test_delete_older_than_what_we_hold_is_ignored(place: Path | None) -> None:
    cache = _cache(place)
    cache.replace_all({"cursor": 0, "appointments": [rec("a1", 5)]})
    assert cache.apply_event(event(1, "a1", 4, op="delete")) is None
    assert cache.get("appointment", "a1") is not None
    cache.close()


def test_same_record_again_is_not_a_change(place: Path | None) -> None:
    cache = _cache(place)
    cache.replace_all({"cursor": 0})
    assert cache.put("appointment", rec("a1", 1, status="pending"))
    assert not cache.put("appointment", rec("a1", 1, status="pending"))
    cache.close()


def test_state_and_cursor_survive_restart(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache.json")
    cache.replace_all({"cursor": 3, "appointments": [rec("a1", 1)]})
    cache.apply_event(event(4, "a1", 2, status="accepted"))
    cache.close()
    again = Cache(tmp_path / "cache.json")
    assert again.cursor == 4
    assert again.get("appointment", "a1") == rec("a1", 2, status="accepted")
    again.close()


def test_corrupt_cache_means_empty_and_rebootstrap(tmp_path: Path) -> None:
    (tmp_path / "cache.json").write_text("{not json")
    cache = Cache(tmp_path / "cache.json")
    assert cache.corrupt and cache.needs_bootstrap
    assert list(cache.all("appointment")) == []
    cache.close()
