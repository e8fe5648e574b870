"""The fiches written as a commune's HTML pages (eval/fiche_pages.py) or Markdown pages (eval/fiche_markdown.py), read
back by the HTML or Markdown loader: the same heading paths, lists, tables and online services as the fiche loader
reads from the fiche itself."""

import json
from pathlib import Path
from typing import Any

import pytest

from eval.corpora import PAGE_FORMS, questions_path, run_plan
from eval.fiche_markdown import fiche_markdown
from eval.fiche_pages import PAGE_WRITERS, fiche_page, write_pages
from ingest.loaders import load_file

FICHE = Path(__file__).resolve().parent / "fixtures" / "loaders" / "fiche_F1427.json"
ONLINE = "https://psl.service-public.fr/mademarche/EtatCivil/demarche?action=NAISSANCE"


def page_units(tmp_path: Path, suffix: str = ".html") -> list[tuple[str, str]]:
    page = tmp_path / f"F1427{suffix}"
    page.write_text(PAGE_WRITERS[suffix](json.loads(FICHE.read_text("utf-8"))), "utf-8")
    return [(unit.metadata["section"], unit.page_content) for unit in load_file(page)]


def test_a_fiche_page_has_the_fiches_heading_paths_and_its_tabs_cases(tmp_path: Path) -> None:
    fiche = [(unit.metadata["section"], unit.metadata["case_levels"]) for unit in load_file(FICHE)]
    page = tmp_path / "F1427.html"
    page.write_text(fiche_page(json.loads(FICHE.read_text("utf-8"))), "utf-8")
    title = load_file(FICHE)[0].metadata["title"]
    # the introduction stands under the page's title, as any page's first text does; the situations and the cases,
    # shown as tabs, are marked as the fiche loader marks them
    assert [(u.metadata["section"], u.metadata["case_levels"]) for u in load_file(page)] == [
        (title if section == "Introduction" else section, levels) for section, levels in fiche
    ]
    assert ("Né(e) en France › Faire la demande › En ligne", [0, 2]) in fiche


def test_cases_shown_as_a_choice_are_radio_buttons_read_as_the_fiches_cases(tmp_path: Path) -> None:
    data = json.loads(FICHE.read_text("utf-8"))

    def shown_as_a_choice(element: dict[str, Any]) -> None:
        if element.get("name") == "BlocCas":
            element["attributes"]["affichage"] = "radio"
        for child in element.get("children") or []:
            shown_as_a_choice(child)

    shown_as_a_choice(data)
    page = tmp_path / "F1427.html"
    page.write_text(fiche_page(data), "utf-8")
    assert page.read_text("utf-8").count('role="tab"') == 2  # the two situations' tabs; the cases are radio buttons
    units = {u.metadata["section"]: (u.metadata["case_levels"], u.page_content) for u in load_file(page)}
    assert units["Né(e) en France › Faire la demande › Sur place"][0] == [0, 2]
    assert units["Né(e) en France › Faire la demande › Sur place"][1].startswith("Au guichet de l'état civil :")


@pytest.mark.parametrize("suffix", [".html", ".md"])
def test_a_fiche_page_keeps_lists_tables_and_online_services_with_their_address(tmp_path: Path, suffix: str) -> None:
    units = dict(page_units(tmp_path, suffix))
    assert "- Époux, épouse ou partenaire de Pacs" in units["Né(e) en France › Qui peut faire la demande ?"]
    assert "Mode de demande : Sur place ; Délai : Immédiat" in units["Né(e) en France › Délai d'obtention"]
    online = units["Né(e) en France › Faire la demande › En ligne"]
    assert f"Service en ligne : Demande d'acte de naissance (naissance en France) ({ONLINE})" in online
    assert "Service en ligne : Pour une naissance à l'étranger (https://pastel.diplomatie.gouv.fr" in online


def test_a_fiche_markdown_page_has_the_fiches_heading_paths_its_cases_as_plain_headings(tmp_path: Path) -> None:
    fiche = [unit.metadata["section"] for unit in load_file(FICHE)]
    page = tmp_path / "F1427.md"
    page.write_text(fiche_markdown(json.loads(FICHE.read_text("utf-8"))), "utf-8")
    title = load_file(FICHE)[0].metadata["title"]
    units = load_file(page)
    # Markdown has no tabs: the situations and cases are headings, which mark no case
    assert [u.metadata["section"] for u in units] == [title if s == "Introduction" else s for s in fiche]
    assert all(u.metadata["case_levels"] == [] for u in units)
    assert "#### En ligne" in page.read_text("utf-8")


