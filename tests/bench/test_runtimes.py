"""The runtime bench's bookkeeping on tiny inputs: each figure beside the float baseline, a result measured once."""

from __future__ import annotations

import json
from pathlib import Path

from bench.runtimes import BASELINE, measured, quality_figures

_WRITE = """
import json, sys
from pathlib import Path
counter = Path(sys.argv[2]).with_name("runs")
counter.write_text(str(int(counter.read_text()) + 1 if counter.exists() else 1))
Path(sys.argv[2]).write_text(json.dumps({"corpus": sys.argv[1]}))
"""


def test_a_result_already_in_the_work_folder_is_not_measured_again(tmp_path: Path) -> None:
    out = tmp_path / "fiches.build.json"
    first = measured(_WRITE, "fiches", out, {})
    again = measured(_WRITE, "fiches", out, {})
    assert first["corpus"] == again["corpus"] == "fiches" and first["wall_s"] > 0
    assert (tmp_path / "runs").read_text() == "1"
    assert json.loads(out.read_text())["peak_rss"] > 0


def test_quality_figures_put_each_metric_beside_the_float_index() -> None:
    metrics = {"recall@5": 1.0, "mrr": 0.9, "fact_recall@5": 0.8, "evidence@1": 0.5, "evidence@3": 0.7}
    figures = quality_figures("cua", "int8", {**metrics, "evidence@1": 0.45}, metrics)
    by_metric = {f.metric: f for f in figures}
    assert by_metric["cua, int8: evidence@1"].value == 0.45
    assert by_metric["cua, int8: evidence@1"].baseline == 0.5
    assert {f.baseline_label for f in figures} == {BASELINE}
