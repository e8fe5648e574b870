"""A démarches page's cases: named to the resident when the question states none, left out when it states one."""

from types import SimpleNamespace
from typing import Any

from langchain_core.documents import Document

from bot.answer.cases import Cases
from bot.answer.service import read_question
from core.types import DocumentInfo, Evidence
from ingest.chunking import chunk_units, make_splitter
from ingest.sentences import sentences_of
from ingest.store import table_rows

DOCUMENTS = "Demande en France › Pièces à fournir"
SECTIONS = {
    f"{DOCUMENTS} › La carte est valide": "- Carte d'identité\n- Photo d'identité\n- Justificatif de domicile",
    f"{DOCUMENTS} › La carte est perdue": "- Déclaration de perte\n- Photo d'identité\n- Timbre fiscal de 25 €",
    f"{DOCUMENTS} › La carte est volée": "- Déclaration de vol faite à la police\n- Photo d'identité",
    "Demande en France › Coût": "Gratuit, sauf en cas de perte ou de vol : 25 €.",
    "Demande en France › Démarche": "La demande se fait dans une mairie équipée d'une station d'enregistrement.",
}


# A fiche whose loader marks its situations (level 0) and cases (level 2), as ingest/dila.py does
BIRTH = {
    "Introduction": ("La naissance d'un enfant doit être déclarée.", ()),
    "Naissance en France › Délai › Cas général": ("La déclaration doit être faite dans les 5 jours.", (0, 2)),
    "Naissance en France › Délai › En Guyane": ("Le délai est porté à 8 jours dans certaines communes.", (0, 2)),
    "Naissance en France › Démarche": ("La déclaration est faite à la mairie du lieu de naissance.", (0,)),
    "Naissance à l'étranger › Délai": ("Le consulat reçoit la déclaration dans les 15 jours.", (0,)),
}


def _cases_and_reader(
    sections: dict[str, tuple[str, tuple[int, ...]]] | None = None,
    parts: dict[str, tuple[int, ...]] | None = None,
) -> tuple[Cases, Any]:
    """The cases of a page of `sections` (heading path: text and marked case levels; by default SECTIONS, a
    Markdown page that marks none), with the levels `parts` types as parts of a chapter (by path, as a fiche does)."""
    sections = sections or {name: (text, ()) for name, text in SECTIONS.items()}
    typed = parts or {}
    units = [
        Document(
            page_content=text,
            metadata={"section": name, "case_levels": list(levels), "subchapter_levels": list(typed.get(name, ()))},
        )
        for name, (text, levels) in sections.items()
    ]
    chunks = chunk_units(units, DocumentInfo(doc_id="F1341", title="Carte d'identité"), make_splitter(900, 100))
    sentences = sentences_of(chunks, context_chars=60, max_chars=320)
    by_chunk: dict[str, list[int]] = {}
    for row, sentence in enumerate(sentences):
        by_chunk.setdefault(sentence.chunk_id, []).append(row)
    reader: Any = SimpleNamespace(
        chunks=chunks, sentences=sentences, sentences_by_chunk=by_chunk, table_rows=table_rows(sentences)
    )
    return Cases(reader), reader


def _evidence_in(reader: Any, section: str) -> Evidence:
    chunk = next(c for c in reader.chunks if c.section == section)
    row = reader.sentences_by_chunk[chunk.chunk_id][0]
    return Evidence(1, reader.sentences[row], chunk, 1.0)


def test_a_question_stating_no_case_is_told_the_cases_its_answer_is_for_first() -> None:
    cases, reader = _cases_and_reader()
    best = _evidence_in(reader, f"{DOCUMENTS} › La carte est perdue")
    question = read_question("Quels papiers pour refaire ma carte d'identité ?", [], 8)
    assert cases.beside(question, best) == ("La carte est perdue", "La carte est valide", "La carte est volée")


def test_a_question_stating_its_case_is_not_told_the_others() -> None:
    cases, reader = _cases_and_reader()
    best = _evidence_in(reader, f"{DOCUMENTS} › La carte est volée")
    question = read_question("Quels papiers si ma carte a été volée ?", [], 8)
    assert cases.beside(question, best) == ()


def test_a_section_without_siblings_has_no_cases() -> None:
    cases, reader = _cases_and_reader()
    best = _evidence_in(reader, "Demande en France › Coût")
    assert cases.beside(read_question("Combien ça coûte ?", [], 8), best) == ()


