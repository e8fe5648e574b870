"""Espace conseillers: a Gradio page to ask the assistant and inspect how it answered.

Conseillers numériques see the decision (answer, evidence only, refusal) and why, the
ranked evidence sentences, every retrieved passage with its score, the model's draft and
the sentences the check removed with their reason, the timings, and can copy the answer with its sources or
send structured feedback. The logic lives in small pure functions that tests call.

A conseiller's question goes the way a resident's does: the same service (counted by the statistics),
the same budget per client address and the same place in the model's queue (ui/app.py hands the
API's own objects over), so a busy model gives the evidence alone, or a "réessayez" message.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import gradio as gr

from bot.answer.service import QuestionService
from bot.api.admission import BUSY_MESSAGE, Admission, QueueFull
from bot.api.display import answer_text, answer_with_sources, helpdesk_title, location
from bot.api.metrics import asked_from
from bot.api.ratelimit import RATE_LIMITED_MESSAGE, QuestionBudget, RateLimited
from bot.api.routes.feedback import FEEDBACK_UNAVAILABLE_MESSAGE
from bot.stores.database import DatabaseUnavailable
from bot.stores.feedback import (
    MAX_COMMENT_CHARS,
    NEGATIVE_REASONS,
    POSITIVE_REASONS,
    Feedback,
    FeedbackStore,
    reasons_from_codes,
)
from core.authority import authority_name
from core.logs import request_scope
from core.settings import Authority, Settings
from core.types import Answer, IndexedDocument, Outcome

logger = logging.getLogger(__name__)

CellType = Literal["number", "str"]
PASSAGE_HEADERS = ["Rang", "Score", "Citée", "Document", "Page ou section", "Extrait"]
PASSAGE_TYPES: list[CellType] = ["number", "number", "str", "str", "str", "str"]
PASSAGE_WIDTHS: list[str | int] = ["6%", "8%", "7%", "18%", "12%", "49%"]
EVIDENCE_HEADERS = ["n", "Score", "Dense", "Document", "Page ou section", "Phrase"]
EVIDENCE_TYPES: list[CellType] = ["number", "number", "number", "str", "str", "str"]
EVIDENCE_WIDTHS: list[str | int] = ["5%", "8%", "8%", "18%", "11%", "50%"]
SCORE_DECIMALS = 3
# The reasons a conseiller can tick: their French label shown, their code sent
REASON_CHOICES = [(reason.label, reason.value) for reason in POSITIVE_REASONS + NEGATIVE_REASONS]
RATINGS: dict[str, Literal["up", "down"]] = {"👍 Utile": "up", "👎 Pas utile": "down"}
NO_DROPPED_SENTENCE = "Aucune phrase retirée"
NO_DRAFT = "(pas de brouillon : le modèle n'a pas été appelé)"
OUTCOME_LABELS = {
    Outcome.ANSWER: "Réponse rédigée et vérifiée",
    Outcome.EVIDENCE_ONLY: "Extraits seuls (sans phrase du modèle)",
    Outcome.REFUSE: "Refus : orientation vers un humain",
}
TIMING_LABELS = {"evidence_s": "preuves", "first_token_s": "premier mot", "total_s": "total"}
LOCAL_FONTS = ["system-ui", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
LOCAL_MONO_FONTS = ["ui-monospace", "Consolas", "DejaVu Sans Mono", "monospace"]

HistoryEntry = dict[str, Any]


# ---------- Pure functions (unit-tested) ----------


def outcome_note(answer: Answer) -> str:
    """The service's decision and why, as Markdown."""
    return f"**Décision : {OUTCOME_LABELS[answer.outcome]}**\n\nMotif : {answer.reason}"


def evidence_table(answer: Answer) -> list[list[Any]]:
    """One row per ranked sentence; the [n] is the number used in the answer."""
    return [
        [
            evidence.number,
            round(evidence.score, SCORE_DECIMALS),
            round(evidence.dense_score, SCORE_DECIMALS),
            evidence.chunk.title,
            location(evidence.chunk),
            evidence.sentence.context,
        ]
        for evidence in answer.evidence
    ]


def passages_table(answer: Answer) -> list[list[Any]]:
    """One row per retrieved passage, in rank order, cited or not."""
    return [
        [
            passage.rank,
            round(passage.score, SCORE_DECIMALS),
            "oui" if passage.cited else "non",
            passage.chunk.title,
            location(passage.chunk),
            passage.chunk.text,
        ]
        for passage in sorted(answer.passages, key=lambda p: p.rank)
    ]


