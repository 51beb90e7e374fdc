"""Customer and account records, masking with audited reveal, contracts, and the archive pages with data scope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from powercis.core.errors import NotAuthorized, ValidationFailed
from powercis.core.models import AuditRecord
from powercis.customers.models import Account, AccountVersion, Customer, SupplyContract
from powercis.customers.services import contracts, records
from tests import archive_factory as make

pytestmark = pytest.mark.django_db
D = dt.date


def login(client, staff, username):
    client.force_login(staff(username))
    return client


def test_open_account_validates_codes_numbers_and_capacities(org):
    owner = make.customer()
    base = dict(customer=owner, org=org("HZ010101"), service_address="幸福路1号", opened_on=D(2024, 1, 1),
                voltage_level="AC220V")
    cases = [
        (dict(account_no="A1 2", usage_category="RES_T"), "account_no"),
        (dict(account_no="X100", usage_category="NOPE"), "usage_category"),
        (dict(account_no="X101", usage_category="CI_2", capacity_basis="capacity"), "contract_capacity"),
        (dict(account_no="X102", usage_category="CI_2", contract_capacity=Decimal("100"),
              running_capacity=Decimal("200")), "running_capacity"),
    ]
    for extra, field in cases:
        with pytest.raises(ValidationFailed) as err:
            records.open_account(make.system(), **base, **extra)
        assert field in err.value.fields
    assert not Account.objects.filter(customer=owner).exists()
    account = records.open_account(make.system(), **base, account_no="X103", usage_category="RES_T")
    assert account.org_path == org("HZ010101").path and account.company_id == org("HZ").pk
    with pytest.raises(ValidationFailed) as err:
        records.open_account(make.system(), **base, account_no="X103", usage_category="RES_T")
    assert "X103" in err.value.fields["account_no"][0]
    assert AccountVersion.objects.filter(account=account).count() == 1


def test_billing_attributes_cannot_be_edited_directly(actor):
    account = make.account("HZ010101")
    with pytest.raises(ValidationFailed) as err:
        records.update_account(actor("custmgr"), account, contract_capacity=Decimal("10"))
    assert "contract_capacity" in err.value.fields
    records.update_account(actor("custmgr"), account, service_address="新地址8号", reason="门牌调整")
    account.refresh_from_db()
    assert account.service_address == "新地址8号"
    record = AuditRecord.objects.filter(object_type="customers.account", object_id=str(account.pk)).latest("seq")
    assert record.changes["service_address"][1] == "新地址8号" and record.reason == "门牌调整"


def test_reader_cannot_create_customers(actor, org):
    with pytest.raises(NotAuthorized):
        records.create_customer(actor("reader"), org=org("HZ010101"), customer_no="R1", name="x", customer_type="LV_R")
    assert not Customer.objects.filter(customer_no="R1").exists()


def test_phones_and_id_numbers_are_masked_and_reveal_is_audited(client, staff):
    account = make.account("HZ010101", owner=make.customer(mobile="13912345678", certificate_no="420102199001011234"))
    url = reverse("customers:account_detail", args=[account.pk])
    page = login(client, staff, "clerk").get(url).content.decode()
    assert "139****5678" in page and "13912345678" not in page
    assert "4201**********1234" in page and "420102199001011234" not in page
    assert 'id="reveal-mobile"' not in page  # the billing clerk may not see personal data
    before = AuditRecord.objects.filter(action="personal_data.view").count()
    page = client.get(url + "?reveal=mobile").content.decode()
    assert "13912345678" not in page and AuditRecord.objects.filter(action="personal_data.view").count() == before

    client.force_login(staff("custmgr"))
    page = client.get(url).content.decode()
    assert 'id="reveal-mobile"' in page and "13912345678" not in page
    page = client.get(url + "?reveal=mobile").content.decode()
    assert "13912345678" in page and "420102199001011234" not in page
    record = AuditRecord.objects.filter(action="personal_data.view").latest("seq")
    assert record.object_type == "customers.customer" and record.actor_id == staff("custmgr").pk
    assert record.changes == {"mobile": ["masked", "shown"]}


def test_audit_history_on_the_360_page_masks_personal_data(client, staff):
    account = make.account("HZ010101", owner=make.customer(mobile="13712345678"))
    page = login(client, staff, "custmgr").get(reverse("customers:account_detail", args=[account.pk])).content.decode()
    assert 'id="account-audit"' in page and "137****5678" in page and "13712345678" not in page


def test_360_page_shows_attributes_history_metering_and_contracts(client, staff, actor, org):
    from powercis.metering import services as metering

    account = make.industrial_account("HZ010101", opened_on=D(2024, 1, 1))
    point = metering.create_point(make.system(), org=org("HZ010101"), code=f"P{account.pk}", voltage_level="AC10KV",
                                  account=account, position="配电室")
    meter = metering.register_meter(make.system(), org=org("HZ010101"), asset_no=f"E{account.pk}",
                                    registers=["total", "peak", "flat", "valley"])
    metering.install_meter(make.system(), point, meter, on=D(2024, 1, 1),
                           reads={"total": "10", "peak": "3", "flat": "4", "valley": "3"})
    contracts.sign_contract(actor("custmgr"), account, contract_no=f"HT{account.pk}", kind="hv",
                            signed_on=D(2024, 1, 1), valid_from=D(2024, 1, 1), expires_on=D(2029, 1, 1))
    url = reverse("customers:account_detail", args=[account.pk])
    page = login(client, staff, "custmgr").get(url + "?as_of=2023-12-31").content.decode()
    for expected in (account.account_no, 'id="panel-attributes"', 'id="panel-metering"', meter.asset_no, "配电室",
                     f"HT{account.pk}", 'id="version-history"', "630.0", 'id="new-change"'):
        assert expected in page, expected
    assert "The account was not connected on that date." in page or "该日期" in page or 'id="as-of-attributes"' in page


def test_account_pages_honour_data_scope(client, staff):
    mine = make.account("HZ010101")
    other = make.account("HZ010201")
    client.force_login(staff("custmgr"))
    listing = client.get(reverse("customers:account_list")).content.decode()
    assert mine.account_no in listing and other.account_no not in listing
    assert client.get(reverse("customers:account_detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("customers:account_edit", args=[other.pk])).status_code == 404
    response = client.post(reverse("customers:change_create", args=[other.pk]),
                           {"kind": "rename", "effective_date": "2025-01-01", "name": "x", "reason": "r"})
    assert response.status_code == 404 and not other.changes.exists()


def test_change_request_through_the_page_reaches_the_managers_inbox(client, staff):
    account = make.industrial_account("HZ010101", opened_on=D(2024, 1, 1))
    client.force_login(staff("custmgr"))
    form = client.get(reverse("customers:change_create", args=[account.pk]) + "?kind=capacity_increase")
    assert 'name="contract_capacity"' in form.content.decode()
    response = client.post(reverse("customers:change_create", args=[account.pk]),
                           {"kind": "capacity_increase", "effective_date": "2024-06-01", "contract_capacity": "800",
                            "reason": "扩产"})
    doc = account.changes.get()
    assert response.status_code == 302 and response["Location"] == reverse("customers:change_detail", args=[doc.pk])
    client.force_login(staff("manager"))
    inbox = client.get(reverse("core:inbox")).content.decode()
    assert account.account_no in inbox
    detail = client.get(reverse("customers:change_detail", args=[doc.pk])).content.decode()
    assert "630.0" in detail and ">800<" in detail


def test_change_form_reports_refusals_on_the_form(client, staff):
    account = make.industrial_account("HZ010101")
    client.force_login(staff("custmgr"))
    response = client.post(reverse("customers:change_create", args=[account.pk]),
                           {"kind": "capacity_increase", "effective_date": "2024-06-01", "contract_capacity": "100",
                            "reason": "扩产"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and not account.changes.exists()
    assert "invalid-feedback" in response.content.decode()


def test_contract_versions_and_the_expiring_worklist(actor, client, staff):
    today = timezone.localdate()
    account = make.account("HZ010101")
    first = contracts.sign_contract(actor("custmgr"), account, contract_no=f"GY{account.pk}", kind="res",
                                    signed_on=today - dt.timedelta(days=400), valid_from=today - dt.timedelta(days=400),
                                    expires_on=today + dt.timedelta(days=20))
    later = make.account("HZ010101")
    contracts.sign_contract(actor("custmgr"), later, contract_no=f"GY{later.pk}", kind="res",
                            signed_on=today, valid_from=today, expires_on=today + dt.timedelta(days=900))
    client.force_login(staff("custmgr"))
    worklist = client.get(reverse("customers:contract_list") + "?within=60").content.decode()
    assert first.contract_no in worklist and f"GY{later.pk}" not in worklist
    with pytest.raises(ValidationFailed):
        contracts.renew_contract(actor("custmgr"), first, signed_on=today, valid_from=first.valid_from,
                                 expires_on=today + dt.timedelta(days=1000))
    second = contracts.renew_contract(actor("custmgr"), first, signed_on=today, valid_from=today + dt.timedelta(days=21),
                                      expires_on=today + dt.timedelta(days=1846))
    first.refresh_from_db()
    assert (first.status, second.version, second.supersedes_id) == ("superseded", 2, first.pk)
    worklist = client.get(reverse("customers:contract_list") + "?within=60").content.decode()
    assert first.contract_no not in worklist
    with pytest.raises(ValidationFailed):
        contracts.sign_contract(actor("custmgr"), account, contract_no=first.contract_no, kind="res", signed_on=today,
                                valid_from=today, expires_on=today + dt.timedelta(days=10))
    with pytest.raises(ValidationFailed):
        contracts.terminate_contract(actor("custmgr"), second, reason="")
    contracts.terminate_contract(actor("custmgr"), second, reason="销户")
    assert SupplyContract.objects.get(pk=second.pk).status == "terminated"


def test_customer_pages_create_and_contacts(client, staff, org):
    client.force_login(staff("custmgr"))
    response = client.post(reverse("customers:customer_create"), {
        "customer_no": "CP0001", "org": org("HZ010101").pk, "name": "临江机械厂", "customer_type": "HV",
        "certificate_type": "uscc", "certificate_no": "91420100MA4K000000", "mobile": "13600001111"})
    customer = Customer.objects.get(customer_no="CP0001")
    assert response.status_code == 302 and customer.org_path == org("HZ010101").path
    client.post(reverse("customers:contact_add", args=[customer.pk]),
                {"name": "赵电工", "role": "electrical", "mobile": "13500002222"})
    page = client.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()
    assert "赵电工" in page and "135****2222" in page and "13500002222" not in page


def test_opening_an_account_through_the_page(client, staff, org):
    owner = make.customer("HZ010101")
    client.force_login(staff("custmgr"))
    form = client.get(reverse("customers:account_open", args=[owner.pk])).content.decode()
    assert 'name="usage_category"' in form and "RES_T" in form
    response = client.post(reverse("customers:account_open", args=[owner.pk]), {
        "account_no": "OPEN0001", "org": org("HZ010101").pk, "opened_on": "2025-03-01",
        "service_address": "城关镇新华路9号", "usage_category": "RES_T", "voltage_level": "AC220V",
        "contract_capacity": "0", "capacity_basis": "none", "pf_standard": "NONE", "metering_mode": "LL",
        "importance_level": "NONE", "payment_method": "COUNTER"})
    account = Account.objects.get(account_no="OPEN0001")
    assert response.status_code == 302 and response["Location"] == reverse("customers:account_detail",
                                                                            args=[account.pk])
    assert (account.name, account.customer_id, account.opened_on) == (owner.name, owner.pk, D(2025, 3, 1))
    assert account.versions.get().valid_from == D(2025, 3, 1)
    # a clerk without customers.edit is refused
    client.force_login(staff("clerk"))
    assert client.get(reverse("customers:account_open", args=[owner.pk])).status_code == 403


@pytest.mark.parametrize("name,args", [("customer_create", []), ("customer_edit", ["customer"]),
                                       ("contract_create", ["account"]), ("account_edit", ["account"])])
def test_record_forms_render_with_a_way_back(client, staff, name, args):
    account = make.account("HZ010101")
    ids = {"customer": account.customer_id, "account": account.pk}
    client.force_login(staff("custmgr"))
    page = client.get(reverse(f"customers:{name}", args=[ids[a] for a in args])).content.decode()
    assert 'id="record-form"' in page and 'class="btn btn-link"' in page
