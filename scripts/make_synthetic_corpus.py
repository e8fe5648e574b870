"""Write a synthetic corpus N times the size of the shipped one, for the benchmarks.

Each synthetic document is a Markdown file made of paragraphs drawn from all shipped documents
(as the loaders read them) under a new title and id; the same seed gives the same files.
Usage: .venv/bin/python scripts/make_synthetic_corpus.py [--scale 100] [--seed 12] [folder]
(default folder: data/corpora/synthetic-<scale>x/, outside git)
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from ingest.corpus import list_files
from ingest.loaders import load_file

REPO_ROOT = Path(__file__).resolve().parent.parent
# A line shorter than this (a heading, a name, a figure's label) is not drawn
_MIN_PARAGRAPH_CHARS = 80
_TOPICS = [
    "Mobilité", "Habitat", "Collecte des déchets", "Médiathèques", "Numérique", "Eau et assainissement",
    "Petite enfance", "Sport", "Culture", "Emploi", "Urbanisme", "Transition écologique",
]  # fmt: skip


def source_documents(corpus: Path) -> list[list[str]]:
    """The paragraphs of each shipped document, in reading order (loaders put one paragraph per line)."""
    documents = []
    for path in list_files(corpus)[0]:
        blocks = (line.strip() for unit in load_file(path) for line in unit.page_content.splitlines())
        documents.append([block for block in blocks if len(block) >= _MIN_PARAGRAPH_CHARS])
    return documents


def synthetic_documents(sources: list[list[str]], scale: int, seed: int) -> list[tuple[str, str, list[str]]]:
    """(id, title, paragraphs) for `scale` times as many documents, each as long as the source it mirrors."""
    rng = random.Random(seed)
    pool = [paragraph for paragraphs in sources for paragraph in paragraphs]
    documents = []
    for number in range(scale * len(sources)):
        length = len(sources[number % len(sources)])
        title = f"{rng.choice(_TOPICS)} : dossier {number + 1:04d}"
        documents.append((f"synthetique-{number + 1:04d}", title, rng.sample(pool, min(length, len(pool)))))
    return documents


def write_corpus(documents: list[tuple[str, str, list[str]]], folder: Path) -> None:
    """Markdown files plus the manifest.json the build reads titles and publishers from."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {}
    for doc_id, title, paragraphs in documents:
        body = "\n\n".join(paragraphs)
        (folder / f"{doc_id}.md").write_text(f"# {title}\n\n{body}\n", encoding="utf-8")
        manifest[f"{doc_id}.md"] = {"title": title, "publisher": "Corpus synthétique (banc d'essai)"}
    text = json.dumps({"documents": manifest}, ensure_ascii=False, indent=1)
    (folder / "manifest.json").write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--source", type=Path, default=REPO_ROOT / "corpus")
    args = parser.parse_args()
    folder = args.folder or REPO_ROOT / "data" / "corpora" / f"synthetic-{args.scale}x"
    documents = synthetic_documents(source_documents(args.source), args.scale, args.seed)
    write_corpus(documents, folder)
    size = sum(path.stat().st_size for path in folder.glob("*.md"))
    print(f"{len(documents)} documents ({size / 1e6:.1f} Mo) in {folder}")


if __name__ == "__main__":
    main()
