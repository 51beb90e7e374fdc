"""Read deliveries (ReadBatch): the list, one delivery with its counts, flags, clock drift and quarantined rows, upload.

Nothing a sender delivers is lost: the rows that could not be accepted are listed here
with their row number and the reason, so the operator knows what to fix and resend.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from powercis.core import authz
from powercis.core.errors import BusinessError
from powercis.core.views.common import actor, page, requires, scoped_get

from .. import selectors
from ..forms import UPLOAD_SOURCES, UploadForm
from ..models import Check, QuarantinedRead, ReadBatch, RegisterRead, Source
from .common import VIEW, chosen_org, place_errors, scope_orgs, within

#: who may upload a file of which source (the ingest service checks the same)
UPLOAD_PERMS = {Source.AMI: "reading.collect", Source.REMOTE: "reading.collect", Source.IMPORT: "reading.enter"}
UPLOAD = tuple(dict.fromkeys(UPLOAD_PERMS.values()))
#: file extensions whose format the ingest reads (``.txt`` is taken as csv)
EXTENSIONS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".json": "json", ".parquet": "parquet"}
#: distinct read instants looked at for the clock drift of a delivery (a daily file has one per day and meter clock)
DRIFT_INSTANTS = 20_000


def file_format(name: str) -> str | None:
    return EXTENSIONS.get(Path(name or "").suffix.lower())


def flag_counts(batch) -> list[tuple[str, str, int]]:
    """(code, label, reads) per arrival check: from the delivery's summary, else from one grouped query of its reads.

    A check failed by a register is stored ``code:register`` (``lower:peak``); it is counted
    under its code, once per read however many of the read's registers failed it.
    """
    counts: dict[str, int] = {}
    for code, n in ((batch.summary or {}).get("flags") or {}).items():
        code = code.split(":", 1)[0]
        counts[code] = counts.get(code, 0) + n
    if not counts and batch.rows_flagged:
        for flags, n in (RegisterRead.objects.filter(batch=batch).exclude(flags="").values("flags")
                         .annotate(n=Count("id")).values_list("flags", "n")):
            for code in {f.split(":", 1)[0] for f in flags.split(",") if f}:
                counts[code] = counts.get(code, 0) + n
    labels = dict(Check.choices)
    return [(code, str(labels.get(code, code)), n) for code, n in sorted(counts.items(), key=lambda kv: -kv[1])]


@dataclass
class Drift:
    """How far a head-end delivery's daily frozen reads lie from the freeze instant, local midnight."""

    on_time: int = 0
    off: int = 0
    largest_seconds: int = 0
    meters_off: int = 0

    @property
    def largest_text(self) -> str:
        sign = "+" if self.largest_seconds >= 0 else "−"
        return f"{sign}{dt.timedelta(seconds=abs(self.largest_seconds))}"


def clock_drift(batch) -> Drift | None:
    """Reads of a head-end delivery counted by their distance from local midnight (grouped by instant in SQL)."""
    if batch.source != Source.AMI or not batch.rows_accepted:
        return None
    drift = Drift()
    off_instants = []
    for row in (RegisterRead.objects.filter(batch=batch).values("read_at").annotate(n=Count("id"))
                .order_by("read_at")[:DRIFT_INSTANTS]):
        local = timezone.localtime(row["read_at"])
        offset = int((local - local.replace(hour=0, minute=0, second=0, microsecond=0)).total_seconds())
        if offset > 12 * 3600:
            offset -= 24 * 3600
        if offset == 0:
            drift.on_time += row["n"]
            continue
        drift.off += row["n"]
        off_instants.append(row["read_at"])
        if abs(offset) > abs(drift.largest_seconds):
            drift.largest_seconds = offset
    if off_instants:
        drift.meters_off = (RegisterRead.objects.filter(batch=batch, read_at__in=off_instants[:1000])
                            .values("meter_id").distinct().count())
    return drift


