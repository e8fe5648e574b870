"""The soak's arithmetic (bench/soak_report.py) and its question mix (bench/soak.py), without a server."""

from __future__ import annotations

import random
from pathlib import Path

from bench.soak import load_questions, next_question
from bench.soak_report import (
    MIB,
    MemorySample,
    Outcome,
    ReindexRun,
    SoakRun,
    minutes_of,
    targets,
    windows,
    write_report,
)


def outcome(at: float, status: str = "200", latency: float = 5.0) -> Outcome:
    return Outcome(at, "answerable", "ask", status, latency)


def run(outcomes: list[Outcome], rss_mib: list[int], reindex_state: str = "done") -> SoakRun:
    memory = [MemorySample(60.0 * i, mib * MIB) for i, mib in enumerate(rss_mib)]
    return SoakRun(30, 4, 30, outcomes, memory, ReindexRun(900, 960, reindex_state, 4))


def test_windows_are_five_and_ten_minutes_or_scaled_down() -> None:
    assert windows(30) == (300, 600)
    assert windows(2) == (20, 40)


def test_a_steady_soak_meets_the_three_targets() -> None:
    steady = run([outcome(60.0 * i + 30) for i in range(30)], [2000] * 6 + [2050] * 25)
    assert [t.met for t in targets(steady)] == [True, True, True]
    assert "+2.5%" in targets(steady)[0].measured


def test_drift_errors_and_a_slower_end_are_caught() -> None:
    outcomes = [outcome(60.0 * i + 30, latency=5.0 if i < 20 else 7.0) for i in range(30)]
    outcomes += [outcome(100, "503"), outcome(200, "500"), outcome(300, "timeout"), outcome(400, "429")]
    leaking = run(outcomes, [2000] * 6 + [2200] * 25, reindex_state="failed")
    drift, errors, latency = targets(leaking)
    assert not drift.met and errors.measured == "3" and not latency.met  # 503 and 429 are not errors


def test_minute_rows_count_each_status_and_mark_the_reindex() -> None:
    rows = minutes_of(run([outcome(10), outcome(20, "503"), outcome(70, "error"), outcome(1900)], [2000] * 31))
    assert (rows[0].finished, rows[0].answered, rows[0].shed, rows[1].errors) == (2, 1, 1, 1)
    assert rows[-1].finished == 1  # finished after the end: counted in the last minute
    assert [r.reindexing for r in rows[14:17]] == [False, True, False]


def test_report_and_plot_are_written(tmp_path: Path) -> None:
    text = write_report(run([outcome(60.0 * i + 30) for i in range(30)], [2000] * 31), tmp_path)
    assert "| target | measured | met |" in text
    assert len(list(tmp_path.glob("soak-*.png"))) == 1


def test_questions_mix_groups_and_follow_ups() -> None:
    questions = load_questions()
    assert all(questions[group] for group in ("answerable", "refusal", "injection"))
    rng = random.Random(0)
    kinds = {next_question(rng, questions, ("Combien de visiteurs ?", "450 [1]")).kind for _ in range(200)}
    assert kinds == {"answerable", "refusal", "injection", "follow-up"}
