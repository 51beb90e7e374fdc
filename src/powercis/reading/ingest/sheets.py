"""Reading sheets (抄表清单): a plan's stops out to the field as a workbook, and the filled sheet back in.

The export lists a plan's tasks in walk order — account number, name, address, metering
point, meter — with the last reading of each register (the effective reads of the
point's latest earlier task with the same meter, else the reads recorded when the meter
was installed) and empty columns to fill: one per register the plan's meters have, the
read date, the reason a meter could not be read (未抄原因, a code or a label of the
company's ``unread_reason`` table; the column offers the labels) and a photo reference.

The import takes that layout back, from the workbook or a CSV saved from it, with its
headers in Chinese, English or the user's language (the "last reading" columns are
ignored).  Every row must match a task of a plan of the period in the org's scope, by
metering point number or — when the row has none — by account number (an account with
one task only).  A row whose plan is released, that matches no task, that has readings
*and* a reason, or a reason that is not a code, is quarantined with the reason.  The
readings go through the ingest engine (source ``import``) with their task, so that the
same checks, duplicates and conflicts apply as to any delivery; the tasks of accepted
(or already received) readings are then marked read, the tasks with a reason
unreadable, set-based, with the read date, source ``import`` and the importing user.

A sheet gives the read date as a day: the reading is stored at local noon of that day
(between the day's two frozen reads of a remote meter); a blank date means the plan's
scheduled date.  A date with a time of day other than midnight keeps its time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass

import polars as pl
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from powercis.core import audit, authz, codelists
from powercis.core.context import Actor
from powercis.core.errors import ValidationFailed
from powercis.core.models import Org
from powercis.metering.models import REGISTER_LABELS, REGISTERS

from ..engine import frames
from ..engine.validate import effective_reads_of_tasks
from ..engine.write import update_from_frame
from ..models import ReadBatch, ReadingPlan, Source, TaskStatus
from . import parse
from .engine import IngestResult, ingest_frame, parse_instant, parse_values

#: import aliases of the sheet's own columns (besides the export's headers in the current language)
SHEET_ALIASES: dict[str, tuple[str, ...]] = {
    "account_no": ("account_no", "account", "户号", "用户编号"),
    "metering_point": ("metering_point", "metering_point_no", "计量点编号", "计量点", "计量点号"),
    "read_date": ("read_date", "read_at", "抄表日期", "抄表时间"),
    "unreadable_reason": ("unreadable_reason", "reason_not_read", "未抄原因"),
    "photo": ("photo", "photo_ref", "照片"),
}
NOON = dt.time(12)


def export_headers() -> dict[str, str]:
    """Column key → header of the export, in the user's language."""
    headers = {"seq": _("No."), "account_no": _("Account no."), "name": _("Account name"),
               "address": _("Service address"), "metering_point": _("Metering point"), "meter": _("Meter"),
               "last_read_on": _("Last read on")}
    for register in REGISTERS:
        headers[f"last_{register}"] = _("Last %(register)s") % {"register": REGISTER_LABELS[register]}
    for register in REGISTERS:
        headers[register] = str(REGISTER_LABELS[register])
    headers.update({"read_date": _("Read date"), "unreadable_reason": _("Reason not read"), "photo": _("Photo")})
    return headers


def _header_map(columns: list[str]) -> dict[str, str]:
    """Sheet column key → the file's column name, for the columns the import uses."""
    known: dict[str, str] = {}
    for key, aliases in SHEET_ALIASES.items():
        for alias in aliases:
            known.setdefault(parse.header_key(alias), key)
    headers = export_headers()
    for key in (*SHEET_ALIASES, *REGISTERS):
        if key in headers:
            known.setdefault(parse.header_key(headers[key]), key)
    for name, code in parse.REGISTER_BY_NAME.items():
        known.setdefault(name, code)
    for code, label in REGISTER_LABELS.items():
        known.setdefault(parse.header_key(str(label)), code)
    found: dict[str, str] = {}
    for column in columns:
        key = known.get(parse.header_key(column))
        if key is not None and key not in found:
            found[key] = column
    return found


