"""Espace conseillers: a Gradio page to ask the assistant and inspect how it answered.

Conseillers numériques see the answer, every retrieved passage with its score, the
sentences the grounding check removed, and can copy the answer with its sources or
send structured feedback. The logic lives in small pure functions that tests call.
"""

from __future__ import annotations

import logging
from typing import Any, Literal, Protocol

import gradio as gr

from bot.feedback import FeedbackStore
from bot.schemas import DocumentSummary, FeedbackRequest
from core.settings import Settings
from core.types import AnswerResult, Chunk, Passage

logger = logging.getLogger(__name__)

TABLE_HEADERS = ["Rang", "Score", "Document", "Page ou section", "Citée", "Extrait"]
SCORE_DECIMALS = 3
POSITIVE_REASONS = ["clair", "complet", "sources fiables"]
NEGATIVE_REASONS = ["incorrect", "incohérent", "manque de sources", "hors sujet"]
RATINGS: dict[str, Literal["up", "down"]] = {"👍 Utile": "up", "👎 Pas utile": "down"}
NO_DROPPED_SENTENCE = "Aucune phrase retirée"
LOCAL_FONTS = ["system-ui", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
LOCAL_MONO_FONTS = ["ui-monospace", "Consolas", "DejaVu Sans Mono", "monospace"]

HistoryEntry = dict[str, Any]


class HelpdeskPipeline(Protocol):
    """What the helpdesk needs from `bot.pipeline.Pipeline`."""

    def ask(
        self, question: str, history: list[Any] | None = None, documents: list[str] | None = None
    ) -> AnswerResult: ...

    def documents(self) -> list[DocumentSummary]: ...


# ---------- Pure functions (unit-tested) ----------


def location_label(chunk: Chunk) -> str:
    """« p. 12 », the section name, or an empty string."""
    if chunk.page is not None:
        return f"p. {chunk.page}"
    return chunk.section or ""


def passages_table(result: AnswerResult) -> list[list[Any]]:
    """One row per retrieved passage, in rank order, cited or not."""
    return [
        [
            passage.rank,
            round(passage.score, SCORE_DECIMALS),
            passage.chunk.title,
            location_label(passage.chunk),
            "oui" if passage.cited else "non",
            passage.chunk.text,
        ]
        for passage in sorted(result.passages, key=lambda p: p.rank)
    ]


def cited_passages(result: AnswerResult) -> list[Passage]:
    """The passages the answer cites, in rank order."""
    return sorted((p for p in result.passages if p.cited), key=lambda p: p.rank)


def source_line(passage: Passage) -> str:
    """« [1] Titre, p. 12 : « extrait » » as plain text."""
    where = location_label(passage.chunk)
    reference = f"{passage.chunk.title}, {where}" if where else passage.chunk.title
    return f"[{passage.rank}] {reference} : « {passage.chunk.text} »"


def plain_text_answer(result: AnswerResult) -> str:
    """The answer and its cited sources as plain text, ready to paste in an e-mail."""
    sources = [source_line(p) for p in cited_passages(result)]
    if not sources:
        return result.answer
    return "\n".join([result.answer, "", "Sources :", *sources])


def dropped_note(result: AnswerResult) -> str:
    """Markdown list of the sentences the grounding check removed."""
    if not result.dropped_sentences:
        return NO_DROPPED_SENTENCE
    lines = [f"- {sentence}" for sentence in result.dropped_sentences]
    return "\n".join(["Phrases retirées par la vérification des sources :", *lines])


def fallback_note(result: AnswerResult) -> str:
    """Says whether the answer was generated or extracted from the passages."""
    if result.refused:
        return "Réponse refusée : les documents ne couvrent pas la question."
    if result.fallback:
        return "Réponse de secours extraite des passages (le modèle n'a pas donné de réponse vérifiable)."
    return "Réponse rédigée par le modèle et vérifiée sur les sources."


def document_choices(documents: list[DocumentSummary]) -> list[tuple[str, str]]:
    """(label shown, document id) pairs for the filter, sorted by title."""
    return [(doc.title, doc.document) for doc in sorted(documents, key=lambda d: d.title.lower())]


def add_to_history(history: list[HistoryEntry], question: str, result: AnswerResult, size: int) -> list[HistoryEntry]:
    """A new history list ending with this question, keeping the last `size` entries."""
    entry = {"question": question, "refused": result.refused, "answer": result.answer}
    return [*history, entry][-size:]


def history_markdown(history: list[HistoryEntry]) -> str:
    """Numbered list of the session's questions, most recent first."""
    if not history:
        return "Aucune question pour l'instant."
    lines = []
    for number, entry in enumerate(reversed(history), start=1):
        status = "refusée" if entry["refused"] else "répondue"
        lines.append(f"{number}. {entry['question']} ({status})")
    return "\n".join(lines)


def feedback_request(
    question: str, answer: str, rating_label: str | None, reasons: list[str], comment: str
) -> FeedbackRequest:
    """The feedback to store; raises ValueError (French message) when no rating was chosen."""
    if rating_label not in RATINGS:
        raise ValueError("Choisissez 👍 ou 👎 avant d'envoyer.")
    return FeedbackRequest(
        question=question,
        answer=answer,
        rating=RATINGS[rating_label],
        reasons=list(reasons),
        comment=comment.strip(),
        origin="helpdesk",
    )


# ---------- Gradio page ----------


def helpdesk_theme() -> gr.themes.Base:
    """Gradio's default theme with local fonts only (no request to a font service)."""
    return gr.themes.Default(primary_hue="blue", font=LOCAL_FONTS, font_mono=LOCAL_MONO_FONTS)


def _answer_outputs(question: str, result: AnswerResult, history: list[HistoryEntry], size: int) -> tuple[Any, ...]:
    new_history = add_to_history(history, question, result, size)
    return (
        result.answer,
        passages_table(result),
        dropped_note(result),
        fallback_note(result),
        plain_text_answer(result),
        new_history,
        history_markdown(new_history),
        question,
        result.answer,
        "",
    )


def _make_ask(pipeline: HelpdeskPipeline, history_size: int) -> Any:
    def ask(question: str, documents: list[str] | None, history: list[HistoryEntry]) -> tuple[Any, ...]:
        question = question.strip()
        if not question:
            raise gr.Error("Saisissez une question.")
        try:
            result = pipeline.ask(question, documents=documents or None)
        except Exception as error:
            logger.exception("helpdesk question failed")
            raise gr.Error(f"La réponse n'a pas pu être produite : {error}") from error
        return _answer_outputs(question, result, history, history_size)

    return ask


def _make_send_feedback(store: FeedbackStore) -> Any:
    def send_feedback(question: str, answer: str, rating: str | None, reasons: list[str], comment: str) -> str:
        if not answer:
            return "Posez d'abord une question : l'avis porte sur une réponse."
        try:
            request = feedback_request(question, answer, rating, reasons, comment)
        except ValueError as error:
            return str(error)
        feedback_id = store.add(request)
        return f"Merci, votre avis est enregistré (n° {feedback_id})."

    return send_feedback


def build_helpdesk(pipeline: HelpdeskPipeline, settings: Settings, feedback_store: FeedbackStore) -> gr.Blocks:
    """The conseillers' page; mount it with `gr.mount_gradio_app` and `helpdesk_theme()`."""
    history_size = settings.helpdesk_history_size
    with gr.Blocks(title="Assistant CUA — espace conseillers", analytics_enabled=False) as page:
        gr.Markdown(
            "# Espace conseillers\n"
            "Posez une question comme un usager, vérifiez les passages retrouvés, "
            "puis copiez la réponse sourcée ou donnez votre avis."
        )
        history = gr.State([])
        last_question = gr.State("")
        last_answer = gr.State("")
        with gr.Row():
            with gr.Column(scale=3):
                question = gr.Textbox(
                    label="Question",
                    lines=2,
                    max_length=settings.max_question_chars,
                    placeholder="Par exemple : Combien de visiteurs au Numericamp ?",
                )
                documents = gr.Dropdown(
                    choices=document_choices(pipeline.documents()),
                    value=[],
                    multiselect=True,
                    label="Limiter aux documents (facultatif)",
                )
                ask_button = gr.Button("Demander", variant="primary")
                answer = gr.Markdown(label="Réponse", value="")
                fallback = gr.Markdown()
                dropped = gr.Markdown()
            with gr.Column(scale=1):
                gr.Markdown("### Questions de la session")
                history_view = gr.Markdown(history_markdown([]))
        passages = gr.Dataframe(
            headers=TABLE_HEADERS,
            datatype=["number", "number", "str", "str", "str", "str"],
            label="Passages retrouvés (tous, cités ou non)",
            interactive=False,
            wrap=True,
            column_widths=["6%", "8%", "18%", "12%", "7%", "49%"],
            elem_id="passages",
        )
        copy_box = gr.Textbox(
            label="Copier la réponse et les sources",
            info="Texte modifiable avant de le copier dans un courriel ou un document.",
            lines=6,
            interactive=True,
            buttons=["copy"],
            elem_id="copy-answer",
        )
        with gr.Group():
            gr.Markdown("### Votre avis sur cette réponse")
            rating = gr.Radio(list(RATINGS), label="Évaluation")
            reasons = gr.CheckboxGroup(POSITIVE_REASONS + NEGATIVE_REASONS, label="Raisons")
            comment = gr.Textbox(label="Commentaire (facultatif)", lines=2, max_length=2000)
            send = gr.Button("Envoyer")
            confirmation = gr.Markdown()

        ask_outputs = [
            answer,
            passages,
            dropped,
            fallback,
            copy_box,
            history,
            history_view,
            last_question,
            last_answer,
            confirmation,
        ]
        ask_fn = _make_ask(pipeline, history_size)
        ask_button.click(ask_fn, [question, documents, history], ask_outputs)
        question.submit(ask_fn, [question, documents, history], ask_outputs)
        send.click(
            _make_send_feedback(feedback_store),
            [last_question, last_answer, rating, reasons, comment],
            confirmation,
        )
    return page
