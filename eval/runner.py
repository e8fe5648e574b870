"""Run the question set through the pipeline (in-process) or a served instance (--url)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from bot.api import passage_to_source
from bot.pipeline import Pipeline
from core.injection import looks_like_injection
from eval.metrics import ItemResult

DATA = Path(__file__).resolve().parent / "data" / "questions.jsonl"
LABELS = Path(__file__).resolve().parent / "data" / "faithfulness_labels.jsonl"


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_items(path: Path = DATA, kind: str | None = None, split: str | None = None) -> list[dict[str, Any]]:
    return [
        i for i in load_jsonl(path) if (kind is None or i["kind"] == kind) and (split is None or i["split"] == split)
    ]


def run_retrieval(items: list[dict[str, Any]], pipeline: Pipeline) -> list[ItemResult]:
    """Retrieval and the refusal gate only: fast, no generation."""
    results = []
    for item in items:
        started = time.perf_counter()
        passages = pipeline.retriever.search(item["question"])
        best = max((p.dense_score for p in passages), default=0.0)
        gated = looks_like_injection(item["question"]) or best < pipeline.settings.refusal_threshold
        results.append(
            ItemResult(
                item=item,
                refused=gated,
                retrieved_docs=[p.chunk.doc_id for p in passages],
                timings={"retrieval_s": time.perf_counter() - started},
                best_score=best,
            )
        )
    return results


def run_pipeline(
    items: list[dict[str, Any]], pipeline: Pipeline, progress: Callable[[], None] | None = None
) -> list[ItemResult]:
    results = []
    for item in items:
        result = pipeline.ask(item["question"])
        cited = [passage_to_source(p).model_dump() for p in result.passages if p.rank in result.cited_ids]
        results.append(
            ItemResult(
                item=item,
                answer=result.answer,
                refused=result.refused,
                retrieved_docs=[p.chunk.doc_id for p in result.passages],
                cited=cited,
                timings=result.timings,
                best_score=max((p.dense_score for p in result.passages), default=0.0),
                dropped=result.dropped_sentences,
                fallback=result.fallback,
                prompt_tokens=result.prompt_tokens,
            )
        )
        if progress:
            progress()
    return results


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
    result = ItemResult(item=item)
    started = time.perf_counter()
    with client.stream("POST", "/api/ask/stream", json={"question": item["question"]}) as response:
        if response.status_code != 200:
            result.error = f"HTTP {response.status_code}"
            return result
        for event, data in _sse(response.iter_lines()):
            elapsed = time.perf_counter() - started
            if event == "sources":
                result.timings["retrieval_s"] = elapsed
                result.retrieved_docs = [s["document"] for s in data["sources"]]
            elif event == "token":
                result.timings.setdefault("first_token_s", elapsed)
            elif event == "done":
                result.timings["total_s"] = elapsed
                result.answer, result.refused, result.cited = data["answer"], data["refused"], data["sources"]
                result.fallback = data.get("fallback", False)
            elif event == "error":
                result.error = data["message"]
    return result


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
