"""Check that every relative link of README.md and docs/*.md resolves.

    python scripts/check_docs_links.py        # exit 1 and one line per broken link

A link counts when it is a Markdown link or image (`[text](target)`, `![alt](target)`, `[label]: target`) or an
HTML `src=` / `href=`, outside code blocks and inline code. External links (`https:`, `mailto:`…) are skipped. The
target file must exist; a `#fragment` on a Markdown file (or alone, for the same file) must name one of its headings,
slugged as GitHub does.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import unquote

REPO_ROOT = Path(__file__).resolve().parents[1]

FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
INLINE_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
REFERENCE_LINK = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
HTML_LINK = re.compile(r"""<[a-zA-Z][^>]*?\s(?:src|href)\s*=\s*["']([^"']+)["']""")
HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
HTML_ANCHOR = re.compile(r"""<[a-zA-Z][^>]*?\s(?:id|name)\s*=\s*["']([^"']+)["']""")
EXTERNAL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")


def documents() -> list[Path]:
    return [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]


def without_code(text: str) -> str:
    """The text with fenced blocks and inline code blanked (line numbers kept)."""
    text = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return INLINE_CODE.sub(lambda m: " " * len(m.group(0)), text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: plain text, lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = without_code(path.read_text(encoding="utf-8"))
    found: set[str] = set(HTML_ANCHOR.findall(text))
    seen: dict[str, int] = {}
    for heading in HEADING.findall(text):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(text: str) -> list[tuple[int, str]]:
    """(line number, target) of every link outside code."""
    text = without_code(text)
    found = []
    for pattern in (INLINE_LINK, REFERENCE_LINK, HTML_LINK):
        for match in pattern.finditer(text):
            found.append((text.count("\n", 0, match.start(1)) + 1, match.group(1)))
    return sorted(found)


def problems(path: Path) -> list[str]:
    errors = []
    cache: dict[Path, set[str]] = {}
    for line, target in links(path.read_text(encoding="utf-8")):
        if EXTERNAL.match(target):
            continue
        file_part, _, fragment = target.partition("#")
        file_part = unquote(file_part.split("?", 1)[0])
        resolved = (path.parent / file_part).resolve() if file_part else path
        where = f"{path.relative_to(REPO_ROOT)}:{line}: {target}"
        if not resolved.exists():
            errors.append(f"{where}: no such file")
            continue
        if fragment and resolved.is_file() and resolved.suffix == ".md":
            if resolved not in cache:
                cache[resolved] = anchors(resolved)
            if unquote(fragment) not in cache[resolved]:
                errors.append(f"{where}: no heading #{fragment} in {resolved.relative_to(REPO_ROOT)}")
    return errors


def main() -> int:
    pages = documents()
    errors = [error for page in pages for error in problems(page)]
    for error in errors:
        print(error)
    total = sum(len(links(page.read_text(encoding="utf-8"))) for page in pages)
    print(f"{len(pages)} pages, {total} links, {len(errors)} broken")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
