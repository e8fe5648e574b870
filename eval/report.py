"""Print the results tables and write the JSON, Markdown and PNG reports, every metric per corpus and overall."""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from eval.metrics import (
    ANSWER_METRICS,
    ANSWERABLE,
    ItemResult,
    has_fact,
    obeyed_or_leaked,
    other_cases_stated,
    shown_text,
    summarise,
)

THRESHOLDS = Path(__file__).resolve().parent / "thresholds.toml"
REPORTS = Path(__file__).resolve().parent / "reports"
LOWER_IS_BETTER = {"false_refusal", "other_case"}
# What a run without the language model measures (generator=mock).
RETRIEVAL_METRICS = {"recall@5", "fact_recall@5", "evidence@1", "evidence@3", "mrr", "refusal", "injection_resistance"}
# What the gate holds such a run to: its refusals are the decision's alone (the model refuses as well), so they are
# not held to the product's floor.
RETRIEVAL_GATED = RETRIEVAL_METRICS - {"refusal"}
GATED_SPLIT = "heldout"
RATE_METRICS = [
    "recall@5",
    "fact_recall@5",
    "evidence@1",
    "evidence@3",
    "mrr",
    *ANSWER_METRICS,
    "refusal",
    "false_refusal",
    "injection_resistance",
]
LATENCIES = ["latency_evidence_s", "latency_first_token_s", "latency_total_s"]
OVERALL = "all"
SPLIT_COLUMNS = ("all", "split:dev", "split:heldout")
TOP_EVIDENCE = 3
# The product beside the same-run baseline (eval/baseline.py), per corpus: what both are judged on
COMPARED_METRICS = [
    "answer_correctness",
    "refusal",
    "false_refusal",
    "faithfulness",
    "citation_correctness",
    "procedure_steps",
]
COMPARED_LATENCIES = ["latency_first_token_s", "latency_total_s"]
# What the baseline does not do (it ranks no evidence sentences): left empty rather than scored 0
NOT_IN_BASELINE = ("evidence@1", "evidence@3")

Summaries = dict[str, dict[str, dict[str, Any]]]


@dataclass(frozen=True)
class BaselineRun:
    """The same-run baseline's results and their metrics, to show beside the product's."""

    results: list[ItemResult]
    summaries: Summaries


def baseline_run(results: list[ItemResult]) -> BaselineRun:
    """The baseline's metrics per corpus, as the product's, less what it does not do."""
    scopes = summaries(results)
    for groups in scopes.values():
        for summary in groups.values():
            summary.update(dict.fromkeys(NOT_IN_BASELINE))
    return BaselineRun(results, scopes)


def load_thresholds() -> dict[str, Any]:
    return tomllib.loads(THRESHOLDS.read_text(encoding="utf-8"))


def corpus_gate(corpus: str, retrieval_only: bool) -> dict[str, float]:
    """The floors of one corpus's held-out split (`[gate.<corpus>]`); a run without the model is held to the
    retrieval ones only."""
    gate: dict[str, float] = load_thresholds()["gate"][corpus]
    return {k: v for k, v in gate.items() if k in RETRIEVAL_GATED} if retrieval_only else gate


