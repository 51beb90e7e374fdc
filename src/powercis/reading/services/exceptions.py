"""Working the exception worklist: confirm, correct, order a re-read, estimate.

* **Confirm** — the read is right (a shop closed for the month, a new air conditioner):
  the exception is resolved with the reviewer's note and is not raised again for the
  same read.
* **Correct** — the read is wrong (a digit misread): the next revision of the read,
  with every register of the original and the right values, and the reason; the
  original stays, marked superseded, and the task is validated again with the
  corrected values.
* **Re-read** — a work order for the route's reader to go back; the exception stays
  open until the new reading arrives (entering it re-validates the task and closes the
  order), so a period cannot be released on a read nobody checked.
* **Estimate** — 估抄 by the documented method (``engine.estimate``); the estimate is
  recorded as one estimated read (the next revision of the task's read, if it has one)
  and the estimated-read checks apply to it.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from powercis.core import audit, authz
from powercis.core.context import Actor
from powercis.core.errors import InvalidTransition, ValidationFailed
from powercis.core.models import WorkOrder
from powercis.core.services import workorders

from ..models import PlanStatus, ReadException, ReadingTask, RegisterRead, Resolution, Source, TaskStatus
from ..selectors import effective_read_ids
from .entry import current_read, parse_register_values, write_revision

#: days a reader has for a re-read
REREAD_DAYS = 3


def _open_exception(actor: Actor, exc: ReadException):
    """The exception, locked, after its task (checked open, the plan not released).

    The task is locked first, as field entry does (``entry.record_reads``): a re-entry, a
    correction or an estimate of any of the task's exceptions — everything that writes the
    task's read as its next revision — then runs one at a time, each building on the read
    the one before wrote, rather than two taking the same revision and the second failing
    on the read's unique key. The same order (task, then its exceptions) as entry, whose
    revalidation replaces the task's open exceptions, so that the two cannot deadlock.
    """
    task_id = ReadException.objects.values_list("task_id", flat=True).get(pk=exc.pk)
    list(ReadingTask.objects.select_for_update().filter(pk=task_id).values_list("pk", flat=True))
    exc = ReadException.objects.select_for_update(of=("self",)).select_related("plan", "plan__org", "task", "task__meter").get(
        pk=exc.pk)
    grant = authz.require(actor, "reading.review", exc.plan.org)
    if exc.status != ReadException.Status.OPEN:
        raise InvalidTransition(_("This exception has already been resolved."))
    if exc.plan.status != PlanStatus.OPEN:
        raise InvalidTransition(_("The plan has been released to billing; corrections go through an adjustment."))
    return exc, grant


def _resolve(actor: Actor, exc: ReadException, resolution: str, note: str, grant) -> ReadException:
    before = audit.snapshot(exc)
    exc.status = ReadException.Status.RESOLVED
    exc.resolution = resolution
    exc.note = note[:300]
    exc.resolved_by = actor.user
    exc.resolved_at = timezone.now()
    exc.save(update_fields=["status", "resolution", "note", "resolved_by", "resolved_at"])
    audit.record_update(actor, exc, before, grant=grant, reason=note)
    return exc


def refresh_check_status(task: ReadingTask) -> None:
    """After a resolution: a task whose exceptions are all resolved is 'cleared'."""
    if not task.exceptions.filter(status=ReadException.Status.OPEN).exists() and task.exceptions.exists():
        ReadingTask.objects.filter(pk=task.pk).update(check_status="cleared")


@transaction.atomic
def confirm(actor: Actor, exc: ReadException, *, note: str = "") -> ReadException:
    exc, grant = _open_exception(actor, exc)
    exc = _resolve(actor, exc, Resolution.CONFIRMED, note, grant)
    refresh_check_status(exc.task)
    return exc


@transaction.atomic
def confirm_many(actor: Actor, exceptions: list[ReadException], *, note: str = "") -> int:
    """Confirm several exceptions at once (the reviewer's multi-select); all or nothing."""
    for exc in exceptions:
        confirm(actor, exc, note=note)
    return len(exceptions)


def read_to_correct(task: ReadingTask, exc: ReadException | None = None) -> RegisterRead | None:
    """The read a correction or an estimate replaces: the task's current read, else the exception's read while it
    is valid (a head-end read of a remotely read task), else the read the task's validation stands on."""
    read = current_read(task)
    if read is None and exc is not None and exc.read_id is not None:
        read = RegisterRead.objects.filter(pk=exc.read_id, status=RegisterRead.Status.VALID).first()
    if read is None:
        ids = set(effective_read_ids(task).values())
        found = RegisterRead.objects.filter(pk__in=ids, status=RegisterRead.Status.VALID).order_by("-revision", "-id")
        read = found.first()
    return read


def _write_task_read(actor: Actor, task: ReadingTask, previous: RegisterRead | None, values: dict, *, source: str,
                     estimated: bool, note: str, keep_others: bool = True) -> RegisterRead:
    """The next revision of ``previous`` for the task: every register it has, those in ``values`` changed (with
    ``keep_others`` false: ``values`` only); the previous read stays, superseded."""
    now = timezone.now()
    kept = previous.registers() if previous is not None and keep_others else {}
    registers = {**kept, **values}
    if previous is not None:
        where = {"metering_point_id": previous.metering_point_id, "meter_id": previous.meter_id,
                 "read_at": previous.read_at}
    else:
        where = {"metering_point_id": task.metering_point_id, "meter_id": task.meter_id,
                 "read_at": task.read_at or now}
    return write_revision(previous, registers, **where, source=source, estimated=estimated, task=task,
                          entered_by=actor.user, note=note[:200], recorded_at=now)


@transaction.atomic
def correct(actor: Actor, exc: ReadException, *, values: dict, reason: str) -> ReadException:
    exc, grant = _open_exception(actor, exc)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": [_("Give the reason for the correction.")]})
    task = exc.task
    if task.meter is None:
        raise InvalidTransition(_("No meter is installed on this metering point for the plan's read date."))
    parsed = parse_register_values(task.meter, values) if "total" in values else _partial(task, values)
    previous = read_to_correct(task, exc)
    before = previous.registers() if previous is not None else {}
    read = _write_task_read(actor, task, previous, parsed, source=Source.CORRECT, estimated=False, note=reason)
    if task.status in (TaskStatus.PENDING, TaskStatus.UNREADABLE):
        ReadingTask.objects.filter(pk=task.pk).update(status=TaskStatus.READ, source=Source.CORRECT,
                                                      read_at=read.read_at, unreadable_reason="")
    audit.record(actor, action="reading.correct", obj=task, grant=grant, org=exc.plan.org, reason=reason,
                 changes={"reads": {r: [str(before[r]) if r in before else None, str(v)] for r, v in parsed.items()}})
    exc = _resolve(actor, exc, Resolution.CORRECTED, reason, grant)
    _revalidate(task)
    return exc


def _partial(task: ReadingTask, values: dict):
    """A correction of some registers only: check those, without requiring the total."""
    meter = task.meter
    parsed = parse_register_values(meter, {**values, "total": "0"} if "total" in (meter.registers or []) else values)
    parsed.pop("total", None)
    if not parsed:
        raise ValidationFailed(fields={"values": [_("Enter at least one corrected reading.")]})
    return parsed


@transaction.atomic
def order_reread(actor: Actor, exc: ReadException, *, note: str = "") -> WorkOrder:
    exc, grant = _open_exception(actor, exc)
    task = exc.task
    plan = exc.plan
    ref = f"reading.task:{task.pk}"
    existing = WorkOrder.objects.filter(source_ref=ref, kind=WorkOrder.Kind.REREAD,
                                        status=WorkOrder.Status.OPEN).first()
    if existing is not None:
        return existing
    point = task.metering_point
    order = workorders.raise_order(
        actor, org=plan.org, kind=WorkOrder.Kind.REREAD,
        title=_("Re-read %(point)s (%(check)s)") % {"point": point.code, "check": exc.get_rule_display()},
        detail=note, account_no=task.account.account_no if task.account_id else "", metering_point_code=point.code,
        source_ref=ref, assignee=plan.reader, due_on=timezone.localdate() + dt.timedelta(days=REREAD_DAYS), grant=grant)
    ReadException.objects.filter(task=task, status=ReadException.Status.OPEN).update(work_order=order)
    return order


@transaction.atomic
def estimate(actor: Actor, exc: ReadException, *, reason: str) -> ReadException:
    from ..engine.estimate import estimate_reads

    exc, grant = _open_exception(actor, exc)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": [_("Give the reason for estimating.")]})
    task = exc.task
    if task.meter is None:
        raise InvalidTransition(_("No meter is installed on this metering point for the plan's read date."))
    result = estimate_reads([task.pk]).get(task.pk)
    if result is None or not result.readings:
        raise InvalidTransition(_("There is no history to estimate this meter from; it has to be read."))
    # an estimate replaces the whole read: no register of the read it replaces (a misread, a faulty meter) is kept
    read = _write_task_read(actor, task, read_to_correct(task, exc), result.readings, source=Source.ESTIMATE,
                            estimated=True, note=f"{reason} — {result.method}", keep_others=False)
    ReadingTask.objects.filter(pk=task.pk).update(status=TaskStatus.ESTIMATED, source=Source.ESTIMATE,
                                                  read_at=read.read_at)
    audit.record(actor, action="reading.estimate", obj=task, grant=grant, org=exc.plan.org, reason=reason,
                 changes={"method": result.method, "reads": {r: str(v) for r, v in result.readings.items()}})
    exc = _resolve(actor, exc, Resolution.ESTIMATED, reason, grant)
    _revalidate(task)
    return exc


def _revalidate(task: ReadingTask) -> None:
    from ..engine.validate import run_validation

    run_validation(task_ids=[task.pk])
