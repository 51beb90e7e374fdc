"""Read queries of meter reading: scoped lists, plan progress, what the handheld shows, the indicators.

Indicators (metering-audit.md §2), all counted from a period's tasks, so that the
denominator — the reads due — is fixed when the plan is generated:

* actual-read rate (实抄率) = tasks read on site or remotely (not estimated) / tasks due;
* reading error rate (抄表差错率) = tasks whose read had to be corrected / tasks read;
* on-time rate = tasks read on or before the scheduled read day / tasks read;
* collection success rate (采集成功率) = metering points with a remote or head-end read
  on a day / metering points expected to be collected (points of remotely read routes
  and collection-channel targets), per transformer area and day.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from powercis.core import authz
from powercis.metering.models import REGISTERS

from .models import (
    CollectionChannel,
    ReadBatch,
    ReadException,
    ReadingPlan,
    ReadingRoute,
    ReadingTask,
    RegisterRead,
    Resolution,
    TaskStatus,
)

VIEW_PERMS = ("reading.view", "reading.enter", "reading.review", "reading.manage_routes", "reading.collect")


def visible_routes(user) -> QuerySet:
    return authz.restrict_any(ReadingRoute.objects.select_related("org", "reader"), user, VIEW_PERMS,
                              path_field="org_path")


def visible_plans(user) -> QuerySet:
    return authz.restrict_any(ReadingPlan.objects.select_related("route", "org", "reader"), user, VIEW_PERMS,
                              path_field="org_path")


def visible_tasks(user) -> QuerySet:
    return authz.restrict_any(
        ReadingTask.objects.select_related("plan", "metering_point", "account", "meter"), user, VIEW_PERMS,
        path_field="plan__org_path")


def visible_exceptions(user) -> QuerySet:
    return authz.restrict_any(
        ReadException.objects.select_related("plan", "plan__route", "plan__reader", "task", "task__account",
                                             "metering_point", "read", "resolved_by", "work_order"),
        user, VIEW_PERMS, path_field="org_path")


def visible_batches(user) -> QuerySet:
    return authz.restrict_any(ReadBatch.objects.select_related("org", "received_by"), user, VIEW_PERMS,
                              path_field="org_path")


def visible_channels(user) -> QuerySet:
    return authz.restrict_any(CollectionChannel.objects.select_related("org"), user, VIEW_PERMS,
                              path_field="org_path")


def visible_reads(user) -> QuerySet:
    return authz.restrict_any(RegisterRead.objects.select_related("meter", "metering_point"), user, VIEW_PERMS,
                              path_field="metering_point__org_path")


# ---------------------------------------------------------------------------
# one task


def effective_read_ids(task: ReadingTask) -> dict[str, int]:
    """The read each register of the task stands on (the validation engine's rule, for one task): register → read id."""
    from .engine.validate import effective_reads_of_tasks

    reads = effective_reads_of_tasks([task.pk])
    return dict(zip(reads["register"].to_list(), reads["read_id"].to_list(), strict=True))


@dataclass
class WalkStop:
    """One stop of a reader's walk: the task with what the reader needs on site."""

    task: ReadingTask
    last: dict[str, Decimal] = field(default_factory=dict)
    last_read_on: dt.date | None = None
    #: expected range of the total register, from the last consumption per day and the spike/drop thresholds
    expected_low: Decimal | None = None
    expected_high: Decimal | None = None
    current: dict[str, Decimal] = field(default_factory=dict)


def walk(plan: ReadingPlan, *, thresholds: dict | None = None) -> list[WalkStop]:
    """The plan's tasks in walk order, with last readings and expected ranges: three queries for the whole route.

    The expected range of the total is the last consumption per day × the days since the
    last read, widened by the org's drop and spike thresholds — the same limits the
    validation applies (for the account's usage category), so a value inside the range will
    not be flagged as a spike or drop.
    """
    from .thresholds import profile_for

    by_category: dict[str, dict] = {}

    def limits_of(task: ReadingTask) -> dict:
        if thresholds is not None:
            return thresholds
        category = task.account.usage_category if task.account_id else ""
        if category not in by_category:
            by_category[category] = profile_for(plan.org, plan.period, category)
        return by_category[category]

    tasks = list(plan.tasks.select_related("metering_point", "account", "meter").order_by("seq", "id"))
    point_ids = [t.metering_point_id for t in tasks]
    # earlier reads of these points, oldest period first: per point keep the last two read tasks
    history: dict[int, list[tuple[int, dt.date]]] = defaultdict(list)
    for task_id, point_id, read_at in (ReadingTask.objects
                                       .filter(metering_point_id__in=point_ids, plan__period__lt=plan.period)
                                       .exclude(read_at=None).order_by("plan__period", "id")
                                       .values_list("id", "metering_point_id", "read_at")):
        history[point_id] = (history[point_id] + [(task_id, timezone.localtime(read_at).date())])[-2:]
    task_values: dict[int, dict[str, Decimal]] = defaultdict(dict)
    wanted = [task_id for entries in history.values() for task_id, _day in entries] + [t.pk for t in tasks]
    for row in (RegisterRead.objects.filter(task_id__in=wanted, status=RegisterRead.Status.VALID)
                .order_by("read_at", "revision", "id").values_list("task_id", *REGISTERS)):
        task_values[row[0]].update({r: v for r, v in zip(REGISTERS, row[1:], strict=True) if v is not None})
    stops = []
    for task in tasks:
        stop = WalkStop(task=task, current=task_values.get(task.pk, {}))
        entries = history.get(task.metering_point_id, [])
        if entries:
            last_id, stop.last_read_on = entries[-1]
            stop.last = task_values.get(last_id, {})
            if len(entries) == 2:
                _expected_range(stop, task_values.get(entries[0][0], {}).get("total"), entries[0][1], plan,
                                limits_of(task))
        stops.append(stop)
    return stops


def _expected_range(stop: WalkStop, start_total, start_day: dt.date, plan: ReadingPlan, limits: dict) -> None:
    last_total = stop.last.get("total")
    if last_total is None or start_total is None or last_total < start_total:
        return
    per_day = (last_total - start_total) / max((stop.last_read_on - start_day).days, 1)
    expected = per_day * max((plan.scheduled_on - stop.last_read_on).days, 1)
    stop.expected_low = (last_total + expected * (1 - limits["drop_ratio"])).quantize(Decimal("0.01"))
    stop.expected_high = (last_total + expected * (1 + limits["spike_ratio"])).quantize(Decimal("0.01"))


# ---------------------------------------------------------------------------
# progress and indicators


@dataclass
class Tally:
    due: int = 0
    read: int = 0
    estimated: int = 0
    unreadable: int = 0
    pending: int = 0
    on_time: int = 0
    corrected: int = 0
    open_exceptions: int = 0

    def add(self, other: "Tally") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @staticmethod
    def _rate(part: int, whole: int) -> Decimal | None:
        return (Decimal(part) * 100 / whole).quantize(Decimal("0.01")) if whole else None

    @property
    def done(self) -> int:
        return self.read + self.estimated + self.unreadable

    @property
    def progress(self) -> Decimal | None:
        return self._rate(self.done, self.due)

    @property
    def actual_read_rate(self) -> Decimal | None:
        return self._rate(self.read, self.due)

    @property
    def error_rate(self) -> Decimal | None:
        return self._rate(self.corrected, self.read)

    @property
    def on_time_rate(self) -> Decimal | None:
        return self._rate(self.on_time, self.read)


def plan_tallies(plans: QuerySet) -> dict[int, Tally]:
    """Counts per plan in two aggregate queries (tasks by status; corrected and open exceptions)."""
    tallies: dict[int, Tally] = defaultdict(Tally)
    rows = (ReadingTask.objects.filter(plan__in=plans).values("plan_id")
            .annotate(due=Count("id"),
                      read=Count("id", filter=Q(status=TaskStatus.READ)),
                      estimated=Count("id", filter=Q(status=TaskStatus.ESTIMATED)),
                      unreadable=Count("id", filter=Q(status=TaskStatus.UNREADABLE)),
                      pending=Count("id", filter=Q(status=TaskStatus.PENDING)),
                      on_time=Count("id", filter=Q(status=TaskStatus.READ,
                                                   read_at__date__lte=F("plan__scheduled_on")))))
    for row in rows:
        tally = tallies[row.pop("plan_id")]
        for name, value in row.items():
            setattr(tally, name, value)
    for row in (ReadException.objects.filter(plan__in=plans).values("plan_id")
                .annotate(corrected=Count("task_id", distinct=True, filter=Q(resolution=Resolution.CORRECTED)),
                          open_exceptions=Count("id", filter=Q(status=ReadException.Status.OPEN)))):
        tally = tallies[row["plan_id"]]
        tally.corrected = row["corrected"]
        tally.open_exceptions = row["open_exceptions"]
    return tallies


@dataclass
class IndicatorRow:
    key: object
    label: str
    tally: Tally


def indicators(plans: QuerySet, by: str) -> list[IndicatorRow]:
    """Roll the plans' tallies up by ``route``, ``reader``, ``org`` or ``period``.

    Opening plans are left out: their reads are the previous system's, not reading work done here.
    """
    plans = plans.filter(opening=False).select_related("route", "reader", "org")
    tallies = plan_tallies(plans)
    grouped: dict[object, IndicatorRow] = {}
    for plan in plans:
        if by == "route":
            key, label = plan.route_id, str(plan.route)
        elif by == "reader":
            key, label = plan.reader_id, plan.reader.full_name if plan.reader else "—"
        elif by == "org":
            key, label = plan.org_id, plan.org.name
        else:
            key, label = plan.period, f"{plan.period:%Y-%m}"
        row = grouped.setdefault(key, IndicatorRow(key=key, label=label, tally=Tally()))
        row.tally.add(tallies.get(plan.pk, Tally()))
    return sorted(grouped.values(), key=lambda r: str(r.label))