def test_a_pages_chapters_are_not_cases() -> None:
    cases, reader = _cases_and_reader()
    best = _evidence_in(reader, "Demande en France › Démarche")
    assert cases.beside(read_question("Où faire la demande ?", [], 8), best) == ()  # beside « Coût »: a chapter


# A FAQ whose entries are questions under a numbered chapter, as Debian's FAQ and a fiche's chapters are headed
USED = "6.2. Noms de code › 6.2.1. Quels noms de code ont déjà été utilisés ?"
ORIGIN = "6.2. Noms de code › 6.2.2. D'où proviennent les noms de code ?"
FAQ = {USED: ("Woody était la version 3.0.", ()), ORIGIN: ("Ils viennent du film Toy Story.", ())}


def test_a_faqs_questions_are_not_cases() -> None:
    """Two entries of a FAQ are not two situations of the resident: no case is named, and the sentences of the
    entry beside the best one stay in the evidence."""
    cases, reader = _cases_and_reader(FAQ)
    ranked = [_evidence_in(reader, section) for section in (ORIGIN, USED)]
    assert cases.beside(read_question("Woody c'était quelle version ?", [], 8), ranked[0]) == ()
    assert [e.chunk.section for e in cases.same_case(ranked)] == [ORIGIN, USED]


# A fiche's parts of a fee, typed SousChapitre under a Chapitre (F19211), and situations it types so too
FEES = {
    "Détail des taxes › Taxe régionale": ("Le cheval fiscal coûte 35,40 € dans le Pas-de-Calais.", ()),
    "Détail des taxes › Redevance d'acheminement": ("D'un montant de 2,76 €, elle est due à chaque envoi.", ()),
}
POSTED = {
    "Démarche › Si vous êtes détaché": ("Votre employeur fait la demande.", (0,)),
    "Démarche › Si vous êtes expatrié": ("Vous faites la demande au consulat.", (0,)),
}


def test_a_fiches_parts_of_a_chapter_are_not_cases_unless_they_name_a_situation() -> None:
    """The parts of a fee are parts of a chapter, not the resident's situations: none is named, and the others'
    sentences stay in the evidence. The same headings on a page that types none are read as cases; a part that
    names the reader's situation (« Si vous êtes détaché ») is one."""
    question = read_question("L'envoi de la carte grise est payant ?", [], 8)
    for typed, named in (({path: (0, 1) for path in FEES}, ()), (None, ("Redevance d'acheminement", "Taxe régionale"))):
        cases, reader = _cases_and_reader(FEES, typed)
        ranked = [_evidence_in(reader, section) for section in reversed(FEES)]
        assert cases.beside(question, ranked[0]) == named
        assert len(cases.same_case(ranked)) == (2 if typed else 1)
    cases, reader = _cases_and_reader(POSTED, {path: (1,) for path in POSTED})
    best = _evidence_in(reader, "Démarche › Si vous êtes expatrié")
    assert cases.beside(read_question("Je fais comment ma demande ?", [], 8), best) == (
        "Si vous êtes expatrié",
        "Si vous êtes détaché",
    )


def test_the_evidence_holds_no_sentence_of_a_sibling_case() -> None:
    """Best in « La carte est perdue »: the « volée » and « valide » cases' sentences go, another section's stays."""
    cases, reader = _cases_and_reader()
    lost = f"{DOCUMENTS} › La carte est perdue"
    ranked = [_evidence_in(reader, s) for s in (lost, f"{DOCUMENTS} › La carte est volée", "Demande en France › Coût")]
    assert [e.chunk.section for e in cases.same_case(ranked)] == [lost, "Demande en France › Coût"]


def test_the_evidence_leaves_out_a_sibling_case_not_another_situation() -> None:
    """Best in « Naissance en France › Délai › Cas général »: « En Guyane » goes; the other situation's delay stays
    (the ranking's guess of the situation may be wrong: the resident is told both, `beside`)."""
    cases, reader = _cases_and_reader(BIRTH)
    general = "Naissance en France › Délai › Cas général"
    kept = [general, "Naissance à l'étranger › Délai", "Introduction"]
    ranked = [_evidence_in(reader, s) for s in (general, "Naissance en France › Délai › En Guyane", *kept[1:])]
    assert [e.chunk.section for e in cases.same_case(ranked)] == kept


