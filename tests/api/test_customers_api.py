"""The customer archive's REST API: scoped lists and details, masked personal data with audited reveal,
writes through the services, account changes through approval, and the refusals in the one error format."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from powercis.core.models import AuditCategory, AuditRecord, DataScope, Post
from powercis.core.services import posts as post_services
from powercis.customers.models import Account, AccountChange, Customer, CustomerContact, SupplyContract
from powercis.customers.services import changes, contracts, records
from tests import archive_factory as make

D = dt.date
BASE = "/api/v1/customers"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def home(db):
    """An industrial account of 城关供电所 (HZ010101, in 临江县 HZ0101) whose customer has a phone and certificate."""
    return make.industrial_account("HZ010101", opened_on=D(2024, 1, 1))


@pytest.fixture
def qingshan(db):
    """An account of 青山区 (HZ0102): same city as 临江县, another county."""
    return make.account("HZ010201")


@pytest.fixture
def baisha(db):
    """An account of 白沙县 (HZ0201): another city."""
    return make.account("HZ020101")


@pytest.fixture
def head_office(actor, staff, org, system_actor):
    """The administrator, given the account manager's post over the whole company to write test records anywhere."""
    post = Post.objects.get(company=org("HZ"), code="account_manager")
    post_services.bootstrap_grant(system_actor, staff=staff("admin"), post=post, org=org("HZ"),
                                  scope=DataScope.SUBTREE)
    return actor("admin")


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- accounts: lists, details, scope ----------------------------------------------


def test_account_lists_are_limited_to_the_data_scope(api, home, qingshan, baisha):
    for username in ("custmgr", "clerk"):
        assert ids(api(username).get(f"{BASE}/accounts/")) == {home.pk}
    assert ids(api("manager").get(f"{BASE}/accounts/")) == {home.pk, qingshan.pk}
    assert ids(api("reader").get(f"{BASE}/accounts/")) == {home.pk}  # 城关供电所 only
    # the org filter narrows within the scope, it never widens it
    assert ids(api("custmgr").get(f"{BASE}/accounts/", {"org": qingshan.org_id})) == set()


def test_account_list_filters_and_pagination(api, home, org):
    second = make.account("HZ010102", account_no="B000000001")
    client = api("custmgr")
    assert ids(client.get(f"{BASE}/accounts/", {"q": home.account_no})) == {home.pk}
    assert ids(client.get(f"{BASE}/accounts/", {"usage_category": "RES_T"})) == {second.pk}
    assert ids(client.get(f"{BASE}/accounts/", {"org": org("HZ010102").pk})) == {second.pk}
    page = client.get(f"{BASE}/accounts/", {"page_size": 1}).json()
    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"]
    assert client.get(f"{BASE}/accounts/", {"status": "GONE"}).status_code == 400


def test_account_detail_has_todays_attributes(api, home):
    body = api("clerk").get(f"{BASE}/accounts/{home.pk}/").json()
    assert (body["account_no"], body["org"]["code"], body["customer"]["id"]) == (home.account_no, "HZ010101",
                                                                                 home.customer_id)
    assert (body["usage_category"], body["voltage_level"], body["contract_capacity"], body["capacity_basis"],
            body["status"], body["opened_on"]) == ("CI_2", "AC10KV", "630.0", "capacity", "NORMAL", "2024-01-01")


@pytest.mark.parametrize("username", ["custmgr", "clerk"])
def test_another_countys_account_does_not_exist_for_a_county_user(api, username, qingshan, baisha):
    client = api(username)
    for account in (qingshan, baisha):
        for path in (f"{BASE}/accounts/{account.pk}/", f"{BASE}/accounts/{account.pk}/versions/",
                     f"{BASE}/accounts/{account.pk}/as-of/?date=2024-06-01"):
            response = client.get(path)
            assert response.status_code == 404 and response.json()["code"] == "not_found", path


def test_another_countys_account_cannot_be_changed(api, qingshan, baisha):
    for account in (qingshan, baisha):
        response = api("custmgr").patch(f"{BASE}/accounts/{account.pk}/", {"service_address": "改了"})
        assert response.status_code == 404
        account.refresh_from_db()
        assert account.service_address != "改了"
        refused = api("custmgr").post(f"{BASE}/changes/", {
            "account": account.pk, "kind": "rename", "effective_date": "2024-06-01", "values": {"name": "新名"},
            "reason": "更名"}, **EN)
        assert refused.status_code == 400 and list(refused.json()["fields"]) == ["account"]
    assert not AccountChange.objects.exists()


