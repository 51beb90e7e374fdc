"""Topology, metering points and meters: references by code, in-file parents, 定比/定量 rules, installations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from powercis.core.bulkio import services
from powercis.grid.models import Building, Community, Feeder, Substation, Transformer, TransformerArea
from powercis.metering.models import Meter, MeterInstallation, MeteringPoint

from . import make

pytestmark = pytest.mark.django_db


def commit(actor, entity, header, rows, org="HZ0101"):
    batch = make.upload(actor, entity, make.csv_bytes(header, rows), org=org)
    assert batch.status == "validated", make.reasons(batch)
    return services.commit(actor, batch)


@pytest.fixture
def topology(custmgr):
    """One substation › feeder › two areas (one with a transformer) and a community with a building."""
    commit(custmgr, "substations", ["变电站编号", "变电站名称", "电压等级", "经度", "纬度", "供电单位编码"],
           [["SUB-1", "城关变", "AC110KV", "114.30", "30.60", "HZ010101"]])
    commit(custmgr, "feeders", ["线路编号", "线路名称", "所属变电站编号", "电压等级"],
           [["F-101", "城关线", "SUB-1", "AC10KV"]])
    commit(custmgr, "areas", ["台区编号", "台区名称", "所属线路编号", "台区性质", "容量(kVA)", "供电单位编码"],
           [["TA-1", "幸福小区1号台区", "F-101", "公变", "400", "HZ010101"],
            ["TA-2", "机械厂专变", "F-101", "专变", "630", "HZ010102"]])
    commit(custmgr, "transformers", ["变压器编号", "所属台区编号", "型号", "额定容量(kVA)", "空载损耗P0(kW)",
                                     "负载损耗Pk(kW)"], [["T-1", "TA-1", "S13-M-400/10", "400", "0.41", "4.52"]])
    commit(custmgr, "communities", ["小区编号", "小区名称", "地址", "经度", "纬度"],
           [["COM-1", "幸福小区", "城关镇幸福路", "114.31", "30.61"]])
    commit(custmgr, "buildings", ["楼栋编号", "楼栋名称", "所属小区编号"], [["B-1", "1栋", "COM-1"]])


def test_topology_is_loaded_top_down_by_codes(custmgr, topology):
    substation = Substation.objects.get(code="SUB-1")
    feeder = Feeder.objects.get(code="F-101")
    areas = {a.code: a for a in TransformerArea.objects.filter(code__in=["TA-1", "TA-2"])}
    assert (substation.voltage_level, substation.longitude, substation.org.code) == ("AC110KV", 114.3, "HZ010101")
    assert feeder.substation == substation and feeder.org.code == "HZ0101" and feeder.is_active
    assert Feeder.objects.filter(code="F-101", geometry__isnull=True).exists()  # SQL NULL, not JSON null
    assert areas["TA-1"].feeder == feeder and areas["TA-1"].ownership == "public"
    assert (areas["TA-2"].ownership, areas["TA-2"].capacity_kva, areas["TA-2"].org.code) == (
        "private", Decimal("630.0"), "HZ010102")
    transformer = Transformer.objects.get(code="T-1")
    assert (transformer.area, transformer.no_load_loss_kw, transformer.load_loss_kw) == (
        areas["TA-1"], Decimal("0.410"), Decimal("4.520"))
    building = Building.objects.get(code="B-1")
    assert building.community == Community.objects.get(code="COM-1") and building.is_active


def test_topology_errors(custmgr, topology, table_counts, english):
    before = table_counts()
    batch = make.upload(custmgr, "areas", make.csv_bytes(
        ["台区编号", "台区名称", "所属线路编号", "经度"],
        [["TA-9", "新台区", "F-999", "114.3"], ["TA 10", "坏编号", "", ""]]))
    assert table_counts() == before
    assert make.reasons(batch) == [
        (2, "所属线路编号", "F-999", "“F-999” was not found (or is outside your data scope)."),
        (2, "纬度", "", "Give both the longitude and the latitude, or neither."),
        (3, "台区编号", "TA 10", "Use 1 to 32 letters, digits, '-', '_' or '.'."),
    ]


@pytest.fixture
def accounts(topology):
    from tests.archive_factory import account

    return {n: account("HZ010101", account_no=n) for n in ("2000000001", "2000000002")}


POINT_HEADER = ["计量点编号", "计量点分类", "户号", "台区编号", "楼栋编号", "上级计量点编号", "电压等级", "扣减方式",
                "定比定量值", "用电类别", "抄表顺序"]


def test_metering_points_with_a_parent_later_in_the_file(custmgr, accounts):
    batch = commit(custmgr, "metering_points", POINT_HEADER, [
        ["MP-1-L", "结算", "2000000001", "TA-1", "B-1", "MP-1", "AC220V", "定比", "0.15", "RES", "2"],
        ["MP-1", "结算", "2000000001", "TA-1", "B-1", "", "AC220V", "", "", "", "1"],
        ["MP-TA-1", "考核", "", "TA-1", "", "", "AC10KV", "", "", "", ""],
        ["MP-2-Q", "settlement", "2000000002", "TA-1", "", "MP-2", "AC220V", "定量", "300", "", "4"],
        ["MP-2", "settlement", "2000000002", "TA-1", "", "", "AC220V", "none", "", "", "3"],
    ])
    points = {p.code: p for p in MeteringPoint.objects.filter(code__startswith="MP-")}
    assert batch.written == {"metering.meteringpoint": 5}
    child, parent = points["MP-1-L"], points["MP-1"]
    assert child.parent == parent and (child.deduction, child.deduction_value) == ("fixed_ratio", Decimal("0.1500"))
    assert (child.usage_category, child.route_order, child.multiplier, child.kind) == ("RES", 2, Decimal("1"),
                                                                                       "settlement")
    assert child.account == accounts["2000000001"] and child.building.code == "B-1"
    assert child.transformer_area.code == "TA-1" and child.org_path == child.org.path
    assessment = points["MP-TA-1"]
    assert (assessment.kind, assessment.account, assessment.parent) == ("assessment", None, None)
    assert points["MP-2-Q"].deduction_value == Decimal("300.0000") and points["MP-2-Q"].parent == points["MP-2"]


def test_metering_point_rules(custmgr, accounts, table_counts, english):
    commit(custmgr, "metering_points", POINT_HEADER, [["MP-9", "结算", "2000000002", "TA-1", "", "", "AC220V", "",
                                                      "", "", ""]])
    before = table_counts()
    batch = make.upload(custmgr, "metering_points", make.csv_bytes(POINT_HEADER, [
        ["MP-A", "结算", "", "TA-1", "", "", "AC220V", "", "", "", ""],  # settlement without an account
        ["MP-B", "结算", "2000000001", "", "", "MP-C", "AC220V", "定比", "1.5", "", ""],  # ratio above 1
        ["MP-C", "结算", "2000000001", "", "", "MP-B", "AC220V", "", "", "", ""],  # … and they form a loop
        ["MP-D", "结算", "2000000001", "", "", "", "AC220V", "定量", "100", "", ""],  # deduction without parent
        ["MP-E", "结算", "2000000001", "", "", "MP-9", "AC220V", "定量", "100", "", ""],  # parent of another account
    ]))
    assert table_counts() == before
    assert make.reasons(batch) == [
        (2, "户号", "", "A settlement metering point belongs to an account."),
        (3, "上级计量点编号", "MP-C", "The parent points of this row lead back to it."),
        (4, "上级计量点编号", "MP-B", "The parent points of this row lead back to it."),
        (5, "上级计量点编号", "", "A fixed ratio or fixed quantity needs a parent metering point."),
        (6, "上级计量点编号", "MP-9", "A sub-metered point hangs under a point of the same account."),
    ]


METER_HEADER = ["资产编号", "接线方式", "示数类型", "整数位数", "出厂日期", "安装计量点编号", "装表日期",
                "装表示数-总", "装表示数-峰", "装表示数-平", "装表示数-谷"]


@pytest.fixture
def points(custmgr, accounts):
    commit(custmgr, "metering_points", POINT_HEADER, [
        ["MP-1", "结算", "2000000001", "TA-1", "", "", "AC220V", "", "", "", ""],
        ["MP-2", "结算", "2000000002", "TA-1", "", "", "AC220V", "", "", "", ""],
    ])


def test_meters_in_stock_and_installed(custmgr, points, django_capture_on_commit_callbacks):
    batch = commit(custmgr, "meters", METER_HEADER, [
        ["M-1", "单相", "总,峰,平,谷", "6", "2024-01-10", "MP-1", "2024-03-01", "12.5", "4", "5.5", "3"],
        ["M-2", "三相四线", "total", "8", "", "", "", "", "", "", ""],
    ])
    meters = {m.asset_no: m for m in Meter.objects.filter(asset_no__in=["M-1", "M-2"])}
    assert (meters["M-1"].status, meters["M-1"].registers, meters["M-1"].phase) == (
        "installed", ["total", "peak", "flat", "valley"], "1P")
    assert (meters["M-2"].status, meters["M-2"].registers, meters["M-2"].digits) == ("in_stock", ["total"], 8)
    installation = MeterInstallation.objects.get(meter=meters["M-1"])
    assert installation.metering_point.code == "MP-1" and installation.installed_on == dt.date(2024, 3, 1)
    assert installation.install_reads == {"total": "12.5", "peak": "4", "flat": "5.5", "valley": "3"}
    assert installation.work_order_ref == f"import-batch:{batch.pk}" and installation.removed_on is None
    assert installation.installed_by_id == custmgr.user.pk
    assert batch.written == {"metering.meter": 2, "metering.meterinstallation": 1}
    # the export shows where each meter hangs now
    name, content_type, stream = services.export(custmgr, entity="meters", org=custmgr.user.org, fmt="csv")
    lines = b"".join(stream).decode("utf-8-sig").splitlines()
    assert lines[1:] == ['M-1,1P,smart,2,,,,,,"total,peak,flat,valley",6,2,,2024-01-10,,HZ0101,MP-1,2024-03-01',
                         "M-2,3P4W,smart,2,,,,,,total,8,2,,,,HZ0101,,"]


def test_meter_rules(custmgr, points, table_counts, english):
    commit(custmgr, "meters", METER_HEADER, [["M-1", "", "total", "", "", "MP-1", "2024-01-01", "1", "", "", ""]])
    before = table_counts()
    batch = make.upload(custmgr, "meters", make.csv_bytes(METER_HEADER, [
        ["M-2", "", "峰,谷", "", "", "", "", "", "", "", ""],  # no total register
        ["M-3", "", "total,peak", "", "", "MP-1", "2024-02-01", "1", "2", "", ""],  # MP-1 has a meter
        ["M-4", "", "total,peak", "", "", "MP-2", "2024-02-01", "1", "", "", ""],  # a read missing
        ["M-5", "", "total", "4", "", "MP-2", "2024-02-01", "10000", "", "", ""],  # read beyond 4 digits; MP-2 twice
        ["M-6", "", "total", "", "", "", "2024-02-01", "1", "", "", ""],  # install data without a point
        ["M-7", "", "total", "", "2024-05-01", "MP-X", "", "1", "", "", ""],  # unknown point
        ["M-8", "", "totl", "", "", "", "", "", "", "", ""],  # unknown register
    ]))
    assert table_counts() == before
    reasons = make.reasons(batch)
    assert reasons[:3] == [
        (2, "示数类型", "峰,谷", "Registers are a list of total, sharp, peak, flat, valley, reactive, demand, reverse "
                               "and include total."),
        (3, "安装计量点编号", "MP-1", "Meter M-1 is still installed here; replace it instead."),
        (4, "装表示数-总", "1", "Give one read for each register of meter M-4: total, peak."),
    ]
    assert reasons[3:5] == [(5, "安装计量点编号", "MP-2", "Row 4 installs a meter on the same metering point."),
                            (6, "装表日期", "2024-02-01", "Only with a metering point to install the meter on.")]
    assert reasons[5:7] == [(6, "装表示数-总", "1", "Only with a metering point to install the meter on."),
                            (7, "安装计量点编号", "MP-X", "“MP-X” was not found (or is outside your data scope).")]
    assert reasons[7][:3] == (8, "示数类型", "totl") and reasons[7][3].startswith("Not one of: total (总)")
    assert len(reasons) == 8