def test_the_same_sentence_of_another_situation_with_other_figures_is_left_out() -> None:
    """« dans les 15 jours » under « Naissance à l'étranger » restates the best « dans les 5 jours »: shown beside
    it, the resident would read two delays for one step."""
    sentence = "La déclaration doit être faite dans les {} jours qui suivent le jour de l'accouchement."
    cases, reader = _cases_and_reader(
        {
            "Naissance en France › Délai": (sentence.format(5), (0,)),
            "Naissance à l'étranger › Délai": (sentence.format(15), (0,)),
            "Naissance à l'étranger › Démarche": ("Le consulat reçoit la déclaration dans les 15 jours.", (0,)),
        }
    )
    sections = ["Naissance en France › Délai", "Naissance à l'étranger › Délai", "Naissance à l'étranger › Démarche"]
    kept = cases.same_case([_evidence_in(reader, s) for s in sections])
    assert [e.chunk.section for e in kept] == [sections[0], sections[2]]
    # The best evidence stands abroad (« né à l'étranger ? »): the better-ranked « 5 jours » of France is the one left
    abroad = [sections[2], sections[0], sections[1]]
    kept = cases.same_case([_evidence_in(reader, s) for s in abroad])
    assert [e.chunk.section for e in kept] == [sections[2], sections[1]]


def test_the_outermost_case_the_question_leaves_open_is_named() -> None:
    cases, reader = _cases_and_reader(BIRTH)
    best = _evidence_in(reader, "Naissance en France › Délai › Cas général")
    question = read_question("On a combien de jours pour déclarer le bébé ?", [], 8)
    assert cases.beside(question, best) == ("Naissance en France", "Naissance à l'étranger")
    question = read_question("Né en France, on a combien de jours pour le déclarer ?", [], 8)
    assert cases.beside(question, best) == ("Cas général", "En Guyane")


def test_a_page_that_marks_no_case_is_compared_at_the_last_level_only() -> None:
    """« Requête » then « Traitement » are successive chapters of a page that marks nothing: only « Par courrier »
    and « En ligne », the last level, are cases."""
    fine = {
        "Contestation › Requête": ("Vous devez d'abord adresser une requête.", ()),
        "Contestation › Requête › Par courrier": ("Envoyez la requête en recommandé.", ()),
        "Contestation › Requête › En ligne": ("Remplissez le formulaire sur le site de l'ANTAI.", ()),
        "Contestation › Traitement": ("L'officier du ministère public examine la requête.", ()),
    }
    cases, reader = _cases_and_reader(fine)
    mail = "Contestation › Requête › Par courrier"
    ranked = [_evidence_in(reader, s) for s in (mail, "Contestation › Requête › En ligne", "Contestation › Traitement")]
    assert [e.chunk.section for e in cases.same_case(ranked)] == [mail, "Contestation › Traitement"]
    question = read_question("Comment contester une amende ?", [], 8)
    assert cases.beside(question, ranked[0]) == ("Par courrier", "En ligne")


# A fiche of fines whose loader marks its cases (levels 1 and 2)
FINE = {
    "Contestation › Amende forfaitaire › En ligne": ("Contestez sur le site de l'ANTAI.", (1, 2)),
    "Contestation › Amende forfaitaire › Par courrier": ("Envoyez la requête en exonération en RAR.", (1, 2)),
    "Contestation › Amende forfaitaire majorée › En ligne": ("Contestez l'amende majorée en ligne.", (1, 2)),
    "Contestation › Amende forfaitaire majorée › Par courrier": ("Envoyez la réclamation à l'OMP.", (1, 2)),
    "Introduction": ("Vous pouvez contester une amende de stationnement.", ()),
}


def _stated_sections(sections: dict[str, tuple[str, tuple[int, ...]]], question: str) -> list[str]:
    """The sections of a page left once the cases `question` states are read: every section ranked, in order."""
    cases, reader = _cases_and_reader(sections)
    ranked = [_evidence_in(reader, section) for section in sections]
    return [e.chunk.section for e in cases.stated(read_question(question, [], 8), ["F1341"]).kept(ranked)]


def test_a_stated_case_leaves_out_its_siblings_and_the_situation_above_it() -> None:
    """« en Guyane » is stated under « Naissance en France » only: the general case and the other situation go."""
    kept = _stated_sections(BIRTH, "On habite à Kourou en Guyane, on a combien de jours pour déclarer le bébé ?")
    assert kept == ["Introduction", "Naissance en France › Délai › En Guyane", "Naissance en France › Démarche"]


