"""Templates carry the Chinese headers and the codes; exports follow the data scope and mask personal data."""

from __future__ import annotations

import csv
import io

import pytest
from django.utils import translation
from openpyxl import load_workbook

from powercis.core.bulkio import files, services, spec
from powercis.core.errors import NotAuthorized
from powercis.core.models import AuditRecord, Org

from . import make

pytestmark = pytest.mark.django_db


def company_id():
    return Org.objects.get(code="HZ").pk


def test_xlsx_template_has_chinese_headers_notes_and_codes():
    with translation.override("en"):
        name, content_type, content = files.template(spec.get("accounts"), company_id(), "xlsx")
    book = load_workbook(io.BytesIO(content))
    data, notes, codes = book.worksheets
    assert name == "import-template-accounts.xlsx" and content_type == files.XLSX_TYPE
    header = [c.value for c in next(data.iter_rows(max_row=1))]
    assert header[:7] == ["户号", "客户编号", "户名", "用电地址", "立户日期", "用电类别", "供电电压"]
    assert data.max_row == 1  # nothing but the header
    guide = {row[0]: row for row in notes.iter_rows(min_row=2, values_only=True) if row and row[0]}
    assert guide["户号"][1:3] == ("Account number", "yes") and guide["户名"][2] == "no"
    assert "Date as YYYY-MM-DD" in guide["立户日期"][3]
    code_rows = {(r[0], r[1]): r[2] for r in codes.iter_rows(min_row=2, values_only=True)}
    assert code_rows[("用电类别", "RES_T")] == "居民一户一表" and code_rows[("基本电费计收方式", "capacity")] == "按容量"


def test_csv_template_has_a_notes_row_that_the_import_skips(custmgr):
    name, content_type, content = files.template(spec.get("customers"), company_id(), "csv")
    assert content.startswith(b"\xef\xbb\xbf")
    header, notes = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert header == ["客户编号", "客户名称", "客户分类", "证件类型", "证件号码", "手机号码", "联系电话", "电子邮箱",
                      "通讯地址", "供电单位编码"]
    assert notes[0].startswith("#") and "LV_R=低压居民客户" in notes[2]
    # filled in below the notes row, the template imports as it is
    filled = content + "C900,张三,LV_R\r\n".encode()
    batch = make.upload(custmgr, "customers", filled)
    assert (batch.status, batch.row_count) == ("validated", 1), make.reasons(batch)


def test_export_masks_personal_data_and_keeps_to_the_scope(custmgr, customers_in_db):
    from tests.archive_factory import customer

    customer("HZ010201", customer_no="QS001", mobile="13700001111")  # 青山区: outside the account manager's scope
    before = AuditRecord.objects.count()
    name, content_type, stream = services.export(custmgr, entity="customers", org=Org.objects.get(code="HZ0101"),
                                                 fmt="csv")
    rows = list(csv.reader(io.StringIO(b"".join(stream).decode("utf-8-sig"))))
    assert rows[0][:6] == make.CUSTOMER_HEADER[:6]
    by_no = {r[0]: r for r in rows[1:]}
    assert set(by_no) == {"C100", "C101", "C102"}
    assert by_no["C100"][4:6] == ["1101**********002X", "138****5678"]
    assert by_no["C100"][3] == "id_card" and by_no["C100"][9] == "HZ010101"
    assert not any("13812345678" in cell or make.ID_NUMBERS[0] in cell for r in rows for cell in r)
    record = AuditRecord.objects.get(seq=before + 1)
    assert (record.action, record.changes) == ("export", {"entity": "customers", "rows": 3, "format": "csv"})
    # an empty export is a header row
    name, content_type, handle = services.export(custmgr, entity="accounts", org=Org.objects.get(code="HZ0101"),
                                                 fmt="xlsx")
    sheet = load_workbook(io.BytesIO(handle.read())).worksheets[0]
    assert next(sheet.iter_rows(max_row=1, values_only=True))[0] == "户号" and sheet.max_row == 1


def test_export_refused_outside_scope_and_for_a_reader(custmgr, actor):
    with pytest.raises(NotAuthorized):
        services.export(custmgr, entity="customers", org=Org.objects.get(code="HZ0102"), fmt="csv")
    with pytest.raises(NotAuthorized):
        services.export(actor("reader"), entity="customers", org=Org.objects.get(code="HZ010101"), fmt="csv")


def test_export_then_import_elsewhere_round_trips_the_topology(actor, table_counts):
    """An export is a filled-in template: the grid exported from one org imports as is (codes unchanged)."""
    from tests.archive_factory import system
    from powercis.grid.services import create_substation

    custmgr = actor("custmgr")
    create_substation(system(), org=Org.objects.get(code="HZ010101"), code="SUB-1", name="城关变",
                      voltage_level="AC110KV", longitude=114.3, latitude=30.6)
    name, content_type, stream = services.export(custmgr, entity="substations", org=Org.objects.get(code="HZ0101"),
                                                 fmt="csv")
    content = b"".join(stream)
    assert content.decode("utf-8-sig").splitlines()[1] == "SUB-1,城关变,AC110KV,114.3,30.6,HZ010101"
    batch = make.upload(custmgr, "substations", content.replace(b"SUB-1", b"SUB-2"))
    assert batch.status == "validated", make.reasons(batch)


def test_filled_in_xlsx_template_imports(custmgr):
    name, content_type, content = files.template(spec.get("customers"), company_id(), "xlsx")
    book = load_workbook(io.BytesIO(content))
    data = book.worksheets[0]
    assert data.column_dimensions["A"].number_format == "@"  # numbers typed there stay text
    data.append(["00123", "张三", "LV_R", "身份证", make.ID_NUMBERS[2]])
    data.append(["00124", "", "LV_R"])
    data["B3"].value, data["B3"].data_type = "=1+1", "s"  # text that starts with "=", as typed after an apostrophe
    out = io.BytesIO()
    book.save(out)
    batch = make.upload(custmgr, "customers", out.getvalue(), name="filled.xlsx")
    assert (batch.status, batch.file_format, batch.row_count) == ("validated", "xlsx", 2), make.reasons(batch)
    services.commit(custmgr, batch)
    # what looks like a formula is kept as text, and exported so that no spreadsheet runs it
    name, content_type, stream = services.export(custmgr, entity="customers", org=Org.objects.get(code="HZ0101"),
                                                 fmt="csv")
    rows = {r[0]: r for r in csv.reader(io.StringIO(b"".join(stream).decode("utf-8-sig")))}
    assert rows["00124"][1] == "'=1+1" and rows["00123"][4] == "4403**********0013"
