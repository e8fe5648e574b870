"""The soak's figures (bench/soak.py): a row per minute, the three targets, a markdown report and a plot.

Targets (issue 29): resident memory drift at most 5 % after warm-up, no error, p95 latency of the answered questions
in the last 10 minutes within 20 % of the first 10 (a faster end passes). Warm-up is the first 5 minutes. Both are
for a 30-minute run; a shorter run scales them (warm-up its first sixth, the windows its first and last thirds).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.report import percentile

MINUTE_S = 60.0
WARM_UP_S = 300.0
WINDOW_S = 600.0
MAX_DRIFT = 0.05
MAX_P95_RATIO = 1.2
# Deliberate refusals of the service, counted apart from errors: queue full, rate limit
SHED = "503"
LIMITED = "429"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Outcome:
    """One question: when it finished (seconds since the start), its kind and route, its status, its latency."""

    finished_s: float
    kind: str
    route: str
    status: str  # "200", another status code, "timeout", "error" (transport) or "stream-error"
    latency_s: float

    @property
    def answered(self) -> bool:
        return self.status == "200"

    @property
    def error(self) -> bool:
        return self.status not in {"200", SHED, LIMITED}


@dataclass(frozen=True)
class MemorySample:
    at_s: float
    rss_bytes: int


@dataclass(frozen=True)
class ReindexRun:
    started_s: float
    finished_s: float
    state: str  # "done", "failed", "timeout", or the refused request ("upload 409")
    passages: int = 0


@dataclass(frozen=True)
class SoakRun:
    minutes: float
    clients: int
    pause_s: float
    outcomes: list[Outcome]
    memory: list[MemorySample]
    reindex: ReindexRun


@dataclass(frozen=True)
class Minute:
    end_s: float
    finished: int
    answered: int
    p50_s: float | None
    p95_s: float | None
    shed: int
    limited: int
    errors: int
    rss_mib: float | None
    reindexing: bool


@dataclass(frozen=True)
class Target:
    name: str
    measured: str
    met: bool


def quantile(values: list[float], share: float) -> float | None:
    """None without any value (a minute in which nothing was answered)."""
    return percentile(values, share * 100) if values else None


def windows(minutes: float) -> tuple[float, float]:
    """Warm-up and comparison window (seconds): 5 and 10 minutes, or a sixth and a third of a shorter run."""
    duration = minutes * MINUTE_S
    return min(WARM_UP_S, duration / 6), min(WINDOW_S, duration / 3)


def rss_at(samples: list[MemorySample], at_s: float) -> int:
    """The last sample taken by `at_s` (the first one before any)."""
    before = [s for s in samples if s.at_s <= at_s]
    return (before[-1] if before else samples[0]).rss_bytes


def minutes_of(run: SoakRun) -> list[Minute]:
    """A row per minute: the questions that finished in it, and the resident memory at its end. Questions still
    answered after the last minute's end count in it."""
    count = max(1, int(np.ceil(run.minutes)))
    rows = []
    for index in range(count):
        start, end = index * MINUTE_S, (index + 1) * MINUTE_S
        last = index == count - 1
        done = [o for o in run.outcomes if start <= o.finished_s < end or (last and o.finished_s >= end)]
        latencies = [o.latency_s for o in done if o.answered]
        in_minute = [s for s in run.memory if s.at_s < end]
        rows.append(
            Minute(
                end_s=min(end, run.minutes * MINUTE_S),
                finished=len(done),
                answered=len(latencies),
                p50_s=quantile(latencies, 0.5),
                p95_s=quantile(latencies, 0.95),
                shed=sum(o.status == SHED for o in done),
                limited=sum(o.status == LIMITED for o in done),
                errors=sum(o.error for o in done),
                rss_mib=in_minute[-1].rss_bytes / MIB if in_minute else None,
                reindexing=run.reindex.started_s < end and run.reindex.finished_s > start,
            )
        )
    return rows


def targets(run: SoakRun) -> list[Target]:
    warm_up, window = windows(run.minutes)
    duration = run.minutes * MINUTE_S
    warm, last = rss_at(run.memory, warm_up), run.memory[-1].rss_bytes
    drift = (last - warm) / warm
    errors = sum(o.error for o in run.outcomes) + (run.reindex.state != "done")
    first = quantile([o.latency_s for o in run.outcomes if o.answered and o.finished_s < window], 0.95)
    end = quantile([o.latency_s for o in run.outcomes if o.answered and o.finished_s >= duration - window], 0.95)
    ratio = end / first if first and end else None
    return [
        Target(
            f"resident memory drift after warm-up (RSS at the end vs after {span(warm_up)}) ≤ 5 %",
            f"{drift:+.1%} ({warm / MIB:,.0f} → {last / MIB:,.0f} MiB)",
            drift <= MAX_DRIFT,
        ),
        Target(
            "errors (5xx other than 503, other 4xx, time-outs, stream errors, staff re-index failure) = 0",
            str(errors),
            errors == 0,
        ),
        Target(
            f"p95 latency of the answered questions, last {span(window)} vs first {span(window)}, ≤ 1.2×",
            f"{seconds(end)} vs {seconds(first)}: ×{ratio:.2f}" if ratio else "not enough answers",
            ratio is not None and ratio <= MAX_P95_RATIO,
        ),
    ]


