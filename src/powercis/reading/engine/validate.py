"""Validation before billing (数据审核): every task of whole plans checked at once, vectorised.

The checks and their sources are in domain/metering-audit.md §2; their thresholds are
the org's validation profile in force for the plan's period (``reading.thresholds``,
loaded once per distinct org and period).  One run:

1. **Effective read** of each task, per register: the latest valid read entered for the
   task (sources manual, handheld, import, estimate, correct — a correction supersedes
   the read it corrects, so it is the valid one).  A task of a remote route that has no
   such read takes its meter's latest valid remote/AMI reading in the window
   ``[scheduled_on − REMOTE_WINDOW_BEFORE_DAYS, scheduled_on + REMOTE_WINDOW_AFTER_DAYS)``
   (local midnights): the read of the latest instant in it that has a total, with every
   register it has; the task is then marked read (or estimated) with that instant and
   source.  A reading entered on site always wins over collection (§2: on-site prevails).
2. **Start read**: the effective read of the point's latest earlier task that has one
   (computed the same way; earlier tasks without any read are skipped, up to
   ``HISTORY_SLACK`` of them), else the reads recorded when the current meter was
   installed.  A register the installation record has no reading for (a register the
   meter was not registered with, such as reverse energy) starts at 0.
3. **Meter change** (换表): when the start read is of another meter than the end read,
   consumption = (old meter's removal read − start) + (end − new meter's install read),
   plus removal − install of any meter installed and removed in between.  Always
   reported (``meter_change``, for information, with the numbers); a removal read below
   the last billed read is ``removal_lower`` (metering-audit §4: energy goes missing).
4. **Consumption** per energy register = end − start, then the checks below.
5. **Write**: the open exceptions of the validated tasks are deleted and the new ones
   inserted, except any (task, check, register, read) already resolved — a confirmed
   exception is not raised again for the same read; each task's ``check_status`` (and
   for remote tasks status, read time and source) is set with one set-based update that
   touches only rows that change, and, when whole plans were validated, the plans'
   ``validated_at``.

Reading is done in one query (``effective_reads_of``; on PostgreSQL two scans that do not
grow with the history, see ``_fetch_reads_postgresql``): the reads
entered for the tasks and their earlier tasks (every register for the latest earlier
task of each point, the reads with a total and only their total for the deeper history
and last year's), and the collection reads of the remote tasks' meters inside the merged
collection windows.  The table holds one row per meter and instant with a column per
register; the rows are turned into one row per register the read has
(``frames.long_reads``), and the choice of the effective read and every check below
work per register, in Polars.  The earlier reads looked at are those of the last
``levels + HISTORY_SLACK`` tasks of each point, where ``levels`` is the largest streak
length the profiles in force ask for (at least 2).

Decisions recorded here (not thresholds, so not in the profile):

* Energy compared against a kWh limit is register consumption × the point's multiplier
  (the current one).  The plausibility cap is ``max(contract, running capacity) kVA ×
  days × hours_per_day_cap``, or ``residential_daily_cap_kwh × days`` when the account
  has no capacity.  Positive consumption is checked against it on the total register.
* A reading below the start is a rollover only when the start lies in the top
  ``ROLLOVER_ZONE`` of the register's range (10^digits); its implied consumption
  (10^digits − start + end) must be plausible, else it is ``implausible`` — never
  accepted.  Anywhere else it is ``lower``.
* ``spike``/``drop`` compare consumption per day with the previous interval's (between
  the two earlier reads, or for a point read once before, from its meter's
  installation); ``yoy_*`` with the interval of the same period last year.  A reference
  below ``ratio_floor_kwh``, or longer than two reading cycles (2 × interval_max_days:
  an average over years since an installation says nothing about a season), is not
  compared.  With ``spike_confirm_yoy`` (the default), a change against last period
  that the same period last year shows too — by more than the same share, against
  last year's interval — is a season, not an exception; where there is no last year
  to compare with, last period decides alone.  A drop to zero is both ``zero`` and
  ``drop``.
* ``tou_sum`` compares the total with the sum of the TOU registers present (at least
  two) on the readings — modulo 10^digits, as registers roll over independently — and
  on the increments, with tolerance ``tou_tolerance_lsb × (n − 1)`` last digits.
* ``interval`` is checked from the start read, or from the installation for a meter's
  first read (a new connection or a meter changed in the period shows as such).
* A TOU register that is lower, rolled over or implausible together with the total is
  reported once, on the total.
* ``demand_over`` applies to every account with a demand reading and a contract
  capacity above zero, whatever the capacity-charge basis: demand above the contract
  is an over-run for demand-billed accounts and a sign of capacity added without an
  application (私增容量) for the others.  Demand is register value × multiplier.
* ``reverse``: an account generates, and may show reverse energy, when its (or its
  point's) usage category is in ``settings.POWERCIS_GENERATION_USAGE_CATEGORIES``
  (default ``PV``, ``GEN``: codes a company adds to its usage-category table for
  distributed PV and own plants) or its industry class starts with ``D441``
  (GB/T 4754-2017 电力生产).
* Account attributes (status, capacities, category) are those of the account version
  in force on the plan's scheduled date (effective dating, DESIGN rule 3).
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from powercis.core.models import Org

from .. import thresholds as threshold_catalogue
from ..models import Check, Severity
from . import frames
from .frames import DEC, IdSet
from .plans import add_months
from .write import delete_open_exceptions, insert_frame, set_plans_validated, update_from_frame

#: the window around the scheduled date in which a remote route's reading is taken from collection
REMOTE_WINDOW_BEFORE_DAYS = 3
REMOTE_WINDOW_AFTER_DAYS = 1
#: a reading below the start is a rollover only when the start is in this top share of the register's range
ROLLOVER_ZONE = Decimal("0.1")
#: earlier tasks without any read that are skipped when looking for the start read and the history
HISTORY_SLACK = 2
TASK_SOURCES = ("manual", "handheld", "import", "estimate", "correct")
REMOTE_SOURCES = ("remote", "ami")
ENERGY_REGISTERS = ("total", "sharp", "peak", "flat", "valley", "reactive", "reverse")
TOU_REGISTERS = ("sharp", "peak", "flat", "valley")
ALL_REGISTERS = (*ENERGY_REGISTERS, "demand")
DEFAULT_GENERATION_CATEGORIES = ("PV", "GEN")
GENERATION_INDUSTRY_PREFIX = "D441"

SEVERITY = {
    Check.ZERO: Severity.WARN, Check.ZERO_STREAK: Severity.BLOCK, Check.SPIKE: Severity.BLOCK,
    Check.DROP: Severity.BLOCK, Check.YOY_SPIKE: Severity.WARN, Check.YOY_DROP: Severity.WARN,
    Check.LOWER: Severity.BLOCK, Check.ROLLOVER: Severity.WARN, Check.IMPLAUSIBLE: Severity.BLOCK,
    Check.TOU_SUM: Severity.BLOCK, Check.MISSING: Severity.BLOCK, Check.ESTIMATED: Severity.WARN,
    Check.ESTIMATE_STREAK: Severity.BLOCK, Check.INTERVAL: Severity.WARN, Check.DEMAND_OVER: Severity.BLOCK,
    Check.REVERSE: Severity.BLOCK, Check.METER_CHANGE: Severity.WARN, Check.REMOVAL_LOWER: Severity.BLOCK,
    Check.UNREADABLE: Severity.BLOCK,
}

DEC8 = pl.Decimal(38, 8)
_temp = itertools.count(1)
#: from this many tasks their reads are fetched in one scan of the reads table; below, through the indexes
SCAN_FROM_TASKS = 20_000
EXCEPTION_COLUMNS = {"task_id": pl.Int64, "register": pl.Utf8, "read_id": pl.Int64, "rule": pl.Utf8,
                     "detail": pl.Utf8}


@dataclass
class ValidationReport:
    plans: int = 0
    tasks_checked: int = 0
    #: tasks of remote routes whose reading was taken from collection in this run
    remote_reads_applied: int = 0
    exceptions_opened: int = 0
    #: exceptions found again but already resolved for the same read: not raised
    exceptions_already_resolved: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)
    tasks_passed: int = 0
    tasks_with_exceptions: int = 0
    tasks_cleared: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# scope and loading


class Scope:
    """The tasks being validated: whole plans, or a list of tasks (after a correction)."""

    def __init__(self, *, plan_ids=None, task_ids=None):
        self.plan_ids = sorted({int(p) for p in plan_ids}) if plan_ids is not None else None
        # a month has thousands of plans: as a table (not an array the planner probes element by element)
        self.ids = IdSet(self.plan_ids) if plan_ids is not None else IdSet(task_ids)
        self.points: IdSet | None = None

    def __enter__(self) -> Scope:
        self.ids.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.points is not None:
            self.points.__exit__(*exc)
        self.ids.__exit__(*exc)

    def keep_points(self, tasks: pl.DataFrame) -> None:
        """Keep the metering points of the scope's tasks (just loaded) as a set for the loads that follow.

        History, installations and meters are all selected by point: given the points as
        a table, each of those queries reads its own table once instead of scanning the
        tasks table again to find the scope's points (a month-end: three scans of every
        period's tasks saved).
        """
        if self.points is not None:
            self.points.__exit__(None, None, None)
        self.points = IdSet(tasks["metering_point_id"]).__enter__()

    def point_where(self, expr: str) -> tuple[str, list]:
        """SQL condition: ``expr`` is one of the scope's metering points (after :meth:`keep_points`)."""
        if self.points is None:
            raise RuntimeError("the scope's tasks have not been loaded")
        return self.points.where(expr)

    @property
    def task_set(self) -> IdSet | None:
        return self.ids if self.plan_ids is None else None

    def where(self, alias: str = "t") -> tuple[str, list]:
        """Condition selecting the scope's tasks from ``reading_readingtask`` aliased ``alias``."""
        if self.plan_ids is not None:
            return self.ids.where(f"{alias}.plan_id")
        return self.ids.where(f"{alias}.id")


