"""Field entry of reads: a reader records a task's register values, or why the meter could not be read.

The values are checked against the meter the plan expects (its registers, its digits
and decimals) before anything is written.  A repeated submission of the same values —
a phone that lost its answer and sent again — changes nothing and says so; different
values for a task already read, while its plan is open, are a re-entry: the next
revision of the read (source ``correct``, every register) that names the one it
replaces, which stays in the database, superseded.
Every entry runs the task's validation at once, so the reader sees on site what the
reviewer will see.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from powercis.core import audit, authz, codelists
from powercis.core.context import Actor
from powercis.core.errors import InvalidTransition, ValidationFailed
from powercis.core.models import WorkOrder
from powercis.core.services import workorders
from powercis.metering.models import REGISTERS, Meter

from ..models import PlanStatus, ReadingTask, RegisterRead, Source, TaskStatus

NUMBER = re.compile(r"^\d{1,12}(\.\d{1,4})?$")
FIELD_SOURCES = (Source.MANUAL, Source.HANDHELD)


def parse_register_values(meter: Meter, values: dict) -> dict[str, Decimal]:
    """Check entered values against the meter: known registers, numbers, below the rollover, not too precise."""
    errors: dict[str, list[str]] = {}
    parsed: dict[str, Decimal] = {}
    registers = meter.registers or ["total"]
    for register, raw in values.items():
        text = str(raw).strip() if raw is not None else ""
        if text == "":
            continue
        if register not in REGISTERS or register not in registers:
            errors[register] = [_("Meter %(meter)s has no register “%(register)s”.") % {"meter": meter.asset_no,
                                                                                       "register": register}]
            continue
        if not NUMBER.match(text):
            errors[register] = [_("Enter the reading as a number, e.g. 1234.56.")]
            continue
        value = Decimal(text)
        places = 4 if register == "demand" else meter.decimals
        if -value.as_tuple().exponent > places:
            errors[register] = [_("The register shows %(n)s decimal places.") % {"n": places}]
        elif register != "demand" and value >= Decimal(10) ** meter.digits:
            errors[register] = [_("The register has %(n)s integer digits; the reading is too large.") % {
                "n": meter.digits}]
        else:
            parsed[register] = value
    if not errors and "total" in registers and "total" not in parsed:
        errors["total"] = [_("The total register is required.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return parsed


@dataclass
class EntryResult:
    task: ReadingTask
    #: the read of this entry (one, with every register), or the one already recorded
    reads: list[RegisterRead]
    #: True when the same values had already been recorded: nothing was written
    repeated: bool = False
    exceptions: int = 0


def _open_task(actor: Actor, task: ReadingTask):
    task = (ReadingTask.objects.select_for_update(of=("self",)).select_related("plan", "plan__org", "meter")
            .get(pk=task.pk))
    grant = authz.require(actor, "reading.enter", task.plan.org)
    if task.plan.status != PlanStatus.OPEN:
        raise InvalidTransition(_("The plan has been released to billing; corrections go through an adjustment."))
    if task.meter is None:
        raise InvalidTransition(_("No meter is installed on this metering point for the plan's read date."))
    return task, grant


def current_read(task: ReadingTask) -> RegisterRead | None:
    """The task's current read: its valid read of the highest revision (the latest written), or None."""
    return (RegisterRead.objects.filter(task=task, status=RegisterRead.Status.VALID)
            .order_by("-revision", "-id").first())


def free_revision(meter_id: int, read_at: dt.datetime, source: str, revision: int) -> int:
    """``revision``, or the next one whose key (meter, read_at, source, revision) is not taken yet."""
    taken = set(RegisterRead.objects.filter(meter_id=meter_id, read_at=read_at, source=source,
                                            revision__gte=revision).values_list("revision", flat=True))
    while revision in taken:
        revision += 1
    return revision


def write_revision(previous: RegisterRead | None, values: dict[str, Decimal], **fields) -> RegisterRead:
    """Write a read with ``values`` as the next revision of ``previous`` (None: the first read); the previous
    read keeps its values and is marked superseded.

    ``values`` are all the registers of the new read; ``fields`` the other columns (metering
    point, meter, read_at, source, task, …).  The revision is stepped past any taken key.
    """
    read = RegisterRead(**fields, corrects=previous, **{r: values[r] for r in REGISTERS if r in values})
    read.revision = free_revision(read.meter_id, read.read_at, read.source,
                                  previous.revision + 1 if previous is not None else 0)
    read.save()
    if previous is not None:
        RegisterRead.objects.filter(pk=previous.pk).update(status=RegisterRead.Status.SUPERSEDED)
    return read


