"""A service-public.fr fiche in its xml-js JSON form, read for the page writers (eval/fiche_pages.py, HTML, and
eval/fiche_markdown.py, Markdown): which elements a page shows and where, and their text. Apart from
`ingest/dila.py`: the evaluation does not share the code it judges."""

from __future__ import annotations

import json
from typing import Any

Element = dict[str, Any]

HEADED = {"Situation", "Chapitre", "SousChapitre", "Cas"}
# Groups of alternatives (situations, cases): tabs when their `affichage` is « onglet », a choice otherwise
ALTERNATIVES = {"ListeSituations", "BlocCas"}
# Read within the sentence around them
INLINE_TAGS = {
    "LienInterne", "LienExterne", "LienIntra", "MiseEnEvidence", "Expression", "Valeur", "Exposant", "Indice",
    "Citation", "TermeEtranger", "Variable",
}  # fmt: skip
BOXES = {"ANoter": "À noter", "ASavoir": "À savoir", "Attention": "Attention", "Rappel": "Rappel"}
# Metadata, glossary, legal references and conditions: not shown on the page
HIDDEN = {
    "SurTitre", "Audience", "Canal", "Cible", "Theme", "SousThemePere", "DossierPere", "SousDossierPere", "Reference",
    "Abreviation", "Definition", "PourEnSavoirPlus", "Condition", "TitreAlternatif", "Source", "Credits",
    "QuestionReponse", "CommentFaireSi", "RechercheGuidee",
}  # fmt: skip
# Shown elsewhere on the page than where they stand: the introduction under the title, the breadcrumb and « Voir aussi »
PLACED = {"Introduction", "FilDAriane", "VoirAussi"}
# Shown after the body, each under a heading of its own, as on service-public.fr
GROUPED = {
    "ServiceEnLigne": "Services en ligne et formulaires",
    "OuSAdresser": "Où s'adresser",
    "LienExterneCommente": "Liens utiles",
    "Avertissement": "Avertissement",
}
# An online service's label by its type; any other type is « Service en ligne »
_SERVICE_LABELS = {"Formulaire", "Simulateur", "Outil de recherche", "Modèle de document"}
_NUMBER = "number"  # the key of a situation's or case's number on its page (`_numbered`)


def publication(data: dict[str, Any]) -> Element:
    """The fiche's publication, its situations and cases numbered (`_numbered`)."""
    return _numbered(next(c for c in data["children"] if c.get("name") == "Publication"))


def _numbered(fiche: Element) -> Element:
    """A copy of the publication whose situations and cases are numbered in reading order: the same case may stand
    word for word under two situations, and each tab or choice must control its own panel."""
    copy = json.loads(json.dumps(fiche))
    pending, number = [copy], 0
    while pending:
        element = pending.pop(0)
        if element.get("name") in HEADED:
            number += 1
            element[_NUMBER] = number
        pending.extend(elements(element))
    return copy


def alternatives(element: Element) -> tuple[list[Element], list[str]]:
    """The situations or cases of a group, and the number `_numbered` gave each, unique on the page."""
    found = [c for c in elements(element) if c["name"] in HEADED]
    return found, [str(c[_NUMBER]) for c in found]


def content(element: Element) -> list[list[Element] | Element]:
    """An element's content in reading order: each run of text and inline elements as one list (a paragraph), each
    other element as itself (a block)."""
    out: list[list[Element] | Element] = []
    for node in element.get("children") or []:
        if node.get("type") == "element" and node["name"] not in INLINE_TAGS:
            out.append(node)
        elif out and isinstance(out[-1], list):
            out[-1].append(node)
        else:
            out.append([node])
    return out


def service_entries(element: Element) -> list[tuple[str, str, str] | Element]:
    """An online service as a page shows it, in reading order: its line (label, title, address), its notes
    (« Introduction », « Texte ») as elements, its annexes' entries (another form, the same service for another case)
    and its notices' lines (« Notice », title, address)."""
    entries: list[tuple[str, str, str] | Element] = [
        (_service_label(element), plain(child(element, "Titre")), _service_url(element))
    ]
    for part in elements(element):
        if part["name"] == "ServiceEnLigneAnnexe":
            entries += service_entries(part)
        elif part["name"] == "NoticeLiee":
            entries.append(("Notice", plain(part), attributes(part).get("URL", "")))
        elif part["name"] in {"Introduction", "Texte"}:
            entries.append(part)
    return entries


def _service_label(element: Element) -> str:
    """« Service en ligne », « Formulaire cerfa n° … », « Simulateur »…: what an online service is, by its type."""
    shown = attributes(element)
    kind = shown.get("type", "")
    if kind == "Formulaire" and shown.get("numerocerfa"):
        return f"Formulaire cerfa n° {shown['numerocerfa']}"
    return kind if kind in _SERVICE_LABELS else "Service en ligne"


def _service_url(element: Element) -> str:
    web = child(element, "LienWeb")
    return attributes(element).get("URL") or (attributes(web).get("URL", "") if web else "")


def office_link(element: Element) -> tuple[str, str]:
    """An office's name (with what it is for) and the address of its directory page."""
    web = child(element, "RessourceWeb")
    name, what = plain(child(element, "Titre")), plain(child(element, "Complement"))
    return (f"{name} ({what})" if what else name), (attributes(web).get("URL", "") if web else "")


def attributes(element: Element) -> dict[str, str]:
    return element.get("attributes") or {}


def elements(element: Element) -> list[Element]:
    return [c for c in element.get("children") or [] if c.get("type") == "element"]


def untitled(element: Element) -> list[Element]:
    """A section's or box's elements but its title (« Titre »), which a page shows as its heading or label."""
    return [c for c in elements(element) if c["name"] != "Titre"]


def child(element: Element, name: str) -> Element | None:
    return next((c for c in elements(element) if c["name"] == name), None)


def plain(element: Element | None) -> str:
    """All the text under an element, on one line."""
    if element is None:
        return ""
    if element.get("type") in {"text", "cdata"}:
        return str(element.get(element["type"], ""))
    return " ".join(" ".join(plain(c) for c in element.get("children") or []).split())
