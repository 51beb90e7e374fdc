"""A bad file writes nothing and names each error's row, column, value and reason; the same file imports once."""

from __future__ import annotations

import codecs

import pytest
from django.utils import translation

from powercis.core.bulkio import files, services
from powercis.core.errors import BusinessError, NotAuthorized
from powercis.customers.models import Account, Customer

from . import make

pytestmark = pytest.mark.django_db


def refused(actor, entity, content, counts, org="HZ0101"):
    """Upload a file that must fail; check that nothing was written and return its errors."""
    before = counts()
    batch = make.upload(actor, entity, content, org=org)
    assert batch.status == "failed" and batch.content is None
    assert counts() == before
    assert batch.error_count == len(batch.errors) > 0
    return make.reasons(batch)


@pytest.mark.usefixtures("english")
class TestEncoding:
    def test_utf16_is_refused_by_name(self, custmgr, table_counts):
        content = codecs.BOM_UTF16_LE + "客户编号,客户名称\nC1,张三\n".encode("utf-16-le")
        assert refused(custmgr, "customers", content, table_counts) == [
            (0, "", "", "The file is saved as UTF-16 (“Unicode text”). Save it from Excel as “CSV UTF-8” or as .xlsx.")]

    def test_bytes_neither_utf8_nor_gbk_name_the_line(self, custmgr, table_counts):
        content = make.customers_file() + b"C900,\x80\x80,LV_R,,,,\r\n"
        [(row, column, value, reason)] = refused(custmgr, "customers", content, table_counts)
        assert reason == ("The file is neither UTF-8 nor GBK/GB18030 text (line 5 cannot be read). "
                          "Save it from Excel as “CSV UTF-8” or as .xlsx.")

    def test_another_encoding_that_gbk_would_misread_is_refused(self, custmgr, table_counts):
        """Big5 (Traditional Chinese) decodes as GB18030 without error, into rare characters: refused, not garbled."""
        content = make.csv_bytes(["客戶編號", "客戶名稱"], [["C1", "陳美麗"], ["C2", "臺灣機械股份有限公司"]], "big5")
        content.decode("gb18030")  # the trap: it does decode
        [(_row, _column, _value, reason)] = refused(custmgr, "customers", content, table_counts)
        assert reason.startswith("The file reads as GBK only with unusual characters such as")

    def test_old_excel_and_damaged_xlsx(self, custmgr, table_counts):
        old = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100
        assert refused(custmgr, "customers", old, table_counts)[0][3] == (
            "This is an Excel 97-2003 (.xls) workbook; save it as .xlsx or as CSV.")
        damaged = make.xlsx_bytes(make.CUSTOMER_HEADER, [])[:300]
        assert refused(custmgr, "customers", damaged, table_counts)[0][3] == (
            "The file cannot be read as an Excel workbook (.xlsx).")


@pytest.mark.usefixtures("english")
def test_missing_unknown_and_repeated_columns(custmgr, table_counts):
    content = make.csv_bytes(["客户编号", "客户名称", "客户名称", "电话号码X"], [["C1", "张三", "张三", "1"]])
    assert refused(custmgr, "customers", content, table_counts) == [
        (1, "客户名称", "客户名称", "This column appears twice (also column 2)."),
        (1, "电话号码X", "电话号码X", "This column is not part of the template for customers."),
        (1, "客户分类", "", "The required column is missing."),
    ]


@pytest.mark.usefixtures("english")
def test_duplicate_keys_in_the_file_and_in_the_database(custmgr, customers_in_db, table_counts):
    content = make.customers_file([
        ["C500", "甲", "LV_R", "", "", "", ""],
        ["C100", "张三", "LV_R", "", "", "", ""],  # already imported
        ["C500", "乙", "LV_R", "", "", "", ""],  # twice in this file
    ])
    assert refused(custmgr, "customers", content, table_counts) == [
        (3, "客户编号", "C100", "“C100” is already in use."),
        (4, "客户编号", "C500", "The same 客户编号 as row 2 of this file."),
    ]


