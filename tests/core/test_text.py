"""French text analysis (spaCy fr_core_news_sm + text2num): the one reading of text shared by ingest, bot and eval."""

import pytest

from core.text import (
    ABROAD,
    EUROPE,
    AnswerKind,
    AskedList,
    analyse,
    analyse_passages,
    asked_list,
    broader_places,
    counted_thing,
    countries_named,
    durations_in,
    expected_answer_kind,
    fold,
    gives_time_of_day,
    heads_an_entry,
    is_year,
    lists_documents,
    names_a_situation,
    names_conditions,
    numbers_in,
    question_parts,
    refers_back,
    sentence_spans,
    settles,
    split_sentences,
    stated_names,
    stated_numbers,
    states_count,
    stems,
    word_count,
)


def test_sentences_end_at_punctuation_headings_and_labels() -> None:
    text = "EN CHIFFRES\n450 visiteurs\nM. Audegond a ouvert la journée. Elle a réuni 36 exposants !"
    assert split_sentences(text) == [
        "EN CHIFFRES",
        "450 visiteurs",
        "M. Audegond a ouvert la journée.",
        "Elle a réuni 36 exposants !",
    ]
    assert all(
        text[start:end] == sentence
        for (start, end), sentence in zip(sentence_spans(text), split_sentences(text), strict=True)
    )


def test_a_sentence_continues_over_a_wrapped_line_but_not_into_a_list_or_heading() -> None:
    text = (
        "La feuille de route est un dispositif mis en place par l'état en\n2024 pour accompagner les communes."
        " Elle dure\ntrois ans.\nPièces à fournir :\n- une pièce d'identité ;\n- un justificatif de domicile."
        "\nHoraires\nLa mairie est ouverte le lundi."
    )
    assert [" ".join(s.split()) for s in split_sentences(text)] == [
        "La feuille de route est un dispositif mis en place par l'état en 2024 pour accompagner les communes.",
        "Elle dure trois ans.",
        "Pièces à fournir :",
        "- une pièce d'identité ;",
        "- un justificatif de domicile.",
        "Horaires",
        "La mairie est ouverte le lundi.",
    ]


def test_a_table_row_and_an_online_service_line_stay_whole() -> None:
    table = (
        "Prime de déménagement - Montant maximum en fonction du nombre d'enfants à charge\n"
        "Enfants à charges : 3 enfants ; Montant maximum : 994,56 €\n"
        "Enfants à charges : 4 enfants ; Montant maximum : 1 077,44 €"
    )
    rows = table.split("\n")[1:]
    assert split_sentences(table)[-2:] == rows  # no row glued to the title, none cut at its « ; »
    service = "Service en ligne : Déclaration de perte de papiers - Service gratuit : https://www.service-public.fr/R1"
    assert split_sentences(service) == [service]
    assert split_sentences(f"Déclarez la perte. {service}") == ["Déclarez la perte.", service]
    titled = "Outil de recherche : Où déposer les déchets textiles et chaussures ? : https://www.lafibredutri.fr/"
    assert split_sentences(titled) == [titled]


def test_an_amount_and_a_search_pattern_are_never_cut() -> None:
    """spaCy cut before « € » (« … est de 230,77 | €TTC. ») and inside a token (« le motif « ?|name(coq) » »): no
    sentence opens with « € » or « % », nor anywhere but after a space."""
    fee = "Le coût de votre convention de Pacs est de 230,77 €TTC. Il faut y ajouter un droit de 125 €."
    assert split_sentences(fee) == [
        "Le coût de votre convention de Pacs est de 230,77 €TTC.",
        "Il faut y ajouter un droit de 125 €.",
    ]
    pattern = "Utilisez donc le motif de recherche « ?name(coq) » plutôt que « coq ». Il trouve le paquet."
    assert split_sentences(pattern) == [
        "Utilisez donc le motif de recherche « ?name(coq) » plutôt que « coq ».",
        "Il trouve le paquet.",
    ]


