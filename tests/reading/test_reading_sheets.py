"""Reading sheets: export a plan's sheet, fill it as a reader would, import it back; the tasks follow."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from openpyxl import load_workbook

from powercis.core.errors import ValidationFailed
from powercis.core.models import AuditRecord, Org
from powercis.reading.ingest import sheets
from powercis.reading.models import PlanStatus, QuarantinedRead, ReadingPlan, ReadingTask, RegisterRead, TaskStatus
from powercis.reading.services import plans

from . import factory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_messages():
    """The assertions quote the English reasons; the stored messages follow the active language."""
    with translation.override("en"):
        yield


SEPTEMBER, OCTOBER = dt.date(2026, 9, 1), dt.date(2026, 10, 1)
TOU = ("total", "peak", "flat", "valley")


@pytest.fixture
def route_plan(staff, actor):
    """A route of three TOU meters, read in September (the first one), with October's plan generated."""
    route = factory.route(code="R-SHEET", reader=staff("reader"), read_day=25)
    stops = [factory.metered_account(route=route.code, order=i, registers=TOU,
                                     install_reads={"total": "100", "peak": "30", "flat": "40", "valley": "30"})
             for i in (1, 2, 3)]
    station = Org.objects.get(code="HZ010101")
    plans.generate(actor("clerk"), org=station, period=SEPTEMBER)
    september = ReadingPlan.objects.get(route=route, period=SEPTEMBER)
    read = fill(sheets.export_sheet(september), {1: {"total": "350.25", "peak": "110.05", "flat": "140.10",
                                                     "valley": "100.10", "read_date": "2026-09-25"}})
    assert sheets.import_sheet(actor("reader"), september, read, file_name="september.xlsx").tasks_read == 1
    plans.generate(actor("clerk"), org=station, period=OCTOBER)
    return ReadingPlan.objects.get(route=route, period=OCTOBER), stops


def rows_of(content: bytes) -> tuple[list[str], list[list]]:
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    return values[0], values[1:]


def fill(content: bytes, changes: dict[int, dict[str, object]], extra: list[dict] | None = None) -> bytes:
    """The exported workbook with cells filled in, as a reader would: {data row: {column key: value}}."""
    book = load_workbook(io.BytesIO(content))
    sheet = book.worksheets[0]
    headers = sheets.export_headers()
    header = [c.value for c in sheet[1]]
    for row, values in changes.items():
        for key, value in values.items():
            sheet.cell(row=row + 1, column=header.index(headers[key]) + 1, value=value)
    for values in extra or []:
        by_header = {headers[k]: v for k, v in values.items()}
        sheet.append([by_header.get(name) for name in header])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_export_lists_the_walk_with_last_readings(route_plan):
    plan, stops = route_plan
    with translation.override("en"):
        header, rows = rows_of(sheets.export_sheet(plan))
    assert header[:7] == ["No.", "Account no.", "Account name", "Service address", "Metering point", "Meter",
                          "Last read on"]
    assert header[7:] == ["Last Total", "Last Peak", "Last Flat", "Last Valley", "Total", "Peak", "Flat", "Valley",
                          "Read date", "Reason not read", "Photo"]
    assert [r[4] for r in rows] == [point.code for _a, point, _m in stops]  # walk order
    assert [r[1] for r in rows] == [account.account_no for account, _p, _m in stops]
    first, second = rows[0], rows[1]
    assert first[5] == stops[0][2].asset_no and first[6].date() == dt.date(2026, 9, 25)
    assert first[7:11] == [350.25, 110.05, 140.1, 100.1]   # September's reading of the same meter
    assert second[7:11] == [100, 30, 40, 30]                # never read: the reads at installation
    assert second[6].date() == dt.date(2026, 1, 5)
    assert all(v is None for v in first[11:])               # the columns to fill are empty


