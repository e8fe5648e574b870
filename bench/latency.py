"""Answer latency of the pipeline against the raw model on the same prompt, outside the service.

The pipeline answers dev factual questions (evidence, first token, full answer). The raw model
(a fresh llama.cpp instance, same settings, no cached prefix) then reads the very prompt the
pipeline built for each question: the difference is what retrieval, evidence and checks cost.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from bench.report import Figure, percentile
from bot.answer.prompts import build_prompt, fixed_prefix
from bot.answer.service import build_service
from core.models import QWEN_CODER_GGUF, model_path
from core.settings import Settings
from core.types import Outcome
from eval.runner import load_items

SECTION = "Answer latency and model throughput"


@dataclass
class Run:
    """Timings (seconds from the question) and token counts of one answer."""

    evidence_s: float = 0.0
    first_token_s: float = 0.0
    total_s: float = 0.0
    prompt_tokens: int = 0
    generated_tokens: int = 0
    prompt_s: float = 0.0  # reading the prompt: evidence (or start) to first token
    generation_s: float = 0.0  # first token to last token


@dataclass
class Sample:
    pipeline: list[Run] = field(default_factory=list)
    raw: list[Run] = field(default_factory=list)
    prompts: list[list[dict[str, str]]] = field(default_factory=list)


def pipeline_runs(settings: Settings, questions: list[str], wanted: int, sample: Sample) -> None:
    """Questions through QuestionService.stream until `wanted` were phrased by the model; keeps their prompts."""
    pipeline = build_service(settings)
    for question in questions:
        if len(sample.pipeline) == wanted:
            break
        run, last_token = Run(), 0.0
        started = time.perf_counter()
        for event in pipeline.stream(question):
            now = time.perf_counter() - started
            if event.kind == "evidence":
                run.evidence_s = now
            elif event.kind == "token":
                run.first_token_s = run.first_token_s or now
                run.generated_tokens += 1
                last_token = now
            elif event.answer is not None:
                run.total_s = now
                run.prompt_tokens = event.answer.prompt_tokens
                if run.generated_tokens and event.answer.outcome is not Outcome.REFUSE:
                    run.generation_s = last_token - run.first_token_s
                    run.prompt_s = run.first_token_s - run.evidence_s
                    sample.pipeline.append(run)
                    prefix = fixed_prefix(settings.authority)
                    sample.prompts.append(build_prompt(prefix, question, event.answer.evidence).messages)
    del pipeline
    gc.collect()


def raw_runs(settings: Settings, sample: Sample) -> None:
    """The same prompts through a fresh llama.cpp instance with the service's settings."""
    from llama_cpp import Llama

    llm = Llama(
        model_path=str(model_path(QWEN_CODER_GGUF, settings.models_dir)),
        n_ctx=settings.generation.context,
        n_threads=settings.generation.threads,
        n_batch=512,
        verbose=False,
    )
    for messages in sample.prompts:
        llm.reset()
        chatml = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        run = Run(prompt_tokens=len(llm.tokenize(chatml.encode("utf-8"), add_bos=False, special=True)))
        started = time.perf_counter()
        last_token = 0.0
        for _ in _tokens(llm, messages, settings.generation.max_tokens):
            now = time.perf_counter() - started
            run.first_token_s = run.first_token_s or now
            run.generated_tokens += 1
            last_token = now
        run.total_s = time.perf_counter() - started
        run.generation_s = last_token - run.first_token_s
        run.prompt_s = run.first_token_s
        sample.raw.append(run)


def _tokens(llm: object, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:
    stream = llm.create_chat_completion(  # type: ignore[attr-defined]
        messages=messages, max_tokens=max_tokens, temperature=0.0, repeat_penalty=1.05, stream=True
    )
    for chunk in stream:
        if text := chunk["choices"][0]["delta"].get("content"):
            yield str(text)


def _p50(runs: list[Run], attribute: str) -> float:
    return percentile([getattr(r, attribute) for r in runs], 50)


def _rate(runs: list[Run], tokens: str, seconds: str) -> float:
    """Tokens per second over all runs (sum of tokens / sum of seconds)."""
    total = sum(getattr(r, seconds) for r in runs)
    return sum(getattr(r, tokens) for r in runs) / total if total else 0.0


def _throughput(sample: Sample, metric: str, tokens: str, seconds: str) -> Figure:
    """Tokens per second of the pipeline's model against the raw model's."""
    pipeline, raw = _rate(sample.pipeline, tokens, seconds), _rate(sample.raw, tokens, seconds)
    return Figure(SECTION, metric, pipeline, raw, "raw model", "tokens/s")


def run(settings: Settings, questions: int) -> list[Figure]:
    items = load_items(kind="factual", split="dev")
    sample = Sample()
    pipeline_runs(settings, [i["question"] for i in items], questions, sample)
    if not sample.prompts:
        return []
    raw_runs(settings, sample)
    p, r = sample.pipeline, sample.raw
    n = f"p50 of {len(p)} dev questions"
    return [
        Figure(
            SECTION,
            f"time to evidence, {n}",
            _p50(p, "evidence_s"),
            _p50(r, "first_token_s"),
            "raw model first token",
            "s",
        ),
        Figure(
            SECTION, f"time to first token, {n}", _p50(p, "first_token_s"), _p50(r, "first_token_s"), "raw model", "s"
        ),
        Figure(SECTION, f"time to full answer, {n}", _p50(p, "total_s"), _p50(r, "total_s"), "raw model", "s"),
        Figure(
            SECTION,
            "prompt tokens read per question (prefix cached)",
            _p50(p, "prompt_tokens"),
            _p50(r, "prompt_tokens"),
            "raw model, whole prompt",
            "tokens",
        ),
        _throughput(sample, "prompt reading", "prompt_tokens", "prompt_s"),
        _throughput(sample, "generation", "generated_tokens", "generation_s"),
    ]
