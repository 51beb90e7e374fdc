"""``powercis reads``: deliver register reads from the command line.

* ``powercis reads ingest FILE --org CODE --source ami|import`` — a head-end's daily
  frozen reads or a reading-sheet export (JSON, CSV, Parquet, XLSX) through the ingest
  engine, as the installation itself (a scheduled job or an operator at the console);
  prints the delivery's counts.  Exit status 2, with the reasons, when the file cannot
  be read or not one of its rows could be accepted.
* ``powercis reads import-sgsc --org CODE`` — the real SGSC half-hourly data turned into
  daily frozen reads of the meters on the org's remote-read routes
  (``reading.ingest.sgsc``); prints households, days, reads, duplicates, quarantined
  rows, clock-drift corrections, missing half hours and flags.
* ``powercis reads opening FILE --org CODE --period YYYY-MM [--release]`` — go-live: the
  previous system's last readings (a reading sheet, XLSX or CSV) loaded into opening plans
  of the month before the first one read here (``reading.services.opening``); prints the
  plans, the tasks read and those still without a reading.  Exit status 2 when the org
  already has ordinary plans of that month or earlier, or the sheet cannot be used.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from powercis.core.context import Actor
from powercis.core.errors import BusinessError
from powercis.core.models import Org
from powercis.reading.ingest import ingest_file
from powercis.reading.models import QuarantinedRead, ReadBatch

#: exit status for a delivery that could not be used at all
EXIT_REJECTED = 2


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


class Command(BaseCommand):
    help = "示数导入 / Deliver register reads: head-end files, reading sheets, the SGSC data."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="<subcommand>",
                                    title="子命令 / subcommands")
        ingest = sub.add_parser("ingest", help="导入示数文件 / ingest a file of register reads",
                                description="导入采集主站日冻结示数或抄表清单文件。 / Ingest a head-end's daily frozen "
                                            "reads or a reading-sheet file (JSON, CSV, Parquet, XLSX).")
        ingest.add_argument("file", help="文件路径 / path of the file")
        ingest.add_argument("--org", required=True, help="供电单位编码 / org code the delivery is for")
        ingest.add_argument("--source", required=True, choices=("ami", "import"),
                            help="ami：采集主站日冻结；import：抄表清单 / ami: head-end; import: reading sheet")
        ingest.add_argument("--delivery-key", default="", help="发送方的交付标识 / the sender's key of the delivery")
        ingest.add_argument("--sender", default="", help="发送方（主站名） / head-end or system that sent it")
        ingest.add_argument("--format", default="", choices=("", "json", "csv", "parquet", "xlsx"),
                            help="文件格式，默认按扩展名 / file format (default: from the extension)")
        sgsc = sub.add_parser("import-sgsc", help="导入 SGSC 真实负荷数据 / import the SGSC half-hourly data",
                              description="把 SGSC 半小时数据折算为远程抄表段电能表的日冻结示数。 / Turn the SGSC "
                                          "half-hourly data into daily frozen reads of the meters on remote-read "
                                          "routes.")
        sgsc.add_argument("--org", required=True, help="供电单位编码 / org code")
        sgsc.add_argument("--file", action="append", default=[], help="SGSC 文件（可重复）/ SGSC file (repeatable; "
                                                                      "default: both files of shared/data/meters)")
        sgsc.add_argument("--route", default="", help="只用此抄表段的电能表 / only the meters of this route")
        sgsc.add_argument("--limit", type=int, default=0, help="只导入前 N 户 / only the first N households")
        sgsc.add_argument("--customers", default="", help="只导入这些户（逗号分隔）/ only these households (ids, "
                                                          "comma-separated)")
        sgsc.add_argument("--from", dest="start", type=_date,
                          help="起始日期（平移后）/ first day (YYYY-MM-DD, after --shift-years)")
        sgsc.add_argument("--to", dest="end", type=_date,
                          help="截止日期（平移后）/ last day (YYYY-MM-DD, after --shift-years)")
        sgsc.add_argument("--shift-years", type=int, default=0,
                          help="把数据整体平移若干年 / move the data by whole years")
        opening = sub.add_parser("opening", help="上线期初示数 / go-live: load the opening readings",
                                 description="把原系统的最后一次抄表示数导入期初计划，作为首月的起始示数。 / Load the "
                                             "previous system's last readings into opening plans: the start reads "
                                             "of the first month read here.")
        opening.add_argument("file", help="抄表清单（.xlsx 或 .csv）/ reading sheet (.xlsx or .csv)")
        opening.add_argument("--org", required=True, help="供电单位编码 / org code")
        opening.add_argument("--period", required=True,
                             help="期初月份，即首个抄表月的上一月 / the month before the first one read here (YYYY-MM)")
        opening.add_argument("--release", action="store_true",
                             help="导入后发布期初计划 / release the opening plans once loaded")

    def handle(self, *args, **options):
        getattr(self, "handle_" + options["subcommand"].replace("-", "_"))(**options)

    def _org(self, code: str) -> Org:
        org = Org.objects.filter(code=code).first()
        if org is None:
            raise CommandError(f"未知供电单位 / unknown org: {code}", returncode=EXIT_REJECTED)
        return org

    def _file(self, name: str) -> Path:
        path = Path(name)
        if not path.is_file():
            raise CommandError(f"文件不存在 / no such file: {path}", returncode=EXIT_REJECTED)
        return path

    def _refused(self, exc: BusinessError) -> CommandError:
        lines = [str(exc.message)]
        for field, errors in (exc.fields or {}).items():
            for error in errors if isinstance(errors, (list, tuple)) else [errors]:
                lines.append(f"{field}: {error}")
        return CommandError("\n".join(lines), returncode=EXIT_REJECTED)

    def _report(self, batch: ReadBatch, replayed: bool) -> None:
        out = self.stdout.write
        if replayed:
            out(f"已收到过此交付，未写入 / delivery key received before, nothing written: batch {batch.pk}")
        out(f"交付 batch {batch.pk}: 行 rows {batch.rows_total}, 接收 accepted {batch.rows_accepted}, "
            f"重复 duplicates {batch.rows_duplicate}, 隔离 quarantined {batch.rows_quarantined}, "
            f"标记 flagged {batch.rows_flagged}, {batch.seconds:.2f} s")
        flags = (batch.summary or {}).get("flags") or {}
        if flags:
            out("标记 flags: " + ", ".join(f"{code} {n}" for code, n in flags.items()))
        reasons = (batch.summary or {}).get("quarantined") or {}
        if reasons:
            out("隔离原因 quarantined: " + ", ".join(f"{code} {n}" for code, n in reasons.items()))

    def _rejected(self, batch: ReadBatch) -> CommandError:
        rows = QuarantinedRead.objects.filter(batch=batch).order_by("row_no", "id")[:20]
        lines = [batch.message or "rejected"] + [f"  第 {q.row_no} 行 row {q.row_no}: [{q.reason_code}] {q.reason}"
                                                 for q in rows]
        return CommandError("\n".join(lines), returncode=EXIT_REJECTED)

    def handle_ingest(self, **options):
        org = self._org(options["org"])
        path = self._file(options["file"])
        try:
            result = ingest_file(Actor.as_system("cli"), org=org, source=options["source"], path_or_bytes=path,
                                 delivery_key=options["delivery_key"], file_name=path.name,
                                 file_format=options["format"], sender=options["sender"])
        except BusinessError as exc:
            raise self._refused(exc) from exc
        self._report(result.batch, result.replayed)
        if result.batch.status == ReadBatch.Status.REJECTED:
            raise self._rejected(result.batch)

    def handle_opening(self, **options):
        from powercis.reading.services.opening import load_opening_readings
        from powercis.reading.services.plans import check_period

        org = self._org(options["org"])
        path = self._file(options["file"])
        try:
            done = load_opening_readings(Actor.as_system("cli"), org=org, period=check_period(options["period"]),
                                         path_or_bytes=path, file_name=path.name, release=options["release"])
        except BusinessError as exc:
            raise self._refused(exc) from exc
        out = self.stdout.write
        out(f"期初 {done.period:%Y-%m}: 计划 plans {done.plans}, 已抄 tasks read {done.sheet.tasks_read}, "
            f"无法抄读 unreadable {done.sheet.tasks_unreadable}, 仍无示数 still without a reading "
            f"{done.tasks_without_reading}, 隔离行 rows quarantined {done.sheet.rows_quarantined}, "
            f"已发布 released {done.released}")
        if done.sheet.batch is not None:
            self._report(done.sheet.batch, done.sheet.result.replayed if done.sheet.result else False)

    def handle_import_sgsc(self, **options):
        from powercis.reading.ingest.sgsc import import_sgsc

        org = self._org(options["org"])
        customers = [c.strip() for c in options["customers"].split(",") if c.strip()]
        try:
            done = import_sgsc(Actor.as_system("cli"), org=org, files=options["file"] or None,
                               route=options["route"] or None, limit=options["limit"] or None,
                               customers=customers or None, start=options["start"], end=options["end"],
                               shift_years=options["shift_years"])
        except BusinessError as exc:
            raise self._refused(exc) from exc
        batch = done.result.batch
        out = self.stdout.write
        out(f"户 households {done.customers}, 户日 household-days {done.days}")
        out(f"示数 reads written {batch.rows_accepted}, 重复 duplicates {batch.rows_duplicate}, "
            f"隔离 quarantined {batch.rows_quarantined}")
        out(f"时钟偏差校正 clock-drift snaps {done.snapped}, 同一半小时两行 duplicate half hours "
            f"{done.duplicate_slots}, 缺失半小时 missing intervals {done.missing_intervals} "
            f"({done.customer_days_missing} 户日 household-days)")
        self._report(batch, done.result.replayed)
        if batch.status == ReadBatch.Status.REJECTED:
            raise self._rejected(batch)
