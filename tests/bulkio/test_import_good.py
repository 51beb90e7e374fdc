"""A good file commits every row — CSV in UTF-8 (with and without BOM) and GBK, and XLSX — with one audit record."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from powercis.core.bulkio import services
from powercis.core.models import AuditRecord, ImportBatch, Org
from powercis.customers.models import Account, AccountVersion, Customer
from powercis.customers.signals import accounts_changed

from . import make

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("encoding,expected", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"),
                                               ("gbk", "gb18030"), ("gb18030", "gb18030")])
def test_customers_csv_in_each_encoding(custmgr, encoding, expected):
    batch = make.upload(custmgr, "customers", make.customers_file(encoding=encoding))
    assert (batch.status, batch.encoding, batch.row_count, batch.error_count) == ("validated", expected, 3, 0)
    assert not Customer.objects.filter(customer_no__in=["C100", "C101", "C102"]).exists()  # validation writes nothing

    batch = services.commit(custmgr, batch)

    assert batch.status == ImportBatch.Status.COMMITTED and batch.written == {"customers.customer": 3}
    rows = {c.customer_no: c for c in Customer.objects.filter(customer_no__startswith="C10")}
    assert set(rows) == {"C100", "C101", "C102"}
    zhang = rows["C100"]
    assert (zhang.name, zhang.customer_type, zhang.certificate_type, zhang.certificate_no, zhang.mobile) == (
        "张三", "LV_R", "id_card", make.ID_NUMBERS[0], "13812345678")
    assert zhang.org.code == "HZ010101" and zhang.org_path == Org.objects.get(code="HZ010101").path
    assert zhang.company.code == "HZ" and zhang.is_active and zhang.created_at is not None
    # the Chinese label of a code is accepted for the code; an empty org code means the target org
    assert rows["C101"].customer_type == "LV_R" and rows["C101"].org.code == "HZ0101"
    assert rows["C102"].certificate_type == "uscc" and rows["C102"].org_path == Org.objects.get(code="HZ010102").path


def test_xlsx_with_typed_cells_commits(custmgr, customers_in_db):
    header = ["户号", "客户编号", "用电地址", "立户日期", "用电类别", "供电电压", "合同容量(kVA)", "运行容量(kVA)",
              "重点客户", "经度", "纬度"]
    rows = [[1000000001, "C100", "幸福路1号", dt.datetime(2024, 3, 1), "居民一户一表", "AC220V", 8, None, "否",
             114.31, 30.52],
            ["1000000002", "C102", "工业园8号", "2023年7月15日", "CI_2", "交流10kV", 630.5, 500, "是", None, None]]
    batch = make.upload(custmgr, "accounts", make.xlsx_bytes(header, rows), name="accounts.xlsx")
    assert (batch.status, batch.file_format, batch.row_count) == ("validated", "xlsx", 2), make.reasons(batch)

    services.commit(custmgr, batch)

    first, second = Account.objects.get(account_no="1000000001"), Account.objects.get(account_no="1000000002")
    assert (first.opened_on, first.usage_category, first.contract_capacity, first.running_capacity) == (
        dt.date(2024, 3, 1), "RES_T", Decimal("8.0"), Decimal("8.0"))
    assert (first.longitude, first.latitude, first.is_key_account) == (114.31, 30.52, False)
    assert first.name == "张三" and first.org.code == "HZ0101"  # the customer's name; the target org
    assert (second.opened_on, second.voltage_level, second.contract_capacity, second.running_capacity) == (
        dt.date(2023, 7, 15), "AC10KV", Decimal("630.5"), Decimal("500.0"))
    assert second.is_key_account and second.customer.customer_no == "C102"


def test_accounts_get_their_first_version_and_one_audit_record(custmgr, customers_in_db,
                                                               django_capture_on_commit_callbacks):
    received = []

    def listener(sender, account_ids, **kwargs):
        received.append(account_ids)

    accounts_changed.connect(listener)
    try:
        batch = make.upload(custmgr, "accounts", make.accounts_file())
        before = AuditRecord.objects.count()
        with django_capture_on_commit_callbacks(execute=True):
            batch = services.commit(custmgr, batch)
    finally:
        accounts_changed.disconnect(listener)

    assert batch.written == {"customers.account": 2, "customers.accountversion": 2}
    accounts = {a.account_no: a for a in Account.objects.filter(account_no__in=["1000000001", "1000000002"])}
    industrial = accounts["1000000002"]
    assert (industrial.usage_category, industrial.capacity_basis, industrial.pf_standard, industrial.status) == (
        "CI_2", "capacity", "0.90", "NORMAL")
    assert industrial.org_path == Org.objects.get(code="HZ010102").path and industrial.metering_mode == "LL"
    for account in accounts.values():
        versions = list(AccountVersion.objects.filter(account=account))
        assert len(versions) == 1
        version = versions[0]
        assert (version.valid_from, version.valid_to, version.status) == (account.opened_on, None, "NORMAL")
        assert (version.customer_id, version.name, version.usage_category, version.voltage_level,
                version.contract_capacity, version.running_capacity, version.capacity_basis, version.pf_standard,
                version.metering_mode) == (
            account.customer_id, account.name, account.usage_category, account.voltage_level,
            account.contract_capacity, account.running_capacity, account.capacity_basis, account.pf_standard,
            account.metering_mode)
    # one record for the whole batch, naming the file's hash and the counts
    records = list(AuditRecord.objects.filter(seq__gt=before))
    assert [r.action for r in records] == ["import"]
    record = records[0]
    assert (record.object_type, record.object_id, record.ref) == ("core.importbatch", str(batch.pk),
                                                                  f"import-batch:{batch.pk}")
    assert record.changes["sha256"] == batch.sha256 and record.changes["rows"] == 2
    assert record.changes["written"] == {"customers.account": 2, "customers.accountversion": 2}
    assert record.actor_id == custmgr.user.pk and record.org_path == Org.objects.get(code="HZ0101").path
    # the search index hears about all new accounts at once
    assert received == [sorted(a.pk for a in accounts.values())]


def test_new_ids_follow_existing_rows(custmgr, customers_in_db):
    """Ids reserved by the writer do not collide with rows written by the services before or after."""
    from tests.archive_factory import customer

    before = customer("HZ010101")
    batch = services.commit(custmgr, make.upload(custmgr, "customers", make.customers_file(
        [["C200", "王五", "LV_R", "", "", "", ""]])))
    after = customer("HZ010101")
    imported = Customer.objects.get(customer_no="C200")
    assert before.pk < imported.pk < after.pk and batch.status == "committed"