def test_a_quote_ending_with_its_own_question_mark_is_no_sentence_break() -> None:
    """spaCy cut after the « ? » that ends a quoted question, leaving « ») présent dans tous les paquets. » as a sentence
    that opens with the closing guillemet: no sentence opens with « » », the one after it keeps its own words."""
    text = (
        "Les responsables sont listés dans le fichier de contrôle (voir Section 7.4, « Qu'est ce qu'un fichier de "
        "contrôle ? ») présent dans tous les paquets. Le changelog Debian mentionne aussi les bogues."
    )
    sentences = split_sentences(text)
    assert not any(sentence.startswith("»") for sentence in sentences)
    assert sentences[-2].endswith("? ») présent dans tous les paquets.")
    assert sentences[-1] == "Le changelog Debian mentionne aussi les bogues."


def test_numbers_in_digits_and_words_are_one_notation() -> None:
    assert numbers_in("quarante-six communes") == {"46"}
    assert numbers_in("200.000 m³") == numbers_in("200 000 m³") == {"200000"}
    assert {"2018", "2030", "1.5"} <= numbers_in("la feuille de route 2018-2030 et 1,5 million")
    assert numbers_in("le 16 avril 2024, 450 visiteurs") == {"16", "2024", "450"}


def test_a_date_typeset_in_pairs_of_digits_holds_its_year() -> None:
    assert {"16", "4", "2024"} <= numbers_in("FICHE D'IDENTITÉ 16 04 20 24 EN CHIFFRES")
    # one pair a line, as the PDF's text layer gives it
    assert {"16", "4", "2024"} <= numbers_in("FICHE D'IDENTITÉ\n16\n04\n20\n24\nEN CHIFFRES")
    assert "2024" not in numbers_in("tables 16 04 20 24 25")  # a run of numbers is not a date


def test_lemmas_fold_inflections_and_drop_function_words() -> None:
    lemmas = analyse("Combien de visiteurs sont venus ?").lemmas
    assert "visiteur" in lemmas and "combien" not in lemmas and "de" not in lemmas


def test_names_are_proper_nouns_and_entities_not_sentence_starts() -> None:
    names = analyse("Ensuite, Frédéric Leturque a clôturé la journée à Arras.").names
    assert {"frederic", "leturque", "arras"} <= names and "ensuite" not in names


def test_fold_ignores_case_accents_and_apostrophe_shapes() -> None:
    assert fold("Université d’Artois") == fold("universite d'artois")


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        (
            "on prononce comment debian et ça veut dire quoi le nom ?",
            ("on prononce comment debian", "ça veut dire quoi le nom"),
        ),
        (
            "comment je fais pour obtenir un acte de naissance et combien ça coûte ?",
            ("comment je fais pour obtenir un acte de naissance", "combien ça coûte"),
        ),
        (
            "hold et keep c'est pas pareil ? c'est quoi la différence",
            ("hold et keep c'est pas pareil", "c'est quoi la différence"),
        ),
        ("c'est quoi la diff entre safe-upgrade et full-upgrade ?", ()),
        ("Quels sont les horaires et les tarifs de la piscine ?", ()),
        ("Le manifeste sera présenté quand et où ?", ()),
    ],
)
def test_a_question_that_asks_several_things_is_read_part_by_part(question: str, parts: tuple[str, ...]) -> None:
    assert question_parts(question) == parts


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Les conseillers numériques ont été créés en quelle année ?", AnswerKind.YEAR),
        ("debian ça existe depuis quelle année ?", AnswerKind.YEAR),
        ("Combien de visiteurs au Numericamp ?", AnswerKind.NUMBER),
        ("C'était quel jour, la journée Numericamp ?", AnswerKind.NUMBER),
    ],
)
def test_a_question_asking_which_year_asks_for_a_year(question: str, kind: AnswerKind) -> None:
    assert expected_answer_kind(question) is kind


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("j'ai un pv de stationnement, j'ai combien de temps pour payer ?", AnswerKind.DURATION),
        ("on a combien de jours pour le déclarer à la mairie ?", AnswerKind.DURATION),
        ("quel est le délai pour contester ?", AnswerKind.DURATION),
        ("je peux voter jusqu'à quand ?", AnswerKind.NUMBER),  # a date, not a length of time
        ("Combien de visiteurs au Numericamp ?", AnswerKind.NUMBER),
    ],
)
def test_a_question_asking_how_long_asks_for_a_length_of_time(question: str, kind: AnswerKind) -> None:
    assert expected_answer_kind(question) is kind


