"""The demo's meter reading: three months of history, then the current month arriving by every path.

History (the three months before the reference date's month) is written set-based by
``synthetic.readings.generate_month`` without injected anomalies, validated and released,
so the current month has start reads and a consumption to compare with.  The current
month then arrives the way it does at a supply company, each path through its real
service:

* **head-end file** — the daily frozen values of the remotely read routes as a CSV, with
  a few rows a head-end gets wrong (an unknown meter, a date in the future, a value that
  is not a number), ingested by ``reading.ingest`` (the bad rows are quarantined);
* **DL/T 645 collection** — one remote route of the first station is read over TCP from
  a simulated meter bus (``reading.collection.simulator``) by a collection channel run;
* **reading sheets** — the manually read routes' sheets are exported, filled in and
  imported (``reading.ingest.sheets``), as is the handheld upload of other readers;
* **field entry** — the demo meter reader's first handheld route is entered stop by stop
  through ``reading.services.entry``, leaving the last stops for whoever walks the route
  on the phone page.

Values continue each meter's last month: last reading + last consumption × a factor of
0.85–1.15 (TOU registers likewise, the total their sum), and about one task in sixty gets
a misread (a spike, a reading below the last one, or no consumption) so that the
exception worklist has work in it.  Everything is then validated; releasing the period is
left to the reviewer (the demo billing clerk), who has already sent a few misreads back as
re-read work orders.
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import openpyxl
import polars as pl
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from powercis.core.context import Actor
from powercis.core.models import Org, Staff
from powercis.reading.engine import frames
from powercis.reading.engine.plans import add_months
from powercis.reading.engine.validate import effective_reads_of_tasks, run_validation
from powercis.reading.models import (
    CollectionChannel,
    PlanStatus,
    ReadBatch,
    ReadException,
    ReadingPlan,
    ReadingRoute,
    ReadingTask,
    ReadMethod,
)

HISTORY_MONTHS = 3
TOU = ("sharp", "peak", "flat", "valley")
MISREAD_SHARE = 1 / 60
#: stops of the demo reader's route left unread for the phone page
LEFT_FOR_THE_WALK = 5
#: misreads the demo reviewer sends back as re-read work orders, and the checks that find them
REREADS = 3
MISREAD_RULES = ("lower", "spike", "drop")
HEADEND_KEY = "demo-headend-{period:%Y-%m}"
DEMO_STATION = "HZ010101"


@dataclass
class DemoReadingReport:
    created: bool = True
    period: str = ""
    history: list[str] = field(default_factory=list)
    headend_reads: int = 0
    headend_quarantined: int = 0
    collected_meters: int = 0
    collected_reads: int = 0
    sheet_tasks: int = 0
    entered_tasks: int = 0
    exceptions: dict[str, int] = field(default_factory=dict)
    rereads_ordered: int = 0


def _aware(day: dt.date, hour: int = 0, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _month_end(period: dt.date) -> dt.date:
    return period.replace(day=calendar.monthrange(period.year, period.month)[1])


def load_reading_month(company: Org, *, as_of: dt.date, seed: int = 1) -> DemoReadingReport:
    """Write the demo's reading history and current month once; a second call finds it and does nothing."""
    from powercis.synthetic.readings import generate_month

    period = as_of.replace(day=1)
    report = DemoReadingReport(period=f"{period:%Y-%m}")
    if ReadBatch.objects.filter(company=company, delivery_key=HEADEND_KEY.format(period=period)).exists():
        report.created = False
        return report
    system = Actor.as_system("demo")
    for back in range(HISTORY_MONTHS, 0, -1):
        month = add_months(period, -back)
        generate_month(company_id=company.pk, period=month, seed=seed, anomaly_rate=0.0,
                       now=_aware(_month_end(month), 23))
        _close_month(system, company, month)
        report.history.append(f"{month:%Y-%m}")
    _assign_demo_reader(company)
    from powercis.reading.services import plans

    plans.generate(system, org=company, period=period, now=_aware(as_of, 8))
    values = _continued_values(company, period, as_of, seed)
    _headend_file(system, company, period, values, report)
    _collection(system, company, period, values, report)
    _sheets_and_entry(system, company, period, values, report)
    month_plans = list(ReadingPlan.objects.filter(company=company, period=period).values_list("pk", flat=True))
    validation = run_validation(plan_ids=month_plans, now=_aware(as_of, 18))
    report.exceptions = dict(validation.by_rule)
    report.rereads_ordered = _order_rereads(company, period)
    return report


