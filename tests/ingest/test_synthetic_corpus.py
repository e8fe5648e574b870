"""The synthetic bench corpus (scripts/make_synthetic_corpus.py): deterministic, N times the shipped one, indexable."""

import importlib.util
from pathlib import Path

from core.settings import REPO_ROOT
from ingest.loaders import document_title, load_file

_SPEC = importlib.util.spec_from_file_location(
    "make_synthetic_corpus", REPO_ROOT / "scripts" / "make_synthetic_corpus.py"
)
assert _SPEC and _SPEC.loader
synthetic = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(synthetic)


def test_same_seed_same_files_scaled_from_the_shipped_paragraphs(tmp_path: Path) -> None:
    sources = synthetic.source_documents(REPO_ROOT / "corpus")
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        synthetic.write_corpus(synthetic.synthetic_documents(sources, 3, seed), tmp_path / name)
    files = sorted(p.name for p in (tmp_path / "a").glob("*.md"))
    assert len(files) == 3 * len(sources) == 15
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    assert any((tmp_path / "a" / f).read_bytes() != (tmp_path / "c" / f).read_bytes() for f in files)
    shipped = {paragraph for paragraphs in sources for paragraph in paragraphs}
    path = tmp_path / "a" / files[0]
    units = load_file(path)
    assert document_title(path, units).endswith(": dossier 0001")
    assert sum(len(u.page_content) for u in units) > 1000
    bodies = [(tmp_path / "a" / f).read_text(encoding="utf-8").strip().split("\n\n")[1:] for f in files]
    assert all(paragraph in shipped for body in bodies for paragraph in body)
    assert 2.5 < sum(len(p) for body in bodies for p in body) / sum(len(p) for p in shipped) < 3.5
