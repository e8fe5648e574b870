"""A "how to" question is answered by the steps of the answering section, in order, not by one sentence."""

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from langchain_core.documents import Document

from bot.answer.cases import Cases
from bot.answer.evidence import EvidenceRanker
from bot.answer.service import QuestionService, quoted_anyway, read_question
from core.text import AnswerKind, AskedList, expected_answer_kind
from core.types import DocumentInfo, Evidence, Passage
from ingest.chunking import chunk_units, make_splitter
from ingest.sentences import sentences_of
from ingest.store import table_rows
from tests.fixtures.factories import make_settings

COPY = (
    "Vous pouvez obtenir une copie de votre acte de naissance sans frais. "
    "La demande se fait à la mairie du lieu de naissance.\n\n"
    "Présentez les pièces suivantes :\n\n"
    "une pièce d'identité en cours de validité ;\n\n"
    "le livret de famille.\n\n"
    "La copie est délivrée sous huit jours. Elle est envoyée par courrier si vous le demandez au guichet."
)
OPENING_HOURS = "La déchetterie de Dainville est ouverte le samedi de 9 h à 12 h."
HISTORY = " ".join(f"En {year}, la commune a numérisé {year - 1990} registres anciens." for year in range(2000, 2016))
REGISTRATION = (
    HISTORY + "\n\nPour vous inscrire aux archives, apportez les documents suivants :\n\n"
    "un justificatif de domicile ;\n\nune photo d'identité.\n\nL'inscription est gratuite."
)


def _ranker(
    sections: dict[str, str], chunk_size: int = 200, case_levels: dict[str, list[int]] | None = None
) -> EvidenceRanker:
    """A ranker over these sections, each cut into several overlapping passages; `case_levels` as a fiche marks
    them."""
    marks = case_levels or {}
    units = [
        Document(page_content=text, metadata={"section": name, "case_levels": marks.get(name, [])})
        for name, text in sections.items()
    ]
    chunks = chunk_units(units, DocumentInfo(doc_id="guide", title="Guide"), make_splitter(chunk_size, 40))
    sentences = sentences_of(chunks, context_chars=60, max_chars=320)
    by_chunk: dict[str, list[int]] = {}
    for row, sentence in enumerate(sentences):
        by_chunk.setdefault(sentence.chunk_id, []).append(row)
    reader: Any = SimpleNamespace(
        chunks=chunks,
        by_id={chunk.chunk_id: chunk for chunk in chunks},
        sentences=sentences,
        sentences_by_chunk=by_chunk,
        table_rows=table_rows(sentences),
        sentence_vectors=np.zeros((len(sentences), 4)),
        dense=lambda vector, k, doc_ids: [(c, 1.0) for c in chunks if c.doc_id in doc_ids][:k],
    )
    return EvidenceRanker(reader, make_settings())


def _best(ranker: EvidenceRanker, words: str) -> Evidence:
    """The evidence of the last sentence holding `words` (a passage further into its section)."""
    row = max(i for i, s in enumerate(ranker.reader.sentences) if words in s.text)
    sentence = ranker.reader.sentences[row]
    return Evidence(1, sentence, ranker.reader.by_id[sentence.chunk_id], 1.0)


def _steps(ranker: EvidenceRanker, best: Evidence, max_chars: int = 700) -> str:
    evidence = ranker.procedure([best], max_chars, shown=3)
    return " ".join(evidence[0].sentence.context.split())


@pytest.fixture
def ranker() -> EvidenceRanker:
    return _ranker({"Obtenir une copie d'acte de naissance": COPY, "Horaires": OPENING_HOURS, "Archives": REGISTRATION})


def test_the_steps_run_from_the_section_start_over_its_passages_in_order(ranker: EvidenceRanker) -> None:
    best = _best(ranker, "huit jours")
    assert best.chunk.start > 0  # the best sentence is in a later passage of its section
    steps = _steps(ranker, best)
    expected = ["sans frais", "mairie du lieu de naissance", "pièce d'identité", "livret de famille", "huit jours"]
    positions = [steps.find(step) for step in expected]
    assert -1 not in positions and positions == sorted(positions), steps
    assert steps.count("livret de famille") == steps.count("pièces suivantes") == 1  # passages overlap: read once
    assert "déchetterie" not in steps  # the next section is another answer


