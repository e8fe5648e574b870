"""The widget and the helpdesk in Debian's chromium, against the app around the StubService."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from stub_service import DROPPED_REASON, DROPPED_SENTENCE

from bot.api.display import EVIDENCE_LEAD, REFUSAL_MESSAGE
from bot.api.routes.feedback import FEEDBACK_UNAVAILABLE_MESSAGE
from bot.stores.feedback import FeedbackStore

pytestmark = pytest.mark.browser

QUESTION = "Combien de visiteurs au Numericamp ?"
REFUSED_QUESTION = "Comment changer l'adresse de ma carte grise ?"
EVIDENCE_ONLY_QUESTION = "Quels extraits parlent du Numericamp ?"
SLOW_QUESTION = "Répondez lentement : combien de visiteurs au Numericamp ?"
FIRST_QUOTE = "« Le Numericamp a réuni 450 visiteurs à la Citadelle d'Arras. »"
SECOND_QUOTE = "« Les ateliers du conseiller numérique sont gratuits et ouverts à tous. »"

# Replaces the browser's speech synthesis with a recorder: what would be spoken, and every cancel().
RECORD_SPEECH = """
window.__spoken = [];
window.__cancels = 0;
window.SpeechSynthesisUtterance = function (text) { this.text = text; this.lang = ''; this.voice = null; };
Object.defineProperty(window, 'speechSynthesis', { configurable: true, value: {
  speak(utterance) { window.__spoken.push({ text: utterance.text, lang: utterance.lang,
                                            voice: utterance.voice && utterance.voice.name }); },
  cancel() { window.__cancels += 1; },
  getVoices() { return [{ name: 'Anglais', lang: 'en-US' }, { name: 'Amélie', lang: 'fr-FR' }]; },
} });
"""
MAX_TABS = 10
BLOCKING_IMPACTS = {"serious", "critical"}

# Records every text the answer's live region shows, from the first event to the final answer: the region after each
# change, and the nodes each change added or removed (the region may have changed again before this runs).
RECORD_STREAM = """
window.__streamed = [];
new MutationObserver((records) => {
  for (const record of records) {
    const target = record.target.nodeType === Node.ELEMENT_NODE ? record.target : record.target.parentElement;
    const live = target && (target.closest('.cua-live') || target.closest('.cua-streaming'));
    if (!live) { continue; }
    window.__streamed.push(live.textContent, record.oldValue || '');
    record.addedNodes.forEach((node) => window.__streamed.push(node.textContent));
    record.removedNodes.forEach((node) => window.__streamed.push(node.textContent));
  }
}).observe(document.body, { subtree: true, childList: true, characterData: true, characterDataOldValue: true });
"""


def _open_demo(page: Page, url: str) -> None:
    page.goto(url + "/")
    expect(page.locator(".cua-launcher")).to_be_visible()


def _open_with_keyboard(page: Page) -> None:
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('cua-launcher')"):
            break
    expect(page.locator(".cua-launcher")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_visible()


def _ask(page: Page, question: str) -> None:
    textarea = page.get_by_label("Votre question")
    textarea.fill(question)
    textarea.press("Enter")
    expect(page.locator(".cua-streaming")).to_have_count(0)
    expect(page.locator(".cua-send")).to_be_enabled()
    expect(page.locator(".cua-error")).to_be_empty()


def _feedback_rows(settings: Any, tmp_path: Path) -> list[dict[str, str]]:
    dest = tmp_path / "feedback.csv"
    FeedbackStore(settings.feedback_db, settings.privacy.store_questions).export_csv(dest)
    with dest.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_keyboard_question_streams_then_shows_checked_answer(
    page: Page, stub_server: dict[str, Any], artifacts_dir: Path, tmp_path: Path
) -> None:
    url = stub_server["url"]
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    _open_demo(page, url)
    _open_with_keyboard(page)
    expect(page.get_by_label("Votre question")).to_be_focused()
    page.screenshot(path=artifacts_dir / "widget-open.png", animations="disabled")

    page.evaluate(RECORD_STREAM)
    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    answer = page.locator(".cua-answer").last
    expect(answer).to_contain_text("450 visiteurs")
    streamed = page.evaluate("window.__streamed")
    assert not any(DROPPED_SENTENCE in text for text in streamed), streamed
    expect(answer).not_to_contain_text(DROPPED_SENTENCE)

    expect(answer.locator(".cua-answer-text")).to_have_text(
        "Le Numericamp a accueilli 450 visiteurs [source 1]. "
        "Les ateliers du conseiller numérique sont gratuits [source 2]."
    )
    reference = answer.locator(".cua-ref").first
    expect(reference).to_have_text("[source 1]")
    reference.press("Enter")
    quote = answer.locator(".cua-quote").first
    expect(quote).to_be_focused()
    expect(quote.locator(".cua-excerpt")).to_have_text(FIRST_QUOTE)
    expect(quote.locator(".cua-quote-source")).to_have_text("[1] Bilan du Numericamp 2024 — p. 12")
    expect(answer.locator(".cua-quote-source").nth(1)).to_have_text("[2] Guide de l'inclusion numérique — Ateliers")
    page.screenshot(path=artifacts_dir / "widget-answer.png", animations="disabled")

    page.get_by_role("button", name="Réponse utile").click()
    expect(answer.locator(".cua-feedback-status")).to_have_text("Merci pour votre avis.")
    rows = _feedback_rows(stub_server["settings"], tmp_path)
    assert any(row["origin"] == "widget" and row["rating"] == "up" for row in rows), rows

    assert all(request.startswith(url) for request in requests), requests
    assert page.context.cookies() == []


def test_refusal_is_shown_prominently(page: Page, stub_server: dict[str, Any], artifacts_dir: Path) -> None:
    _open_demo(page, stub_server["url"])
    page.locator(".cua-launcher").click()
    _ask(page, REFUSED_QUESTION)
    refusal = page.locator(".cua-refusal")
    expect(refusal).to_be_visible()
    expect(refusal).to_have_attribute("role", "status")
    expect(refusal).to_contain_text("Pas de réponse dans les documents")
    expect(refusal).to_contain_text(REFUSAL_MESSAGE)
    expect(refusal.locator(".cua-quote")).to_have_count(0)
    expect(refusal).not_to_contain_text(EVIDENCE_LEAD)
    page.screenshot(path=artifacts_dir / "widget-refusal.png", animations="disabled")


def test_conversation_survives_reload_and_escape_returns_focus(page: Page, stub_server: dict[str, Any]) -> None:
    _open_demo(page, stub_server["url"])
    page.locator(".cua-launcher").click()
    _ask(page, QUESTION)
    _ask(page, REFUSED_QUESTION)

    page.reload()
    page.locator(".cua-launcher").click()
    expect(page.locator(".cua-turn")).to_have_count(2)
    expect(page.locator(".cua-question-text").first).to_have_text(QUESTION)
    expect(page.locator(".cua-ref").first).to_be_visible()
    expect(page.locator(".cua-refusal")).to_have_count(1)
    stored = page.evaluate("Object.keys(window.sessionStorage)")
    assert stored == ["cua-assistant-conversation"]
    assert page.evaluate("window.localStorage.length") == 0

    page.get_by_label("Votre question").press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page.locator(".cua-launcher")).to_be_focused()
    expect(page.locator(".cua-launcher")).to_have_attribute("aria-expanded", "false")


def test_new_question_resets_and_shift_enter_adds_a_line(page: Page, stub_server: dict[str, Any]) -> None:
    _open_demo(page, stub_server["url"])
    page.locator(".cua-launcher").click()
    _ask(page, QUESTION)
    page.get_by_role("button", name="Nouvelle question").click()
    expect(page.locator(".cua-turn")).to_have_count(0)
    expect(page.get_by_label("Votre question")).to_be_focused()
    page.keyboard.type("Première ligne")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("deuxième ligne")
    expect(page.get_by_label("Votre question")).to_have_value("Première ligne\ndeuxième ligne")
    expect(page.locator(".cua-turn")).to_have_count(0)
    assert page.get_by_label("Votre question").get_attribute("maxlength") == "1000"


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        ("server", "Le service n'a pas pu répondre."),
        ("validation", "La question est trop longue."),
        ("network", "Connexion au service impossible."),
        ("stream", "Le modèle ne répond pas."),
    ],
)
def test_errors_are_explained_in_french(page: Page, stub_server: dict[str, Any], failure: str, message: str) -> None:
    def fail(route: Any) -> None:
        if failure == "network":
            route.abort()
        elif failure == "server":
            route.fulfill(status=500, body="Internal Server Error")
        elif failure == "validation":
            route.fulfill(status=422, json={"detail": message})
        else:
            body = f"event: error\r\ndata: {json.dumps({'message': message})}\r\n\r\n"
            route.fulfill(status=200, body=body, headers={"Content-Type": "text/event-stream"})

    page.route("**/api/ask/stream", fail)
    _open_demo(page, stub_server["url"])
    page.locator(".cua-launcher").click()
    page.get_by_label("Votre question").fill(QUESTION)
    page.get_by_label("Votre question").press("Enter")
    expect(page.get_by_role("alert")).to_contain_text(message)
    expect(page.locator(".cua-turn")).to_have_count(0)
    expect(page.locator(".cua-send")).to_be_enabled()
    expect(page.get_by_label("Votre question")).to_have_value(QUESTION)


def test_a_refused_feedback_shows_the_reason_and_can_be_sent_again(page: Page, stub_server: dict[str, Any]) -> None:
    reason = FEEDBACK_UNAVAILABLE_MESSAGE  # what the API answers while its database is down
    page.route("**/api/feedback", lambda route: route.fulfill(status=503, json={"detail": reason}))
    _open_demo(page, stub_server["url"])
    page.locator(".cua-launcher").click()
    _ask(page, QUESTION)
    useful = page.get_by_role("button", name="Réponse utile")
    useful.click()
    expect(page.locator(".cua-feedback-status")).to_have_text(reason)
    expect(useful).to_be_enabled()


def test_phone_screen_gets_a_full_screen_panel(browser: Any, stub_server: dict[str, Any], artifacts_dir: Path) -> None:
    context = browser.new_context(
        locale="fr-FR", viewport={"width": 360, "height": 740}, device_scale_factor=2, reduced_motion="reduce"
    )
    page = context.new_page()
    _open_demo(page, stub_server["url"])
    page.locator(".cua-launcher").click()
    _ask(page, QUESTION)
    box = page.get_by_role("dialog").bounding_box()
    assert box is not None
    assert (box["x"], box["y"], box["width"], box["height"]) == pytest.approx((0, 0, 360, 740), abs=1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=artifacts_dir / "widget-mobile.png", animations="disabled")
    context.close()


def test_no_serious_accessibility_violation(page: Page, stub_server: dict[str, Any], axe_script: Path) -> None:
    _open_demo(page, stub_server["url"])
    page.locator(".cua-launcher").click()
    _ask(page, QUESTION)
    page.locator(".cua-ref").first.click()
    page.evaluate(axe_script.read_text(encoding="utf-8"))  # not a script tag: the page's CSP allows no inline script
    results = page.evaluate("axe.run()")
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]
    for violation in blocking:
        targets = [node["target"] for node in violation["nodes"]]
        print(f"{violation['impact']}: {violation['id']} — {violation['help']} — {targets}")
    assert blocking == []


def test_evidence_is_shown_while_the_model_writes(page: Page, stub_server: dict[str, Any]) -> None:
    _open_demo(page, stub_server["url"])
    page.locator(".cua-launcher").click()
    page.get_by_label("Votre question").fill(SLOW_QUESTION)
    page.get_by_label("Votre question").press("Enter")
    live = page.locator(".cua-live").last
    expect(live).to_have_attribute("aria-live", "polite")
    expect(live.locator(".cua-status")).to_have_text("Rédaction de la réponse…")
    expect(live.locator(".cua-excerpt").first).to_have_text(FIRST_QUOTE)
    expect(live.locator(".cua-quote-source").first).to_have_text("[1] Bilan du Numericamp 2024 — p. 12")
    expect(live).to_have_attribute("aria-busy", "true")  # still streaming: no done event yet
    expect(live.locator(".cua-streaming")).to_contain_text("Numericamp", timeout=15_000)
    expect(live.locator(".cua-answer-text")).to_contain_text("450 visiteurs", timeout=30_000)
    expect(live).to_have_attribute("aria-busy", "false")
    expect(live.locator(".cua-status")).to_have_count(0)


def test_only_verified_sentences_are_shown_while_the_model_writes(page: Page, stub_server: dict[str, Any]) -> None:
    _open_demo(page, stub_server["url"])
    page.locator(".cua-launcher").click()
    page.evaluate(RECORD_STREAM)
    page.get_by_label("Votre question").fill(SLOW_QUESTION)
    page.get_by_label("Votre question").press("Enter")
    live = page.locator(".cua-live").last
    first = "Le Numericamp a accueilli 450 visiteurs [source 1]."
    expect(live.locator(".cua-streaming")).to_have_text(first, timeout=15_000)
    expect(live).to_have_attribute("aria-busy", "true")  # the verified sentence came before the done event
    expect(live).to_have_attribute("aria-busy", "false", timeout=30_000)
    streamed = page.evaluate("window.__streamed")
    assert any("450 visiteurs" in text for text in streamed), streamed
    assert not any(DROPPED_SENTENCE in text for text in streamed), streamed


def test_evidence_only_is_introduced_honestly(page: Page, stub_server: dict[str, Any], artifacts_dir: Path) -> None:
    _open_demo(page, stub_server["url"])
    page.locator(".cua-launcher").click()
    _ask(page, EVIDENCE_ONLY_QUESTION)
    answer = page.locator(".cua-answer").last
    expect(answer.locator(".cua-evidence-lead")).to_have_text(EVIDENCE_LEAD)
    expect(answer.locator(".cua-excerpt")).to_have_text([FIRST_QUOTE, SECOND_QUOTE])
    expect(answer).not_to_contain_text("Pas de réponse dans les documents")
    expect(answer).not_to_contain_text("Je n'ai pas trouvé")
    expect(answer).not_to_have_class(re.compile("cua-refusal"))
    page.screenshot(path=artifacts_dir / "widget-evidence-only.png", animations="disabled")


def test_read_aloud_speaks_french_without_markers(page: Page, stub_server: dict[str, Any]) -> None:
    page.add_init_script(RECORD_SPEECH)
    _open_demo(page, stub_server["url"])
    page.locator(".cua-launcher").click()
    _ask(page, QUESTION)
    listen = page.get_by_role("button", name="Écouter la réponse").first
    expect(listen).to_have_attribute("aria-pressed", "false")
    listen.focus()
    page.keyboard.press("Enter")
    expect(listen).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".cua-panel [role=status].cua-sr-only")).to_have_text("Lecture en cours")
    spoken = page.evaluate("window.__spoken")
    assert len(spoken) == 1, spoken
    assert spoken[0]["lang"] == "fr-FR"
    assert spoken[0]["voice"] == "Amélie"
    assert "[" not in spoken[0]["text"], spoken
    assert spoken[0]["text"].startswith("Le Numericamp a accueilli 450 visiteurs.")
    assert FIRST_QUOTE in spoken[0]["text"] and SECOND_QUOTE in spoken[0]["text"]

    page.keyboard.press("Space")
    expect(listen).to_have_attribute("aria-pressed", "false")
    expect(page.locator(".cua-panel [role=status].cua-sr-only")).to_have_text("Lecture arrêtée")
    assert len(page.evaluate("window.__spoken")) == 1

    page.keyboard.press("Enter")
    expect(listen).to_have_attribute("aria-pressed", "true")
    cancels = page.evaluate("window.__cancels")
    page.get_by_label("Votre question").fill(REFUSED_QUESTION)
    page.get_by_label("Votre question").press("Enter")
    expect(page.locator(".cua-refusal")).to_be_visible()
    assert page.evaluate("window.__cancels") > cancels
    expect(listen).to_have_attribute("aria-pressed", "false")


def test_read_aloud_is_hidden_without_speech_synthesis(page: Page, stub_server: dict[str, Any]) -> None:
    page.add_init_script(
        "for (const name of ['speechSynthesis', 'SpeechSynthesisUtterance']) {"
        " Object.defineProperty(window, name, { configurable: true, value: undefined }); }"
    )
    _open_demo(page, stub_server["url"])
    page.locator(".cua-launcher").click()
    _ask(page, QUESTION)
    expect(page.locator(".cua-answer-text")).to_be_visible()
    expect(page.locator(".cua-listen")).to_have_count(0)


def test_every_control_has_a_name(page: Page, stub_server: dict[str, Any]) -> None:
    page.add_init_script(RECORD_SPEECH)
    _open_demo(page, stub_server["url"])
    page.locator(".cua-launcher").click()
    _ask(page, QUESTION)
    unnamed = page.evaluate(
        """[...document.querySelectorAll('#cua-widget button, #cua-widget a, #cua-widget textarea')]
             .filter((node) => !(node.getAttribute('aria-label') || node.textContent.trim()
                                 || (node.id && document.querySelector(`label[for="${node.id}"]`))))
             .map((node) => node.outerHTML)"""
    )
    assert unnamed == []
    small = page.evaluate(
        """[...document.querySelectorAll('.cua-listen, .cua-thumb, .cua-send')]
             .filter((node) => node.getBoundingClientRect().height < 44).map((node) => node.className)"""
    )
    assert small == []


def test_helpdesk_shows_the_decision_and_its_evidence(
    page: Page, stub_server: dict[str, Any], artifacts_dir: Path
) -> None:
    page.goto(stub_server["url"] + "/helpdesk/")
    page.get_by_label("Question", exact=True).fill(QUESTION)
    page.get_by_role("button", name="Demander").click()
    expect(page.locator("#outcome")).to_contain_text("Réponse rédigée et vérifiée")
    evidence = page.locator("#evidence")
    expect(evidence).to_contain_text("Le Numericamp a réuni 450 visiteurs à la Citadelle d'Arras.")
    expect(evidence).to_contain_text("0.77")
    table = page.locator("#passages")
    expect(table).to_contain_text("Bilan du Numericamp 2024")
    expect(table).to_contain_text("Guide de l'inclusion numérique")
    expect(table).to_contain_text("0.82")
    expect(page.locator("#dropped")).to_contain_text(f"{DROPPED_SENTENCE} — {DROPPED_REASON}")
    expect(page.locator("#timings")).to_contain_text("premier mot 0.03 s")
    copy_box = page.locator("#copy-answer textarea")
    expect(copy_box).to_have_value(re.compile(r"Sources :\n\[1\] Bilan du Numericamp 2024, p\. 12"))
    page.get_by_label("👎 Pas utile").check()
    page.get_by_label("manque de sources").check()
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_text("Merci, votre avis est enregistré")).to_be_visible()
    page.screenshot(path=artifacts_dir / "helpdesk.png", full_page=True, animations="disabled")
