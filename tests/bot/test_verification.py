"""Verification of model sentences against the evidence sentences they cite."""

from dataclasses import replace

import pytest

from bot.answer.service import read_question
from bot.answer.verification import parse_draft, verify
from core.types import Chunk, Evidence
from ingest.sentences import sentences_of


def evidence(number: int, text: str) -> Evidence:
    """An evidence sentence analysed as ingestion analyses it."""
    chunk = Chunk(
        chunk_id=f"d:{number}", doc_id="d", title="Livre blanc — Numericamp", text=text, section="En chiffres"
    )
    (sentence,) = sentences_of([chunk], context_chars=60, max_chars=320)
    return Evidence(number, sentence, chunk, score=1.0)


EVIDENCE = [
    evidence(1, "Le Numericamp a réuni 450 visiteurs et 36 partenaires exposants."),
    evidence(2, "La CUA n'a jamais facturé les ateliers aux habitants."),
]


def check(
    draft: str, question: str = "Combien de visiteurs au Numericamp ?", cut: bool = False
) -> tuple[list[str], list[str]]:
    verdict = verify(parse_draft(draft, cut), read_question(question, [], 8), EVIDENCE, min_support=0.6)
    return [f"{s.text.rstrip(' .')} {s.citations}" for s in verdict.kept], [d.reason for d in verdict.dropped]


def test_a_sentence_the_evidence_bears_out_is_kept_with_its_citation() -> None:
    assert check("Le Numericamp a réuni 450 visiteurs [1].")[0] == ["Le Numericamp a réuni 450 visiteurs [1]"]


def test_a_miscited_or_uncited_sentence_is_attributed_to_its_evidence() -> None:
    assert check("Il y a eu quatre cent cinquante visiteurs [2].")[0] == [
        "Il y a eu quatre cent cinquante visiteurs [1]"
    ]


def test_a_wrong_number_or_name_is_dropped_with_its_reason() -> None:
    kept, dropped = check("Le Numericamp a réuni 540 visiteurs [1].")
    assert kept == [] and "540" in dropped[0]
    kept, dropped = check("Martine Aubry a accueilli 450 visiteurs [1].")
    assert kept == [] and "nom absent" in dropped[0]


def test_a_web_address_or_phone_number_must_be_the_evidences_own() -> None:
    """The model completed the directory's search address with a town (« …&where=arras »): not the page's link."""
    directory = "Où s'adresser : France Services : https://lannuaire.service-public.fr/recherche?where="
    shown = [evidence(1, directory), evidence(2, "Vous pouvez appeler la mairie au 03 21 00 00 00.")]
    question = read_question("c'est quoi le site de France Services ?", [], 8)
    verdict = verify(parse_draft(f"France Services : {directory[34:]}arras [1]."), question, shown, 0.6)
    assert not verdict.kept and verdict.dropped[0].reason.startswith("adresse web absente de la source")
    verdict = verify(parse_draft(f"France Services : {directory[34:]} [1]."), question, shown, 0.6)
    assert verdict.kept
    verdict = verify(parse_draft("Vous pouvez appeler la mairie au 03 00 00 21 00 [2]."), question, shown, 0.6)
    assert not verdict.kept and verdict.dropped[0].reason.startswith("numéro de téléphone absent")
    verdict = verify(parse_draft("Vous pouvez appeler la mairie au 03.21.00.00.00 [2]."), question, shown, 0.6)
    assert verdict.kept


def test_a_hyphenated_place_name_must_be_in_the_evidence() -> None:
    kept, dropped = check("Le Numericamp a réuni 450 visiteurs à Saint-Laurent-Blangy [1].")
    assert kept == [] and dropped == ["nom absent de la source : saint-laurent-blangy"]


def test_a_word_borrowed_from_the_question_must_be_in_the_evidence() -> None:
    kept, dropped = check("Le Numericamp a gagné 450 visiteurs [1].", "Qui a gagné le Numericamp ?")
    assert kept == [] and "gagner" in dropped[0]