def test_far_into_a_long_section_the_steps_start_at_the_sentence_that_announces_them(ranker: EvidenceRanker) -> None:
    steps = _steps(ranker, _best(ranker, "photo d'identité"), max_chars=300)
    assert steps.startswith("Pour vous inscrire aux archives, apportez les documents suivants :"), steps
    assert "justificatif de domicile" in steps and steps.endswith("L'inscription est gratuite.")


def test_the_best_sentence_stays_in_its_steps_when_nothing_before_it_fits(ranker: EvidenceRanker) -> None:
    steps = _steps(ranker, _best(ranker, "En 2015"), max_chars=120)
    assert steps.startswith("En 2015, la commune a numérisé 25 registres anciens."), steps


@pytest.mark.parametrize(
    "question",
    [
        "comment je bloque un paquet en hold avec dpkg ?",
        "comment on installe aptitude sur une debian ?",
        "comment donner accès au lecteur cd à un utilisateur ?",
        "Comment s'inscrire à la cantine ?",
        "Quelles pièces fournir pour une carte d'identité ?",
        "j'ai perdu mon permis, je fais comment ?",
        "on m'a volé mon sac, je fais quoi et dans quel ordre ?",
        "ma demande date d'un an, je dois faire quoi ?",
        "on m'a volé mon vélo, c'est quoi les étapes ?",
    ],
)
def test_how_to_questions_ask_for_steps(question: str) -> None:
    assert expected_answer_kind(question) is AnswerKind.PROCEDURE


@pytest.mark.parametrize(
    "question",
    [
        "Comment la mairie de Mont-Saint-Eloi a fini par trouver des gens ?",
        "on prononce comment debian ?",
        "comment fonctionne apt ?",
        "Combien de visiteurs au Numericamp ?",
        "dist-upgrade ça s'appelle comment maintenant ?",
    ],
)
def test_other_questions_do_not(question: str) -> None:
    assert expected_answer_kind(question) is not AnswerKind.PROCEDURE


def test_the_heading_weight_lifts_the_sentence_whose_section_names_the_question() -> None:
    """Two sentences alike but for their section's title: the heading weight decides, and only it."""
    ranker = _ranker(
        {"Horaires de la déchetterie": "Elle ouvre le samedi matin.", "La piscine": "Elle ouvre le dimanche matin."}
    )
    passages = [Passage(chunk, 1.0, rank=1) for chunk in ranker.reader.chunks]
    terms = ranker.terms(read_question("Quand ouvre la piscine ?", [], 8))
    assert ranker.rank(terms, np.ones(4), passages)[0].sentence.text.startswith("Elle ouvre le samedi")
    ranker.settings = make_settings(evidence__heading_weight=0.2)
    assert ranker.rank(terms, np.ones(4), passages)[0].sentence.text.startswith("Elle ouvre le dimanche")


def test_a_sentence_that_announces_what_follows_is_shown_with_it(ranker: EvidenceRanker) -> None:
    """« Présentez les pièces suivantes : » alone answers nothing: the list it announces comes with it."""
    announcing = _best(ranker, "pièces suivantes")
    other = _best(ranker, "déchetterie")
    shown = ranker.completed([announcing, other], max_chars=300, shown=3)
    text = " ".join(shown[0].sentence.context.split())
    assert text.startswith("Présentez les pièces suivantes :"), text
    assert "pièce d'identité" in text and "livret de famille" in text
    assert "huit jours" in text  # read on past its own short context, to the end of what it announces
    assert "déchetterie" not in text  # not past its section
    assert [e.number for e in shown] == [1, 2] and "déchetterie" in shown[1].sentence.context