def _order_rereads(company: Org, period: dt.date) -> int:
    """The demo's reading reviewer (the billing clerk, 核算员) sends a few misreads back to be read again, as
    re-read work orders (to the route's reader where it has one).

    The rest of the month's exceptions stay open for whoever reviews the demo; these show the
    work-order list with orders that link back to their exceptions.
    """
    from powercis.core import authz
    from powercis.reading.services import exceptions

    reviewer = Staff.objects.filter(username="clerk").first()
    if reviewer is None:
        return 0
    actor = Actor(user=reviewer, channel="demo")
    candidates = ReadException.objects.filter(company=company, plan__period=period, rule__in=MISREAD_RULES,
                                              status=ReadException.Status.OPEN)
    ordered: set[int] = set()
    # routes with a reader first (the order goes to them), then by route and stop
    for exc in (authz.restrict_any(candidates, reviewer, ("reading.review",), path_field="org_path")
                .order_by(F("plan__reader").asc(nulls_last=True), "plan__route__code", "task_id")):
        if len(ordered) == REREADS:
            break
        if exc.task_id not in ordered:
            exceptions.order_reread(actor, exc, note="示数与上次相比异常，请到现场复核表计读数并拍照。")
            ordered.add(exc.task_id)
    return len(ordered)


def _close_month(system: Actor, company: Org, month: dt.date) -> None:
    """Validate and release a history month; what its generated data trips is overridden as reviewed."""
    from powercis.reading.services import plans

    ids = list(ReadingPlan.objects.filter(company=company, period=month).values_list("pk", flat=True))
    run_validation(plan_ids=ids, now=_aware(_month_end(month), 23))
    for plan in ReadingPlan.objects.filter(pk__in=ids, status=PlanStatus.OPEN).select_related("org"):
        plans.release(system, plan, override_reason="演示数据：历史月份已审核 / demo history, reviewed")


def _assign_demo_reader(company: Org) -> None:
    """The demo meter reader reads the first station's manual and handheld routes."""
    reader = Staff.objects.filter(username="reader").first()
    station = Org.objects.filter(company=company, code=DEMO_STATION).first()
    if reader is None or station is None:
        return
    ReadingRoute.objects.filter(company=company, org_path__startswith=station.path,
                                method__in=(ReadMethod.MANUAL, ReadMethod.HANDHELD)).update(reader=reader)


# ---------------------------------------------------------------------------- values