def test_a_clerk_without_customers_edit_gets_403_naming_the_permission(api, home):
    response = api("clerk").patch(f"{BASE}/accounts/{home.pk}/", {"service_address": "改了"}, **EN)
    assert response.status_code == 403
    assert response.json() == {"code": "permission_denied", "fields": {},
                               "message": "You do not have the permission “Maintain customer records”."}


# --- accounts: writes -------------------------------------------------------------


def test_open_account_writes_the_first_version_and_an_audit_record(api, org, home):
    response = api("custmgr").post(f"{BASE}/accounts/", {
        "customer": home.customer_id, "org": org("HZ010102").pk, "account_no": "A-API-1", "opened_on": "2025-02-01",
        "service_address": "临江县河口镇1号", "usage_category": "CI_2", "voltage_level": "AC10KV",
        "contract_capacity": "315", "capacity_basis": "capacity", "pf_standard": "0.90", "reason": "新装"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["account_no"], body["contract_capacity"], body["running_capacity"], body["name"]) == (
        "A-API-1", "315.0", "315.0", home.customer.name)
    account = Account.objects.get(pk=body["id"])
    assert [(v.valid_from, v.contract_capacity) for v in account.versions.all()] == [(D(2025, 2, 1), Decimal("315"))]
    record = AuditRecord.objects.get(action="create", object_type="customers.account", object_id=str(account.pk))
    assert (record.channel, record.reason) == ("api", "新装")


def test_a_retried_open_answers_400_naming_the_duplicate(api, org, home):
    body = {"customer": home.customer_id, "org": org("HZ010101").pk, "account_no": "A-API-2",
            "opened_on": "2025-02-01", "service_address": "城关镇2号", "usage_category": "RES_T",
            "voltage_level": "AC220V"}
    assert api("custmgr").post(f"{BASE}/accounts/", body).status_code == 201
    again = api("custmgr").post(f"{BASE}/accounts/", body, **EN)
    assert again.status_code == 400
    assert again.json()["fields"] == {"account_no": ["The account number A-API-2 is already in use."]}
    assert Account.objects.filter(account_no="A-API-2").count() == 1


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"usage_category": "NOPE"}, "usage_category", "“NOPE” is not a code of the table usage_category."),
    ({"contract_capacity": "abc"}, "contract_capacity", "A valid number is required."),
    ({"contract_capacity": "1e400"}, "contract_capacity", "Ensure that there are no more than 10 digits in total."),
    ({"contract_capacity": "-5"}, "contract_capacity", "Ensure this value is greater than or equal to 0."),
    ({"opened_on": "2025-02-30"}, "opened_on", None),
    ({"account_no": "含中文"}, "account_no", "Use 1 to 32 letters, digits or '-'."),
    ({"longitude": 181}, "longitude", "Ensure this value is less than or equal to 180."),
    ({"org": 2**70}, "org", None),
    ({"capacity_basis": "demand", "contract_capacity": "0"}, "contract_capacity",
     "A capacity or demand charge needs a contract capacity."),
])
def test_open_account_refusals_name_the_field_in_english(api, org, home, change, field, message):
    body = {"customer": home.customer_id, "org": org("HZ010101").pk, "account_no": "A-API-3",
            "opened_on": "2025-02-01", "service_address": "城关镇3号", "usage_category": "RES_T",
            "voltage_level": "AC220V", **change}
    response = api("custmgr").post(f"{BASE}/accounts/", body, **EN)
    assert response.status_code == 400, response.content
    error = response.json()
    assert error["code"] == "validation_failed" and list(error["fields"]) == [field]
    if message:
        assert error["fields"][field] == [message]
    assert not Account.objects.filter(account_no="A-API-3").exists()