def test_a_rank_the_cited_sentence_numbers_otherwise_is_dropped_though_its_heading_holds_it() -> None:
    """Under « Vous signalez votre 4e changement d'adresse », a note on the 5th is not a step of the 4th."""
    chunk = Chunk(
        chunk_id="F12118:1",
        doc_id="F12118",
        title="Carte grise : changement d'adresse",
        text="Vous devez demander une nouvelle carte grise sur le site de l'ANTS et régler son acheminement, soit "
        "2,76 €.\n\nÀ savoir : si un 5ème changement intervient, vous devrez procéder comme s'il s'agissait du 1er.",
        section="Forme AB 123 CD › Vous signalez votre 4e changement d'adresse",
    )
    shown = [
        Evidence(number, sentence, chunk, score=1.0)
        for number, sentence in enumerate(sentences_of([chunk], context_chars=60, max_chars=320), start=1)
    ]
    question = read_question("Et si c'est mon 4e changement d'adresse ?", [], 8)
    fifth = parse_draft("Pour un 4e changement, procédez comme s'il s'agissait du 1er [2].")
    verdict = verify(fifth, question, shown, 0.6)
    assert not verdict.kept and verdict.dropped[0].reason == "rang absent des phrases citées : 4e"
    assert verify(
        parse_draft("Pour un 4e changement, demandez une nouvelle carte grise [1]."), question, shown, 0.6
    ).kept


def test_a_negation_the_evidence_does_not_hold_is_dropped() -> None:
    kept, _ = check("Le Numericamp n'a pas réuni 450 visiteurs [1].")
    assert kept == []
    kept, _ = check("La CUA n'a jamais facturé les ateliers [2].", "La CUA fait-elle payer les ateliers ?")
    assert kept == ["La CUA n'a jamais facturé les ateliers [2]"]


def test_an_answer_without_the_asked_number_is_dropped() -> None:
    kept, dropped = check("Le Numericamp a réuni des visiteurs et des partenaires exposants [1].")
    assert kept == [] and "demande un nombre" in dropped[0]
    assert check("Les visiteurs étaient quatre cent cinquante [1].")[0] == [
        "Les visiteurs étaient quatre cent cinquante [1]"
    ]


@pytest.mark.parametrize(
    ("question", "sentences", "without", "with_it"),
    [
        (  # a price: an amount, or « gratuit »
            "tu sais combien ça coûte une carte vitale ?",
            ["La carte Vitale vous est attribuée à partir de vos 16 ans.", "Elle est gratuite."],
            "La carte Vitale vous est attribuée [1].",
            "La carte Vitale est gratuite [2].",
        ),
        (  # a length of time: a figure with a unit of time, not any figure
            "j'ai un pv de stationnement, j'ai combien de temps pour payer ?",
            [
                "Vous devez payer une amende forfaitaire de 35 € ou de 135 €.",
                "Vous devez payer l'amende dans les 45 jours suivant l'envoi de l'avis.",
            ],
            "Vous devez payer une amende de 35 € [1].",
            "Vous devez payer l'amende dans les 45 jours [2].",
        ),
    ],
)
def test_an_answer_without_the_kind_of_fact_asked_is_dropped(
    question: str, sentences: list[str], without: str, with_it: str
) -> None:
    shown = [evidence(number, text) for number, text in enumerate(sentences, start=1)]
    asked = read_question(question, [], 8)

    def kept(draft: str) -> list[str]:
        return [s.text for s in verify(parse_draft(draft), asked, shown, min_support=0.6).kept]

    assert kept(without) == []
    assert kept(with_it) == [with_it.removesuffix(" [2].") + "."]


def test_a_year_question_is_answered_by_a_year_not_by_any_number() -> None:
    created = [
        evidence(1, "Les conseillers numériques, c'est un dispositif mis en place par l'état en 2020."),
        evidence(2, "L'état a mis les conseillers numériques en place, dont 3 dans la ville d'Arras."),
    ]
    question = read_question("Les conseillers numériques ont été créés en quelle année ?", [], 8)

    def kept(draft: str) -> list[str]:
        return [s.text for s in verify(parse_draft(draft), question, created, min_support=0.6).kept]

    assert kept("L'état a mis les conseillers numériques en place, dont 3 dans la ville d'Arras [2].") == []
    assert kept("Le dispositif a été mis en place par l'état en 2020 [1].") == [
        "Le dispositif a été mis en place par l'état en 2020."
    ]