def test_a_country_abroad_states_the_situation_abroad() -> None:
    """« né au Canada » says no word of « Naissance à l'étranger » but states it: the situation in France goes."""
    kept = _stated_sections(BIRTH, "Notre bébé est né au Canada, on a combien de jours pour le déclarer ?")
    assert kept == ["Introduction", "Naissance à l'étranger › Délai"]


def test_a_rank_states_the_case_it_numbers() -> None:
    """« mon 4e changement » says the one word its case owns, a rank; « la 1ère fois » the case of the first three."""
    moves = {
        "Forme AB 123 CD › Il s'agit du 1er, 2e ou 3e changement d'adresse": ("Demandez une étiquette.", (0, 1)),
        "Forme AB 123 CD › Vous signalez votre 4e changement d'adresse": ("Demandez une carte grise.", (0, 1)),
    }
    fourth = _stated_sections(moves, "Et si c'est mon 4e changement d'adresse ?")
    assert fourth == ["Forme AB 123 CD › Vous signalez votre 4e changement d'adresse"]
    first = _stated_sections(moves, "Je change l'adresse de ma carte grise, c'est la première fois.")
    assert first == ["Forme AB 123 CD › Il s'agit du 1er, 2e ou 3e changement d'adresse"]


def test_a_case_stated_under_two_parents_keeps_both() -> None:
    """« par courrier » stands under both fines: only the online cases go."""
    kept = _stated_sections(FINE, "Je veux contester mon amende par courrier, je fais comment ?")
    assert kept == [
        "Contestation › Amende forfaitaire › Par courrier",
        "Contestation › Amende forfaitaire majorée › Par courrier",
        "Introduction",
    ]


def test_denying_one_of_two_cases_states_the_other() -> None:
    kept = _stated_sections(FINE, "Je veux contester mon amende par courrier, elle est pas majorée, je fais comment ?")
    assert kept == ["Contestation › Amende forfaitaire › Par courrier", "Introduction"]


def test_a_question_saying_two_cases_words_or_a_figure_states_none() -> None:
    assert _stated_sections(FINE, "En ligne ou par courrier, comment contester ?") == list(FINE)
    ages = {
        "Où demander ? › Entre 0 et 12 ans": ("Le parent fait la demande en mairie.", (1,)),
        "Où demander ? › À partir de 13 ans": ("L'enfant vient lui-même en mairie.", (1,)),
    }
    assert _stated_sections(ages, "Mon fils a 12 ans, où faire la demande ?") == list(ages)


PENSION = {
    "Vous résidez en France › Caisse(s) de retraite française(s)": ("Vous n'avez aucune démarche à faire.", (0,)),
    "Vous résidez en France › Caisse(s) de retraite étrangère(s)": ("Présentez-vous à votre mairie.", (0,)),
    "Vous résidez à l'étranger › Caisse(s) de retraite française(s)": ("Transmettez-le en ligne.", (0,)),
    "Vous résidez à l'étranger › Caisse(s) de retraite étrangère(s)": ("Suivez les règles de votre caisse.", (0,)),
}


def test_a_question_saying_two_cases_words_states_the_one_its_sub_case_bears_out() -> None:
    """« j'habite en France » and « une caisse étrangère » say the words of both situations; read with the level
    below (not marked as cases), « Vous résidez en France › Caisse(s) de retraite étrangère(s) » says both."""
    question = "ma retraite vient d'une caisse étrangère et j'habite en France, je vais où ?"
    assert _stated_sections(PENSION, question) == list(PENSION)[:2]
    assert (
        _stated_sections(PENSION, "j'habite à l'étranger et ma caisse est étrangère, je fais comment ?")
        == (list(PENSION)[2:])
    )


def test_a_page_that_marks_no_case_has_none_stated() -> None:
    unmarked = {section: (text, ()) for section, (text, _) in FINE.items()}
    assert _stated_sections(unmarked, "Je veux contester mon amende par courrier") == list(unmarked)


# A fiche of fines: « par courrier » is a case of the payment chapters and of the contestation's (levels marked)
FINE_CHAPTERS = {
    "Comment payer ? › Par courrier": ("Envoyez un chèque au Trésor public.", (1,)),
    "Comment payer ? › En ligne": ("Payez sur le site amendes.gouv.fr.", (1,)),
    "Contestation de l'amende › Amende forfaitaire › Par courrier": ("Envoyez la requête en RAR à l'OMP.", (1, 2)),
    "Contestation de l'amende › Amende forfaitaire › En ligne": ("Contestez sur le site de l'ANTAI.", (1, 2)),
    "Contestation de l'amende › Amende forfaitaire majorée › Par courrier": ("Envoyez la réclamation.", (1, 2)),
    "Contestation de l'amende › Amende forfaitaire majorée › En ligne": ("Contestez la majorée en ligne.", (1, 2)),
}