@pytest.mark.usefixtures("english")
def test_bad_dates_codes_numbers_and_references(custmgr, customers_in_db, table_counts):
    content = make.accounts_file([
        ["1000000001", "C100", "幸福路1号", "2024-02-30", "RES_T", "AC220V", "", "", "", ""],
        ["1000000002", "C100", "幸福路2号", "01/03/2024", "RES_X", "AC220V", "12.34", "", "0.95", ""],
        ["1000000003", "C999", "幸福路3号", "2099-01-01", "RES_T", "220V", "-5", "by capacity", "", ""],
        ["1000000004", "C102", "", "2024-01-01", "CI_2", "AC10KV", "400", "按需量", "0.90", ""],
        ["1000000005", "C102", "幸福路5号", "2024-01-01", "CI_2", "AC10KV", "0", "按需量", "0.90", ""],
    ])
    assert refused(custmgr, "accounts", content, table_counts) == [
        (2, "立户日期", "2024-02-30", "Not a date; write it as YYYY-MM-DD, e.g. 2024-03-01."),
        (3, "立户日期", "01/03/2024", "Not a date; write it as YYYY-MM-DD, e.g. 2024-03-01."),
        (3, "用电类别", "RES_X", "“RES_X” is not a code of the table usage_category."),
        (3, "合同容量(kVA)", "12.34", "At most 1 decimal places."),
        (3, "功率因数考核标准", "0.95", "“0.95” is not a code of the table pf_standard."),
        (4, "客户编号", "C999", "“C999” was not found (or is outside your data scope)."),
        (4, "立户日期", "2099-01-01", "The date 2099-01-01 lies in the future."),
        (4, "供电电压", "220V", "“220V” is not a code of the table voltage_level."),
        (4, "合同容量(kVA)", "-5", "Must be at least 0."),
        (4, "基本电费计收方式", "by capacity", "Not one of: none (不计收), capacity (按容量), demand (按需量)."),
        (5, "用电地址", "", "A value is required."),
        (6, "合同容量(kVA)", "0", "A capacity or demand charge needs a contract capacity."),
    ]


@pytest.mark.usefixtures("english")
def test_unknown_org_org_outside_target_and_row_outside_scope(custmgr, customers_in_db, table_counts):
    content = make.customers_file([
        ["C600", "甲", "LV_R", "", "", "", "HZ9999"],  # no such org
        ["C601", "乙", "LV_R", "", "", "", "HZ0102"],  # 青山区: outside the target 临江县 and the user's scope
        ["C602", "丙", "LV_R", "", "", "", "HZ010101"],  # fine
    ])
    assert refused(custmgr, "customers", content, table_counts) == [
        (2, "供电单位编码", "HZ9999", "There is no org with the code “HZ9999” in this company."),
        (3, "供电单位编码", "HZ0102", "The org HZ0102 is not within the target org 临江县供电公司 (HZ0101)."),
    ]
    # targeting the city company: the row in 青山区 is inside the target but outside the user's data scope
    with pytest.raises(NotAuthorized):
        make.upload(custmgr, "customers", content, org="HZ01")


@pytest.mark.usefixtures("english")
def test_row_outside_the_users_scope(actor, table_counts):
    """An account manager for 临江县 itself only (scope "own org"): a row for 城关供电所 below it is refused."""
    from powercis.core import authz
    from powercis.core.context import Actor
    from powercis.core.models import DataScope, Org, Post
    from powercis.core.services import posts as post_services

    holder = actor("reader")
    post_services.bootstrap_grant(Actor.as_system("test"), staff=holder.user, org=Org.objects.get(code="HZ0101"),
                                  post=Post.objects.get(company__code="HZ", code="account_manager"),
                                  scope=DataScope.OWN)
    authz.forget(holder.user)
    content = make.customers_file([["C800", "甲", "LV_R", "", "", "", "HZ0101"],
                                   ["C801", "乙", "LV_R", "", "", "", "HZ010101"]])
    assert refused(holder, "customers", content, table_counts) == [
        (3, "供电单位编码", "HZ010101", "The org HZ010101 is outside your data scope for this import."),
    ]