@pytest.mark.parametrize(
    ("text", "durations"),
    [
        ("Vous devez payer l'amende dans les 45 jours suivant l'envoi de l'avis.", {"45"}),
        ("le délai est de 3 à 4 semaines", {"3"}),
        ("Vous le recevez en moins d'une heure.", {"1"}),
        ("5 séances de 2h en tout", {"2"}),
        ("une amende forfaitaire de 35 € ou de 135 €", set()),  # figures, but no unit of time
        ("au cours du mois d'août précédent, pour un départ le 1er janvier", set()),
    ],
)
def test_a_length_of_time_is_a_figure_with_a_unit_of_time(text: str, durations: set[str]) -> None:
    assert durations_in(text) == durations


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("je peux faire la demande en ligne ?", AnswerKind.LINK),
        ("c'est quel formulaire pour la carte grise ?", AnswerKind.LINK),
        ("Quel est le numéro de téléphone de la mairie d'Arras ?", AnswerKind.PHONE),
        ("je dois appeler qui pour mon passeport", AnswerKind.PHONE),
        ("Quels sont les horaires d'ouverture de la mairie d'Arras ?", AnswerKind.HOURS),
        ("la mairie elle ouvre à quelle heure le samedi ?", AnswerKind.HOURS),
        ("c'est quelle heure l'ouverture de la piscine ?", AnswerKind.HOURS),
        ("Quels papiers pour refaire ma carte d'identité ?", AnswerKind.PROCEDURE),
        ("comment installer une version précise d'un paquet en ligne de commande ?", AnswerKind.PROCEDURE),
    ],
)
def test_a_question_asking_for_an_online_service_a_phone_number_or_hours(question: str, kind: AnswerKind) -> None:
    assert expected_answer_kind(question) is kind


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("la mairie peut elle refuser notre dossier de mariage ?", AnswerKind.YES_NO),
        ("Est-ce que je dois changer l'adresse de ma carte d'identité ?", AnswerKind.YES_NO),
        ("Debian est-il libre ?", AnswerKind.YES_NO),
        ("j'ai perdu ma carte d'électeur, je peux quand même aller voter ?", AnswerKind.YES_NO),  # all the same
        ("je peux voter jusqu'à quand ?", AnswerKind.NUMBER),
        ("c'est quoi une pré-demande ?", None),
        ("la mairie peut refuser notre dossier", None),  # no question mark: not read as yes or no
    ],
)
def test_a_question_without_a_question_word_asks_yes_or_no(question: str, kind: AnswerKind | None) -> None:
    assert expected_answer_kind(question) is kind


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("tu sais combien ça coûte une carte vitale ?", AnswerKind.COST),
        ("Le stage, il coûte combien ?", AnswerKind.COST),
        ("Combien de points redonne le stage ?", AnswerKind.NUMBER),
        ("l'extrait de casier judiciaire c'est payant ?", AnswerKind.COST),
        ("la carte vitale, elle est gratuite ?", AnswerKind.COST),
        ("Debian est-il gratuit ?", AnswerKind.COST),
        ("je dois payer une amende si je suis en retard ?", AnswerKind.YES_NO),
        ("tapage nocturne, l'amende c'est combien ?", AnswerKind.COST),
        ("le rsa ça ferait combien pour nous ?", AnswerKind.COST),
        ("quel est le montant de la prime ?", AnswerKind.COST),
        ("on m'oblige à faire le stage. quel est le prix ?", AnswerKind.COST),
        ("c'est quoi le tarif pour un passeport ?", AnswerKind.COST),
        ("l'amende est majorée, j'ai combien de temps pour la contester ?", AnswerKind.DURATION),
        ("l'amende, je dois la payer avant quelle date ?", AnswerKind.NUMBER),
        ("Combien de témoins pour un mariage ?", AnswerKind.NUMBER),
    ],
)
def test_a_question_asking_a_price_or_a_sum_asks_for_an_amount_or_free(question: str, kind: AnswerKind) -> None:
    assert expected_answer_kind(question) is kind


