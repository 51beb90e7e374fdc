"""Map layers: GeoJSON shape and properties, bbox filtering, the feature cap, data scope, the one-account map."""

import pytest
from django.urls import reverse

from powercis.customers.models import Account
from powercis.topology import geojson
from tests import archive_factory as af
from tests.grid import builders as b

pytestmark = pytest.mark.django_db

NEAR = (114.31, 30.61)
FAR = (115.50, 31.50)


@pytest.fixture
def get(login):
    def fetch(username, layer, **params):
        return login(username).get(reverse(f"topology:geojson_{layer}"), params)

    return fetch


def located_account(org_code="HZ010101", at=NEAR, **fields):
    account = af.account(org_code, **fields)
    Account.objects.filter(pk=account.pk).update(longitude=at[0], latitude=at[1])
    return account


def test_layers_are_feature_collections_with_typed_geometries_and_properties(get):
    station = b.substation(code="SS-G", name="城关变")
    feeder = b.feeder(station, code="FD-G", name="城关线")
    area = b.area(feeder, code="TA-G", name="幸福台区", capacity_kva="630")
    account = located_account(account_no="A-G", name="张三")
    response = get("custmgr", "areas")
    assert response.status_code == 200 and response["Content-Type"] == "application/geo+json"
    areas = response.json()
    assert areas["type"] == "FeatureCollection" and areas["truncated"] is False and areas["limit"] == 5000
    [feature] = areas["features"]
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Polygon"
    assert feature["properties"] == {
        "layer": "area", "id": area.pk, "code": "TA-G", "name": "幸福台区", "ownership": "Public (公变)",
        "capacity_kva": "630.0", "feeder": "FD-G", "is_active": True, "url": f"/topology/areas/{area.pk}/"}
    [line] = get("custmgr", "feeders").json()["features"]
    assert line["geometry"]["type"] == "LineString"
    assert line["properties"]["substation"] == "城关变" and line["properties"]["url"] == f"/grid/feeders/{feeder.pk}/"
    [point] = get("custmgr", "accounts").json()["features"]
    assert point["geometry"] == {"type": "Point", "coordinates": [NEAR[0], NEAR[1]]}
    assert point["properties"]["account_no"] == "A-G" and point["properties"]["name"] == "张三"
    assert point["properties"]["status"] == "NORMAL"
    assert point["properties"]["url"] == f"/customers/accounts/{account.pk}/"


def test_bbox_keeps_what_lies_in_view(get):
    b.area(None, code="TA-IN", at=NEAR)
    b.area(None, code="TA-OUT", at=FAR)
    b.feeder(None, code="FD-IN")
    b.feeder(None, code="FD-OUT", geometry=b.line(FAR, (FAR[0] + 0.01, FAR[1])))
    located_account(account_no="A-IN", at=NEAR)
    located_account(account_no="A-OUT", at=FAR)
    view = "114.30,30.60,114.32,30.62"

    def codes(layer, key="code"):
        return {f["properties"][key] for f in get("custmgr", layer, bbox=view).json()["features"]}

    assert codes("areas") == {"TA-IN"}
    assert codes("feeders") == {"FD-IN"}
    assert codes("accounts", "account_no") == {"A-IN"}
    assert {f["properties"]["code"] for f in get("custmgr", "areas").json()["features"]} == {"TA-IN", "TA-OUT"}


def test_an_account_without_coordinates_is_placed_at_its_metering_point(get):
    account = af.account("HZ010101", account_no="A-MP")
    b.metering_point(account=account, longitude=114.315, latitude=30.615)
    [point] = get("custmgr", "accounts", bbox="114.30,30.60,114.32,30.62").json()["features"]
    assert point["properties"]["account_no"] == "A-MP"
    assert point["geometry"]["coordinates"] == [114.315, 30.615]
    assert get("custmgr", "accounts", bbox="115,31,116,32").json()["features"] == []


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "114,30,113,31", "114,95,115,96", ""])
def test_malformed_bbox_is_a_clear_400(get, bbox):
    response = get("custmgr", "areas", bbox=bbox)
    if bbox == "":
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed" and response.json()["fields"]["bbox"]


