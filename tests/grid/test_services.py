"""Grid services: permission in the record's org, audit, unique codes, code tables, GeoJSON, moves."""

from decimal import Decimal

import pytest

from powercis.core.context import Actor
from powercis.core.errors import NotAuthorized, ValidationFailed
from powercis.core.models import AuditRecord
from powercis.grid import services
from powercis.grid.models import Building, Community, Feeder, Substation, Transformer, TransformerArea

from . import builders as b

pytestmark = pytest.mark.django_db


def as_actor(staff):
    return Actor(user=staff, ip="10.0.0.9", channel="web")


def last_audit(**lookup):
    return AuditRecord.objects.filter(**lookup).order_by("-seq").first()


def test_create_substation_is_audited_with_the_editors_post(editor, org):
    station = b.substation(actor=as_actor(editor), code="SS-CG", name="城关变", reason="新建")
    assert station.org_path == org("HZ0101").path and station.company_id == org("HZ").pk
    entry = last_audit(object_type="grid.substation", object_id=str(station.pk))
    assert entry.action == "create" and entry.post_code == "grid_maintainer" and entry.reason == "新建"
    assert entry.changes["code"] == [None, "SS-CG"] and entry.changes["voltage_level"] == [None, "AC110KV"]
    assert entry.actor_id == editor.pk and entry.source_ip == "10.0.0.9"


@pytest.mark.parametrize("username", ["reader", "custmgr", "clerk"])
def test_staff_without_grid_edit_are_refused_and_nothing_is_written(actor, org, username):
    before = AuditRecord.objects.count()
    with pytest.raises(NotAuthorized):
        services.create_substation(actor(username), org=org("HZ010101"), code="SS9", name="x", voltage_level="AC110KV")
    assert not Substation.objects.filter(code="SS9").exists()
    assert AuditRecord.objects.count() == before


def test_editor_is_refused_outside_their_orgs(editor, org):
    with pytest.raises(NotAuthorized) as refused:
        services.create_substation(as_actor(editor), org=org("HZ0102"), code="SS-QS", name="青山变",
                                   voltage_level="AC110KV")
    assert "青山区" in str(refused.value)
    other = b.substation("HZ0102")
    with pytest.raises(NotAuthorized):
        services.update_record(as_actor(editor), other, name="改名")
    with pytest.raises(NotAuthorized):  # a parent outside the scope cannot be used either
        b.feeder(other, actor=as_actor(editor))


def test_duplicate_code_in_the_company_is_refused(editor):
    b.substation(code="SS-DUP")
    with pytest.raises(ValidationFailed) as refused:
        b.substation("HZ0101", actor=as_actor(editor), code="SS-DUP")
    assert "SS-DUP" in refused.value.fields["code"][0]
    assert Substation.objects.filter(code="SS-DUP").count() == 1
    # the same code may be used by another kind of record
    assert b.feeder(code="SS-DUP").code == "SS-DUP"


@pytest.mark.parametrize("code", ["", "has space", "x" * 33, "变电站"])
def test_malformed_codes_are_refused(code):
    with pytest.raises(ValidationFailed) as refused:
        b.substation(code=code)
    assert "code" in refused.value.fields


def test_voltage_level_must_be_a_code_of_the_table():
    with pytest.raises(ValidationFailed) as refused:
        b.substation(voltage_level="110KV")
    assert "110KV" in refused.value.fields["voltage_level"][0]
    with pytest.raises(ValidationFailed) as refused:
        b.feeder(voltage_level="")
    assert refused.value.fields["voltage_level"]


@pytest.mark.parametrize("geometry, message", [
    ({"type": "Point", "coordinates": [114.3, 30.6]}, "LineString"),
    ({"type": "LineString", "coordinates": [[114.3, 30.6]]}, "at least 2"),
    ({"type": "LineString", "coordinates": [[114.3, 95.0], [114.3, 30.6]]}, "latitude"),
    ({"type": "LineString", "coordinates": [[181.0, 30.0], [114.3, 30.6]]}, "longitude"),
    ({"type": "LineString", "coordinates": [["114.3", 30.6], [114.3, 30.6]]}, "position"),
    ({"type": "LineString", "coordinates": [[True, 30.6], [114.3, 30.6]]}, "position"),
    ({"coordinates": [[114.3, 30.6], [114.4, 30.7]]}, "type"),
    ({"type": "LineString", "coordinates": [[114.3, 30.6], [114.4, 30.7]], "properties": {}}, "Unexpected"),
    ("not json", "type"),
])
def test_bad_feeder_geometry_is_refused_with_a_reason(geometry, message):
    with pytest.raises(ValidationFailed) as refused:
        b.feeder(code="FD-BAD", geometry=geometry)
    assert message in refused.value.fields["geometry"][0]
    assert not Feeder.objects.filter(code="FD-BAD").exists()


def test_polygon_rings_must_be_closed_and_polygons_only_for_areas():
    ring = [[114.30, 30.60], [114.31, 30.60], [114.31, 30.61], [114.30, 30.61]]
    with pytest.raises(ValidationFailed) as refused:
        b.area(code="TA-OPEN", geometry={"type": "Polygon", "coordinates": [ring]})
    assert "not closed" in refused.value.fields["geometry"][0]
    with pytest.raises(ValidationFailed):
        b.area(code="TA-LINE", geometry=b.line((114.3, 30.6), (114.4, 30.7)))
    multi = {"type": "MultiPolygon", "coordinates": [b.box(114.3, 30.6)["coordinates"],
                                                      b.box(114.4, 30.7)["coordinates"]]}
    assert b.area(code="TA-MULTI", geometry=multi).geometry["type"] == "MultiPolygon"


