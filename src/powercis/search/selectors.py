"""The archive search: one function, :func:`search`, behind the page, the top-bar box and the API.

A query is split into terms (:func:`powercis.search.text.parse`); an account is found
when every term matches it, and a term matches when it is found in the account number,
the account or customer name, the service address or the asset number of a meter
installed now — or, for exactly four digits, equals the last four digits of one of the
customer's phone numbers.  How each term is looked up depends on its length and on
the database (docs/decisions/0007-archive-search.md):

======================  ===========================================  ==========================================
term                    PostgreSQL                                   SQLite
======================  ===========================================  ==========================================
3+ characters           ``search_text LIKE '%t%'`` (pg_trgm GIN)     FTS5 trigram ``MATCH '"t"'``
4 digits, also          bigram/tail GIN: ``keys`` has ``t``          FTS5 unicode61 over ``keys``
2 characters, Chinese   bigram/tail GIN: ``keys`` has ``t``          FTS5 unicode61 over ``keys``
2 ASCII characters      ``account_key`` range (btree)               ``account_key`` range (btree)
======================  ===========================================  ==========================================

Results are ranked: a term equal to a whole field (account number, meter asset number,
name) or to a phone tail first, then a field starting with a term, then the rest; by
account number within a rank.  The data scope is part of the same query.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _

from powercis.core import authz
from powercis.core.models import Org
from powercis.customers.models import AccountStatus
from powercis.customers.selectors import VIEW_PERMS

from . import text
from .models import AccountSearchEntry

#: holding any of these over an org lets one find its accounts
SEARCH_PERMS = (*VIEW_PERMS, "metering.view")
#: most results a caller may ask for
MAX_LIMIT = 200

#: the fields a hit may have matched on, in display order
FIELD_LABELS = {
    "account_no": _("Account number"),
    "name": _("Name"),
    "customer_name": _("Customer"),
    "address": _("Address"),
    "meter": _("Meter"),
    "phone": _("Phone (last four digits)"),
}
RANK_LABELS = {0: _("Exact match"), 1: _("Starts with"), 2: _("Contains")}


@dataclass(frozen=True)
class Hit:
    """One found account as the page and the API show it: from the index row alone, phones masked."""

    account_id: int
    account_no: str
    name: str
    customer_name: str
    address: str
    status: str
    status_label: str
    org_id: int
    org_name: str
    meters: list[str]
    phones: list[str]
    rank: int
    matched: tuple[str, ...]

    @property
    def matched_labels(self) -> list[str]:
        return [str(FIELD_LABELS[f]) for f in self.matched]

    @property
    def rank_label(self) -> str:
        return str(RANK_LABELS[self.rank])


@dataclass(frozen=True)
class SearchResult:
    """The hits of a query, with the query as parsed (its terms, and what was ignored) so the page can explain it."""

    query: text.Query
    hits: list[Hit] = field(default_factory=list)
    #: more accounts match than were returned: the user should add a term
    more: bool = False

    @property
    def searched(self) -> bool:
        """False when the query had no term long enough to search."""
        return bool(self.query.terms)


def searchable(user) -> bool:
    """May this user use the archive search at all (anywhere)?"""
    return any(authz.authorize(user, perm) for perm in SEARCH_PERMS)


# --- term conditions ----------------------------------------------------------------


def _fts(table: str, term: str) -> Q:
    """Rows whose ``table`` (an FTS5 table over the index) matches the term as one phrase."""
    phrase = '"' + term.replace('"', '""') + '"'
    return Q(account_id__in=RawSQL(f"SELECT rowid FROM {table} WHERE {table} MATCH %s", [phrase]))


def _has_key(term: str) -> Q:
    """Rows whose ``keys`` contain the term as one word (a bigram, a phone tail or a meter asset number)."""
    if connection.vendor == "postgresql":
        return Q(RawSQL("string_to_array(keys, ' ') @> ARRAY[%s]::text[]", [term], output_field=BooleanField()))
    return _fts("search_entry_keys", term)


def _account_prefix(term: str) -> Q:
    """Account numbers starting with the term, as a range the btree index can walk in order.

    In code-point order (SQLite, PostgreSQL with a C or C.UTF-8 collation) the range is
    exactly the prefix; :func:`_ranked` drops anything else a linguistic collation lets
    in.  A ``LIKE`` beside the range would make the planner misjudge the rows it keeps
    and sort them all instead of walking the index.
    """
    return Q(account_key__gte=term, account_key__lt=term[:-1] + chr(ord(term[-1]) + 1))


def _substring(term: str) -> Q:
    if connection.vendor == "postgresql":
        return Q(search_text__contains=term)  # LIKE '%t%': the trigram index
    return _fts("search_entry_fts", term)


def term_condition(term: str) -> Q:
    """When one term matches an index row (see the module's table)."""
    if len(term) >= 3:
        condition = _substring(term)
        if len(term) == 4 and term.isdigit():
            condition |= _has_key(term)
        return condition
    if term.isascii():
        return _account_prefix(term) & Q(account_key__startswith=term)
    condition = _has_key(term)
    if connection.vendor != "postgresql":
        # unicode61 splits a key such as "(幸" at the bracket; the text check keeps the match exact
        condition &= Q(search_text__contains=term)
    return condition


def _exact(term: str) -> Q:
    """The term equals a whole field: the account number, a meter asset number or phone tail, a name, an address.

    For text the field separators go into the pattern: ``SEP 张伟 SEP`` has trigrams
    of its own (pg_trgm pads the word; FTS5 indexes the separator itself), so even a
    two-character name is found through the trigram index.
    """
    if text.is_ascii_word(term):
        return Q(account_key=term) | _has_key(term)
    return _substring(f"{text.SEP}{term}{text.SEP}")


def _account_start(term: str) -> Q | None:
    return _account_prefix(term) if text.is_ascii_word(term) else None


def _field_start(term: str) -> Q:
    return _substring(f"{text.SEP}{term}")


def _led_by(lead, terms: tuple[str, ...]) -> Q:
    """Rows where ``lead(t)`` holds for some term t and every other term matches.

    ``lead(t)`` implies that t itself matches, so t's own condition is left out: the
    database then drives the query from the lead's selective index (an account number
    by btree, a meter or phone tail by the keys index) instead of intersecting it with
    the trigram index of a long digit string, which costs tens of milliseconds.
    """
    condition = Q(pk__in=[])
    for term in terms:
        led = lead(term)
        if led is None:
            continue
        for other in terms:
            if other != term:
                led &= term_condition(other)
        condition |= led
    return condition


def scoped_entries(user) -> QuerySet:
    """The index rows of the accounts in the user's data scope."""
    return authz.restrict_any(AccountSearchEntry.objects.all(), user, SEARCH_PERMS, path_field="org_path")


# --- the search ---------------------------------------------------------------------


def _matched_fields(row: dict, terms: tuple[str, ...]) -> tuple[str, ...]:
    """Which fields of a found row contain a term (for highlighting)."""
    fields = {
        "account_no": [row["account_no"]],
        "name": [row["name"]],
        "customer_name": [row["customer_name"]],
        "address": [row["address"]],
        "meter": row["meters"],
    }
    found = [name for name, values in fields.items()
             if any(term in text.normalize(v) for v in values for term in terms)]
    tails = set(row["keys"].split())
    if any(len(t) == 4 and t.isdigit() and t in tails for t in terms):
        found.append("phone")
    return tuple(found)


COLUMNS = ("account_id", "account_no", "account_key", "name", "customer_name", "address", "status", "org_id",
           "meters", "phones", "keys", "search_text")
#: at most this many matching rows are read in no order; fewer means they are all the matches
CANDIDATES = 200
#: an account or meter number this long that matches exactly names the account: nothing else is looked for
IDENTIFIER_LENGTH = 8


def tiers(user, terms: tuple[str, ...]) -> list[tuple[int, QuerySet, bool]]:
    """The ranked queries: (rank, matching rows, whether read in account-number order).

    0: a term equals a field; 1: an account number starts with a term (read along the
    btree index), then any field starts with a term; 2: every match.
    """
    rows = scoped_entries(user)
    every = Q()
    for term in terms:
        every &= term_condition(term)
    return [
        (0, rows.filter(_led_by(_exact, terms)), False),
        (1, rows.filter(_led_by(_account_start, terms)), True),
        (1, rows.filter(_led_by(_field_start, terms)), False),
        (2, rows.filter(every), False),
    ]


def rank_of(row: dict, terms: tuple[str, ...]) -> int:
    """The rank the tiers give a matching row (0 exact, 1 a field starts with a term, 2 contains), worked out here."""
    fields = row["search_text"].strip(text.SEP).split(text.SEP)
    keys = set(row["keys"].split())
    if any(t == row["account_key"] or t in keys if text.is_ascii_word(t) else t in fields for t in terms):
        return 0
    return 1 if any(f.startswith(t) for f in fields for t in terms) else 2


def _identified(rows: list[dict], terms: tuple[str, ...]) -> bool:
    """Does a row carry, as its account number or a meter's asset number, a long number that was typed whole?"""
    numbers = {t for t in terms if text.is_ascii_word(t) and len(t) >= IDENTIFIER_LENGTH}
    return any(r["account_key"] in numbers or numbers & {text.normalize(m) for m in r["meters"]} for r in rows)


def _sorted(rows) -> list[dict]:
    return sorted(rows, key=lambda r: (r["rank"], r["account_key"], r["account_id"]))


def _ranked(user, terms: tuple[str, ...], limit: int) -> list[dict]:
    """Up to ``limit + 1`` matching rows, best first, each with its ``rank``.

    Every query is limited in SQL, so that a term found in half the archive ("临江县")
    costs what a rare one does, and none has an ORDER BY the planner could answer by
    walking the account-number index through a million rows when it misjudges how many
    match — except the account-number prefix, which is meant to be read that way.

    1. When a term is a number, its exact matches (btree, keys index) and the account
       numbers starting with it (btree, in order) are read first: they are cheap, and a
       whole account or meter number names the account, which ends the search.
    2. Up to :data:`CANDIDATES` matches are read in no order.  Fewer than that are all
       the matches: they are ranked here (:func:`rank_of`) and sorted.
    3. Otherwise the tiers not read yet follow (exact matches, fields starting with a
       term) and the rest is filled from step 2.
    """
    plan = tiers(user, terms)
    cap = max(CANDIDATES, limit + 1)
    found: list[dict] = []

    def read(rank: int, queryset, ordered: bool) -> None:
        need = limit + 1 - len(found)
        if need <= 0:
            return
        if found:
            queryset = queryset.exclude(account_id__in=[r["account_id"] for r in found])
        if ordered:
            rows = [r for r in queryset.order_by("account_key", "account_id").values(*COLUMNS)[:need]
                    if any(r["account_key"].startswith(t) for t in terms if text.is_ascii_word(t))]
        else:
            rows = _sorted(dict(r, rank=rank) for r in queryset.values(*COLUMNS)[:cap])[:need]
        found.extend(dict(r, rank=rank) for r in rows)

    numeric = any(text.is_ascii_word(t) for t in terms)
    if numeric:
        read(*plan[0])
        if _identified(found, terms):
            return found
        read(*plan[1])
        if len(found) > limit:
            return found
    candidates = list(plan[3][1].values(*COLUMNS)[:cap])
    if len(candidates) < cap:
        return _sorted(dict(r, rank=rank_of(r, terms)) for r in candidates)[:limit + 1]
    for tier in ([plan[2]] if numeric else [plan[0], plan[1], plan[2]]):
        read(*tier)
    seen = {r["account_id"] for r in found}
    rest = _sorted(dict(r, rank=2) for r in candidates if r["account_id"] not in seen)
    return found + rest[:max(0, limit + 1 - len(found))]


def search(user, q: str | None, limit: int = 50) -> SearchResult:
    """The accounts in the user's data scope that match every term of ``q``, best first, at most ``limit``."""
    query = text.parse(q)
    if not query.terms:
        return SearchResult(query)
    limit = max(1, min(int(limit), MAX_LIMIT))
    rows = _ranked(user, query.terms, limit)
    more = len(rows) > limit
    rows = rows[:limit]
    orgs = dict(Org.objects.filter(pk__in={r["org_id"] for r in rows}).values_list("pk", "name"))
    statuses = dict(AccountStatus.choices)
    hits = [
        Hit(account_id=r["account_id"], account_no=r["account_no"], name=r["name"], customer_name=r["customer_name"],
            address=r["address"], status=r["status"], status_label=str(statuses.get(r["status"], r["status"])),
            org_id=r["org_id"], org_name=orgs.get(r["org_id"], ""), meters=list(r["meters"]),
            phones=list(r["phones"]), rank=r["rank"], matched=_matched_fields(r, query.terms))
        for r in rows
    ]
    return SearchResult(query, hits, more)
