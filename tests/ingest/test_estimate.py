"""Estimates before a build (ingest/estimate.py): the passage count, the pace each build records, the French words;
and the closing line of `cuabot ingest`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.api.display import about, rate_text, time_left
from cli import main
from core.settings import Settings
from ingest.build import build_index
from ingest.corpus import doc_id_of
from ingest.embeddings import E5Embedder
from ingest.estimate import PACE_FILE, estimate, file_passages, measured_pace
from ingest.store import IndexReader

LOADERS = Path(__file__).resolve().parents[1] / "fixtures" / "loaders"


def _services(folder: Path, count: int) -> Path:
    """A Markdown file of `count` short sections: one passage each."""
    folder.mkdir(exist_ok=True)
    sections = (
        f"## Service {i}\n\nLe service numéro {i} accueille les habitants du lundi au vendredi, de 9 h à 17 h. "
        f"Les demandes adressées au service {i} reçoivent une réponse en {i + 2} jours ouvrés."
        for i in range(count)
    )
    (folder / "services.md").write_text("\n\n".join(sections), encoding="utf-8")
    return folder


def test_the_estimate_counts_the_passages_the_build_makes(e5_settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("two_pages.pdf", "page_with_nav.html"):
        shutil.copy(LOADERS / name, folder / name)
    _services(folder, 7)
    report = build_index(e5_settings, folder, lambda _s: E5Embedder())
    built = IndexReader(e5_settings).chunks
    for name in ("two_pages.pdf", "page_with_nav.html", "services.md"):
        made = sum(chunk.doc_id == doc_id_of(name) for chunk in built)
        assert made and file_passages(folder / name, e5_settings) == made, name
    assert report.embedded_chunks == len(built)
    # A PDF the loader cannot open is counted by its size: the upload is not refused for the estimate's sake
    assert file_passages(LOADERS / "corrupt.pdf", e5_settings) == 1


def test_a_build_records_its_pace_for_the_next_estimates(e5_settings: Settings, tmp_path: Path) -> None:
    folder = _services(tmp_path / "docs", 4)
    build_index(e5_settings, folder, lambda _s: E5Embedder())
    assert not (e5_settings.index_dir / PACE_FILE).exists()  # 4 passages measure the start more than the pace
    assert not estimate(e5_settings, [folder / "services.md"]).measured

    _services(folder, 14)  # the first 4 sections' passages keep their vectors: the pace is the other 10's
    report = build_index(e5_settings, folder, lambda _s: E5Embedder())
    assert report.analysed_passages == 14 and report.reused_chunks == 4 and report.analysed_per_s > 0
    pace = report.analysed_per_s * 10 / 14
    assert measured_pace(e5_settings) == pytest.approx(pace, rel=1e-3)
    known = estimate(e5_settings, [folder / "services.md"])
    assert known.measured and known.seconds == pytest.approx(known.passages / pace, rel=1e-3)
    # Another embedder's pace is not this one's
    assert measured_pace(e5_settings.changed(embedding__backend="gemma")) is None


def test_durations_and_paces_in_french() -> None:
    assert [about(s) for s in (30, 60, 610, 3900)] == [
        "moins d'une minute",
        "environ 1 minute",
        "environ 11 minutes",  # rounded up: an estimate errs long
        "environ 1 h 05",
    ]
    assert [time_left(s) for s in (20, 240)] == ["moins d'une minute restante", "environ 4 minutes restantes"]
    assert [rate_text(r) for r in (3.14, 1.5, 0.48)] == ["3,1 passages/s", "1,5 passage/s", "0,48 passage/s"]


def test_ingest_command_ends_with_its_duration_and_pace(
    e5_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(main, "get_settings", lambda: e5_settings)
    result = CliRunner().invoke(main.app, ["ingest", str(_services(tmp_path / "docs", 3))])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Indexation terminée en ") and " s : 3 passages calculés, " in last
    assert last.endswith("passage/s.") or last.endswith("passages/s.")