def test_an_outline_without_a_point_gives_the_record_its_centre():
    area = b.area(geometry=b.box(114.5, 30.5, 0.01))
    assert area.longitude == pytest.approx(114.5) and area.latitude == pytest.approx(30.5)
    placed = b.area(geometry=b.box(114.5, 30.5, 0.01), longitude=114.6, latitude=30.4)
    assert (placed.longitude, placed.latitude) == (114.6, 30.4)


def test_point_needs_both_coordinates_within_range():
    with pytest.raises(ValidationFailed) as refused:
        b.substation(longitude=114.3, latitude=None)
    assert "latitude" in refused.value.fields
    with pytest.raises(ValidationFailed) as refused:
        b.substation(longitude=200.0, latitude=30.0)
    assert "longitude" in refused.value.fields


def test_transformer_needs_a_capacity_and_non_negative_losses(editor):
    area = b.area()
    with pytest.raises(ValidationFailed) as refused:
        services.create_transformer(as_actor(editor), org=area.org, code="T1", capacity_kva="0", area=area)
    assert "capacity_kva" in refused.value.fields
    with pytest.raises(ValidationFailed) as refused:
        services.create_transformer(as_actor(editor), org=area.org, code="T1", capacity_kva="400", area=area,
                                    load_loss_kw="-1")
    assert "load_loss_kw" in refused.value.fields
    transformer = services.create_transformer(as_actor(editor), org=area.org, code="T1", capacity_kva="400",
                                              area=area, no_load_loss_kw="0.57", load_loss_kw="4.2")
    assert transformer.capacity_kva == Decimal(400) and transformer.no_load_loss_kw == Decimal("0.57")
    assert list(area.transformers.all()) == [transformer]


def test_a_building_belongs_to_a_community(org):
    community = services.create_community(b.system(), org=org("HZ010101"), code="C1", name="幸福小区",
                                          geometry=b.box(114.3, 30.6, 0.005))
    building = services.create_building(b.system(), org=org("HZ010101"), code="B1", name="1栋",
                                        community=community, geometry=b.box(114.3, 30.6, 0.0005))
    assert building.community == community and building.longitude == pytest.approx(114.3)
    with pytest.raises(ValidationFailed) as refused:
        services.create_building(b.system(), org=org("HZ010101"), code="B2", name="2栋", community=None)
    assert "community" in refused.value.fields
    assert not Building.objects.filter(code="B2").exists()
    assert Community.objects.get(code="C1").is_active


def test_update_is_audited_field_by_field_and_codes_never_change(editor, org):
    station = b.substation(name="旧名")
    services.update_record(as_actor(editor), station, name="新名", reason="更名")
    station.refresh_from_db()
    assert station.name == "新名"
    entry = last_audit(object_type="grid.substation", object_id=str(station.pk), action="update")
    assert entry.changes == {"name": ["旧名", "新名"]} and entry.reason == "更名"
    with pytest.raises(ValidationFailed) as refused:
        services.update_record(as_actor(editor), station, code="NEW")
    assert "code" in refused.value.fields
    with pytest.raises(ValidationFailed):  # an area changes feeder only by a move
        services.update_record(as_actor(editor), b.area(), feeder=b.feeder())


def test_moving_a_record_to_another_org_needs_grid_edit_there(editor, org):
    station = b.substation("HZ010101")
    services.update_record(as_actor(editor), station, org=org("HZ010102"))
    station.refresh_from_db()
    assert station.org_path == org("HZ010102").path
    with pytest.raises(NotAuthorized):
        services.update_record(as_actor(editor), station, org=org("HZ0102"))


def test_deactivation_keeps_the_record_and_is_audited(editor):
    feeder = b.feeder()
    services.set_active(as_actor(editor), feeder, False, reason="退运")
    feeder.refresh_from_db()
    assert feeder.is_active is False
    entry = last_audit(object_type="grid.feeder", object_id=str(feeder.pk))
    assert entry.changes == {"is_active": [True, False]} and entry.reason == "退运"


def test_moving_an_area_to_another_feeder_is_audited_as_a_move(editor):
    first, second = b.feeder(code="FD-A"), b.feeder(code="FD-B")
    area = b.area(first)
    with pytest.raises(ValidationFailed) as refused:
        services.move_area(as_actor(editor), area, second, reason=" ")
    assert "reason" in refused.value.fields
    with pytest.raises(ValidationFailed):
        services.move_area(as_actor(editor), area, first, reason="同一线路")
    services.move_area(as_actor(editor), area, second, reason="线路切改")
    assert TransformerArea.objects.get(pk=area.pk).feeder == second
    entry = last_audit(object_type="grid.transformerarea", object_id=str(area.pk))
    assert entry.action == "area.move" and entry.reason == "线路切改"
    assert entry.changes["feeder_code"] == ["FD-A", "FD-B"]
    assert entry.changes["feeder_id"] == [first.pk, second.pk]


def test_transformer_can_move_between_areas_in_scope(editor):
    first, second = b.area(), b.area()
    transformer = services.create_transformer(b.system(), org=first.org, code="T9", capacity_kva="200", area=first)
    services.update_record(as_actor(editor), transformer, area=second)
    assert Transformer.objects.get(pk=transformer.pk).area == second
