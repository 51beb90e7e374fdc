"""Topology pages: the browser and its lazily loaded nodes, the area page, the fault worklist and its exports, the map."""

import csv
import io
import json
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from powercis.customers.models import Account
from tests import archive_factory as af
from tests.grid import builders as b

pytestmark = pytest.mark.django_db


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.fixture
def topology():
    station = b.substation("HZ010101", code="SS-B", name="城关变")
    feeder = b.feeder(station, "HZ010101", code="FD-B", name="城关一线")
    b.feeder(station, "HZ010101", code="FD-B2", name="城关二线")
    area = b.area(feeder, "HZ010101", code="TA-B", name="幸福台区", capacity_kva="630")
    from powercis.grid import services

    services.create_transformer(b.system(), org=area.org, code="TR-B", capacity_kva="630", area=area,
                                model_name="S13-M-630/10", no_load_loss_kw="0.81", load_loss_kw="6.2")
    point = b.metering_point(area=area, kind="assessment", code="MP-TOTAL", multiplier="120", name="台区总表")
    installed = b.install_meter(point)
    accounts = []
    for n in range(3):
        account = af.account("HZ010101", account_no=f"A-B{n}", name=f"住户{n}")
        b.metering_point(account=account, area=area, code=f"MP-B{n}")
        accounts.append(account)
    b.substation("HZ010201", code="SS-QS", name="青山变")
    return {"station": station, "feeder": feeder, "area": area, "meter": installed.meter, "accounts": accounts}


def test_browser_lists_substations_in_scope_with_counts(login, topology):
    page = text(login("custmgr").get(reverse("topology:browser")))
    assert "城关变" in page and "青山变" not in page
    pk = topology["station"].pk
    assert f'id="substation-{pk}" data-feeders="2" data-areas="1"' in page
    assert f'hx-target="#substation-children-{pk}"' in page and f'id="substation-children-{pk}"' in page
    assert reverse("topology:substation_children", args=[topology["station"].pk]) in page


def test_browser_nodes_load_their_children(login, topology):
    client = login("custmgr")
    feeders = text(client.get(reverse("topology:substation_children", args=[topology["station"].pk]),
                              HTTP_HX_REQUEST="true"))
    assert "城关一线" in feeders and "城关二线" in feeders and "<html" not in feeders
    assert f'id="feeder-{topology["feeder"].pk}" data-areas="1"' in feeders
    assert reverse("topology:feeder_children", args=[topology["feeder"].pk]) in feeders
    areas = text(client.get(reverse("topology:feeder_children", args=[topology["feeder"].pk])))
    assert "幸福台区" in areas and "630.0 kVA" in areas
    assert f'id="area-{topology["area"].pk}" data-accounts="3"' in areas
    accounts = text(client.get(reverse("topology:area_children", args=[topology["area"].pk])))
    for n in range(3):
        assert f"A-B{n}" in accounts
    assert f"/customers/accounts/{topology['accounts'][0].pk}/" in accounts


def test_browser_nodes_outside_scope_are_404(login):
    other = b.substation("HZ010201")
    assert login("custmgr").get(reverse("topology:substation_children", args=[other.pk])).status_code == 404


def test_unassigned_feeders_and_areas_have_their_own_nodes(login):
    b.feeder(None, code="FD-NOSS", name="孤立线")
    b.area(None, code="TA-NOFD", name="孤立台区")
    client = login("custmgr")
    page = text(client.get(reverse("topology:browser")))
    assert reverse("topology:unassigned_feeders") in page and reverse("topology:unassigned_areas") in page
    assert "孤立线" in text(client.get(reverse("topology:unassigned_feeders")))
    assert "孤立台区" in text(client.get(reverse("topology:unassigned_areas")))


def test_area_page_shows_transformer_assessment_point_meter_multiplier_and_accounts(login, topology):
    page = text(login("custmgr").get(reverse("topology:area", args=[topology["area"].pk])))
    assert "S13-M-630/10" in page and "TR-B" in page
    assert "MP-TOTAL" in page and topology["meter"].asset_no in page and "120" in page
    for account in topology["accounts"]:
        assert account.account_no in page
    assert "城关一线" in page and "城关变" in page


def test_area_page_paginates_accounts(login, topology):
    area = topology["area"]
    for n in range(52):
        account = af.account("HZ010101", account_no=f"A-P{n:02d}")
        b.metering_point(account=account, area=area)
    client = login("custmgr")
    first = text(client.get(reverse("topology:area", args=[area.pk])))
    assert "A-B0" in first and "A-P51" not in first and '<span class="badge text-bg-light">55</span>' in first
    second = text(client.get(reverse("topology:area", args=[area.pk]), {"page": 2}))
    assert "A-P51" in second and "A-B0" not in second


