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
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

from eval.fiche_json import (
    ALTERNATIVES,
    BOXES,
    GROUPED,
    HEADED,
    HIDDEN,
    PLACED,
    Element,
    alternatives,
    attributes,
    child,
    content,
    elements,
    office_link,
    plain,
    publication,
    service_entries,
    untitled,
)
from eval.fiche_markdown import fiche_markdown

_IN_CARD = 0  # the level of what an office's card holds: its sections' titles are bold lines, not headings


def write_pages(fiches: Path, pages: Path, suffix: str = ".html") -> None:
    """Each JSON fiche of `fiches` as `<id><suffix>` in `pages` (an HTML page, or with ".md" its Markdown source), and
    its other documents (the planted page) as they are: a file whose text is unchanged is left as it is (the index
    keeps it), one whose source is gone is removed."""
    write = PAGE_WRITERS[suffix]
    pages.mkdir(parents=True, exist_ok=True)
    wanted = {
        (f"{path.stem}{suffix}" if path.suffix == ".json" else path.name): path
        for path in fiches.iterdir()
        if path.is_file()
    }
    for page in pages.iterdir():
        if page.name not in wanted:
            page.unlink()
    for name, path in wanted.items():
        text = path.read_text("utf-8")
        page, text = pages / name, write(json.loads(text)) if path.suffix == ".json" else text
        if not page.is_file() or page.read_text("utf-8") != text:
            page.write_text(text, "utf-8")


def fiche_page(data: dict[str, Any]) -> str:
    """A fiche (xml-js JSON) as a commune's HTML page."""
    fiche = publication(data)
    title = plain(child(fiche, "dc:title"))
    body: list[str] = []
    grouped: dict[str, list[str]] = {}
    for element in elements(fiche):
        name = element["name"]
        if name in GROUPED:
            grouped.setdefault(GROUPED[name], []).append(_block(element, 3))
        elif not (name.startswith("dc:") or name in HIDDEN or name in PLACED):
            body.append(_block(element, 2))
    introduction = child(fiche, "Introduction") or child(fiche, "dc:description")
    trail = [plain(level) for level in elements(child(fiche, "FilDAriane") or {})]
    see_also = [plain(child(entry, "Titre")) for entry in elements(child(fiche, "VoirAussi") or {})]
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
    if name in HIDDEN:
        return ""
    if name in ALTERNATIVES and level != _IN_CARD:
        return _tabs(element, level) if attributes(element).get("affichage") == "onglet" else _choice(element, level)
    if name in HEADED:
        title = escape(plain(child(element, "Titre")))
        heading = (
            f"<p><strong>{title}</strong></p>" if level == _IN_CARD else f"<h{min(level, 6)}>{title}</h{min(level, 6)}>"
        )
        inner = level if level == _IN_CARD else level + 1
        return heading + "".join(_block(c, inner) for c in untitled(element))
    if name == "Paragraphe":
        return f"<p>{_inline(element)}</p>"
    if name == "Liste":
        tag = "ol" if attributes(element).get("type") == "numero" else "ul"
        items = "".join(f"<li>{_children(item, level)}</li>" for item in elements(element) if item["name"] == "Item")
        return f"<{tag}>{items}</{tag}>"
    if name == "Tableau":
        return _table(element)
    if name in BOXES:
        label = plain(child(element, "Titre")) or BOXES[name]
        content = "".join(_block(c, level) for c in untitled(element))
        return f'<div class="encadre"><p><strong>{escape(label)}</strong></p>{content}</div>'
    if name == "ServiceEnLigne":
        return _service(element, level)
    if name == "OuSAdresser":
        return _office(element)
    return _children(element, level)


def _tabs(element: Element, level: int) -> str:
    """Situations or cases as DSFR tabs: the list of their titles, then one panel each, labelled by its tab; the
    chapters in a panel stand a level below the one the tabs would have as headings."""
    choices, ids = alternatives(element)
    tabs = "".join(
        f'<li role="presentation"><button class="fr-tabs__tab" id="tab-{key}" role="tab" aria-controls="panel-{key}">'
        f"{escape(plain(child(alternative, 'Titre')))}</button></li>"
        for key, alternative in zip(ids, choices, strict=True)
    )
    panels = "".join(
        f'<div class="fr-tabs__panel" id="panel-{key}" role="tabpanel" aria-labelledby="tab-{key}" tabindex="0">'
        + "".join(_block(c, level + 1) for c in untitled(alternative))
        + "</div>"
        for key, alternative in zip(ids, choices, strict=True)
    )
    return f'<div class="fr-tabs"><ul class="fr-tabs__list" role="tablist">{tabs}</ul>{panels}</div>'


