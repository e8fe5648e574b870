from pathlib import Path

import pytest
from fpdf import FPDF

from core.settings import Settings
from core.types import DocumentInfo
from ingest.build import build_index
from ingest.chunking import chunk_units, heading_before, make_splitter, speaker_before
from ingest.corpus import overlong_token_share
from ingest.embeddings import E5Embedder
from ingest.loaders import UnreadableFile, load_file

LOADERS = Path(__file__).resolve().parent.parent / "fixtures" / "loaders"
CORPUS = Path(__file__).resolve().parents[2] / "corpus"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def test_pdf_keeps_page_numbers() -> None:
    units = load_file(LOADERS / "two_pages.pdf")
    assert [u.metadata["page"] for u in units] == [1, 2]
    assert "médiathèque de Dainville" in units[0].page_content
    assert "conseil communautaire" in units[1].page_content


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("corrupt.pdf", "corrompu"),
        ("encrypted.pdf", "mot de passe"),
        ("empty.md", "aucun texte"),
        ("image.png", "non pris en charge"),
    ],
)
def test_bad_files_raise_a_clear_reason(name: str, reason: str) -> None:
    with pytest.raises(UnreadableFile, match=reason):
        load_file(LOADERS / name)


def test_html_drops_navigation_and_keeps_sections() -> None:
    units = load_file(LOADERS / "page_with_nav.html")
    text = " ".join(u.page_content for u in units)
    assert "Mentions légales" not in text and "Démarches" not in text
    sections = {u.metadata["section"]: u.page_content for u in units}
    assert "mardi" in sections["Calendrier"]
    assert "rendez-vous" in sections["Encombrants"]
    assert units[0].metadata["title"] == "Collecte des déchets"


def test_markdown_headings_become_sections() -> None:
    sections = {u.metadata["section"]: u.page_content for u in load_file(LOADERS / "guide.md")}
    assert "3 euros" in sections["Tarifs"]
    assert "en ligne" in sections["Inscription"]


def test_white_paper_pdf_has_real_pages_without_running_footers() -> None:
    units = load_file(CORPUS / "numericamp-livre-blanc-2024.pdf")
    assert len(units) > 20
    assert not any("Livre blanc — page" in u.page_content for u in units)
    assert any("450 visiteurs" in u.page_content for u in units[:3])


def test_chunks_carry_metadata_and_speaker() -> None:
    units = load_file(CORPUS / "mois-du-numerique-bataille-ia.html")
    info = DocumentInfo(doc_id="mois", title="La Bataille de l'IA", author="Mickaël Audegond")
    chunks = chunk_units(units, info, make_splitter(900, 150))
    with_number = next(c for c in chunks if "64 actions" in c.text)
    assert with_number.speaker == "Mickaël Audegond"
    assert with_number.section and "Mois du numérique" in with_number.section
    assert with_number.embedded_text().startswith("La Bataille de l'IA — ")
    unit = next(u for u in units if "64 actions" in u.page_content)
    assert unit.page_content[with_number.start : with_number.end] == with_number.text


def test_heading_and_speaker_detection() -> None:
    text = "TABLE-RONDE 2\nLE NUMÉRIQUE ÉCO-RESPONSABLE\nUne phrase normale qui se termine.\nJean Dupont : bonjour."
    assert heading_before(text, len(text)) == "LE NUMÉRIQUE ÉCO-RESPONSABLE"
    assert speaker_before(text, len(text)) == "Jean Dupont"


def _write_pdf(path: Path, lines: list[str]) -> Path:
    """A one-page PDF with these lines, each on its own line as typeset."""
    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", "", str(DEJAVU))
    pdf.add_page()
    pdf.set_font("DejaVu", size=11)
    for line in lines:
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def test_pdf_words_cut_at_line_end_are_joined_and_compounds_kept(tmp_path: Path) -> None:
    lines = [
        "La politique de l'habitat relève désormais de l'inter-",
        "communalité, comme indiqué ci-",
        "dessus pour la commune de Mont-",
        "Saint-Eloi, et chacun peut-",
        "être s'y référer.",
        "450 visiteurs",
        "36 partenaires exposants",
    ]
    text = load_file(_write_pdf(tmp_path / "cut.pdf", lines))[0].page_content
    assert "l'intercommunalité," in text
    assert "ci-dessus" in text and "Mont-Saint-Eloi" in text and "peut-être" in text
    assert "\n450 visiteurs\n36 partenaires exposants" in text