def test_open_account_in_an_org_or_for_a_customer_outside_the_scope_is_refused(api, org, home, qingshan):
    body = {"customer": home.customer_id, "org": org("HZ010201").pk, "account_no": "A-API-4",
            "opened_on": "2025-02-01", "service_address": "青山1号", "usage_category": "RES_T",
            "voltage_level": "AC220V"}
    response = api("custmgr").post(f"{BASE}/accounts/", body, **EN)
    assert response.status_code == 400 and list(response.json()["fields"]) == ["org"]
    response = api("custmgr").post(f"{BASE}/accounts/", {**body, "org": org("HZ010101").pk,
                                                         "customer": qingshan.customer_id}, **EN)
    assert response.status_code == 400 and list(response.json()["fields"]) == ["customer"]
    assert not Account.objects.filter(account_no="A-API-4").exists()


def test_patch_changes_what_does_not_affect_a_bill_and_is_audited(api, home):
    response = api("custmgr").patch(f"{BASE}/accounts/{home.pk}/", {
        "service_address": "城关镇新址8号", "is_key_account": True, "reason": "门牌调整"})
    assert response.status_code == 200
    assert (response.json()["service_address"], response.json()["is_key_account"]) == ("城关镇新址8号", True)
    record = AuditRecord.objects.filter(action="update", object_type="customers.account",
                                        object_id=str(home.pk)).latest("seq")
    assert record.changes["service_address"][1] == "城关镇新址8号" and record.reason == "门牌调整"
    assert record.channel == "api"


def test_patch_refuses_a_billing_attribute_and_says_where_it_changes(api, home):
    address = home.service_address
    response = api("custmgr").patch(f"{BASE}/accounts/{home.pk}/", {"contract_capacity": "800",
                                                                    "service_address": "x"}, **EN)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["contract_capacity"]
    assert "through an account change" in response.json()["fields"]["contract_capacity"][0]
    home.refresh_from_db()
    assert (home.contract_capacity, home.service_address) == (Decimal("630.0"), address)


# --- account changes and the attributes in force on a date -------------------------


def test_as_of_answers_the_old_and_new_capacity_around_an_approved_increase(api, home):
    custmgr, manager = api("custmgr"), api("manager")
    response = custmgr.post(f"{BASE}/changes/", {
        "account": home.pk, "kind": "capacity_increase", "effective_date": "2024-06-01",
        "values": {"contract_capacity": "800"}, "reason": "扩建车间"}, **EN)
    assert response.status_code == 201, response.content
    change = response.json()
    assert (change["approval_status"], change["values"]) == ("pending", {"contract_capacity": "800.0"})
    assert change["rows"] == [{"field": "contract_capacity", "label": "contract capacity (kVA)",
                               "before": "630.0", "after": "800.0"}]
    # approval is core's approvals API; the change names its approval request
    approved = manager.post(f"/api/v1/approvals/{change['approval']}/approve/", {"comment": "同意"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"

    before = custmgr.get(f"{BASE}/accounts/{home.pk}/as-of/", {"date": "2024-05-31"}).json()
    after = custmgr.get(f"{BASE}/accounts/{home.pk}/as-of/", {"date": "2024-06-01"}).json()
    assert (before["contract_capacity"], before["valid_from"], before["valid_to"], before["change"]) == (
        "630.0", "2024-01-01", "2024-06-01", None)
    assert (after["contract_capacity"], after["running_capacity"], after["valid_from"], after["change"]) == (
        "800.0", "800.0", "2024-06-01", change["id"])
    versions = custmgr.get(f"{BASE}/accounts/{home.pk}/versions/").json()
    assert [(v["valid_from"], v["contract_capacity"]) for v in versions] == [("2024-01-01", "630.0"),
                                                                             ("2024-06-01", "800.0")]
    assert custmgr.get(f"{BASE}/accounts/{home.pk}/").json()["contract_capacity"] == "800.0"
    detail = custmgr.get(f"{BASE}/changes/{change['id']}/", **EN).json()
    assert detail["approval_status"] == "approved" and detail["applied_at"]
    assert [(r["before"], r["after"]) for r in detail["rows"]] == [("630.0", "800.0")], "what it replaced, once applied"


def test_as_of_refuses_a_bad_or_missing_date_and_a_date_before_connection(api, home):
    client = api("custmgr")
    for query in ({}, {"date": "2024-02-30"}, {"date": "yesterday"}, {"date": "2023-12-31"}):
        response = client.get(f"{BASE}/accounts/{home.pk}/as-of/", query, **EN)
        assert response.status_code == 400 and list(response.json()["fields"]) == ["date"], query
    assert "connected on 2024-01-01" in response.json()["fields"]["date"][0]


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "capacity_increase", "values": {"contract_capacity": "500"}}, "values.contract_capacity"),
    ({"kind": "capacity_increase", "values": {"contract_capacity": "NaN"}}, "values.contract_capacity"),
    ({"kind": "capacity_increase", "values": {}}, "values.contract_capacity"),
    ({"kind": "reclassify", "values": {"usage_category": "NOPE"}}, "values.usage_category"),
    ({"kind": "reclassify", "values": {"colour": "red"}}, "values.colour"),
    ({"kind": "rename", "values": {"name": ""}}, "values.name"),
    ({"kind": "transfer", "values": {"customer": 2**64}}, "values.customer"),
    ({"kind": "suspend", "values": {}}, "end_date"),
    ({"kind": "explode"}, "kind"),
    ({"kind": "rename", "values": {"name": "新名"}, "effective_date": "2023-12-31"}, "effective_date"),
    ({"kind": "rename", "values": {"name": "新名"}, "effective_date": "2024-13-01"}, "effective_date"),
    ({"kind": "rename", "values": {"name": "新名"}, "reason": ""}, "reason"),
])
def test_change_refusals_point_at_the_body_field(api, home, body, field):
    request = {"account": home.pk, "effective_date": "2024-06-01", "reason": "客户申请", **body}
    response = api("custmgr").post(f"{BASE}/changes/", request, **EN)
    assert response.status_code == 400, response.content
    assert list(response.json()["fields"]) == [field]
    assert not AccountChange.objects.exists()