NOTARY = (
    "Le coût de la rédaction par un notaire de votre convention de Pacs est de 230,77 € TTC. "
    "Il faut y ajouter un droit d'enregistrement d'un montant fixe de 125 €. "
    "Des coûts supplémentaires réglementés par le tarif des notaires peuvent aussi s'ajouter."
)
DIRECTORY = (
    "Où s'adresser : France Services : https://lannuaire.service-public.fr/recherche?whoWhat=france+services\n\n"
    "Vous devez avoir (ou créer) un compte usager sur le site de l'ANTS pour suivre votre demande en ligne."
)
FEES = {
    "Montant": "La prime est versée une seule fois par déménagement.\n\n"
    "Nombre d'enfants à charge : 3 enfants ; Montant maximum de la prime : 994,56 €\n\n"
    "Nombre d'enfants à charge : 4 enfants ; Montant maximum de la prime : 1 077,44 €",
    "Délai": "Vous pouvez payer l'amende minorée dans les 30 jours suivant l'envoi de l'avis. "
    "Cette somme doit figurer sur l'avis. Ce délai de 30 jours passe à 45 jours si vous payez par internet.",
}


def test_the_best_sentence_is_read_on_in_its_section_within_the_first_shown_chars() -> None:
    """« … 230,77 € TTC. » says one cost of two: « Il faut y ajouter … 125 €. » comes with it."""
    ranker = _ranker({"Vous faites appel à un notaire": NOTARY, "Horaires": OPENING_HOURS})
    best, other = _best(ranker, "230,77"), _best(ranker, "déchetterie")
    shown = ranker.completed([best, other], max_chars=600, shown=3, first_chars=180)
    text = " ".join(shown[0].sentence.context.split())
    assert text.startswith("Le coût de la rédaction") and "125 €" in text
    assert "Des coûts supplémentaires" not in text  # past the first shown chars
    assert shown[1].sentence.context == OPENING_HOURS  # only the best is read on, and never past its section
    assert shown[0].own_context == best.sentence.context  # what it was ranked on, for the model's verdict
    unread = ranker.completed([best, other], max_chars=600, shown=3)
    assert "125 €" not in unread[0].sentence.context


def test_a_line_giving_a_web_address_is_read_alone() -> None:
    """« Où s'adresser : … : https://… » is one entry; what follows it is another."""
    ranker = _ranker({"Où s'adresser": DIRECTORY})
    shown = ranker.completed([_best(ranker, "France Services")], max_chars=600, shown=3, first_chars=400)
    assert "compte usager" not in shown[0].sentence.context and shown[0].own_context == ""


def test_reading_on_stops_before_a_table_row_and_before_a_sentence_amending_a_figure_read() -> None:
    ranker = _ranker(FEES)
    row = ranker.completed([_best(ranker, "3 enfants")], max_chars=600, shown=3, first_chars=400)
    assert "1 077,44" not in row[0].sentence.text  # another row is another case
    delay = ranker.completed([_best(ranker, "minorée")], max_chars=600, shown=3, first_chars=400)
    context = " ".join(delay[0].sentence.context.split())
    assert "Cette somme doit figurer" in context and "45 jours" not in context


def test_a_sentence_already_read_in_an_announced_list_is_not_shown_twice(ranker: EvidenceRanker) -> None:
    announcing, item = _best(ranker, "pièces suivantes"), _best(ranker, "livret de famille")
    shown = ranker.completed([announcing, item], max_chars=300, shown=3)
    assert len(shown) == 1, [e.sentence.context for e in shown]


def _chapter_of(
    sections: dict[str, str], question: str, retrieved: str, other_case: str = ""
) -> tuple[EvidenceRanker, Evidence | None]:
    """The chapter answer found when only the passage of section `retrieved` was retrieved, and its ranker; the
    passages of section `other_case` stand in another case than the question states."""
    ranker = _ranker(sections)
    asked = read_question(question, [], 8)
    terms = ranker.terms(asked)
    passages = [Passage(c, 1.0, rank=1) for c in ranker.reader.chunks if c.section == retrieved]
    ranked = ranker.rank(terms, np.ones(4), passages)
    return ranker, ranker.chapter_answer(
        ranked, terms, asked, np.ones(4), ["guide"], lambda chunk: chunk.section == other_case
    )


