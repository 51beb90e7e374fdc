"""Delivered files: JSON, CSV (UTF-8 and GBK, Chinese headers), Parquet, XLSX, wide layout — read alike; files that
cannot be read at all are refused with the reason and nothing is written; the command line."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import polars as pl
import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import Workbook

from powercis.core.errors import ValidationFailed
from powercis.core.models import Org
from powercis.reading.ingest import ingest_file, parse
from powercis.reading.models import ReadBatch, RegisterRead
from tests import archive_factory as make

from . import factory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_messages():
    """The assertions quote the English reasons; the stored messages follow the active language."""
    with translation.override("en"):
        yield


TOU = ("total", "peak", "flat", "valley")


@pytest.fixture
def meters():
    return [factory.metered_account(registers=TOU, installed_on=dt.date(2026, 1, 5))[2] for _ in range(2)]


def long_rows(meters) -> list[tuple[str, str, str, str]]:
    """(meter, register, day, value): two days of four registers of two meters."""
    rows = []
    for i, meter in enumerate(meters):
        for d, day in enumerate(("2026-01-20", "2026-01-21")):
            base = Decimal(100 * (i + 1) + 10 * d)
            parts = {"peak": base * Decimal("0.3"), "flat": base * Decimal("0.5"), "valley": base * Decimal("0.2")}
            rows.append((meter.asset_no, "total", day, f"{base:.2f}"))
            rows += [(meter.asset_no, r, day, f"{v:.2f}") for r, v in parts.items()]
    return rows


def as_json(rows) -> bytes:
    # numbers as JSON numbers, written out by hand: they must arrive as the digits sent ("100.00", not 100.0)
    items = [f'{{"meter": "{m}", "register": "{r}", "read_at": "{d}T00:00:00+08:00", "value": {v}}}'
             for m, r, d, v in rows]
    content = '{"reads": [' + ", ".join(items) + "]}"
    json.loads(content)
    return content.encode()


def as_csv_chinese(rows, encoding="utf-8-sig", separator=",") -> bytes:
    lines = [separator.join(["表号", "示数类型", "抄表时间", "示数(kWh)", "估抄"])]
    names = {"total": "总", "peak": "峰", "flat": "平", "valley": "谷"}
    lines += [separator.join([m, names[r], d.replace("-", "/"), v, "否"]) for m, r, d, v in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def as_parquet(rows) -> bytes:
    frame = pl.DataFrame({"meter": [r[0] for r in rows], "register": [r[1] for r in rows],
                          "read_at": [dt.datetime.fromisoformat(r[2]) for r in rows],
                          "value": pl.Series([Decimal(r[3]) for r in rows], dtype=pl.Decimal(16, 4))})
    out = io.BytesIO()
    frame.write_parquet(out)
    return out.getvalue()


def as_xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["Meter", "Register", "Read at", "Value"])
    for m, r, d, v in rows:
        sheet.append([m, r, dt.datetime.fromisoformat(d), float(v)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def as_wide_csv(rows) -> bytes:
    table: dict[tuple[str, str], dict[str, str]] = {}
    for m, r, d, v in rows:
        table.setdefault((m, d), {})[r] = v
    lines = ["电能表,冻结时间,总,峰,平,谷"]
    lines += [f"{m},{d} 00:00:00,{v['total']},{v['peak']},{v['flat']},{v['valley']}" for (m, d), v in table.items()]
    return ("\n".join(lines) + "\n").encode()


def deliver(content: bytes, name: str):
    return ingest_file(make.system(), org=Org.objects.get(code="HZ010101"), source="ami", path_or_bytes=content,
                       file_name=name)


def test_every_format_is_read_alike(meters):
    rows = long_rows(meters)
    first = deliver(as_csv_chinese(rows), "reads.csv").batch
    assert (first.rows_total, first.rows_accepted, first.rows_quarantined) == (16, 16, 0)
    stored = {(r.meter_id, register, r.read_at): value for r in RegisterRead.objects.all()
              for register, value in r.registers().items()}
    assert len(stored) == 16
    assert stored[(meters[1].pk, "peak", dt.datetime(2026, 1, 19, 16, tzinfo=dt.UTC))] == Decimal("60.0000")
    # the same reads in every other format are recognised as the same reads: duplicates, nothing quarantined
    for content, name in ((as_json(rows), "reads.json"), (as_parquet(rows), "reads.parquet"),
                          (as_xlsx(rows), "reads.xlsx"), (as_wide_csv(rows), "wide.csv"),
                          (as_csv_chinese(rows, "gb18030"), "gbk.csv"),
                          (as_csv_chinese(rows, "utf-8", "\t"), "tabs.txt")):
        batch = deliver(content, name).batch
        counts = (batch.rows_total, batch.rows_duplicate, batch.rows_accepted, batch.rows_quarantined)
        assert counts == (16, 16, 0, 0), name
    assert RegisterRead.objects.count() == len({(m, at) for m, _r, at in stored})


def test_the_parsed_frame_keeps_text_and_row_numbers(meters):
    rows = long_rows(meters)
    frame, _content, fmt = parse.read_reads(as_json(rows), file_name="x.json")
    assert fmt == "json" and frame.columns == ["row_no", "meter", "register", "read_at", "value", "estimated"]
    assert frame.row(0) == (1, meters[0].asset_no, "total", "2026-01-20T00:00:00+08:00", "100.00", None)
    wide, _content, fmt = parse.read_reads(as_wide_csv(rows), file_name="w.csv")
    # the wide file's rows are numbered as in the file: one file row, four registers
    assert wide.filter(pl.col("row_no") == 2)["register"].to_list() == ["total", "peak", "flat", "valley"]
    assert wide.height == 16
    assert parse.detect_format(as_parquet(rows)) == "parquet" and parse.detect_format(as_xlsx(rows)) == "xlsx"
    assert parse.detect_format(b"[]") == "json" and parse.detect_format(b"a,b\n") == "csv"


@pytest.mark.parametrize("content, name, message", [
    (b"meter,register,value\nX,total,1\n", "x.csv", "no column for read_at"),
    (b"foo,bar\n1,2\n", "x.csv", "no column for meter, register, read_at, value"),
    (b"{not json", "x.json", "not valid JSON"),
    (b'{"rows": []}', "x.json", "a list of reads"),
    (b"PK\x03\x04 broken", "x.xlsx", "not an Excel workbook"),
    (b"not parquet at all", "x.parquet", "not a Parquet file"),
    (b"", "x.csv", "empty"),
    (b"meter,register,read_at,value\n", "x.csv", "no reads"),
])
def test_a_file_that_cannot_be_read_is_refused_and_nothing_is_written(meters, content, name, message):
    with translation.override("en"), pytest.raises(ValidationFailed) as refused:
        deliver(content, name)
    assert message in str(refused.value)
    assert not ReadBatch.objects.exists() and not RegisterRead.objects.exists()


def test_the_command_ingests_a_file_and_prints_the_counts(meters, tmp_path, capsys):
    path = tmp_path / "hes-2026-01-20.csv"
    path.write_bytes(as_csv_chinese(long_rows(meters)) + "NOPE,总,2026/01/20,1,否\n".encode())
    call_command("reads", "ingest", str(path), "--org", "HZ010101", "--source", "ami", "--delivery-key", "HES-7",
                 "--sender", "HES")
    out = capsys.readouterr().out
    batch = ReadBatch.objects.get()
    assert f"batch {batch.pk}" in out and "rows 17" in out and "accepted 16" in out and "quarantined 1" in out
    assert "unknown_meter 1" in out
    assert (batch.delivery_key, batch.sender, batch.file_name) == ("HES-7", "HES", "hes-2026-01-20.csv")
    call_command("reads", "ingest", str(path), "--org", "HZ010101", "--source", "ami", "--delivery-key", "HES-7")
    assert "nothing written" in capsys.readouterr().out and ReadBatch.objects.count() == 1


def test_the_command_exits_2_with_the_reasons_when_nothing_can_be_taken(meters, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("meter,register,read_at,value\nNOPE,total,2026-01-20,1\n")
    with pytest.raises(CommandError) as rejected:
        call_command("reads", "ingest", str(bad), "--org", "HZ010101", "--source", "ami")
    assert rejected.value.returncode == 2 and "NOPE" in str(rejected.value) and "unknown_meter" in str(rejected.value)
    unreadable = tmp_path / "columns.csv"
    unreadable.write_text("foo,bar\n1,2\n")
    with pytest.raises(CommandError) as refused:
        call_command("reads", "ingest", str(unreadable), "--org", "HZ010101", "--source", "ami")
    assert refused.value.returncode == 2 and "no column for" in str(refused.value)
    with pytest.raises(CommandError) as unknown_org:
        call_command("reads", "ingest", str(bad), "--org", "NOPE", "--source", "ami")
    assert unknown_org.value.returncode == 2
