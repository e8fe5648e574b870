"""Property-based fuzzing of the public API against its own OpenAPI schema (schemathesis).

Schemathesis reads /openapi.json from the app and generates requests for every route, valid ones
and invalid ones; each response must not be a server error, must use a status code the schema
declares, and must match the schema the partners read. Every route of the schema is fuzzed (one
subtest each), so a new route is covered the day it is added. The fuzzer holds no admin token:
staff routes are fuzzed up to their authentication, and the shared test index is never changed.

schemathesis' own pytest loader (`schemathesis.pytest.from_fixture`) breaks on pytest 9 (it sets
the removed `Node._nodeid`), so each operation's Hypothesis strategy is driven with `@given`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from bot.api.app import create_api
from tests.fixtures.factories import make_service, make_settings

# Requests per route, valid and invalid mixed: an /api/ask example is a real e5 retrieval (~45 s in all).
MAX_EXAMPLES = 24
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory, e5_corpus_index: Path) -> schemathesis.BaseSchema:
    root = tmp_path_factory.mktemp("fuzz")
    config = make_settings(
        embedding__backend="e5",
        index_dir=e5_corpus_index,
        feedback_db=root / "fb.sqlite3",
        access__admin_token="not-given-to-the-fuzzer",
        admission__rate_limit="100000/minute",  # the fuzzer is one client sending hundreds of questions
        admission__feedback_rate_limit="100000/minute",
    )
    return schemathesis.openapi.from_asgi("/openapi.json", create_api(make_service(config), config))


def fuzz(operation: schemathesis.APIOperation) -> None:
    """Valid and invalid requests for one route; raises schemathesis' failure group on the first bad response."""
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)

    @given(case=st.one_of([operation.as_strategy(mode) for mode in modes]))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=CHECKS)

    check()


def test_every_route_honours_its_openapi_schema(api_schema: schemathesis.BaseSchema, subtests: pytest.Subtests) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/ask", "/api/ask/stream", "/api/health", "/api/feedback"}
    for operation in operations:
        with subtests.test(msg=operation.label):
            fuzz(operation)