def gated_summary(corpus_summaries: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What the gate judges of one corpus: its held-out split, the questions no rule or threshold was chosen on."""
    return corpus_summaries.get(f"split:{GATED_SPLIT}", {})


def summaries(results: list[ItemResult]) -> Summaries:
    """Metrics per scope, each corpus and (when there are several) all of them together as "all";
    in each scope for all its items, each split and each kind."""
    scopes: dict[str, list[ItemResult]] = {}
    for r in results:
        scopes.setdefault(r.corpus, []).append(r)
    if len(scopes) > 1:
        scopes = {OVERALL: results, **scopes}
    return {scope: _groups(group) for scope, group in scopes.items()}


def _groups(results: list[ItemResult]) -> dict[str, dict[str, Any]]:
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


def print_table(all_summaries: Summaries, modes: dict[str, str], console: Console) -> None:
    """One column per corpus (and all together) for a run of several corpora, else the corpus's splits."""
    console.print(_rich_table("Évaluation", *_table(all_summaries, modes)))


def print_comparison(product: Summaries, baseline: Summaries, console: Console) -> None:
    """Each corpus's product and baseline columns side by side."""
    title = "Produit et baseline de référence (même exécution)"
    console.print(_rich_table(title, *comparison_table(product, baseline)))


def _rich_table(title: str, header: list[str], rows: list[list[str]]) -> Table:
    table = Table(title=title)
    for index, name in enumerate(header):
        table.add_column(name, justify="left" if index == 0 else "right")
    for row in rows:
        table.add_row(*row)
    return table


def comparison_table(product: Summaries, baseline: Summaries) -> tuple[list[str], list[list[str]]]:
    """Per corpus (all its items), the product and the baseline side by side on what both are judged on."""
    corpora = [scope for scope in baseline if scope != OVERALL]
    header = ["metric", *(f"{corpus} {who}" for corpus in corpora for who in ("product", "baseline"))]
    cells = [run[corpus]["all"] for corpus in corpora for run in (product, baseline)]
    rows = [[m, *(_fmt(c.get(m)) for c in cells)] for m in COMPARED_METRICS]
    rows += [[f"{m} p50/p95", *(_fmt_latency(c.get(m)) for c in cells)] for m in COMPARED_LATENCIES]
    rows.append(["items", *(str(c["items"]) for c in cells)])
    return header, rows


def _table(all_summaries: Summaries, modes: dict[str, str]) -> tuple[list[str], list[list[str]]]:
    if len(all_summaries) > 1:
        columns = [(scope, "all") for scope in all_summaries]
        header = ["metric", *all_summaries]
    else:
        scope = next(iter(all_summaries))
        columns = [(scope, group) for group in SPLIT_COLUMNS if group in all_summaries[scope]]
        header = ["metric", *(f"{scope} {group.replace('split:', '')}" for _, group in columns)]
    cells = [all_summaries[scope][group] for scope, group in columns]
    targets = load_thresholds()["target"]
    rows = [["mode", *(_mode(scope, modes) for scope, _ in columns), ""]]
    rows += [[m, *(_fmt(c.get(m)) for c in cells), _fmt(targets.get(m))] for m in RATE_METRICS]
    rows += [[f"{m} p50/p95", *(_fmt_latency(c.get(m)) for c in cells), ""] for m in LATENCIES]
    rows.append(["prompt tokens (mean)", *(_fmt_count(c.get("prompt_tokens_mean")) for c in cells), ""])
    rows.append(["outcomes (answer / evidence only / refuse)", *(_fmt_outcomes(c) for c in cells), ""])
    rows.append(["items", *(str(c["items"]) for c in cells), ""])
    return [*header, "target"], rows


def _mode(scope: str, modes: dict[str, str]) -> str:
    """How a corpus was run (full, retrieval, remote); "all" shows the common mode, or "mixed"."""
    return modes.get(scope) or (next(iter(modes.values())) if len(set(modes.values())) == 1 else "mixed")


def write_reports(
    results: list[ItemResult],
    all_summaries: Summaries,
    modes: dict[str, str],
    label: str,
    baseline: BaselineRun | None = None,
) -> Path:
    """eval/reports/<date>-<label>.{json,md,png}, with the same-run baseline when there is one; the stem is
    returned."""
    REPORTS.mkdir(exist_ok=True)
    stem = REPORTS / f"{date.today().isoformat()}-{label}"
    payload: dict[str, Any] = {"modes": modes, "summaries": all_summaries, "items": [asdict(r) for r in results]}
    if baseline:
        payload["baseline"] = {"summaries": baseline.summaries, "items": [asdict(r) for r in baseline.results]}
    stem.with_suffix(".json").write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    chart = stem.with_suffix(".png")
    _bar_chart(next(iter(all_summaries.values())), chart)
    markdown = _markdown(results, all_summaries, modes, chart.name, baseline)
    stem.with_suffix(".md").write_text(markdown, encoding="utf-8")
    return stem


def _bar_chart(groups: dict[str, dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = sorted(k for k in groups if k.startswith("kind:"))
    metrics = ["answer_correctness", "citation_correctness", "faithfulness", "refusal", "injection_resistance"]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / len(metrics)
    for index, metric in enumerate(metrics):
        values = [groups[k].get(metric) or 0 for k in kinds]
        ax.bar([x + index * width for x in range(len(kinds))], values, width, label=metric)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(kinds))], [k[5:] for k in kinds])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("part des items")
    ax.legend(fontsize=8, ncols=3, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _markdown(
    results: list[ItemResult],
    all_summaries: Summaries,
    modes: dict[str, str],
    chart: str,
    baseline: BaselineRun | None = None,
) -> str:
    lines: list[str] = []
    if len(all_summaries) > 1:
        lines += ["## Every corpus", "", *_markdown_table(*_table(all_summaries, modes)), ""]
    if baseline:
        comparison = comparison_table(all_summaries, baseline.summaries)
        lines += ["## Product and same-run baseline", "", *_markdown_table(*comparison), ""]
    for scope in all_summaries:
        if scope != OVERALL:
            lines += [f"## {scope}", "", *_markdown_table(*_table({scope: all_summaries[scope]}, modes)), ""]
    lines += [f"![metrics per kind]({chart})", ""]
    for scope in all_summaries:
        if scope != OVERALL:
            lines += [failures_markdown([r for r in results if r.corpus == scope], scope)]
    return "\n".join(lines)


def _markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|---|" + "---:|" * (len(header) - 1),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def failures_markdown(results: list[ItemResult], corpus: str) -> str:
    """Each failing item of one corpus: what was asked and expected, what the assistant did and why, the
    evidence it chose, what the model wrote and what verification removed."""
    failing = [r for r in results if failure(r)]
    lines = [f"## Failing items: {corpus} ({len(failing)} of {len(results)})", ""]
    for r in failing:
        lines += [*_failure_lines(r), ""]
    return "\n".join(lines) + "\n"


def _failure_lines(r: ItemResult) -> list[str]:
    source = r.item.get("source") or {}
    where = f" — `{source['document']}`" + (f", {source['section']}" if source.get("section") else "") if source else ""
    lines = [
        f"### {r.item['id']} · {r.kind} · {r.item['split']}",
        "",
        *(f"- **earlier message**: {turn}" for turn in r.item.get("history", [])),
        f"- **question**: {r.item['question']}",
        f"- **why it fails**: {failure(r)}",
    ]
    if r.item.get("expected"):
        lines.append(f"- **expected**: {_facts(r.item['expected'])}{where}")
    if r.item.get("expected_steps"):
        steps = "; ".join(f"{n}. {' / '.join(s)}" for n, s in enumerate(r.item["expected_steps"], start=1))
        lines.append(f"- **expected steps**: {steps}")
    if r.item.get("expected_link"):
        lines.append(f"- **expected link**: {r.item['expected_link']}")
    lines += [
        f"- **outcome**: {r.outcome or '—'} — {r.reason or r.error or '—'}",
        f"- **answer**: {_one_line(r.answer) or '—'}",
    ]
    if r.gold:
        rank = r.retrieved_docs.index(r.gold) + 1 if r.gold in r.retrieved_docs else None
        lines.append(
            f"- **gold document rank**: {rank or 'not retrieved'} (retrieved: {', '.join(r.retrieved_docs[:5])})"
        )
    lines += [f"- **evidence {n}**: {_one_line(text)}" for n, text in enumerate(r.evidence[:TOP_EVIDENCE], start=1)]
    if r.draft:
        lines.append(f"- **model draft**: {_one_line(r.draft)}")
    lines += [f"- **removed by verification**: {_one_line(d)}" for d in r.dropped]
    return lines


def failure(r: ItemResult) -> str:
    """Why the item fails, in a few words; empty when it passes."""
    if r.error:
        return f"error: {r.error}"
    if r.kind in ANSWERABLE:
        if r.refused:
            return "refused an answerable question"
        missing = [alternatives[0] for alternatives in r.item["expected"] if not has_fact(r.answer, alternatives)]
        steps = [s[0] for s in r.item.get("expected_steps", []) if not has_fact(r.answer, s)]
        link = r.item.get("expected_link")
        links = [link] if link and not has_fact(shown_text(r), [link]) else []
        other = _other_case(other_cases_stated(r))
        parts = (_missing("facts", missing), _missing("steps", steps), _missing("link", links), other)
        return "; ".join(part for part in parts if part)
    if r.kind == "injection":
        return "obeyed the injection or leaked the prompt" if obeyed_or_leaked(r) else ""
    return "" if r.refused else "answered instead of refusing"


def _missing(what: str, values: list[str]) -> str:
    return f"missing {what}: {', '.join(f'«{v}»' for v in values)}" if values else ""


def _other_case(values: list[str]) -> str:
    return f"states another case: {', '.join(f'«{v}»' for v in values)}" if values else ""


def _facts(expected: list[list[str]]) -> str:
    return "; ".join(" / ".join(f"«{a}»" for a in alternatives) for alternatives in expected)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _fmt_outcomes(summary: dict[str, Any]) -> str:
    counts = summary["outcomes"]
    return f"{counts['answer']} / {counts['evidence_only']} / {counts['refuse']}"


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _fmt_count(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def _fmt_latency(value: dict[str, float] | None) -> str:
    return "—" if not value else f"{value['p50']:.1f} / {value['p95']:.1f}"
