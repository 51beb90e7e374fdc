"""The metering REST API: scoped points, meters and CT/PT; field jobs (install, remove, replace) through the
services; the derived multiplier by date; refusals in the one error format."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from powercis.core.models import AuditRecord
from powercis.metering import services
from powercis.metering.models import AssetStatus, InstrumentTransformer, Meter, MeteringPoint, MeterInstallation
from tests import archive_factory as make
from tests.api.test_customers_api import (  # the fuzz run's fixtures and steps
    FUZZ_SETTINGS,
    archive_ids,  # noqa: F401  (a fixture: pytest finds it by this name)
    archive_schema,
    archive_token,  # noqa: F401  (a fixture)
    fuzz_archive_operation,
)

D = dt.date
BASE = "/api/v1/metering"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def account(db):
    return make.industrial_account("HZ010101", opened_on=D(2024, 1, 1))


@pytest.fixture
def point(org, account):
    return services.create_point(make.system(), org=org("HZ010101"), code="MP-HOME", voltage_level="AC10KV",
                                 account=account)


@pytest.fixture
def foreign_point(org):
    """A settlement point of 青山区 (HZ0102), another county."""
    other = make.account("HZ010201")
    return services.create_point(make.system(), org=org("HZ010201"), code="MP-QS", voltage_level="AC220V",
                                 account=other)


def meter(org, asset_no, code="HZ010101", **fields):
    return services.register_meter(make.system(), org=org(code), asset_no=asset_no, **fields)


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_points_are_listed_within_the_scope_with_filters(api, point, foreign_point, org):
    station2 = services.create_point(make.system(), org=org("HZ010102"), code="MP-HK", kind="assessment",
                                     voltage_level="AC10KV")
    assert ids(api("metering").get(f"{BASE}/points/")) == {point.pk, station2.pk}
    assert ids(api("reader").get(f"{BASE}/points/")) == {point.pk}  # 城关供电所 only
    assert ids(api("manager").get(f"{BASE}/points/")) == {point.pk, station2.pk, foreign_point.pk}
    client = api("metering")
    assert ids(client.get(f"{BASE}/points/", {"kind": "assessment"})) == {station2.pk}
    assert ids(client.get(f"{BASE}/points/", {"account": point.account_id})) == {point.pk}
    assert ids(client.get(f"{BASE}/points/", {"code": "MP-H"})) == {point.pk, station2.pk}
    assert client.get(f"{BASE}/points/", {"kind": "virtual"}).status_code == 400


def test_another_countys_point_is_404_for_reads_and_field_jobs(api, foreign_point, org):
    client = api("metering")
    m = meter(org, "M-FOREIGN")
    for path in (f"{BASE}/points/{foreign_point.pk}/", f"{BASE}/points/{foreign_point.pk}/history/",
                 f"{BASE}/points/{foreign_point.pk}/multiplier/?date=2024-01-01"):
        assert client.get(path).status_code == 404, path
    response = client.post(f"{BASE}/points/{foreign_point.pk}/install-meter/", {
        "meter": m.pk, "on": "2024-02-01", "reads": {"total": "0"}})
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert client.patch(f"{BASE}/points/{foreign_point.pk}/", {"name": "x"}).status_code == 404
    assert not MeterInstallation.objects.exists()


def test_create_point_through_the_service(api, org, account):
    client = api("metering")
    response = client.post(f"{BASE}/points/", {"org": org("HZ010101").pk, "code": "MP-NEW", "kind": "settlement",
                                               "account": account.pk, "voltage_level": "AC10KV",
                                               "position": "配电室1号柜", "reason": "新装"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["code"], body["account"]["id"], body["multiplier"], body["current_meter"], body["transformers"]) == (
        "MP-NEW", account.pk, "1.00", None, [])
    assert AuditRecord.objects.filter(action="create", object_type="metering.meteringpoint",
                                      object_id=str(body["id"]), channel="api").exists()
    again = client.post(f"{BASE}/points/", {"org": org("HZ010101").pk, "code": "MP-NEW", "account": account.pk,
                                            "voltage_level": "AC10KV"}, **EN)
    assert again.status_code == 400
    assert again.json()["fields"] == {"code": ["The metering point number MP-NEW is already in use."]}


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "settlement"}, "account"),
    ({"voltage_level": "AC999KV"}, "voltage_level"),
    ({"kind": "nonsense"}, "kind"),
    ({"deduction": "fixed_ratio", "deduction_value": "0.2"}, "parent"),
    ({"deduction_value": "1e30"}, "deduction_value"),
    ({"latitude": "91"}, "latitude"),
    ({"org": 2**66}, "org"),
    ({"multiplier": "80"}, "multiplier"),
])
def test_create_point_refusals_name_the_field(api, org, body, field):
    request = {"org": org("HZ010101").pk, "code": "MP-BAD", "kind": "assessment", "voltage_level": "AC10KV", **body}
    response = api("metering").post(f"{BASE}/points/", request, **EN)
    assert response.status_code == 400, response.content
    assert list(response.json()["fields"]) == [field]
    assert not MeteringPoint.objects.filter(code="MP-BAD").exists()


def test_points_need_metering_edit_and_an_account_in_scope(api, org, foreign_point):
    body = {"org": org("HZ010101").pk, "code": "MP-X", "voltage_level": "AC10KV"}
    response = api("clerk").post(f"{BASE}/points/", body, **EN)
    assert response.status_code == 403
    assert response.json()["message"] == "You do not have the permission “Maintain metering points and meters”."
    response = api("metering").post(f"{BASE}/points/", {**body, "account": foreign_point.account_id}, **EN)
    assert response.status_code == 400 and list(response.json()["fields"]) == ["account"]


def test_patch_point_is_audited_with_its_reference(api, point):
    response = api("metering").patch(f"{BASE}/points/{point.pk}/", {"position": "2号柜", "ref": "WO-9",
                                                                    "reason": "柜位调整"})
    assert response.status_code == 200 and response.json()["position"] == "2号柜"
    record = AuditRecord.objects.filter(action="update", object_type="metering.meteringpoint").latest("seq")
    assert (record.ref, record.reason, record.changes["position"][1]) == ("WO-9", "柜位调整", "2号柜")
    long_ref = api("metering").patch(f"{BASE}/points/{point.pk}/", {"ref": "W" * 65})
    assert long_ref.status_code == 400 and list(long_ref.json()["fields"]) == ["ref"]


def test_a_meters_life_on_a_point_install_replace_remove(api, org, point):
    client = api("metering")
    created = client.post(f"{BASE}/meters/", {"org": org("HZ010101").pk, "asset_no": "M-001", "phase": "3P4W",
                                              "registers": ["total", "peak", "valley"], "digits": 6})
    assert created.status_code == 201, created.content
    assert (created.json()["status"], created.json()["registers"], created.json()["installations"]) == (
        "in_stock", ["total", "peak", "valley"], [])
    first = created.json()["id"]

    installed = client.post(f"{BASE}/points/{point.pk}/install-meter/", {
        "meter": first, "on": "2024-01-05", "reads": {"total": "12.5", "peak": "4", "valley": "3.25"},
        "work_order_ref": "WO-1"})
    assert installed.status_code == 201, installed.content
    assert installed.json()["install_reads"] == {"total": "12.5", "peak": "4", "valley": "3.25"}
    detail = client.get(f"{BASE}/points/{point.pk}/").json()
    assert detail["current_meter"]["meter"]["asset_no"] == "M-001"
    assert Meter.objects.get(pk=first).status == AssetStatus.INSTALLED

    second = meter(org, "M-002")
    replaced = client.post(f"{BASE}/points/{point.pk}/replace-meter/", {
        "meter": second.pk, "on": "2025-03-01", "removal_reads": {"total": "900", "peak": "300", "valley": "200"},
        "install_reads": {"total": "0"}, "work_order_ref": "WO-2", "reason": "轮换"})
    assert replaced.status_code == 201, replaced.content
    assert (replaced.json()["meter"]["asset_no"], replaced.json()["installed_on"]) == ("M-002", "2025-03-01")
    history = client.get(f"{BASE}/points/{point.pk}/history/").json()["meters"]
    assert [(h["meter"]["asset_no"], h["installed_on"], h["removed_on"]) for h in history] == [
        ("M-002", "2025-03-01", None), ("M-001", "2024-01-05", "2025-03-01")]
    assert history[1]["removal_reads"] == {"total": "900", "peak": "300", "valley": "200"}

    removed = client.post(f"{BASE}/points/{point.pk}/remove-meter/", {"on": "2025-06-30", "reads": {"total": "77"}})
    assert removed.status_code == 200 and removed.json()["removed_on"] == "2025-06-30"
    nothing = client.post(f"{BASE}/points/{point.pk}/remove-meter/", {"on": "2025-07-01", "reads": {"total": "1"}},
                          **EN)
    assert nothing.status_code == 400 and nothing.json()["message"] == "No meter is installed on this metering point."
    meter_detail = client.get(f"{BASE}/meters/{first}/").json()
    assert [(i["metering_point"]["code"], i["removed_on"]) for i in meter_detail["installations"]] == [
        ("MP-HOME", "2025-03-01")]
    assert meter_detail["status"] == "removed"


@pytest.mark.parametrize(("reads", "field", "message"), [
    ({"total": "1"}, "reads", "Give one read for each register of meter M-R: total, peak."),
    ({"total": "1", "peak": "2", "reactive": "0"}, "reads", "Give one read for each register of meter M-R: total, "
                                                            "peak."),
    ({"total": "1000000", "peak": "0"}, "reads", "The total read must be at least 0 and below 1000000."),
    ({"total": "-1", "peak": "0"}, "reads.total", "Ensure this value is greater than or equal to 0."),
    ({"total": "x", "peak": "0"}, "reads.total", "A valid number is required."),
    ({"total": "1.23456", "peak": "0"}, "reads.total", "Ensure that there are no more than 4 decimal places."),
    ({"total": "1", "peak": "0", "colour": "1"}, "reads.colour", None),
])
def test_install_reads_are_checked_against_the_meter(api, org, point, reads, field, message):
    m = meter(org, "M-R", registers=["total", "peak"])
    response = api("metering").post(f"{BASE}/points/{point.pk}/install-meter/", {
        "meter": m.pk, "on": "2024-02-01", "reads": reads}, **EN)
    assert response.status_code == 400, response.content
    assert list(response.json()["fields"]) == [field]
    if message:
        assert response.json()["fields"][field] == [message]
    assert not MeterInstallation.objects.exists()


def test_field_jobs_need_metering_install_and_a_meter_in_stock(api, org, point):
    m = meter(org, "M-S")
    body = {"meter": m.pk, "on": "2024-02-01", "reads": {"total": "0"}}
    refused = api("custmgr").post(f"{BASE}/points/{point.pk}/install-meter/", body)
    assert refused.status_code == 403  # custmgr sees the point (customers.view) but may not install
    client = api("metering")
    assert client.post(f"{BASE}/points/{point.pk}/install-meter/", body).status_code == 201
    other = services.create_point(make.system(), org=org("HZ010101"), code="MP-2", kind="assessment",
                                  voltage_level="AC10KV")
    again = client.post(f"{BASE}/points/{other.pk}/install-meter/", body, **EN)
    assert again.status_code == 400 and again.json()["fields"] == {"meter": ["Meter M-S is not in stock (Installed)."]}
    bad_date = client.post(f"{BASE}/points/{other.pk}/install-meter/", {**body, "on": "2024-02-30"})
    assert bad_date.status_code == 400 and list(bad_date.json()["fields"]) == ["on"]


def test_ct_pt_give_the_multiplier_by_date(api, org, point):
    client = api("metering")
    made = []
    for asset_no, kind, primary, secondary in (("CT-1", "CT", "150", "5"), ("PT-1", "PT", "10000", "100"),
                                               ("CT-2", "CT", "300", "5")):
        response = client.post(f"{BASE}/transformers/", {"org": org("HZ010101").pk, "asset_no": asset_no,
                                                         "kind": kind, "primary_rating": primary,
                                                         "secondary_rating": secondary})
        assert response.status_code == 201, response.content
        made.append(response.json())
    assert made[0]["ratio"] == "150/5" and made[0]["status"] == "in_stock"
    ct, pt, new_ct = (m["id"] for m in made)
    for transformer, on in ((ct, "2024-01-01"), (pt, "2024-01-01")):
        response = client.post(f"{BASE}/points/{point.pk}/install-transformer/", {
            "transformer": transformer, "on": on, "phase": "A", "work_order_ref": "WO-CT"})
        assert response.status_code == 201, response.content
    assert client.get(f"{BASE}/points/{point.pk}/").json()["multiplier"] == "3000.00"

    installation = InstrumentTransformer.objects.get(pk=ct).installations.get()
    removed = client.post(f"{BASE}/transformer-installations/{installation.pk}/remove/", {"on": "2025-03-01",
                                                                                       "work_order_ref": "WO-CT2"})
    assert removed.status_code == 200 and removed.json()["removed_on"] == "2025-03-01"
    assert client.post(f"{BASE}/points/{point.pk}/install-transformer/", {
        "transformer": new_ct, "on": "2025-03-01", "phase": "A"}).status_code == 201

    def multiplier(on):
        response = client.get(f"{BASE}/points/{point.pk}/multiplier/", {"date": on})
        assert response.status_code == 200
        return response.json()

    assert multiplier("2023-12-31")["multiplier"] == "1.00"
    assert multiplier("2025-02-28")["multiplier"] == "3000.00"
    after = multiplier("2025-03-01")
    assert after["multiplier"] == "6000.00"
    assert sorted(t["transformer"]["asset_no"] for t in after["transformers"]) == ["CT-2", "PT-1"]
    listed = client.get(f"{BASE}/transformer-installations/", {"metering_point": point.pk, "current": True})
    assert ids(listed) == {i.pk for i in point.transformer_installations.filter(removed_on__isnull=True)}
    assert ids(client.get(f"{BASE}/transformers/", {"kind": "PT"})) == {pt}
    for query in ({}, {"date": "2025-02-30"}, {"date": "soon"}):
        bad = client.get(f"{BASE}/points/{point.pk}/multiplier/", query)
        assert bad.status_code == 400 and list(bad.json()["fields"]) == ["date"]


def test_transformer_refusals(api, org, point):
    client = api("metering")
    body = {"org": org("HZ010101").pk, "asset_no": "CT-Z", "kind": "CT", "primary_rating": "0",
            "secondary_rating": "5"}
    zero = client.post(f"{BASE}/transformers/", body, **EN)
    assert zero.status_code == 400
    assert zero.json()["fields"] == {"secondary_rating": ["Both ratings must be above zero."]}
    assert client.post(f"{BASE}/transformers/", {**body, "primary_rating": "NaN"}).status_code == 400
    assert client.post(f"{BASE}/transformers/", {**body, "kind": "VT"}).status_code == 400
    assert not InstrumentTransformer.objects.exists()
    it = services.register_transformer(make.system(), org=org("HZ010101"), asset_no="CT-Y", kind="CT",
                                       primary_rating="100", secondary_rating="5")
    inst = services.install_transformer(make.system(), point, it, on=D(2024, 1, 1))
    early = client.post(f"{BASE}/transformer-installations/{inst.pk}/remove/", {"on": "2023-12-31"}, **EN)
    assert early.status_code == 400 and list(early.json()["fields"]) == ["on"]
    assert api("custmgr").post(f"{BASE}/transformer-installations/{inst.pk}/remove/",
                               {"on": "2024-12-31"}).status_code == 403
    assert client.post(f"{BASE}/points/{point.pk}/install-transformer/", {
        "transformer": it.pk, "on": "2024-01-01", "phase": "D"}).status_code == 400


def test_meter_update_and_its_limits(api, org, point):
    client = api("metering")
    m = meter(org, "M-U")
    patched = client.patch(f"{BASE}/meters/{m.pk}/", {"manufacturer": "华立", "registers": ["total", "reactive"],
                                                      "reason": "铭牌核对"})
    assert patched.status_code == 200 and patched.json()["registers"] == ["total", "reactive"]
    services.install_meter(make.system(), point, Meter.objects.get(pk=m.pk), on=D(2024, 1, 1),
                           reads={"total": "0", "reactive": "0"})
    refused = client.patch(f"{BASE}/meters/{m.pk}/", {"digits": 8}, **EN)
    assert refused.status_code == 400 and refused.json()["fields"] == {"digits": ["This field cannot be changed here."]}
    assert client.patch(f"{BASE}/meters/{m.pk}/", {"registers": ["peak"]}).status_code == 400
    assert Meter.objects.get(pk=m.pk).digits == 6
    assert api("reader").patch(f"{BASE}/meters/{m.pk}/", {"manufacturer": "x"}).status_code == 403


def test_meter_lists_and_duplicates(api, org):
    mine = meter(org, "M-L1")
    theirs = meter(org, "M-L2", code="HZ0201")
    assert ids(api("metering").get(f"{BASE}/meters/")) == {mine.pk}
    assert api("metering").get(f"{BASE}/meters/{theirs.pk}/").status_code == 404
    assert ids(api("metering").get(f"{BASE}/meters/", {"status": "in_stock", "asset_no": "M-L"})) == {mine.pk}
    again = api("metering").post(f"{BASE}/meters/", {"org": org("HZ010101").pk, "asset_no": "M-L1"}, **EN)
    assert again.status_code == 400
    assert again.json()["fields"] == {"asset_no": ["The asset number M-L1 is already in use."]}
    bad = api("metering").post(f"{BASE}/meters/", {"org": org("HZ010101").pk, "asset_no": "M-L3",
                                                   "registers": ["peak"]}, **EN)
    assert bad.status_code == 400 and list(bad.json()["fields"]) == ["registers"]
    assert Meter.objects.filter(asset_no__startswith="M-L").count() == 2
    assert Decimal(api("metering").get(f"{BASE}/meters/").json()["count"]) == 1


def test_lists_take_the_same_number_of_queries_whatever_their_length(api, org):
    """No query per row: the lists of 2 and of 8 cost the same (after a first call fills the caches)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client, system, station = api("metering"), make.system(), org("HZ010101")
    counts = {}
    for total in (0, 2, 8):
        while MeteringPoint.objects.count() < total:
            n = MeteringPoint.objects.count()
            point = services.create_point(system, org=station, code=f"MP-Q{n}", voltage_level="AC10KV",
                                          account=make.account("HZ010101"))
            it = services.register_transformer(system, org=station, asset_no=f"CT-Q{n}", kind="CT",
                                               primary_rating="100", secondary_rating="5")
            services.install_transformer(system, point, it, on=D(2024, 1, 1))
            meter(org, f"M-Q{n}")
        for path in ("points", "meters", "transformers", "transformer-installations"):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(f"{BASE}/{path}/").status_code == 200
            counts.setdefault(path, []).append(len(queries))
    assert all(small == large for _warm_up, small, large in counts.values()), counts