# ---------------------------------------------------------------------------
# export


def _plan_tasks(plan: ReadingPlan) -> pl.DataFrame:
    return frames.query(
        [("task_id", "t.id", "int"), ("seq", "t.seq", "int"), ("metering_point_id", "t.metering_point_id", "int"),
         ("metering_point", "mp.code", "str"), ("account_no", "a.account_no", "str"), ("name", "a.name", "str"),
         ("address", "a.service_address", "str"), ("meter_id", "t.meter_id", "int"), ("meter", "m.asset_no", "str"),
         ("registers", "m.registers", "json"), ("decimals", "m.decimals", "int")],
        "FROM reading_readingtask t JOIN metering_meteringpoint mp ON mp.id = t.metering_point_id"
        " LEFT JOIN customers_account a ON a.id = t.account_id LEFT JOIN metering_meter m ON m.id = t.meter_id"
        " WHERE t.plan_id = %s ORDER BY t.seq, t.id", [plan.pk])


def last_reads(plan: ReadingPlan, tasks: pl.DataFrame) -> pl.DataFrame:
    """(metering_point_id, register, value, read_on) of the last reading before the plan, with the same meter."""
    earlier = frames.query(
        [("task_id", "t.id", "int"), ("metering_point_id", "t.metering_point_id", "int"),
         ("period", "p.period", "date")],
        "FROM reading_readingtask t JOIN reading_readingplan p ON p.id = t.plan_id"
        " WHERE t.metering_point_id IN (SELECT s.metering_point_id FROM reading_readingtask s WHERE s.plan_id = %s)"
        " AND p.period < %s", [plan.pk, plan.period])
    schema = {"metering_point_id": pl.Int64, "register": pl.Utf8, "value_fp": pl.Int64, "read_on": pl.Date}
    found = pl.DataFrame(schema=schema)
    if earlier.height:
        reads = effective_reads_of_tasks(earlier["task_id"].to_list())
        if reads.height:
            found = (reads.join(earlier, on="task_id")
                     .join(tasks.select("metering_point_id", pl.col("meter_id").alias("current")),
                           on="metering_point_id")
                     .filter(pl.col("meter_id") == pl.col("current"))
                     .sort("period", "read_at").group_by("metering_point_id", "register").last()
                     .select("metering_point_id", "register", value_fp=(pl.col("value") * 10_000).cast(pl.Int64),
                             read_on=frames.local_date(pl.col("read_at"))))
    installs = frames.query(
        [("metering_point_id", "mi.metering_point_id", "int"), ("meter_id", "mi.meter_id", "int"),
         ("installed_on", "mi.installed_on", "date"), ("install_reads", "mi.install_reads", "json")],
        "FROM metering_meterinstallation mi JOIN reading_readingtask t ON t.metering_point_id = mi.metering_point_id"
        " AND t.meter_id = mi.meter_id WHERE t.plan_id = %s", [plan.pk])
    if installs.height:
        parsed = installs.sort("installed_on").unique("metering_point_id", keep="last").select(
            "metering_point_id", "installed_on", frames.register_struct("install_reads", REGISTERS).alias("r"))
        long = (pl.concat([parsed.select("metering_point_id", "installed_on", register=pl.lit(r),
                                         value=pl.col("r").struct.field(r)) for r in REGISTERS])
                .filter(pl.col("value").is_not_null()).with_row_index("_i"))
        at_install = (parse_values(long).filter(pl.col("value_problem").is_null())
                      .select("metering_point_id", "register", "value_fp", read_on=pl.col("installed_on"))
                      .join(found, on=["metering_point_id"], how="anti"))
        found = pl.concat([found.select(list(schema)), at_install.select(list(schema))])
    return found