def test_fault_worklist_counts_filters_and_links(login):
    lost = af.account("HZ010101", account_no="A-LOST")
    b.metering_point(account=lost, code="MP-LOST")
    b.area(b.feeder(b.substation()), code="TA-NOPT")
    b.area(None, "HZ010201", code="TA-QS")
    client = login("custmgr")
    page = text(client.get(reverse("topology:faults")))
    assert "A-LOST" in page and "MP-LOST" in page and "TA-NOPT" in page and "TA-QS" not in page
    assert f"/customers/accounts/{lost.pk}/" in page
    counts = re.findall(r'data-fault="([a-z_]+)">\s*<span class="fs-4[^"]*">(\d+)</span>', page)
    assert dict(counts)["account_without_area"] == "1" and dict(counts)["area_without_assessment_point"] == "1"
    filtered = text(client.get(reverse("topology:faults"), {"kind": "account_without_area"}))
    assert "A-LOST" in filtered and "TA-NOPT" not in filtered


def test_fault_exports_csv_and_xlsx_with_the_filtered_rows(login):
    lost = af.account("HZ010101", account_no="A-EXP")
    b.metering_point(account=lost, code="MP-EXP")
    b.area(None, code="TA-EXP")
    client = login("custmgr")
    response = client.get(reverse("topology:faults"), {"format": "csv", "kind": "account_without_area"})
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert table[0][0] == "问题类型 / Fault" and len(table) == 2
    assert table[1][2] == "A-EXP" and "MP-EXP" in table[1][5]
    response = client.get(reverse("topology:faults"), {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][2] == "编号 / Code" and {r[2] for r in values[1:]} == {"A-EXP", "TA-EXP"}


def test_map_page_carries_its_layers_and_no_inline_script(login, topology):
    page = text(login("custmgr").get(reverse("topology:map")))
    assert "vendor/leaflet/leaflet.js" in page and "topology/map.js" in page
    config = json.loads(re.search(r'<script id="map-config" type="application/json">(.*?)</script>', page, re.DOTALL)
                        .group(1))
    assert [layer["name"] for layer in config["layers"]] == ["feeders", "areas", "communities", "buildings",
                                                            "accounts"]
    assert config["layers"][0]["url"] == reverse("topology:geojson_feeders")
    assert config["extent"] == pytest.approx([114.30, 30.60, 114.31, 30.61])
    assert "tileUrl&quot;: &quot;&quot;" in page  # no tile server unless configured
    assert not re.search(r"<script(?![^>]*(src=|type=\"application/json\"))", page)  # CSP: nothing inline
    assert ' style="' not in page


def test_map_uses_the_configured_tile_server(login, settings, topology):
    settings.POWERCIS_MAP_TILE_URL = "https://t{s}.tianditu.gov.cn/vec_w/wmts?tk=KEY&x={x}&y={y}&l={z}"
    settings.POWERCIS_MAP_TILE_ATTRIBUTION = "天地图"
    page = text(login("custmgr").get(reverse("topology:map")))
    assert "t{s}.tianditu.gov.cn" in page and "天地图" in page


def test_tile_origin_is_allowed_by_the_content_security_policy():
    from powercis.settings import _tile_sources

    assert _tile_sources("https://t{s}.tianditu.gov.cn/vec_w/wmts?x={x}") == ["https://*.tianditu.gov.cn"]
    assert _tile_sources("https://tiles.example.cn/{z}/{x}/{y}.png") == ["https://tiles.example.cn"]
    assert _tile_sources("/tiles/{z}/{x}/{y}.png") == [] and _tile_sources("") == []


def test_pages_refuse_staff_without_grid_permission(login, topology):
    client = login("clerk")
    for name in ("topology:browser", "topology:faults", "topology:map"):
        assert client.get(reverse(name)).status_code == 403
    assert client.get(reverse("topology:area", args=[topology["area"].pk])).status_code == 403


def test_account_360_page_shows_the_map_for_grid_viewers(login, topology):
    account = topology["accounts"][0]
    Account.objects.filter(pk=account.pk).update(longitude=114.31, latitude=30.61)
    page = text(login("custmgr").get(reverse("customers:account_detail", args=[account.pk])))
    assert f'data-geojson-url="{reverse("topology:account_geojson", args=[account.pk])}"' in page
    assert "vendor/leaflet/leaflet.js" in page
    page = text(login("clerk").get(reverse("customers:account_detail", args=[account.pk])))
    assert "data-geojson-url" not in page  # the clerk sees the account but holds no grid permission