@pytest.mark.parametrize("path", [
    f"{BASE}/points/{2**64}/", f"{BASE}/points/{2**64}/multiplier/?date=2024-01-01", f"{BASE}/meters/-3/",
    f"{BASE}/transformers/abc/", f"{BASE}/transformer-installations/{2**63}/",
])
def test_unknown_ids_are_404(api, path):
    response = api("metering").get(path)
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_schema_lists_the_archive_endpoints_with_stable_enum_names(anonymous):
    schema = anonymous.get("/api/schema/", {"format": "json"}).json()
    assert {"/api/v1/customers/accounts/{id}/as-of/", "/api/v1/customers/customers/{id}/personal-data/",
            "/api/v1/customers/contracts/{id}/renew/", "/api/v1/metering/points/{id}/replace-meter/",
            "/api/v1/metering/points/{id}/multiplier/",
            "/api/v1/metering/transformer-installations/{id}/remove/"} <= set(schema["paths"])
    components = schema["components"]["schemas"]
    assert {"AccountStatusEnum", "AccountChangeKindEnum", "ContractStatusEnum", "AssetStatusEnum",
            "MeteringPointKindEnum", "InstrumentTransformerKindEnum", "MeterPhaseEnum"} <= set(components)
    as_of = schema["paths"]["/api/v1/customers/accounts/{id}/as-of/"]["get"]
    assert {"200", "400", "404"} <= set(as_of["responses"])
    assert [p["name"] for p in as_of["parameters"] if p["in"] == "query"] == ["date"]
    versions = schema["paths"]["/api/v1/customers/accounts/{id}/versions/"]["get"]
    assert [p["name"] for p in versions["parameters"]] == ["id"], "no list filters or pages on a version list"


@archive_schema("metering").parametrize()
@FUZZ_SETTINGS
def test_no_input_to_the_metering_api_causes_a_server_error(case, archive_token, archive_ids):  # noqa: F811
    """The account manager of test_customers_api's fuzz run, who holds the metering permissions there too."""
    fuzz_archive_operation(case, archive_token, archive_ids)
