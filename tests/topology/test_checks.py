"""The topology fault check finds each kind of fault on constructed data, none on a clean topology, in scope only."""

import pytest

from powercis.customers.models import Account, AccountStatus
from powercis.grid.models import Feeder, Substation
from powercis.metering.models import MeteringPoint
from powercis.topology import checks
from powercis.topology.checks import FaultKind
from tests import archive_factory as af
from tests.grid import builders as b

pytestmark = pytest.mark.django_db


def clean_area(org_code="HZ010101", **fields):
    """Substation → feeder → area with one assessment point carrying a meter, and one account on the area."""
    station = b.substation(org_code)
    feeder = b.feeder(station, org_code)
    area = b.area(feeder, org_code, **fields)
    b.install_meter(b.metering_point(area=area, kind="assessment", org_code=org_code))
    account = af.account(org_code)
    b.metering_point(account=account, area=area)
    return area


def rows(user, **kwargs):
    return list(checks.faults(user, **kwargs))


def test_a_clean_topology_has_no_fault(staff):
    clean_area()
    clean_area("HZ010201")
    assert rows(staff("custmgr")) == []
    assert checks.fault_counts(staff("auditor")) == dict.fromkeys(FaultKind.values, 0)


def test_each_fault_kind_is_found_with_its_object_and_reference(staff, system_actor):
    area = clean_area()
    # an account whose settlement point hangs on no area; a closed account's point is not a fault
    lost = af.account("HZ010101", account_no="A-LOST")
    b.metering_point(account=lost, area=None, code="MP-LOST")
    closed = af.account("HZ010101", account_no="A-CLOSED")
    b.metering_point(account=closed, area=None)
    Account.objects.filter(pk=closed.pk).update(status=AccountStatus.CLOSED)
    # an area with no assessment point, on a feeder whose substation is out of service
    station = b.substation(code="SS-OFF")
    Substation.objects.filter(pk=station.pk).update(is_active=False)
    b.area(b.feeder(station, code="FD-ORPH"), code="TA-BARE")
    # an area with two assessment points, one of them without a meter, on no feeder
    crowded = b.area(None, code="TA-TWO")
    b.install_meter(b.metering_point(area=crowded, kind="assessment"))
    b.metering_point(area=crowded, kind="assessment", code="MP-NOMETER")
    # an area whose feeder is out of service, and a feeder with no substation
    dead = b.feeder(None, code="FD-DEAD")
    Feeder.objects.filter(pk=dead.pk).update(is_active=False)
    b.install_meter(b.metering_point(area=b.area(dead, code="TA-DEAD"), kind="assessment"))
    found = {(r["fault"], r["obj_code"], r["ref"]) for r in rows(staff("custmgr"))}
    assert found == {
        (FaultKind.ACCOUNT_WITHOUT_AREA, "A-LOST", "MP-LOST"),
        (FaultKind.AREA_WITHOUT_ASSESSMENT_POINT, "TA-BARE", ""),
        (FaultKind.AREA_SEVERAL_ASSESSMENT_POINTS, "TA-TWO", "2"),
        (FaultKind.AREA_WITHOUT_FEEDER, "TA-TWO", ""),
        (FaultKind.AREA_WITHOUT_FEEDER, "TA-DEAD", "FD-DEAD"),
        (FaultKind.FEEDER_WITHOUT_SUBSTATION, "FD-ORPH", "SS-OFF"),
        (FaultKind.ASSESSMENT_POINT_WITHOUT_METER, "TA-TWO", "MP-NOMETER"),
    }
    assert area.code not in {code for _k, code, _r in found}
    assert checks.fault_counts(staff("custmgr"))[FaultKind.AREA_WITHOUT_FEEDER] == 2


def test_fixing_a_fault_removes_it(staff):
    area = b.area(b.feeder(b.substation()))
    assert [r["fault"] for r in rows(staff("custmgr"))] == [FaultKind.AREA_WITHOUT_ASSESSMENT_POINT]
    point = b.metering_point(area=area, kind="assessment")
    assert [r["fault"] for r in rows(staff("custmgr"))] == [FaultKind.ASSESSMENT_POINT_WITHOUT_METER]
    b.install_meter(point)
    assert rows(staff("custmgr")) == []
    MeteringPoint.objects.filter(pk=point.pk).update(is_active=False)  # a point out of service does not count
    assert [r["fault"] for r in rows(staff("custmgr"))] == [FaultKind.AREA_WITHOUT_ASSESSMENT_POINT]


def test_a_removed_meter_leaves_the_assessment_point_without_meter(staff):
    area = b.area(b.feeder(b.substation()))
    point = b.metering_point(area=area, kind="assessment", code="MP-RM")
    b.install_meter(point, removed_on=af.dt.date(2024, 6, 1))
    assert [(r["fault"], r["ref"]) for r in rows(staff("custmgr"))] == [
        (FaultKind.ASSESSMENT_POINT_WITHOUT_METER, "MP-RM")]


def test_scope_kind_and_org_filters(staff, org):
    b.area(None, "HZ010101", code="TA-LJ")
    b.area(None, "HZ010102", code="TA-HK")
    b.area(None, "HZ010201", code="TA-QS")
    lost = af.account("HZ010201", account_no="A-QS")
    b.metering_point(account=lost)
    custmgr = staff("custmgr")
    codes = {r["obj_code"] for r in rows(custmgr)}
    assert codes == {"TA-LJ", "TA-HK"}  # HZ0102 (青山区) is outside the account manager's scope
    assert {r["obj_code"] for r in rows(staff("auditor"))} >= {"TA-LJ", "TA-HK", "TA-QS", "A-QS"}
    only = rows(custmgr, kinds=[FaultKind.AREA_WITHOUT_FEEDER], org=org("HZ010102"))
    assert [(r["fault"], r["obj_code"]) for r in only] == [(FaultKind.AREA_WITHOUT_FEEDER, "TA-HK")]
    assert rows(staff("clerk")) == []  # no grid permission at all
    assert checks.fault_counts(custmgr)[FaultKind.ACCOUNT_WITHOUT_AREA] == 0


def test_rows_describe_themselves_and_link_to_their_object(staff):
    lost = af.account("HZ010101", account_no="A-DESC")
    b.metering_point(account=lost, code="MP-DESC")
    feeder = b.feeder(None, code="FD-DESC")
    by_kind = {r["fault"]: r for r in rows(staff("custmgr"))}
    account_row = by_kind[FaultKind.ACCOUNT_WITHOUT_AREA]
    assert "MP-DESC" in checks.describe(account_row)
    assert checks.object_url(account_row) == f"/customers/accounts/{lost.pk}/"
    feeder_row = by_kind[FaultKind.FEEDER_WITHOUT_SUBSTATION]
    assert checks.object_url(feeder_row) == f"/grid/feeders/{feeder.pk}/"
    assert feeder_row["org_name"] == "临江县供电公司"