def test_one_change_at_a_time_and_clerks_cannot_request(api, home):
    body = {"account": home.pk, "kind": "rename", "effective_date": "2024-06-01", "values": {"name": "新名称"},
            "reason": "更名"}
    assert api("custmgr").post(f"{BASE}/changes/", body).status_code == 201
    second = api("custmgr").post(f"{BASE}/changes/", body, **EN)
    assert second.status_code == 400 and "still in approval" in second.json()["message"]
    refused = api("clerk").post(f"{BASE}/changes/", body)
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert AccountChange.objects.count() == 1


def test_change_lists_are_scoped(api, home, qingshan, head_office):
    mine = changes.request_change(head_office, home, kind="rename", effective_date=D(2024, 6, 1),
                                  values={"name": "甲"}, reason="更名")
    theirs = changes.request_change(head_office, qingshan, kind="rename", effective_date=D(2024, 6, 1),
                                    values={"name": "乙"}, reason="更名")
    assert ids(api("custmgr").get(f"{BASE}/changes/")) == {mine.pk}
    assert ids(api("manager").get(f"{BASE}/changes/", {"kind": "rename"})) == {mine.pk, theirs.pk}
    assert api("custmgr").get(f"{BASE}/changes/{theirs.pk}/").status_code == 404


# --- customers, masking, audited reveal --------------------------------------------


def test_customer_lists_and_details_mask_phones_and_certificates(api, home):
    customer = home.customer
    records.add_contact(make.system(), customer, name="电工老王", mobile="13907150000", phone="02787654321")
    for username, can_reveal in (("custmgr", True), ("clerk", False)):
        client = api(username)
        row = next(r for r in client.get(f"{BASE}/customers/").json()["results"] if r["id"] == customer.pk)
        detail = client.get(f"{BASE}/customers/{customer.pk}/").json()
        for body in (row, detail):
            assert body["mobile"] == customer.mobile[:3] + "****" + customer.mobile[-4:]
            assert body["certificate_no"] == customer.certificate_no[:4] + "*" * 10 + customer.certificate_no[-4:]
            assert body["can_reveal"] is can_reveal
        assert [(c["name"], c["mobile"], c["phone"]) for c in detail["contacts"]] == [
            ("电工老王", "139****0000", "027****4321")]
    assert not AuditRecord.objects.filter(action="personal_data.view").exists()