def test_a_fiche_pages_breadcrumb_and_see_also_are_left_out_as_a_sites_are(tmp_path: Path) -> None:
    page = fiche_page(json.loads(FICHE.read_text("utf-8")))
    assert "<nav" in page
    read = " ".join(text for _, text in page_units(tmp_path))
    assert "Accueil particuliers" not in read and "Voir aussi" not in read


def element(name: str, *children: dict[str, Any], **attributes: str) -> dict[str, Any]:
    return {"type": "element", "name": name, "attributes": attributes, "children": list(children)}


def cell(text: str, **attributes: str) -> dict[str, Any]:
    return element("Cellule", element("Paragraphe", {"type": "text", "text": text}), **attributes)


def test_a_markdown_pages_boxes_are_quotes_under_their_label_and_its_tables_repeat_merged_cells() -> None:
    assert "> **À noter**\n>\n> toute personne peut demander" in fiche_markdown(json.loads(FICHE.read_text("utf-8")))
    table = element(
        "Tableau",
        element("Rangée", cell("Demandeur"), cell("Pièce"), cell("Coût"), type="header"),
        element("Rangée", cell("Majeur", fusionVerticale="2"), cell("Photo"), cell("86 €")),
        element("Rangée", cell("Timbre | fiscal", fusionHorizontale="2")),
    )
    title = element("dc:title", {"type": "text", "text": "Passeport"})
    page = fiche_markdown({"children": [element("Publication", title, table)]})
    assert "| Demandeur | Pièce | Coût |\n|---|---|---|\n| Majeur | Photo | 86 € |\n" in page
    assert "| Majeur | Timbre \\| fiscal | Timbre \\| fiscal |" in page


def test_a_markdown_pages_emphasis_and_links_keep_the_spaces_around_them() -> None:
    def text(value: str) -> dict[str, Any]:
        return {"type": "text", "text": value}

    paragraph = element(
        "Paragraphe",
        text("si vous remplissez"),
        element("MiseEnEvidence", text(" les 2 conditions ")),
        text("suivantes, voir"),
        element("LienExterne", text(" le site "), URL="https://ants.gouv.fr"),
        text("."),
    )
    title = element("dc:title", text("Carte"))
    page = fiche_markdown({"children": [element("Publication", title, paragraph)]})
    assert "si vous remplissez **les 2 conditions** suivantes, voir [le site](https://ants.gouv.fr) ." in page


def test_pages_are_written_again_only_when_their_fiche_changed(tmp_path: Path) -> None:
    fiches, pages = tmp_path / "fiches", tmp_path / "pages"
    fiches.mkdir()
    (fiches / "F1427.json").write_text(FICHE.read_text("utf-8"), "utf-8")
    (fiches / "mairie-annexe.md").write_text("# Mairie annexe\n\nOuverte le lundi.\n", "utf-8")  # the planted page
    write_pages(fiches, pages)
    written = (pages / "F1427.html").stat().st_mtime_ns
    (pages / "F0000.html").write_text("<html></html>", "utf-8")  # its fiche is gone
    write_pages(fiches, pages)
    assert (pages / "F1427.html").stat().st_mtime_ns == written
    assert sorted(p.name for p in pages.iterdir()) == ["F1427.html", "mairie-annexe.md"]
    assert (pages / "mairie-annexe.md").read_text("utf-8") == "# Mairie annexe\n\nOuverte le lundi.\n"


def test_the_page_forms_are_judged_on_the_fiches_questions_apart_from_cis_run() -> None:
    assert questions_path("fiches-html") == questions_path("fiches-md") == questions_path("fiches")
    assert run_plan("fiches-md") == {"fiches-md": "full"}
    assert not set(PAGE_FORMS) & set(run_plan(None))


def test_the_gate_refuses_the_page_form_which_has_no_floors(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    def indexed(*_: object) -> None:  # refused before any index is built or any question asked
        raise AssertionError("fiches-html indexed")

    monkeypatch.setattr("eval.corpora.index_corpus", indexed)
    result = CliRunner().invoke(app, ["eval", "--gate", "--corpus", "fiches-html"])
    assert result.exit_code == 2 and "aucun seuil pour fiches-html" in result.output