def test_a_sentence_opening_with_oui_or_non_settles_a_yes_no_question() -> None:
    assert settles("Non, elle n'en a pas le pouvoir.") is False
    assert settles("« Oui, vous pouvez la refaire. »") is True
    assert settles("Nonobstant ce délai, la demande reste possible.") is None
    assert settles("Non-résident : la démarche se fait au consulat.") is None


def test_the_oui_or_non_opening_an_answer_is_no_name() -> None:
    assert "oui" not in analyse("Oui, elle peut voter pour toi par procuration.").names
    assert "non" not in analyse("Non, vous pouvez faire votre demande de RSA en ligne.").names


def test_a_count_question_is_settled_by_a_number_of_what_it_counts() -> None:
    thing = counted_thing("Et elle peut avoir combien de procurations en tout le jour du vote ?")
    assert thing == "procuration"
    assert states_count("Un électeur ne peut pas détenir plus de 2 procurations.", thing)
    assert not states_count("Une procuration peut être établie jusqu'au jour du vote, à 8 h.", thing)
    assert counted_thing("combien ça coûte ?") is None


@pytest.mark.parametrize(
    ("question", "stated"),
    [
        ("la mairie d'Arras ouvre à quelle heure le samedi ?", {"arras"}),
        ("combien coûte une carte de stationnement résident à Arras ?", {"arras"}),
        ("la poubelle jaune c'est quel jour dans mon quartier à Arras ?", {"arras"}),
        ("j'ai déménagé à Arras, je peux m'inscrire sur les listes jusqu'à quand ?", set()),
        ("je suis algérien, j'ai perdu ma carte ici a Marseille. combien ça coûte le duplicata ?", set()),
    ],
)
def test_the_asker_s_own_place_is_not_a_name_the_evidence_must_hold(question: str, stated: set[str]) -> None:
    assert stated_names(question, analyse(question).names) == stated


@pytest.mark.parametrize(
    ("question", "broader"),
    [
        ("je suis portugaise, il faut quels documents pour demander un HLM ?", {"portugais": EUROPE}),
        ("Et si je l'ai perdu pendant des vacances en Espagne ?", {"espagne": EUROPE}),
        ("j'ai perdu mon permis aux Pays-Bas, je fais comment ?", {"paysbas": EUROPE}),
        ("ma voiture a des plaques allemandes", {"allemand": EUROPE}),
        ("j'ai perdu mon permis de conduire en France", {}),
        ("on habite à Cayenne, en Guyane française", {}),
        ("on vit au Canada et mon fils a perdu sa carte", {"canada": ABROAD}),
        ("je suis né aux États-Unis, comment avoir mon acte ?", {"etatsunis": ABROAD}),
        ("j'ai perdu ma carte de séjour pendant les vacances au maroc", {"maroc": ABROAD}),
        ("mariage en Côte d’Ivoire, quels papiers ?", {"cote d'ivoire": ABROAD}),
        ("je suis marocain et je vis à Arras", {}),
        ("ma fille Dominique a perdu sa carte à l'île de la Réunion", {}),
    ],
)
def test_a_country_is_covered_by_the_words_for_europe_or_abroad(question: str, broader: dict[str, frozenset]) -> None:
    """A European state or its people by « Europe » and « européen »; another country, by its name, by « étranger »;
    each keyed as a lemma, without its hyphens (« Pays-Bas », which spaCy reads as « pays »)."""
    assert broader_places(analyse(question).lemmas, question) == broader


