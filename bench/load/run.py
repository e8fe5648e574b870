"""Load test of the assistant: start it (or use a running one), then locust, headless, on loopback.

    python -m bench.load.run                       # starts the API (bench/load/app.py), 50 residents, 60 s
    python -m bench.load.run --url http://127.0.0.1:8000 --users 10 --time 20s

First a baseline (one resident alone), then the load, in the same run and against the same server;
both printed as a markdown table and written as JSON. Every simulated resident comes from
127.0.0.1, so the server under test gets a per-client rate limit high enough not to hide the queue.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from bench.servers import free_port, served
from core.models import QWEN_CODER_GGUF, model_path
from core.settings import Settings

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
REPO_ROOT = Path(__file__).resolve().parents[2]
# One client address for every simulated resident: the per-client limit must not be what is measured
LOAD_ENV = {"CUABOT_ADMISSION__RATE_LIMIT": "100000/minute", "CUABOT_ADMISSION__FEEDBACK_RATE_LIMIT": "100000/minute"}


def uvicorn_command(port: int, workers: int = 1) -> list[str]:
    """The API alone (bench/load/app.py) under uvicorn, on 127.0.0.1:port."""
    args = f"-m uvicorn bench.load.app:create --factory --host 127.0.0.1 --port {port} --workers {workers}"
    return [sys.executable, *args.split(), "--log-level", "warning"]


def llama_server_command(port: int) -> list[str]:
    """llama.cpp's own OpenAI-compatible server (llama-cpp-python[server]) with the project's model and settings."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    model = model_path(QWEN_CODER_GGUF, settings.models_dir)
    return [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", settings.generation.model,
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(settings.generation.context),
        "--n_threads", str(settings.generation.threads), "--verbose", "False",
    ]  # fmt: skip


def warm_up(url: str) -> None:
    """One question before measuring: the first one loads the language tools (seconds, once per process)."""
    httpx.post(f"{url}/api/ask", json={"question": "Combien de visiteurs au Numericamp 2024 ?"}, timeout=300)


def run_locust(url: str, residents: int, run_time: str) -> dict[str, Any]:
    """`residents` users asking plus one health probe, all started at once; locust's summary as a dict."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        users = residents + 1
        command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary"]
        command += ["-u", str(users), "-r", str(users), "-t", run_time, "--host", url, "--report-json", str(report)]
        run = subprocess.run(command, cwd=REPO_ROOT, check=False, capture_output=True, text=True)
        if not report.exists():
            raise RuntimeError(f"locust wrote no report:\n{run.stderr[-2000:]}")
        result: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    result["residents"] = residents
    return result


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def markdown(label: str, result: dict[str, Any]) -> str:
    lines = [
        f"{label}: {result['residents']} residents + 1 health probe, {result['run_time']} s",
        "",
        "| route | requests | failures | p50 ms | p95 ms | answered p50 ms | answered p95 ms | status codes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, route in result["routes"].items():
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(route["statuses"].items()))
        lines.append(
            f"| {name} | {route['requests']} | {route['failures']} | {route['p50_ms']:.0f} | {route['p95_ms']:.0f} "
            f"| {ms(route['answered_p50_ms'])} | {ms(route['answered_p95_ms'])} | {codes} |"
        )
    return "\n".join(lines)


def measure(url: str, users: int, run_time: str, baseline_time: str) -> dict[str, Any]:
    runs = {}
    warm_up(url)
    if baseline_time:
        runs["baseline"] = run_locust(url, 1, baseline_time)
    runs["load"] = run_locust(url, users, run_time)
    return runs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="A running server (else `cuabot serve` is started on a free port).")
    parser.add_argument("--users", type=int, default=50, help="Simulated residents (plus one health probe).")
    parser.add_argument("--time", default="60s", help="Duration of the load (locust notation).")
    parser.add_argument("--baseline-time", default="30s", help="One resident alone first; empty to skip.")
    parser.add_argument("--out", type=Path, help="Also write the figures to this JSON file.")
    args = parser.parse_args(argv)
    if args.url:
        runs = measure(args.url, args.users, args.time, args.baseline_time)
    else:
        port = free_port()
        command = [str(Path(sys.executable).parent / "cuabot"), "serve", "--port", str(port)]
        with served(command, port, LOAD_ENV) as url:
            runs = measure(url, args.users, args.time, args.baseline_time)
    if args.out:
        args.out.write_text(json.dumps(runs, indent=2, ensure_ascii=False), encoding="utf-8")
    print("\n\n".join(markdown(label, result) for label, result in runs.items()))


if __name__ == "__main__":
    main()