def test_a_case_stated_in_several_chapters_is_read_in_the_one_the_question_names() -> None:
    """« contester » names « Contestation de l'amende » (one stem), « payer » names « Comment payer ? »: the other
    chapter's « Par courrier » is no case the question states. Read in both chapters, no case of the contestation
    would be left out, for none stands beside every stated one."""
    contest = "je veux contester mon pv par courrier, il est pas majoré, je fais comment ?"
    assert _stated_sections(FINE_CHAPTERS, contest) == [
        "Comment payer ? › Par courrier",
        "Comment payer ? › En ligne",
        "Contestation de l'amende › Amende forfaitaire › Par courrier",
    ]
    pay = _stated_sections(FINE_CHAPTERS, "je veux payer mon pv par courrier, je fais comment ?")
    assert pay == [section for section in FINE_CHAPTERS if section != "Comment payer ? › En ligne"]


def test_a_sentence_another_case_repeats_is_the_stated_cases_own_not_a_neutral_sections() -> None:
    """Word for word in both fines' « Par courrier », the RAR step is kept as the stated case's; the majorée's online
    line, listed again under « Services en ligne », is still the other case's."""
    online = "Service en ligne : contestation d'une amende majorée : https://www.antai.gouv.fr/"
    sections = {
        "Contestation › Amende forfaitaire › Par courrier": ("Envoyez la requête en RAR à l'OMP.", (1, 2)),
        "Contestation › Amende forfaitaire majorée › Par courrier": ("Envoyez la requête en RAR à l'OMP.", (1, 2)),
        "Contestation › Amende forfaitaire majorée › En ligne": (online, (1, 2)),
        "Services en ligne et formulaires": (online, ()),
        "Introduction": ("Vous pouvez contester une amende de stationnement.", ()),
    }
    question = "je veux contester mon pv par courrier, il est pas majoré, je fais comment ?"
    assert _stated_sections(sections, question) == ["Contestation › Amende forfaitaire › Par courrier", "Introduction"]


def test_a_case_is_stated_down_to_its_steps_only_when_the_page_marks_none_below_it() -> None:
    """« né en France » states a situation with cases below (« Cas général », « En Guyane »): its steps are not yet the
    resident's; « en Guyane » states a case down to its steps."""
    cases, reader = _cases_and_reader(BIRTH)
    france = cases.stated(read_question("Né en France, comment on déclare le bébé ?", [], 8), ["F1341"])
    procedure = _evidence_in(reader, "Naissance en France › Démarche").chunk
    assert france.within(procedure) and not france.within(procedure, last=True)
    guyane = cases.stated(read_question("On habite en Guyane, comment on déclare le bébé ?", [], 8), ["F1341"])
    assert guyane.within(_evidence_in(reader, "Naissance en France › Délai › En Guyane").chunk, last=True)


# A fee table as the loaders write it, one row per line (« Colonne : valeur ; Colonne : valeur »)
FINES = {
    "Montant de l'amende": (
        "Infraction : Stationnement gênant sur un trottoir ou en double file ; Amende : 35 €\n"
        "Infraction : Stationnement très gênant sur une place réservée aux personnes handicapées ; Amende : 135 €\n"
        "Infraction : Stationnement abusif de plus de 7 jours au même endroit ; Amende : 35 €",
        (),
    ),
}


def _rows(question: str) -> list[str]:
    cases, reader = _cases_and_reader(FINES)
    ranked = [Evidence(rank, sentence, reader.chunks[0], 1.0) for rank, sentence in enumerate(reader.sentences, 1)]
    return [e.sentence.text for e in cases.named_row(read_question(question, [], 8), ranked)]


def test_a_table_row_the_question_names_is_shown_without_the_other_rows() -> None:
    assert _rows("garé en double file, l'amende c'est combien ?") == [
        "Infraction : Stationnement gênant sur un trottoir ou en double file ; Amende : 35 €"
    ]


def test_a_question_naming_no_row_is_shown_every_row() -> None:
    assert len(_rows("une amende de stationnement c'est combien ?")) == 3
    assert len(_rows("l'amende de 35 € pour stationnement, je paie où ?")) == 3  # a figure names no row
