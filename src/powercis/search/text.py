"""Text rules shared by the index and the query: one normalisation, so that what is stored and what is typed compare.

Both sides go through :func:`normalize` (Unicode NFKC, so full-width digits and
letters typed on a Chinese keyboard equal their half-width forms; lower case; no
control characters; single spaces).  The index keeps the searchable fields of an
account in one ``search_text``, each field wrapped in :data:`SEP`: a query term never
contains that character, so a substring match never spans two fields, and "equals a
field" (``SEP + term + SEP``) and "starts a field" (``SEP + term``) are plain
substring matches.

Trigram indexes (pg_trgm, SQLite FTS5) cannot serve terms shorter than three
characters.  Two-character terms that contain a Chinese (or any non-ASCII) character —
a name like 张伟, a road like 幸福 — are served by the character bigrams of names and
addresses kept in ``keys`` (:func:`bigrams`); two ASCII characters only match the start
of an account number.  ``keys`` also holds the last four digits of each phone
number (:func:`phone_tail`; never the whole number) and the meter asset numbers, for
exact lookups.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: separates the fields inside ``search_text``; :func:`normalize` removes it from any input
SEP = "\x1f"
#: shortest term that is searched at all
MIN_TERM = 2
#: terms after this many are ignored (each one is a condition of the query)
MAX_TERMS = 5
#: a longer term is cut to this length
MAX_TERM_LENGTH = 40
#: at most this many characters of a query are read
MAX_QUERY_LENGTH = 100

#: white space and control characters (SEP among them), replaced by one space
_BLANKS = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")
_SPLIT = re.compile(r"[\s,;、，；]+")
_NON_DIGITS = re.compile(r"\D")
_ASCII_WORD = re.compile(r"[0-9a-z]+")


def normalize(value: str | None) -> str:
    """NFKC, lower case, control characters removed, runs of white space as one space, trimmed."""
    if not value:
        return ""
    if not value.isascii():  # NFKC leaves ASCII alone; most account and meter numbers skip it
        value = unicodedata.normalize("NFKC", value)
    return _BLANKS.sub(" ", value.lower()).strip()


def is_ascii_word(term: str) -> bool:
    """Digits and latin letters only: such a term is an account or asset number, never a bigram key."""
    return bool(_ASCII_WORD.fullmatch(term))


def bigrams(*values: str) -> set[str]:
    """The two-character pieces of normalised text that a two-character query may ask for.

    Only pieces with a non-ASCII character (Chinese, mostly) and no space are kept: a
    two-character ASCII term matches the start of an account number instead.
    """
    pairs = {value[i:i + 2] for value in values if not value.isascii() for i in range(len(value) - 1)}
    return {pair for pair in pairs if not pair.isascii() and " " not in pair}


def phone_tail(number: str | None) -> str:
    """The last four digits of a phone number ('' when it has fewer than four)."""
    digits = _NON_DIGITS.sub("", number or "")
    return digits[-4:] if len(digits) >= 4 else ""


def joined(*normalized_fields: str) -> str:
    """``search_text``: fields already normalised, each wrapped in :data:`SEP`."""
    return SEP + SEP.join(normalized_fields) + SEP


@dataclass(frozen=True)
class Query:
    """A query split into terms: ``terms`` are searched, ``ignored`` were too short to search."""

    text: str
    terms: tuple[str, ...]
    ignored: tuple[str, ...]


def parse(raw: str | None) -> Query:
    """Split the typed text into distinct normalised terms; all of them must match."""
    text = normalize((raw or "")[:MAX_QUERY_LENGTH])
    terms: list[str] = []
    ignored: list[str] = []
    for piece in _SPLIT.split(text):
        if not piece:
            continue
        piece = piece[:MAX_TERM_LENGTH]
        if len(piece) < MIN_TERM:
            ignored.append(piece)
        elif piece not in terms:
            (terms if len(terms) < MAX_TERMS else ignored).append(piece)
    return Query(text, tuple(terms), tuple(ignored))
