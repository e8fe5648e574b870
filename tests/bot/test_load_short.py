"""A short load test, as CI can afford: the API under uvicorn (mock generator, e5 index) under locust.

Ten residents ask mixed questions for 20 s while a probe polls /api/health. No server error other
than a deliberate 503 (queue full), no client time-out, and every kind of question answered.
The full run (50 residents, the real models) is `make load`, its figures in the README.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bench.load.run import LOAD_ENV, run_locust, uvicorn_command, warm_up
from bench.servers import free_port, served
from tests.fixtures.live_server import served_api_env

pytestmark = pytest.mark.slow
# request names of bench/load/locustfile.py (not imported: locust monkey-patches the process with gevent)
HEALTH = "/api/health"


def test_ten_residents_get_no_server_error_and_no_time_out(e5_corpus_index: Path, tmp_path: Path) -> None:
    port = free_port()
    env = served_api_env(tmp_path, e5_corpus_index, **LOAD_ENV)
    with served(uvicorn_command(port), port, env, ready_timeout_s=180) as url:
        warm_up(url)
        result = run_locust(url, residents=10, run_time="20s")

    routes = result["routes"]
    statuses = sum((Counter(route["statuses"]) for route in routes.values()), Counter())
    assert statuses["timeout"] == 0 and statuses["error"] == 0, statuses
    assert not {code for code in statuses if code.startswith("5") and code != "503"}, statuses
    for group in ("answerable", "unanswerable", "injection"):
        assert routes[f"/api/ask [{group}]"]["statuses"].get("200", 0) > 0, routes
    assert routes[HEALTH]["statuses"] == {"200": routes[HEALTH]["requests"]} and routes[HEALTH]["requests"] >= 20