def test_personal_data_is_shown_in_full_only_with_the_permission_and_audited(api, home, staff):
    customer = home.customer
    response = api("custmgr").get(f"{BASE}/customers/{customer.pk}/personal-data/", {"field": "certificate_no"})
    assert response.status_code == 200
    assert response.json() == {"field": "certificate_no", "value": customer.certificate_no}
    record = AuditRecord.objects.get(action="personal_data.view")
    assert (record.category, record.object_type, record.object_id, record.actor_id, record.channel) == (
        AuditCategory.ACCESS, "customers.customer", str(customer.pk), staff("custmgr").pk, "api")
    assert record.changes == {"certificate_no": ["masked", "shown"]}

    for username in ("clerk", "manager"):
        refused = api(username).get(f"{BASE}/customers/{customer.pk}/personal-data/", {"field": "mobile"}, **EN)
        assert refused.status_code == 403
        assert refused.json()["message"] == "You do not have the permission “View full ID and phone numbers”."
    assert AuditRecord.objects.filter(action="personal_data.view").count() == 1


def test_personal_data_of_a_customer_outside_the_personal_data_scope_is_refused(api, qingshan, staff, org,
                                                                              system_actor):
    """custmgr may see 青山区's customers through a second post, but personal data only in 临江县."""
    analyst = Post.objects.get(company=org("HZ"), code="market_analyst")
    post_services.bootstrap_grant(system_actor, staff=staff("custmgr"), post=analyst, org=org("HZ01"),
                                  scope=DataScope.SUBTREE)
    client = api("custmgr")
    assert client.get(f"{BASE}/customers/{qingshan.customer_id}/").json()["can_reveal"] is False
    refused = client.get(f"{BASE}/customers/{qingshan.customer_id}/personal-data/", {"field": "mobile"}, **EN)
    assert refused.status_code == 403 and "outside them" in refused.json()["message"]
    assert not AuditRecord.objects.filter(action="personal_data.view").exists()


def test_personal_data_needs_a_known_field_and_a_customer_in_scope(api, home, baisha):
    client = api("custmgr")
    for query in ({}, {"field": "email"}):
        response = client.get(f"{BASE}/customers/{home.customer_id}/personal-data/", query)
        assert response.status_code == 400 and list(response.json()["fields"]) == ["field"]
    assert client.get(f"{BASE}/customers/{baisha.customer_id}/personal-data/", {"field": "mobile"}).status_code == 404
    assert not AuditRecord.objects.filter(action="personal_data.view").exists()


def test_customer_create_patch_and_duplicate(api, org):
    client = api("custmgr")
    body = {"org": org("HZ0101").pk, "customer_no": "C-API-1", "name": "临江酒店", "customer_type": "LV_NR",
            "certificate_type": "uscc", "certificate_no": "91420100MA4K0000X1", "mobile": "13600001234"}
    created = client.post(f"{BASE}/customers/", body)
    assert created.status_code == 201, created.content
    assert (created.json()["mobile"], created.json()["contacts"]) == ("136****1234", [])
    again = client.post(f"{BASE}/customers/", body, **EN)
    assert again.status_code == 400
    assert again.json()["fields"] == {"customer_no": ["The customer number C-API-1 is already in use."]}
    pk = created.json()["id"]
    patched = client.patch(f"{BASE}/customers/{pk}/", {"mobile": "13600005678", "reason": "客户来电更正"})
    assert patched.status_code == 200 and patched.json()["mobile"] == "136****5678"
    assert Customer.objects.get(pk=pk).mobile == "13600005678"
    record = AuditRecord.objects.filter(action="update", object_type="customers.customer").latest("seq")
    assert record.changes["mobile"] == ["13600001234", "13600005678"] and record.reason == "客户来电更正"
    bad = client.patch(f"{BASE}/customers/{pk}/", {"mobile": "call me", "customer_type": "??"}, **EN)
    assert bad.status_code == 400 and set(bad.json()["fields"]) == {"customer_type"}
    bad = client.patch(f"{BASE}/customers/{pk}/", {"mobile": "call me"}, **EN)
    assert bad.json()["fields"] == {"mobile": ["Use digits, spaces, '+' and '-' only."]}
    assert api("reader").post(f"{BASE}/customers/", {**body, "customer_no": "C-API-2"}).status_code == 403