READ_COLUMNS = {"task_id": "int", "read_id": "int", "register": "str", "value": "dec", "read_at": "ts",
                "estimated": "bool", "source": "str", "revision": "int", "meter_id": "int"}
#: the reads as fetched: one row per read (meter and instant) with a ``v_<register>`` column per register;
#: ``frames.long_reads`` turns them into READ_COLUMNS, one row per register the read has
WIDE_READ_COLUMNS = {"task_id": "int", "read_id": "int", "read_at": "ts", "estimated": "bool", "source": "str",
                     "revision": "int", "meter_id": "int", **frames.REGISTER_KINDS}
TARGET_SCHEMA = {"task_id": pl.Int64, "meter_id": pl.Int64, "method": pl.Utf8, "scheduled_on": pl.Date,
                 "all_registers": pl.Boolean}


def _in_list(expr: str, values) -> str:
    return f"{expr} IN ({', '.join(repr(v) for v in values)})"


def remote_windows(targets: pl.DataFrame) -> pl.DataFrame:
    """The collection window of each task: [scheduled_on − before, scheduled_on + after) between local midnights."""
    def midnight(days: int) -> pl.Expr:
        return ((pl.col("scheduled_on") + pl.duration(days=days)).cast(pl.Datetime("us"))
                .dt.replace_time_zone(settings.TIME_ZONE).dt.convert_time_zone("UTC"))

    # computed per distinct date (a month has a few read days), then given to the tasks
    dates = targets.select("scheduled_on").unique().with_columns(
        window_start=midnight(-REMOTE_WINDOW_BEFORE_DAYS), window_end=midnight(REMOTE_WINDOW_AFTER_DAYS))
    return targets.join(dates, on="scheduled_on", how="left")


