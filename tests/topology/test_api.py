"""/api/v1/topology/: the fault worklist and counts, the accounts on an area; all in scope."""

import pytest

from tests import archive_factory as af
from tests.grid import builders as b

pytestmark = pytest.mark.django_db
BASE = "/api/v1/topology"


def test_fault_list_counts_and_filters(api, org):
    lost = af.account("HZ010101", account_no="A-API")
    b.metering_point(account=lost, code="MP-API")
    b.area(None, "HZ010102", code="TA-API")
    b.area(None, "HZ010201", code="TA-QS")
    client = api("custmgr")
    body = client.get(f"{BASE}/faults/").json()
    assert body["count"] == 3  # account without area; TA-API without point and without feeder
    row = next(r for r in body["results"] if r["fault"] == "account_without_area")
    assert row["object_type"] == "account" and row["object_id"] == lost.pk and row["code"] == "A-API"
    assert "MP-API" in row["detail"] and row["url"] == f"/customers/accounts/{lost.pk}/"
    body = client.get(f"{BASE}/faults/", {"kind": "area_without_feeder", "org": org("HZ010102").pk}).json()
    assert [(r["code"], r["object_type"]) for r in body["results"]] == [("TA-API", "transformer_area")]
    counts = client.get(f"{BASE}/faults/counts/").json()
    assert counts["total"] == 3 and counts["counts"]["area_without_feeder"] == 1
    assert counts["counts"]["feeder_without_substation"] == 0


def test_fault_query_is_validated(api, org):
    client = api("custmgr")
    response = client.get(f"{BASE}/faults/", {"kind": "nonsense"})
    assert response.status_code == 400 and "kind" in response.json()["fields"]
    response = client.get(f"{BASE}/faults/", {"org": org("HZ0102").pk})  # outside the scope
    assert response.status_code == 400 and "org" in response.json()["fields"]
    assert api("clerk").get(f"{BASE}/faults/").status_code == 403


def test_accounts_on_an_area(api):
    area = b.area(None, code="TA-ACC")
    account = af.account("HZ010101", account_no="A-ON", name="李四")
    point = b.metering_point(account=account, area=area, code="MP-ON")
    meter = b.install_meter(point).meter
    body = api("custmgr").get(f"{BASE}/areas/{area.pk}/accounts/").json()
    assert body["count"] == 1
    assert body["results"][0] == {"account_id": account.pk, "account_no": "A-ON", "name": "李四",
                                  "status": "NORMAL", "metering_point": "MP-ON", "meter_asset_no": meter.asset_no}
    other = b.area(None, "HZ010201")
    assert api("custmgr").get(f"{BASE}/areas/{other.pk}/accounts/").status_code == 404