def summary_items(summary: dict) -> list[tuple[str, object]]:
    """The delivery summary's plain entries (numbers and texts), labelled; nested entries are shown on their own."""
    labels = {"format": _("Format"), "meters": _("Meters"), "days": _("Days"), "first_day": _("First day"),
              "last_day": _("Last day"), "unknown_meters": _("Unknown meters"), "sheet": _("Sheet"),
              "plan": _("Plan"), "route": _("Route")}
    return [(str(labels.get(k, k.replace("_", " "))), v) for k, v in (summary or {}).items()
            if not isinstance(v, (dict, list)) and k in labels and v not in (None, "")]


def drift_rows(summary: dict) -> list[dict]:
    """The clock drift found in the delivery, as rows (one per meter or one overall), whatever shape it came in."""
    drift = (summary or {}).get("clock_drift")
    if not drift:
        return []
    if isinstance(drift, list):
        return [d if isinstance(d, dict) else {"value": d} for d in drift]
    if isinstance(drift, dict):
        if all(isinstance(v, dict) for v in drift.values()):
            return [{"meter": k, **v} for k, v in drift.items()]
        return [drift]
    return [{"value": drift}]


@requires(*VIEW)
def batch_list(request):
    org = chosen_org(request)
    batches = within(selectors.visible_batches(request.user), org)
    source = request.GET.get("source", "")
    if source in Source.values:
        batches = batches.filter(source=source)
    if request.GET.get("problems"):
        batches = batches.exclude(rows_quarantined=0, rows_flagged=0)
    return render(request, "reading/batch_list.html", {
        "orgs": scope_orgs(request.user), "org": org, "sources": Source.choices, "source": source,
        "problems": bool(request.GET.get("problems")),
        "can_upload": any(authz.authorize(request.user, p) for p in UPLOAD),
        **page(request, batches.order_by("-received_at", "-id")),
    })


@requires(*VIEW)
def batch_detail(request, pk):
    batch = scoped_get(selectors.visible_batches(request.user), pk=pk)
    quarantined = QuarantinedRead.objects.filter(batch=batch).order_by("row_no", "id")
    reasons = list(quarantined.values("reason_code").annotate(n=Count("id")).order_by("-n", "reason_code"))
    return render(request, "reading/batch_detail.html", {
        "batch": batch, "flags": flag_counts(batch), "summary": summary_items(batch.summary),
        "drift": drift_rows(batch.summary), "clock": clock_drift(batch), "reasons": reasons,
        **page(request, quarantined, per_page=100),
    })


@requires(*UPLOAD)
def batch_upload(request):
    orgs = scope_orgs(request.user, UPLOAD)
    sources = [s for s in UPLOAD_SOURCES if authz.authorize(request.user, UPLOAD_PERMS[s[0]])]
    form = UploadForm(request.POST or None, request.FILES or None, orgs=orgs, sources=sources)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = data["file"]
        fmt = file_format(upload.name)
        if fmt is None:
            form.add_error("file", _("Upload a csv, xlsx, json or parquet file; the format is taken from the "
                                     "file name's extension."))
        else:
            batch = _ingest(request, form, data, upload, fmt)
            if batch is not None:
                if batch.rows_quarantined:
                    messages.warning(request, _("%(accepted)s readings accepted; %(q)s rows were quarantined, see "
                                                "below.") % {"accepted": batch.rows_accepted,
                                                             "q": batch.rows_quarantined})
                else:
                    messages.success(request, _("%(accepted)s readings accepted, %(dup)s already received.") % {
                        "accepted": batch.rows_accepted, "dup": batch.rows_duplicate})
                return redirect("reading:batch_detail", batch.pk)
    return render(request, "reading/form.html", {
        "form": form, "title": _("Upload readings"), "multipart": True, "cancel": reverse("reading:batch_list"),
        "note": _("Daily frozen readings from the collection head-end, or readings from another system. Rows that "
                  "cannot be accepted are kept with the reason; the same file twice is imported once."),
    })


def _ingest(request, form, data, upload, fmt) -> ReadBatch | None:
    from ..ingest import ingest_file

    try:
        result = ingest_file(actor(request), org=data["org"], source=data["source"], path_or_bytes=upload.read(),
                             file_name=upload.name, file_format=fmt, sender=data["sender"],
                             delivery_key=data["delivery_key"])
    except BusinessError as exc:
        place_errors(form, exc)
        return None
    return getattr(result, "batch", result)
