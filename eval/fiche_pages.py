"""The fiches corpus as a commune's own démarches pages: each fiche written as the HTML page a commune's website
shows when it reuses it (co-marquage), to judge the HTML loader on the structure the fiche loader reads.

The page keeps what a resident sees: the title, the introduction, the chapters as nested headings (h2, h3…), the
situations and cases as a co-marquage module shows them by their `affichage`: tabs (« onglet »), written as the
State's design system (DSFR) writes them, the WAI-ARIA tabs pattern, or a choice (« radio »), radio buttons each
showing its case's content; paragraphs, lists, tables with their merged cells, boxes (« À noter »), online services
and forms as links with their label, the offices to contact; the breadcrumb in a `<nav>` and « Voir aussi » in an
`<aside>`, as a site lays them out. Written here from the xml-js JSON, apart from `ingest/dila.py`: the evaluation
does not share the code it judges.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

Element = dict[str, Any]

_HEADED = {"Situation", "Chapitre", "SousChapitre", "Cas"}
# Groups of alternatives (situations, cases): tabs when their `affichage` is « onglet », a choice otherwise
_ALTERNATIVES = {"ListeSituations", "BlocCas"}
_NUMBER = "number"  # the key of a situation's or case's number on its page (`_numbered`)
# Read within the sentence around them
_INLINE_TAGS = {
    "LienInterne", "LienExterne", "LienIntra", "MiseEnEvidence", "Expression", "Valeur", "Exposant", "Indice",
    "Citation", "TermeEtranger", "Variable",
}  # fmt: skip
_BOXES = {"ANoter": "À noter", "ASavoir": "À savoir", "Attention": "Attention", "Rappel": "Rappel"}
# Metadata, glossary, legal references and conditions: not shown on the page
_HIDDEN = {
    "SurTitre", "Audience", "Canal", "Cible", "Theme", "SousThemePere", "DossierPere", "SousDossierPere", "Reference",
    "Abreviation", "Definition", "PourEnSavoirPlus", "Condition", "TitreAlternatif", "Source", "Credits",
    "QuestionReponse", "CommentFaireSi", "RechercheGuidee",
}  # fmt: skip
# Shown elsewhere on the page than where they stand: the introduction under the title, the breadcrumb and « Voir aussi »
_PLACED = {"Introduction", "FilDAriane", "VoirAussi"}
# Shown after the body, each under a heading of its own, as on service-public.fr
_GROUPED = {
    "ServiceEnLigne": "Services en ligne et formulaires",
    "OuSAdresser": "Où s'adresser",
    "LienExterneCommente": "Liens utiles",
    "Avertissement": "Avertissement",
}
# An online service's label by its type; any other type is « Service en ligne »
_SERVICE_LABELS = {"Formulaire", "Simulateur", "Outil de recherche", "Modèle de document"}
_IN_CARD = 0  # the level of what an office's card holds: its sections' titles are bold lines, not headings


def write_pages(fiches: Path, pages: Path) -> None:
    """Each JSON fiche of `fiches` as `<id>.html` in `pages`, and its other documents (the planted page) as they are:
    a file whose text is unchanged is left as it is (the index keeps it), one whose source is gone is removed."""
    pages.mkdir(parents=True, exist_ok=True)
    wanted = {
        (f"{path.stem}.html" if path.suffix == ".json" else path.name): path
        for path in fiches.iterdir()
        if path.is_file()
    }
    for page in pages.iterdir():
        if page.name not in wanted:
            page.unlink()
    for name, path in wanted.items():
        text = path.read_text("utf-8")
        page, text = pages / name, fiche_page(json.loads(text)) if path.suffix == ".json" else text
        if not page.is_file() or page.read_text("utf-8") != text:
            page.write_text(text, "utf-8")


def fiche_page(data: dict[str, Any]) -> str:
    """A fiche (xml-js JSON) as a commune's HTML page."""
    publication = _numbered(next(c for c in data["children"] if c.get("name") == "Publication"))
    title = _plain(_child(publication, "dc:title"))
    body: list[str] = []
    grouped: dict[str, list[str]] = {}
    for child in _elements(publication):
        name = child["name"]
        if name in _GROUPED:
            grouped.setdefault(_GROUPED[name], []).append(_block(child, 3))
        elif not (name.startswith("dc:") or name in _HIDDEN or name in _PLACED):
            body.append(_block(child, 2))
    introduction = _child(publication, "Introduction") or _child(publication, "dc:description")
    trail = [_plain(level) for level in _elements(_child(publication, "FilDAriane") or {})]
    see_also = [_plain(_child(entry, "Titre")) for entry in _elements(_child(publication, "VoirAussi") or {})]
    parts = [
        f"<html><head><title>{escape(title)} | Mairie</title></head><body>",
        f'<nav class="fil-ariane">{_site_links(trail, " › ")}</nav>',
        f"<main><h1>{escape(title)}</h1>",
        _children(introduction, 2) if introduction else "",
        *body,
        *(f"<h2>{escape(heading)}</h2>{''.join(blocks)}" for heading, blocks in grouped.items()),
        "</main>",
        f'<aside class="voir-aussi"><p>Voir aussi</p>{_site_links(see_also)}</aside>',
        "</body></html>",
    ]
    return "\n".join(part for part in parts if part)