def test_which_documents_is_answered_by_the_pages_whole_list_even_unretrieved() -> None:
    """Only the « Démarche » passage is retrieved: the page's « Pièces à fournir » list is found and shown whole."""
    sections = {
        "Naissance › Démarche": "La déclaration de naissance est faite à la mairie du lieu de naissance.",
        "Naissance › Pièces à fournir": "- Attestation du médecin\n- Carte d'identité des parents\n- Livret de famille",
        "Naissance › Coût": "La déclaration est gratuite.",
    }
    question = "quels papiers pour déclarer la naissance à la mairie ?"
    ranker, listed = _chapter_of(sections, question, "Naissance › Démarche")
    assert read_question(question, [], 8).asks_list is AskedList.DOCUMENTS and listed is not None
    shown = " ".join(ranker.procedure([listed], 700, shown=3)[0].sentence.text.split())
    assert shown == "- Attestation du médecin - Carte d'identité des parents - Livret de famille"


def test_who_may_claim_it_is_answered_by_the_pages_whole_conditions_chapter() -> None:
    """The introduction's « sous conditions » is retrieved: the page's « Qui est concerné ? » list is shown whole."""
    sections = {
        "De quoi s'agit-il ?": "La prime de déménagement est une aide versée, sous conditions, par la Caf.",
        "Qui est concerné ?": (
            "Cette prime vous est attribuée si vous remplissez les 2 conditions suivantes :\n"
            "- Vous avez au moins 3 enfants à charge\n- Vous avez droit à l'aide personnalisée au logement (APL)"
        ),
        "Montant": "Le montant dépend du nombre d'enfants à charge.",
    }
    question = "c'est quoi les conditions pour la prime de déménagement ?"
    ranker, listed = _chapter_of(sections, question, "De quoi s'agit-il ?")
    assert read_question(question, [], 8).asks_list is AskedList.CONDITIONS and listed is not None
    shown = " ".join(ranker.procedure([listed], 700, shown=3)[0].sentence.context.split())
    assert "(APL)" in shown and shown.startswith("Cette prime vous est attribuée")
    assert read_question("combien ça coûte, sous conditions de ressources ?", [], 8).asks_list is None


@pytest.mark.parametrize(
    ("question", "sections", "answering"),
    [
        (  # a price: the « Coût » chapter
            "combien ça coûte de refaire une carte perdue ?",
            {
                "Carte › Démarche": "Pour refaire une carte perdue, il faut se rendre dans une mairie équipée.",
                "Carte › Coût": "25 € en timbre fiscal.",
            },
            "Carte › Coût",
        ),
        (  # a length of time: the « Délai » chapter (« 35 € » gives none)
            "j'ai un pv de stationnement, j'ai combien de temps pour payer ?",
            {
                "Amende › Montant": "Vous devez payer une amende forfaitaire de 35 € ou de 135 € pour un stationnement.",
                "Amende › Délai de paiement": "Vous devez payer l'amende dans les 45 jours suivant l'envoi de l'avis.",
            },
            "Amende › Délai de paiement",
        ),
        (  # how to: the « Démarche » chapter (« Vous n'avez aucune démarche à faire » where « Utilisation » is best)
            "tu sais comment on fait pour demander le chèque énergie ?",
            {
                "Utilisation": "Pour régler votre dépense avec le chèque énergie, envoyez le chèque par courrier.",
                "Démarche": "Vous n'avez aucune démarche à faire : le chèque énergie vous est envoyé.",
            },
            "Démarche",
        ),
    ],
)
def test_a_question_whose_best_sentence_gives_no_fact_of_its_kind_reads_the_pages_chapter_for_it(
    question: str, sections: dict[str, str], answering: str
) -> None:
    other = next(name for name in sections if name != answering)
    _, chosen = _chapter_of(sections, question, other)
    assert chosen is not None and chosen.sentence.text == sections[answering]
    _, chosen = _chapter_of(sections, question, answering)  # the best sentence gives the fact: no chapter
    assert chosen is None


def test_a_price_that_a_shown_sentence_gives_comes_first_before_any_chapter() -> None:
    sections = {
        "Tapage › Sanction": (
            "Le tapage nocturne est puni d'une amende, même quand le bruit de la nuit n'est pas répétitif ni intensif. "
            "Elle peut alors être infligée à l'auteur du trouble par un agent, pour un montant de 68 €."
        ),
        "Stationnement › Montant": "Le montant de l'amende forfaitaire pour un stationnement gênant est de 35 €.",
    }
    _, chosen = _chapter_of(sections, "tapage nocturne, l'amende c'est combien ?", "Tapage › Sanction")
    assert chosen is not None and chosen.sentence.text.endswith("68 €.")