@pytest.mark.parametrize(
    ("text", "share"),
    [
        ("Il existe plusieurs manières d'enregistrer un paquet", 0.0),
        ("Ilexisteplusieursmanièresd'enregistrer un paquet", 1 / 3),
        ("voir https://www.debian.org/doc/manuals/debian-reference/index.fr.html ou /usr/share/debian-reference/", 0.0),
        ("", 0.0),
    ],
)
def test_overlong_token_share_ignores_urls_and_paths(text: str, share: float) -> None:
    assert overlong_token_share(text) == pytest.approx(share)


def test_pdf_with_glued_words_is_skipped_and_reported(e5_settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    glued = "Ilexisteplusieursmanièresd'enregistrerlesparamètresdusystème"
    _write_pdf(folder / "colle.pdf", [glued] * 30)
    (folder / "horaires.md").write_text("# Horaires\n\nLa médiathèque ouvre le samedi.\n", encoding="utf-8")
    report = build_index(e5_settings, folder, lambda _s: E5Embedder())
    assert [name for name, _ in report.garbled] == ["colle.pdf"]
    assert report.garbled[0][1] == pytest.approx(1.0)
    assert report.quality == {"colle.pdf": pytest.approx(1.0), "horaires.md": 0.0}
    assert ("colle.pdf", "texte illisible (100 % de mots collés) : PDF à refaire ou à convertir") in report.skipped
    assert report.added == ["horaires.md"]


def test_pdf_table_rows_follow_their_caption(tmp_path: Path) -> None:
    lines = [
        "Les tarifs de la médiathèque sont les suivants.",
        "abonnement  public  tarif",
        "annuel  adulte  15 €",
        "annuel  étudiant  gratuit",
        "Tableau 2 – Tarifs des abonnements",
        "Les inscriptions se font sur place.",
    ]
    unit = load_file(_write_pdf(tmp_path / "tarifs.pdf", lines))[0]
    assert "suivants.\nTableau 2 – Tarifs des abonnements\nabonnement public tarif\n" in unit.page_content
    info = DocumentInfo(doc_id="tarifs", title="Tarifs")
    chunks = chunk_units([unit], info, make_splitter(60, 0))
    row = next(c for c in chunks if "étudiant" in c.text)
    assert row.section == "Tableau 2 – Tarifs des abonnements"


DOCBOOK_PAGE = """<html><head><title>Jouer au démineur</title></head><body>
<div class="navheader"><table><tr><th>Jouer au démineur</th></tr><tr><td><a href="p.html">Précédent</a></td></tr></table></div>
<div class="section"><div class="titlepage"><h2 class="title">Jouer au démineur</h2></div>
<div class="toc"><dl class="toc"><dt><span class="section"><a href="#a">Placer un drapeau</a></span></dt></dl></div>
<p>Pour le lancer, sélectionner <span class="guimenu">Actions</span> →
<span class="guimenuitem">Jouer au démineur</span>. Le raccourci est <span class="keycap">Contrôle</span>+<span
class="keycap">t</span>.</p>
<p>Avec dpkg, lancez <code class="command">apt</code>-get puis éditez <code class="filename">selections.txt</code>,
ligne par ligne<a class="indexterm" id="idm1"></a> :</p>
<pre class="screen">
dpkg --get-selections \\* &gt; selections.txt
dpkg --set-selections &lt; selections.txt
</pre>
<div class="seglistitem"><div class="seg"><strong class="segtitle">Option : </strong>Aptitude::Theme</div></div>
<p>Mairie de Dainville<br/>1 place de la Mairie</p>
</div>
<div class="navfooter"><a href="index.html">Sommaire</a></div>
</body></html>"""


@pytest.fixture
def docbook_page(tmp_path: Path) -> str:
    path = tmp_path / "demineur.html"
    path.write_text(DOCBOOK_PAGE, encoding="utf-8")
    [unit] = load_file(path)
    assert unit.metadata["section"] == "Jouer au démineur"
    return unit.page_content


def test_html_inline_markup_is_read_without_added_spaces(docbook_page: str) -> None:
    assert "apt-get puis éditez selections.txt, ligne par ligne :" in docbook_page
    assert "Le raccourci est Contrôle+t." in docbook_page


def test_html_keeps_gui_menu_names_and_drops_navigation_and_contents(docbook_page: str) -> None:
    assert "Pour le lancer, sélectionner Actions → Jouer au démineur." in docbook_page
    assert "Précédent" not in docbook_page and "Sommaire" not in docbook_page
    assert "Placer un drapeau" not in docbook_page


def test_html_blocks_are_paragraphs_pre_keeps_its_lines_and_loose_text_is_kept(docbook_page: str) -> None:
    assert "ligne par ligne :\n\ndpkg --get-selections \\* > selections.txt\ndpkg --set-selections" in docbook_page
    assert "\n\nOption : Aptitude::Theme\n\n" in docbook_page
    assert docbook_page.endswith("\n\nMairie de Dainville\n1 place de la Mairie")


def test_html_nested_thousands_deep_is_read(tmp_path: Path) -> None:
    path = tmp_path / "profond.html"
    path.write_text("<body>" + "<div>" * 3000 + "<p>Texte profond.</p>" + "</div>" * 3000 + "</body>", encoding="utf-8")
    assert load_file(path)[0].page_content == "Texte profond."


DEMARCHE_MD = """# Carte d'identité

Démarche gratuite.

## Demande en France

### Pièces à fournir

#### Votre carte est périmée depuis plus de 5 ans

- un justificatif de domicile
- une photo d'identité

### Délai

Quelques semaines.

## Demande à l'étranger

Au consulat.
"""


def test_markdown_section_is_the_heading_path_under_the_title(tmp_path: Path) -> None:
    path = tmp_path / "carte.md"
    path.write_text(DEMARCHE_MD, encoding="utf-8")
    units = load_file(path)
    assert [(u.metadata["section"], u.page_content) for u in units] == [
        ("Carte d'identité", "Démarche gratuite."),
        (
            "Demande en France › Pièces à fournir › Votre carte est périmée depuis plus de 5 ans",
            "- un justificatif de domicile\n- une photo d'identité",
        ),
        ("Demande en France › Délai", "Quelques semaines."),
        ("Demande à l'étranger", "Au consulat."),
    ]
    assert {u.metadata["title"] for u in units} == {"Carte d'identité"}


DEMARCHE_HTML = """<html><body><main>
<h1>Carte d'identité</h1><p>Démarche gratuite.</p>
<h2>Demande en France</h2>
<h3>Pièces à fournir</h3>
<h4>Votre carte est périmée depuis plus de 5 ans</h4>
<ul><li>un <strong>justificatif</strong> de domicile</li><li><p>une photo d'identité</p>
<ol><li>de moins de 6 mois,</li><li>en couleur.</li></ol></li></ul>
<h3>Coût</h3>
<table><caption>Tarifs</caption>
<tr><th>Situation</th><th>Prix</th></tr>
<tr><td>Carte perdue</td><td>25 <abbr>€</abbr></td></tr>
<tr><td colspan="2">Gratuit dans les autres cas</td></tr>
</table>
<h2>Demande à l'étranger</h2><p>Au consulat.</p>
</main></body></html>"""


def test_html_section_is_the_heading_path_lists_and_tables_are_lines(tmp_path: Path) -> None:
    path = tmp_path / "carte.html"
    path.write_text(DEMARCHE_HTML, encoding="utf-8")
    units = load_file(path)
    assert [(u.metadata["section"], u.page_content) for u in units] == [
        ("Carte d'identité", "Démarche gratuite."),
        (
            "Demande en France › Pièces à fournir › Votre carte est périmée depuis plus de 5 ans",
            "- un justificatif de domicile\n- une photo d'identité\n  1. de moins de 6 mois,\n  2. en couleur.",
        ),
        (
            "Demande en France › Coût",
            "Tarifs\nSituation : Carte perdue ; Prix : 25 €\nGratuit dans les autres cas",
        ),
        ("Demande à l'étranger", "Au consulat."),
    ]


DEMARCHE_MD_MARKUP = """# Carte d'identité

*Démarche* gratuite,
sans **rendez-vous**.

## Pièces à fournir

- un justificatif de domicile
- une photo d'identité
  1. de moins de 6 mois,
  2. en couleur.

## Coût

**Tarifs**

| Situation | Prix |
|---|---|
| Carte perdue | 25 € |
| Carte volée \\| déclarée | Gratuit |

Service en ligne : [Pré-demande](https://ants.gouv.fr/pre-demande)

Voir [l'acte de naissance](/demarches/F1427) ou [le site de l'ANTS](https://ants.gouv.fr).

<div role="tablist"><button role="tab" aria-controls="p1">En France</button></div>
<div id="p1" role="tabpanel">

En mairie.

</div>
"""


def test_markdown_is_read_as_the_html_it_stands_for(tmp_path: Path) -> None:
    path = tmp_path / "carte.md"
    path.write_text(DEMARCHE_MD_MARKUP, encoding="utf-8")
    # no « * », « | » or « [...](...) » read as words: emphasis, a wrapped line, a list, a table and links read as
    # the HTML loader reads them; tabs written as HTML in the page are its cases
    assert [(u.metadata["section"], u.metadata["case_levels"], u.page_content) for u in load_file(path)] == [
        ("Carte d'identité", [], "Démarche gratuite, sans rendez-vous."),
        (
            "Pièces à fournir",
            [],
            "- un justificatif de domicile\n- une photo d'identité\n  1. de moins de 6 mois,\n  2. en couleur.",
        ),
        (
            "Coût",
            [],
            "Tarifs\n\nSituation : Carte perdue ; Prix : 25 €\nSituation : Carte volée | déclarée ; Prix : Gratuit\n\n"
            "Service en ligne : Pré-demande (https://ants.gouv.fr/pre-demande)\n\n"
            "Voir l'acte de naissance ou le site de l'ANTS.",
        ),
        ("Coût › En France", [1], "En mairie."),
    ]


def test_html_link_that_is_an_entry_of_its_own_keeps_its_address_after_its_text(tmp_path: Path) -> None:
    path = tmp_path / "lien.html"
    path.write_text(
        "<html><body><main><h1>Logement social</h1>"
        '<p>Service en ligne : <a href="https://www.demande-logement-social.gouv.fr">Demande en ligne</a></p>'
        '<ul><li><a href="https://www.debian.org/support">Forums</a> : entraide</li>'
        '<li><a href="http://www.gnupg.org/">http://www.gnupg.org</a></li></ul>'
        '<p>Voir <a href="/demarches/F1427">l\'acte de naissance</a> ou <a href="https://france.debian.net/">'
        "l'association</a>.</p></main></body></html>",
        encoding="utf-8",
    )
    # an entry of its own (after a label, opening a list item) keeps its address; a link within a sentence does not
    assert [unit.page_content for unit in load_file(path)] == [
        "Service en ligne : Demande en ligne (https://www.demande-logement-social.gouv.fr)\n\n"
        "- Forums (https://www.debian.org/support) : entraide\n- http://www.gnupg.org\n\n"
        "Voir l'acte de naissance ou l'association."
    ]


TABS_HTML = """<html><body><main><h1>Carte d'identité</h1>
<h2>Pièces à fournir</h2>
<div class="tabs"><ul class="nav nav-tabs" role="tablist">
<li role="presentation"><button role="tab" id="t1" aria-controls="p1">Vous êtes majeur</button></li>
<li role="presentation"><button role="tab" id="t2" aria-controls="p2">Vous êtes mineur</button></li></ul>
<div role="tabpanel" id="p1" aria-labelledby="t1"><p>Une photo.</p><h3>Carte perdue</h3><p>Une déclaration.</p></div>
<div role="tabpanel" id="p2"><p>La pièce d'identité du parent.</p></div></div>
<p>Les pièces sont des originaux.</p>
<h2>Coût</h2><div role="tabpanel" aria-labelledby="cout"><p>Gratuit.</p></div><p id="cout">Sans tab</p>
</main></body></html>"""


def test_html_tab_panels_stand_under_their_tabs_label_marked_as_cases(tmp_path: Path) -> None:
    path = tmp_path / "tabs.html"
    path.write_text(TABS_HTML, encoding="utf-8")
    units = [(u.metadata["section"], u.metadata["case_levels"], u.page_content) for u in load_file(path)]
    # the tab list is not read as text (« nav-tabs » is no navigation of the site); a panel is labelled by the tab
    # that controls it or the element its aria-labelledby names; the text after the tabs is back under the chapter
    assert units == [
        ("Pièces à fournir › Vous êtes majeur", [1], "Une photo."),
        ("Pièces à fournir › Vous êtes majeur › Carte perdue", [1], "Une déclaration."),
        ("Pièces à fournir › Vous êtes mineur", [1], "La pièce d'identité du parent."),
        ("Pièces à fournir", [], "Les pièces sont des originaux."),
        ("Coût › Sans tab", [1], "Gratuit."),
        ("Coût", [], "Sans tab"),
    ]


def test_html_radio_buttons_showing_a_panel_are_cases_under_their_label(tmp_path: Path) -> None:
    path = tmp_path / "choix.html"
    path.write_text(
        "<html><body><main><h1>Amende</h1><h2>Contester</h2>"
        '<div><input type="radio" id="c1" name="g" aria-controls="a1"><label for="c1">Amende majorée</label></div>'
        '<div id="a1" hidden><p>Requête en exonération.</p></div>'
        '<div><span role="radio" aria-controls="a2">Amende forfaitaire</span></div>'
        '<div id="a2" hidden><p>Réclamation.</p></div>'
        '<h2>Payer</h2><button aria-expanded="false" aria-controls="a3">En ligne</button><div id="a3"><p>Site.</p></div>'
        "</main></body></html>",
        encoding="utf-8",
    )
    # a disclosure (the last button) is no choice: its text is read where it stands
    assert [(u.metadata["section"], u.metadata["case_levels"], u.page_content) for u in load_file(path)] == [
        ("Contester › Amende majorée", [1], "Requête en exonération."),
        ("Contester › Amende forfaitaire", [1], "Réclamation."),
        ("Payer", [], "En ligne\n\nSite."),
    ]


@pytest.mark.parametrize(
    "choices",
    [
        # Bootstrap 5 tabs
        '<ul class="nav nav-tabs"><li><button data-bs-toggle="tab" data-bs-target="#a1">Amende majorée</button></li>'
        '<li><a data-toggle="tab" href="#a2">Amende forfaitaire</a></li></ul>'
        '<div class="tab-content"><div class="tab-pane" id="a1"><p>Requête en exonération.</p></div>'
        '<div class="tab-pane" id="a2"><p>Réclamation.</p></div></div>',
        # the WordPress co-marquage module's tabs
        '<div class="tabs"><ul class="nav nav-tabs"><li data-co-action="tab" data-co-target="#a1"><span>Amende '
        'majorée</span></li><li data-co-action="tab" data-co-target="#a2"><span>Amende forfaitaire</span></li></ul>'
        '<div class="tab-content"><div class="tab-pane" id="a1"><p>Requête en exonération.</p></div>'
        '<div class="tab-pane" id="a2"><p>Réclamation.</p></div></div></div>',
        # its choices, each holding the content it shows
        '<ul class="choice-tree-choice-list"><li data-co-action="radio" data-co-target="#a1"><div class="head"><button '
        'data-co-action="slide" data-co-target="#a1">Amende majorée</button></div><div class="co-hide" id="a1"><p>'
        'Requête en exonération.</p></div></li><li data-co-action="radio" data-co-target="#a2"><div><button>Amende '
        'forfaitaire</button></div><div class="co-hide" id="a2"><p>Réclamation.</p></div></li></ul>',
    ],
)
def test_html_tabs_and_choices_of_bootstrap_and_co_marquage_modules_are_cases(tmp_path: Path, choices: str) -> None:
    path = tmp_path / "choix.html"
    path.write_text(f"<html><body><main><h1>Amende</h1><h2>Contester</h2>{choices}</main></body></html>", "utf-8")
    assert [(u.metadata["section"], u.metadata["case_levels"], u.page_content) for u in load_file(path)] == [
        ("Contester › Amende majorée", [1], "Requête en exonération."),
        ("Contester › Amende forfaitaire", [1], "Réclamation."),
    ]
