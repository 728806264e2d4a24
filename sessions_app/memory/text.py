"""
Words, stems and trigrams: the text handling both search engines share, so PostgreSQL and
SQLite rank the same candidates the same way. Pure functions, no Django.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

WORD_RE = re.compile(r"[a-z0-9][a-z0-9]*")
MAX_TERM = 64


def _split(value: str) -> frozenset[str]:
    return frozenset(value.split())


STOPWORDS = _split(
    """a about after again all also am an and any are as at be been before being but by can
    cannot could did do does doing for from get gets getting got had has have he her hers him
    his how i if in into is it its just keep keeps me my no not now of on once only or our out
    over please she since so some still than that the their them then there these they this
    those to too up us very was we were what when where which while who why will with would
    you your yesterday today morning afternoon week user users customer client anymore
    unable trying try tried issue issues problem problems error errors work works working
    worked fail fails failing failed broken help new one two three t s don doesn didn isn
    wasn won can't ve ll re d m"""
)


def words(text: str) -> list[str]:
    """Lower-case words of ``text`` (letters and digits), in order, stopwords included."""
    return WORD_RE.findall((text or "").lower().replace("'", ""))


def keywords(text: str) -> list[str]:
    """The words of ``text`` that carry meaning: no stopwords, no one-letter words."""
    return [w[:MAX_TERM] for w in words(text) if len(w) > 1 and w not in STOPWORDS]


def stem(word: str) -> str:
    """
    A small suffix stripper: folds plurals and -ing/-ed/-es forms so "prompts" matches
    "prompting". Deliberately conservative; both engines' own stemmers do the rest.
    """
    if len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
    elif len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    elif len(word) > 4 and (word.endswith("ed") or (word.endswith("es") and word[-3] in "sxz")):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]  # "mapped" → "mapp" → "map"
    return word


def stems(text: str) -> set[str]:
    return {stem(word) for word in keywords(text)}


def distinct_terms(texts: Iterable[str]) -> list[str]:
    """The distinct keywords of the texts, sorted: what a document adds to the lexicon."""
    found: set[str] = set()
    for text in texts:
        found.update(keywords(text))
    return sorted(found)


def trigrams(word: str) -> set[str]:
    """The trigrams ``pg_trgm`` takes from a word (padded: two spaces before, one after)."""
    padded = f"  {word.lower()} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def similarity(first: str, second: str) -> float:
    """``pg_trgm``'s ``similarity()``: shared trigrams over all trigrams of both words."""
    a, b = trigrams(first), trigrams(second)
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