def _merged(ranges: list[tuple[dt.datetime, dt.datetime]]) -> list[tuple[dt.datetime, dt.datetime]]:
    merged: list[list[dt.datetime]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def effective_reads_of(targets: pl.DataFrame) -> pl.DataFrame:
    """The effective read per (task, register) of the target tasks, from one pass over the reads.

    ``targets``: task_id, meter_id, method (of the task's route), scheduled_on and
    ``all_registers`` (False: the total register only, for the deeper history).  The
    reads (one row per meter and instant, a column per register) are fetched in one
    query — those entered for the tasks, and the collection reads of the remote tasks'
    meters inside the (merged) collection windows; for the total-only targets only the
    reads that have a total — and the choice is made here, one row per register the read
    has: a task's own latest valid read per register; for a remote task without any, the
    read of the latest instant in its window that has a total, with the registers it has.
    Columns: task_id, register, read_id, value, read_at, estimated, source, meter_id,
    origin ("task" or "remote").
    """
    empty = frames.empty(READ_COLUMNS).drop("revision").with_columns(origin=pl.lit(None, pl.Utf8))
    if targets.height == 0:
        return empty
    if targets["task_id"].n_unique() < targets.height:  # a task wanted twice: once in full is enough
        targets = targets.sort("all_registers", descending=True).unique("task_id", keep="first")
    remote = remote_windows(targets.filter((pl.col("method") == "remote") & pl.col("meter_id").is_not_null()))
    # collection reads: every read in the windows of tasks read in full, those with a total in the others
    spans_all = remote.filter(pl.col("all_registers")).select("window_start", "window_end").unique()
    spans_total = remote.filter(~pl.col("all_registers")).select("window_start", "window_end").unique()
    windows_all = _merged(list(zip(spans_all["window_start"], spans_all["window_end"], strict=True)))
    windows_total = [w for w in _merged(list(zip(spans_total["window_start"], spans_total["window_end"],
                                                 strict=True))) if w not in windows_all]
    spans, span_params = [], []
    for windows, register_filter in ((windows_all, ""), (windows_total, "r.total IS NOT NULL AND ")):
        if windows:
            ranges = " OR ".join(["(r.read_at >= %s AND r.read_at < %s)"] * len(windows))
            spans.append(f"({register_filter}({ranges}))")
            span_params += [x for w in windows for x in w]
    in_windows = " OR ".join(spans) or "1 = 0"
    if targets.height < SCAN_FROM_TASKS:
        raw = _fetch_reads_by_index(targets, remote, in_windows, span_params)
    elif frames.postgres():
        raw = _fetch_reads_postgresql(targets, remote, in_windows, span_params)
    else:
        raw = _fetch_reads_sqlite(targets, remote, in_windows, span_params)
    # the queries already keep the total-only tasks' reads to those with a total; the other registers of those
    # reads go when the reads are turned into one row per register
    own = (raw.filter(pl.col("source").is_in(TASK_SOURCES) & pl.col("task_id").is_not_null())
           .join(targets.select("task_id", "all_registers"), on="task_id")
           .with_columns(origin=pl.lit("task")))
    collected = raw.filter(pl.col("source").is_in(REMOTE_SOURCES)).drop("task_id")
    # the instant of each remote task's reading: its meter's latest read with a total before the window's end
    # (as-of join by meter), kept when it is not before the window's start; then the read(s) of that instant
    pending = (remote.join(own.select("task_id").unique(), on="task_id", how="anti")
               .select("task_id", "meter_id", "all_registers", "window_start", "window_end").sort("window_end"))
    instants = (collected.filter(pl.col("v_total").is_not_null()).select("meter_id", instant="read_at").unique()
                .sort("instant"))
    chosen = (pending.join_asof(instants, left_on="window_end", right_on="instant", by="meter_id",
                                strategy="backward", allow_exact_matches=False, check_sortedness=False)
              .filter(pl.col("instant") >= pl.col("window_start")))
    taken = (chosen.select("task_id", "meter_id", "all_registers", read_at="instant")
             .join(collected, on=["meter_id", "read_at"])
             .select(own.drop("origin").columns).with_columns(origin=pl.lit("remote")))
    wide = pl.concat([own, taken])
    if wide.height == 0:
        return empty
    # a total-only target keeps its read's total: the other registers are blanked before the reads are turned
    # into one row per register (a blank register gives no row), rather than made into rows and dropped
    wide = wide.with_columns([pl.when(pl.col("all_registers")).then(pl.col(f"v_{r}")).alias(f"v_{r}")
                              for r in ALL_REGISTERS if r != "total"])
    # usually one valid read per task; a task with several (entered twice, corrected per register) keeps per
    # register the latest (then revision, id) — decided on the few tasks concerned, not on every register row
    several = wide["task_id"].is_duplicated()
    if several.any():
        latest = (frames.long_reads(wide.filter(several)).sort("read_at", "revision", "read_id")
                  .unique(["task_id", "register"], keep="last"))
        reads = pl.concat([frames.long_reads(wide.filter(~several)), latest])
    else:
        reads = frames.long_reads(wide)
    if reads.height == 0:
        return empty
    return reads.select(*READ_COLUMNS, "origin").drop("revision")


def _fetch_reads_by_index(targets: pl.DataFrame, remote: pl.DataFrame, in_windows: str, span_params: list):
    """A few tasks (a correction, a page): their reads through the task index and the meters' read key."""
    every_ids = targets.filter(pl.col("all_registers"))["task_id"]
    total_ids = targets.filter(~pl.col("all_registers"))["task_id"]
    with IdSet(every_ids) as every, IdSet(total_ids) as totals, IdSet(remote["meter_id"]) as meters:
        branches, params = [], []
        for ids, register_filter in ((every, ""), (totals, " AND r.total IS NOT NULL")):
            source, source_params, key = ids.table("k")
            branches.append(f"SELECT {_read_select('r', 'r.task_id')} FROM {source}"
                            f" JOIN reading_registerread r ON r.task_id = {key}"
                            f" WHERE r.status = 'valid' AND {_in_list('r.source', TASK_SOURCES)}{register_filter}")
            params += source_params
        source, source_params, key = meters.table("m")
        branches.append(f"SELECT {_read_select('r', 'r.task_id')} FROM {source}"
                        f" JOIN reading_registerread r ON r.meter_id = {key}"
                        f" WHERE r.status = 'valid' AND {_in_list('r.source', REMOTE_SOURCES)} AND ({in_windows})")
        params += [*source_params, *span_params]
        return frames.fetch(" UNION ALL ".join(branches), params, WIDE_READ_COLUMNS)


def _fetch_reads_postgresql(targets: pl.DataFrame, remote: pl.DataFrame, in_windows: str, span_params: list):
    """Two scans that do not grow with the history: the tasks' own reads, and the collection reads in the windows.

    Own reads come through the partial index on ``task_id`` (only reads entered for a task
    are in it — no head-end read), hash-joined to the tasks with their register scope.
    Collection reads come through the BRIN index on ``read_at`` (migration
    ``reading.0005``): reads arrive in time order, so the blocks of the merged windows —
    a few days a month — are all that is read, hash-joined to the remote meters.  A
    month-end over a year of daily frozen reads then reads a few days of them, not the
    year.  Joins rather than ``IN (subquery)``: PostgreSQL turns the latter into a hashed
    subplan only while the ids fit in work_mem, and otherwise into a per-row scan.
    """
    keys = targets.select(id="task_id", every="all_registers")
    tasks_table, meters_table = f"_reading_keys_{next(_temp)}", f"_reading_meters_{next(_temp)}"
    with connection.cursor() as cursor:
        # no index: both are only hashed, and indexing millions of rows into temporary buffers costs seconds
        cursor.execute(f"CREATE TEMPORARY TABLE {tasks_table} (id bigint NOT NULL, every boolean NOT NULL)")
        cursor.execute(f"CREATE TEMPORARY TABLE {meters_table} (id bigint NOT NULL)")
        try:
            insert_frame(tasks_table, keys)
            insert_frame(meters_table, remote.select(id="meter_id").unique())
            cursor.execute(f"ANALYZE {tasks_table}")
            cursor.execute(f"ANALYZE {meters_table}")
            return frames.fetch(
                f"SELECT {_read_select('r', 'r.task_id')} FROM reading_registerread r"
                f" JOIN {tasks_table} k ON k.id = r.task_id"
                f" WHERE r.task_id IS NOT NULL AND r.status = 'valid' AND {_in_list('r.source', TASK_SOURCES)}"
                " AND (k.every OR r.total IS NOT NULL)"
                f" UNION ALL SELECT {_read_select('r', 'r.task_id')} FROM reading_registerread r"
                f" JOIN {meters_table} m ON m.id = r.meter_id"
                f" WHERE r.status = 'valid' AND {_in_list('r.source', REMOTE_SOURCES)} AND ({in_windows})",
                span_params, WIDE_READ_COLUMNS)
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {tasks_table}, {meters_table}")


def _fetch_reads_sqlite(targets: pl.DataFrame, remote: pl.DataFrame, in_windows: str, span_params: list):
    """The same selection on SQLite, whose ``IN (SELECT … FROM json_each(?))`` builds a temporary index once."""
    with (IdSet(targets.filter(pl.col("all_registers"))["task_id"]) as every,
          IdSet(targets.filter(~pl.col("all_registers"))["task_id"]) as totals,
          IdSet(remote["meter_id"]) as meters):
        every_sql, every_params = every.where("r.task_id")
        totals_sql, totals_params = totals.where("r.task_id")
        meters_sql, meters_params = meters.where("r.meter_id")
        return frames.fetch(
            f"SELECT {_read_select('r', 'r.task_id')} FROM reading_registerread r WHERE r.status = 'valid' AND ("
            f"({_in_list('r.source', TASK_SOURCES)} AND ({every_sql} OR (r.total IS NOT NULL AND {totals_sql})))"
            f" OR ({_in_list('r.source', REMOTE_SOURCES)} AND {meters_sql} AND ({in_windows})))",
            [*every_params, *totals_params, *meters_params, *span_params], WIDE_READ_COLUMNS)


def plan_targets(plan_ids, *, all_registers: bool = True) -> pl.DataFrame:
    """The tasks of whole plans as targets of :func:`effective_reads_of`."""
    condition, params = frames.ids_condition("t.plan_id", plan_ids)
    return frames.query(
        [("task_id", "t.id", "int"), ("meter_id", "t.meter_id", "int"), ("method", "rt.method", "str"),
         ("scheduled_on", "p.scheduled_on", "date")],
        "FROM reading_readingtask t JOIN reading_readingplan p ON p.id = t.plan_id"
        f" JOIN reading_readingroute rt ON rt.id = p.route_id WHERE {condition}", params,
    ).with_columns(all_registers=pl.lit(all_registers))


def effective_reads_of_tasks(task_ids) -> pl.DataFrame:
    """The effective reads of the given tasks, every register (what a page showing a few tasks needs)."""
    with IdSet(task_ids) as ids:
        condition, params = ids.where("t.id")
        targets = frames.query(
            [("task_id", "t.id", "int"), ("meter_id", "t.meter_id", "int"), ("method", "rt.method", "str"),
             ("scheduled_on", "p.scheduled_on", "date")],
            "FROM reading_readingtask t JOIN reading_readingplan p ON p.id = t.plan_id"
            f" JOIN reading_readingroute rt ON rt.id = p.route_id WHERE {condition}", params)
    return effective_reads_of(targets.with_columns(all_registers=pl.lit(True)))


def _read_select(alias: str, task_expr: str) -> str:
    """The select list of :data:`WIDE_READ_COLUMNS` for the reads aliased ``alias``."""
    return frames.select_list([
        ("task_id", task_expr, "int"), ("read_id", f"{alias}.id", "int"), ("read_at", f"{alias}.read_at", "ts"),
        ("estimated", f"{alias}.estimated", "bool"), ("source", f"{alias}.source", "str"),
        ("revision", f"{alias}.revision", "int"), ("meter_id", f"{alias}.meter_id", "int"),
        *frames.register_columns(alias),
    ])


#: the plan's columns every task of it carries: loaded once per plan and joined, not sent once per task
PLAN_COLUMNS = [("plan_id", "p.id", "int"), ("period", "p.period", "date"), ("scheduled_on", "p.scheduled_on", "date"),
                ("org_id", "p.org_id", "int"), ("org_path", "p.org_path", "str"), ("company_id", "p.company_id", "int"),
                ("cycle", "rt.cycle", "str"), ("method", "rt.method", "str")]


def _plan_rows(condition: str, params) -> pl.DataFrame:
    """Plans (aliased ``p`` in ``condition``) with their route's cycle and reading method: ``PLAN_COLUMNS``."""
    return frames.query(PLAN_COLUMNS, "FROM reading_readingplan p JOIN reading_readingroute rt ON rt.id = p.route_id"
                        f" WHERE {condition}", params)


def _plans(scope: Scope) -> pl.DataFrame:
    """The plans of the scope's tasks."""
    if scope.plan_ids is not None:
        return _plan_rows(*scope.ids.where("p.id"))
    task_condition, params = scope.where("t")
    return _plan_rows(f"p.id IN (SELECT t.plan_id FROM reading_readingtask t WHERE {task_condition})", params)


def _tasks(scope: Scope) -> pl.DataFrame:
    """The scope's tasks with their plan, metering point and account as of the read day; keeps their points.

    The tasks of opening plans are left out: validating one checks nothing and only marks the plan validated.
    """
    condition, params = scope.where("t")
    tasks = frames.query(
        [("task_id", "t.id", "int"), ("plan_id", "t.plan_id", "int"), ("metering_point_id", "t.metering_point_id", "int"),
         ("account_id", "t.account_id", "int"), ("task_meter_id", "t.meter_id", "int"), ("status", "t.status", "str"),
         ("check_status", "t.check_status", "str"), ("unreadable_reason", "t.unreadable_reason", "str"),
         ("task_read_at", "t.read_at", "ts"), ("task_source", "t.source", "str"),
         ("multiplier", "mp.multiplier", "dec"), ("point_usage", "mp.usage_category", "str"),
         ("account_status", "COALESCE(v.status, a.status)", "str"),
         ("contract_capacity", "COALESCE(v.contract_capacity, a.contract_capacity)", "dec"),
         ("running_capacity", "COALESCE(v.running_capacity, a.running_capacity)", "dec"),
         ("usage_category", "COALESCE(v.usage_category, a.usage_category)", "str"),
         ("industry_class", "a.industry_class", "str")],
        "FROM reading_readingtask t JOIN reading_readingplan p ON p.id = t.plan_id"
        " JOIN metering_meteringpoint mp ON mp.id = t.metering_point_id"
        " LEFT JOIN customers_account a ON a.id = t.account_id"
        " LEFT JOIN customers_accountversion v ON v.account_id = t.account_id AND v.valid_from <= p.scheduled_on"
        "  AND (v.valid_to IS NULL OR v.valid_to > p.scheduled_on)"
        # opening readings (期初) have nothing before them to be checked against: they are only start reads
        f" WHERE {condition} AND NOT p.opening", params,
    ).unique("task_id", keep="first", maintain_order=True).join(_plans(scope), on="plan_id", how="left").with_columns(
        pl.col("multiplier").fill_null(Decimal(1)), pl.col("contract_capacity").fill_null(Decimal(0)),
        pl.col("running_capacity").fill_null(Decimal(0)),
        *[pl.col(c).fill_null("") for c in ("point_usage", "account_status", "usage_category", "industry_class",
                                           "unreadable_reason", "task_source")])
    scope.keep_points(tasks)
    return tasks


def _history(scope: Scope, periods: list[dt.date], months_back: int) -> pl.DataFrame:
    """Earlier tasks of the scope's points: the recent ones and those around the same period last year.

    The tasks come with their plan's id only; the plans of those periods (a few thousand
    rows) are read once and joined here, rather than their period, read day and method
    being sent once per task.
    """
    condition, params = scope.point_where("t.metering_point_id")
    first, last = min(periods), max(periods)
    in_periods = "((p.period >= %s AND p.period < %s) OR (p.period >= %s AND p.period <= %s))"
    period_params = [add_months(first, -months_back), last, add_months(first, -14), add_months(last, -12)]
    plans = _plan_rows(in_periods, period_params).select("plan_id", hist_period="period", hist_method="method",
                                                          hist_scheduled_on="scheduled_on")
    tasks = frames.query(
        [("hist_task_id", "t.id", "int"), ("metering_point_id", "t.metering_point_id", "int"),
         ("plan_id", "t.plan_id", "int"), ("hist_meter_id", "t.meter_id", "int")],
        f"FROM reading_readingtask t WHERE {condition}"
        f" AND t.plan_id IN (SELECT p.id FROM reading_readingplan p WHERE {in_periods})", [*params, *period_params])
    return tasks.join(plans, on="plan_id").select("hist_task_id", "metering_point_id", "hist_period", "hist_meter_id",
                                                  "hist_method", "hist_scheduled_on")


METER_COLUMNS = [("meter_id", "m.id", "int"), ("digits", "m.digits", "int"), ("decimals", "m.decimals", "int"),
                 ("asset_no", "m.asset_no", "str")]


def _installations(scope: Scope) -> pl.DataFrame:
    """Every meter installation of the scope's points — which meter, from when to when — with the meter's
    digits, decimals and asset number (the reads come later; :func:`_meters_in` takes the meters from it)."""
    condition, params = scope.point_where("mi.metering_point_id")
    return frames.query(
        [("installation_id", "mi.id", "int"), ("metering_point_id", "mi.metering_point_id", "int"),
         ("meter_id", "mi.meter_id", "int"), ("installed_on", "mi.installed_on", "date"),
         ("removed_on", "mi.removed_on", "date"), *METER_COLUMNS[1:]],
        f"FROM metering_meterinstallation mi JOIN metering_meter m ON m.id = mi.meter_id WHERE {condition}", params)


def installation_reads(installation_ids) -> pl.DataFrame:
    """The install and removal reads of the given installations, long: (installation_id, register, values)."""
    with IdSet(installation_ids) as ids:
        condition, params = ids.where("mi.id")
        rows = frames.query(
            [("installation_id", "mi.id", "int"), ("install_reads", "mi.install_reads", "json"),
             ("removal_reads", "mi.removal_reads", "json")],
            f"FROM metering_meterinstallation mi WHERE {condition}", params)
    return installation_values(rows)


def installation_values(installs: pl.DataFrame) -> pl.DataFrame:
    """Long form of the install and removal reads: (installation_id, register, install_value, removal_value)."""
    if installs.height == 0:
        return pl.DataFrame(schema={"installation_id": pl.Int64, "register": pl.Utf8, "install_value": DEC,
                                    "removal_value": DEC})
    parsed = installs.select(
        "installation_id",
        frames.register_struct("install_reads", ALL_REGISTERS).alias("i"),
        frames.register_struct("removal_reads", ALL_REGISTERS).alias("r"))
    long = []
    for register in ALL_REGISTERS:
        long.append(parsed.select(
            "installation_id", register=pl.lit(register),
            install_value=pl.col("i").struct.field(register).cast(DEC, strict=False),
            removal_value=pl.col("r").struct.field(register).cast(DEC, strict=False)))
    return pl.concat(long).filter(pl.col("install_value").is_not_null() | pl.col("removal_value").is_not_null())


def _meter_columns(meters: pl.DataFrame) -> pl.DataFrame:
    return meters.with_columns(
        register_max=pl.col("digits").replace_strict({d: Decimal(10) ** d for d in range(0, 21)}, return_dtype=DEC),
        lsb=pl.col("decimals").replace_strict({d: Decimal(1).scaleb(-d) for d in range(0, 5)}, return_dtype=DEC))


def _meters(meter_ids) -> pl.DataFrame:
    with IdSet(meter_ids) as ids:
        condition, params = ids.where("m.id")
        return _meter_columns(frames.query(METER_COLUMNS, f"FROM metering_meter m WHERE {condition}", params))


def _meters_in(installs: pl.DataFrame) -> pl.DataFrame:
    """The meters ever installed on the scope's points (every meter a task or a read of them can name)."""
    return _meter_columns(installs.select([name for name, _e, _k in METER_COLUMNS]).unique("meter_id"))


def _resolved(scope: Scope) -> pl.DataFrame:
    condition, params = scope.where("t")
    return frames.query(
        [("task_id", "e.task_id", "int"), ("rule", "e.rule", "str"), ("register", "e.register", "str"),
         ("read_id", "e.read_id", "int")],
        "FROM reading_readexception e JOIN reading_readingtask t ON t.id = e.task_id"
        f" WHERE e.status = 'resolved' AND {condition}", params)


def thresholds_by_plan(tasks: pl.DataFrame) -> pl.DataFrame:
    """The thresholds in force per plan and usage category, one profile lookup per distinct (org, period, category)."""
    pairs = tasks.select("plan_id", "org_id", "period", "usage_category").unique()
    orgs = {o.pk: o for o in Org.objects.filter(pk__in=pairs["org_id"].unique().to_list())}
    parents: dict[int, dict[str, str]] = {}  # per company, the code table read once
    cache: dict[tuple[int, dt.date, str], dict[str, Decimal]] = {}
    rows = []
    for plan_id, org_id, period, category in pairs.iter_rows():
        key = (org_id, period, category)
        if key not in cache:
            org = orgs[org_id]
            company_id = org.company_id or org.pk
            if company_id not in parents:
                parents[company_id] = threshold_catalogue.category_parents(company_id)
            cache[key] = threshold_catalogue.profile_for(org, period, category, parents[company_id])
        rows.append({"plan_id": plan_id, "usage_category": category,
                     **{f"t_{k}": v for k, v in cache[key].items()}})
    schema = {"plan_id": pl.Int64, "usage_category": pl.Utf8,
              **{f"t_{t.key}": DEC for t in threshold_catalogue.CATALOGUE}}
    return pl.DataFrame(rows, schema=schema)


# ---------------------------------------------------------------------------
# the context every check reads


@dataclass
class Context:
    tasks: pl.DataFrame  # one row per task, with thresholds and the task-level start and end
    reads: pl.DataFrame  # per (task, register): end read, start value, consumption
    chain: pl.DataFrame  # per task: earlier effective total reads c1…cK, wide
    meters: pl.DataFrame
    levels: int
    remote_updates: pl.DataFrame = field(default_factory=pl.DataFrame)
    installs: pl.DataFrame = field(default_factory=pl.DataFrame)
    install_values: pl.DataFrame = field(default_factory=pl.DataFrame)
    #: the tasks with their total register's start, end and consumption (computed once, read by several checks)
    totals: pl.DataFrame | None = None


def history_levels(tasks_with_thresholds: pl.DataFrame) -> int:
    """Earlier reads needed per point: for the zero streak, the estimate streak and the last interval."""
    if tasks_with_thresholds.height == 0:
        return 2
    zero = int(tasks_with_thresholds["t_zero_streak_cycles"].cast(pl.Float64).max())
    estimates = int(tasks_with_thresholds["t_estimate_streak_max"].cast(pl.Float64).max())
    return max(2, zero, estimates)


def _chain(tasks: pl.DataFrame, earlier: pl.DataFrame, totals: pl.DataFrame, levels: int) -> pl.DataFrame:
    """Per task, the effective total reads of the point's earlier tasks that have one, latest first (wide)."""
    ranked = (earlier.join(totals.rename({"task_id": "hist_task_id"}), on="hist_task_id")
              .with_columns(level=pl.col("hist_period").rank("ordinal", descending=True).over("task_id"))
              .filter(pl.col("level") <= levels))
    wide = tasks.select("task_id")
    for k in range(1, levels + 1):
        part = ranked.filter(pl.col("level") == k).select(
            "task_id", pl.col("hist_task_id").alias(f"c{k}_task"), pl.col("value").alias(f"c{k}_value"),
            frames.local_date(pl.col("read_at")).alias(f"c{k}_date"), pl.col("meter_id").alias(f"c{k}_meter"),
            pl.col("estimated").alias(f"c{k}_est"), pl.col("read_id").alias(f"c{k}_read"))
        wide = wide.join(part, on="task_id", how="left")
    return wide


def _last_year(earlier: pl.DataFrame, totals: pl.DataFrame) -> pl.DataFrame:
    """Per task: the same period last year's effective total read (y0) and the one before it (y1)."""
    candidates = (earlier.filter(pl.col("hist_period") <= pl.col("period").dt.offset_by("-12mo"))
                  .join(totals.rename({"task_id": "hist_task_id"}), on="hist_task_id")
                  .with_columns(level=pl.col("hist_period").rank("ordinal", descending=True).over("task_id") - 1))
    y0 = candidates.filter((pl.col("level") == 0)
                           & (pl.col("hist_period") == pl.col("period").dt.offset_by("-12mo")))
    y1 = candidates.filter(pl.col("level") == 1)
    cols = lambda prefix: [pl.col("value").alias(f"{prefix}_value"),  # noqa: E731
                           frames.local_date(pl.col("read_at")).alias(f"{prefix}_date"),
                           pl.col("meter_id").alias(f"{prefix}_meter"), pl.col("hist_period").alias(f"{prefix}_period")]
    return (y0.select("task_id", *cols("y0"))
            .join(y1.select("task_id", *cols("y1")), on="task_id", how="inner"))


def load_context(scope: Scope, *, now: dt.datetime, seconds: dict[str, float] | None = None) -> Context:
    """Everything the checks and the estimates read, for the scope's tasks."""
    seconds = seconds if seconds is not None else {}
    mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - mark
        mark = time.perf_counter()

    tasks = _tasks(scope)
    if tasks.height == 0:
        return Context(tasks=tasks, reads=pl.DataFrame(), chain=pl.DataFrame(), meters=pl.DataFrame(), levels=0)
    tasks = tasks.join(thresholds_by_plan(tasks), on=["plan_id", "usage_category"], how="left")
    levels = history_levels(tasks)
    history = _history(scope, tasks["period"].unique().to_list(), 2 * (levels + HISTORY_SLACK) + 1)
    lap("load tasks")
    # which earlier tasks are needed: the latest of each point with every register (the start, usually),
    # the deeper ones and last year's with the total only
    earlier = (tasks.select("task_id", "metering_point_id", "period").join(history, on="metering_point_id")
               .filter(pl.col("hist_period") < pl.col("period"))
               .with_columns(rank=pl.col("hist_period").rank("ordinal", descending=True).over("task_id"))
               .filter((pl.col("rank") <= levels + HISTORY_SLACK)
                       | (pl.col("hist_period") <= pl.col("period").dt.offset_by("-12mo"))))

    def as_targets(frame: pl.DataFrame, every: pl.Expr) -> pl.DataFrame:
        return frame.select(task_id="hist_task_id", meter_id="hist_meter_id", method="hist_method",
                            scheduled_on="hist_scheduled_on", all_registers=every)

    targets = pl.concat([
        tasks.select("task_id", meter_id="task_meter_id", method="method", scheduled_on="scheduled_on",
                     all_registers=pl.lit(True)),
        as_targets(earlier, pl.col("rank") == 1),
    ])
    reads = effective_reads_of(targets)
    end = reads.join(tasks.select("task_id"), on="task_id", how="semi")
    lap("load reads")
    totals = reads.filter(pl.col("register") == "total")
    chain = _chain(tasks, earlier, totals, levels)
    last_year = _last_year(earlier, totals)
    start_tasks = chain.select(task_id=pl.col("c1_task")).drop_nulls()
    start_reads = reads.join(start_tasks, on="task_id", how="semi")
    # a start read further back than the latest earlier task was loaded with its total only: fetch the rest
    deeper = start_tasks.unique().join(earlier.filter(pl.col("rank") == 1).select(task_id="hist_task_id"),
                                       on="task_id", how="anti")
    if deeper.height:
        more = as_targets(history.join(deeper.rename({"task_id": "hist_task_id"}), on="hist_task_id")
                          .unique("hist_task_id"), pl.lit(True))
        start_reads = pl.concat([start_reads.join(deeper, on="task_id", how="anti"), effective_reads_of(more)])
    lap("load history")
    installs = _installations(scope)
    meters = _meters_in(installs)
    lap("load installations and meters")
    ctx = _assemble(tasks.join(last_year, on="task_id", how="left"), end, chain, start_reads, installs, meters,
                    levels)
    lap("consumption")
    return ctx


def _assemble(tasks, end, chain, start_reads, installs, meters, levels) -> Context:
    """Task-level start and end, per-register consumption with rollover and meter change."""
    # --- the remote reading taken for tasks of remote routes (status, time and source follow the read)
    total_end = end.filter(pl.col("register") == "total").select(
        "task_id", end_id=pl.col("read_id"), end_total=pl.col("value"), end_at=pl.col("read_at"),
        end_date=frames.local_date(pl.col("read_at")), end_meter=pl.col("meter_id"),
        end_estimated=pl.col("estimated"), end_source=pl.col("source"), end_origin=pl.col("origin"))
    tasks = tasks.join(total_end, on="task_id", how="left")
    taken_status = pl.when(pl.col("end_estimated")).then(pl.lit("estimated")).otherwise(pl.lit("read"))
    remote_updates = (tasks.filter(pl.col("end_origin") == "remote")
                      .filter((pl.col("status") != taken_status) | pl.col("task_read_at").is_null()
                              | (pl.col("task_read_at") != pl.col("end_at")) | (pl.col("task_source") != pl.col("end_source")))
                      .select(id=pl.col("task_id"), status=taken_status, read_at=pl.col("end_at"),
                              source=pl.col("end_source"), unreadable_reason=pl.lit("")))
    tasks = tasks.with_columns(
        status=pl.when(pl.col("end_origin") == "remote").then(taken_status).otherwise(pl.col("status")))

    # --- installations: the end meter's on this point, and the start meter's
    inst = installs.select("installation_id", "metering_point_id", "meter_id", "installed_on", "removed_on")

    def installed(frame: pl.DataFrame, meter: str, on: str, prefix: str) -> pl.DataFrame:
        """The latest installation of ``meter`` on the task's point on or before ``on``."""
        return (frame.select("task_id", "metering_point_id", meter, on)
                .join(inst, left_on=["metering_point_id", meter], right_on=["metering_point_id", "meter_id"])
                .filter(pl.col("installed_on") <= pl.col(on))
                .sort("installed_on", "installation_id").group_by("task_id").last()
                .select("task_id", pl.col("installation_id").alias(f"{prefix}_installation"),
                        pl.col("installed_on").alias(f"{prefix}_installed_on")))

    tasks = tasks.join(chain, on="task_id", how="left").join(installed(tasks, "end_meter", "end_date", "new"),
                                                             on="task_id", how="left")
    tasks = tasks.with_columns(
        start_kind=pl.when(pl.col("c1_task").is_not_null()).then(pl.lit("read"))
        .when(pl.col("new_installation").is_not_null()).then(pl.lit("install")).otherwise(pl.lit(None, pl.Utf8)),
        start_date=pl.coalesce("c1_date", "new_installed_on"),
        start_meter=pl.when(pl.col("c1_task").is_not_null()).then(pl.col("c1_meter")).otherwise(pl.col("end_meter")))
    tasks = tasks.with_columns(
        changed=(pl.col("start_meter") != pl.col("end_meter")).fill_null(False),
        days=(pl.col("end_date") - pl.col("start_date")).dt.total_days(),
        capacity=pl.max_horizontal("contract_capacity", "running_capacity"))
    changed = tasks.filter(pl.col("changed"))
    tasks = tasks.join(installed(changed, "start_meter", "start_date", "old"), on="task_id", how="left")
    # the installation of the first read's meter, for a point read once before (its interval runs from there)
    once = tasks.filter(pl.col("c1_meter").is_not_null() & pl.col("c2_value").is_null())
    tasks = tasks.join(installed(once, "c1_meter", "c1_date", "c1"), on="task_id", how="left")
    tasks = tasks.join(meters.select("meter_id", "digits", "decimals", "register_max", "lsb"),
                       left_on="end_meter", right_on="meter_id", how="left")
    tasks = tasks.with_columns(per_day_days=pl.col("days").clip(lower_bound=1)).with_columns(
        cap_kwh=pl.when(pl.col("capacity") > 0)
        .then(pl.col("capacity").cast(DEC8) * pl.col("per_day_days") * pl.col("t_hours_per_day_cap").cast(DEC8))
        .otherwise(pl.col("t_residential_daily_cap_kwh").cast(DEC8) * pl.col("per_day_days")))

    # --- per register: end and start
    reads = end.select("task_id", "register", end_id=pl.col("read_id"), end_value=pl.col("value"))
    reads = reads.join(tasks.select("task_id", "c1_task", "start_kind", "start_meter", "end_meter", "changed",
                                    "new_installation", "old_installation", "register_max", "cap_kwh", "multiplier",
                                    "start_date", "end_date", "metering_point_id"),
                       on="task_id", how="left")
    starts = start_reads.select(c1_task=pl.col("task_id"), register=pl.col("register"),
                                start_read_value=pl.col("value"))
    reads = reads.join(starts, on=["c1_task", "register"], how="left")

    # --- the installation reads that matter: only where a start is an installation, a register has no earlier
    # read, a meter was changed, or a point was read once (a handful in a running month)
    between = (changed.select("task_id", "metering_point_id", "start_meter", "end_meter", "start_date", "end_date")
               .join(inst, on="metering_point_id")
               .filter((pl.col("installed_on") > pl.col("start_date")) & (pl.col("installed_on") <= pl.col("end_date"))
                       & (pl.col("meter_id") != pl.col("start_meter")) & (pl.col("meter_id") != pl.col("end_meter")))
               .select("task_id", "installation_id"))
    wanted = pl.concat([
        reads.filter((pl.col("start_kind") == "install") | pl.col("changed") | pl.col("start_read_value").is_null())
        ["new_installation"],
        tasks["old_installation"], tasks["c1_installation"], between["installation_id"],
    ]).drop_nulls().unique()
    values = installation_reads(wanted) if wanted.len() else installation_values(pl.DataFrame())
    by_register = values.select("installation_id", "register", "install_value", "removal_value")
    reads = (reads
             .join(by_register.select(new_installation="installation_id", register="register",
                                      new_install_value="install_value"), on=["new_installation", "register"],
                   how="left")
             .join(by_register.select(old_installation="installation_id", register="register",
                                      old_removal_value="removal_value"), on=["old_installation", "register"],
                   how="left"))
    # meters installed and removed inside the interval (a meter changed twice in one period)
    reads = reads.join(between.join(by_register, on="installation_id").group_by("task_id", "register")
                       .agg(between=(pl.col("removal_value") - pl.col("install_value")).sum()),
                       on=["task_id", "register"], how="left")
    zero = pl.lit(Decimal(0)).cast(DEC)
    reads = reads.with_columns(
        start_value=pl.when(pl.col("changed")).then(pl.col("start_read_value"))
        .when(pl.col("start_kind") == "read")
        .then(pl.coalesce("start_read_value", pl.coalesce("new_install_value", zero)))
        .when(pl.col("start_kind") == "install").then(pl.coalesce("new_install_value", zero))
        .otherwise(pl.lit(None, DEC)),
    ).with_columns(
        raw_delta=pl.when(pl.col("changed"))
        .then(pl.col("old_removal_value") - pl.col("start_value") + pl.col("between").fill_null(zero)
              + pl.col("end_value") - pl.col("new_install_value").fill_null(zero))
        .otherwise(pl.col("end_value") - pl.col("start_value")))
    energy = pl.col("register").is_in(ENERGY_REGISTERS)
    wrap = (energy & ~pl.col("changed") & (pl.col("raw_delta") < 0)
            & (pl.col("start_value") >= pl.col("register_max") * (1 - ROLLOVER_ZONE)))
    implied = pl.col("register_max") - pl.col("start_value") + pl.col("end_value")
    reads = reads.with_columns(
        wrapped=wrap.fill_null(False),
        implied=pl.when(wrap).then(implied).otherwise(pl.lit(None, DEC)),
    ).with_columns(
        implied_kwh=pl.col("implied").cast(DEC8) * pl.col("multiplier").cast(DEC8),
    ).with_columns(
        outcome=pl.when(~energy).then(pl.lit("value"))
        .when(pl.col("raw_delta").is_null()).then(pl.lit("unknown"))
        .when(pl.col("raw_delta") >= 0).then(pl.lit("ok"))
        .when(pl.col("wrapped") & (pl.col("implied_kwh") <= pl.col("cap_kwh"))).then(pl.lit("rollover"))
        .when(pl.col("wrapped")).then(pl.lit("rollover_implausible"))
        .otherwise(pl.lit("lower")),
    ).with_columns(
        consumption=pl.when(pl.col("outcome") == "ok").then(pl.col("raw_delta"))
        .when(pl.col("outcome") == "rollover").then(pl.col("implied")).otherwise(pl.lit(None, DEC)),
    ).with_columns(
        energy_kwh=pl.col("consumption").cast(DEC8) * pl.col("multiplier").cast(DEC8))
    # the first read's installation read (total), for the interval of a point read once before
    c1_total = by_register.filter(pl.col("register") == "total").select(
        c1_installation="installation_id", c1_install_value="install_value")
    tasks = tasks.join(c1_total, on="c1_installation", how="left").with_columns(
        c1_install_value=pl.when(pl.col("c1_installation").is_not_null())
        .then(pl.col("c1_install_value").fill_null(Decimal(0))).cast(DEC))
    return Context(tasks=tasks, reads=reads, chain=chain, meters=meters, levels=levels,
                   remote_updates=remote_updates, installs=installs, install_values=values)


# ---------------------------------------------------------------------------
# detail formatting


def fmt(expr: pl.Expr, decimals: pl.Expr | int = 0) -> pl.Expr:
    """A decimal as text: trailing zeros dropped, but at least ``decimals`` places (a meter's own precision)."""
    text = expr.cast(DEC).cast(pl.Utf8)
    trailing = text.str.extract(r"(0*)$", 1).str.len_chars()
    decimals = pl.lit(decimals) if isinstance(decimals, int) else decimals
    keep = pl.max_horizontal(pl.lit(4) - trailing, decimals).clip(0, 4)
    return text.str.slice(0, text.str.len_chars() - (pl.lit(4) - keep) - pl.when(keep == 0).then(1).otherwise(0))


def day_text(expr: pl.Expr) -> pl.Expr:
    return expr.dt.strftime("%Y-%m-%d")


def detail(**fields: pl.Expr) -> pl.Expr:
    return pl.struct(**{k: v.cast(pl.Utf8) for k, v in fields.items()}).struct.json_encode()


def _rows(frame: pl.DataFrame, rule: str, register: pl.Expr, read_id: pl.Expr, details: pl.Expr) -> pl.DataFrame:
    if frame.height == 0:
        return pl.DataFrame(schema=EXCEPTION_COLUMNS)
    return frame.select(pl.col("task_id"), register.cast(pl.Utf8).alias("register"),
                        read_id.cast(pl.Int64).alias("read_id"), pl.lit(str(Check(rule).value)).alias("rule"),
                        details.alias("detail"))


def _ratio(numerator_kwh, numerator_days, reference_kwh, reference_days) -> pl.Expr:
    """(consumption per day) / (reference per day) − 1, to 4 places."""
    return ((numerator_kwh.cast(DEC8) * reference_days) / (reference_kwh.cast(DEC8) * numerator_days) - 1).round(4)


def _per_day(kwh, days) -> pl.Expr:
    return (kwh.cast(DEC8) / days).round(4)


# ---------------------------------------------------------------------------
# the checks: each takes the context and returns exception rows (task_id, register, read_id, rule, detail)


def check_missing(ctx: Context, today: dt.date) -> pl.DataFrame:
    """missing: no effective total read on or after the scheduled date, and not reported unreadable."""
    rows = ctx.tasks.filter(pl.col("end_id").is_null() & (pl.col("status") != "unreadable")
                            & (pl.col("scheduled_on") <= today))
    return _rows(rows, Check.MISSING, pl.lit(""), pl.lit(None),
                 detail(scheduled_on=day_text(pl.col("scheduled_on")), status=pl.col("status")))


def check_unreadable(ctx: Context) -> pl.DataFrame:
    rows = ctx.tasks.filter(pl.col("end_id").is_null() & (pl.col("status") == "unreadable"))
    return _rows(rows, Check.UNREADABLE, pl.lit(""), pl.lit(None), detail(reason=pl.col("unreadable_reason")))


def check_estimated(ctx: Context) -> pl.DataFrame:
    """estimated (warn) and estimate_streak (block: more than estimate_streak_max estimated periods in a row)."""
    tasks = ctx.tasks.filter(pl.col("end_estimated").fill_null(False))
    warn = _rows(tasks, Check.ESTIMATED, pl.lit("total"), pl.col("end_id"),
                 detail(source=pl.col("end_source"), read_on=day_text(pl.col("end_date"))))
    run = pl.lit(1)
    streak = pl.lit(1)
    for k in range(1, ctx.levels + 1):
        run = run * pl.col(f"c{k}_est").fill_null(False).cast(pl.Int64)
        streak = streak + run
    counted = tasks.with_columns(periods=streak)
    block = counted.filter(pl.col("periods") > pl.col("t_estimate_streak_max").cast(pl.Int64))
    return pl.concat([warn, _rows(block, Check.ESTIMATE_STREAK, pl.lit("total"), pl.col("end_id"),
                                  detail(periods=pl.col("periods"),
                                         limit=pl.col("t_estimate_streak_max").cast(pl.Int64)))])


def _reading_fields(decimals=pl.col("decimals")) -> dict[str, pl.Expr]:
    return {"start": fmt(pl.col("start_value"), decimals), "end": fmt(pl.col("end_value"), decimals)}


def check_registers(ctx: Context) -> pl.DataFrame:
    """lower, rollover and implausible on every energy register; implausible on positive total consumption."""
    reads = ctx.reads.join(ctx.tasks.select("task_id", "decimals", "days", "capacity"), on="task_id", how="left")
    # a TOU register that fails the way the total does adds nothing: it is reported on the total only
    total_outcome = reads.filter(pl.col("register") == "total").select("task_id", total_outcome=pl.col("outcome"))
    reads = reads.join(total_outcome, on="task_id", how="left").filter(
        ~pl.col("register").is_in(TOU_REGISTERS) | pl.col("total_outcome").is_null()
        | (pl.col("outcome") != pl.col("total_outcome")))
    base = {**_reading_fields(), "register_max": fmt(pl.col("register_max"))}
    # a meter change whose removal read is below the start is reported as removal_lower, not again as lower
    lower = reads.filter((pl.col("outcome") == "lower")
                         & ~(pl.col("changed") & (pl.col("old_removal_value") < pl.col("start_value"))).fill_null(False))
    rollover = reads.filter(pl.col("outcome") == "rollover")
    wrapped_bad = reads.filter(pl.col("outcome") == "rollover_implausible")
    high = reads.filter((pl.col("register") == "total") & (pl.col("outcome") == "ok")
                        & (pl.col("energy_kwh") > pl.col("cap_kwh")))
    return pl.concat([
        _rows(lower, Check.LOWER, pl.col("register"), pl.col("end_id"),
              detail(**base, difference=fmt(pl.col("raw_delta"), pl.col("decimals")))),
        _rows(rollover, Check.ROLLOVER, pl.col("register"), pl.col("end_id"),
              detail(**base, consumption=fmt(pl.col("implied"), pl.col("decimals")), energy_kwh=fmt(pl.col("implied_kwh")),
                     limit=fmt(pl.col("cap_kwh")), days=pl.col("days"))),
        _rows(wrapped_bad, Check.IMPLAUSIBLE, pl.col("register"), pl.col("end_id"),
              detail(**base, rollover=pl.lit("true"), consumption=fmt(pl.col("implied"), pl.col("decimals")),
                     energy_kwh=fmt(pl.col("implied_kwh")), limit=fmt(pl.col("cap_kwh")), days=pl.col("days"),
                     capacity=fmt(pl.col("capacity")))),
        _rows(high, Check.IMPLAUSIBLE, pl.col("register"), pl.col("end_id"),
              detail(**_reading_fields(), consumption=fmt(pl.col("consumption"), pl.col("decimals")),
                     energy_kwh=fmt(pl.col("energy_kwh")), limit=fmt(pl.col("cap_kwh")), days=pl.col("days"),
                     capacity=fmt(pl.col("capacity")))),
    ])


def _totals(ctx: Context) -> pl.DataFrame:
    if ctx.totals is None:
        total = ctx.reads.filter(pl.col("register") == "total").select(
            "task_id", "start_value", "end_value", "consumption", "energy_kwh")
        ctx.totals = ctx.tasks.join(total, on="task_id", how="inner")
    return ctx.totals


def check_zero(ctx: Context) -> pl.DataFrame:
    """zero (warn) for an account not suspended; zero_streak (block) on the Nth zero period in a row."""
    rows = _totals(ctx).filter((pl.col("consumption") == 0) & (pl.col("account_status") != "SUSPENDED"))
    warn = _rows(rows, Check.ZERO, pl.lit("total"), pl.col("end_id"),
                 detail(**_reading_fields(), consumption=fmt(pl.col("consumption"), pl.col("decimals")),
                        days=pl.col("days"), start_date=day_text(pl.col("start_date")),
                        end_date=day_text(pl.col("end_date"))))
    run = pl.lit(1)
    cycles = pl.lit(1)
    for k in range(1, ctx.levels):
        same = ((pl.col(f"c{k}_meter") == pl.col(f"c{k + 1}_meter"))
                & (pl.col(f"c{k}_value") == pl.col(f"c{k + 1}_value"))).fill_null(False)
        run = run * same.cast(pl.Int64)
        cycles = cycles + run
    counted = rows.with_columns(cycles=cycles)
    streak = counted.filter(pl.col("cycles") >= pl.col("t_zero_streak_cycles").cast(pl.Int64))
    return pl.concat([warn, _rows(streak, Check.ZERO_STREAK, pl.lit("total"), pl.col("end_id"),
                                  detail(cycles=pl.col("cycles"),
                                         limit=pl.col("t_zero_streak_cycles").cast(pl.Int64)))])


def check_change(ctx: Context) -> pl.DataFrame:
    """spike/drop (block) against the previous interval, yoy_spike/yoy_drop (warn) against last year, per day."""
    tasks = _totals(ctx)
    meters = ctx.meters.select(pl.col("meter_id").alias("c1_meter"), c1_max=pl.col("register_max"))
    tasks = tasks.join(meters, on="c1_meter", how="left")
    prev = pl.when(pl.col("c2_value").is_not_null()).then(
        pl.when(pl.col("c1_meter") == pl.col("c2_meter")).then(pl.col("c1_value") - pl.col("c2_value")))
    prev = prev.otherwise(pl.col("c1_value") - pl.col("c1_install_value"))
    tasks = tasks.with_columns(
        ref_raw=prev,
        ref_days=pl.when(pl.col("c2_value").is_not_null()).then((pl.col("c1_date") - pl.col("c2_date")).dt.total_days())
        .otherwise((pl.col("c1_date") - pl.col("c1_installed_on")).dt.total_days()),
        ref_start=pl.coalesce("c2_value", "c1_install_value"),
    ).with_columns(
        # the previous interval may itself have rolled over
        ref_delta=pl.when(pl.col("ref_raw") >= 0).then(pl.col("ref_raw"))
        .when(pl.col("ref_start") >= pl.col("c1_max") * (1 - ROLLOVER_ZONE))
        .then(pl.col("c1_max") + pl.col("ref_raw")).otherwise(pl.lit(None, DEC)),
    ).with_columns(
        ref_kwh=pl.col("ref_delta").cast(DEC8) * pl.col("multiplier").cast(DEC8),
        yoy_delta=pl.when((pl.col("y0_meter") == pl.col("y1_meter")) & (pl.col("y0_value") >= pl.col("y1_value")))
        .then(pl.col("y0_value") - pl.col("y1_value")),
        yoy_days=(pl.col("y0_date") - pl.col("y1_date")).dt.total_days(),
    ).with_columns(yoy_kwh=pl.col("yoy_delta").cast(DEC8) * pl.col("multiplier").cast(DEC8))
    longest = (2 * pl.col("t_interval_max_days").cast(pl.Int64)
               * pl.when(pl.col("cycle") == "bimonthly").then(2).otherwise(1))

    def comparable(kwh: str, days: str) -> pl.Expr:
        return (pl.col("energy_kwh").is_not_null() & pl.col(kwh).is_not_null()
                & (pl.col(days) > 0) & (pl.col(days) <= longest)
                & (pl.col(kwh) > 0) & (pl.col(kwh) >= pl.col("t_ratio_floor_kwh")))

    def beyond(kwh: str, days: str, ratio: str, *, up: bool) -> pl.Expr:
        """Consumption per day above (below) the reference's per day by more than ``ratio``, in exact decimals."""
        current = pl.col("energy_kwh").cast(DEC8) * pl.col(days)
        reference = pl.col(kwh).cast(DEC8) * pl.col("per_day_days")
        return (current > reference * (1 + pl.col(ratio).cast(DEC8)) if up
                else current < reference * (1 - pl.col(ratio).cast(DEC8)))

    # "check both": with the confirmation on, a change against last period stands only where last year's same
    # period, when there is one to compare with, changed the same way by more than the same share (a season)
    confirm = pl.col("t_spike_confirm_yoy") > 0
    last_year = comparable("yoy_kwh", "yoy_days")
    found = []
    for rule_up, rule_down, kwh, days, up, down, extra, seasonal in (
        (Check.SPIKE, Check.DROP, "ref_kwh", "ref_days", "t_spike_ratio", "t_drop_ratio", {}, True),
        (Check.YOY_SPIKE, Check.YOY_DROP, "yoy_kwh", "yoy_days", "t_yoy_spike_ratio", "t_yoy_drop_ratio",
         {"reference_period": pl.col("y0_period").dt.strftime("%Y-%m")}, False),
    ):
        usable = tasks.filter(comparable(kwh, days))
        numbers = dict(
            consumption_kwh=fmt(pl.col("energy_kwh")), days=pl.col("per_day_days"),
            per_day=fmt(_per_day(pl.col("energy_kwh"), pl.col("per_day_days"))),
            reference_kwh=fmt(pl.col(kwh)), reference_days=pl.col(days),
            reference_per_day=fmt(_per_day(pl.col(kwh), pl.col(days))),
            ratio=fmt(_ratio(pl.col("energy_kwh"), pl.col("per_day_days"), pl.col(kwh), pl.col(days))),
            floor=fmt(pl.col("t_ratio_floor_kwh")), **extra)
        spike, drop = beyond(kwh, days, up, up=True), beyond(kwh, days, down, up=False)
        if seasonal:
            spike = spike & (~confirm | ~last_year | beyond("yoy_kwh", "yoy_days", up, up=True))
            drop = drop & (~confirm | ~last_year | beyond("yoy_kwh", "yoy_days", down, up=False))
        found.append(_rows(usable.filter(spike), rule_up, pl.lit("total"), pl.col("end_id"),
                           detail(**numbers, limit=fmt(pl.col(up)))))
        found.append(_rows(usable.filter(drop), rule_down, pl.lit("total"), pl.col("end_id"),
                           detail(**numbers, limit=fmt(pl.col(down)))))
    return pl.concat(found)


def check_tou_sum(ctx: Context) -> pl.DataFrame:
    """tou_sum (block): total vs Σ TOU registers on the readings (modulo the register range) and the increments."""
    reads = ctx.reads
    tou = (reads.filter(pl.col("register").is_in(TOU_REGISTERS))
           .group_by("task_id")
           .agg(n=pl.len(), tou_end=pl.col("end_value").sum(), tou_cons=pl.col("consumption").sum(),
                tou_known=pl.col("consumption").is_not_null().all()))
    rows = (_totals(ctx).join(tou, on="task_id").filter(pl.col("n") >= 2)
            .with_columns(tolerance=pl.col("t_tou_tolerance_lsb").cast(DEC8) * (pl.col("n") - 1)
                          * pl.col("lsb").cast(DEC8),
                          reading_gap=(pl.col("end_value") - pl.col("tou_end")) % pl.col("register_max"))
            .with_columns(reading_diff=pl.min_horizontal("reading_gap", pl.col("register_max") - pl.col("reading_gap")),
                          increment_diff=pl.when(pl.col("tou_known") & pl.col("consumption").is_not_null())
                          .then(pl.col("consumption") - pl.col("tou_cons")))
            .with_columns(readings_bad=pl.col("reading_diff") > pl.col("tolerance"),
                          increments_bad=(pl.col("increment_diff").abs() > pl.col("tolerance")).fill_null(False))
            .filter(pl.col("readings_bad") | pl.col("increments_bad")))
    return _rows(rows, Check.TOU_SUM, pl.lit("total"), pl.col("end_id"), detail(
        compared=pl.when(pl.col("readings_bad")).then(pl.lit("readings")).otherwise(pl.lit("increments")),
        total=fmt(pl.col("end_value"), pl.col("decimals")), tou_sum=fmt(pl.col("tou_end"), pl.col("decimals")),
        difference=fmt(pl.col("reading_diff"), pl.col("decimals")),
        total_consumption=fmt(pl.col("consumption"), pl.col("decimals")),
        tou_consumption=fmt(pl.col("tou_cons"), pl.col("decimals")),
        increment_difference=fmt(pl.col("increment_diff"), pl.col("decimals")),
        tolerance=fmt(pl.col("tolerance"), pl.col("decimals")), registers=pl.col("n")))


def check_interval(ctx: Context) -> pl.DataFrame:
    factor = pl.when(pl.col("cycle") == "bimonthly").then(2).otherwise(1)
    low = pl.col("t_interval_min_days").cast(pl.Int64) * factor
    high = pl.col("t_interval_max_days").cast(pl.Int64) * factor
    rows = ctx.tasks.filter(pl.col("days").is_not_null() & ((pl.col("days") < low) | (pl.col("days") > high)))
    return _rows(rows, Check.INTERVAL, pl.lit("total"), pl.col("end_id"), detail(
        days=pl.col("days"), minimum=low, maximum=high, start_date=day_text(pl.col("start_date")),
        end_date=day_text(pl.col("end_date")), start=pl.col("start_kind")))


def check_demand(ctx: Context) -> pl.DataFrame:
    rows = (ctx.reads.filter(pl.col("register") == "demand")
            .join(ctx.tasks.select("task_id", "contract_capacity", "t_demand_over_ratio"), on="task_id")
            .with_columns(demand_kw=pl.col("end_value").cast(DEC8) * pl.col("multiplier").cast(DEC8),
                          limit=pl.col("contract_capacity").cast(DEC8) * pl.col("t_demand_over_ratio").cast(DEC8))
            .filter((pl.col("contract_capacity") > 0) & (pl.col("demand_kw") > pl.col("limit"))))
    return _rows(rows, Check.DEMAND_OVER, pl.lit("demand"), pl.col("end_id"), detail(
        demand=fmt(pl.col("end_value")), multiplier=fmt(pl.col("multiplier")), demand_kw=fmt(pl.col("demand_kw")),
        capacity=fmt(pl.col("contract_capacity")), ratio=fmt(pl.col("t_demand_over_ratio")), limit=fmt(pl.col("limit"))))


def generation_categories() -> tuple[str, ...]:
    return tuple(getattr(settings, "POWERCIS_GENERATION_USAGE_CATEGORIES", DEFAULT_GENERATION_CATEGORIES))


def check_reverse(ctx: Context) -> pl.DataFrame:
    categories = list(generation_categories())
    generates = (pl.col("usage_category").is_in(categories) | pl.col("point_usage").is_in(categories)
                 | pl.col("industry_class").str.starts_with(GENERATION_INDUSTRY_PREFIX))
    rows = (ctx.reads.filter((pl.col("register") == "reverse") & (pl.col("consumption") > 0))
            .join(ctx.tasks.select("task_id", "usage_category", "point_usage", "industry_class", "decimals"),
                  on="task_id")
            .filter(~generates))
    return _rows(rows, Check.REVERSE, pl.lit("reverse"), pl.col("end_id"), detail(
        **_reading_fields(), consumption=fmt(pl.col("consumption"), pl.col("decimals")),
        usage_category=pl.col("usage_category")))


def check_meter_change(ctx: Context) -> pl.DataFrame:
    """meter_change (warn, always, with the numbers) and removal_lower (block) per register."""
    changed = ctx.reads.filter(pl.col("changed")).join(
        ctx.tasks.select("task_id", "decimals", "new_installed_on"), on="task_id")
    assets = ctx.meters.select("meter_id", "asset_no")
    changed = (changed.join(assets.rename({"meter_id": "start_meter", "asset_no": "old_meter"}), on="start_meter",
                            how="left")
               .join(assets.rename({"meter_id": "end_meter", "asset_no": "new_meter"}), on="end_meter", how="left"))
    total = changed.filter(pl.col("register") == "total")
    decimals = pl.col("decimals")
    note = _rows(total, Check.METER_CHANGE, pl.lit("total"), pl.col("end_id"), detail(
        old_meter=pl.col("old_meter"), new_meter=pl.col("new_meter"), changed_on=day_text(pl.col("new_installed_on")),
        start=fmt(pl.col("start_value"), decimals), removal=fmt(pl.col("old_removal_value"), decimals),
        install=fmt(pl.col("new_install_value"), decimals), end=fmt(pl.col("end_value"), decimals),
        consumption=fmt(pl.col("raw_delta"), decimals)))
    low = changed.filter(pl.col("register").is_in(ENERGY_REGISTERS)
                         & (pl.col("old_removal_value") < pl.col("start_value")))
    block = _rows(low, Check.REMOVAL_LOWER, pl.col("register"), pl.col("end_id"), detail(
        old_meter=pl.col("old_meter"), start=fmt(pl.col("start_value"), decimals),
        removal=fmt(pl.col("old_removal_value"), decimals),
        difference=fmt(pl.col("old_removal_value") - pl.col("start_value"), decimals)))
    return pl.concat([note, block])


def evaluate(ctx: Context, today: dt.date) -> pl.DataFrame:
    """Every check over the context: the exception rows found (before resolved ones are taken out)."""
    if ctx.tasks.height == 0:
        return pl.DataFrame(schema=EXCEPTION_COLUMNS)
    if ctx.levels < 2:
        raise ValueError("the history needs at least two levels")
    found = [
        check_missing(ctx, today), check_unreadable(ctx), check_estimated(ctx), check_registers(ctx),
        check_zero(ctx), check_change(ctx), check_tou_sum(ctx), check_interval(ctx),
        check_demand(ctx), check_reverse(ctx), check_meter_change(ctx),
    ]
    return pl.concat([f.select(list(EXCEPTION_COLUMNS)) for f in found])


# ---------------------------------------------------------------------------
# the run


@transaction.atomic
def run_validation(*, plan_ids=None, task_ids=None, now: dt.datetime | None = None) -> ValidationReport:
    """Validate every task of ``plan_ids`` (or just ``task_ids``); returns counts per check and the time spent."""
    if plan_ids is None and task_ids is None:
        raise ValueError("give plan_ids or task_ids")
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    report = ValidationReport()
    started = time.perf_counter()
    frames.tune_transaction()
    with Scope(plan_ids=plan_ids, task_ids=task_ids) as scope:
        ctx = load_context(scope, now=now, seconds=report.seconds)
        report.tasks_checked = ctx.tasks.height
        report.plans = len(scope.plan_ids) if scope.plan_ids is not None else (
            ctx.tasks["plan_id"].n_unique() if ctx.tasks.height else 0)
        if ctx.tasks.height == 0:
            if scope.plan_ids:
                set_plans_validated(scope.plan_ids, now)
            return report
        mark = time.perf_counter()
        found = evaluate(ctx, today)
        report.seconds["checks"] = time.perf_counter() - mark
        mark = time.perf_counter()
        resolved = _resolved(scope)
        key = ["task_id", "rule", "register", "read_key"]
        found = found.with_columns(read_key=pl.col("read_id").fill_null(0))
        resolved_keys = resolved.with_columns(read_key=pl.col("read_id").fill_null(0)).select(key).unique()
        fresh = found.join(resolved_keys, on=key, how="anti").unique(key, keep="first", maintain_order=True)
        report.exceptions_already_resolved = found.height - found.join(resolved_keys, on=key, how="anti").height
        _write(scope, ctx, fresh.drop("read_key"), resolved, now, report)
        report.seconds["write"] = time.perf_counter() - mark
    report.seconds["total"] = time.perf_counter() - started
    return report


def _write(scope: Scope, ctx: Context, fresh: pl.DataFrame, resolved: pl.DataFrame, now: dt.datetime,
           report: ValidationReport) -> None:
    if scope.plan_ids is not None:
        delete_open_exceptions(plan_ids=scope.plan_ids)
    else:
        delete_open_exceptions(tasks=scope.task_set)
    tasks = ctx.tasks
    rows = fresh.join(tasks.select("task_id", "plan_id", "metering_point_id", "org_id", "org_path", "company_id"),
                      on="task_id")
    rows = rows.select(
        "company_id", "org_id", "org_path", "plan_id", "task_id", "metering_point_id", "read_id", "register", "rule",
        severity=pl.col("rule").replace_strict({k.value: v.value for k, v in SEVERITY.items()}, return_dtype=pl.Utf8),
        detail=pl.col("detail"), status=pl.lit("open"), resolution=pl.lit(""), note=pl.lit(""),
        created_at=pl.lit(now).dt.convert_time_zone("UTC"))
    report.exceptions_opened = insert_frame("reading_readexception", rows)
    report.by_rule = dict(sorted(fresh.group_by("rule").len().iter_rows()))
    opened = fresh.group_by("task_id").len("opened")
    closed = resolved.group_by("task_id").len("resolved")
    status = (tasks.select("task_id", "check_status", "status", "task_read_at", "task_source", "unreadable_reason")
              .join(opened, on="task_id", how="left").join(closed, on="task_id", how="left")
              .with_columns(new_check=pl.when(pl.col("opened").fill_null(0) > 0).then(pl.lit("exceptions"))
                            .when(pl.col("resolved").fill_null(0) > 0).then(pl.lit("cleared"))
                            .otherwise(pl.lit("passed"))))
    counts = dict(status.group_by("new_check").len().iter_rows())
    report.tasks_passed = counts.get("passed", 0)
    report.tasks_with_exceptions = counts.get("exceptions", 0)
    report.tasks_cleared = counts.get("cleared", 0)
    remote = ctx.remote_updates
    report.remote_reads_applied = remote.height
    updates = (status.join(remote, left_on="task_id", right_on="id", how="left", suffix="_remote")
               .select(pl.col("task_id").alias("id"),
                       check_status=pl.col("new_check"),
                       status=pl.coalesce("status_remote", "status"),
                       read_at=pl.coalesce("read_at", "task_read_at"),
                       source=pl.coalesce("source", "task_source"),
                       unreadable_reason=pl.coalesce("unreadable_reason_remote", "unreadable_reason"),
                       changed=(pl.col("new_check") != pl.col("check_status")) | pl.col("status_remote").is_not_null()))
    update_from_frame("reading_readingtask", updates.filter(pl.col("changed")).drop("changed"))
    if scope.plan_ids is not None:
        set_plans_validated(scope.plan_ids, now)