def test_french_things_name_france_without_covering_its_word() -> None:
    assert countries_named(analyse("elle a des plaques françaises").lemmas) == {"france"}
    assert countries_named(analyse("elle a des plaques belges").lemmas) == set()
    assert broader_places(analyse("elle a des plaques françaises").lemmas, "elle a des plaques françaises") == {}


@pytest.mark.parametrize(
    ("question", "denied"),
    [
        ("je veux contester mon pv par courrier, il est pas majoré", {"majorer"}),
        ("ma fille a pas de passeport valide, je fais quoi ?", {"passeport", "valide"}),
        ("la carte n'est pas périmée mais perdue", {"perimer"}),
        ("je n'ai plus de carte grise", {"carte", "gris"}),
        ("ma carte d'identité est périmée, je fais quoi ?", set()),
    ],
)
def test_the_words_a_negation_denies_are_read(question: str, denied: set[str]) -> None:
    assert analyse(question).denied == denied


def test_words_are_counted_without_the_punctuation_spaced_off() -> None:
    assert word_count("et si le bébé est né à l'étranger ?") == 8
    assert word_count("Combien ça coûte ? !") == 3


def test_a_sentence_opening_with_a_pronoun_or_a_demonstrative_refers_back() -> None:
    assert refers_back("Elle vous permet de conduire en attendant le nouveau permis.")
    assert refers_back("Cette attestation est valable 2 mois.") and refers_back("Ceux-ci sont :")
    assert not refers_back("Il faut faire une déclaration de perte.")
    assert not refers_back("Celle qui est perdue doit être déclarée.") and not refers_back("Cesser de payer…")


def test_a_sentence_whose_subject_is_a_demonstrative_after_an_opening_phrase_refers_back() -> None:
    """« Dans certains pays (…), ce délai est porté à 30 jours. » says which delay only with the sentence before."""
    assert refers_back(
        "Dans certains pays (https://www.diplomatie.gouv.fr/naissances) , ce délai est porté à 30 jours."
    )
    assert refers_back("Ce délai passe à 60 jours si vous payez en ligne.")
    assert not refers_back("Ce qui compte, c'est la date.") and not refers_back("Ce n'est pas obligatoire.")
    assert not refers_back("Dans ce cas, vous devez payer.") and not refers_back("Le salon, ce n'est pas tout.")
    assert not refers_back("La Ville a organisé, ce 18 mars, un salon.")


def test_links_and_phone_numbers_are_read_as_written() -> None:
    analysis = analyse(
        "Service en ligne : Pré-demande de passeport : https://passeport.ants.gouv.fr/demarches-en-ligne. "
        "Appelez le 01 23 45 67 89 ou le +33 3 21 00 00 00."
    )
    assert analysis.links == {"https://passeport.ants.gouv.fr/demarches-en-ligne"}
    assert analysis.phones == {"01 23 45 67 89", "+33 3 21 00 00 00"}
    assert not analyse("Le montant est de 86 € et le délai de 45 jours.").phones


def test_a_year_is_a_number_of_four_digits_of_the_documents_times() -> None:
    assert [is_year(n) for n in ("2020", "1993", "3", "450", "130000", "9999")] == [True, True] + [False] * 4


def test_hyphenated_names_and_words_are_read_whole() -> None:
    analysis = analyse("Jean-Marc LORIOT est vice-président, à Saint-Laurent-Blangy.")
    assert {"jean-marc", "saint-laurent-blangy"} <= analysis.names
    assert {"jeanmarc", "vicepresident", "saintlaurentblangy"} <= analysis.lemmas


def test_a_dotted_acronym_is_read_as_its_letters() -> None:
    """spaCy keeps « I.A. » as one token that is no word: « l'IA analyse… » was refused, its evidence written
    « l'I.A. » seen as missing the name the question states."""
    dotted = analyse("Ce projet consiste à utiliser l'I.A. pour analyser la voirie de la S.N.C.F.")
    assert {"ia", "sncf"} <= dotted.names & dotted.lemmas
    assert "ia" in analyse("A Calais l'IA analyse combien de km de voirie ?").names
    assert not {"m", "pex"} & analyse("Écrivez à M. Dupont, p.ex. par courriel.").lemmas