def export_sheet(plan: ReadingPlan) -> bytes:
    """The plan's reading sheet as an .xlsx workbook: walk order, last readings, columns to fill."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    tasks = _plan_tasks(plan)
    registers_used = set()
    for text in tasks["registers"].drop_nulls().unique().to_list():
        registers_used |= set(json.loads(text))
    registers = [r for r in REGISTERS if r in registers_used] or ["total"]
    last = last_reads(plan, tasks)
    headers = export_headers()
    keys = (["seq", "account_no", "name", "address", "metering_point", "meter", "last_read_on"]
            + [f"last_{r}" for r in registers] + registers + ["read_date", "unreadable_reason", "photo"])
    book = Workbook()
    sheet = book.active
    sheet.title = f"{plan.route.code} {plan.period:%Y-%m}"[:31]
    sheet.append([headers[k] for k in keys])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")
    by_point: dict[int, dict] = {}
    for point, register, value_fp, read_on in last.iter_rows():
        entry = by_point.setdefault(point, {"read_on": read_on})
        entry[register] = value_fp
        entry["read_on"] = max(entry["read_on"], read_on) if entry["read_on"] and read_on else read_on
    for row in tasks.iter_rows(named=True):
        previous = by_point.get(row["metering_point_id"], {})
        decimals = row["decimals"] if row["decimals"] is not None else 2
        values = [row["seq"], row["account_no"] or "", row["name"] or "", row["address"] or "",
                  row["metering_point"], row["meter"] or "", previous.get("read_on")]
        for register in registers:
            fp = previous.get(register)
            values.append(None if fp is None else _decimal(fp, decimals))
        values += [None] * len(registers) + [None, None, None]
        sheet.append(values)
    first_fill = keys.index(registers[0]) + 1
    for row in sheet.iter_rows(min_row=2, min_col=first_fill, max_col=len(keys)):
        for cell in row:
            cell.fill = fill
    date_col = keys.index("read_date") + 1
    for row in sheet.iter_rows(min_row=2, min_col=date_col, max_col=date_col):
        row[0].number_format = "yyyy-mm-dd"
    last_col = keys.index("last_read_on") + 1
    for row in sheet.iter_rows(min_row=2, min_col=last_col, max_col=last_col):
        row[0].number_format = "yyyy-mm-dd"
    reasons = [item.label for item in codelists.codes_of(plan.company_id, "unread_reason").values()]
    if reasons and sheet.max_row > 1:
        listing = '"' + ",".join(r.replace(",", " ").replace('"', "") for r in reasons) + '"'
        if len(listing) <= 255:
            validation = DataValidation(type="list", formula1=listing, allow_blank=True)
            column = get_column_letter(keys.index("unreadable_reason") + 1)
            validation.add(f"{column}2:{column}{sheet.max_row}")
            sheet.add_data_validation(validation)
    for index, key in enumerate(keys, start=1):
        width = 28 if key in ("name", "address") else 16 if key in ("account_no", "metering_point", "meter") else 12
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "B2"
    info = book.create_sheet(_("Plan"))
    for label, value in ((_("Route"), f"{plan.route.code} {plan.route.name}"), (_("Period"), f"{plan.period:%Y-%m}"),
                         (_("Scheduled read date"), plan.scheduled_on.isoformat()),
                         (_("Meter reader"), plan.reader.full_name if plan.reader else ""),
                         (_("Stops"), tasks.height)):
        info.append([str(label), value])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _decimal(fp: int, decimals: int):
    from decimal import Decimal

    return Decimal(fp).scaleb(-4).quantize(Decimal(1).scaleb(-decimals))


# ---------------------------------------------------------------------------
# import


@dataclass
class SheetImport:
    batch: ReadBatch | None
    result: IngestResult | None
    tasks_read: int
    tasks_unreadable: int
    rows_unfilled: int
    rows_quarantined: int


def _candidate_tasks(org: Org, period: dt.date) -> pl.DataFrame:
    return frames.query(
        [("task_id", "t.id", "int"), ("plan_id", "p.id", "int"), ("plan_status", "p.status", "str"),
         ("route", "rt.code", "str"), ("scheduled_on", "p.scheduled_on", "date"),
         ("point_code", "mp.code", "str"), ("account_no", "a.account_no", "str"), ("meter_id", "t.meter_id", "int"),
         ("asset_no", "m.asset_no", "str"), ("task_status", "t.status", "str")],
        "FROM reading_readingtask t JOIN reading_readingplan p ON p.id = t.plan_id"
        " JOIN reading_readingroute rt ON rt.id = p.route_id"
        " JOIN metering_meteringpoint mp ON mp.id = t.metering_point_id"
        " LEFT JOIN customers_account a ON a.id = t.account_id LEFT JOIN metering_meter m ON m.id = t.meter_id"
        " WHERE p.period = %s AND p.org_path LIKE %s", [period, org.path + "%"])


def _reason_codes(company_id: int) -> dict[str, str]:
    """Code, Chinese and English label (as compared) → code of the company's unread_reason table."""
    lookup = {}
    for code, item in codelists.codes_of(company_id, "unread_reason").items():
        for text in (code, item.label_zh, item.label_en):
            if text:
                lookup[parse.header_key(text)] = code
    return lookup