@transaction.atomic
def record_reads(actor: Actor, task: ReadingTask, *, values: dict, read_at: dt.datetime | None = None,
                 source: str = Source.HANDHELD, photo_ref: str = "", estimated: bool = False) -> EntryResult:
    """Record the values read on site as one read of the task's meter.

    A task already read gets a new revision carrying its earlier registers with the entered
    ones changed (a register left out keeps its reading); entering the same values again
    writes nothing and answers ``repeated``.
    """
    task, grant = _open_task(actor, task)
    if source not in FIELD_SOURCES:
        raise ValidationFailed(fields={"source": [_("Field entry is manual or handheld.")]})
    parsed = parse_register_values(task.meter, values)
    now = timezone.now()
    read_at = read_at or now
    if read_at > now + dt.timedelta(hours=1):
        raise ValidationFailed(fields={"read_at": [_("The reading time is in the future.")]})
    previous = current_read(task)
    before_values = previous.registers() if previous is not None else {}
    # a register left out keeps its reading (of the same meter: after a meter change the entry stands alone)
    registers = {**(before_values if previous is not None and previous.meter_id == task.meter_id else {}), **parsed}
    if previous is not None and registers == before_values:
        return EntryResult(task=task, reads=[previous], repeated=True)
    read = write_revision(
        previous, registers, metering_point_id=task.metering_point_id, meter_id=task.meter_id, read_at=read_at,
        source=Source.CORRECT if previous is not None else source, estimated=estimated, task=task,
        entered_by=actor.user, photo_ref=photo_ref[:200],
        note=_("Re-entered in the field") if previous is not None else "", recorded_at=now)
    before = audit.snapshot(task)
    task.status = TaskStatus.ESTIMATED if estimated else TaskStatus.READ
    task.read_at = read_at
    task.source = source
    task.read_by = actor.user
    task.unreadable_reason = ""
    if photo_ref:
        task.photo_ref = photo_ref[:200]
    task.save(update_fields=["status", "read_at", "source", "read_by", "unreadable_reason", "photo_ref"])
    audit.record(actor, action="reading.enter", obj=task, grant=grant, org=task.plan.org,
                 changes={"reads": {r: [str(before_values[r]) if r in before_values else None, str(v)]
                                    for r, v in parsed.items()},
                          **audit.diff(before, audit.snapshot(task))})
    close_reread_orders(actor, task)
    report = _revalidate(task)
    return EntryResult(task=task, reads=[read], exceptions=report)


@transaction.atomic
def mark_unreadable(actor: Actor, task: ReadingTask, *, reason_code: str, photo_ref: str = "",
                    note: str = "") -> ReadingTask:
    task, grant = _open_task(actor, task)
    company_id = task.plan.company_id
    if reason_code not in codelists.codes_of(company_id, "unread_reason"):
        raise ValidationFailed(fields={"reason_code": [codelists.unknown_code_message(reason_code, "unread_reason")]})
    if current_read(task) is not None:
        raise InvalidTransition(_("The meter has already been read; correct the reading instead."))
    before = audit.snapshot(task)
    task.status = TaskStatus.UNREADABLE
    task.unreadable_reason = reason_code
    task.photo_ref = photo_ref[:200]
    task.read_by = actor.user
    task.read_at = timezone.now()
    task.save(update_fields=["status", "unreadable_reason", "photo_ref", "read_by", "read_at"])
    audit.record_update(actor, task, before, grant=grant, reason=note)
    _revalidate(task)
    return task


def _revalidate(task: ReadingTask) -> int:
    """Validate one task now; returns the number of open exceptions it has afterwards."""
    from ..engine.validate import run_validation

    run_validation(task_ids=[task.pk])
    return task.exceptions.filter(status="open").count()


def close_reread_orders(actor: Actor, task: ReadingTask) -> int:
    """A reading has arrived for the task: close its open re-read orders (the order asked for exactly this)."""
    closed = 0
    for order in WorkOrder.objects.filter(source_ref=f"reading.task:{task.pk}", kind=WorkOrder.Kind.REREAD,
                                          status=WorkOrder.Status.OPEN):
        workorders.complete_order(actor, order, result=_("Re-read recorded."), perm="reading.enter")
        closed += 1
    return closed