def test_in_the_chapter_the_sentence_giving_the_price_is_chosen() -> None:
    sections = {
        "Prime › Conditions": "La prime de déménagement est versée par la Caf si vous avez au moins 3 enfants à charge.",
        "Prime › Montant": (
            "Prime de déménagement : montant maximum en fonction du nombre d'enfants à charge, versé par la Caf à "
            "votre famille. Au-delà, le plafond fixé par la loi est de 994,56 € en tout."
        ),
    }
    _, chosen = _chapter_of(sections, "la prime de déménagement c'est combien avec 3 enfants ?", "Prime › Conditions")
    assert chosen is not None and chosen.sentence.text.endswith("994,56 € en tout.")


SERVICE = "Service en ligne : Demande d'acte de naissance : https://psl.service-public.fr/mademarche/EtatCivil"
PHOTO = "Photo d'identité (https://ants.gouv.fr/photo), si vous n'avez pas accès à un service de photo."


def test_the_steps_of_a_procedure_come_with_their_pages_online_service() -> None:
    """The service line, ranked last, takes the last shown place; a link that offers no service does not."""
    ranker = _ranker({"Demande": COPY, "Photo": PHOTO, "Horaires": OPENING_HOURS, "En ligne": SERVICE}, 900)
    passages = [Passage(chunk, 1.0, rank=1) for chunk in ranker.reader.chunks]
    terms = ranker.terms(read_question("acte de naissance", [], 8))
    ranked = ranker.rank(terms, np.ones(4), passages)
    ranked = [*(e for e in ranked if e.sentence.text != SERVICE), *(e for e in ranked if e.sentence.text == SERVICE)]
    shown = ranker.with_service(ranker.procedure(ranked, 700, shown=3), ranked, terms, np.ones(4), shown=3)
    assert SERVICE not in " ".join(e.sentence.context for e in ranker.procedure(ranked, 700, shown=3))
    assert len(shown) == 3 and shown[-1].sentence.text == SERVICE and shown[-1].number == 3
    without = [e for e in ranked if e.sentence.text != SERVICE]
    shown = ranker.with_service(ranker.procedure(without, 700, shown=3), without, terms, np.ones(4), shown=3)
    assert SERVICE not in " ".join(e.sentence.context for e in shown)


FORM = "Formulaire cerfa n° 15789*02 : Déclaration conjointe de dissolution d'un Pacs : https://www.formulaires.fr/c"
BY_POST = "Envoyez la déclaration conjointe de dissolution de Pacs par courrier à la mairie, sur le formulaire cerfa."


def test_the_steps_come_with_the_form_of_their_own_section_before_another_sections_service() -> None:
    """« Par courrier » names its form: the form line of the steps' section is shown, not the online service of
    another section that comes first on the page."""
    sections = {"En ligne": SERVICE, "Par courrier": f"{BY_POST} {FORM}"}
    ranker = _ranker(sections, 900)
    passages = [Passage(chunk, 1.0, rank=1) for chunk in ranker.reader.chunks]
    terms = ranker.terms(read_question("dissolution de Pacs par courrier", [], 8))
    ranked = ranker.rank(terms, np.ones(4), passages)
    by_post = [e for e in ranked if e.sentence.text == BY_POST] + [e for e in ranked if e.sentence.text != BY_POST]
    steps = ranker.procedure([by_post[0]], 60, shown=3)
    shown = ranker.with_service(steps, by_post, terms, np.ones(4), shown=3)
    assert shown[-1].sentence.text == FORM


THEFT = {
    "Introduction": "Si votre permis est volé, il faut le déclarer avant d'en demander un nouveau.",
    "Vol en France": "En France, il faut faire une déclaration de vol avant de demander un nouveau permis.",
    "Vol en France › Déclaration de vol": "Allez au commissariat. Un récépissé vous est remis.",
    "Vol en France › Demande en ligne": "Faites ensuite votre demande sur le site de l'ANTS.",
    "Vol en France › Vous habitez en Guyane": "Adressez-vous à la préfecture de Cayenne.",
    "Vol en France › Délivrance": "Le nouveau permis est envoyé à votre domicile.",
    "Vol à l'étranger": "À l'étranger, adressez-vous aux autorités locales.",
}


