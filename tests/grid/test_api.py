"""/api/v1/grid/: lists in scope with filters and pages, writes through the services, the one error format."""

import pytest

from powercis.core.models import AuditRecord
from powercis.grid.models import Substation, TransformerArea

from . import builders as b

pytestmark = pytest.mark.django_db
BASE = "/api/v1/grid"


def test_list_is_scoped_paginated_and_filtered(api):
    station = b.substation("HZ010101", code="SS-A1", voltage_level="AC110KV")
    b.substation("HZ010102", code="SS-A2", voltage_level="AC35KV")
    b.substation("HZ010201", code="SS-QS")
    client = api("custmgr")
    body = client.get(f"{BASE}/substations/").json()
    assert body["count"] == 2 and {r["code"] for r in body["results"]} == {"SS-A1", "SS-A2"}
    first = next(r for r in body["results"] if r["code"] == "SS-A1")
    assert first["org"]["code"] == "HZ010101" and first["voltage_level"] == "AC110KV" and first["is_active"]
    assert first["id"] == station.pk and first["longitude"] == 114.30
    assert [r["code"] for r in client.get(f"{BASE}/substations/", {"voltage_level": "AC35KV"}).json()["results"]] \
        == ["SS-A2"]
    org = b.Org.objects.get(code="HZ010102")
    assert [r["code"] for r in client.get(f"{BASE}/substations/", {"org": org.pk}).json()["results"]] == ["SS-A2"]
    page = client.get(f"{BASE}/substations/", {"page_size": 1}).json()
    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"]


def test_feeders_and_areas_filter_by_parent(api):
    station = b.substation(code="SS-P")
    feeder = b.feeder(station, code="FD-P")
    b.feeder(None, code="FD-LONE")
    b.area(feeder, code="TA-P")
    b.area(None, code="TA-LONE")
    client = api("custmgr")
    assert [r["code"] for r in client.get(f"{BASE}/feeders/", {"substation": station.pk}).json()["results"]] == [
        "FD-P"]
    assert [r["code"] for r in client.get(f"{BASE}/feeders/", {"no_substation": "true"}).json()["results"]] == [
        "FD-LONE"]
    assert [r["code"] for r in client.get(f"{BASE}/areas/", {"substation": station.pk}).json()["results"]] == [
        "TA-P"]
    area = client.get(f"{BASE}/areas/", {"q": "TA-P"}).json()["results"][0]
    assert area["feeder"] == feeder.pk and area["geometry"]["type"] == "Polygon" and area["ownership"] == "public"
    assert area["capacity_kva"] == "400.0"


def test_out_of_scope_record_is_404_and_reader_is_403(api):
    other = b.substation("HZ010201")
    response = api("custmgr").get(f"{BASE}/substations/{other.pk}/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    response = api("reader").get(f"{BASE}/substations/")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_create_update_deactivate_and_move_through_the_api(api, editor, org):
    client = api(editor)
    response = client.post(f"{BASE}/substations/", {
        "org": org("HZ010101").pk, "code": "SS-API", "name": "接口变", "voltage_level": "AC110KV",
        "longitude": 114.3, "latitude": 30.6, "reason": "接口新建"})
    assert response.status_code == 201, response.json()
    station = Substation.objects.get(code="SS-API")
    assert response.json()["id"] == station.pk and response.json()["org"]["code"] == "HZ010101"
    assert AuditRecord.objects.filter(object_type="grid.substation", object_id=str(station.pk),
                                      reason="接口新建").exists()
    response = client.post(f"{BASE}/feeders/", {
        "org": org("HZ010101").pk, "code": "FD-API", "name": "接口线", "voltage_level": "AC10KV",
        "substation": station.pk, "geometry": {"type": "LineString", "coordinates": [[114.3, 30.6], [114.4, 30.6]]}})
    assert response.status_code == 201 and response.json()["substation"] == station.pk
    feeder_id = response.json()["id"]
    response = client.patch(f"{BASE}/substations/{station.pk}/", {"name": "接口变电站"})
    assert response.status_code == 200 and response.json()["name"] == "接口变电站"
    response = client.post(f"{BASE}/substations/{station.pk}/set_active/", {"is_active": False, "reason": "退运"})
    assert response.status_code == 200 and response.json()["is_active"] is False
    area = b.area(None, code="TA-API")
    response = client.post(f"{BASE}/areas/{area.pk}/move/", {"feeder": feeder_id, "reason": "挂接"})
    assert response.status_code == 200 and response.json()["feeder"] == feeder_id
    assert TransformerArea.objects.get(pk=area.pk).feeder_id == feeder_id
    response = client.post(f"{BASE}/areas/{area.pk}/move/", {"feeder": feeder_id})
    assert response.status_code == 400 and "reason" in response.json()["fields"]


def test_errors_come_in_the_one_format(api, editor, org):
    b.substation(code="SS-TAKEN")
    client = api(editor)
    response = client.post(f"{BASE}/substations/", {
        "org": org("HZ010101").pk, "code": "SS-TAKEN", "name": "重复", "voltage_level": "AC110KV"})
    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed" and "SS-TAKEN" in response.json()["fields"]["code"][0]
    response = client.post(f"{BASE}/feeders/", {
        "org": org("HZ010101").pk, "code": "FD-BAD", "name": "坏线", "voltage_level": "AC10KV",
        "geometry": {"type": "LineString", "coordinates": [[114.3, 99.0], [114.4, 30.6]]}})
    assert response.status_code == 400 and "latitude" in response.json()["fields"]["geometry"][0]
    response = client.post(f"{BASE}/substations/", {
        "org": org("HZ0102").pk, "code": "SS-OUT", "name": "外", "voltage_level": "AC110KV"})
    assert response.status_code == 400 and "org" in response.json()["fields"]  # an org outside the scope
    response = api("custmgr").post(f"{BASE}/substations/", {
        "org": org("HZ010101").pk, "code": "SS-NO", "name": "无权", "voltage_level": "AC110KV"})
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert not Substation.objects.filter(code__in=["SS-OUT", "SS-NO"]).exists()


def test_parent_outside_scope_reads_as_unknown(api, editor, org):
    other = b.substation("HZ010201")
    response = api(editor).post(f"{BASE}/feeders/", {
        "org": org("HZ010101").pk, "code": "FD-X", "name": "越界线", "voltage_level": "AC10KV",
        "substation": other.pk})
    assert response.status_code == 400 and "substation" in response.json()["fields"]
