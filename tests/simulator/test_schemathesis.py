"""schemathesis in process: every PI operation of contracts/piwebapi.yaml against create_app(qa-tiny),
with every check on (no 5xx, schema conformance, documented status codes, negative data rejected,
positive data accepted...). The configuration and the reasons for its few exceptions are in
tests/fuzz.py (`config()`), shared with `make fuzz`, which runs longer against gunicorn.

Bounded for the suite: a fixed seed, deterministic generation, a few examples per operation.
"""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings

from simulator import create_app
from tests.fuzz import CONTRACT
from tests.fuzz import EXCLUDE
from tests.fuzz import config

MAX_EXAMPLES = 15

SETTINGS = schemathesis.Config.from_dict(config(max_examples=MAX_EXAMPLES, deterministic=True))
schema = schemathesis.openapi.from_path(CONTRACT, config=SETTINGS)
# The app checks its own responses against the contract too (x-pisim-always fields, which the
# OpenAPI schema alone does not require): a violation is a 500 that not_a_server_error reports.
schema.app = create_app("qa-tiny", validate_responses=True)


@schema.exclude(path_regex=EXCLUDE).parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_pi_api(case):
    case.call_and_validate()