def span(value_s: float) -> str:
    """A window's length as people read it: "20 s", "10 min"."""
    return f"{value_s:.0f} s" if value_s < 2 * MINUTE_S else f"{value_s / MINUTE_S:g} min"


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def mib(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def minute_table(rows: list[Minute]) -> list[str]:
    lines = [
        "| minute | finished | answered | p50 | p95 | shed 503 | 429 | errors | RSS MiB | re-index |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.end_s / MINUTE_S:g} | {row.finished} | {row.answered} | {seconds(row.p50_s)} "
            f"| {seconds(row.p95_s)} | {row.shed} | {row.limited} | {row.errors} | {mib(row.rss_mib)} "
            f"| {'running' if row.reindexing else ''} |"
        )
    return lines


def mix(run: SoakRun) -> str:
    """Questions per kind and route, and every status met."""
    kinds: dict[str, int] = {}
    statuses: dict[str, int] = {}
    for outcome in run.outcomes:
        key = f"{outcome.kind} ({outcome.route})"
        kinds[key] = kinds.get(key, 0) + 1
        statuses[outcome.status] = statuses.get(outcome.status, 0) + 1
    return (
        f"{len(run.outcomes)} questions: "
        + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        + "; statuses: "
        + ", ".join(f"{k}: {n}" for k, n in sorted(statuses.items()))
    )


def markdown(run: SoakRun, plot_name: str, ended: str) -> str:
    warm_up, window = windows(run.minutes)
    reindex = run.reindex
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        f"## Soak, {run.minutes:g} minutes ending {ended}",
        "",
        f"`python -m bench.soak --minutes {run.minutes:g} --clients {run.clients} --pause {run.pause_s:g}`: "
        f"`cuabot serve` (default settings, local llama.cpp model) over a copy of the live index; {run.clients} "
        f"clients each asking, then waiting {run.pause_s:g} s (×0.5-1.5); {os.cpu_count()} cores, load average at "
        f"the end {load}. Warm-up {span(warm_up)}, windows {span(window)}.",
        "",
        f"Staff re-index (one document added): started at {reindex.started_s / MINUTE_S:.1f} min, "
        f"{reindex.state} after {reindex.finished_s - reindex.started_s:.0f} s, {reindex.passages} passages.",
        "",
        mix(run),
        "",
        *minute_table(minutes_of(run)),
        "",
        "| target | measured | met |",
        "|---|---|---|",
        *(f"| {t.name} | {t.measured} | {'yes' if t.met else '**no**'} |" for t in targets(run)),
        "",
        f"![RSS and latency over the soak]({plot_name})",
        "",
    ]
    return "\n".join(lines)


def plot(run: SoakRun, path: Path) -> None:
    """Resident memory (every sample) and p50/p95 per minute over time, the re-index shaded, warm-up's end dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = minutes_of(run)
    warm_up, _ = windows(run.minutes)
    figure, (memory, latency) = plt.subplots(2, 1, sharex=True, figsize=(9, 6))
    memory.plot([s.at_s / MINUTE_S for s in run.memory], [s.rss_bytes / MIB for s in run.memory])
    memory.set_ylabel("server RSS (MiB)")
    ends = [r.end_s / MINUTE_S for r in rows]
    latency.plot(ends, [r.p95_s for r in rows], marker="o", label="p95")
    latency.plot(ends, [r.p50_s for r in rows], marker=".", label="p50")
    latency.set_ylabel("answered questions (s)")
    latency.set_xlabel("minutes")
    latency.legend()
    for axis in (memory, latency):
        axis.axvspan(run.reindex.started_s / MINUTE_S, run.reindex.finished_s / MINUTE_S, alpha=0.2, color="orange")
        axis.axvline(warm_up / MINUTE_S, linestyle="--", color="grey")
    memory.set_title("Soak: re-index shaded, end of warm-up dashed")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def write_report(run: SoakRun, out: Path) -> str:
    """bench/results/soak-<date>.md and .png (in `out`); returns the markdown."""
    out.mkdir(parents=True, exist_ok=True)
    date = time.strftime("%Y-%m-%d", time.gmtime())
    plot(run, out / f"soak-{date}.png")
    text = markdown(run, f"soak-{date}.png", time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    (out / f"soak-{date}.md").write_text(text, encoding="utf-8")
    return text