def _choice(element: Element, level: int) -> str:
    """Situations or cases shown as a choice: one radio button each, with its title as label, followed by the content
    it shows (hidden until chosen), a level below."""
    choices, ids = alternatives(element)
    group = ids[0] if ids else ""
    return "".join(
        f'<div class="fr-radio-group"><input type="radio" id="choice-{key}" name="choice-{group}" '
        f'aria-controls="case-{key}"><label class="fr-label" for="choice-{key}">'
        f"{escape(plain(child(alternative, 'Titre')))}</label></div>"
        f'<div id="case-{key}" hidden>' + "".join(_block(c, level + 1) for c in untitled(alternative)) + "</div>"
        for key, alternative in zip(ids, choices, strict=True)
    )


def _children(element: Element, level: int) -> str:
    """An element's content: runs of text and inline elements as paragraphs, other elements as their blocks."""
    return "".join(_paragraph(part) if isinstance(part, list) else _block(part, level) for part in content(element))


def _paragraph(nodes: list[Element]) -> str:
    text = _run(nodes).strip()
    return f"<p>{text}</p>" if text else ""


def _inline(element: Element) -> str:
    return _run(element.get("children") or [])


def _run(children: list[Element]) -> str:
    """Text and inline elements as inline HTML: links with their address, emphasis, exponents."""
    parts = []
    for node in children:
        if node.get("type") in {"text", "cdata"}:
            parts.append(escape(str(node.get(node["type"], ""))))
            continue
        if node.get("type") != "element":
            continue
        shown, inner = attributes(node), _inline(node)
        name = node["name"]
        if name == "LienExterne":
            parts.append(f'<a href="{escape(shown.get("URL", ""))}">{inner}</a>')
        elif name == "LienInterne":
            parts.append(f'<a href="/demarches/{escape(shown.get("LienPublication", ""))}">{inner}</a>')
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
    for row in (r for r in elements(element) if r["name"] == "Rangée"):
        cell_tag = "th" if attributes(row).get("type") == "header" else "td"
        cells = []
        for cell in (c for c in elements(row) if c["name"] == "Cellule"):
            merged = attributes(cell)
            spans = "".join(
                f' {html}="{merged[dila]}"'
                for dila, html in (("fusionHorizontale", "colspan"), ("fusionVerticale", "rowspan"))
                if merged.get(dila, "1") not in {"", "1"}
            )
            cells.append(f"<{cell_tag}{spans}>{_children(cell, 6)}</{cell_tag}>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    caption = plain(child(element, "Titre"))
    return f"<table>{f'<caption>{escape(caption)}</caption>' if caption else ''}{''.join(rows)}</table>"


def _service(element: Element, level: int) -> str:
    """« Service en ligne : <a>titre</a> », « Formulaire cerfa n° … : <a>titre</a> », then its notes and its annexes
    (another form, the same service for another case), each a line of its own."""
    return "".join(
        f"<p>{escape(entry[0])} : {_link(entry[2], entry[1])}</p>"
        if isinstance(entry, tuple)
        else _children(entry, level)
        for entry in service_entries(element)
    )


def _office(element: Element) -> str:
    """The office to contact: its name as a link to its directory page, what for, then its address and hours."""
    name, url = office_link(element)
    link = _link(url, name)
    texte = child(element, "Texte")
    return f"<p>Où s'adresser : {link}</p>{_children(texte, _IN_CARD) if texte else ''}"


def _link(url: str, text: str) -> str:
    return f'<a href="{escape(url)}">{escape(text)}</a>' if url else escape(text)


def _site_links(titles: list[str], separator: str = "") -> str:
    """A site's own links (the breadcrumb, « Voir aussi »), which lead to its other pages."""
    return separator.join(f'<a href="#">{escape(title)}</a>' for title in titles if title)


# Each page form's writer, by its pages' suffix
PAGE_WRITERS: dict[str, Callable[[dict[str, Any]], str]] = {".html": fiche_page, ".md": fiche_markdown}
