"""Schemathesis against /openapi.json of a real server: every endpoint,
signed in as the operator, a bounded number of examples; never a 5xx, and every
refusal is {status: "rejected", code, message}."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from testkit.server import ServerProcess

EXAMPLES = 25  # per operation (bounded: CI time)


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"TANDEM_PICKUP_INTERVAL": "0", "TANDEM_AUTO_CANCEL_INTERVAL": "0"}
    with ServerProcess(tmp_path_factory.mktemp("schemathesis"), seed="staff", env=env) as s:
        yield s


def test_no_server_errors(srv: ServerProcess) -> None:
    auth = {"Authorization": f"Bearer {srv.login('operator')}"}
    schema = schemathesis.openapi.from_url(srv.url + "/openapi.json")
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
            case.validate_response(response, checks=[not_a_server_error])
            if response.status_code >= 400:
                body = response.json()
                assert body["status"] == "rejected" and body["code"] and body["message"], body

        check()
    assert all(seen.get(o.label) for o in operations), seen
