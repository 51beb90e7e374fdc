"""What the reading pages share: the period in the query string, the orgs a user may pick, and scoping by org."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from powercis.core import authz
from powercis.core.errors import BusinessError, NotFound
from powercis.core.models import Org
from powercis.metering.models import REGISTER_LABELS, REGISTERS, MeterInstallation

from ..models import ReadingTask

from .. import selectors

VIEW = selectors.VIEW_PERMS


def current_period() -> dt.date:
    return timezone.localdate().replace(day=1)


def parse_period(text: str | None) -> dt.date | None:
    """``YYYY-MM`` → the first day of that month, or None when the text is not a period."""
    try:
        return dt.datetime.strptime((text or "").strip(), "%Y-%m").date()
    except ValueError:
        return None


def period_of(request, name: str = "period", default: dt.date | None = None) -> dt.date:
    return parse_period(request.GET.get(name) or request.POST.get(name)) or default or current_period()


def scope_orgs(user, perms=VIEW) -> QuerySet:
    """Active orgs where the user holds any of ``perms``, in tree order."""
    orgs = authz.restrict_any(Org.objects.filter(is_active=True), user, tuple(perms), path_field="path")
    return orgs.order_by("path")


def chosen_org(request, perms=VIEW, name: str = "org") -> Org | None:
    """The org picked in a filter, if the user may see it; an org outside the scope is ignored."""
    value = request.GET.get(name) or request.POST.get(name)
    if not value:
        return None
    try:
        return scope_orgs(request.user, perms).filter(pk=int(value)).first()
    except (TypeError, ValueError):
        return None


def within(queryset: QuerySet, org: Org | None, path_field: str = "org_path") -> QuerySet:
    return queryset.filter(**{f"{path_field}__startswith": org.path}) if org is not None else queryset


def default_org(user, perms) -> Org | None:
    """The org an action applies to when none is picked: the user's highest org where they hold ``perms``."""
    return scope_orgs(user, perms).first()


def may(user, perm: str, org: Org | None = None) -> bool:
    return authz.authorize(user, perm, org)


def flash(request, fn, *args, **kwargs):
    """Call a service for an action without a form of its own; a refusal and its field errors become messages."""
    try:
        return fn(*args, **kwargs)
    except NotFound as exc:
        raise Http404 from exc
    except BusinessError as exc:
        messages.error(request, str(exc.message))
        for errors in (exc.fields or {}).values():
            for error in errors if isinstance(errors, (list, tuple)) else [errors]:
                if str(error) != str(exc.message):
                    messages.error(request, str(error))
        return None


def place_errors(form, exc: BusinessError, names: dict | None = None) -> None:
    """Put a service's field errors on the form; ``names`` maps a service field to a form field (else the same)."""
    placed = False
    for field, errors in (exc.fields or {}).items():
        name = (names or {}).get(field, field)
        target = name if name in form.fields else None
        for error in errors if isinstance(errors, (list, tuple)) else [errors]:
            form.add_error(target, str(error))
            placed = True
    if not placed:
        form.add_error(None, str(exc.message))


def shown(value, places: int) -> str:
    """A register value as the meter displays it (its own decimals; the database keeps four)."""
    if value is None:
        return ""
    try:
        return str(Decimal(str(value)).quantize(Decimal(1).scaleb(-places)))
    except (InvalidOperation, ValueError):
        return str(value)


def register_rows(values: dict, meter) -> list[tuple[str, str, str]]:
    """(register, label, value as displayed) in register order, for the registers present in ``values``."""
    decimals = meter.decimals if meter is not None else 2
    return [(r, str(REGISTER_LABELS[r]), shown(values[r], 4 if r == "demand" else decimals))
            for r in REGISTERS if r in values]


def effective_values(task_ids) -> dict[int, dict[str, Decimal]]:
    """task → register → the reading the validation stands on: entered for the task, or collected for a remote route.

    One pass of the validation engine's own rule (``engine.validate``) over the tasks, so a
    page never shows a different reading from the one validated and billed.
    """
    from ..engine.validate import effective_reads_of_tasks

    ids = list(task_ids)
    values: dict[int, dict[str, Decimal]] = {}
    if not ids:
        return values
    for task_id, register, value in effective_reads_of_tasks(ids).select("task_id", "register", "value").iter_rows():
        values.setdefault(task_id, {})[register] = Decimal(str(value))
    return values


def fill_last_reads(plan, stops) -> set[int]:
    """Set each stop's ``last`` to the readings the validation will start from, and return the stops whose figure
    is their meter's installation reading rather than a reading of an earlier period.

    The rule is the validation's (and the reading sheet's): the effective readings of the
    point's latest earlier task with the same meter — an entered reading, or for a remote
    route the head-end's — else what was recorded when the meter was installed.  Set-based
    for the stops given: one query for the earlier tasks, one pass of the engine over their
    reads, one query for the installations.
    """
    from ..engine.plans import PREV_READ_LOOKBACK_MONTHS, add_months
    from ..engine.validate import effective_reads_of_tasks

    stops = [s for s in stops if s.task.meter_id]
    if not stops:
        return set()
    points = {s.task.metering_point_id: s for s in stops}
    # as far back as plan generation looks for a point's last read
    oldest = add_months(plan.period, -PREV_READ_LOOKBACK_MONTHS)
    earlier = {task_id: (point_id, period) for task_id, point_id, period in ReadingTask.objects.filter(
        metering_point_id__in=list(points), plan__period__lt=plan.period, plan__period__gte=oldest).values_list(
        "id", "metering_point_id", "plan__period")}
    latest: dict[int, tuple] = {}
    if earlier:
        reads = effective_reads_of_tasks(list(earlier))
        for task_id, register, value, read_at, meter_id in reads.select(
                "task_id", "register", "value", "read_at", "meter_id").iter_rows():
            point_id, period = earlier[task_id]
            if meter_id != points[point_id].task.meter_id:
                continue
            key = (period, read_at)
            if point_id not in latest or key > latest[point_id][0]:
                latest[point_id] = (key, {})
            if key == latest[point_id][0]:
                latest[point_id][1][register] = Decimal(str(value))
    filled: set[int] = set()
    for point_id, ((_period, read_at), values) in latest.items():
        stop = points[point_id]
        stop.last, stop.last_read_on = values, timezone.localtime(read_at).date() if read_at else None
    rest = [s for s in stops if s.task.metering_point_id not in latest]
    if rest:
        installed = {}
        for inst in (MeterInstallation.objects.filter(metering_point_id__in=[s.task.metering_point_id for s in rest])
                     .order_by("installed_on", "id")):
            installed[(inst.metering_point_id, inst.meter_id)] = inst
        for stop in rest:
            inst = installed.get((stop.task.metering_point_id, stop.task.meter_id))
            values = {}
            for register, text in ((inst.install_reads or {}) if inst else {}).items():
                try:
                    values[register] = Decimal(str(text))
                except (InvalidOperation, ValueError):
                    continue
            stop.last, stop.last_read_on = values, inst.installed_on if inst else None
            if values:
                filled.add(stop.task.pk)
    return filled