def test_a_rank_is_one_word_however_it_is_written() -> None:
    """spaCy keeps « 4e » as a token that is no word and « première » as a stop word: both were lost, so « mon 4e
    changement d'adresse » could not state the case « Vous signalez votre 4e changement »."""
    for written in ("1er", "1ère", "1ere", "1re", "première", "premiere"):
        assert "1er" in analyse(f"C'est la {written} fois.").lemmas
    for written in ("4e", "4ème", "4eme", "quatrième", "quatrieme"):
        assert "4e" in analyse(f"C'est mon {written} changement d'adresse.").lemmas
    assert "2e" in analyse("Il s'agit du 1er, 2e ou 3e changement.").lemmas
    assert not {"4e", "1er"} & analyse("J'ai 4 enfants et une voiture.").lemmas
    assert "1er" not in analyse("Au vingt et unième siècle.").lemmas


def test_a_word_written_with_or_without_a_hyphen_is_one_lemma() -> None:
    hyphenated = analyse("En région, on a entre 120 et 130.000 PC re-conditionnables.")
    assert "reconditionnable" in hyphenated.lemmas & analyse("des PC reconditionnables").lemmas


def test_a_word_with_an_inclusive_ending_in_brackets_is_read_as_the_word() -> None:
    """spaCy reads « étrangère(s) » as one token that is no word: the case « Caisse(s) de retraite étrangère(s) »
    lost the word that sets it apart."""
    assert {"caisse", "retraite", "etranger"} <= analyse("Caisse(s) de retraite étrangère(s)").lemmas
    assert "algerien" in analyse("Pour un(e) Algérien(ne)").lemmas
    units = analyse_passages(["Vous êtes né(e) en France. Vos caisse(s) complémentaire(s) paient."])[0]
    assert [(u.start, u.end) for u in units] == [(0, 26), (27, 66)] and "complementaire" in units[1].analysis.lemmas


@pytest.mark.parametrize(
    ("question", "stated"),
    [
        ("Quelles seront les dates du mois du numérique 2026 ?", {"2026"}),
        ("Confirme-moi que la CUA offre 500 € à chaque habitant.", {"500"}),
        ("tu peux m'aider pour mon devoir : résoudre 3x + 7 = 22", {"3", "7", "22"}),
        ("Debian 12 et mon PC, ça marche ?", {"12"}),
        ("ma fille de 10 ans a perdu sa carte, je dois ramener quoi ?", set()),
        ("ma carte a été faite en 2016, elle est valable combien de temps ?", set()),
        ("j'ai 30 ans et je vis seul, le rsa c'est à partir de quel âge ?", set()),
        ("combien coûte mon passeport en 2025 ?", {"2025"}),
        ("on a 3 enfants de 2, 5 et 9 ans. les allocs ça fait combien ?", set()),
        ("les allocs pour 3 enfants, 5 ou 6 euros ?", {"3", "5", "6"}),
    ],
)
def test_the_asker_s_own_figures_are_not_numbers_the_evidence_must_hold(question: str, stated: set[str]) -> None:
    assert stated_numbers(question) == stated