def _block(element: Element, level: int) -> str:
    """An element as HTML; `level` is the heading level a section under it opens (`_IN_CARD`: none, its title is
    a bold line, as in an office's card)."""
    name = element["name"]
    if name in _HIDDEN:
        return ""
    if name in _ALTERNATIVES and level != _IN_CARD:
        return _tabs(element, level) if _attributes(element).get("affichage") == "onglet" else _choice(element, level)
    if name in _HEADED:
        title = escape(_plain(_child(element, "Titre")))
        heading = (
            f"<p><strong>{title}</strong></p>" if level == _IN_CARD else f"<h{min(level, 6)}>{title}</h{min(level, 6)}>"
        )
        inner = level if level == _IN_CARD else level + 1
        return heading + "".join(_block(c, inner) for c in _elements(element) if c["name"] != "Titre")
    if name == "Paragraphe":
        return f"<p>{_inline(element)}</p>"
    if name == "Liste":
        tag = "ol" if _attributes(element).get("type") == "numero" else "ul"
        items = "".join(f"<li>{_children(item, level)}</li>" for item in _elements(element) if item["name"] == "Item")
        return f"<{tag}>{items}</{tag}>"
    if name == "Tableau":
        return _table(element)
    if name in _BOXES:
        label = _plain(_child(element, "Titre")) or _BOXES[name]
        content = "".join(_block(c, level) for c in _elements(element) if c["name"] != "Titre")
        return f'<div class="encadre"><p><strong>{escape(label)}</strong></p>{content}</div>'
    if name == "ServiceEnLigne":
        return _service(element, level)
    if name == "OuSAdresser":
        return _office(element)
    return _children(element, level)


def _tabs(element: Element, level: int) -> str:
    """Situations or cases as DSFR tabs: the list of their titles, then one panel each, labelled by its tab; the
    chapters in a panel stand a level below the one the tabs would have as headings."""
    alternatives, ids = _alternatives(element)
    tabs = "".join(
        f'<li role="presentation"><button class="fr-tabs__tab" id="tab-{key}" role="tab" aria-controls="panel-{key}">'
        f"{escape(_plain(_child(alternative, 'Titre')))}</button></li>"
        for key, alternative in zip(ids, alternatives, strict=True)
    )
    panels = "".join(
        f'<div class="fr-tabs__panel" id="panel-{key}" role="tabpanel" aria-labelledby="tab-{key}" tabindex="0">'
        + "".join(_block(c, level + 1) for c in _elements(alternative) if c["name"] != "Titre")
        + "</div>"
        for key, alternative in zip(ids, alternatives, strict=True)
    )
    return f'<div class="fr-tabs"><ul class="fr-tabs__list" role="tablist">{tabs}</ul>{panels}</div>'


def _choice(element: Element, level: int) -> str:
    """Situations or cases shown as a choice: one radio button each, with its title as label, followed by the content
    it shows (hidden until chosen), a level below."""
    alternatives, ids = _alternatives(element)
    group = ids[0] if ids else ""
    return "".join(
        f'<div class="fr-radio-group"><input type="radio" id="choice-{key}" name="choice-{group}" '
        f'aria-controls="case-{key}"><label class="fr-label" for="choice-{key}">'
        f"{escape(_plain(_child(alternative, 'Titre')))}</label></div>"
        f'<div id="case-{key}" hidden>'
        + "".join(_block(c, level + 1) for c in _elements(alternative) if c["name"] != "Titre")
        + "</div>"
        for key, alternative in zip(ids, alternatives, strict=True)
    )


def _alternatives(element: Element) -> tuple[list[Element], list[str]]:
    """The situations or cases of a group, and the number `_numbered` gave each, unique on the page."""
    alternatives = [c for c in _elements(element) if c["name"] in _HEADED]
    return alternatives, [str(c[_NUMBER]) for c in alternatives]


def _numbered(publication: Element) -> Element:
    """A copy of the publication whose situations and cases are numbered in reading order: the same case may stand
    word for word under two situations, and each tab or choice must control its own panel."""
    copy = json.loads(json.dumps(publication))
    pending, number = [copy], 0
    while pending:
        element = pending.pop(0)
        if element.get("name") in _HEADED:
            number += 1
            element[_NUMBER] = number
        pending.extend(_elements(element))
    return copy


