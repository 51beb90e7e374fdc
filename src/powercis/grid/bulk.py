"""Bulk import and export of the grid topology: substations, feeders, transformer areas, transformers,
communities and buildings (the generic engine is ``core.bulkio``).

Records refer one level up by code (a feeder to its substation, an area to its feeder,
a building to its community), so a topology is loaded top-down, one file per level.
Codes follow the grid services' rule and never change.  Shapes (GeoJSON) are not
imported from spreadsheets; the map draws points until an outline is drawn or loaded.

Permission: ``grid.edit`` (the grid's own maintainers) or ``customers.import`` (the
archive migration role, which also loads the accounts that hang on the topology).
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from powercis.core.bulkio import cells as c
from powercis.core.bulkio.spec import Column, EntitySpec, Ref, geo_columns, org_column, register

from .models import Building, Community, Feeder, Substation, Transformer, TransformerArea
from .selectors import GRID_PERMS
from .services import CODE

CODE_RULE = gettext_noop("Use 1 to 32 letters, digits, '-', '_' or '.'.")
TOPOLOGY_PERMS = ("grid.edit", "customers.import")


def code_column(header_zh: str, header_en: str) -> Column:
    return Column("code", header_zh, header_en, c.Text(32, CODE, CODE_RULE), required=True)


def parent_column(key: str, header_zh: str, header_en: str, source: str, required: bool = False) -> Column:
    return Column(key, header_zh, header_en, c.Text(32), required=required, attr=None, source=source)


def voltage_column() -> Column:
    return Column("voltage_level", "电压等级", "Voltage level", c.Code("voltage_level"), required=True)


class TopologySpec(EntitySpec):
    key = "code"
    permissions = TOPOLOGY_PERMS


class SubstationSpec(TopologySpec):
    code = "substations"
    label = _("substations")
    model = Substation
    order = 50
    description = gettext_noop("Substations; import them before their feeders.")
    columns = (code_column("变电站编号", "Substation code"),
               Column("name", "变电站名称", "Name", c.Text(100), required=True),
               voltage_column(), *geo_columns(), org_column())


class FeederSpec(TopologySpec):
    code = "feeders"
    label = _("feeders")
    model = Feeder
    order = 51
    description = gettext_noop("Distribution lines (线路), each leaving a substation.")
    columns = (code_column("线路编号", "Feeder code"),
               Column("name", "线路名称", "Name", c.Text(100), required=True),
               parent_column("substation_code", "所属变电站编号", "Substation code", "substation__code"),
               voltage_column(), org_column())
    refs = (Ref("substation_code", Substation, "code", GRID_PERMS, attr="substation_id"),)


class AreaSpec(TopologySpec):
    code = "areas"
    label = _("transformer areas")
    model = TransformerArea
    order = 52
    description = gettext_noop("Transformer areas (台区), each on a feeder.")
    columns = (code_column("台区编号", "Area code"),
               Column("name", "台区名称", "Name", c.Text(100), required=True),
               parent_column("feeder_code", "所属线路编号", "Feeder code", "feeder__code"),
               Column("ownership", "台区性质", "Ownership", c.Choice({
                   TransformerArea.Ownership.PUBLIC: ("公变", "公用", "Public"),
                   TransformerArea.Ownership.PRIVATE: ("专变", "专用", "Private"),
               }), default=TransformerArea.Ownership.PUBLIC),
               Column("capacity_kva", "容量(kVA)", "Capacity (kVA)", c.Number(10, 1), default=Decimal("0")),
               *geo_columns(), org_column())
    refs = (Ref("feeder_code", Feeder, "code", GRID_PERMS, attr="feeder_id"),)


class TransformerSpec(TopologySpec):
    code = "transformers"
    label = _("transformers")
    model = Transformer
    order = 53
    description = gettext_noop("Distribution transformers with their nameplate losses (for transformer loss, DL/T 686).")
    columns = (code_column("变压器编号", "Transformer code"),
               parent_column("area_code", "所属台区编号", "Area code", "area__code"),
               Column("model_name", "型号", "Model", c.Text(60), default=""),
               Column("capacity_kva", "额定容量(kVA)", "Capacity (kVA)", c.Number(10, 1, minimum=Decimal("0.1")),
                      required=True),
               Column("no_load_loss_kw", "空载损耗P0(kW)", "No-load loss P0 (kW)", c.Number(8, 3)),
               Column("load_loss_kw", "负载损耗Pk(kW)", "Load loss Pk (kW)", c.Number(8, 3)),
               Column("no_load_current_pct", "空载电流I0(%)", "No-load current I0 (%)", c.Number(6, 3)),
               Column("impedance_voltage_pct", "短路阻抗Uk(%)", "Impedance voltage Uk (%)", c.Number(6, 3)),
               org_column())
    refs = (Ref("area_code", TransformerArea, "code", GRID_PERMS, attr="area_id"),)


class CommunitySpec(TopologySpec):
    code = "communities"
    label = _("communities")
    model = Community
    order = 54
    description = gettext_noop("Residential communities and parks (小区/园区) that the map groups accounts by.")
    columns = (code_column("小区编号", "Community code"),
               Column("name", "小区名称", "Name", c.Text(100), required=True),
               Column("address", "地址", "Address", c.Text(200), default=""),
               *geo_columns(), org_column())


class BuildingSpec(TopologySpec):
    code = "buildings"
    label = _("buildings")
    model = Building
    order = 55
    description = gettext_noop("Buildings, each in a community.")
    columns = (code_column("楼栋编号", "Building code"),
               Column("name", "楼栋名称", "Name", c.Text(100), required=True),
               parent_column("community_code", "所属小区编号", "Community code", "community__code", required=True),
               *geo_columns(), org_column())
    refs = (Ref("community_code", Community, "code", GRID_PERMS, attr="community_id"),)


for _spec in (SubstationSpec, FeederSpec, AreaSpec, TransformerSpec, CommunitySpec, BuildingSpec):
    register(_spec())
