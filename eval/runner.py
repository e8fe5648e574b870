"""Run the question set through the pipeline (in-process) or a served instance (--url)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from bot.answer.service import QuestionService
from bot.api.convert import evidence_quote, passage_to_source, to_response
from core.settings import Settings
from core.types import Turn
from eval.corpora import DATA, DEFAULT_CORPUS, questions_path
from eval.metrics import ItemResult

LABELS = DATA / DEFAULT_CORPUS / "faithfulness_labels.jsonl"


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_items(corpus: str = DEFAULT_CORPUS, kind: str | None = None, split: str | None = None) -> list[dict[str, Any]]:
    """One corpus's questions (each tagged with its `corpus`: ids are unique per corpus only)."""
    return [
        {**i, "corpus": corpus}
        for i in load_jsonl(questions_path(corpus))
        if (kind is None or i["kind"] == kind) and (split is None or i["split"] == split)
    ]


def run_pipeline(
    items: list[dict[str, Any]], pipeline: QuestionService, progress: Callable[[], None] | None = None
) -> list[ItemResult]:
    """Each question through the pipeline in-process, judged on what the public API would return."""
    results = []
    for item in items:
        answer = pipeline.ask(item["question"], history=conversation(item))
        response = to_response(answer).model_dump()
        passages = [passage_to_source(p).model_dump() for p in answer.passages]
        ranked = [evidence_quote(e).text for e in answer.evidence]
        result = _from_response(item, response, passages, ranked)
        result.draft, result.prompt_tokens = answer.draft, answer.prompt_tokens
        result.dropped = [f"{d.text} ({d.reason})" for d in answer.dropped]
        results.append(result)
        if progress:
            progress()
    return results


def conversation(item: dict[str, Any]) -> list[Turn]:
    """The earlier user messages of a follow-up item (its `history`), as the service reads a conversation."""
    return [Turn("user", text) for text in item.get("history", [])]


def run_service(
    items: list[dict[str, Any]], settings: Settings, progress: Callable[[], None] | None = None
) -> list[ItemResult]:
    """The items through a question service built on these settings (its corpus's index, its generator)."""
    from bot.answer.service import build_service

    return run_pipeline(items, build_service(settings), progress)


def _from_response(
    item: dict[str, Any], response: dict[str, Any], passages: list[dict[str, Any]], ranked: list[str]
) -> ItemResult:
    """An item's result from the public response, the retrieved passages and the ranked evidence."""
    return ItemResult(
        item=item,
        answer=response["answer"],
        refused=response["refused"],
        retrieved_docs=[p["document"] for p in passages],
        retrieved_texts=[p["excerpt"] for p in passages],
        cited=response["sources"],
        evidence=ranked,
        sentences=response["answer_sentences"],
        outcome=response["outcome"],
        reason=response["reason"],
        timings=response["timings"],
        best_score=max((p["score"] for p in passages), default=0.0),
        fallback=response["fallback"],
    )


def run_remote(items: list[dict[str, Any]], url: str, progress: Callable[[], None] | None = None) -> list[ItemResult]:
    """Through the public streaming API; timings are measured by the client."""
    results = []
    with httpx.Client(base_url=url.rstrip("/"), timeout=300) as client:
        for item in items:
            results.append(_ask_remote(client, item))
            if progress:
                progress()
    return results


def _ask_remote(client: httpx.Client, item: dict[str, Any]) -> ItemResult:
    """One question through the public stream; the client measures the timings."""
    timings: dict[str, float] = {}
    passages: list[dict[str, Any]] = []
    ranked: list[str] = []
    started = time.perf_counter()
    history = [{"role": "user", "content": text} for text in item.get("history", [])]
    body = {"question": item["question"], "history": history}
    with client.stream("POST", "/api/ask/stream", json=body) as response:
        if response.status_code != 200:
            return ItemResult(item=item, error=f"HTTP {response.status_code}")
        for event, data in _sse(response.iter_lines()):
            elapsed = time.perf_counter() - started
            if event == "evidence":
                timings["evidence_s"], passages = elapsed, data["passages"]
                ranked = [e["text"] for e in data["evidence"]]
            elif event == "token":
                timings.setdefault("first_token_s", elapsed)
            elif event == "done":
                result = _from_response(item, data, passages, ranked)
                result.timings = {**timings, "total_s": elapsed}
                return result
            elif event == "error":
                return ItemResult(item=item, error=data["message"])
    return ItemResult(item=item, error="flux interrompu")


def _sse(lines: Iterator[str]) -> Iterator[tuple[str, Any]]:
    event, data = "message", []
    for line in lines:
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif not line.strip() and data:
            yield event, json.loads("\n".join(data))
            event, data = "message", []
