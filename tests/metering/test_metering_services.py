"""Metering points, meters and CT/PT: derived multiplier by date, install/remove/replace with reads, sub-metering."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from powercis.core.errors import NotAuthorized, ValidationFailed
from powercis.core.models import AuditAlert, AuditRecord
from powercis.metering import selectors, services
from powercis.metering.models import AssetStatus, MeterInstallation, MeteringPoint
from tests import archive_factory as make

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def hv_point(org):
    account = make.industrial_account("HZ010101", opened_on=D(2024, 1, 1))
    return services.create_point(make.system(), org=org("HZ010101"), code=f"HV{account.pk}", voltage_level="AC10KV",
                                 account=account)


def ct_pt(org, suffix, ct=("150", "5"), pt=("10000", "100")):
    s = make.system()
    o = org("HZ010101")
    cts = [services.register_transformer(s, org=o, asset_no=f"CT{suffix}{p}", kind="CT", primary_rating=ct[0],
                                         secondary_rating=ct[1]) for p in "AC"]
    pts = [services.register_transformer(s, org=o, asset_no=f"PT{suffix}{p}", kind="PT", primary_rating=pt[0],
                                         secondary_rating=pt[1]) for p in "AC"]
    return cts, pts


def test_multiplier_is_ct_ratio_times_pt_ratio_and_dated(org, hv_point, actor):
    cts, pts = ct_pt(org, "a")
    for it, phase in zip(cts + pts, "ACAC"):
        services.install_transformer(actor("metering"), hv_point, it, on=D(2024, 1, 1), phase=phase,
                                     work_order_ref="WO-1")
    hv_point.refresh_from_db()
    assert hv_point.multiplier == Decimal("3000.00")  # billing-rules §6.1: PT 10000/100 × CT 150/5
    # the CTs are replaced by 300/5 ones on 2025-03-01: the multiplier doubles from that day only
    new_cts, _ = ct_pt(org, "b", ct=("300", "5"))
    for inst in [i for i in selectors.transformers_on(hv_point) if i.transformer.kind == "CT"]:
        services.remove_transformer(actor("metering"), inst, on=D(2025, 3, 1), work_order_ref="WO-2")
    for it, phase in zip(new_cts, "AC"):
        services.install_transformer(actor("metering"), hv_point, it, on=D(2025, 3, 1), phase=phase,
                                     work_order_ref="WO-2")
    hv_point.refresh_from_db()
    assert hv_point.multiplier == Decimal("6000.00")
    assert selectors.multiplier_as_of(hv_point, D(2025, 2, 28)) == Decimal("3000.00")
    assert selectors.multiplier_as_of(hv_point, D(2025, 3, 1)) == Decimal("6000.00")
    changes = AuditRecord.objects.filter(object_type="metering.meteringpoint", object_id=str(hv_point.pk),
                                         action="update").order_by("seq")
    assert [r.changes["multiplier"][1] for r in changes][-1] == "6000.00"
    assert all(r.ref == "work-order:WO-2" or r.ref == "work-order:WO-1" for r in changes)
    assert not AuditAlert.objects.filter(record__in=changes).exists()


def test_mixed_ct_ratios_on_one_point_are_refused(org, hv_point):
    cts, _ = ct_pt(org, "c")
    odd, _ = ct_pt(org, "d", ct=("200", "5"))
    services.install_transformer(make.system(), hv_point, cts[0], on=D(2024, 1, 1), phase="A")
    with pytest.raises(ValidationFailed):
        services.install_transformer(make.system(), hv_point, odd[0], on=D(2024, 1, 1), phase="C")
    odd[0].refresh_from_db()
    assert odd[0].status == AssetStatus.IN_STOCK


def test_install_reads_must_match_the_meter_registers_and_digits(org, hv_point):
    meter = services.register_meter(make.system(), org=org("HZ010101"), asset_no="R1",
                                    registers=["total", "peak", "valley"], digits=6)
    bad = [{"total": "1"}, {"total": "1", "peak": "0", "valley": "0", "reactive": "0"},
           {"total": "1000000", "peak": "0", "valley": "0"}, {"total": "-1", "peak": "0", "valley": "0"},
           {"total": "x", "peak": "0", "valley": "0"}]
    for reads in bad:
        with pytest.raises(ValidationFailed):
            services.install_meter(make.system(), hv_point, meter, on=D(2024, 1, 1), reads=reads)
    assert not MeterInstallation.objects.filter(meter=meter).exists()
    inst = services.install_meter(make.system(), hv_point, meter, on=D(2024, 1, 1),
                                  reads={"total": "999999.99", "peak": "1", "valley": "2"})
    assert inst.install_reads == {"total": "999999.99", "peak": "1", "valley": "2"}
    meter.refresh_from_db()
    assert meter.status == AssetStatus.INSTALLED


def test_replace_meter_closes_the_old_installation_with_its_reads(org, hv_point, actor):
    o = org("HZ010101")
    old = services.register_meter(make.system(), org=o, asset_no="OLD1", registers=["total"])
    new = services.register_meter(make.system(), org=o, asset_no="NEW1", registers=["total", "peak", "flat", "valley"])
    services.install_meter(make.system(), hv_point, old, on=D(2024, 1, 1), reads={"total": "100"})
    with pytest.raises(ValidationFailed):
        services.install_meter(make.system(), hv_point, new, on=D(2024, 5, 1), reads={"total": "0", "peak": "0",
                                                                                     "flat": "0", "valley": "0"})
    with pytest.raises(NotAuthorized):
        services.replace_meter(actor("clerk"), hv_point, new, on=D(2024, 5, 1), removal_reads={"total": "150"},
                               install_reads={"total": "0", "peak": "0", "flat": "0", "valley": "0"})
    inst = services.replace_meter(actor("metering"), hv_point, new, on=D(2024, 5, 1), removal_reads={"total": "150"},
                                  install_reads={"total": "0", "peak": "0", "flat": "0", "valley": "0"},
                                  work_order_ref="HB-9")
    history = list(selectors.meter_history(hv_point))
    assert [h.meter.asset_no for h in history] == ["NEW1", "OLD1"]
    assert history[1].removed_on == D(2024, 5, 1) and history[1].removal_reads == {"total": "150"}
    assert selectors.meter_installation_on(hv_point, D(2024, 4, 30)).meter.asset_no == "OLD1"
    assert selectors.meter_installation_on(hv_point, D(2024, 5, 1)).pk == inst.pk
    old.refresh_from_db()
    assert old.status == AssetStatus.REMOVED
    with pytest.raises(ValidationFailed):  # removed meters are not in stock
        services.install_meter(make.system(), hv_point, old, on=D(2024, 6, 1), reads={"total": "150"})


def test_sub_metering_rules(org, hv_point):
    o = org("HZ010101")
    account = hv_point.account
    for deduction, value, field in (("fixed_ratio", Decimal("1.2"), "deduction_value"),
                                    ("fixed_quantity", Decimal("0"), "deduction_value"),
                                    ("fixed_ratio", None, "deduction_value")):
        with pytest.raises(ValidationFailed) as err:
            services.create_point(make.system(), org=o, code=f"S{deduction}{value}", voltage_level="AC380V",
                                  account=account, parent=hv_point, deduction=deduction, deduction_value=value)
        assert field in err.value.fields
    with pytest.raises(ValidationFailed) as err:
        services.create_point(make.system(), org=o, code="S-noparent", voltage_level="AC380V", account=account,
                              deduction="fixed_quantity", deduction_value=Decimal("500"))
    assert "parent" in err.value.fields
    lighting = services.create_point(make.system(), org=o, code=f"L{hv_point.pk}", voltage_level="AC380V",
                                     account=account, parent=hv_point, deduction="fixed_quantity",
                                     deduction_value=Decimal("800"), usage_category="CI_1")
    assert list(hv_point.children.all()) == [lighting]
    other = make.account("HZ010101")
    with pytest.raises(ValidationFailed) as err:
        services.create_point(make.system(), org=o, code="S-foreign", voltage_level="AC220V", account=other,
                              parent=hv_point, deduction="fixed_ratio", deduction_value=Decimal("0.1"))
    assert "parent" in err.value.fields


def test_settlement_points_need_an_account_and_codes_are_checked(org):
    o = org("HZ010101")
    with pytest.raises(ValidationFailed) as err:
        services.create_point(make.system(), org=o, code="NOACC", voltage_level="AC220V")
    assert "account" in err.value.fields
    with pytest.raises(ValidationFailed) as err:
        services.create_point(make.system(), org=o, code="ASSESS", voltage_level="AC999V", kind="assessment")
    assert "voltage_level" in err.value.fields
    point = services.create_point(make.system(), org=o, code="ASSESS", voltage_level="AC380V", kind="assessment")
    assert point.kind == MeteringPoint.Kind.ASSESSMENT and point.multiplier == Decimal("1")


def test_meter_registers_are_checked(org):
    with pytest.raises(ValidationFailed):
        services.register_meter(make.system(), org=org("HZ010101"), asset_no="BAD1", registers=["peak"])
    with pytest.raises(ValidationFailed):
        services.register_meter(make.system(), org=org("HZ010101"), asset_no="BAD2", registers=["total", "bogus"])
    meter = services.register_meter(make.system(), org=org("HZ010101"), asset_no="OK1",
                                    registers=["valley", "total", "peak"])
    assert meter.registers == ["total", "peak", "valley"]


def test_metering_pages_install_a_meter_and_honour_scope(client, staff, org, hv_point):
    from django.urls import reverse

    o = org("HZ010101")
    services.register_meter(make.system(), org=o, asset_no="PAGE1", registers=["total", "peak"])
    client.force_login(staff("metering"))
    for name in ("point_list", "meter_list", "transformer_list", "meter_register", "transformer_register"):
        assert client.get(reverse(f"metering:{name}")).status_code == 200
    url = reverse("metering:point_detail", args=[hv_point.pk])
    form = client.get(url + "?asset_no=PAGE1").content.decode()
    assert 'name="install_total"' in form and 'name="install_peak"' in form
    response = client.post(url, {"asset_no": "PAGE1", "action": "install", "on": "2024-02-01", "install_total": "12.5",
                                 "install_peak": "3", "work_order_ref": "ZB-1", "reason": ""})
    assert response.status_code == 302
    inst = selectors.current_meter_installation(hv_point)
    assert (inst.meter.asset_no, inst.install_reads, inst.work_order_ref) == ("PAGE1", {"total": "12.5", "peak": "3"},
                                                                            "ZB-1")
    other = services.create_point(make.system(), org=org("HZ010201"), code="FAR1", voltage_level="AC380V",
                                  kind="assessment")
    assert client.get(reverse("metering:point_detail", args=[other.pk])).status_code == 404
    client.force_login(staff("clerk"))  # may look, may not install
    page = client.get(url).content.decode()
    assert "PAGE1" in page and 'id="install-form"' not in page


def test_ct_install_and_removal_through_the_page(client, staff, org, hv_point):
    from django.urls import reverse

    cts, _pts = ct_pt(org, "pg")
    client.force_login(staff("metering"))
    client.post(reverse("metering:point_transformer_install", args=[hv_point.pk]),
                {"asset_no": cts[0].asset_no, "phase": "A", "on": "2024-01-01", "work_order_ref": "ZB-2"})
    hv_point.refresh_from_db()
    assert hv_point.multiplier == Decimal("30.00")
    inst = selectors.transformers_on(hv_point)[0]
    client.post(reverse("metering:point_transformer_remove", args=[inst.pk]), {"on": ""})
    assert selectors.transformers_on(hv_point) == [inst]  # no date: nothing removed
    client.post(reverse("metering:point_transformer_remove", args=[inst.pk]), {"on": "2024-06-01"})
    hv_point.refresh_from_db()
    assert selectors.transformers_on(hv_point) == [] and hv_point.multiplier == Decimal("1.00")
