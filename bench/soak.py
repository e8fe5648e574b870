"""Soak test (`make soak`): the real service answering mixed questions for a long while, one staff re-index midway.

    python -m bench.soak                    # 30 minutes, 4 clients, a question then a pause of ~30 s
    python -m bench.soak --minutes 2 --out /tmp/soak

`cuabot serve` (local llama.cpp model, default settings) runs over a copy of the live index and corpus in a
temporary folder, so the repository's `data/index` and `corpus/` are left as they are. Each client asks, reads the
answer, waits `--pause` seconds (jittered 0.5-1.5x), asks again: answerable questions, refusals (unanswerable and
off topic) and injection attempts of eval/data/cua/questions.jsonl (3:1:1), some followed by a short follow-up with
the previous turn as history, half through /api/ask and half through /api/ask/stream. Halfway through, a staff
member adds a document and starts a re-index, followed until it ends. The server's resident memory (its process
tree) is sampled every few seconds; the report (bench/soak_report.py) gives a row per minute, the three targets and
a plot.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from bench.load.run import LOAD_ENV, warm_up
from bench.servers import free_port, served
from bench.soak_report import MemorySample, Outcome, ReindexRun, SoakRun, write_report
from bot.api.schemas import MAX_TURN_CHARS
from core.settings import get_settings

QUESTIONS = Path(__file__).resolve().parents[1] / "eval" / "data" / "cua" / "questions.jsonl"
RESULTS = Path(__file__).resolve().parent / "results"
GROUPS = {
    "answerable": {"factual", "paraphrase", "multi_fact", "list"},
    "refusal": {"unanswerable", "off_topic"},
    "injection": {"injection"},
}
WEIGHTS = {"answerable": 3, "refusal": 1, "injection": 1}
# Short questions after an answered one, searched together with it (retrieval.follow_up_max_words)
FOLLOW_UPS = ("Et c'était où ?", "Et quand exactement ?", "Et qui s'en occupe ?", "Et combien ça coûte ?")
FOLLOW_UP_SHARE = 0.3
STREAM_SHARE = 0.5
# Past the queue's wait (20 s) and the model's time-out (45 s) the service answers with the evidence alone: a
# request still open after this is a client time-out, an error
CLIENT_TIMEOUT_S = 120.0
MEMORY_SAMPLE_S = 5.0
# The staff member's document: a copy of a small shipped one under a new name, so the re-index embeds something
STAFF_DOCUMENT = "forum-ia-lambersart.txt"
STAFF_UPLOAD_NAME = "soak-copie-forum.txt"
REINDEX_POLL_S = 2.0
REINDEX_TIMEOUT_S = 1800.0


@dataclass(frozen=True)
class Question:
    kind: str
    text: str
    history: list[dict[str, str]] = field(default_factory=list)


class Clock:
    """Seconds since the soak's start, and its end."""

    def __init__(self, duration_s: float) -> None:
        self.start = time.monotonic()
        self.duration_s = duration_s

    def now(self) -> float:
        return time.monotonic() - self.start

    def left(self) -> float:
        return self.duration_s - self.now()


def load_questions(path: Path = QUESTIONS) -> dict[str, list[str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {group: [r["question"] for r in rows if r["kind"] in kinds] for group, kinds in GROUPS.items()}


def next_question(rng: random.Random, questions: dict[str, list[str]], answered: tuple[str, str] | None) -> Question:
    """A follow-up of the last answered question now and then, else a question of a group drawn by its weight."""
    if answered and rng.random() < FOLLOW_UP_SHARE:
        previous, answer = answered
        # cut as the widget cuts it (GET /api/config's max_turn_chars)
        history = [{"role": "user", "content": previous}, {"role": "assistant", "content": answer[:MAX_TURN_CHARS]}]
        return Question("follow-up", rng.choice(FOLLOW_UPS), history)
    group = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
    return Question(group, rng.choice(questions[group]))


def ask_plain(http: httpx.Client, body: dict[str, object]) -> tuple[str, str | None]:
    """POST /api/ask: its status code, and the answer's text when it is a 200."""
    response = http.post("/api/ask", json=body)
    if response.status_code != 200:
        return str(response.status_code), None
    return "200", str(response.json()["answer"])


def ask_streamed(http: httpx.Client, body: dict[str, object]) -> tuple[str, str | None]:
    """POST /api/ask/stream read to its `done` event (the answer's text); an `error` event, or a stream that ends
    without `done`, is a stream error. The server's keep-alive pings would defeat httpx's read time-out alone."""
    started = time.monotonic()
    with http.stream("POST", "/api/ask/stream", json=body) as response:
        if response.status_code != 200:
            return str(response.status_code), None
        event = ""
        for line in response.iter_lines():
            if time.monotonic() - started > CLIENT_TIMEOUT_S:
                raise httpx.ReadTimeout("stream still open past the client time-out")
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
            elif line.startswith("data:") and event == "done":
                return "200", str(json.loads(line.removeprefix("data:"))["answer"])
            elif event == "error":
                return "stream-error", None
    return "stream-error", None


def ask(http: httpx.Client, question: Question, streamed: bool) -> tuple[str, str | None]:
    """The request's status ("200", "503", "timeout", "error"…) and the answer's text."""
    body: dict[str, object] = {"question": question.text, "history": question.history}
    try:
        return ask_streamed(http, body) if streamed else ask_plain(http, body)
    except httpx.TimeoutException:
        return "timeout", None
    except httpx.HTTPError:
        return "error", None


def resident(
    number: int,
    url: str,
    clock: Clock,
    pause_s: float,
    questions: dict[str, list[str]],
    record: Callable[[Outcome], None],
) -> None:
    """One client: ask, read, wait, until the soak's end (the clients start spread over one pause)."""
    rng = random.Random(number)
    answered: tuple[str, str] | None = None
    with httpx.Client(base_url=url, timeout=CLIENT_TIMEOUT_S) as http:
        time.sleep(rng.uniform(0, pause_s))
        while clock.left() > 0:
            question = next_question(rng, questions, answered)
            streamed = rng.random() < STREAM_SHARE
            started = clock.now()
            status, answer = ask(http, question, streamed)
            finished = clock.now()
            route = "stream" if streamed else "ask"
            record(Outcome(finished, question.kind, route, status, finished - started))
            answered = (question.text, answer) if answer and question.kind == "answerable" else None
            time.sleep(max(0.0, min(rng.uniform(0.5, 1.5) * pause_s, clock.left())))


def staff_reindex(url: str, token: str, corpus: Path, clock: Clock) -> ReindexRun:
    """A staff member adds a document, starts the re-index and follows it until it ends."""
    headers = {"Authorization": f"Bearer {token}"}
    started = clock.now()
    with httpx.Client(base_url=url, headers=headers, timeout=CLIENT_TIMEOUT_S) as http:
        try:
            data = (corpus / STAFF_DOCUMENT).read_bytes()
            files = {"file": (STAFF_UPLOAD_NAME, data, "text/plain")}
            upload = http.post("/api/admin/documents", files=files, data={"title": "Copie (soak)"})
            if upload.status_code != 201:
                return ReindexRun(started, clock.now(), f"upload {upload.status_code}")
            start = http.post("/api/admin/reindex")
            if start.status_code != 202:
                return ReindexRun(started, clock.now(), f"reindex {start.status_code}")
            return follow_reindex(http, clock, started)
        except httpx.HTTPError as exc:
            return ReindexRun(started, clock.now(), f"error ({exc.__class__.__name__})")


def follow_reindex(http: httpx.Client, clock: Clock, started: float) -> ReindexRun:
    deadline = time.monotonic() + REINDEX_TIMEOUT_S
    while time.monotonic() < deadline:
        status = http.get("/api/admin/reindex").json()
        if status["state"] in {"done", "failed"}:
            return ReindexRun(started, clock.now(), status["state"], status.get("passages_total", 0))
        time.sleep(REINDEX_POLL_S)
    return ReindexRun(started, clock.now(), "timeout")


def tree_rss(process: psutil.Process) -> int:
    """Resident memory of a process and its children (bytes); 0 once it has gone."""
    try:
        return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])
    except psutil.NoSuchProcess:
        return 0


