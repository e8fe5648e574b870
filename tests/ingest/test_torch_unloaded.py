"""A service that does not embed with torch keeps it out of memory (spaCy's thinc would import it, ~180 MiB)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core.settings import REPO_ROOT
from ingest.onnx_export import torch_needed
from tests.fixtures.factories import make_settings


def test_torch_is_needed_only_by_the_torch_runtime_or_a_missing_onnx_export(tmp_path: Path) -> None:
    assert not torch_needed(make_settings(embedding__backend="e5"))
    assert torch_needed(make_settings(embedding__backend="gemma", embedding__runtime="torch"))
    models = tmp_path / "models"  # verified weights, not yet exported to ONNX
    models.mkdir()
    (models / "embeddinggemma-300m.verified").write_text("sha256", encoding="utf-8")
    assert torch_needed(make_settings(embedding__backend="gemma", embedding__runtime="onnx", cache_dir=tmp_path))


def test_the_french_analysis_runs_without_torch_once_it_is_kept_out() -> None:
    script = (
        "import sys\n"
        "from ingest.onnx_export import keep_torch_unloaded\n"
        "keep_torch_unloaded()\n"
        "from core.text import analyse\n"
        "print(sorted(analyse('Les déchets verts sont collectés le lundi.').lemmas))\n"
        "print(sys.modules['torch'] is None)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    lemmas, blocked = run.stdout.strip().splitlines()
    assert "dechet" in lemmas and blocked == "True"