def _continued_values(company: Org, period: dt.date, as_of: dt.date, seed: int) -> pl.DataFrame:
    """Per due task of the period and register: the value a reader or a head-end would see (text, meter decimals)."""
    tasks = frames.query(
        [("task_id", "t.id", "int"), ("point_id", "t.metering_point_id", "int"), ("meter_id", "t.meter_id", "int"),
         ("method", "rt.method", "str"), ("route_id", "p.route_id", "int"), ("scheduled_on", "p.scheduled_on", "date"),
         ("asset_no", "m.asset_no", "str"), ("digits", "m.digits", "int"), ("decimals", "m.decimals", "int")],
        "FROM reading_readingtask t JOIN reading_readingplan p ON p.id = t.plan_id"
        " JOIN reading_readingroute rt ON rt.id = p.route_id JOIN metering_meter m ON m.id = t.meter_id"
        " WHERE p.company_id = %s AND p.period = %s AND p.scheduled_on <= %s",
        [company.pk, period, as_of])
    if tasks.height == 0:
        return tasks
    history = []
    for back in (1, 2):
        month = add_months(period, -back)
        points = frames.query([("task_id", "t.id", "int"), ("point_id", "t.metering_point_id", "int")],
                              "FROM reading_readingtask t JOIN reading_readingplan p ON p.id = t.plan_id"
                              " WHERE p.company_id = %s AND p.period = %s", [company.pk, month])
        reads = effective_reads_of_tasks(points["task_id"].to_list())
        history.append(reads.join(points, on="task_id").select(
            "point_id", "register", "meter_id", pl.col("value").alias(f"v{back}")))
    last, before = history
    joined = (tasks.join(last, on=["point_id", "meter_id"], how="inner")
              .join(before, on=["point_id", "register", "meter_id"], how="left"))
    rng = np.random.default_rng(seed + period.year * 100 + period.month)
    misread = rng.choice(["", "spike", "lower", "zero"], tasks.height,
                         p=[1 - MISREAD_SHARE, MISREAD_SHARE / 3, MISREAD_SHARE / 3, MISREAD_SHARE / 3])
    factors = pl.DataFrame({"task_id": tasks["task_id"],
                            # per mille of last month's consumption; a spike is four times it, a zero nothing
                            "per_mille": np.where(misread == "spike", 4000,
                                                  np.where(misread == "zero", 0, rng.integers(850, 1151, tasks.height))),
                            "misread": misread})
    return _next_values(joined.join(factors, on="task_id"))