def test_contacts_add_list_reveal_and_remove(api, home, baisha, staff):
    client = api("custmgr")
    base = f"{BASE}/customers/{home.customer_id}/contacts/"
    added = client.post(base, {"name": "财务小李", "role": "billing", "mobile": "13712345678", "reason": "新增联系人"})
    assert added.status_code == 201 and added.json()["mobile"] == "137****5678"
    contact_id = added.json()["id"]
    assert [c["id"] for c in client.get(base).json()] == [contact_id]

    shown = client.get(f"{base}{contact_id}/personal-data/", {"field": "mobile"})
    assert shown.json() == {"field": "mobile", "value": "13712345678"}
    record = AuditRecord.objects.get(action="personal_data.view")
    assert (record.object_type, record.object_id) == ("customers.customercontact", str(contact_id))
    assert api("clerk").get(f"{base}{contact_id}/personal-data/", {"field": "mobile"}).status_code == 403

    # a contact is reached only through its own customer
    other = f"{BASE}/customers/{baisha.customer_id}/contacts/{contact_id}/remove/"
    assert client.post(other, {}).status_code == 404
    stranger = records.add_contact(make.system(), baisha.customer, name="外县联系人")
    assert client.post(f"{base}{stranger.pk}/remove/", {}).status_code == 404
    assert client.post(f"{base}{2**70}/remove/", {}).status_code == 404

    removed = client.post(f"{base}{contact_id}/remove/", {"reason": "离职"})
    assert removed.status_code == 204 and not CustomerContact.objects.filter(pk=contact_id).exists()
    assert AuditRecord.objects.filter(action="delete", object_type="customers.customercontact",
                                      object_id=str(contact_id), reason="离职").exists()
    assert api("clerk").post(base, {"name": "x"}).status_code == 403


# --- contracts --------------------------------------------------------------------


def sign(actor, account, contract_no, expires_on):
    return contracts.sign_contract(actor, account, contract_no=contract_no, kind="hv", signed_on=D(2024, 1, 1),
                                   valid_from=D(2024, 1, 1), expires_on=expires_on)


def test_contract_sign_renew_terminate(api, home):
    client = api("custmgr")
    body = {"account": home.pk, "contract_no": "HT-2024-001", "kind": "hv", "signed_on": "2023-12-20",
            "valid_from": "2024-01-01", "expires_on": "2028-12-31", "customer_signatory": "张三"}
    created = client.post(f"{BASE}/contracts/", body)
    assert created.status_code == 201, created.content
    first = created.json()
    assert (first["version"], first["status"], first["account"]["id"]) == (1, "active", home.pk)
    duplicate = client.post(f"{BASE}/contracts/", body, **EN)
    assert duplicate.status_code == 400 and list(duplicate.json()["fields"]) == ["contract_no"]

    renewed = client.post(f"{BASE}/contracts/{first['id']}/renew/", {
        "signed_on": "2025-12-01", "valid_from": "2026-01-01", "expires_on": "2030-12-31", "reason": "续签"})
    assert renewed.status_code == 201
    assert (renewed.json()["version"], renewed.json()["supersedes"], renewed.json()["customer_signatory"]) == (
        2, first["id"], "张三")
    assert SupplyContract.objects.get(pk=first["id"]).status == "superseded"
    again = client.post(f"{BASE}/contracts/{first['id']}/renew/", {
        "signed_on": "2026-12-01", "valid_from": "2027-01-01", "expires_on": "2031-12-31"}, **EN)
    assert again.status_code == 400 and again.json()["message"] == "Only the version in force can be renewed."

    no_reason = client.post(f"{BASE}/contracts/{renewed.json()['id']}/terminate/", {}, **EN)
    assert no_reason.status_code == 400 and list(no_reason.json()["fields"]) == ["reason"]
    ended = client.post(f"{BASE}/contracts/{renewed.json()['id']}/terminate/", {"reason": "销户"})
    assert ended.status_code == 200 and ended.json()["status"] == "terminated"
    assert api("clerk").post(f"{BASE}/contracts/{first['id']}/terminate/", {"reason": "x"}).status_code == 403


def test_contract_dates_are_checked(api, home):
    response = api("custmgr").post(f"{BASE}/contracts/", {
        "account": home.pk, "contract_no": "HT-2024-002", "kind": "hv", "signed_on": "2024-01-01",
        "valid_from": "2024-01-01", "expires_on": "2023-12-31"}, **EN)
    assert response.status_code == 400
    assert response.json()["fields"] == {"expires_on": ["The expiry date must be after the start date."]}


