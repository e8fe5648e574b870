"""The fiches corpus as a commune's own démarches pages written in Markdown, as a static site (Hugo, Jekyll, a
DSFR starter) keeps them: each fiche as the page's source, to judge the Markdown loader on the structure the fiche
loader reads.

Markdown has no tabs: the situations and cases are headings, as a site's writer makes them. The page keeps the title,
the introduction, the chapters as nested headings, paragraphs, bullet and numbered lists, tables (GitHub's pipe
tables: a merged cell's text stands in each cell it covers, the first row is the header), boxes as quotes under their
bold label (« > **À noter** »), online services, forms and offices as links with their label. A source file holds no
breadcrumb nor « Voir aussi »: the site's templates add them.
"""

from __future__ import annotations

import re
from typing import Any

from eval import fiche_json as fiche
from eval.fiche_json import Element, attributes, child, elements, plain

_IN_CARD = 0  # the level of what an office's card holds: its sections' titles are bold lines, not headings
_ESCAPED = str.maketrans({"*": r"\*", "[": r"\[", "]": r"\]", "`": r"\`"})


def fiche_markdown(data: dict[str, Any]) -> str:
    """A fiche (xml-js JSON) as a commune's Markdown page."""
    page = fiche.publication(data)
    body: list[str] = []
    grouped: dict[str, list[str]] = {}
    for element in elements(page):
        name = element["name"]
        if name in fiche.GROUPED:
            grouped.setdefault(fiche.GROUPED[name], []).extend(_blocks(element, 3))
        elif not (name.startswith("dc:") or name in fiche.HIDDEN or name in fiche.PLACED):
            body.extend(_blocks(element, 2))
    introduction = child(page, "Introduction") or child(page, "dc:description")
    parts = [
        f"# {_text(plain(child(page, 'dc:title')))}",
        *(_children(introduction, 2) if introduction else []),
        *body,
    ]
    for heading, blocks in grouped.items():
        parts += [f"## {heading}", *blocks]
    return "\n\n".join(part for part in parts if part) + "\n"


def _blocks(element: Element, level: int) -> list[str]:
    """An element as Markdown blocks; `level` is the heading level a section under it opens (`_IN_CARD`: none, its
    title is a bold line, as in an office's card)."""
    name = element["name"]
    if name in fiche.HIDDEN:
        return []
    if name in fiche.HEADED:
        title = _text(plain(child(element, "Titre")))
        heading = f"**{title}**" if level == _IN_CARD else f"{'#' * min(level, 6)} {title}"
        inner = level if level == _IN_CARD else level + 1
        return [heading, *(b for c in fiche.untitled(element) for b in _blocks(c, inner))]
    if name == "Paragraphe":
        return [_inline(element)]
    if name == "Liste":
        numbered = attributes(element).get("type") == "numero"
        items = [item for item in elements(element) if item["name"] == "Item"]
        return ["\n".join(_item(item, level, f"{n}." if numbered else "-") for n, item in enumerate(items, 1))]
    if name == "Tableau":
        return _table(element)
    if name in fiche.BOXES:
        label = _text(plain(child(element, "Titre")) or fiche.BOXES[name])
        content = [b for c in fiche.untitled(element) for b in _blocks(c, level)]
        return ["\n>\n".join(_quoted(block) for block in [f"**{label}**", *content])]
    if name == "ServiceEnLigne":
        return _service(element, level)
    if name == "OuSAdresser":
        office, url = fiche.office_link(element)
        texte = child(element, "Texte")
        return [f"Où s'adresser : {_link(url, office)}", *(_children(texte, _IN_CARD) if texte else [])]
    return _children(element, level)  # a group of situations or cases too: Markdown has no tabs, each is a heading


def _item(item: Element, level: int, marker: str) -> str:
    """A list item: its blocks after the marker, each line after the first indented under it, as CommonMark nests."""
    lines = "\n\n".join(_children(item, level)).splitlines() or [""]
    indent = " " * (len(marker) + 1)
    return "\n".join([f"{marker} {lines[0]}", *(indent + line if line else "" for line in lines[1:])])


def _quoted(block: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in block.splitlines())


def _children(element: Element, level: int) -> list[str]:
    """An element's content: runs of text and inline elements as paragraphs, other elements as their blocks."""
    out: list[str] = []
    for part in fiche.content(element):
        if not isinstance(part, list):
            out.extend(_blocks(part, level))
        elif text := _run(part).strip():
            out.append(text)
    return out


def _inline(element: Element) -> str:
    return _run(element.get("children") or []).strip()


def _run(nodes: list[Element]) -> str:
    """Text and inline elements as inline Markdown on one line: links with their address, emphasis. A space an
    inline element holds at its edge stays outside its markup (« remplissez **les 2 conditions** »)."""
    parts = []
    for node in nodes:
        if node.get("type") in {"text", "cdata"}:
            parts.append(_text(str(node.get(node["type"], ""))))
        elif node.get("type") == "element":
            inner = _run(node.get("children") or [])
            parts.append(inner.replace(inner.strip(), _marked(node, inner.strip()), 1) if inner.strip() else inner)
    return re.sub(r"\s+", " ", "".join(parts))


def _marked(node: Element, inner: str) -> str:
    """An inline element's text in its Markdown: a link, emphasis, or the text alone."""
    shown = attributes(node)
    if node["name"] == "LienExterne":
        return f"[{inner}]({shown.get('URL', '')})"
    if node["name"] == "LienInterne":
        return f"[{inner}](/demarches/{shown.get('LienPublication', '')})"
    return f"**{inner}**" if node["name"] == "MiseEnEvidence" else inner


def _table(element: Element) -> list[str]:
    """A pipe table: each merged cell's text repeated in every cell it covers, the first row as the header."""
    grid: dict[tuple[int, int], str] = {}
    rows = [r for r in elements(element) if r["name"] == "Rangée"]
    for r, row in enumerate(rows):
        column = 0
        for cell in (c for c in elements(row) if c["name"] == "Cellule"):
            while (r, column) in grid:
                column += 1
            merged = attributes(cell)
            across, down = (int(merged.get(key) or 1) for key in ("fusionHorizontale", "fusionVerticale"))
            text = " ".join(" ".join(_children(cell, _IN_CARD)).split()).replace("|", r"\|")
            for dr in range(down):
                for dc in range(across):
                    grid[(r + dr, column + dc)] = text
            column += across
    if not grid:
        return []
    width = 1 + max(c for _, c in grid)
    lines = ["| " + " | ".join(grid.get((r, c), "") for c in range(width)) + " |" for r in range(len(rows))]
    lines.insert(1, "|" + "---|" * width)
    caption = plain(child(element, "Titre"))
    return [*([f"**{_text(caption)}**"] if caption else []), "\n".join(lines)]


def _service(element: Element, level: int) -> list[str]:
    """« Service en ligne : [titre](adresse) », « Formulaire cerfa n° … : [titre](adresse) », then its notes and its
    annexes (another form, the same service for another case), each a paragraph of its own."""
    blocks: list[str] = []
    for entry in fiche.service_entries(element):
        if isinstance(entry, tuple):
            blocks.append(f"{_text(entry[0])} : {_link(entry[2], entry[1])}")
        else:
            blocks.extend(_children(entry, level))
    return blocks


def _link(url: str, text: str) -> str:
    return f"[{_text(text)}]({url})" if url else _text(text)


def _text(text: str) -> str:
    """Text as Markdown shows it: the few characters that would open emphasis, a link or code escaped."""
    return text.translate(_ESCAPED)