def _next_values(frame: pl.DataFrame) -> pl.DataFrame:
    """Continue each register in fixed point (1e-4 units, exact): last + used × factor, cut to the meter's decimals.

    A meter displays its total as the sum of its TOU registers, so where it has two or more
    of them the total is their sum; a "lower" misread puts the total 37 kWh under the last.
    """
    unit = 10_000
    fixed = frame.with_columns(
        v1=(pl.col("v1").cast(pl.Decimal(20, 4)) * unit).cast(pl.Int64),
        v2=(pl.col("v2").cast(pl.Decimal(20, 4)) * unit).cast(pl.Int64),
        modulus=pl.lit(10, pl.Int64).pow(pl.col("digits")) * unit,
        step=pl.lit(10, pl.Int64).pow(4 - pl.col("decimals")))
    used = pl.col("v1") - pl.col("v2").fill_null(pl.col("v1"))
    used = pl.when(used < 0).then(used + pl.col("modulus")).otherwise(used)  # it rolled over last month
    grown = pl.col("v1") + used * pl.col("per_mille") // 1000
    fixed = fixed.with_columns(
        fp=pl.when(pl.col("register") == "demand").then(pl.col("v1"))
        .otherwise((grown - grown % pl.col("step")) % pl.col("modulus")))
    sums = (fixed.filter(pl.col("register").is_in(TOU)).group_by("task_id")
            .agg(tou=pl.col("fp").sum(), n=pl.len()).filter(pl.col("n") >= 2))
    fixed = fixed.join(sums.select("task_id", "tou"), on="task_id", how="left").with_columns(
        fp=pl.when((pl.col("register") == "total") & (pl.col("misread") == "lower"))
        .then(pl.max_horizontal(pl.col("v1") - 37 * unit, pl.lit(0)))
        .when((pl.col("register") == "total") & pl.col("tou").is_not_null())
        .then(pl.col("tou") % pl.col("modulus"))
        .otherwise(pl.col("fp")))
    places = pl.when(pl.col("register") == "demand").then(4).otherwise(pl.col("decimals"))
    text = (pl.col("fp") // unit).cast(pl.Utf8) + "." + (pl.col("fp") % unit).cast(pl.Utf8).str.zfill(4)
    return fixed.with_columns(value=pl.concat_str(text.str.slice(0, text.str.len_chars() - 4 + places))).select(
        "task_id", "point_id", "meter_id", "asset_no", "method", "route_id", "scheduled_on", "register", "decimals",
        "value", "misread")


# ---------------------------------------------------------------------------- the paths


def _collection_route(company: Org, period: dt.date) -> ReadingRoute | None:
    station = Org.objects.filter(company=company, code=DEMO_STATION).first()
    routes = ReadingRoute.objects.filter(company=company, method=ReadMethod.REMOTE, plans__period=period)
    if station is not None and routes.filter(org_path__startswith=station.path).exists():
        routes = routes.filter(org_path__startswith=station.path)
    return routes.order_by("code").first()


def _headend_file(system: Actor, company: Org, period: dt.date, values: pl.DataFrame,
                  report: DemoReadingReport) -> None:
    from powercis.reading.ingest.engine import ingest_file

    collected = _collection_route(company, period)
    remote = values.filter((pl.col("method") == ReadMethod.REMOTE)
                           & (pl.col("route_id") != (collected.pk if collected else -1)))
    zone = frames.local_zone()
    rows = [(asset, register, dt.datetime.combine(day, dt.time.min, zone).isoformat(), value)
            for asset, register, day, value in remote.select("asset_no", "register", "scheduled_on", "value")
            .iter_rows()]
    future = dt.datetime.combine(period + dt.timedelta(days=400), dt.time.min, zone).isoformat()
    first_asset = rows[0][0] if rows else "000000000000"
    rows += [("999999999999", "total", rows[0][2] if rows else future, "12.00"),
             (first_asset, "total", future, "99999.00"),
             (first_asset, "peak", rows[0][2] if rows else future, "12,3")]
    buffer = io.StringIO()
    buffer.write("meter,register,read_at,value\n")
    for asset, register, read_at, value in rows:
        buffer.write(f'{asset},{register},{read_at},"{value}"\n')
    result = ingest_file(system, org=company, source="ami", path_or_bytes=buffer.getvalue().encode(),
                         file_name=f"headend-{period:%Y%m}.csv", file_format="csv",
                         delivery_key=HEADEND_KEY.format(period=period), sender="演示采集主站")
    report.headend_reads = result.batch.rows_accepted
    report.headend_quarantined = result.batch.rows_quarantined


def _collection(system: Actor, company: Org, period: dt.date, values: pl.DataFrame,
                report: DemoReadingReport) -> None:
    from powercis.metering.models import MeteringPoint
    from powercis.reading.collection.simulator import ThreadedBus
    from powercis.reading.services import collection

    route = _collection_route(company, period)
    if route is None:
        return
    mine = values.filter(pl.col("route_id") == route.pk)
    if mine.height == 0:
        return
    from powercis.metering.models import Meter

    addresses = {m.pk: collection.meter_address(m) for m in Meter.objects.filter(pk__in=mine["meter_id"].unique())}
    bus: dict[str, dict[str, Decimal]] = {}
    for meter_id, register, value in mine.select("meter_id", "register", "value").iter_rows():
        if addresses.get(meter_id):
            bus.setdefault(addresses[meter_id], {})[register] = Decimal(value)
    for registers in bus.values():  # the bus answers a block read only when the meter has every TOU register
        for code in ("sharp", "peak", "flat", "valley", "reverse"):
            registers.setdefault(code, Decimal("0"))
    codes = list(MeteringPoint.objects.filter(pk__in=mine["point_id"].unique()).values_list("code", flat=True))
    scheduled = mine["scheduled_on"][0]
    with ThreadedBus(bus) as simulated:
        channel = CollectionChannel.objects.filter(company=company, code="DEMO-BUS-1").first()
        if channel is None:
            channel = collection.create_channel(
                system, org=route.org, code="DEMO-BUS-1", name=f"{route.name} 串口服务器（模拟）",
                host="127.0.0.1", port=simulated.port, data_ids=["0001FF00", "00020000"],
                timeout_seconds=Decimal("1.0"), retries=1)
        else:
            collection.update_channel(system, channel, port=simulated.port)
        collection.add_targets(system, channel, metering_point_codes=codes)
        run = collection.run_channel(system, channel, now=_aware(scheduled, 0, 30))
    report.collected_meters = run.succeeded
    report.collected_reads = run.batch.rows_accepted if run.batch else 0


def _sheets_and_entry(system: Actor, company: Org, period: dt.date, values: pl.DataFrame,
                      report: DemoReadingReport) -> None:
    from powercis.reading.ingest import sheets
    from powercis.reading.services import entry

    field_values = values.filter(pl.col("method") != ReadMethod.REMOTE)
    walk_route = (ReadingRoute.objects.filter(company=company, method=ReadMethod.HANDHELD, plans__period=period,
                                              reader__username="reader").order_by("code").first())
    reader = Staff.objects.filter(username="reader").first()
    by_task: dict[int, dict[str, str]] = {}
    for task_id, register, value in field_values.select("task_id", "register", "value").iter_rows():
        by_task.setdefault(task_id, {})[register] = value
    for plan in (ReadingPlan.objects.filter(company=company, period=period, route__method__in=(
            ReadMethod.MANUAL, ReadMethod.HANDHELD)).select_related("route", "org").order_by("route__code")):
        tasks = list(ReadingTask.objects.filter(plan=plan).select_related("metering_point", "meter")
                     .order_by("seq", "id"))
        if walk_route is not None and plan.route_id == walk_route.pk and reader is not None:
            actor = Actor(user=reader, channel="demo")
            for task in tasks[:-LEFT_FOR_THE_WALK]:
                if task.pk in by_task:
                    entry.record_reads(actor, task, values=by_task[task.pk],
                                       read_at=_aware(plan.scheduled_on, 10), photo_ref=f"IMG_{task.pk}.jpg")
                    report.entered_tasks += 1
            continue
        filled = _fill_sheet(sheets.export_sheet(plan), tasks, by_task, plan.scheduled_on)
        if filled is None:
            continue
        with transaction.atomic():
            sheets.import_sheet(system, org=plan.org, period=period, path_or_bytes=filled,
                                file_name=f"抄表清单-{plan.route.code}-{period:%Y%m}.xlsx")
        report.sheet_tasks += sum(1 for t in tasks if t.pk in by_task)


def _fill_sheet(content: bytes, tasks: list[ReadingTask], by_task: dict[int, dict[str, str]],
                read_on: dt.date) -> bytes | None:
    """Fill an exported reading sheet as a reader would: the register columns and the read date of each row."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book.active
    header_row, columns = _sheet_header(sheet)
    if header_row is None:
        return None
    by_point = {t.metering_point.code: by_task.get(t.pk) for t in tasks}
    filled = 0
    for row in sheet.iter_rows(min_row=header_row + 1):
        point_cell = row[columns["metering_point"]] if "metering_point" in columns else None
        values = by_point.get(str(point_cell.value)) if point_cell is not None else None
        if not values:
            continue
        for register, value in values.items():
            if register in columns:
                row[columns[register]].value = value
        if "read_date" in columns:
            row[columns["read_date"]].value = read_on.isoformat()
        filled += 1
    if not filled:
        return None
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_header(sheet) -> tuple[int | None, dict[str, int]]:
    """The exported sheet's first row, read back into column keys through the export's own headers."""
    from powercis.reading.ingest import sheets

    by_header = {str(text): key for key, text in sheets.export_headers().items()}
    first = next(sheet.iter_rows(max_row=1, values_only=True), ())
    names = {by_header[str(cell)]: position for position, cell in enumerate(first) if str(cell) in by_header}
    return (1, names) if "metering_point" in names else (None, {})