def test_errors_are_rendered_in_the_readers_language(custmgr, customers_in_db):
    """Stored as message ids: the same batch reads in English and in Chinese (structure the same)."""
    batch = make.upload(custmgr, "customers", make.customers_file([["C100", "张三", "LV_R", "", "", "", ""]]))
    with translation.override("en"):
        [(row, column, value, english)] = make.reasons(batch)
    with translation.override("zh-hans"):
        [(row_zh, column_zh, value_zh, chinese)] = make.reasons(batch)
    assert (row, column, value) == (row_zh, column_zh, value_zh) == (2, "客户编号", "C100")
    assert english == "“C100” is already in use." and "C100" in chinese


def test_same_file_imports_once(custmgr, customers_in_db, english):
    with pytest.raises(BusinessError) as exc:
        make.upload(custmgr, "customers", make.customers_file())
    assert exc.value.code == "already_imported"
    assert str(exc.value).startswith(f"This file was already imported as batch #{customers_in_db.pk} on ")
    assert "何芳" in str(exc.value)
    # a committed batch cannot be committed again either
    with pytest.raises(BusinessError):
        services.commit(custmgr, customers_in_db)
    assert Customer.objects.filter(customer_no__in=["C100", "C101", "C102"]).count() == 3


def test_only_the_uploader_commits(custmgr, actor, customers_in_db):
    batch = make.upload(custmgr, "accounts", make.accounts_file())
    with pytest.raises(NotAuthorized):
        services.commit(actor("admin"), batch)
    assert not Account.objects.filter(account_no="1000000001").exists()


def test_commit_validates_again_and_writes_nothing_when_the_archive_changed(custmgr, customers_in_db, table_counts,
                                                                           english):
    from tests.archive_factory import account

    batch = make.upload(custmgr, "accounts", make.accounts_file())
    assert batch.status == "validated"
    account("HZ010101", owner=Customer.objects.get(customer_no="C100"), account_no="1000000002")
    before = table_counts()

    batch = services.commit(custmgr, batch)

    assert batch.status == "failed" and table_counts() == before
    assert make.reasons(batch) == [(3, "户号", "1000000002", "“1000000002” is already in use.")]
    assert not Account.objects.filter(account_no="1000000001").exists()


def test_a_reader_may_not_import(actor, english):
    with pytest.raises(NotAuthorized) as exc:
        make.upload(actor("reader"), "customers", make.customers_file(), org="HZ010101")
    assert str(exc.value) == "You do not have the permission “Bulk import and export records”."


@pytest.mark.usefixtures("english")
def test_error_report_downloads(custmgr, customers_in_db):
    from openpyxl import load_workbook
    import io

    batch = make.upload(custmgr, "customers", make.customers_file([["C100", "张三", "LV_R", "", "", "", ""],
                                                                   ["C700", "=HYPERLINK(1)", "LV_X", "", "", "", ""]]))
    name, content_type, stream = files.error_report(batch.pk, services.errors_of(batch), "csv")
    text = b"".join(stream).decode("utf-8-sig").splitlines()
    assert name == f"import-{batch.pk}-errors.csv" and content_type.startswith("text/csv")
    assert text == ["Row,Column,Value,Reason", "2,客户编号,C100,“C100” is already in use.",
                    "3,客户分类,LV_X,“LV_X” is not a code of the table customer_type."]
    name, content_type, handle = files.error_report(batch.pk, services.errors_of(batch), "xlsx")
    sheet = load_workbook(io.BytesIO(handle.read())).worksheets[0]
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [
        ["Row", "Column", "Value", "Reason"], [2, "客户编号", "C100", "“C100” is already in use."],
        [3, "客户分类", "LV_X", "“LV_X” is not a code of the table customer_type."]]


def test_errors_beyond_the_limit_are_counted_not_kept(custmgr, monkeypatch):
    from powercis.core.bulkio import validation

    monkeypatch.setattr(validation, "MAX_ERRORS", 2)
    batch = make.upload(custmgr, "customers", make.customers_file([[f"C{i}", "", "LV_R"] for i in range(3)]))
    assert (batch.status, batch.error_count, len(batch.errors)) == ("failed", 3, 2)
    assert [e[0] for e in batch.errors] == [2, 3]
