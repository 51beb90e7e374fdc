"""Monthly reading plans (抄表计划), generated set-based for every route of a company at once.

For a period (a month) every active route whose cycle reads that month gets one plan —
its org, reader and scheduled date (抄表例日, clipped to the month's last day) from the
route — and the plan gets one task per metering point to read:

* the point is an active settlement point (结算计量点) of an account of the same company
  whose ``reading_route_code`` is the route's code, which is not closed and which was
  connected (``opened_on``) by the scheduled date;
* the meter is the one installed on the point on the scheduled date; a point with no
  meter that is billed as a share of its parent (定比/定量) has nothing to read and gets
  no task; any other point without a meter gets a task, which validation reports as
  missing, so that an empty meter box is seen;
* the order of the walk is the point's ``route_order``;
* ``prev_read_on`` — the start of the reading interval — is the read date of the point's
  latest earlier task that was read (local date of ``read_at``), looking back at most
  ``PREV_READ_LOOKBACK_MONTHS``; a point not read in that time (or never) starts from
  the installation date of its meter.

Rerunning is idempotent: existing plans are kept (a released plan is not touched), only
missing tasks are added, and every plan's ``tasks_due`` is recounted.  Everything is read
with a few queries into Polars and written with one COPY (PostgreSQL) or executemany
(SQLite); no model instance is created per point.  This is a system-level function:
the service that calls it checks permissions and writes the audit record.
"""

from __future__ import annotations

import calendar
import datetime as dt
import time
from dataclasses import dataclass, field

import polars as pl
from django.db import transaction
from django.utils import timezone

from ..models import Cycle, PlanStatus, ReadingPlan, ReadingRoute
from . import frames
from .write import insert_frame, insert_ignoring_conflicts, refresh_tasks_due

#: how far back the last read of a point is looked for when setting ``prev_read_on``
PREV_READ_LOOKBACK_MONTHS = 24
#: from this many new tasks the plan and task tables' statistics are refreshed after the COPY (PostgreSQL)
ANALYZE_FROM_ROWS = 10_000


@dataclass
class PlanReport:
    period: str
    routes: int = 0
    plans_created: int = 0
    plans_existing: int = 0
    #: plans of the period already released to billing: left as they are
    plans_released: int = 0
    tasks_created: int = 0
    #: reads due in the period's open plans after the run
    tasks_due: int = 0
    seconds: float = 0.0
    plan_ids: list[int] = field(default_factory=list)


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month ``months`` after ``day``'s month (negative: before)."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def reads_in_month(cycle: str, odd_months: bool, month: int) -> bool:
    """Whether a route of this cycle is read in ``month`` (a two-monthly route in odd or even months)."""
    if cycle == Cycle.BIMONTHLY:
        return (month % 2 == 1) == bool(odd_months)
    return True


def scheduled_date(period: dt.date, read_day: int) -> dt.date:
    """The read day in the period's month; 31 (or any day past the end) is the month's last day."""
    last = calendar.monthrange(period.year, period.month)[1]
    return period.replace(day=max(1, min(int(read_day), last)))


def _routes(company_id: int, period: dt.date, route_ids, every_cycle: bool) -> list[dict]:
    """The active routes read in ``period`` — or, for opening plans, every active route: a bimonthly route's
    last reading before go-live is its start read whichever month it falls in."""
    routes = ReadingRoute.objects.filter(company_id=company_id, is_active=True)
    if route_ids is not None:
        routes = routes.filter(pk__in=list(route_ids))
    return [r for r in routes.values("id", "code", "org_id", "org_path", "company_id", "reader_id", "read_day",
                                     "cycle", "odd_months")
            if every_cycle or reads_in_month(r["cycle"], r["odd_months"], period.month)]


def _ensure_plans(routes: list[dict], period: dt.date, now: dt.datetime, opening: bool) -> tuple[list[dict], int]:
    """The period's plans of ``routes`` (created where missing, as opening plans or not); returns them and how many
    were created."""
    route_ids = [r["id"] for r in routes]
    existing = set(ReadingPlan.objects.filter(route_id__in=route_ids, period=period).values_list("route_id", flat=True))
    missing = [r for r in routes if r["id"] not in existing]
    if missing:
        insert_ignoring_conflicts("reading_readingplan", pl.DataFrame({
            "company_id": [r["company_id"] for r in missing],
            "org_id": [r["org_id"] for r in missing],
            "org_path": [r["org_path"] for r in missing],
            "route_id": [r["id"] for r in missing],
            "period": [period] * len(missing),
            "scheduled_on": [scheduled_date(period, r["read_day"]) for r in missing],
            "reader_id": pl.Series([r["reader_id"] for r in missing], dtype=pl.Int64),
            "status": [PlanStatus.OPEN.value] * len(missing),
            "tasks_due": [0] * len(missing),
            "generated_at": pl.Series([now] * len(missing)).dt.convert_time_zone("UTC"),
            "override_reason": [""] * len(missing),
            "opening": [opening] * len(missing),
        }))
    plans = list(ReadingPlan.objects.filter(route_id__in=route_ids, period=period)
                 .values("id", "route_id", "status", "scheduled_on"))
    return plans, len(missing)