def _read_instant(text: str | None, scheduled_on: dt.date | None) -> str | None:
    """The read time of a sheet row as text for the engine: a day alone is that day at local noon."""
    if text is None or not str(text).strip():
        return f"{scheduled_on.isoformat()} 12:00:00" if scheduled_on else None
    text = str(text).strip()
    day, _sep, time_of_day = text.replace("T", " ").partition(" ")
    if not time_of_day.strip() or time_of_day.strip() in ("00:00", "00:00:00"):
        return f"{day} 12:00:00"
    return text


@transaction.atomic
def import_sheet(actor: Actor, plan: ReadingPlan | None = None, path_or_bytes=None, *, org: Org | None = None,
                 period: dt.date | None = None, file_name: str = "") -> SheetImport:
    """Import a filled reading sheet for ``period`` in ``org`` (or for the plan's period and org)."""
    if plan is not None:
        org = org or plan.org
        period = period or plan.period
    if org is None or period is None:
        raise ValidationFailed(_("Name the org and the period of the sheet."))
    period = period.replace(day=1)
    grant = authz.require(actor, "reading.enter", org)
    content = parse.read_content(path_or_bytes)
    fmt = parse.detect_format(content, "", file_name)
    if fmt not in ("xlsx", "csv"):
        raise ValidationFailed(fields={"file": [_("A reading sheet is an .xlsx workbook or a CSV file.")]})
    table = parse.read_table(content, fmt)
    columns = _header_map(table.columns)
    registers = [r for r in REGISTERS if r in columns]
    if "metering_point" not in columns and "account_no" not in columns:
        raise parse.refused(_("The sheet has no column for the metering point number or the account number."))
    if not registers and "unreadable_reason" not in columns:
        raise parse.refused(_("The sheet has no reading column (%(registers)s) and no reason column.")
                            % {"registers": ", ".join(REGISTERS)})
    text = {key: pl.col(name).cast(pl.Utf8).str.strip_chars() for key, name in columns.items()}
    empty = pl.lit(None, pl.Utf8)
    sheet = table.with_row_index("row_no", offset=1).select(
        pl.col("row_no").cast(pl.Int64),
        *[text.get(k, empty).alias(k) for k in ("metering_point", "account_no", "read_date", "unreadable_reason",
                                                "photo")],
        *[text[r].alias(r) for r in registers])
    sheet = sheet.with_columns([pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c)
                                for c in sheet.columns if c != "row_no"])
    tasks = _candidate_tasks(org, period)
    company_id = org.company_id or org.pk

    # match rows to tasks: by metering point, else by an account with a single task
    by_point = tasks.select(pl.col("point_code").alias("metering_point"), "task_id")
    single = tasks.filter(pl.col("account_no").is_not_null()).group_by("account_no").agg(
        task_id=pl.col("task_id").first(), n=pl.len())
    sheet = (sheet.join(by_point, on="metering_point", how="left")
             .join(single.rename({"task_id": "_by_account"}), on="account_no", how="left")
             .with_columns(task_id=pl.when(pl.col("metering_point").is_not_null()).then("task_id")
                           .when(pl.col("n") == 1).then("_by_account"))
             .join(tasks.select("task_id", "plan_status", "route", "scheduled_on", "asset_no", "meter_id",
                                "task_status"), on="task_id", how="left"))
    filled = pl.any_horizontal([pl.col(r).is_not_null() for r in registers]) if registers else pl.lit(False)
    reasons = _reason_codes(company_id)
    sheet = sheet.with_columns(
        _filled=filled,
        reason_code=pl.col("unreadable_reason").map_elements(lambda t: reasons.get(parse.header_key(t)),
                                                             return_dtype=pl.Utf8))
    ref = pl.coalesce("metering_point", "account_no")
    reject = (pl.when(ref.is_null() & (pl.col("_filled") | pl.col("unreadable_reason").is_not_null()))
              .then(pl.lit("not_in_plan"))
              .when(ref.is_null()).then(pl.lit(None, pl.Utf8))
              .when(pl.col("metering_point").is_null() & (pl.col("n") > 1)).then(pl.lit("ambiguous_account"))
              .when(pl.col("task_id").is_null()).then(pl.lit("not_in_plan"))
              .when(pl.col("plan_status") != "open").then(pl.lit("plan_released"))
              .when(pl.col("_filled") & pl.col("unreadable_reason").is_not_null()).then(pl.lit("ambiguous_row"))
              .when(pl.col("_filled") & pl.col("meter_id").is_null()).then(pl.lit("no_meter"))
              .when(~pl.col("_filled") & pl.col("unreadable_reason").is_not_null() & pl.col("reason_code").is_null())
              .then(pl.lit("bad_reason"))
              .when(~pl.col("_filled") & pl.col("reason_code").is_not_null()
                    & pl.col("task_status").is_in([TaskStatus.READ, TaskStatus.ESTIMATED]))
              .then(pl.lit("already_read")))
    sheet = sheet.with_columns(reject_code=reject)
    messages = {
        "not_in_plan": _("No reading task of %(period)s in %(org)s for this metering point or account.")
        % {"period": f"{period:%Y-%m}", "org": org.name},
        "ambiguous_account": _("The account has several metering points: give the metering point number."),
        "plan_released": _("The plan has been released to billing; corrections go through an adjustment."),
        "ambiguous_row": _("The row has readings and a reason for not reading; fill one of them."),
        "no_meter": _("No meter is installed on this metering point for the plan's read date."),
        "bad_reason": _("The reason is not one of the reasons a meter could not be read."),
        "already_read": _("The meter has already been read; a reason for not reading it is not taken."),
    }
    sheet = sheet.with_columns(reject_reason=pl.col("reject_code").replace_strict(messages, default=None,
                                                                                  return_dtype=pl.Utf8),
                               read_text=pl.struct("read_date", "scheduled_on").map_elements(
                                   lambda s: _read_instant(s["read_date"], s["scheduled_on"]), return_dtype=pl.Utf8))
    unfilled = sheet.filter(pl.col("reject_code").is_null() & ~pl.col("_filled")
                            & pl.col("unreadable_reason").is_null()).height

    # the engine's rows: one per register reading, plus one per rejected row (to be quarantined)
    reading_rows = sheet.filter(pl.col("reject_code").is_null() & pl.col("_filled"))
    long = (reading_rows.select("row_no", "task_id", "asset_no", "read_text", "photo", *registers)
            .unpivot(on=registers, index=["row_no", "task_id", "asset_no", "read_text", "photo"],
                     variable_name="register", value_name="value")
            .filter(pl.col("value").is_not_null())
            .select("row_no", "task_id", pl.col("asset_no").alias("meter"), "register",
                    pl.col("read_text").alias("read_at"), "value", pl.col("photo").alias("photo_ref"),
                    reject_code=pl.lit(None, pl.Utf8), reject_reason=pl.lit(None, pl.Utf8))) if registers else None
    rejected = sheet.filter(pl.col("reject_code").is_not_null()).select(
        "row_no", pl.lit(None, pl.Int64).alias("task_id"), ref.alias("meter"), pl.lit("").alias("register"),
        pl.col("read_date").alias("read_at"), pl.lit("").alias("value"), pl.col("photo").alias("photo_ref"),
        "reject_code", "reject_reason")
    parts = [p for p in (long, rejected) if p is not None and p.height]
    result = None
    batch = None
    if parts:
        frame = pl.concat(parts, how="vertical_relaxed").sort("row_no")
        result = ingest_frame(actor, org=org, source=Source.IMPORT, frame=frame, file_name=file_name,
                              file_format=fmt, digest=hashlib.sha256(content).hexdigest(), keep_outcomes=True,
                              extra_summary={"sheet": file_name, "period": f"{period:%Y-%m}",
                                             "plan": f"{plan.route.code} {plan.period:%Y-%m}" if plan else ""})
        batch = result.batch

    now = timezone.now()
    updates = []
    tasks_read = 0
    if result is not None and result.outcomes is not None:
        kept = (result.outcomes.filter(pl.col("outcome").is_in(["accepted", "duplicate"]) & pl.col("task_id")
                                       .is_not_null())
                .group_by("task_id").agg(read_at=pl.col("read_at").min(), row_no=pl.col("row_no").min()))
        read = (kept.join(sheet.select("row_no", "photo"), on="row_no", how="left")
                .select(pl.col("task_id").alias("id"), pl.lit(TaskStatus.READ.value).alias("status"), "read_at",
                        pl.lit(Source.IMPORT.value).alias("source"),
                        pl.lit(actor.user.pk if actor.user else None, pl.Int64).alias("read_by_id"),
                        pl.lit("").alias("unreadable_reason"), pl.col("photo").fill_null("").alias("photo_ref")))
        updates.append(read)
        tasks_read = read.height
    unreadable = sheet.filter(pl.col("reject_code").is_null() & ~pl.col("_filled")
                              & pl.col("reason_code").is_not_null())
    zone = frames.local_zone()
    if unreadable.height:
        instants = [_noon_utc(t, zone, now) for t in unreadable["read_text"].to_list()]
        updates.append(unreadable.select(
            pl.col("task_id").alias("id"), pl.lit(TaskStatus.UNREADABLE.value).alias("status"),
            pl.Series("read_at", instants, dtype=pl.Datetime("us")).dt.replace_time_zone("UTC"),
            pl.lit(Source.IMPORT.value).alias("source"),
            pl.lit(actor.user.pk if actor.user else None, pl.Int64).alias("read_by_id"),
            pl.col("reason_code").alias("unreadable_reason"), pl.col("photo").fill_null("").alias("photo_ref"))
            .unique("id", keep="first"))
    tasks_unreadable = unreadable["task_id"].n_unique() if unreadable.height else 0
    if updates:
        frame = pl.concat([u.with_columns(pl.col("read_at").cast(pl.Datetime("us", "UTC"))) for u in updates])
        update_from_frame("reading_readingtask", frame.with_columns(pl.col("photo_ref").str.slice(0, 200)))
    quarantined = batch.rows_quarantined if batch else 0
    if batch is not None:
        batch.summary = {**batch.summary, "tasks_read": tasks_read, "tasks_unreadable": tasks_unreadable,
                         "rows_unfilled": unfilled}
        batch.save(update_fields=["summary"])
    audit.record(actor, action="reading.sheet.import", obj=batch if batch is not None else plan, org=org,
                 grant=grant, object_repr=file_name or "",
                 changes={"period": f"{period:%Y-%m}", "tasks_read": tasks_read, "tasks_unreadable": tasks_unreadable,
                          "rows_unfilled": unfilled, "rows_quarantined": quarantined})
    return SheetImport(batch=batch, result=result, tasks_read=tasks_read, tasks_unreadable=tasks_unreadable,
                       rows_unfilled=unfilled, rows_quarantined=quarantined)


def _noon_utc(text: str | None, zone, now: dt.datetime) -> dt.datetime:
    instant = parse_instant(text, zone) if text else None
    return (instant or now).astimezone(dt.UTC).replace(tzinfo=None)