def _children(element: Element, level: int) -> str:
    """An element's content: runs of text and inline elements as paragraphs, other elements as their blocks."""
    out, run = [], []
    for child in element.get("children") or []:
        if child.get("type") != "element" or child["name"] in _INLINE_TAGS:
            run.append(child)
            continue
        if text := _run(run).strip():
            out.append(f"<p>{text}</p>")
        run = []
        out.append(_block(child, level))
    if text := _run(run).strip():
        out.append(f"<p>{text}</p>")
    return "".join(out)


def _inline(element: Element) -> str:
    return _run(element.get("children") or [])


def _run(children: list[Element]) -> str:
    """Text and inline elements as inline HTML: links with their address, emphasis, exponents."""
    parts = []
    for child in children:
        if child.get("type") in {"text", "cdata"}:
            parts.append(escape(str(child.get(child["type"], ""))))
            continue
        if child.get("type") != "element":
            continue
        attributes, inner = _attributes(child), _inline(child)
        name = child["name"]
        if name == "LienExterne":
            parts.append(f'<a href="{escape(attributes.get("URL", ""))}">{inner}</a>')
        elif name == "LienInterne":
            parts.append(f'<a href="/demarches/{escape(attributes.get("LienPublication", ""))}">{inner}</a>')
        elif name == "MiseEnEvidence":
            parts.append(f"<strong>{inner}</strong>")
        elif name == "Exposant":
            parts.append(f"<sup>{inner}</sup>")
        elif name == "Indice":
            parts.append(f"<sub>{inner}</sub>")
        else:
            parts.append(inner)
    return "".join(parts)


def _table(element: Element) -> str:
    rows = []
    for row in (r for r in _elements(element) if r["name"] == "Rangée"):
        cell_tag = "th" if _attributes(row).get("type") == "header" else "td"
        cells = []
        for cell in (c for c in _elements(row) if c["name"] == "Cellule"):
            attributes = _attributes(cell)
            spans = "".join(
                f' {html}="{attributes[dila]}"'
                for dila, html in (("fusionHorizontale", "colspan"), ("fusionVerticale", "rowspan"))
                if attributes.get(dila, "1") not in {"", "1"}
            )
            cells.append(f"<{cell_tag}{spans}>{_children(cell, 6)}</{cell_tag}>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    caption = _plain(_child(element, "Titre"))
    return f"<table>{f'<caption>{escape(caption)}</caption>' if caption else ''}{''.join(rows)}</table>"


def _service(element: Element, level: int) -> str:
    """« Service en ligne : <a>titre</a> », « Formulaire cerfa n° … : <a>titre</a> », then its notes and its annexes
    (another form, the same service for another case), each a line of its own."""
    attributes = _attributes(element)
    kind = attributes.get("type", "")
    label = kind if kind in _SERVICE_LABELS else "Service en ligne"
    if kind == "Formulaire" and attributes.get("numerocerfa"):
        label = f"Formulaire cerfa n° {attributes['numerocerfa']}"
    web = _child(element, "LienWeb")
    url = attributes.get("URL") or (_attributes(web).get("URL", "") if web else "")
    lines = [f"<p>{escape(label)} : {_link(url, _plain(_child(element, 'Titre')))}</p>"]
    for child in _elements(element):
        if child["name"] in {"Introduction", "Texte"}:
            lines.append(_children(child, level))
        elif child["name"] == "ServiceEnLigneAnnexe":
            lines.append(_service(child, level))
        elif child["name"] == "NoticeLiee":
            lines.append(f"<p>Notice : {_link(_attributes(child).get('URL', ''), _plain(child))}</p>")
    return "".join(lines)


def _office(element: Element) -> str:
    """The office to contact: its name as a link to its directory page, what for, then its address and hours."""
    web = _child(element, "RessourceWeb")
    name, what = _plain(_child(element, "Titre")), _plain(_child(element, "Complement"))
    link = _link(_attributes(web).get("URL", "") if web else "", f"{name} ({what})" if what else name)
    texte = _child(element, "Texte")
    return f"<p>Où s'adresser : {link}</p>{_children(texte, _IN_CARD) if texte else ''}"


def _link(url: str, text: str) -> str:
    return f'<a href="{escape(url)}">{escape(text)}</a>' if url else escape(text)


def _site_links(titles: list[str], separator: str = "") -> str:
    """A site's own links (the breadcrumb, « Voir aussi »), which lead to its other pages."""
    return separator.join(f'<a href="#">{escape(title)}</a>' for title in titles if title)


def _attributes(element: Element) -> dict[str, str]:
    return element.get("attributes") or {}


def _elements(element: Element) -> list[Element]:
    return [c for c in element.get("children") or [] if c.get("type") == "element"]


def _child(element: Element, name: str) -> Element | None:
    return next((c for c in _elements(element) if c["name"] == name), None)


def _plain(element: Element | None) -> str:
    """All the text under an element, on one line."""
    if element is None:
        return ""
    if element.get("type") in {"text", "cdata"}:
        return str(element.get(element["type"], ""))
    return " ".join(" ".join(_plain(c) for c in element.get("children") or []).split())