def test_a_filled_sheet_round_trips_into_reads_and_tasks(route_plan, actor):
    plan, stops = route_plan
    exported = sheets.export_sheet(plan)
    filled = fill(exported, {
        1: {"total": 420.55, "peak": 130.05, "flat": 170.20, "valley": 120.30, "read_date": dt.date(2026, 10, 25),
            "photo": "IMG_0012.jpg"},
        2: {"unreadable_reason": "门闭/无人"},
    }, extra=[{"metering_point": "NO-SUCH-POINT", "total": 5}])
    done = sheets.import_sheet(actor("reader"), plan, filled, file_name="R-SHEET-2026-10.xlsx")
    batch = done.batch
    assert (done.tasks_read, done.tasks_unreadable, done.rows_unfilled) == (1, 1, 1)
    assert (batch.source, batch.rows_accepted, batch.rows_quarantined) == ("import", 4, 1)
    first = ReadingTask.objects.get(plan=plan, metering_point=stops[0][1])
    second = ReadingTask.objects.get(plan=plan, metering_point=stops[1][1])
    third = ReadingTask.objects.get(plan=plan, metering_point=stops[2][1])
    noon = timezone.make_aware(dt.datetime(2026, 10, 25, 12, 0))
    assert (first.status, first.source, first.read_at, first.read_by.username, first.photo_ref) == (
        TaskStatus.READ, "import", noon, "reader", "IMG_0012.jpg")
    assert (second.status, second.unreadable_reason, second.read_by.username) == (TaskStatus.UNREADABLE, "LOCKED",
                                                                                  "reader")
    assert third.status == TaskStatus.PENDING
    [read] = RegisterRead.objects.filter(task=first, source="import")  # one read with every register of the row
    assert read.registers() == {"total": Decimal("420.5500"), "peak": Decimal("130.0500"),
                                "flat": Decimal("170.2000"), "valley": Decimal("120.3000")}
    assert (read.read_at, read.entered_by.username, read.photo_ref, read.batch_id) == (
        noon, "reader", "IMG_0012.jpg", batch.pk)
    assert list(QuarantinedRead.objects.filter(batch=batch).values_list("row_no", "reason_code", "meter_ref")) == [
        (4, "not_in_plan", "NO-SUCH-POINT")]
    assert batch.summary["tasks_read"] == 1 and batch.summary["period"] == "2026-10"
    assert AuditRecord.objects.filter(action="reading.sheet.import", object_id=str(batch.pk)).count() == 1
    # the same sheet again: the readings are duplicates, nothing new is written
    again = sheets.import_sheet(actor("reader"), plan, filled, file_name="R-SHEET-2026-10.xlsx")
    assert (again.batch.rows_accepted, again.batch.rows_duplicate) == (0, 4)
    assert RegisterRead.objects.filter(task=first, source="import").count() == 1


def test_sheet_rows_that_cannot_be_taken_are_quarantined_with_the_reason(route_plan, actor):
    plan, stops = route_plan
    (acc1, p1, _m1), (acc2, _p2, _m2), (acc3, p3, _m3) = stops
    header = ["户号", "计量点编号", "抄表日期", "总", "峰", "平", "谷", "未抄原因", "照片"]
    lines = [
        ["", p1.code, "2026-10-24", "421", "131", "170", "120", "门闭/无人", ""],  # readings and a reason
        [acc2.account_no, "", "2026-10-24", "300", "100", "100", "100", "", ""],  # by account number: read
        ["", p3.code, "", "", "", "", "", "不知道", ""],                          # not a reason
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(lines)
    done = sheets.import_sheet(actor("reader"), plan, buffer.getvalue().encode("utf-8-sig"), file_name="sheet.csv")
    assert list(QuarantinedRead.objects.filter(batch=done.batch).values_list("row_no", "reason_code")) == [
        (1, "ambiguous_row"), (3, "bad_reason")]
    assert done.tasks_read == 1
    by_account = ReadingTask.objects.get(plan=plan, account=acc2)
    assert by_account.status == TaskStatus.READ
    assert timezone.localtime(by_account.read_at) == timezone.make_aware(dt.datetime(2026, 10, 24, 12, 0))
    # a released plan takes no more readings from a sheet
    ReadingPlan.objects.filter(pk=plan.pk).update(status=PlanStatus.RELEASED)
    lines = [["", p3.code, "2026-10-24", "500", "150", "200", "150", "", ""]]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(lines)
    late = sheets.import_sheet(actor("reader"), plan, buffer.getvalue().encode(), file_name="late.csv")
    assert list(QuarantinedRead.objects.filter(batch=late.batch).values_list("reason_code", flat=True)) == [
        "plan_released"]
    assert late.batch.status == "rejected"


def test_a_sheet_without_the_key_columns_is_refused(route_plan, actor):
    plan, _stops = route_plan
    before = RegisterRead.objects.count()
    with translation.override("en"), pytest.raises(ValidationFailed) as refused:
        sheets.import_sheet(actor("reader"), plan, "name,total\nx,1\n".encode(), file_name="x.csv")
    assert "metering point number or the account number" in str(refused.value)
    assert RegisterRead.objects.count() == before