def test_a_sentence_joining_the_facts_of_one_documents_sentences_is_kept() -> None:
    region = [
        evidence(1, "Au niveau régional, 180 000 personnes n'ont pas de PC portable."),
        evidence(2, "En région, on a entre 120 et 130 000 PC reconditionnables."),
    ]
    question = read_question("Combien de personnes sans PC portable et combien de PC reconditionnables ?", [], 8)
    joined = "180 000 personnes n'ont pas de PC portable et 120 à 130 000 PC sont reconditionnables"

    def kept(citations: str) -> list[list[int]]:
        verdict = verify(parse_draft(f"{joined} {citations}."), question, region, min_support=0.6)
        return [s.citations for s in verdict.kept]

    assert kept("[1, 2]") == [[1, 2]]
    # the sentence cited alone does not hold both facts: the document's other sentence shown is read with it
    assert kept("[1]") == [[1, 2]]
    region[1] = replace(region[1], chunk=replace(region[1].chunk, doc_id="autre"))
    assert kept("[1, 2]") == []  # facts of two documents joined are the model's
    assert kept("[1]") == []


def test_the_documents_other_sentences_lend_figures_but_not_who() -> None:
    forum = [
        evidence(1, "À travers sept ateliers et quatre conférences, les participants ont exploré l'IA."),
        evidence(2, "La Ville de Lambersart a organisé, ce 18 mars, un forum consacré à l'IA."),
    ]
    question = read_question("Combien d'ateliers et de conférences au forum de Lambersart ?", [], 8)
    draft = parse_draft("Il y avait sept ateliers et quatre conférences au forum de Lambersart [2].")
    assert [s.citations for s in verify(draft, question, forum, min_support=0.6).kept] == [[1, 2]]

    speakers = [
        evidence(1, "Nicolas DESFACHELLE"),
        evidence(2, "François FLAHAUT, Secrétaire adjoint à la Préfecture du Pas-de-Calais."),
    ]
    question = read_question("Quelle est la fonction de Nicolas Desfachelle ?", [], 8)
    draft = parse_draft("Nicolas DESFACHELLE est Secrétaire adjoint à la Préfecture du Pas-de-Calais [2].")
    assert verify(draft, question, speakers, min_support=0.6).kept == []


def test_the_questions_verb_may_be_reworded_by_a_sentence_giving_the_asked_fact() -> None:
    seniors = [evidence(1, "Eurasenior compte comme seniors toutes les personnes à partir de 60 ans.")]
    question = read_question("On devient senior à partir de quel âge ?", [], 8)

    def kept(draft: str) -> list[str]:
        return [s.text for s in verify(parse_draft(draft), question, seniors, min_support=0.6).kept]

    assert kept("On devient senior à partir de 60 ans [1].") == ["On devient senior à partir de 60 ans."]
    assert kept("On devient senior avec Eurasenior [1].") == []  # without the asked figure


def test_a_sentence_cut_off_when_the_model_ran_out_of_tokens_is_dropped() -> None:
    kept, dropped = check("Le Numericamp a réuni 450 visiteurs [1]. Il a aussi réuni 36 partenaires exp", cut=True)
    assert kept == ["Le Numericamp a réuni 450 visiteurs [1]"]
    assert dropped == ["phrase inachevée (réponse coupée)"]


def test_a_last_sentence_without_an_end_mark_is_verified_as_usual_when_the_model_ended_the_answer_itself() -> None:
    kept, dropped = check("Le Numericamp a réuni 450 visiteurs [1]. Il a aussi réuni 36 partenaires exposants")
    assert kept == ["Le Numericamp a réuni 450 visiteurs [1]", "Il a aussi réuni 36 partenaires exposants [1]"]
    assert dropped == []


def test_a_draft_cut_after_a_finished_sentence_keeps_it() -> None:
    assert check("Le Numericamp a réuni 450 visiteurs [1].", cut=True) == (
        ["Le Numericamp a réuni 450 visiteurs [1]"],
        [],
    )


def test_a_sentence_announcing_what_was_cut_off_is_dropped_with_it() -> None:
    draft = "Le Numericamp a réuni 450 visiteurs [1]. Pour les compter, tapez la commande suivante :\n```\ncompte les"
    kept, dropped = check(draft, cut=True)
    assert kept == ["Le Numericamp a réuni 450 visiteurs [1]"]
    assert dropped == ["phrase inachevée (réponse coupée)"] * 2


def test_a_last_sentence_ending_without_a_citation_but_with_its_full_stop_is_verified_as_usual() -> None:
    assert check("Le Numericamp a réuni 450 visiteurs.")[0] == ["Le Numericamp a réuni 450 visiteurs [1]"]


