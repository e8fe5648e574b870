"""Throughput with generation on a separate server: llama.cpp's OpenAI-compatible server, API with 1 then 2 workers.

    python -m bench.load.separate_server [--questions 6] [--clients 3]

The same answerable questions (eval dev split) are sent by a few concurrent clients to the API
under uvicorn with 1, then 2 workers, both phrasing through one llama.cpp server; the 1-worker
run is the baseline of the 2-worker one. Default settings otherwise (data/index, its embedder).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bench.load.run import LOAD_ENV, REPO_ROOT, llama_server_command, uvicorn_command
from bench.servers import free_port, served

QUESTIONS = REPO_ROOT / "eval" / "data" / "cua" / "questions.jsonl"


def answerable_questions(count: int) -> list[str]:
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["question"] for r in rows if r["kind"] == "factual" and r["split"] == "dev"][:count]


def ask(url: str, question: str) -> tuple[float, str]:
    started = time.perf_counter()
    response = httpx.post(f"{url}/api/ask", json={"question": question}, timeout=300)
    outcome = response.json()["outcome"] if response.status_code == 200 else str(response.status_code)
    return time.perf_counter() - started, outcome


def measure(url: str, questions: list[str], clients: int) -> dict[str, Any]:
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda q: ask(url, q), questions[:clients]))  # warm-up: each worker loads its tools
        started = time.perf_counter()
        results = list(pool.map(lambda q: ask(url, q), questions))
        elapsed = time.perf_counter() - started
    latencies = [seconds for seconds, _ in results]
    return {
        "questions": len(questions),
        "clients": clients,
        "elapsed_s": round(elapsed, 1),
        "per_minute": round(60 * len(questions) / elapsed, 2),
        "latency_p50_s": round(statistics.median(latencies), 1),
        "latency_max_s": round(max(latencies), 1),
        "outcomes": dict(Counter(outcome for _, outcome in results)),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=6)
    parser.add_argument("--clients", type=int, default=3)
    args = parser.parse_args(argv)
    questions = answerable_questions(args.questions)
    results = {}
    llama_port = free_port()
    with served(llama_server_command(llama_port), llama_port, {}, ready_path="/v1/models") as llama_url:
        env = {**LOAD_ENV, "CUABOT_GENERATION__BACKEND": "openai", "CUABOT_GENERATION__BASE_URL": f"{llama_url}/v1"}
        for workers in (1, 2):
            port = free_port()
            with served(uvicorn_command(port, workers), port, env) as url:
                results[f"{workers} worker(s)"] = measure(url, questions, args.clients)
    print("| API | questions | clients | elapsed s | answers/min | p50 s | max s | outcomes |")
    print("|---|---|---|---|---|---|---|---|")
    for label, r in results.items():
        print(
            f"| {label} | {r['questions']} | {r['clients']} | {r['elapsed_s']} | {r['per_minute']} "
            f"| {r['latency_p50_s']} | {r['latency_max_s']} | {r['outcomes']} |"
        )


if __name__ == "__main__":
    main()