POINT_COLUMNS = ["metering_point_id", "account_id", "route_code", "seq", "deduction", "opened_on"]
INSTALLATION_COLUMNS = ["metering_point_id", "meter_id", "installed_on", "removed_on", "installation_id"]


def _points_and_installations(company_id: int, codes: list[str], latest: dt.date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The settlement points of open accounts on the routes ``codes``, and their meter installations up to ``latest``.

    One query, the points with their installations left-joined (a point has one, or two
    around a meter change), split here: the metering points are read once for both.
    """
    code_sql, code_params = frames.text_condition("a.reading_route_code", codes)
    rows = frames.query(
        [("metering_point_id", "mp.id", "int"), ("account_id", "mp.account_id", "int"),
         ("route_code", "a.reading_route_code", "str"), ("seq", "mp.route_order", "int"),
         ("deduction", "mp.deduction", "str"), ("opened_on", "a.opened_on", "date"),
         ("meter_id", "mi.meter_id", "int"), ("installed_on", "mi.installed_on", "date"),
         ("removed_on", "mi.removed_on", "date"), ("installation_id", "mi.id", "int")],
        "FROM metering_meteringpoint mp JOIN customers_account a ON a.id = mp.account_id"
        " LEFT JOIN metering_meterinstallation mi ON mi.metering_point_id = mp.id AND mi.installed_on <= %s"
        " WHERE a.company_id = %s AND mp.kind = 'settlement' AND mp.is_active AND a.status <> 'CLOSED'"
        f" AND {code_sql}", [latest, company_id, *code_params])
    points = rows.select(POINT_COLUMNS).unique("metering_point_id", maintain_order=True)
    installs = rows.filter(pl.col("installation_id").is_not_null()).select(INSTALLATION_COLUMNS)
    return points, installs


def _meters_on(points: pl.DataFrame, installs: pl.DataFrame) -> pl.DataFrame:
    """(metering_point_id, scheduled_on) → the meter installed on that date."""
    return (
        points.select("metering_point_id", "scheduled_on")
        .join(installs, on="metering_point_id")
        .filter((pl.col("installed_on") <= pl.col("scheduled_on"))
                & (pl.col("removed_on").is_null() | (pl.col("removed_on") > pl.col("scheduled_on"))))
        .sort("installed_on", "installation_id")
        .group_by("metering_point_id", "scheduled_on").agg(pl.col("meter_id").last(),
                                                           pl.col("installed_on").last())
    )


def _last_read_dates(company_id: int, period: dt.date, points: pl.DataFrame) -> pl.DataFrame:
    """Per metering point: the local date of its latest earlier task that was read.

    The plans of the two months before are looked at first (a monthly or a two-monthly
    route's previous plan); only points not read there are looked up further back, up to
    ``PREV_READ_LOOKBACK_MONTHS``, through the point's index.
    """
    kinds = [("metering_point_id", "t.metering_point_id", "int"), ("period", "p.period", "date"),
             ("read_at", "t.read_at", "ts")]
    rest = ("FROM reading_readingtask t JOIN reading_readingplan p ON p.id = t.plan_id"
            " WHERE p.company_id = %s AND p.period < %s AND p.period >= %s AND t.read_at IS NOT NULL")
    recent = frames.query(kinds, rest, [company_id, period, add_months(period, -2)])
    missing = points.select("metering_point_id").unique().join(recent.select("metering_point_id"),
                                                               on="metering_point_id", how="anti")
    if missing.height:
        with frames.IdSet(missing["metering_point_id"]) as ids:
            condition, params = ids.where("t.metering_point_id")
            older = frames.query(kinds, f"{rest} AND p.period < %s AND {condition}",
                                 [company_id, period, add_months(period, -PREV_READ_LOOKBACK_MONTHS),
                                  add_months(period, -2), *params])
        recent = pl.concat([recent, older])
    return (recent.sort("period", "read_at").group_by("metering_point_id")
            .agg(last_read_on=frames.local_date(pl.col("read_at").last())))


@transaction.atomic
def generate_plans(*, company_id: int, period: dt.date, route_ids=None, now: dt.datetime | None = None,
                   opening: bool = False) -> PlanReport:
    """Create the period's missing plans and tasks for the company's routes (all, or ``route_ids``).

    ``opening`` makes the plans it creates opening plans (``ReadingPlan.opening``); plans that exist keep what
    they are — the service refuses to mix the two.
    """
    started = time.perf_counter()
    period = first_of_month(period)
    now = now or timezone.now()
    report = PlanReport(period=f"{period:%Y-%m}")
    frames.tune_transaction()
    routes = _routes(company_id, period, route_ids, every_cycle=opening)
    report.routes = len(routes)
    if not routes:
        report.seconds = time.perf_counter() - started
        return report
    plans, report.plans_created = _ensure_plans(routes, period, now, opening)
    report.plans_existing = len(plans) - report.plans_created
    report.plan_ids = sorted(p["id"] for p in plans)
    open_plans = [p for p in plans if p["status"] == PlanStatus.OPEN]
    report.plans_released = len(plans) - len(open_plans)
    if frames.postgres() and open_plans:
        # a concurrent run for the same plans waits here instead of copying the same tasks twice
        list(ReadingPlan.objects.select_for_update().filter(pk__in=[p["id"] for p in open_plans])
             .values_list("pk", flat=True))
    code_of = {r["id"]: r["code"] for r in routes}
    plan_frame = pl.DataFrame({
        "plan_id": [p["id"] for p in open_plans],
        "route_code": [code_of[p["route_id"]] for p in open_plans],
        "scheduled_on": pl.Series([p["scheduled_on"] for p in open_plans], dtype=pl.Date),
    }, schema={"plan_id": pl.Int64, "route_code": pl.Utf8, "scheduled_on": pl.Date})
    installs = None
    if open_plans:
        points, installs = _points_and_installations(company_id, list(plan_frame["route_code"]),
                                                     plan_frame["scheduled_on"].max())
        points = (points.join(plan_frame, on="route_code")
                  # an account connected after the read date has nothing to read yet
                  .filter(pl.col("opened_on") <= pl.col("scheduled_on")))
        existing = frames.fetch(*_existing_tasks_sql([p["id"] for p in open_plans]),
                                {"plan_id": "int", "metering_point_id": "int"})
        points = points.join(existing, on=["plan_id", "metering_point_id"], how="anti")
    else:
        points = pl.DataFrame()
    if points.height:
        meters = _meters_on(points, installs)
        last_reads = _last_read_dates(company_id, period, points)
        tasks = (
            points.join(meters, on=["metering_point_id", "scheduled_on"], how="left")
            .join(last_reads, on="metering_point_id", how="left")
            # a share of its parent's energy (定比/定量) without a meter of its own is not read
            .filter(pl.col("meter_id").is_not_null() | (pl.col("deduction") == "none"))
            .select(
                "plan_id", "metering_point_id", "account_id", "meter_id", "seq",
                status=pl.lit("pending"), check_status=pl.lit("unchecked"),
                prev_read_on=pl.coalesce("last_read_on", "installed_on"),
                source=pl.lit(""), unreadable_reason=pl.lit(""), photo_ref=pl.lit(""),
            )
            # in the order of the points: the unique key (point, plan) and the account's index are then written
            # leaf after leaf rather than at random
            .sort("metering_point_id", "plan_id")
        )
        report.tasks_created = insert_frame("reading_readingtask", tasks)
    refresh_tasks_due([p["id"] for p in open_plans])
    if report.tasks_created >= ANALYZE_FROM_ROWS:
        frames.analyze("reading_readingplan", "reading_readingtask")
    report.tasks_due = sum(ReadingPlan.objects.filter(pk__in=[p["id"] for p in open_plans])
                           .values_list("tasks_due", flat=True)) if open_plans else 0
    report.seconds = time.perf_counter() - started
    return report


def _existing_tasks_sql(plan_ids: list[int]) -> tuple[str, list]:
    condition, params = frames.ids_condition("plan_id", plan_ids)
    return (f"SELECT {frames.select_list([('plan_id', 'plan_id', 'int'), ('metering_point_id', 'metering_point_id', 'int')])}"
            f" FROM reading_readingtask WHERE {condition}", params)
