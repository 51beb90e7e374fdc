"""The import and export pages: template download, upload, error list, commit, export; refused for a reader."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from powercis.core.models import ImportBatch, Org
from powercis.customers.models import Customer

from . import make

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(client, staff):
    def login(username: str):
        client.force_login(staff(username), backend="powercis.core.auth.StaffBackend")
        client.cookies["powercis_language"] = "en"
        return client

    return login


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def post_file(client, content: bytes, entity="customers", org="HZ0101", name="customers.csv"):
    return client.post(reverse("core:bulk_import"), {
        "entity": entity, "org": Org.objects.get(code=org).pk, "file": SimpleUploadedFile(name, content)})


def test_upload_check_commit(browser):
    client = browser("custmgr")
    page = client.get(reverse("core:bulk_import"))
    assert page.status_code == 200 and b'data-template="accounts-xlsx"' in page.content

    response = post_file(client, make.customers_file(encoding="gbk"))
    batch = ImportBatch.objects.get(file_name="customers.csv")
    assert response.status_code == 302 and response.url == reverse("core:bulk_batch", args=[batch.pk])
    page = client.get(response.url)
    assert b'data-status="validated"' in page.content and b'id="batch-commit"' in page.content
    assert not Customer.objects.filter(customer_no="C100").exists()

    response = client.post(reverse("core:bulk_commit", args=[batch.pk]))
    assert response.status_code == 302
    page = client.get(response.url)
    assert b'data-status="committed"' in page.content and b"3 rows were imported." in page.content
    assert Customer.objects.filter(customer_no__in=["C100", "C101", "C102"]).count() == 3


def test_errors_page_and_downloads(browser):
    client = browser("custmgr")
    response = post_file(client, make.customers_file([["C1", "", "LV_X", "", "", "", ""]]), name="bad.csv")
    batch = ImportBatch.objects.get(file_name="bad.csv")
    page = client.get(response.url).content.decode()
    assert 'data-status="failed"' in page and 'id="batch-commit"' not in page
    assert "A value is required." in page and "“LV_X” is not a code of the table customer_type." in page
    csv_download = client.get(reverse("core:bulk_errors", args=[batch.pk, "csv"]))
    assert csv_download["Content-Disposition"] == f'attachment; filename="import-{batch.pk}-errors.csv"'
    lines = body(csv_download).decode("utf-8-sig").splitlines()
    assert lines == ["Row,Column,Value,Reason", "2,客户名称,,A value is required.",
                     "2,客户分类,LV_X,“LV_X” is not a code of the table customer_type."]
    xlsx = client.get(reverse("core:bulk_errors", args=[batch.pk, "xlsx"]))
    sheet = load_workbook(io.BytesIO(body(xlsx))).worksheets[0]
    assert sheet.max_row == 3 and sheet["D3"].value == "“LV_X” is not a code of the table customer_type."
    # a committed-looking POST on a failed batch changes nothing
    client.post(reverse("core:bulk_commit", args=[batch.pk]))
    assert ImportBatch.objects.get(pk=batch.pk).status == "failed" and not Customer.objects.filter(
        customer_no="C1").exists()


def test_a_batch_is_only_its_uploaders(browser):
    client = browser("custmgr")
    post_file(client, make.customers_file())
    batch = ImportBatch.objects.get()
    other = browser("admin")
    assert other.get(reverse("core:bulk_batch", args=[batch.pk])).status_code in (403, 404)
    assert other.post(reverse("core:bulk_commit", args=[batch.pk])).status_code in (403, 404)
    assert ImportBatch.objects.get(pk=batch.pk).status == "validated"


def test_template_and_export_downloads(browser):
    client = browser("custmgr")
    template = client.get(reverse("core:bulk_template", args=["customers", "xlsx"]))
    assert template.status_code == 200
    header = next(load_workbook(io.BytesIO(body(template))).worksheets[0].iter_rows(
        max_row=1, values_only=True))
    assert header[:3] == ("客户编号", "客户名称", "客户分类")
    assert client.get(reverse("core:bulk_template", args=["nothing", "xlsx"])).status_code == 404

    page = client.get(reverse("core:bulk_export"))
    assert page.status_code == 200 and b'id="export-form"' in page.content
    export = client.get(reverse("core:bulk_export"), {"entity": "customers", "org": Org.objects.get(code="HZ0101").pk,
                                                      "fmt": "csv"})
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    assert body(export).decode("utf-8-sig").splitlines()[0].startswith("客户编号,客户名称")
    outside = client.get(reverse("core:bulk_export"), {"entity": "customers",
                                                       "org": Org.objects.get(code="HZ0102").pk, "fmt": "csv"})
    assert outside.status_code == 200 and b'id="export-form"' in outside.content  # the org is not offered


@pytest.mark.parametrize("name", ["core:bulk_import", "core:bulk_export"])
def test_pages_refused_for_a_reader(browser, name):
    assert browser("reader").get(reverse(name)).status_code == 403
    assert browser("reader").get(reverse("core:bulk_template", args=["customers", "csv"])).status_code == 403


def test_menu_entries_only_for_those_who_may_import(browser):
    assert b'data-nav="core:bulk_import"' in browser("custmgr").get(reverse("web:dashboard")).content
    assert b'data-nav="core:bulk_import"' not in browser("reader").get(reverse("web:dashboard")).content


def test_pages_in_chinese(client, staff):
    """The default language: the same pages and error table, the column headers as in the file."""
    client.force_login(staff("custmgr"), backend="powercis.core.auth.StaffBackend")
    assert client.get(reverse("core:bulk_import")).status_code == 200
    response = post_file(client, make.customers_file([["C1", "张三", "LV_X", "", "", "", ""]]), name="zh.csv")
    page = client.get(response.url).content.decode()
    assert 'lang="zh-hans"' in page and 'data-status="failed"' in page
    assert re.search(r'<td class="text-end">2</td><td>客户分类</td><td><code>LV_X</code></td><td>[^<]*LV_X', page)


def test_an_oversized_upload_is_refused_before_reading(browser, monkeypatch):
    from powercis.core.bulkio import readers

    monkeypatch.setattr(readers, "MAX_BYTES", 1024)
    client = browser("custmgr")
    response = post_file(client, b"x" * 2048)
    assert response.status_code == 200 and not ImportBatch.objects.exists()
    assert "The file is 0.0 MB; at most 0 MB can be imported at once." in response.content.decode()
