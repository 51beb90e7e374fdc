"""Bulk import and export services: validate an upload, commit a batch, export the user's data scope.

The flow a page (or a script) follows:

1. :func:`validate_upload` reads and validates the whole file and records an
   :class:`~powercis.core.models.ImportBatch` — ``validated`` with the file kept, or
   ``failed`` with every error.  Nothing else is written.
2. :func:`commit` — only by the person who uploaded — validates the kept file again
   inside one transaction (the database may have changed meanwhile), writes every row
   set-based, marks the batch committed and writes one audit record for the batch
   (DESIGN rule 7: a high-volume load is one fact, not a row history).  Any error and
   nothing is written.

A file commits once per entity and company: the same bytes (by SHA-256) are refused
with the number of the earlier batch (DESIGN rule 4).
"""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import audit, authz
from ..context import Actor
from ..errors import BusinessError, NotAuthorized, NotFound
from ..models import AuditCategory, ImportBatch, Org
from . import problems as P
from . import files, readers, spec as registry
from .problems import FileRefused, RowError
from .validation import ImportContext, Outcome, validate
from .writer import Writer


def spec_of(entity: str) -> registry.EntitySpec:
    spec = registry.get(entity)
    if spec is None:
        raise NotFound(_("There is no import for “%(entity)s”.") % {"entity": entity})
    return spec


def require_any(actor: Actor, spec: registry.EntitySpec, org: Org):
    """The grant of the first of the spec's permissions held over ``org``; refuses with the first one's message."""
    refusal = None
    for perm in spec.permissions:
        try:
            return authz.require(actor, perm, org)
        except NotAuthorized as exc:
            refusal = refusal or exc
    raise refusal


def _person(actor: Actor):
    if actor.user is None:
        raise NotAuthorized(_("Imports are made by a person; log in to import."))
    return actor.user


def committed_twin(company_id: int, entity: str, sha256: str) -> ImportBatch | None:
    return (ImportBatch.objects.filter(company_id=company_id, entity=entity, sha256=sha256,
                                       status=ImportBatch.Status.COMMITTED)
            .select_related("created_by").defer("content").first())


def _refuse_twin(twin: ImportBatch) -> None:
    when = timezone.localtime(twin.committed_at or twin.created_at).strftime("%Y-%m-%d %H:%M")
    message = P.render(P.ALREADY_COMMITTED, {"batch": twin.pk, "date": when, "user": twin.created_by.full_name})
    raise BusinessError(message, code="already_imported")


def _outcome(actor: Actor, spec, org: Org, content: bytes) -> tuple[Outcome, readers.Table | None]:
    ctx = ImportContext(actor, spec, org)
    try:
        table = readers.read(content)
    except FileRefused as exc:
        return Outcome(0, [], [RowError(0, "", "", exc.msgid, exc.params)], 1), None
    return validate(ctx, table), table


def validate_upload(actor: Actor, *, entity: str, org: Org, file_name: str, content: bytes) -> ImportBatch:
    """Validate a whole file for ``entity`` into ``org`` and record the batch (validated or failed)."""
    spec = spec_of(entity)
    user = _person(actor)
    require_any(actor, spec, org)
    company_id = org.company_id or org.pk
    digest = hashlib.sha256(content).hexdigest()
    twin = committed_twin(company_id, spec.code, digest)
    if twin is not None:
        _refuse_twin(twin)
    outcome, table = _outcome(actor, spec, org, content)
    return ImportBatch.objects.create(
        company_id=company_id, org=org, entity=spec.code, file_name=(file_name or "")[:200],
        file_format=table.file_format if table else "", encoding=table.encoding if table else "",
        size=len(content), sha256=digest, row_count=outcome.row_count, error_count=outcome.error_total,
        errors=[e.stored() for e in outcome.errors],
        status=ImportBatch.Status.VALIDATED if outcome.ok else ImportBatch.Status.FAILED,
        content=content if outcome.ok else None, created_by=user,
    )


class _Failed(Exception):
    """The kept file no longer validates at commit time: leave the transaction, then record the errors."""

    def __init__(self, outcome: Outcome):
        super().__init__("import failed validation")
        self.outcome = outcome


def commit(actor: Actor, batch: ImportBatch) -> ImportBatch:
    """Write a validated batch in one transaction; returns it committed, or failed when the file no longer validates."""
    spec = spec_of(batch.entity)
    user = _person(actor)
    grant = require_any(actor, spec, batch.org)
    if batch.created_by_id != user.pk:
        raise NotAuthorized(_("Only the person who uploaded a file may commit it."))
    try:
        with transaction.atomic():
            return _commit_locked(actor, spec, batch, grant)
    except _Failed as failed:
        outcome = failed.outcome
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportBatch.Status.FAILED, errors=[e.stored() for e in outcome.errors],
            error_count=outcome.error_total, content=None)
        batch.refresh_from_db()
        return batch
    except IntegrityError as exc:
        raise BusinessError(_("The records changed while this file was being imported; nothing was written. "
                              "Upload the file again to validate it against the current records."),
                            code="import_conflict") from exc


