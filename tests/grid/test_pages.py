"""Grid pages: lists and details in scope, create/edit/deactivate/move through the services, refusals."""

import pytest
from django.urls import reverse

from powercis.core.models import AuditRecord
from powercis.grid.models import Feeder, Substation, TransformerArea

from . import builders as b

pytestmark = pytest.mark.django_db


def test_lists_show_only_records_in_scope(login):
    mine = b.substation("HZ010101", code="SS-LJ", name="临江变")
    b.substation("HZ0102", code="SS-QS", name="青山变")
    page = login("custmgr").get(reverse("grid:substation_list")).content.decode()
    assert "SS-LJ" in page and "临江变" in page
    assert "SS-QS" not in page and "青山变" not in page
    assert 'id="new-record"' not in page  # custmgr may view, not maintain
    detail = login("custmgr").get(reverse("grid:substation_detail", args=[mine.pk]))
    assert detail.status_code == 200 and "临江变" in detail.content.decode()
    other = Substation.objects.get(code="SS-QS")
    assert login("custmgr").get(reverse("grid:substation_detail", args=[other.pk])).status_code == 404


def test_list_filters_by_parent_text_org_and_status(login):
    station = b.substation(code="SS-F")
    b.feeder(station, code="FD-ON", name="城东线")
    off = b.feeder(station, code="FD-OFF", name="城西线")
    b.feeder(None, code="FD-ELSE", name="其他线")
    Feeder.objects.filter(pk=off.pk).update(is_active=False)
    client = login("custmgr")
    url = reverse("grid:feeder_list")
    page = client.get(url, {"substation": station.pk}).content.decode()
    assert "FD-ON" in page and "FD-OFF" in page and "FD-ELSE" not in page
    assert "SS-F" in page  # the badge naming the substation the list is narrowed to
    page = client.get(url, {"substation": station.pk, "is_active": "false"}).content.decode()
    assert "FD-OFF" in page and "FD-ON" not in page
    page = client.get(url, {"q": "城东"}).content.decode()
    assert "FD-ON" in page and "FD-OFF" not in page


def test_reader_without_grid_permission_is_refused(login):
    response = login("reader").get(reverse("grid:area_list"))
    assert response.status_code == 403


def test_detail_lists_children_and_offers_edit_to_the_editor(login, editor):
    station = b.substation(code="SS-D", name="城南变")
    b.feeder(station, code="FD-D1", name="南一线")
    page = login(editor).get(reverse("grid:substation_detail", args=[station.pk])).content.decode()
    assert "FD-D1" in page and "南一线" in page
    assert reverse("grid:substation_edit", args=[station.pk]) in page
    assert f"{reverse('grid:feeder_create')}?substation={station.pk}" in page


def test_create_edit_and_deactivate_through_the_pages(login, editor, org):
    client = login(editor)
    response = client.post(reverse("grid:substation_create"), {
        "org": org("HZ010101").pk, "code": "SS-NEW", "name": "新建变", "voltage_level": "AC35KV",
        "longitude": "114.3", "latitude": "30.6", "reason": "投运"})
    station = Substation.objects.get(code="SS-NEW")
    assert response.status_code == 302 and response["Location"] == reverse("grid:substation_detail",
                                                                            args=[station.pk])
    assert AuditRecord.objects.filter(object_type="grid.substation", object_id=str(station.pk),
                                      action="create", reason="投运").exists()
    response = client.post(reverse("grid:substation_edit", args=[station.pk]), {
        "org": org("HZ010101").pk, "name": "新建变电站", "voltage_level": "AC35KV", "longitude": "114.3",
        "latitude": "30.6", "reason": "更名"})
    assert response.status_code == 302
    station.refresh_from_db()
    assert station.name == "新建变电站"
    assert AuditRecord.objects.get(object_type="grid.substation", object_id=str(station.pk),
                                   action="update").changes == {"name": ["新建变", "新建变电站"]}
    client.post(reverse("grid:substation_set_active", args=[station.pk]), {"active": "0", "reason": "退运"})
    station.refresh_from_db()
    assert station.is_active is False


def test_service_refusals_show_on_the_form(login, editor, org):
    b.substation(code="SS-TAKEN")
    response = login(editor).post(reverse("grid:feeder_create"), {
        "org": org("HZ0101").pk, "code": "FD-G", "name": "坏线", "voltage_level": "AC10KV",
        "geometry": '{"type": "LineString", "coordinates": [[114.3, 30.6]]}'})
    assert response.status_code == 200
    assert "at least 2 positions" in response.content.decode()
    assert not Feeder.objects.filter(code="FD-G").exists()
    response = login(editor).post(reverse("grid:substation_create"), {
        "org": org("HZ0101").pk, "code": "SS-TAKEN", "name": "重复", "voltage_level": "AC35KV"})
    assert "SS-TAKEN" in response.content.decode() and response.status_code == 200


def test_the_form_offers_only_orgs_where_the_user_may_edit(login, editor):
    page = login(editor).get(reverse("grid:area_create")).content.decode()
    assert "临江县" in page and "青山区" not in page
    assert login("custmgr").get(reverse("grid:area_create")).status_code == 403


def test_area_move_page(login, editor):
    first, second = b.feeder(code="FD-M1"), b.feeder(code="FD-M2")
    area = b.area(first)
    client = login(editor)
    page = client.get(reverse("grid:area_move", args=[area.pk])).content.decode()
    assert "FD-M2" in page and "FD-M1" not in page  # its own feeder is not offered
    response = client.post(reverse("grid:area_move", args=[area.pk]), {"feeder": second.pk, "reason": "切改"})
    assert response.status_code == 302
    assert TransformerArea.objects.get(pk=area.pk).feeder == second
    assert AuditRecord.objects.filter(action="area.move", object_id=str(area.pk)).exists()


def test_grid_menu_entries_follow_the_permission(login):
    page = login("custmgr").get(reverse("web:dashboard")).content.decode()
    for name in ("grid:substation_list", "grid:feeder_list", "grid:area_list", "topology:browser",
                 "topology:faults", "topology:map"):
        assert f'data-nav="{name}"' in page
    page = login("clerk").get(reverse("web:dashboard")).content.decode()
    assert 'data-nav="grid:substation_list"' not in page and 'data-nav="topology:map"' not in page