def test_contract_list_filters_and_expiring_within(api, home, qingshan, head_office):
    today = timezone.localdate()
    soon = sign(head_office, home, "HT-SOON", today + dt.timedelta(days=20))
    later = sign(head_office, home, "HT-LATER", today + dt.timedelta(days=400))
    sign(head_office, qingshan, "HT-QS", today + dt.timedelta(days=10))
    client = api("custmgr")
    assert ids(client.get(f"{BASE}/contracts/")) == {soon.pk, later.pk}
    assert ids(client.get(f"{BASE}/contracts/", {"expiring_within": 30})) == {soon.pk}
    assert ids(client.get(f"{BASE}/contracts/", {"expiring_within": 0})) == set()
    assert ids(client.get(f"{BASE}/contracts/", {"account": home.pk, "status": "active"})) == {soon.pk, later.pk}
    for bad in ({"expiring_within": -1}, {"expiring_within": 10**9}, {"expiring_within": "soon"},
                {"expires_before": "2024-02-30"}):
        assert client.get(f"{BASE}/contracts/", bad).status_code == 400, bad


def test_lists_take_the_same_number_of_queries_whatever_their_length(api, actor):
    """No query per row: the list of 2 and the list of 8 cost the same (after a first call fills the caches)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api("custmgr")
    counts = {}
    for total in (0, 2, 8):
        while Account.objects.count() < total:
            account = make.account("HZ010101")
            records.add_contact(make.system(), account.customer, name="联系人", mobile="13900000000")
            changes.request_change(actor("custmgr"), account, kind="rename", effective_date=D(2024, 6, 1),
                                   values={"name": "新名"}, reason="更名")
            sign(actor("custmgr"), account, f"HT-Q{account.pk}", D(2030, 1, 1))
        for path in ("accounts", "customers", "changes", "contracts"):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(f"{BASE}/{path}/").status_code == 200
            counts.setdefault(path, []).append(len(queries))
    assert all(small == large for _warm_up, small, large in counts.values()), counts


# --- arbitrary input is refused, never a server error -------------------------------


@pytest.mark.parametrize("path", [
    f"{BASE}/accounts/{2**64}/", f"{BASE}/accounts/{2**64}/as-of/?date=2024-01-01", f"{BASE}/accounts/-1/",
    f"{BASE}/accounts/abc/versions/", f"{BASE}/customers/{2**64}/contacts/", f"{BASE}/changes/{2**63}/",
    f"{BASE}/contracts/0/", f"{BASE}/customers/1/contacts/{2**64}/personal-data/?field=mobile", f"{BASE}/nothing/",
])
def test_unknown_ids_and_paths_are_404_in_the_error_format(api, path):
    response = api("custmgr").get(path)
    assert response.status_code == 404 and response.json()["code"] == "not_found"


@pytest.mark.parametrize("query", [{"org": 2**64}, {"org": "x"}, {"page": "0"}, {"page_size": "all"},
                                   {"status": "OPEN"}, {"q": "a\x00b"}])
def test_bad_list_parameters_are_400(api, home, query):
    response = api("custmgr").get(f"{BASE}/accounts/", query)
    assert response.status_code in (400, 404) and set(response.json()) == {"code", "message", "fields"}
    if "page" not in query:
        assert response.status_code == 400


# --- property-based: no input to the archive's writes causes a server error ---------
#
# The general run (test_schemathesis.py) calls every operation as the administrator, who
# may read the archive but not write it, so its writes stop at the 403.  Here the account
# manager, given every archive permission and an API token, sends generated input to the
# customers' (and, from test_metering_api.py, metering's) operations; path ids and body
# references mostly point at existing records so that the input reaches the services.

ARCHIVE_PERMISSIONS = ["customers.view", "customers.edit", "customers.change_request", "customers.manage_contracts",
                       "core.view_personal_data", "metering.view", "metering.edit", "metering.install", "grid.view",
                       "core.use_api"]
#: body fields that refer to another record by id → the collection of their ids
ARCHIVE_REFERENCES = {"account": "accounts", "customer": "customers", "org": "orgs", "meter": "meters",
                      "transformer": "transformers", "parent": "points"}


@pytest.fixture
def archive_ids(actor, staff, org, system_actor) -> dict[str, list[int]]:
    """A small archive in 临江县 and the ids of its records by collection, as the fuzzed paths name them."""
    from powercis.metering import services as metering

    post = post_services.create_post(actor("admin"), org("HZ"), code="archive_api", label_zh="档案接口",
                                     permissions=ARCHIVE_PERMISSIONS)
    post_services.bootstrap_grant(system_actor, staff=staff("custmgr"), post=post, org=org("HZ0101"),
                                  scope=DataScope.SUBTREE)
    me, system = actor("custmgr"), make.system()
    account = make.industrial_account("HZ010101", opened_on=D(2024, 1, 1))
    other = make.account("HZ010102", opened_on=D(2024, 1, 1))
    contact = records.add_contact(system, account.customer, name="电工", mobile="13900000000")
    change = changes.request_change(me, other, kind="rename", effective_date=D(2024, 6, 1), values={"name": "新"},
                                    reason="更名")
    contract = sign(me, account, "HT-FUZZ", D(2030, 1, 1))
    point = metering.create_point(system, org=org("HZ010101"), code="MP-FUZZ", voltage_level="AC10KV",
                                  account=account)
    spare = metering.create_point(system, org=org("HZ010101"), code="MP-SPARE", kind="assessment",
                                  voltage_level="AC10KV")
    meters = [metering.register_meter(system, org=org("HZ010101"), asset_no=f"M-FUZZ-{n}") for n in range(3)]
    metering.install_meter(system, point, meters[0], on=D(2024, 1, 1), reads={"total": "0"})
    cts = [metering.register_transformer(system, org=org("HZ010101"), asset_no=f"CT-FUZZ-{n}", kind="CT",
                                         primary_rating="100", secondary_rating="5") for n in range(2)]
    installed = metering.install_transformer(system, point, cts[0], on=D(2024, 1, 1), phase="A")
    return {
        "accounts": [account.pk, other.pk], "customers": [account.customer_id, other.customer_id],
        "contacts": [contact.pk], "changes": [change.pk], "contracts": [contract.pk], "points": [point.pk, spare.pk],
        "meters": [m.pk for m in meters], "transformers": [ct.pk for ct in cts],
        "transformer-installations": [installed.pk],
        "orgs": [org(code).pk for code in ("HZ0101", "HZ010101", "HZ010102")],
    }


@pytest.fixture
def archive_token(actor, archive_ids) -> str:
    """The account manager's token; the connection stays open across calls, as with Django's test client."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from powercis.core.services import tokens as token_services

    _token, secret = token_services.create_token(actor("custmgr"), name="archive fuzz")
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield secret
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def fuzz_archive_operation(case, token: str, known: dict[str, list[int]]) -> None:
    """Point the case's ids at existing records (mostly), call it in a rolled-back savepoint, check the answer."""
    from django.db import transaction

    from tests.api.test_schemathesis import BASE_URL, CHECKS, _existing

    collection = case.operation.path.split("/")[4]  # /api/v1/<app>/<collection>/...
    for name, value in (case.path_parameters or {}).items():
        case.path_parameters[name] = _existing(value, known["contacts" if name == "contact_id" else collection])
    if isinstance(case.body, dict):
        for field, target in ARCHIVE_REFERENCES.items():
            if field in case.body:
                case.body[field] = _existing(case.body[field], known[target])
    with transaction.atomic():
        response = case.call(base_url=BASE_URL, headers={"Authorization": f"Token {token}"})
        transaction.set_rollback(True)
    case.validate_response(response, checks=CHECKS)


def archive_schema(tag: str):
    from tests.api.test_schemathesis import schema

    return schema.include(tag=tag)


FUZZ_SETTINGS = hypothesis_settings(max_examples=4, deadline=None, database=None, derandomize=True,
                                    suppress_health_check=list(HealthCheck))


@archive_schema("customers").parametrize()
@FUZZ_SETTINGS
def test_no_input_to_the_customer_archive_causes_a_server_error(case, archive_token, archive_ids):
    fuzz_archive_operation(case, archive_token, archive_ids)
