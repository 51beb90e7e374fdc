"""Keeping the search index in step with the archive: refresh the accounts a signal names, or rebuild everything.

Every path is set-based.  The rows are computed in Python by the same :mod:`.text`
rules the query uses, from three reads of the archive — accounts with their customers,
the contacts' phone numbers, the meters installed now — and written one statement per
batch: an upsert for a refresh, PostgreSQL ``COPY`` (or a multi-row insert on SQLite)
for a rebuild.

A refresh reads the named accounts with three queries per batch.  A rebuild reads each
of the three once, as streams ordered by account id, and merges them batch by batch:
three scans of the archive instead of three queries per ten thousand accounts.  A
rebuild of everything detaches the text indexes while it loads and builds them once
afterwards (:func:`_detach_text_indexes`).  A rebuild is one transaction; on PostgreSQL
a rebuild of everything holds the table's exclusive lock until it commits, so searches
wait for it (a minute or two at a million accounts, docs/performance.md).
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby

from django.db import connection, transaction
from django.db.models import F

from powercis.core.masking import mask_phone
from powercis.customers.models import Account, CustomerContact
from powercis.metering.models import MeterInstallation

from . import text
from .models import AccountSearchEntry

log = logging.getLogger(__name__)

#: accounts read and written per batch
BATCH = 10_000
#: columns of the index table, in the order rows are built
COLUMNS = ("account_id", "company_id", "org_id", "org_path", "account_no", "account_key", "name", "customer_name",
           "address", "status", "meters", "phones", "search_text", "keys")
_json = json.JSONEncoder(ensure_ascii=False).encode
_ACCOUNT_FIELDS = ("pk", "company_id", "org_id", "org_path", "account_no", "name", "service_address", "status",
                   "customer__name", "customer__mobile", "customer__phone")


def _contact_phones():
    """(account id, mobile, phone) of every contact of each account's customer, by account."""
    return (CustomerContact.objects.annotate(account_id=F("customer__accounts__id"),
                                             account_company_id=F("customer__accounts__company_id"))
            .filter(account_id__isnull=False)
            .values_list("account_id", "mobile", "phone").order_by("account_id", "id"))


def _current_meters():
    """(account id, asset number) of the meters installed now on each account's metering points."""
    return (MeterInstallation.objects.filter(removed_on__isnull=True, metering_point__account__isnull=False)
            .values_list("metering_point__account_id", "meter__asset_no")
            .order_by("metering_point__account_id", "meter__asset_no"))


def build_rows(accounts: list[tuple], phones: dict[int, list[str]], meters: dict[int, list[str]]) -> list[tuple]:
    """Index rows (in :data:`COLUMNS` order) for account tuples read with ``_ACCOUNT_FIELDS``.

    ``phones`` holds the contacts' numbers and ``meters`` the asset numbers, by account id.
    """
    normalize = text.normalize
    rows = []
    for (pk, company_id, org_id, org_path, account_no, name, address, status, customer_name, mobile,
         phone) in accounts:
        numbers = list(dict.fromkeys(p for p in (mobile, phone, *phones.get(pk, ())) if p))
        assets = meters.get(pk, [])
        other_name = customer_name if customer_name != name else ""
        account_key = normalize(account_no)
        names = (normalize(name), normalize(other_name), normalize(address))
        asset_keys = [normalize(a) for a in assets]
        keys = text.bigrams(*names) | {t for t in map(text.phone_tail, numbers) if t} | set(asset_keys)
        rows.append((
            pk, company_id, org_id, org_path, account_no, account_key, name, other_name, address, status,
            _json(assets), _json([mask_phone(n) for n in numbers]),
            text.joined(account_key, *names, *asset_keys), " ".join(sorted(keys)),
        ))
    return rows