def dropped_note(answer: Answer) -> str:
    """Markdown list of the model's sentences the check removed, each with its reason."""
    if not answer.dropped:
        return NO_DROPPED_SENTENCE
    lines = [f"- {dropped.text} — {dropped.reason}" for dropped in answer.dropped]
    return "\n".join(["Phrases retirées par la vérification des sources :", *lines])


def draft_text(answer: Answer) -> str:
    """The model's raw draft, before the check."""
    return answer.draft or NO_DRAFT


def timings_note(answer: Answer) -> str:
    """« preuves 0.01 s · premier mot 0.03 s · total 0.06 s · 321 jetons de contexte »."""
    parts = [f"{TIMING_LABELS.get(key, key)} {value:.2f} s" for key, value in answer.timings.items()]
    if answer.prompt_tokens:
        parts.append(f"{answer.prompt_tokens} jetons de contexte")
    return "Durées : " + (" · ".join(parts) if parts else "non mesurées")


def document_choices(documents: list[IndexedDocument]) -> list[tuple[str, str]]:
    """(label shown, document id) pairs for the filter, sorted by title."""
    infos = sorted((d.info for d in documents), key=lambda info: info.title.lower())
    return [(info.title, info.doc_id) for info in infos]


def add_to_history(
    history: list[HistoryEntry], question: str, answer: Answer, size: int, authority: Authority
) -> list[HistoryEntry]:
    """A new history list ending with this question, keeping the last `size` entries."""
    entry = {"question": question, "outcome": answer.outcome, "answer": answer_text(answer, authority)}
    return [*history, entry][-size:]


def history_markdown(history: list[HistoryEntry]) -> str:
    """Numbered list of the session's questions, most recent first."""
    if not history:
        return "Aucune question pour l'instant."
    lines = []
    for number, entry in enumerate(reversed(history), start=1):
        status = {Outcome.ANSWER: "répondue", Outcome.EVIDENCE_ONLY: "extraits seuls"}.get(entry["outcome"], "refusée")
        lines.append(f"{number}. {entry['question']} ({status})")
    return "\n".join(lines)


def conseiller_feedback(
    question: str, answer: str, rating_label: str | None, reasons: list[str], comment: str
) -> Feedback:
    """The feedback to store; raises ValueError (French message) when no rating was chosen or a reason is unknown."""
    if rating_label not in RATINGS:
        raise ValueError("Choisissez 👍 ou 👎 avant d'envoyer.")
    return Feedback(
        rating=RATINGS[rating_label],
        origin="helpdesk",
        question=question,
        answer=answer,
        reasons=reasons_from_codes(reasons),
        comment=comment.strip(),
    )


def ask_in_turn(
    service: QuestionService,
    admission: Admission,
    budget: QuestionBudget,
    client: str,
    question: str,
    documents: list[str] | None,
) -> Answer:
    """The answer, asked as the API's routes ask: off the client's budget, through the model's queue.

    Raises gr.Error with the API's French message when the client asked too often or the queue is full. Gradio's
    queue runs it outside any HTTP request: the question gets its own request id, and counts for the helpdesk.
    """
    with request_scope(), asked_from("helpdesk"):
        try:
            budget.spend(client)
            ticket = admission.admit()
        except RateLimited:
            raise gr.Error(RATE_LIMITED_MESSAGE) from None
        except QueueFull:
            raise gr.Error(BUSY_MESSAGE) from None
        with ticket:
            try:
                return service.ask(question, documents=documents, phrasing=admission.phrasing)
            except Exception as error:
                logger.exception("helpdesk question failed")
                raise gr.Error(f"La réponse n'a pas pu être produite : {error}") from error


# ---------- Gradio page ----------


def helpdesk_theme() -> gr.themes.Base:
    """Gradio's default theme with local fonts only (no request to a font service)."""
    return gr.themes.Default(primary_hue="blue", font=LOCAL_FONTS, font_mono=LOCAL_MONO_FONTS)


def _read_only_table(
    label: str, elem_id: str, headers: list[str], datatype: list[CellType], widths: list[str | int]
) -> gr.Dataframe:
    """A table the conseiller reads but does not edit, long cells wrapped; one header, type and width per column."""
    return gr.Dataframe(
        headers=headers,
        datatype=datatype,
        label=label,
        interactive=False,
        wrap=True,
        column_widths=widths,
        elem_id=elem_id,
    )