def test_a_situations_overview_reads_on_into_its_chapters_up_to_the_first_case() -> None:
    """The best sentence (the introduction) has no sub-section; the situation's one overview sentence, shown next,
    reads on into its chapters in order, up to the chapter the page marks as one of several cases."""
    marks = {name: [0] for name in THEFT if name.startswith("Vol ")}
    marks["Vol en France › Vous habitez en Guyane"] = [0, 1]
    ranker = _ranker(THEFT, 900, marks)
    first = {s.text: s for s in ranker.reader.sentences}
    order = [THEFT["Introduction"], THEFT["Vol en France"], THEFT["Vol à l'étranger"]]
    ranked = [Evidence(n, first[t], ranker.reader.by_id[first[t].chunk_id], 1.0) for n, t in enumerate(order, 1)]
    shown = [" ".join(e.sentence.context.split()) for e in ranker.procedure(ranked, 900, shown=3)]
    assert shown[0] == THEFT["Introduction"]
    assert shown[1] == " ".join(
        [THEFT["Vol en France"], THEFT["Vol en France › Déclaration de vol"], THEFT["Vol en France › Demande en ligne"]]
    )
    assert shown[2] == THEFT["Vol à l'étranger"]
    within = " ".join(e.sentence.context for e in ranker.procedure(ranked, 150, shown=3))
    assert "commissariat" in within and "ANTS" not in within  # within the characters a step may take


def test_the_chapter_of_another_case_than_the_question_states_is_not_read() -> None:
    """« en Guyane »: of the two « Coût » chapters, the general case's is another case (`Cases.stated`)."""
    sections = {
        "Carte › Démarche": "Pour refaire une carte perdue, il faut se rendre dans une mairie équipée.",
        "Carte › Coût › Cas général": "25 € en timbre fiscal.",
        "Carte › Coût › En Guyane": "12,50 € en timbre fiscal.",
    }
    question = "en Guyane, combien ça coûte de refaire une carte perdue ?"
    _, chosen = _chapter_of(sections, question, "Carte › Démarche", other_case="Carte › Coût › Cas général")
    assert chosen is not None and chosen.sentence.text == "12,50 € en timbre fiscal."
    _, chosen = _chapter_of(sections, question, "Carte › Démarche", other_case="Carte › Coût › En Guyane")
    assert chosen is not None and chosen.sentence.text == "25 € en timbre fiscal."


PROXY = {
    "Démarche": (
        "Vous pouvez remplir sur internet le formulaire de procuration, puis l'imprimer. "
        "Le formulaire de procuration rempli sur internet est imprimé sur 2 feuilles.\n\n"
        "Notice : comment remplir en ligne le formulaire de procuration : https://www.formulaires.fr/notice-14952"
    ),
    "Démarche › Formulaire": "Formulaire cerfa n° 14952*02 : Vote par procuration : https://www.formulaires.fr/cerfa_14952",
}


def test_an_online_question_is_shown_the_pages_form_when_no_shown_line_offers_one() -> None:
    """« sur internet ? »: the form's notice and the sentences that say it can be done online rank first; the form
    itself, ranked lower, takes the notice's place (an address for no service), last, and is quoted whatever the
    model cites."""
    ranker = _ranker(PROXY, 900)
    service: Any = QuestionService.__new__(QuestionService)
    service.settings, service.ranker, service.cases = ranker.settings, ranker, Cases(ranker.reader)
    question = read_question("je peux remplir le formulaire de procuration sur internet ?", [], 8)
    passages = [Passage(chunk, 1.0, rank=1) for chunk in ranker.reader.chunks]
    ranked = ranker.rank(ranker.terms(question), np.ones(4), passages)
    assert "cerfa_14952" not in " ".join(e.sentence.text for e in ranked[:3])  # the form ranks lower
    shown = service.evidence(question, ranker.terms(question), np.ones(4), passages)
    assert "notice-14952" in ranked[0].sentence.text
    assert [e.sentence.text for e in shown[:2]] == [e.sentence.text for e in ranked[1:3]]
    assert len(shown) == 3 and "cerfa_14952" in shown[-1].sentence.text
    assert quoted_anyway(question, shown) == (1, 3)