def _phones_by_account(rows: Iterable[tuple]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    for account_id, mobile, phone in rows:
        found[account_id].extend(p for p in (mobile, phone) if p)
    return found


def _meters_by_account(rows: Iterable[tuple]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    for account_id, asset_no in rows:
        found[account_id].append(asset_no)
    return found


# --- writing ------------------------------------------------------------------------


def _table() -> str:
    return connection.ops.quote_name(AccountSearchEntry._meta.db_table)


def _insert(rows: list[tuple], *, upsert: bool) -> None:
    """One statement for the batch: COPY (PostgreSQL, new rows) or a multi-row INSERT, as an upsert when asked."""
    if not rows:
        return
    quote = connection.ops.quote_name
    columns = ", ".join(map(quote, COLUMNS))
    if connection.vendor == "postgresql" and not upsert:
        with connection.cursor() as cursor, cursor.copy(f"COPY {_table()} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    update = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in COLUMNS[1:])
    conflict = f" ON CONFLICT (account_id) DO UPDATE SET {update}" if upsert else ""
    placeholders = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"
    # SQLite allows 32,766 bound values per statement: 2,000 rows of 14 columns stay below it
    for start in range(0, len(rows), 2000):
        chunk = rows[start:start + 2000]
        values = ", ".join([placeholders] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {_table()} ({columns}) VALUES {values}{conflict}",
                           [value for row in chunk for value in row])


# --- refresh --------------------------------------------------------------------------


@transaction.atomic
def refresh(account_ids: Iterable[int]) -> int:
    """Rewrite the index rows of these accounts from the archive (and drop rows of accounts that no longer exist).

    Returns the number of rows written.  Rows are upserted in id order, so two
    refreshes of overlapping accounts never deadlock.
    """
    ids = sorted({int(i) for i in account_ids})
    written = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        accounts = list(Account.objects.filter(pk__in=chunk).order_by("pk").values_list(*_ACCOUNT_FIELDS))
        rows = build_rows(accounts, _phones_by_account(_contact_phones().filter(account_id__in=chunk)),
                          _meters_by_account(_current_meters().filter(metering_point__account__in=chunk)))
        _insert(rows, upsert=True)
        found = {row[0] for row in rows}
        gone = [pk for pk in chunk if pk not in found]
        if gone:
            AccountSearchEntry.objects.filter(account_id__in=gone).delete()
        written += len(rows)
    return written


def on_accounts_changed(sender, account_ids=(), **kwargs) -> None:
    """Receiver of ``customers.signals.accounts_changed`` (sent after the change committed).

    A failure here must not turn a committed business change into an error page, so it
    is logged (the index can always be rebuilt with ``powercis search rebuild``).
    """
    try:
        refresh(account_ids)
    except Exception:
        log.exception("search index refresh failed for %d accounts", len(account_ids))


# --- rebuild --------------------------------------------------------------------------


@dataclass(frozen=True)
class RebuildResult:
    """What a rebuild wrote and how long it took (for the command's report and the benchmark)."""

    rows: int
    seconds: float
    #: seconds spent restoring the text indexes after loading (full rebuild), included in ``seconds``
    index_seconds: float = 0.0


class _Stream:
    """An iterator of (account id, …) tuples in account-id order, taken a batch at a time."""

    def __init__(self, rows: Iterator[tuple]):
        self._rows = rows
        self._next: tuple | None = next(rows, None)

    def upto(self, last_id: int) -> Iterator[tuple]:
        """The rows for account ids up to ``last_id`` (skipping any below the batch: accounts outside the rebuild)."""
        while self._next is not None and self._next[0] <= last_id:
            yield self._next
            self._next = next(self._rows, None)


def _batches(accounts, company_id: int | None) -> Iterator[tuple[list[tuple], dict, dict]]:
    """(accounts, phones by account, meters by account), BATCH accounts at a time, from three ordered streams."""
    contacts, meters = _contact_phones(), _current_meters()
    if company_id is not None:
        contacts = contacts.filter(account_company_id=company_id)
        meters = meters.filter(metering_point__account__company_id=company_id)
    phone_rows = _Stream(contacts.iterator(chunk_size=BATCH))
    meter_rows = _Stream(meters.iterator(chunk_size=BATCH))
    account_rows = accounts.order_by("pk").values_list(*_ACCOUNT_FIELDS).iterator(chunk_size=BATCH)
    for _key, group in groupby(enumerate(account_rows), key=lambda item: item[0] // BATCH):
        batch = [row for _i, row in group]
        last = batch[-1][0]
        yield batch, _phones_by_account(phone_rows.upto(last)), _meters_by_account(meter_rows.upto(last))


def _detach_text_indexes(cursor) -> list[str]:
    """Empty the table and drop what maintains its text indexes row by row; return the statements that restore them.

    PostgreSQL: the secondary indexes, created again from their stored definitions
    (``pg_indexes``) once the rows are in.  SQLite: the triggers that feed the FTS5
    tables, created again from ``sqlite_master`` after each FTS5 table has been rebuilt
    from the loaded rows in one pass.  Building an index once is several times faster
    than growing it row by row.
    """
    table = AccountSearchEntry._meta.db_table
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname "
            "JOIN pg_index x ON x.indexrelid = c.oid WHERE i.schemaname = current_schema() AND i.tablename = %s "
            "AND NOT x.indisprimary ORDER BY i.indexname", [table])
        indexes = cursor.fetchall()
        cursor.execute(f"TRUNCATE {quote(table)}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
        return [definition for _name, definition in indexes]
    cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s ORDER BY name", [table])
    triggers = cursor.fetchall()
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE %s ORDER BY name",
                   [f"%VIRTUAL TABLE%content='{table}'%"])
    fts_tables = [name for (name,) in cursor.fetchall()]
    for name, _sql in triggers:
        cursor.execute(f"DROP TRIGGER {quote(name)}")
    cursor.execute(f"DELETE FROM {quote(table)}")
    return ([f"INSERT INTO {quote(name)}({quote(name)}) VALUES ('rebuild')" for name in fts_tables]
            + [sql for _name, sql in triggers])


@transaction.atomic
def rebuild(company_id: int | None = None) -> RebuildResult:
    """Rewrite the index of one company (or of all) from the archive, in one transaction.

    A company is deleted and written again row by row through its indexes; a rebuild of
    everything detaches the text indexes first (:func:`_detach_text_indexes`).  On
    PostgreSQL that takes the table's exclusive lock: searches wait for the commit.
    """
    started = time.perf_counter()
    accounts = Account.objects.all()
    restore: list[str] = []
    with connection.cursor() as cursor:
        if company_id is None:
            restore = _detach_text_indexes(cursor)
        else:
            accounts = accounts.filter(company_id=company_id)
            cursor.execute(f"DELETE FROM {_table()} WHERE company_id = %s", [company_id])
    written = 0
    for batch, phones, meters in _batches(accounts, company_id):
        rows = build_rows(batch, phones, meters)
        _insert(rows, upsert=False)
        written += len(rows)
    index_started = time.perf_counter()
    with connection.cursor() as cursor:
        for statement in restore:
            cursor.execute(statement)
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {_table()}")
    finished = time.perf_counter()
    return RebuildResult(written, finished - started, finished - index_started if restore else 0.0)