def _answer_outputs(
    question: str, answer: Answer, history: list[HistoryEntry], size: int, authority: Authority
) -> tuple[Any, ...]:
    new_history = add_to_history(history, question, answer, size, authority)
    text = answer_text(answer, authority)
    return (
        text.replace("\n", "  \n"),  # Markdown hard line breaks: one quote per line
        outcome_note(answer),
        evidence_table(answer),
        passages_table(answer),
        dropped_note(answer),
        draft_text(answer),
        timings_note(answer),
        answer_with_sources(answer, authority),
        new_history,
        history_markdown(new_history),
        question,
        text,
        "",
    )


def _make_ask(
    service: QuestionService, admission: Admission, budget: QuestionBudget, history_size: int, authority: Authority
) -> Any:
    def ask(
        question: str, documents: list[str] | None, history: list[HistoryEntry], request: gr.Request | None = None
    ) -> tuple[Any, ...]:
        question = question.strip()
        if not question:
            raise gr.Error("Saisissez une question.")
        client = request.client.host if request is not None and request.client else "inconnu"
        answer = ask_in_turn(service, admission, budget, client, question, documents or None)
        return _answer_outputs(question, answer, history, history_size, authority)

    return ask


def _make_send_feedback(store: FeedbackStore) -> Any:
    def send_feedback(question: str, answer: str, rating: str | None, reasons: list[str], comment: str) -> str:
        if not answer:
            return "Posez d'abord une question : l'avis porte sur une réponse."
        try:
            feedback = conseiller_feedback(question, answer, rating, reasons, comment)
        except ValueError as error:
            return str(error)
        try:
            feedback_id = store.add(feedback)
        except DatabaseUnavailable:
            return FEEDBACK_UNAVAILABLE_MESSAGE
        return f"Merci, votre avis est enregistré (n° {feedback_id})."

    return send_feedback


def build_helpdesk(
    service: QuestionService,
    admission: Admission,
    budget: QuestionBudget,
    feedback_store: FeedbackStore,
    settings: Settings,
) -> gr.Blocks:
    """The conseillers' page, over the API's service, queue, budget and feedback store (ui/app.py).

    Mount it with `gr.mount_gradio_app` and `helpdesk_theme()`.
    """
    history_size = settings.api.helpdesk_history_size
    with gr.Blocks(title=helpdesk_title(settings.authority), analytics_enabled=False) as page:
        gr.Markdown(
            f"# Espace conseillers — {authority_name(settings.authority)}\n"
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
                    max_length=settings.api.max_question_chars,
                    placeholder="Par exemple : Combien de visiteurs au Numericamp ?",
                )
                documents = gr.Dropdown(
                    choices=document_choices(service.documents()),
                    value=[],
                    multiselect=True,
                    label="Limiter aux documents (facultatif)",
                )
                ask_button = gr.Button("Demander", variant="primary")
                answer = gr.Markdown(label="Réponse", value="", elem_id="answer")
                outcome = gr.Markdown(elem_id="outcome")
                timings = gr.Markdown(elem_id="timings")
            with gr.Column(scale=1):
                gr.Markdown("### Questions de la session")
                history_view = gr.Markdown(history_markdown([]))
        evidence = _read_only_table(
            "Phrases retenues comme preuves ([n] de la réponse)",
            "evidence",
            EVIDENCE_HEADERS,
            EVIDENCE_TYPES,
            EVIDENCE_WIDTHS,
        )
        passages = _read_only_table(
            "Passages retrouvés (tous, cités ou non)", "passages", PASSAGE_HEADERS, PASSAGE_TYPES, PASSAGE_WIDTHS
        )
        with gr.Accordion("Vérification du modèle", open=True):
            dropped = gr.Markdown(elem_id="dropped")
            draft = gr.Textbox(label="Brouillon du modèle (avant vérification)", lines=3, interactive=False)
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
            reasons = gr.CheckboxGroup(REASON_CHOICES, label="Raisons")
            comment = gr.Textbox(label="Commentaire (facultatif)", lines=2, max_length=MAX_COMMENT_CHARS)
            send = gr.Button("Envoyer")
            confirmation = gr.Markdown()

        ask_outputs = [
            answer,
            outcome,
            evidence,
            passages,
            dropped,
            draft,
            timings,
            copy_box,
            history,
            history_view,
            last_question,
            last_answer,
            confirmation,
        ]
        # No queue of Gradio's own (concurrency_limit=None): the model's queue is the Admission, shared with residents
        gr.on(
            [ask_button.click, question.submit],
            _make_ask(service, admission, budget, history_size, settings.authority),
            [question, documents, history],
            ask_outputs,
            api_name="ask",
            concurrency_limit=None,
        )
        send.click(
            _make_send_feedback(feedback_store),
            [last_question, last_answer, rating, reasons, comment],
            confirmation,
        )
    return page
