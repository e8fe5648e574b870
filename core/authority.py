"""The authority's name in French sentences: its article, « de la … », « du … », « d'… ».

Read by the model's prompt (bot/answer/prompts.py) and by every text people read (bot/api/display.py).
"""

from __future__ import annotations

from core.settings import Authority
from core.text import fold

# The first word of a name (folded) decides its article: « la Communauté… », « le Département… ».
# Another first word gets none (« d'Arras », « de Lens »): write the article in the name
# (« le CCAS de Lens ») where one is wanted; standing alone (a title) the name is shown without it.
FEMININE_HEADS = frozenset(
    {
        "agence", "agglomeration", "caisse", "cite", "collectivite", "commune", "communaute", "direction",
        "eurometropole", "intercommunalite", "maison", "mairie", "metropole", "municipalite", "prefecture",
        "province", "region", "ville",
    }
)  # fmt: skip
MASCULINE_HEADS = frozenset(
    {
        "centre", "conseil", "departement", "etablissement", "grand", "office", "pays", "pole", "service",
        "syndicat", "territoire",
    }
)  # fmt: skip
_ARTICLES = {"la": "f", "le": "m", "les": "p", "l'": "e"}
_VOWELS = frozenset("aeiouy")


def _starts_with_vowel(word: str) -> bool:
    return fold(word[:1]) in _VOWELS


def _gender_and_bare(name: str) -> tuple[str, str]:
    """("f" | "m" | "p" plural | "e" elided, gender unknown | "" no article, the name without its article)."""
    name = name.strip()
    lowered = fold(name)
    for article, gender in _ARTICLES.items():
        if lowered.startswith(article if article.endswith("'") else f"{article} "):
            bare = name[len(article) :].lstrip()
            if gender == "e":  # « l'Agglomération » : the head word may still tell the gender
                head = fold(bare.split(maxsplit=1)[0]) if bare else ""
                gender = "f" if head in FEMININE_HEADS else "m" if head in MASCULINE_HEADS else "e"
            return gender, bare
    head = lowered.split(maxsplit=1)[0] if lowered else ""
    return ("f" if head in FEMININE_HEADS else "m" if head in MASCULINE_HEADS else ""), name


def _the(gender: str, word: str) -> str:
    """« la Communauté… », « l'Agglomération… », « le Département… », « Arras »."""
    if gender in ("f", "m", "e") and _starts_with_vowel(word):
        return f"l'{word}"
    return {"f": f"la {word}", "m": f"le {word}", "p": f"les {word}"}.get(gender, word)


def _of(gender: str, word: str) -> str:
    """« de la Communauté… », « du Département… », « de l'Agglomération… », « d'Arras »."""
    if _starts_with_vowel(word) and gender != "p":
        return f"de l'{word}" if gender else f"d'{word}"
    return {"f": f"de la {word}", "m": f"du {word}", "p": f"des {word}"}.get(gender, f"de {word}")


def authority_name(authority: Authority) -> str:
    """The name standing alone (a title, a heading), without a leading article."""
    return _gender_and_bare(authority.name)[1]


def the_authority(authority: Authority, short: bool = False) -> str:
    """« la Communauté Urbaine d'Arras », or with `short` « la CUA »."""
    gender, bare = _gender_and_bare(authority.name)
    return _the(gender, authority.short_name.strip() if short else bare)


def of_authority(authority: Authority, short: bool = False) -> str:
    """« de la Communauté Urbaine d'Arras », or with `short` « de la CUA »."""
    gender, bare = _gender_and_bare(authority.name)
    return _of(gender, authority.short_name.strip() if short else bare)