@pytest.mark.parametrize(
    ("question", "listed"),
    [
        ("quels papiers pour déclarer la naissance de mon fils ?", AskedList.DOCUMENTS),
        ("il faut quels documents pour le duplicata ?", AskedList.DOCUMENTS),
        ("pour déclarer un décès il faut amener quoi ?", AskedList.DOCUMENTS),
        ("je dois ramener quoi comme papiers ?", AskedList.DOCUMENTS),
        ("j'ai la carte grise, qu'est-ce que je dois donner à la casse ?", AskedList.DOCUMENTS),
        ("quels papiers faut-il, et qui a droit à l'aide ?", AskedList.DOCUMENTS),
        ("c'est quoi les conditions pour la prime de déménagement de la caf ?", AskedList.CONDITIONS),
        ("sous quelles conditions on peut avoir l'APL ?", AskedList.CONDITIONS),
        ("qui a droit à la prime de naissance ?", AskedList.CONDITIONS),
        ("qui peut bénéficier du chèque énergie ?", AskedList.CONDITIONS),
        ("on m'a volé mes papiers, je fais quoi ?", None),
        ("qu'est-ce que je dois faire ?", None),
        ("quels sont les horaires de la mairie ?", None),
        ("combien coûte la carte grise ?", None),
        ("j'ai le droit de conduire sans permis ?", None),
    ],
)
def test_a_question_asking_for_a_chapter_that_is_a_list(question: str, listed: AskedList | None) -> None:
    """Which documents to bring (« Pièces à fournir »), who may claim it (« Qui est concerné ? »)."""
    assert asked_list(question) is listed


def test_a_question_asking_which_documents_to_bring_asks_for_the_list() -> None:
    """Its answer is a procedure's unit, the list of a « Pièces à fournir » chapter, not one sentence of it."""
    assert (
        expected_answer_kind("j'ai la carte grise, qu'est-ce que je dois donner à la casse ?") is AnswerKind.PROCEDURE
    )
    assert expected_answer_kind("pour déclarer un décès il faut amener quoi ?") is AnswerKind.PROCEDURE


def test_a_heading_naming_the_documents_to_provide() -> None:
    assert lists_documents("Pièces à fournir") and lists_documents("Quels sont les justificatifs à fournir ?")
    assert not lists_documents("Justificatif du motif de votre demande") and not lists_documents("Coût")


def test_a_heading_that_is_a_question_or_a_numbered_section_heads_an_entry() -> None:
    assert heads_an_entry("Quand la mettre à jour ?") and heads_an_entry("6.2.1. Quels noms de code ont été utilisés")
    assert heads_an_entry("13.3.1. Software in the Public Interest") and heads_an_entry("9. Les outils ")
    assert not heads_an_entry("2 enfants ou plus") and not heads_an_entry("Date d'expiration : + de 5 ans")
    assert not heads_an_entry("1er, 2e ou 3e changement d'adresse") and not heads_an_entry("Forme AB 123 CD")


def test_a_heading_naming_the_readers_situation() -> None:
    assert names_a_situation("Vous faites du tourisme dans ce pays") and names_a_situation("Si vous êtes détaché")
    assert names_a_situation("En cas de séparation") and names_a_situation("Lorsque le bail prend fin")
    assert not names_a_situation("Taxe régionale") and not names_a_situation("Simulateur de coût")
    assert not names_a_situation("Services en ligne") and not names_a_situation("Guide de collecte")


@pytest.mark.parametrize(
    ("text", "gives"),
    [
        ("La mairie est ouverte de 9 h à 12 h et de 14h à 17h30.", True),
        ("Accueil dès 8h le samedi, jusqu'à 17 heures en semaine.", True),
        ("Permanence le mardi, 14h30.", True),
        ("Une partie dure 2 heures.", False),
        ("Le décès doit être déclaré dans les 24 heures.", False),
        ("Artois Expo, mardi 16 avril, journée complète.", False),
    ],
)
def test_a_time_of_day_is_given_as_opening_hours_are(text: str, gives: bool) -> None:
    assert gives_time_of_day(text) is gives


def test_a_heading_naming_who_is_concerned() -> None:
    assert names_conditions("Qui est concerné ?") and names_conditions("Conditions d'attribution")
    assert names_conditions("Conditions de ressources") and names_conditions("Qui peut bénéficier de l'aide ?")
    assert not names_conditions("Non-respect des conditions de collecte") and not names_conditions("Déchets concernés")


def test_a_noun_and_its_verb_share_a_stem_where_their_lemmas_differ() -> None:
    contest, pay = analyse("la contestation de l'amende"), analyse("je veux contester, pas payer")
    assert contest.lemmas.isdisjoint(pay.lemmas)
    assert "contest" in stems(contest.lemmas) & stems(pay.lemmas)