def _commit_locked(actor: Actor, spec, batch: ImportBatch, grant) -> ImportBatch:
    locked = ImportBatch.objects.select_for_update().select_related("org").get(pk=batch.pk)
    if locked.status == ImportBatch.Status.COMMITTED:
        raise BusinessError(_("Batch #%(batch)s is already committed.") % {"batch": locked.pk}, code="already_imported")
    if locked.status != ImportBatch.Status.VALIDATED or locked.content is None:
        raise BusinessError(_("Batch #%(batch)s has errors and cannot be committed; "
                              "correct the file and upload it again.") % {"batch": locked.pk})
    twin = committed_twin(locked.company_id, locked.entity, locked.sha256)
    if twin is not None:
        _refuse_twin(twin)
    ctx = ImportContext(actor, spec, locked.org)
    ctx.batch_id = locked.pk
    table = readers.read(bytes(locked.content))
    outcome = validate(ctx, table)
    if not outcome.ok:
        raise _Failed(outcome)
    writer = Writer()
    spec.write(ctx, outcome.rows, writer)
    locked.status = ImportBatch.Status.COMMITTED
    locked.committed_at = timezone.now()
    locked.written = dict(writer.counts)
    locked.row_count = outcome.row_count
    locked.save(update_fields=["status", "committed_at", "written", "row_count"])
    audit.record(
        actor, action="import", category=AuditCategory.CHANGE, object_type="core.importbatch",
        object_id=str(locked.pk), object_repr=f"{spec.code} · {locked.file_name}"[:200], org=locked.org,
        changes={"entity": spec.code, "file_name": locked.file_name, "rows": outcome.row_count,
                 "written": locked.written, "sha256": locked.sha256, "batch": locked.pk},
        ref=f"import-batch:{locked.pk}", grant=grant,
    )
    return locked


def errors_of(batch: ImportBatch) -> list[RowError]:
    return [RowError.from_stored(item) for item in batch.errors or []]


def visible_batches(user):
    """The batches a user may look at: their own."""
    return ImportBatch.objects.filter(created_by_id=user.pk).defer("content").select_related("org")


#: an XLSX sheet holds 1,048,576 rows, the header included
XLSX_MAX_ROWS = 1_048_575


def export_queryset(actor: Actor, spec: registry.EntitySpec, org: Org):
    """The rows of ``spec`` in ``org`` and below that the user may export (their data scope)."""
    qs = spec.model._default_manager.filter(company_id=org.company_id or org.pk, org_path__startswith=org.path)
    qs = authz.restrict_any(qs, actor, spec.permissions, path_field="org_path")
    return spec.export_queryset(qs).order_by(spec.key)


def _export_rows(queryset, columns):
    sources = [c.export_source for c in columns]
    for values in queryset.values_list(*sources).iterator(chunk_size=2000):
        yield [c.parser.to_cell(c.mask(v) if c.mask and v else v) for c, v in zip(columns, values)]


def export(actor: Actor, *, entity: str, org: Org, fmt: str):
    """An export of the user's data scope under ``org``: (file name, content type, content).

    Phone and identity numbers are masked (DESIGN rule 9); the export is one audit record
    with the row count.  The headers are the import template's, so an export is also a
    filled-in example of the template.
    """
    spec = spec_of(entity)
    grant = require_any(actor, spec, org)
    if fmt not in files.FORMATS:
        raise BusinessError(_("Choose CSV or XLSX."))
    queryset = export_queryset(actor, spec, org)
    count = queryset.count()
    if fmt == "xlsx" and count > XLSX_MAX_ROWS:
        raise BusinessError(_("%(count)s rows do not fit in one Excel sheet; export them as CSV.") % {"count": count})
    audit.record(actor, action="export", category=AuditCategory.ACTION, object_type=spec.model._meta.label_lower,
                 org=org, changes={"entity": spec.code, "rows": count, "format": fmt}, grant=grant)
    columns = [c for c in spec.columns if c.export_source is not None]
    header = [c.header_zh for c in columns]
    rows = _export_rows(queryset, columns)
    name = f"export-{spec.code}-{org.code}-{timezone.localdate():%Y%m%d}.{fmt}"
    if fmt == "csv":
        return name, files.CSV_TYPE, files.csv_stream(_with_header(header, rows))
    return name, files.XLSX_TYPE, files.xlsx_file([(str(spec.label), header, rows)])


def _with_header(header, rows):
    yield header
    yield from rows
