"""Typeset the NUMERICAMP white paper (seed 001) into a real multi-page A4 PDF.

The seed is a text export of the CUA's "Livre blanc — NUMERICAMP, Grand Arras,
territoire humain et connecté" (16 avril 2024, Artois Expo), partly in markdown.
This script turns its markup into clean text and lays it out with fpdf2 and the
DejaVu TTF fonts so that French characters survive and pypdf can extract them.

Usage (from the repo root):
    .venv/bin/python scripts/make_whitepaper_pdf.py [--seed PATH] [--out PATH]

The output is deterministic: fixed creation date, and fpdf2 derives the /ID from the content.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SEED = REPO_ROOT / ".." / "shared" / "seeds" / "001_554214e51699818e.txt"
DEFAULT_OUT = REPO_ROOT / "corpus" / "numericamp-livre-blanc-2024.pdf"

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"

TITLE = "Livre blanc — NUMERICAMP, Grand Arras, territoire humain et connecté"
AUTHOR = "Communauté Urbaine d'Arras"
CREATION_DATE = datetime(2024, 4, 16, tzinfo=UTC)

BODY_SIZE = 10.5
LINE_H = 5.0

# Web-export noise that may appear at the very top (or bottom) of the seed.
NOISE_LINES = {"Aucun résultat", "Aller au contenu principal"}

# Main sections of the report: a bold title, starting on a new page.
SECTION_RE = re.compile(
    r"^(TABLE-RONDE \d+|PLÉNIÈRE OUVERTURE|PLÉNIÈRE DE CLÔTURE|ESPACE PARTENAIRES|"
    r"FICHE D'IDENTITÉ|EN CHIFFRES|MERCI|RETOUR EN IMAGES)$"
)
# Entries of the programme and other short titles: bold sub-headings.
SUBHEADING_RE = re.compile(
    r"^(Table-Ronde \d+ :.*|Plénière d'ouverture|Plénière de clôture.*|Atelier :.*|"
    r"\d+(ère|ème) émission TV.*|Intervenants :|Quizz? en direct|Comment démystifier \?)$"
)
# Speaker lines such as "Nicolas DESFACHELLE" or "Thomas BERTANIER & Olivier GUILBAUD".
NAME = r"[A-ZÀ-Ý][a-zà-ÿ]+(?:-[A-ZÀ-Ý][a-zà-ÿ]+)?\s+[A-ZÀ-Ý][A-ZÀ-Ý'-]+(?:\s+[A-ZÀ-Ý][A-ZÀ-Ý'-]+)*"
SPEAKER_RE = re.compile(rf"^{NAME}(?:\s+&\s+{NAME})?$")
# Upper-case line that directly follows a section title (its subtitle).
UPPER_RE = re.compile(r"^[^a-zà-ÿ]*[A-ZÀ-Ý]{3}[^a-zà-ÿ]*$")


@dataclass
class Block:
    kind: str  # cover | section | subtitle | heading | para | item | row | space
    lines: list[str]


def clean_inline(text: str) -> str:
    """Strip the seed's inline markup, keeping the words."""
    text = text.replace("**", "")
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # [text](#) -> text
    text = re.sub(r"\^\{([^}]*)\}", r"\1", text)  # 1^{ère} -> 1ère
    text = text.replace("\u00a0", " ")
    text = re.sub(r"[ \t]+", " ", text)
    return text.strip()


def parse(seed_text: str) -> list[Block]:
    raw_lines = seed_text.splitlines()
    # Drop web noise at the very top and bottom.
    while raw_lines and (not raw_lines[0].strip() or raw_lines[0].strip() in NOISE_LINES):
        raw_lines.pop(0)
    while raw_lines and (not raw_lines[-1].strip() or raw_lines[-1].strip() in NOISE_LINES):
        raw_lines.pop()

    # Group into paragraphs separated by blank lines.
    groups: list[list[str]] = []
    current: list[str] = []
    for line in raw_lines:
        if line.strip():
            current.append(line)
        elif current:
            groups.append(current)
            current = []
    if current:
        groups.append(current)

    blocks: list[Block] = []

    # Cover page: everything up to and including "LIVRE BLANC".
    cover: list[str] = []
    while groups:
        g = groups.pop(0)
        cover.extend(clean_inline(x) for x in g)
        if any(clean_inline(x) == "LIVRE BLANC" for x in g):
            break
    blocks.append(Block("cover", cover))

    previous_kind = ""
    for g in groups:
        # "Crédit photos : CUA **RETOUR EN IMAGES**": a caption followed by a title.
        if len(g) == 1:
            m = re.match(r"^(.*?)\s*\*\*([A-ZÀ-Ý' ]+)\*\*\s*$", g[0])
            if m and m.group(1).strip():
                blocks.append(Block("para", [clean_inline(m.group(1))]))
                blocks.append(Block("section", [clean_inline(m.group(2))]))
                previous_kind = "section"
                continue

        lines = [clean_inline(x) for x in g]
        lines = [x for x in lines if x]
        if not lines:
            continue

        if "\t" in "".join(g):
            for raw in g:
                cells = [clean_inline(c) for c in raw.split("\t")]
                blocks.append(Block("row", cells))
            previous_kind = "row"
            continue

        if len(lines) == 1:
            text = lines[0]
            if SECTION_RE.match(text):
                blocks.append(Block("section", [text]))
                previous_kind = "section"
                continue
            if previous_kind in ("section", "subtitle") and UPPER_RE.match(text) and len(text) < 80:
                blocks.append(Block("subtitle", [text]))
                previous_kind = "subtitle"
                continue
            if SUBHEADING_RE.match(text) or SPEAKER_RE.match(text):
                blocks.append(Block("heading", [text]))
                previous_kind = "heading"
                continue

        # Paragraph or list, line by line (list items keep their own lines).
        para: list[str] = []
        for text in lines:
            if re.match(r"^[-•]\s+", text):
                if para:
                    blocks.append(Block("para", para))
                    para = []
                blocks.append(Block("item", [re.sub(r"^[-•]\s+", "", text)]))
            else:
                para.append(text)
        if para:
            blocks.append(Block("para", para))
        previous_kind = blocks[-1].kind
    return blocks


