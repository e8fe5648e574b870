"""Bench figures, each beside a baseline measured in the same run, as a markdown table and a chart."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Figure:
    """One measured value and the baseline it is compared with (same run, same machine)."""

    section: str
    metric: str
    value: float
    baseline: float
    baseline_label: str
    unit: str

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("nan")


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0-100), linear interpolation."""
    return float(np.percentile(samples, q))


def markdown(figures: list[Figure], header: str) -> str:
    """One table per section: metric | value | baseline (same run) | ratio."""
    lines = [header, ""]
    for section in dict.fromkeys(f.section for f in figures):
        lines += [f"### {section}", "", "| metric | value | baseline (same run) | ratio |", "|---|---:|---|---:|"]
        for f in (f for f in figures if f.section == section):
            lines.append(
                f"| {f.metric} | {_fmt(f.value)} {f.unit} | {f.baseline_label}: {_fmt(f.baseline)} {f.unit} "
                f"| {_fmt(f.ratio)}× |"
            )
        lines.append("")
    return "\n".join(lines)


def _fmt(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 100 else f"{value:,.0f}"


def chart(figures: list[Figure], path: Path) -> None:
    """Bars from 1 (the baseline) to each figure's ratio, log scale, one panel per section."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    sections = list(dict.fromkeys(f.section for f in figures))
    rows = [[f for f in figures if f.section == section] for section in sections]
    fig, axes = plt.subplots(
        len(sections),
        1,
        figsize=(13, 0.9 * len(sections) + 0.3 * len(figures)),
        squeeze=False,
        gridspec_kw={"height_ratios": [len(r) + 1 for r in rows]},
    )
    for ax, section, section_rows in zip(axes[:, 0], sections, rows, strict=True):
        ratios = [f.ratio for f in section_rows]
        ax.barh(
            [f"{f.metric} ({f.unit})" if f.unit else f.metric for f in section_rows],
            [r - 1 for r in ratios],
            left=1,
            color=["#3b6ea5" if r >= 1 else "#c0504d" for r in ratios],
        )
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}×"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(section, fontsize=10, loc="left")
        ax.tick_params(labelsize=8)
        ax.invert_yaxis()
    axes[-1, 0].set_xlabel("value / baseline measured in the same run (log scale)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
