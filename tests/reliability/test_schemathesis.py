"""Schemathesis against /openapi.json of a real server: every endpoint, signed
in as each role in turn, a bounded number of examples, with every check
schemathesis has (its `--checks all`): never a 5xx, every answer's status,
headers and body as the document says, and every refusal is
{status: "rejected", code, message}."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from testkit.server import ServerProcess

EXAMPLES = 25  # per operation and role (bounded: CI time)
ROLES = ("driver1", "operator", "therapist1")
# Refusals of schema-valid requests that the document describes and no schema
# can rule out: a command's `args` are an open object whose rules are the
# domain's and depend on the state (422 invalid_args, e.g. "that therapist is
# booked then"), and a cursor beyond the log is 410 resync_required. The
# schema's own rules must never be what refuses valid data: a 422 for a
# schema-valid request must carry a domain code, never invalid_request.
ALSO_ACCEPTED = ["410", "422"]


def json_number_quirk(value: Any) -> bool:
    """Where JSON Schema's numbers and the server's strict ones part: an
    integer past 2^53 (schemathesis checks bounds in floating point, so it
    takes 2^62 + 1 for "at most 2^62"; the server, exactly, doesn't) or a
    float with no fraction (JSON Schema's "integer" includes 7.0; the wire
    protocol has always refused it: tests/server/test_batch_single_route.py)."""
    if isinstance(value, dict):
        return any(json_number_quirk(v) for v in value.values())
    if isinstance(value, list):
        return any(json_number_quirk(v) for v in value)
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"TANDEM_PICKUP_INTERVAL": "0", "TANDEM_AUTO_CANCEL_INTERVAL": "0",
           # schemathesis signs in with made-up names from one address
           "TANDEM_LOGIN_ADDRESS_FAILURES": "100000", "TANDEM_LOGIN_FREE_FAILURES": "100000"}
    with ServerProcess(tmp_path_factory.mktemp("schemathesis"), seed="staff", env=env) as s:
        yield s


@pytest.mark.parametrize("role", ROLES)
def test_no_server_errors_and_no_schema_mismatch(srv: ServerProcess, role: str) -> None:
    auth = {"Authorization": f"Bearer {srv.login(role)}"}
    schema = schemathesis.openapi.from_url(srv.url + "/openapi.json")
    accepted = schema.config.checks.positive_data_acceptance
    accepted.expected_statuses = [*accepted.expected_statuses, *ALSO_ACCEPTED]
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 5, [o.label for o in operations]
    seen: dict[str, set[int]] = {}

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            response = case.call(headers={**(case.headers or {}), **auth}, timeout=60)
            seen.setdefault(case.operation.label, set()).add(response.status_code)
            case.validate_response(response)  # every check schemathesis has
            if response.status_code >= 400:
                body = response.json()
                assert body["status"] == "rejected" and body["code"] and body["message"], body
                if (case.meta is not None and case.meta.generation.mode.is_positive
                        and not json_number_quirk(case.body)):
                    assert body["code"] != "invalid_request", (case.operation.label, body,
                                                               case.body)
                    if response.status_code == 410:
                        assert case.operation.label == "GET /api/events", body

        check()
    assert all(seen.get(o.label) for o in operations), seen