class WhitePaper(FPDF):
    def footer(self) -> None:
        if self.page_no() == 1:
            return
        self.set_y(-13)
        self.set_font("DejaVu", size=8)
        self.set_text_color(110, 110, 110)
        self.cell(
            0,
            5,
            f"NUMERICAMP 2024 — Livre blanc — page {self.page_no()}/{{nb}}",
            align="C",
        )
        self.set_text_color(0, 0, 0)


def render(blocks: list[Block], out: Path) -> int:
    pdf = WhitePaper(orientation="P", unit="mm", format="A4")
    pdf.set_creation_date(CREATION_DATE)
    pdf.set_title(TITLE)
    pdf.set_author(AUTHOR)
    pdf.set_subject("NUMERICAMP, 16 avril 2024, Artois Expo : stratégie numérique de la CUA")
    pdf.set_keywords("NUMERICAMP, Communauté Urbaine d'Arras, numérique, intelligence artificielle")
    pdf.set_creator("scripts/make_whitepaper_pdf.py")
    pdf.set_lang("fr")
    pdf.add_font("DejaVu", "", str(FONT_REGULAR))
    pdf.add_font("DejaVu", "B", str(FONT_BOLD))
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=18)
    width = pdf.epw

    for block in blocks:
        if block.kind == "cover":
            pdf.add_page()
            pdf.set_y(70)
            for i, text in enumerate(block.lines):
                if i == 0:
                    pdf.set_font("DejaVu", "B", 30)
                    pdf.multi_cell(width, 14, text, align="C", new_x="LMARGIN", new_y="NEXT")
                elif text == "LIVRE BLANC":
                    pdf.ln(20)
                    pdf.set_font("DejaVu", "B", 24)
                    pdf.multi_cell(width, 12, text, align="C", new_x="LMARGIN", new_y="NEXT")
                else:
                    pdf.set_font("DejaVu", "B" if i == 1 else "", 14 if i == 1 else 13)
                    pdf.multi_cell(width, 8, text, align="C", new_x="LMARGIN", new_y="NEXT")
            pdf.set_y(-45)
            pdf.set_font("DejaVu", "", 11)
            pdf.multi_cell(
                width,
                6,
                "Communauté Urbaine d'Arras",
                align="C",
                new_x="LMARGIN",
                new_y="NEXT",
            )
            pdf.add_page()
        elif block.kind == "section":
            text = block.lines[0]
            if text.startswith(("TABLE-RONDE", "PLÉNIÈRE")) or pdf.get_y() > 200:
                pdf.add_page()
            else:
                pdf.ln(6)
            pdf.set_font("DejaVu", "B", 16)
            pdf.multi_cell(width, 8, text, align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        elif block.kind == "subtitle":
            pdf.set_font("DejaVu", "B", 13)
            pdf.multi_cell(width, 7, block.lines[0], align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        elif block.kind == "heading":
            if pdf.get_y() > pdf.h - 45:  # keep a heading with its first lines
                pdf.add_page()
            pdf.ln(2.5)
            pdf.set_font("DejaVu", "B", 11.5)
            pdf.multi_cell(width, 6, block.lines[0], align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif block.kind == "item":
            pdf.set_font("DejaVu", "", BODY_SIZE)
            pdf.set_x(pdf.l_margin + 4)
            pdf.multi_cell(
                width - 4,
                LINE_H,
                "• " + block.lines[0],
                align="L",
                new_x="LMARGIN",
                new_y="NEXT",
            )
            pdf.ln(0.8)
        elif block.kind == "row":
            pdf.set_font("DejaVu", "", BODY_SIZE)
            cells = block.lines
            cw = min(45.0, width / max(1, len(cells)))
            for c in cells:
                pdf.cell(cw, LINE_H + 0.6, c, border=1)
            pdf.ln(LINE_H + 0.6)
        else:  # para
            pdf.set_font("DejaVu", "", BODY_SIZE)
            for text in block.lines:
                pdf.multi_cell(width, LINE_H, text, align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2.2)

    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))
    return pdf.pages_count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=Path, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    seed = args.seed
    if not seed.is_absolute() and not seed.exists():
        seed = REPO_ROOT / seed  # relative paths may also be given from the repo root
    blocks = parse(seed.read_text(encoding="utf-8"))
    pages = render(blocks, args.out)
    print(f"{args.out}: {pages} pages")


if __name__ == "__main__":
    main()
