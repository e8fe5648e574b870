"""Print the results table and write the JSON, Markdown and PNG reports."""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from eval.metrics import ANSWERABLE, ItemResult, holds_all_facts, obeyed_or_leaked, summarise

THRESHOLDS = Path(__file__).resolve().parent / "thresholds.toml"
REPORTS = Path(__file__).resolve().parent / "reports"
LOWER_IS_BETTER = {"false_refusal"}
# What a run without the language model measures (generator=mock): the gate keeps only these.
RETRIEVAL_METRICS = {"recall@5", "fact_recall@5", "evidence@1", "evidence@3", "mrr", "refusal", "injection_resistance"}
RATE_METRICS = [
    "recall@5",
    "fact_recall@5",
    "evidence@1",
    "evidence@3",
    "mrr",
    "answer_correctness",
    "answer_correctness_body",
    "citation_correctness",
    "faithfulness",
    "refusal",
    "false_refusal",
    "injection_resistance",
]
LATENCIES = ["latency_evidence_s", "latency_first_token_s", "latency_total_s"]


def load_thresholds() -> dict[str, dict[str, float]]:
    return tomllib.loads(THRESHOLDS.read_text(encoding="utf-8"))


def summaries(results: list[ItemResult]) -> dict[str, dict[str, Any]]:
    """Metrics for all items, each split and each kind."""
    groups: dict[str, list[ItemResult]] = {"all": results}
    for r in results:
        groups.setdefault(f"split:{r.item['split']}", []).append(r)
        groups.setdefault(f"kind:{r.kind}", []).append(r)
    return {name: summarise(group) for name, group in groups.items()}


def gate_failures(summary: dict[str, Any], gate: dict[str, float]) -> list[str]:
    """Every gated metric below its floor (above it for error rates), or missing from the results."""
    failures = []
    for metric, bound in gate.items():
        value = summary.get(metric)
        if value is None:
            failures.append(f"{metric} absent des résultats (seuil {bound})")
            continue
        if (value > bound) if metric in LOWER_IS_BETTER else (value < bound):
            failures.append(f"{metric} = {value:.3f} (seuil {bound})")
    return failures


def print_table(all_summaries: dict[str, dict[str, Any]], console: Console) -> None:
    columns = [c for c in ("all", "split:dev", "split:heldout") if c in all_summaries]
    targets = load_thresholds()["target"]
    table = Table(title="Évaluation")
    table.add_column("métrique")
    for column in columns:
        table.add_column(column.replace("split:", ""), justify="right")
    table.add_column("cible", justify="right")
    for metric in RATE_METRICS:
        table.add_row(metric, *[_fmt(all_summaries[c].get(metric)) for c in columns], _fmt(targets.get(metric)))
    for metric in LATENCIES:
        table.add_row(metric + " p50/p95", *[_fmt_latency(all_summaries[c].get(metric)) for c in columns], "")
    table.add_row(
        "prompt tokens (mean)", *[_fmt_count(all_summaries[c].get("prompt_tokens_mean")) for c in columns], ""
    )
    table.add_row("outcomes (answer / evidence only / refuse)", *[_fmt_outcomes(all_summaries[c]) for c in columns], "")
    table.add_row("items", *[str(all_summaries[c]["items"]) for c in columns], "")
    console.print(table)


def write_reports(results: list[ItemResult], all_summaries: dict[str, dict[str, Any]], mode: str) -> Path:
    REPORTS.mkdir(exist_ok=True)
    stem = REPORTS / f"{date.today().isoformat()}-{mode}"
    payload = {"mode": mode, "summaries": all_summaries, "items": [asdict(r) for r in results]}
    stem.with_suffix(".json").write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    chart = stem.with_suffix(".png")
    _bar_chart(all_summaries, chart)
    stem.with_suffix(".md").write_text(_markdown(results, all_summaries, chart.name), encoding="utf-8")
    return stem


def _bar_chart(all_summaries: dict[str, dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = sorted(k for k in all_summaries if k.startswith("kind:"))
    metrics = ["answer_correctness", "citation_correctness", "faithfulness", "refusal", "injection_resistance"]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / len(metrics)
    for index, metric in enumerate(metrics):
        values = [all_summaries[k].get(metric) or 0 for k in kinds]
        ax.bar([x + index * width for x in range(len(kinds))], values, width, label=metric)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(kinds))], [k[5:] for k in kinds])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("part des items")
    ax.legend(fontsize=8, ncols=3, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _markdown(results: list[ItemResult], all_summaries: dict[str, dict[str, Any]], chart: str) -> str:
    columns = [c for c in ("all", "split:dev", "split:heldout") if c in all_summaries]
    lines = [
        "| metric | " + " | ".join(c.replace("split:", "") for c in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for metric in RATE_METRICS:
        lines.append(f"| {metric} | " + " | ".join(_fmt(all_summaries[c].get(metric)) for c in columns) + " |")
    for metric in LATENCIES:
        lines.append(
            f"| {metric} p50/p95 | " + " | ".join(_fmt_latency(all_summaries[c].get(metric)) for c in columns) + " |"
        )
    lines.append(
        "| prompt tokens (mean) | "
        + " | ".join(_fmt_count(all_summaries[c].get("prompt_tokens_mean")) for c in columns)
        + " |"
    )
    lines.append(
        "| outcomes (answer / evidence only / refuse) | "
        + " | ".join(_fmt_outcomes(all_summaries[c]) for c in columns)
        + " |"
    )
    lines.append("| items | " + " | ".join(str(all_summaries[c]["items"]) for c in columns) + " |")
    lines += ["", f"![metrics per kind]({chart})", "", "## Failing items", ""]
    for r in results:
        if _failed(r):
            lines += [
                f"### {r.item['id']} ({r.kind}, {r.item['split']})",
                f"- question: {r.item['question']}",
                f"- expected: {r.item.get('expected')} from {r.gold}",
                f"- outcome: {r.outcome} — {r.reason}",
                f"- retrieved: {r.retrieved_docs[:5]}",
                *[f"- evidence {n}: {text}" for n, text in enumerate(r.evidence, start=1)],
                f"- model draft: {' '.join(r.draft.split())}",
                *[f"- dropped by verification: {d}" for d in r.dropped],
                f"- answer: {' '.join(r.answer.split())}",
                *[f"- cited [{c['id']}] {c['document']}: {' '.join(c['excerpt'].split())[:300]}" for c in r.cited],
                "",
            ]
    return "\n".join(lines) + "\n"


def _failed(r: ItemResult) -> bool:
    if r.kind in ANSWERABLE:
        return r.refused or not holds_all_facts(r.answer, r.item["expected"])
    if r.kind == "injection":
        return obeyed_or_leaked(r)
    return not r.refused


def _fmt_outcomes(summary: dict[str, Any]) -> str:
    counts = summary["outcomes"]
    return f"{counts['answer']} / {counts['evidence_only']} / {counts['refuse']}"


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _fmt_count(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def _fmt_latency(value: dict[str, float] | None) -> str:
    return "—" if not value else f"{value['p50']:.1f} / {value['p95']:.1f}"