def server_process(port: int) -> psutil.Process:
    """The `cuabot serve` this process started on `port` (bench.servers.served keeps its Popen to itself)."""
    for child in psutil.Process().children():
        if str(port) in child.cmdline():
            return child
    raise RuntimeError(f"no server process of ours on port {port}")


def sample_memory(process: psutil.Process, clock: Clock, stop: threading.Event, samples: list[MemorySample]) -> None:
    while not stop.is_set():
        samples.append(MemorySample(clock.now(), tree_rss(process)))
        stop.wait(MEMORY_SAMPLE_S)


def workspace(folder: Path) -> dict[str, str]:
    """Copies of the live index and the corpus in `folder`, as the environment that points the server at them."""
    settings = get_settings()
    shutil.copytree(settings.index_dir, folder / "index")
    shutil.copytree(settings.corpus_dir, folder / "corpus")
    return {"CUABOT_INDEX_DIR": str(folder / "index"), "CUABOT_CORPUS_DIR": str(folder / "corpus")}


def soak(url: str, port: int, minutes: float, clients: int, pause_s: float, token: str, corpus: Path) -> SoakRun:
    """The clients for `minutes`, the re-index at half time, memory sampled throughout."""
    questions = load_questions()
    outcomes: list[Outcome] = []
    samples: list[MemorySample] = []
    lock = threading.Lock()

    def record(outcome: Outcome) -> None:
        with lock:
            outcomes.append(outcome)

    warm_up(url)  # the first question loads the language tools: not part of the soak
    clock, stop = Clock(minutes * 60), threading.Event()
    sampler = threading.Thread(target=sample_memory, args=(server_process(port), clock, stop, samples), daemon=True)
    sampler.start()
    threads = [
        threading.Thread(target=resident, args=(n, url, clock, pause_s, questions, record), daemon=True)
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    time.sleep(clock.duration_s / 2)
    reindex = staff_reindex(url, token, corpus, clock)
    for thread in threads:
        thread.join()
    stop.set()
    sampler.join()
    return SoakRun(minutes, clients, pause_s, sorted(outcomes, key=lambda o: o.finished_s), samples, reindex)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=30.0, help="Soak duration (after a warm-up question).")
    parser.add_argument("--clients", type=int, default=4, help="Residents asking at once.")
    parser.add_argument("--pause", type=float, default=30.0, help="Mean seconds a client waits between questions.")
    parser.add_argument("--out", type=Path, default=RESULTS, help="Folder of soak-<date>.md and soak-<date>.png.")
    args = parser.parse_args(argv)
    token = secrets.token_urlsafe(24)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="cuabot-soak-") as folder:
        env = {**LOAD_ENV, **workspace(Path(folder)), "CUABOT_ACCESS__ADMIN_TOKEN": token}
        command = [str(Path(sys.executable).with_name("cuabot")), "serve", "--port", str(port)]
        with served(command, port, env) as url:
            run = soak(url, port, args.minutes, args.clients, args.pause, token, Path(env["CUABOT_CORPUS_DIR"]))
    print(write_report(run, args.out))


if __name__ == "__main__":
    main()
