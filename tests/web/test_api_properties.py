"""Property-based API tests generated from the OpenAPI description (schemathesis).

Every operation is called with generated paths, queries and bodies, with a
valid token whose user coordinates one programme (sign-up sheet uploaded, no
scheme yet, so generated runs are refused with 422 rather than started).  Then
every operation on a run, and the lifecycle's uploads, that starts no
background work is called again on a second programme with a published run
(the generated ``pid`` and ``number`` replaced by real ones), so generated
bodies reach the deeper code: tables, explanations and downloads of a real
run, feedback files, intakes, introductions' senders and templates, accept
and reject.  The
property checked: no request makes the server fail (no 5xx).
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from .conftest import ROOT, SAMPLE, Env, wait_run

STARTS_WORK = {"/api/programmes/{pid}/runs", "/api/programmes/{pid}/rematch"}
LIFECYCLE = ("/intake", "/feedback")


def _published(env: Env, owner) -> int:  # type: ignore[no-untyped-def]
    p = env.wb.create_programme(owner, "Fuzzed after publishing", "mentoring")
    env.wb.upload(owner, p.id, "profiles.csv", SAMPLE.read_bytes())
    env.wb.upload(
        owner,
        p.id,
        "conflicts.csv",
        (ROOT / "constraints" / "conflicts.csv").read_bytes(),
        "scheme",
    )
    env.wb.upload_scheme(
        owner, p.id, "mentoring.yaml", (ROOT / "constraints" / "mentoring.yaml").read_bytes()
    )
    env.wb.start_run(owner, p.id, 1)
    assert wait_run(lambda: {"status": env.wb.run(owner, p.id, 1).status})["status"] == "done"
    env.wb.publish(owner, p.id, 1)
    return int(p.id)


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

    pid = _published(env, owner)
    for operation in operations:
        if operation.method.upper() == "POST" and operation.path in STARTS_WORK:
            continue
        if "{number}" not in operation.path and not operation.path.endswith(LIFECYCLE):
            continue  # reaches nothing the first pass did not

        @given(case=operation.as_strategy())
        @settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
        def deep(case) -> None:  # type: ignore[no-untyped-def]
            if "pid" in case.path_parameters:
                case.path_parameters["pid"] = pid
            if "number" in case.path_parameters:
                case.path_parameters["number"] = 1
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        deep()
