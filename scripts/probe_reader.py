"""Probe: the local model as a reader, constrained by a grammar to pick evidence sentences.

For every dev question of every corpus, the eight best sentences of the ranking are numbered and the model (the
project's Qwen2.5 GGUF, in llama.cpp) answers with up to three of their numbers or « aucune », its output held to
that shape by a GBNF grammar. Its picks are judged by eval's fact matching against the three sentences the ranking
shows today, and its « aucune » against today's refusals before the model. Measured once, not chosen
(2026-12-01, docs/evaluation.md « Two ways of judging relevance and answerability »); kept so that the figures can
be reproduced:

    .venv/bin/python scripts/probe_reader.py [dev|heldout]   # ~15 minutes for the dev splits on 2 cores
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections import defaultdict
from typing import Any

from llama_cpp import Llama, LlamaGrammar

from bot.answer.answerability import decide
from bot.answer.prompts import neutralise
from bot.answer.service import QuestionService
from core.models import QWEN_CODER_GGUF, model_path
from core.settings import get_settings
from core.types import Evidence, Outcome
from eval.calibrate import Prepared, corpus_services, prepare
from eval.metrics import ANSWERABLE, holds_all_facts

CANDIDATES = 8
GRAMMAR = 'root ::= "aucune" | n | n ", " n | n ", " n ", " n\nn ::= [1-8]'
SYSTEM = (
    "Tu lis des phrases numérotées tirées de documents et une question. Donne les numéros des phrases "
    "(trois au plus) qui contiennent la réponse à la question, la meilleure d'abord. Si aucune phrase ne "
    "contient la réponse, écris « aucune »."
)


def read(llm: Llama, grammar: LlamaGrammar, question: str, ranked: list[Evidence]) -> tuple[list[int], float]:
    """The numbers the model picks among `ranked` ([] for « aucune »), and the seconds it took."""
    lines = "\n".join(f"[{n}] {' '.join(e.sentence.context.split())}" for n, e in enumerate(ranked, 1))
    user = f"<phrases>\n{neutralise(lines)}\n</phrases>\n<question>{neutralise(question)}</question>"
    started = time.perf_counter()
    out: Any = llm.create_chat_completion(
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}],
        grammar=grammar,
        max_tokens=12,
        temperature=0.0,
    )
    text = out["choices"][0]["message"]["content"].strip()
    picks = [] if text.startswith("aucune") else [int(n) for n in text.split(",") if int(n) <= len(ranked)]
    return picks, time.perf_counter() - started


def main(split: str) -> None:
    settings = get_settings().changed(generation__backend="mock")
    services = corpus_services(settings, lambda corpus, exc: print(f"{corpus} laissé de côté : {exc}"))
    generation = settings.generation
    llm = Llama(
        model_path=str(model_path(QWEN_CODER_GGUF, settings.models_dir)),
        n_ctx=generation.context,
        n_threads=generation.threads,
        n_batch=generation.batch,
        verbose=False,
    )
    grammar = LlamaGrammar.from_string(GRAMMAR, verbose=False)
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in prepare(services, split):
        rows[p.corpus].append(judge(p, services[p.corpus], llm, grammar))
    for corpus, judged in rows.items():
        print(corpus, json.dumps(summary(judged), ensure_ascii=False))


def judge(p: Prepared, service: QuestionService, llm: Llama, grammar: LlamaGrammar) -> dict[str, Any]:
    terms = service.ranker.terms(p.question)
    shown = service.evidence(p.question, terms, p.vector, p.passages)
    ranked = service.ranker.rank(terms, p.vector, p.passages)[:CANDIDATES]
    picks, seconds = read(llm, grammar, p.item["question"], ranked)
    row: dict[str, Any] = {
        "answerable": p.item["kind"] in ANSWERABLE,
        "picks": picks,
        "seconds": seconds,
        "refused_today": decide(p.question, terms, shown, service.settings).outcome is Outcome.REFUSE,
    }
    if row["answerable"]:
        expected = p.item["expected"]
        row["reader_holds"] = holds_all_facts(" ".join(ranked[n - 1].sentence.context for n in picks), expected)
        row["shown_hold"] = holds_all_facts(" ".join(e.sentence.context for e in shown[:3]), expected)
    return row


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    return {
        "answerable": len(answerable),
        "reader_picks_hold_facts": statistics.mean(r["reader_holds"] for r in answerable),
        "shown_sentences_hold_facts": statistics.mean(r["shown_hold"] for r in answerable),
        "reader_better": sum(r["reader_holds"] and not r["shown_hold"] for r in answerable),
        "reader_worse": sum(r["shown_hold"] and not r["reader_holds"] for r in answerable),
        "aucune_on_answerable": sum(not r["picks"] for r in answerable),
        "unanswerable": len(unanswerable),
        "aucune_on_unanswerable": sum(not r["picks"] for r in unanswerable),
        "refused_today_unanswerable": sum(r["refused_today"] for r in unanswerable),
        "median_seconds": statistics.median(r["seconds"] for r in rows),
    }


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "dev")
