"""Load test of a served assistant: residents asking mixed questions, and /api/health probed alongside.

Run by `bench/load/run.py` (or `locust -f bench/load/locustfile.py --headless ...`). Questions come
from eval/data/cua/questions.jsonl: answerable, unanswerable (off topic included) and injection
attempts, weighted 3:1:1. After an answer, a resident now and then sends a feedback (/api/feedback), as
the widget's buttons do. A request still unanswered after 60 s is a client time-out. A 503 (queue full, or
the feedback database unreachable) or 429 (rate limit) is a deliberate refusal of the service, counted apart
from errors. `--report-json FILE` writes requests, status codes, time-outs and p50/p95 per route, and the
feedback accepted (200) and refused.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from locust import HttpUser, between, constant, events, task
from locust.env import Environment

QUESTIONS = Path(__file__).resolve().parents[2] / "eval" / "data" / "cua" / "questions.jsonl"
CLIENT_TIMEOUT_S = 60.0
DELIBERATE = {429, 503}
GROUPS = {
    "answerable": {"factual", "paraphrase", "multi_fact", "list"},
    "unanswerable": {"unanswerable", "off_topic"},
    "injection": {"injection"},
}
HEALTH = "/api/health"
FEEDBACK = "/api/feedback"
FEEDBACK_SHARE = 0.5  # of the answered questions
FEEDBACK_BODY = {"rating": "up", "reasons": ["clair"], "origin": "widget"}

# status code (or "timeout" / "error") per request name, and the exact times of the 200s (ms);
# users are greenlets of one process
STATUSES: defaultdict[str, Counter[str]] = defaultdict(Counter)
ANSWERED_MS: defaultdict[str, list[float]] = defaultdict(list)


def load_questions() -> dict[str, list[str]]:
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {group: [r["question"] for r in rows if r["kind"] in kinds] for group, kinds in GROUPS.items()}


QUESTIONS_BY_GROUP = load_questions()


def ask_name(group: str) -> str:
    return f"/api/ask [{group}]"


def record(name: str, response: Any, started: float) -> str:
    """The outcome of one request: its status code, or timeout / error when none came back."""
    if response.status_code:
        outcome = str(response.status_code)
    else:
        outcome = "timeout" if "timed out" in str(response.error).lower() else "error"
    STATUSES[name][outcome] += 1
    if outcome == "200":
        ANSWERED_MS[name].append(1000 * (time.perf_counter() - started))
    return outcome


def settle(response: Any, outcome: str) -> None:
    """A 200 or a deliberate refusal is a success for locust; anything else a failure."""
    if outcome == "200" or outcome in {str(code) for code in DELIBERATE}:
        response.success()
    else:
        response.failure(f"{outcome}: {str(response.text)[:200]}")


def percentile(values: list[float], share: float) -> float | None:
    """Exact percentile (inclusive method) of the 200 responses' times; None without any."""
    if len(values) < 2:
        return values[0] if values else None
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


class Resident(HttpUser):
    """Asks a question, reads the answer, asks again."""

    wait_time = between(1, 3)

    def ask(self, group: str) -> None:
        name = ask_name(group)
        question = random.choice(QUESTIONS_BY_GROUP[group])
        started = time.perf_counter()
        with self.client.post(
            "/api/ask", json={"question": question}, name=name, timeout=CLIENT_TIMEOUT_S, catch_response=True
        ) as response:
            outcome = record(name, response, started)
            settle(response, outcome)
        if outcome == "200" and random.random() < FEEDBACK_SHARE:
            self.give_feedback()

    def give_feedback(self) -> None:
        started = time.perf_counter()
        with self.client.post(
            FEEDBACK, json=FEEDBACK_BODY, name=FEEDBACK, timeout=CLIENT_TIMEOUT_S, catch_response=True
        ) as response:
            settle(response, record(FEEDBACK, response, started))

    @task(3)
    def answerable(self) -> None:
        self.ask("answerable")

    @task(1)
    def unanswerable(self) -> None:
        self.ask("unanswerable")

    @task(1)
    def injection(self) -> None:
        self.ask("injection")


class HealthProbe(HttpUser):
    """One monitoring client polling /api/health twice a second while residents ask."""

    fixed_count = 1
    wait_time = constant(0.5)

    @task
    def health(self) -> None:
        started = time.perf_counter()
        with self.client.get(HEALTH, name=HEALTH, timeout=CLIENT_TIMEOUT_S, catch_response=True) as response:
            if record(HEALTH, response, started) != "200":
                response.failure(f"health: {response.status_code}")


def summary(environment: Environment) -> dict[str, Any]:
    """Per route: requests, failures, status codes, p50/p95 in ms of all requests (locust's two-significant-digit
    buckets, 503s included) and of the answered ones (200, exact; their times in `answered_ms`); the feedback
    accepted and refused."""
    routes = {}
    for name in sorted(STATUSES):
        stats = environment.stats.get(name, "GET" if name == HEALTH else "POST")
        routes[name] = {
            "requests": stats.num_requests,
            "failures": stats.num_failures,
            "p50_ms": stats.get_response_time_percentile(0.5),
            "p95_ms": stats.get_response_time_percentile(0.95),
            "answered_p50_ms": percentile(ANSWERED_MS[name], 0.5),
            "answered_p95_ms": percentile(ANSWERED_MS[name], 0.95),
            "statuses": dict(STATUSES[name]),
            "answered_ms": sorted(ANSWERED_MS[name]),
        }
    feedback = STATUSES.get(FEEDBACK, Counter())
    options = environment.parsed_options
    return {
        "host": environment.host,
        "users": getattr(options, "num_users", None),
        "run_time": getattr(options, "run_time", None),
        "routes": routes,
        "feedback": {"accepted": feedback["200"], "refused": sum(feedback[str(code)] for code in DELIBERATE)},
    }


@events.init_command_line_parser.add_listener
def add_report_option(parser: Any) -> None:
    parser.add_argument("--report-json", type=str, default="", help="Write the summary to this JSON file.")


@events.quitting.add_listener
def write_report(environment: Environment, **_: Any) -> None:
    path = getattr(environment.parsed_options, "report_json", "")
    if path:
        Path(path).write_text(json.dumps(summary(environment), indent=2, ensure_ascii=False), encoding="utf-8")
