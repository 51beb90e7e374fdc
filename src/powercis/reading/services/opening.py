"""Opening readings (期初示数): the last readings of the system used before go-live, as the first start reads.

A point's first month read here needs a start.  Without one, validation starts the
interval at the meter's installation — years back at go-live — and every account of the
first month shows an interval outside the cycle and an implausible consumption.  The
company's previous system knows each meter's last read (date and register values); it is
loaded once, before the first month, into the plans of the month before it, marked as
opening plans (``ReadingPlan.opening``), through the same reading-sheet import as any filled
sheet (rows matched to tasks by metering point or account number, the same quarantine,
duplicates and audit).  The first month's validation then takes those reads as its start
reads, as it takes any earlier month's.  Opening plans are not validated and not billed;
releasing them (``release=True``) closes the go-live step.

Loading is repeatable — a region's file at a time, or the same file again: the plans are
completed, not duplicated, and readings already received are counted as duplicates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from powercis.core.context import Actor
from powercis.core.models import Org

from ..ingest.sheets import SheetImport, import_sheet
from ..models import PlanStatus, ReadingPlan, ReadingTask, TaskStatus
from . import plans as plan_services


@dataclass
class OpeningLoad:
    period: dt.date
    plans: int
    sheet: SheetImport
    #: tasks of the opening plans with no reading yet: their first month starts at the meter's installation
    tasks_without_reading: int
    released: int


@transaction.atomic
def load_opening_readings(actor: Actor, *, org: Org, period: dt.date, path_or_bytes, file_name: str = "",
                          release: bool = False, now=None) -> OpeningLoad:
    """Generate ``org``'s opening plans of ``period`` and import the sheet of last readings into them.

    With ``release`` the opening plans are then validated (which checks nothing) and released.  The one who
    loads them generates plans (``reading.manage_routes``) and enters reads (``reading.enter``); releasing is
    the reviewer's (``reading.review``).
    """
    period = plan_services.first_of_month(period)
    report = plan_services.generate(actor, org=org, period=period, now=now, opening=True)
    sheet = import_sheet(actor, path_or_bytes=path_or_bytes, org=org, period=period, file_name=file_name)
    opening = list(ReadingPlan.objects.filter(pk__in=report.plan_ids, opening=True).select_related("org", "route")
                   .order_by("route__code"))
    without = ReadingTask.objects.filter(plan__in=opening, status=TaskStatus.PENDING).count()
    released = 0
    if release:
        still_open = [p for p in opening if p.status == PlanStatus.OPEN]
        if still_open:
            plan_services.validate(actor, still_open, now=now)
        for plan in still_open:
            plan_services.release(actor, plan)
            released += 1
    return OpeningLoad(period=period, plans=len(opening), sheet=sheet, tasks_without_reading=without,
                       released=released)