def test_a_word_the_source_holds_as_a_name_is_its_word() -> None:
    """spaCy tags « SEARLE » a name in the source's list of speakers, a common word in the draft's sentence."""
    speakers = [evidence(1, "Maureen SEARLE, 1ère Adjointe et Référente Numérique de la Commune de Mont-Saint-Eloi.")]
    question = read_question("Maureen Searle est élue dans quelle commune ?", [], 8)
    draft = parse_draft("Maureen SEARLE est élue dans la commune de Mont-Saint-Eloi [2].")
    assert [s.text for s in verify(draft, question, speakers, min_support=0.6).kept] == [
        "Maureen SEARLE est élue dans la commune de Mont-Saint-Eloi."
    ]


def test_a_sentence_announcing_what_follows_keeps_its_colon_as_its_end() -> None:
    (sentence,) = parse_draft("Pour les compter, tapez la commande suivante : [1].")
    assert sentence.text == "Pour les compter, tapez la commande suivante :" and sentence.citations == [1]


def test_a_list_items_number_is_no_sentence_of_its_own() -> None:
    """The model numbers its steps: « 3. » read alone was kept when the evidence held a 3, and shown « 3 [1]. »."""
    shown = [evidence(1, "Installez Debian sur un disque dur, puis suivez les 3 étapes de l'installateur.")]
    question = read_question("je veux passer à Debian, je fais comment ?", [], 8)
    draft = "Pour passer à Debian :\n1. Installez Debian sur un disque dur [1].\n3. Suivez les étapes de l'installateur [1]."
    steps = ["Installez Debian sur un disque dur.", "Suivez les étapes de l'installateur."]
    assert [s.text for s in parse_draft(draft)] == ["Pour passer à Debian :", *steps]
    assert [s.text for s in verify(parse_draft(draft), question, shown, min_support=0.6).kept] == steps
    assert [(s.text, s.citations) for s in parse_draft("3. [1]")] == [("3.", [1])]  # a short answer, not an item


def test_a_run_of_citations_is_one_citation_of_each_number_and_leaves_no_stray_comma() -> None:
    (sentence,) = parse_draft("Hold ignore le paquet, keep annule les actions prévues. [1], [2] et [3]")
    assert sentence.text == "Hold ignore le paquet, keep annule les actions prévues." and sentence.citations == [
        1,
        2,
        3,
    ]


def test_a_cited_sentence_announcing_what_was_cut_off_is_dropped_with_it() -> None:
    draft = "Le Numericamp a réuni 450 visiteurs [1]. Pour les compter, tapez la commande suivante : [1].\ncompte les"
    kept, dropped = check(draft, cut=True)
    assert kept == ["Le Numericamp a réuni 450 visiteurs [1]"]
    assert dropped == ["phrase inachevée (réponse coupée)"] * 2


def test_a_yes_no_answer_saying_the_opposite_of_the_settling_sentence_is_dropped() -> None:
    question = read_question("La mairie peut-elle refuser notre dossier de mariage ?", [], 8)
    shown = [
        evidence(1, "Non, elle n'en a pas le pouvoir : la mairie doit accepter un dossier de mariage complet."),
        evidence(2, "Si un maire refuse un dossier de mariage, les futurs époux alertent le procureur."),
    ]
    verdict = verify(parse_draft("La mairie peut refuser un dossier de mariage [2].", False), question, shown, 0.6)
    assert verdict.kept == [] and "contredit la phrase qui tranche la question [1]" in verdict.dropped[0].reason
    agreeing = "Non, la mairie n'en a pas le pouvoir [1]. Elle doit accepter un dossier de mariage complet [1]."
    kept = verify(parse_draft(agreeing, False), question, shown, 0.6).kept
    assert [s.citations for s in kept] == [[1], [1]]


def test_a_yes_no_answer_is_read_as_yes_or_no_only_when_it_says_so_or_restates_the_question() -> None:
    question = read_question("j'ai le droit de brûler mes feuilles mortes dans mon jardin ?", [], 8)
    shown = [evidence(1, "Non, il est interdit de brûler des déchets verts chez soi.")]
    draft = parse_draft("Il est interdit de brûler des déchets verts chez soi [1].", False)
    assert [s.citations for s in verify(draft, question, shown, 0.6).kept] == [[1]]