def test_layers_are_capped_and_say_so(get, monkeypatch):
    for n in range(3):
        located_account(account_no=f"A-CAP{n}")
        b.area(None, code=f"TA-CAP{n}")
    monkeypatch.setitem(geojson.LIMITS, "accounts", 2)
    monkeypatch.setitem(geojson.LIMITS, "areas", 2)
    accounts = get("custmgr", "accounts").json()
    assert len(accounts["features"]) == 2 and accounts["truncated"] is True and accounts["limit"] == 2
    areas = get("custmgr", "areas").json()
    assert len(areas["features"]) == 2 and areas["truncated"] is True
    monkeypatch.setitem(geojson.LIMITS, "areas", 3)
    assert get("custmgr", "areas").json()["truncated"] is False


def test_layers_honour_data_scope(get, org):
    b.area(None, "HZ010101", code="TA-LJ")
    b.area(None, "HZ010201", code="TA-QS")
    located_account("HZ010201", account_no="A-QS")
    from powercis.grid import services

    services.create_community(b.system(), org=org("HZ010201"), code="C-QS", name="青山小区",
                              geometry=b.box(*NEAR))
    assert {f["properties"]["code"] for f in get("custmgr", "areas").json()["features"]} == {"TA-LJ"}
    assert get("custmgr", "accounts").json()["features"] == []
    assert get("custmgr", "communities").json()["features"] == []
    assert {f["properties"]["code"] for f in get("auditor", "communities").json()["features"]} == {"C-QS"}
    assert get("reader", "areas").status_code == 403  # no grid permission


def test_communities_and_buildings(get, org):
    from powercis.grid import services

    community = services.create_community(b.system(), org=org("HZ010101"), code="C-1", name="幸福小区",
                                          address="幸福路1号", geometry=b.box(*NEAR, 0.003))
    services.create_building(b.system(), org=org("HZ010101"), code="B-1", name="1栋", community=community,
                             longitude=NEAR[0], latitude=NEAR[1])
    [place] = get("custmgr", "communities").json()["features"]
    assert place["geometry"]["type"] == "Polygon" and place["properties"]["address"] == "幸福路1号"
    [building] = get("custmgr", "buildings").json()["features"]
    assert building["geometry"] == {"type": "Point", "coordinates": [NEAR[0], NEAR[1]]}
    assert building["properties"]["community_name"] == "幸福小区"


def test_one_account_map_has_its_point_area_feeder_and_substation(login):
    station = b.substation(code="SS-A", longitude=114.30, latitude=30.60)
    feeder = b.feeder(station, code="FD-A")
    area = b.area(feeder, code="TA-A")
    account = located_account(account_no="A-360")
    b.metering_point(account=account, area=area)
    data = login("custmgr").get(reverse("topology:account_geojson", args=[account.pk])).json()
    assert data["type"] == "FeatureCollection" and data["account"]["located"] is True
    layers = {f["properties"]["layer"]: f for f in data["features"]}
    assert set(layers) == {"account", "area", "feeder", "substation"}
    assert layers["account"]["properties"]["account_no"] == "A-360"
    assert layers["area"]["geometry"]["type"] == "Polygon" and layers["feeder"]["geometry"]["type"] == "LineString"
    # the clerk sees the account but not the grid (no grid permission): only the point
    data = login("clerk").get(reverse("topology:account_geojson", args=[account.pk])).json()
    assert [f["properties"]["layer"] for f in data["features"]] == ["account"]


def test_one_account_map_outside_scope_is_404(login):
    account = located_account("HZ010201")
    assert login("custmgr").get(reverse("topology:account_geojson", args=[account.pk])).status_code == 404


def test_extent_covers_the_grid_in_scope(staff):
    b.area(None, at=(114.2, 30.5))
    b.substation(longitude=114.4, latitude=30.7)
    b.area(None, "HZ010201", at=(116.0, 32.0))
    box = geojson.extent(staff("custmgr"))
    assert box == pytest.approx((114.2, 30.5, 114.4, 30.7))  # from the points of areas and substations
    assert geojson.extent(staff("clerk")) is None
