"""Two API workers on shared stores (issue 29), everything on one machine, on loopback (`make scale`).

    python -m bench.scale                              # 50 clients for 60 s, a staff re-index on worker A meanwhile
    python -m bench.scale --clients 10 --seconds 20 --out /tmp/scale

Each on a free port of 127.0.0.1: llama.cpp's OpenAI-compatible server (the project's model), a Chroma server over
a copy of the live index's embedded Chroma folder (the same collections), a throw-away PostgreSQL cluster (`make
postgres`) and two `cuabot serve` workers sharing a copy of the index folder and the corpus, the Chroma server,
PostgreSQL and the model server. The clients are split over the workers, one locust process each
(bench/load/locustfile.py: mixed questions, a feedback after some answers, /api/health probed). `--reindex-after`
seconds into the load, a staff member adds to worker A a document holding a fact found nowhere else and re-indexes
there; once the new generation is live, both workers are asked about that fact until the first event of their
stream (the evidence) quotes it. Then the feedback rows in PostgreSQL are counted against the accepted ones.
Report: bench/results/scale-<date>.md, each target with pass / fail.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import chromadb
import httpx
from chromadb.config import Settings as ChromaSettings
from sqlalchemy import create_engine, text

from bench.load.run import LOAD_ENV, llama_server_command, run_locust, warm_up
from bench.servers import free_port, running_postgres, served
from core.settings import get_settings
from ingest.store import POINTER, read_chunks, read_pointer

RESULTS = Path(__file__).resolve().parent / "results"
CHROMA = Path(sys.executable).with_name("chroma")
CUABOT = Path(sys.executable).with_name("cuabot")
WORKERS = ("A", "B")
START_TIMEOUT_S = 600.0
CLIENT_TIMEOUT_S = 60.0  # as bench/load/locustfile.py
# The staff member's document: a fact found nowhere else in the corpus, and the question that finds it
NEW_DOCUMENT = (
    "# Navette fluviale de la Scarpe\n\n"
    "La navette fluviale de la Scarpe part du quai d'Arras chaque samedi à 10 h 40.\n\n"
    "Le billet de la navette fluviale coûte 2 euros.\n"
)
NEW_DOCUMENT_ID = "scale-navette-fluviale"
NEW_FACT_QUESTION = "À quelle heure part la navette fluviale de la Scarpe le samedi ?"
REINDEX_POLL_S = 0.2
REINDEX_TIMEOUT_S = 900.0
PICKED_UP_TARGET_S = 5.0
PICKUP_TIMEOUT_S = 120.0
PROBE_INTERVAL_S = 0.2


@dataclass(frozen=True)
class Pickup:
    """Seconds after the new generation went live (its pointer's mtime) when a worker first quoted the new fact, and
    when its /metrics first named the generation (any question it admitted loads it); None when not within
    PICKUP_TIMEOUT_S. `refused`: its probe questions refused before (503, queue full)."""

    seconds: float | None
    switched: float | None
    refused: int


@dataclass(frozen=True)
class Reindex:
    state: str  # done, failed, or what went wrong (upload 409, timeout…)
    started_s: float  # seconds since the load started
    ended_s: float
    passages: int
    pickups: dict[str, Pickup]


@dataclass(frozen=True)
class ScaleRun:
    clients: int
    seconds: int
    loads: dict[str, dict[str, Any]]  # worker -> locust's report (bench/load/locustfile.py summary)
    feedback_stored: int
    reindex: Reindex
    load_average: tuple[float, float]  # 1-minute, before and after the load


# --- the deployment -----------------------------------------------------------------------------------------------


def workspace(folder: Path) -> tuple[Path, Path, Path]:
    """Copies of the live index (without its embedded Chroma), the corpus and the Chroma folder, under `folder`."""
    settings = get_settings()
    index, corpus, chroma = folder / "index", folder / "corpus", folder / "chroma"
    shutil.copytree(settings.index_dir, index, ignore=shutil.ignore_patterns("chroma", ".build.lock"))
    shutil.copytree(settings.corpus_dir, corpus)
    shutil.copytree(settings.index_dir / "chroma", chroma)
    return index, corpus, chroma


def check_collection_served(chroma_url: str, index: Path) -> None:
    """The Chroma server holds the live generation's collection, every passage of it (else the workers would
    answer from nothing)."""
    pointer = read_pointer(index)
    assert pointer is not None, f"no index in {index}"
    chunks = len(read_chunks(index / pointer["generation"] / "chunks.jsonl"))
    port = int(chroma_url.rsplit(":", 1)[1])
    client = chromadb.HttpClient(host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False))
    count = client.get_collection(pointer["collection"]).count()
    if count != chunks:
        raise RuntimeError(f"the Chroma server holds {count} vectors of {pointer['collection']}, not {chunks}")


def worker_env(
    model_url: str, chroma_url: str, database_url: str, index: Path, corpus: Path, token: str
) -> dict[str, str]:
    return {
        "CUABOT_GENERATION__BACKEND": "openai",
        "CUABOT_GENERATION__BASE_URL": f"{model_url}/v1",
        "CUABOT_STORE__CHROMA_URL": chroma_url,
        "CUABOT_DATABASE__URL": database_url,
        "CUABOT_INDEX_DIR": str(index),
        "CUABOT_CORPUS_DIR": str(corpus),
        "CUABOT_ACCESS__ADMIN_TOKEN": token,
        **LOAD_ENV,  # every client comes from 127.0.0.1: the per-client limits must not be what is measured
    }


def start_deployment(stack: ExitStack, folder: Path, token: str) -> tuple[list[str], str, Path]:
    """The model server, Chroma, PostgreSQL and the two workers, stopped when `stack` closes: the workers' URLs,
    the database URL and the shared index folder. The workers start one after the other (2 cores: loading them
    side by side is no faster)."""
    index, corpus, chroma_data = workspace(folder)
    model_port = free_port()
    model_url = stack.enter_context(
        served(llama_server_command(model_port), model_port, {}, START_TIMEOUT_S, "/v1/models")
    )
    chroma_port = free_port()  # each port taken once the server before has bound its own
    chroma = [str(CHROMA), "run", "--path", str(chroma_data), "--host", "127.0.0.1", "--port", str(chroma_port)]
    chroma_url = stack.enter_context(
        served(chroma, chroma_port, {"ANONYMIZED_TELEMETRY": "False"}, START_TIMEOUT_S, "/api/v2/heartbeat")
    )
    check_collection_served(chroma_url, index)
    database_url = stack.enter_context(running_postgres()).url
    env = worker_env(model_url, chroma_url, database_url, index, corpus, token)
    urls = []
    for _ in WORKERS:
        port = free_port()
        command = [str(CUABOT), "serve", "--port", str(port)]
        urls.append(stack.enter_context(served(command, port, env, START_TIMEOUT_S)))
    return urls, database_url, index


# --- the staff re-index and its pick-up -----------------------------------------------------------------------------


def reindex_on(url: str, token: str) -> tuple[str, int]:
    """Add the new document, start a re-index, follow it to its end: its state and the passages it indexed."""
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=CLIENT_TIMEOUT_S) as http:
            return add_document_and_reindex(http)
    except httpx.HTTPError as exc:
        return f"error ({type(exc).__name__})", 0


def add_document_and_reindex(http: httpx.Client) -> tuple[str, int]:
    """Upload the new document, start the re-index, then poll it until it ends."""
    files = {"file": (f"{NEW_DOCUMENT_ID}.md", NEW_DOCUMENT.encode(), "text/markdown")}
    upload = http.post("/api/admin/documents", files=files, data={"title": "Navette fluviale (bench)"})
    if upload.status_code != 201:
        return f"upload {upload.status_code}", 0
    start = http.post("/api/admin/reindex")
    if start.status_code != 202:
        return f"reindex {start.status_code}", 0
    deadline = time.monotonic() + REINDEX_TIMEOUT_S
    while time.monotonic() < deadline:
        status = http.get("/api/admin/reindex").json()
        if status["state"] in {"done", "failed"}:
            return str(status["state"]), int(status.get("passages_total") or 0)
        time.sleep(REINDEX_POLL_S)
    return "timeout", 0


def ask_new_fact(http: httpx.Client) -> tuple[int, bool]:
    """Ask about the new fact on the stream: its status code, and whether its first event (the evidence, sent before
    the model's turn) quotes the new document. The stream is left there, which frees its place in the queue."""
    with http.stream("POST", "/api/ask/stream", json={"question": NEW_FACT_QUESTION}) as response:
        if response.status_code != 200:
            return response.status_code, False
        data = next(line for line in response.iter_lines() if line.startswith("data:"))
    quotes = json.loads(data.removeprefix("data:")).get("evidence", [])
    return 200, any(quote["document"] == NEW_DOCUMENT_ID for quote in quotes)


def serves_generation(http: httpx.Client, generation: str) -> bool:
    """Whether the worker's /metrics names `generation` as the one answering."""
    try:
        return f'generation="{generation}"' in http.get("/metrics").text
    except httpx.HTTPError:
        return False


def picked_up(url: str, live_since: float, generation: str) -> Pickup:
    """Ask `url` about the new fact until it quotes it (seconds since `live_since`, epoch)."""
    refused, switched = 0, None
    with httpx.Client(base_url=url, timeout=CLIENT_TIMEOUT_S) as http:
        while time.time() - live_since < PICKUP_TIMEOUT_S:
            if switched is None and serves_generation(http, generation):
                switched = time.time() - live_since
            try:
                status, quoted = ask_new_fact(http)
            except httpx.HTTPError:
                status, quoted = 0, False
            if quoted:
                seconds = time.time() - live_since
                return Pickup(seconds, seconds if switched is None else switched, refused)
            refused += status == 503
            time.sleep(PROBE_INTERVAL_S)
    return Pickup(None, switched, refused)


def staff_reindex(urls: list[str], token: str, index: Path, load_started: float) -> Reindex:
    """The re-index on the first worker, then how soon each worker answers from it."""
    started = time.monotonic() - load_started
    state, passages = reindex_on(urls[0], token)
    ended = time.monotonic() - load_started
    if state != "done":
        return Reindex(state, started, ended, passages, {})
    live_since = (index / POINTER).stat().st_mtime
    pointer = read_pointer(index)
    assert pointer is not None
    with ThreadPoolExecutor(len(urls)) as pool:
        pickups = list(pool.map(lambda url: picked_up(url, live_since, pointer["generation"]), urls))
    return Reindex(state, started, ended, passages, dict(zip(WORKERS, pickups, strict=True)))


# --- the run --------------------------------------------------------------------------------------------------------


def stored_feedback(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM feedback")).scalar_one())
    finally:
        engine.dispose()


def scale(
    urls: list[str], database_url: str, index: Path, token: str, clients: int, seconds: int, reindex_after: float
) -> ScaleRun:
    """The clients split over the workers for `seconds`, the staff re-index `reindex_after` seconds in."""
    for url in urls:
        warm_up(url)  # each worker's first question loads its language tools: not part of the load
    shares = [clients // len(urls) + (n < clients % len(urls)) for n in range(len(urls))]
    load_before = os.getloadavg()[0]
    with ThreadPoolExecutor(len(urls)) as pool:
        load_started = time.monotonic()
        loads = [pool.submit(run_locust, url, share, f"{seconds}s") for url, share in zip(urls, shares, strict=True)]
        time.sleep(reindex_after)
        reindex = staff_reindex(urls, token, index, load_started)
        results = dict(zip(WORKERS, (load.result() for load in loads), strict=True))
    load_after = os.getloadavg()[0]
    return ScaleRun(clients, seconds, results, stored_feedback(database_url), reindex, (load_before, load_after))


# --- the report -----------------------------------------------------------------------------------------------------


def statuses(load: dict[str, Any], prefix: str = "/") -> Counter[str]:
    """Status codes (or timeout, error) of the requests whose name starts with `prefix`."""
    routes = (route for name, route in load["routes"].items() if name.startswith(prefix))
    return sum((Counter(route["statuses"]) for route in routes), Counter())


def codes_text(codes: Counter[str]) -> str:
    return ", ".join(f"{code}: {n:,}" for code, n in sorted(codes.items()))


def server_errors(codes: Counter[str]) -> int:
    """5xx other than the deliberate 503, and requests that got no response at all (connection errors)."""
    return sum(n for code, n in codes.items() if (code.startswith("5") and code != "503") or code == "error")


def answered_ms(loads: Iterable[dict[str, Any]], prefix: str) -> list[float]:
    """The times of the 200s of the requests whose name starts with `prefix`."""
    return [
        ms
        for load in loads
        for name, route in load["routes"].items()
        if name.startswith(prefix)
        for ms in route["answered_ms"]
    ]


def percentiles(values: list[float]) -> str:
    """p50 / p95 (inclusive method), in ms."""
    if len(values) < 2:
        return f"{values[0]:,.0f}" if values else "-"
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return f"{cuts[49]:,.0f} / {cuts[94]:,.0f}"


def requests(loads: Iterable[dict[str, Any]]) -> str:
    """Questions, feedback and health requests."""
    count: Counter[str] = Counter()
    for load in loads:
        for name, route in load["routes"].items():
            count[name.split(" ")[0]] += route["requests"]
    return f"{count['/api/ask']:,} / {count['/api/feedback']:,} / {count['/api/health']:,}"


def column(loads: list[dict[str, Any]]) -> dict[str, str]:
    """The figures of one worker's load, or of several together."""
    codes = sum((statuses(load) for load in loads), Counter())
    accepted = sum(load["feedback"]["accepted"] for load in loads)
    refused = sum(load["feedback"]["refused"] for load in loads)
    return {
        "requests: questions / feedback / health": requests(loads),
        "status codes: questions": codes_text(sum((statuses(load, "/api/ask") for load in loads), Counter())),
        "status codes: feedback": codes_text(sum((statuses(load, "/api/feedback") for load in loads), Counter())),
        "status codes: health": codes_text(sum((statuses(load, "/api/health") for load in loads), Counter())),
        "5xx other than 503, connection errors": str(server_errors(codes)),
        "client time-outs (60 s)": str(codes["timeout"]),
        "answered questions (200), p50 / p95 ms": percentiles(answered_ms(loads, "/api/ask")),
        "health (200), p50 / p95 ms": percentiles(answered_ms(loads, "/api/health")),
        "feedback accepted / refused (503, 429)": f"{accepted} / {refused}",
    }


def pickup_text(pickup: Pickup | None) -> str:
    if pickup is None:
        return "-"
    switched = "-" if pickup.switched is None else f"{pickup.switched:.1f} s"
    seconds = f"not within {PICKUP_TIMEOUT_S:.0f} s" if pickup.seconds is None else f"{pickup.seconds:.1f} s"
    return f"{seconds} (generation loaded: {switched}; probe questions refused with 503 first: {pickup.refused})"


def slowest_pickup(reindex: Reindex) -> float | None:
    """Seconds until both workers answered from the re-index; None when one did not (or the re-index failed)."""
    seconds = [p.seconds for p in reindex.pickups.values() if p.seconds is not None]
    return max(seconds) if len(seconds) == len(WORKERS) else None


def targets(run: ScaleRun) -> list[tuple[str, str, bool]]:
    """Issue 29's target, part by part: (target, measured, met). A feedback stored but never seen accepted (its
    request cut when locust stopped its clients) is not lost."""
    loads = list(run.loads.values())
    codes = sum((statuses(load) for load in loads), Counter())
    errors = server_errors(codes)
    accepted = sum(load["feedback"]["accepted"] for load in loads)
    slowest = slowest_pickup(run.reindex)
    picked_up = f"slowest {slowest:.1f} s" if slowest is not None else f"re-index {run.reindex.state}, not by both"
    return [
        ("no 5xx other than the deliberate 503", str(errors), errors == 0),
        ("no client time-out", str(codes["timeout"]), codes["timeout"] == 0),
        ("no feedback lost", f"{accepted} accepted, {run.feedback_stored} stored", run.feedback_stored >= accepted),
        (
            f"a re-index on A answered from by both within {PICKED_UP_TARGET_S:.0f} s of its end",
            picked_up,
            slowest is not None and slowest <= PICKED_UP_TARGET_S,
        ),
    ]


def markdown(run: ScaleRun, when: datetime) -> str:
    columns = {f"worker {name}": column([load]) for name, load in run.loads.items()}
    columns["total"] = column(list(run.loads.values()))
    rows = list(columns["total"])
    reindex = run.reindex
    lines = [
        f"# Two workers on shared stores, {when:%Y-%m-%d %H:%M} UTC",
        "",
        f"`python -m bench.scale --clients {run.clients} --seconds {run.seconds}`: {os.cpu_count()} CPUs, load average"
        f" {run.load_average[0]:.1f} before the load and {run.load_average[1]:.1f} after; llama.cpp's server, a Chroma"
        " server, PostgreSQL and 2 `cuabot serve` workers on this machine, on loopback; "
        f"{run.clients} clients for {run.seconds} s split over the workers (+1 health probe each).",
        "",
        "| | " + " | ".join(columns) + " |",
        "|---|" + "---|" * len(columns),
        *(f"| {row} | " + " | ".join(c[row] for c in columns.values()) + " |" for row in rows),
        f"| feedback rows in PostgreSQL | | | {run.feedback_stored} |",
        "| re-index picked up after its end | "
        + " | ".join(pickup_text(reindex.pickups.get(name)) for name in WORKERS)
        + " | |",
        "",
        f"Staff re-index on worker A: {reindex.state} (passages embedded: {reindex.passages}), from"
        f" {reindex.started_s:.0f} s to {reindex.ended_s:.0f} s after the load's start; pick-up is timed from the new"
        " generation's pointer (`current.json` mtime) to the first stream whose evidence quotes the new document.",
        "",
        "| target | measured | |",
        "|---|---|---|",
        *(f"| {target} | {value} | {'pass' if met else '**fail**'} |" for target, value, met in targets(run)),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50, help="Residents, split over the two workers.")
    parser.add_argument("--seconds", type=int, default=60, help="Duration of the load.")
    parser.add_argument("--reindex-after", type=float, default=10.0, help="Seconds into the load the re-index starts.")
    parser.add_argument("--out", type=Path, default=RESULTS, help="Folder of scale-<date>.md.")
    args = parser.parse_args(argv)
    token = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="cuabot-scale-") as folder, ExitStack() as stack:
        urls, database_url, index = start_deployment(stack, Path(folder), token)
        run = scale(urls, database_url, index, token, args.clients, args.seconds, args.reindex_after)
    when = datetime.now(UTC)
    report = markdown(run, when)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"scale-{when:%Y-%m-%d}.md").write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
