"""Property-based API tests generated from the OpenAPI description (schemathesis).

Every operation is called with generated paths, queries and bodies, with a
valid token whose user coordinates one programme (sign-up sheet uploaded, no
scheme yet, so generated runs are refused with 422 rather than started).  The
property checked: no request makes the server fail (no 5xx).
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from .conftest import SAMPLE, Env


def test_no_request_makes_the_server_fail(env: Env) -> None:
    owner = env.user()
    headers = env.token(owner)
    p = env.wb.create_programme(owner, "Fuzzed", "mentoring")
    env.wb.upload(owner, p.id, "profiles.csv", SAMPLE.read_bytes())
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", env.client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
        def call(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        call()
