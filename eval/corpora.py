"""The evaluation corpora: each one's question set, documents and index.

`cua` is the assistant's own corpus and index (settings.corpus_dir, settings.index_dir). The
others are real French documents (Debian's HTML manuals, service-public.fr's JSON fiches) installed
by scripts/install_eval_corpora.sh into data/corpora/<corpus>/, each indexed into its own
<cache_dir>/eval-index/<corpus>/. The index lives in the cache, beside the models, so that a fresh
clone on the same machine (CI's) reuses it: the build is incremental, and an unchanged corpus costs
seconds instead of minutes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from core.settings import REPO_ROOT, Settings

if TYPE_CHECKING:
    from ingest.build import BuildReport

CORPORA = ("cua", "debian-faq", "aptitude", "fiches")
DEFAULT_CORPUS = "cua"
DATA = Path(__file__).resolve().parent / "data"
DOCUMENTS = REPO_ROOT / "data" / "corpora"
INSTALL_HINT = "installez-les avec « make eval-corpora » (scripts/install_eval_corpora.sh)"


class PageForm(NamedTuple):
    """A corpus's documents written as another corpus's in another form: that corpus, and the pages' suffix."""

    source: str
    suffix: str


# Corpora whose documents are another's in another form, judged on its questions: the fiches as a commune's own
# HTML pages (eval/fiche_pages.py) or Markdown pages (eval/fiche_markdown.py), written from the installed fiches
# whenever they are indexed; not in CI's run
PAGE_FORMS = {"fiches-html": PageForm("fiches", ".html"), "fiches-md": PageForm("fiches", ".md")}
# What an installed corpus's documents are: HTML pages (the Debian manuals), JSON fiches (service-public.fr) or the
# fiches' Markdown pages.
DOCUMENT_SUFFIXES = {".html", ".json", ".md"}


class CorpusMissing(Exception):
    """The documents of an evaluation corpus are not installed."""


def questions_path(corpus: str) -> Path:
    return DATA / (PAGE_FORMS[corpus].source if corpus in PAGE_FORMS else corpus) / "questions.jsonl"


def corpus_settings(corpus: str, base: Settings) -> Settings:
    """The settings that answer from this corpus: the base ones for cua, else its documents and its own index."""
    if corpus == DEFAULT_CORPUS:
        return base
    index_dir = base.cache_dir / "eval-index" / corpus
    return base.model_copy(update={"corpus_dir": DOCUMENTS / corpus, "index_dir": index_dir})


def index_corpus(corpus: str, base: Settings) -> tuple[Settings, BuildReport]:
    """Bring a non-default corpus's index up to date (incremental): its settings and the build report.

    Raises CorpusMissing when its documents were never installed.
    """
    from ingest.build import build_index

    settings = corpus_settings(corpus, base)
    if form := PAGE_FORMS.get(corpus):
        from eval.fiche_pages import write_pages

        if not is_installed(DOCUMENTS / form.source):
            raise CorpusMissing(
                f"documents du corpus {form.source} absents de {DOCUMENTS / form.source} : {INSTALL_HINT}"
            )
        write_pages(DOCUMENTS / form.source, settings.corpus_dir, form.suffix)
    if not is_installed(settings.corpus_dir):
        raise CorpusMissing(f"documents du corpus {corpus} absents de {settings.corpus_dir} : {INSTALL_HINT}")
    return settings, build_index(settings)


def is_installed(folder: Path) -> bool:
    """Whether a corpus folder holds at least one document (an HTML page or a JSON fiche)."""
    return folder.is_dir() and any(path.suffix in DOCUMENT_SUFFIXES for path in folder.iterdir())


def run_plan(corpus: str | None, retrieval_only: bool = False, remote: bool = False) -> dict[str, str]:
    """Each corpus to run and how: "full" (with the language model), "retrieval" (mock generator) or "remote".

    Without a corpus, or with "all": every corpus, in the same mode (what CI runs: all of them with the model,
    their held-out splits, `cuabot eval --gate --split heldout`).
    """
    if corpus not in (None, "all", *CORPORA, *PAGE_FORMS):
        raise ValueError(f"corpus inconnu : {corpus} (au choix : {', '.join((*CORPORA, *PAGE_FORMS))}, all)")
    if remote:
        if corpus not in (None, DEFAULT_CORPUS):
            raise ValueError(f"--url évalue l'instance servie, qui répond sur le corpus {DEFAULT_CORPUS} seulement")
        return {DEFAULT_CORPUS: "remote"}
    mode = "retrieval" if retrieval_only else "full"
    return {name: mode for name in (CORPORA if corpus in (None, "all") else (corpus,))}
