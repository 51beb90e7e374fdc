"""Account changes through the approval engine, and the effective-dated attributes they leave behind."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from powercis.core.errors import NotAuthorized, SeparationOfDutiesViolation, ValidationFailed
from powercis.core.models import AuditAlert, AuditRecord
from powercis.core.services import approvals
from powercis.customers.models import AccountChange, AccountStatus, ChangeKind
from powercis.customers.selectors import account_as_of
from powercis.customers.services import changes, versions
from tests import archive_factory as make

pytestmark = pytest.mark.django_db

D = dt.date


def request_and_approve(actor, account, kind, effective_date, values=None, end_date=None, approver="manager"):
    doc = changes.request_change(actor("custmgr"), account, kind=kind, effective_date=effective_date,
                                 values=values or {}, end_date=end_date, reason="客户申请")
    approvals.approve(actor(approver), approvals.open_request(doc), comment="同意")
    doc.refresh_from_db()
    account.refresh_from_db()
    return doc


def test_an_account_starts_with_one_version_from_its_connection_date():
    account = make.account(opened_on=D(2024, 3, 1))
    assert account_as_of(account, D(2024, 2, 29)) is None
    first = account_as_of(account, D(2024, 3, 1))
    assert (first.valid_from, first.valid_to, first.usage_category, first.status) == (D(2024, 3, 1), None, "RES_T",
                                                                                        "NORMAL")


def test_capacity_increase_back_dated_is_in_force_from_its_date_only(actor):
    account = make.industrial_account(opened_on=D(2024, 1, 1))
    doc = request_and_approve(actor, account, ChangeKind.CAPACITY_INCREASE, D(2024, 6, 1),
                              {"contract_capacity": "800"})
    assert doc.approval_status == "approved" and doc.applied_at is not None
    assert account_as_of(account, D(2024, 5, 31)).contract_capacity == Decimal("630.0")
    after = account_as_of(account, D(2024, 6, 1))
    assert (after.contract_capacity, after.running_capacity, after.change_id) == (Decimal("800.0"), Decimal("800.0"),
                                                                                  doc.pk)
    assert account.contract_capacity == Decimal("800.0")
    assert [(v.valid_from, v.valid_to) for v in account.versions.order_by("valid_from")] == [
        (D(2024, 1, 1), D(2024, 6, 1)), (D(2024, 6, 1), None)]
    # the account's billing fields changed with the approval as reference: no unreferenced-change alert
    update = AuditRecord.objects.filter(object_type="customers.account", object_id=str(account.pk),
                                        action="update").latest("seq")
    assert update.ref.startswith("approval:") and update.changes["contract_capacity"] == ["630.0", "800.0"]
    assert not AuditAlert.objects.filter(record=update).exists()


def test_a_future_change_waits_for_its_date_and_the_daily_roll_forward_applies_it(actor, system_actor):
    today = timezone.localdate()
    account = make.account(opened_on=D(2024, 1, 1))
    request_and_approve(actor, account, ChangeKind.RECLASSIFY, today + dt.timedelta(days=10),
                        {"usage_category": "RES_C", "tariff_code": "RES-C-220"})
    assert (account.usage_category, account.tariff_code) == ("RES_T", "RES-T-220")
    assert account_as_of(account, today + dt.timedelta(days=10)).usage_category == "RES_C"
    assert versions.roll_forward(system_actor, today=today + dt.timedelta(days=9)) == 0
    assert versions.roll_forward(system_actor, today=today + dt.timedelta(days=10)) == 1
    account.refresh_from_db()
    assert (account.usage_category, account.tariff_code) == ("RES_C", "RES-C-220")
    assert versions.roll_forward(system_actor, today=today + dt.timedelta(days=11)) == 0


def test_a_change_dated_before_a_later_one_is_refused(actor):
    account = make.industrial_account(opened_on=D(2024, 1, 1))
    request_and_approve(actor, account, ChangeKind.CAPACITY_INCREASE, D(2024, 6, 1), {"contract_capacity": "800"})
    with pytest.raises(ValidationFailed) as err:
        changes.request_change(actor("custmgr"), account, kind=ChangeKind.CAPACITY_REDUCTION,
                               effective_date=D(2024, 5, 1), values={"contract_capacity": "500"}, reason="减容")
    assert "2024-06-01" in str(err.value.fields["effective_date"][0]) or "2024-06-01" in str(err.value.message)


def test_a_change_before_the_connection_date_is_refused(actor):
    account = make.account(opened_on=D(2024, 3, 1))
    with pytest.raises(ValidationFailed) as err:
        changes.request_change(actor("custmgr"), account, kind=ChangeKind.RENAME, effective_date=D(2024, 2, 1),
                               values={"name": "新户名"}, reason="更名")
    assert "effective_date" in err.value.fields
    assert not AccountChange.objects.filter(account=account).exists()


def test_reclassify_checks_codes_and_refuses_no_change(actor):
    account = make.account()
    with pytest.raises(ValidationFailed) as err:
        changes.request_change(actor("custmgr"), account, kind=ChangeKind.RECLASSIFY, effective_date=D(2025, 1, 1),
                               values={"usage_category": "NOPE"}, reason="改类")
    assert "usage_category" in err.value.fields
    with pytest.raises(ValidationFailed):
        changes.request_change(actor("custmgr"), account, kind=ChangeKind.RECLASSIFY, effective_date=D(2025, 1, 1),
                               values={"usage_category": "RES_T"}, reason="改类")
    assert not AccountChange.objects.filter(account=account).exists()


@pytest.mark.parametrize("kind,capacity", [(ChangeKind.CAPACITY_INCREASE, "500"),
                                           (ChangeKind.CAPACITY_INCREASE, "630"),
                                           (ChangeKind.CAPACITY_REDUCTION, "800"),
                                           (ChangeKind.CAPACITY_REDUCTION, "abc"),
                                           (ChangeKind.CAPACITY_REDUCTION, "-5")])
def test_capacity_changes_must_go_the_right_way(actor, kind, capacity):
    account = make.industrial_account()
    with pytest.raises(ValidationFailed) as err:
        changes.request_change(actor("custmgr"), account, kind=kind, effective_date=D(2025, 1, 1),
                               values={"contract_capacity": capacity}, reason="容量变更")
    assert "contract_capacity" in err.value.fields


def test_suspension_runs_from_start_to_planned_end(actor):
    account = make.industrial_account(opened_on=D(2024, 1, 1))
    request_and_approve(actor, account, ChangeKind.SUSPEND, D(2024, 7, 1), end_date=D(2024, 9, 1))
    during = account_as_of(account, D(2024, 8, 15))
    assert (during.status, during.running_capacity) == (AccountStatus.SUSPENDED, Decimal("0.0"))
    after = account_as_of(account, D(2024, 9, 1))
    assert (after.status, after.running_capacity, after.scheduled_resumption) == (AccountStatus.NORMAL,
                                                                                  Decimal("630.0"), True)
    assert account.status == AccountStatus.NORMAL  # today is after the planned end


def test_partial_suspension_reduces_the_running_capacity(actor):
    account = make.industrial_account(opened_on=D(2024, 1, 1))
    request_and_approve(actor, account, ChangeKind.SUSPEND, D(2024, 7, 1), {"suspended_capacity": "200"},
                        end_date=D(2024, 9, 1))
    during = account_as_of(account, D(2024, 8, 1))
    assert (during.status, during.running_capacity, during.contract_capacity) == ("NORMAL", Decimal("430.0"),
                                                                                  Decimal("630.0"))


def test_suspension_needs_an_end_date_after_its_start(actor):
    account = make.industrial_account()
    for end in (None, D(2024, 7, 1)):
        with pytest.raises(ValidationFailed) as err:
            changes.request_change(actor("custmgr"), account, kind=ChangeKind.SUSPEND, effective_date=D(2024, 7, 1),
                                   end_date=end, reason="暂停")
        assert "end_date" in err.value.fields


def test_early_resumption_replaces_the_planned_one(actor):
    today = timezone.localdate()
    account = make.industrial_account(opened_on=D(2024, 1, 1))
    start, planned_end = today - dt.timedelta(days=20), today + dt.timedelta(days=60)
    request_and_approve(actor, account, ChangeKind.SUSPEND, start, end_date=planned_end)
    assert account.status == AccountStatus.SUSPENDED
    resume_on = today - dt.timedelta(days=5)
    request_and_approve(actor, account, ChangeKind.RESUME, resume_on)
    assert account.status == AccountStatus.NORMAL and account.running_capacity == Decimal("630.0")
    assert not account.versions.filter(scheduled_resumption=True).exists()
    assert [v.valid_from for v in account.versions.order_by("valid_from")] == [D(2024, 1, 1), start, resume_on]
    assert account.versions.order_by("valid_from").last().valid_to is None


def test_resume_is_refused_for_an_account_that_is_not_suspended(actor):
    account = make.account()
    with pytest.raises(ValidationFailed):
        changes.request_change(actor("custmgr"), account, kind=ChangeKind.RESUME, effective_date=D(2025, 1, 1),
                               reason="恢复")


def test_rename_during_a_suspension_outlasts_it(actor):
    today = timezone.localdate()
    account = make.industrial_account(opened_on=D(2024, 1, 1))
    request_and_approve(actor, account, ChangeKind.SUSPEND, today - dt.timedelta(days=10),
                        end_date=today + dt.timedelta(days=30))
    request_and_approve(actor, account, ChangeKind.RENAME, today - dt.timedelta(days=5), {"name": "新名称有限公司"})
    assert account_as_of(account, today + dt.timedelta(days=31)).name == "新名称有限公司"
    assert account_as_of(account, today - dt.timedelta(days=6)).name != "新名称有限公司"


def test_transfer_changes_the_owner_from_its_date(actor):
    account = make.account(opened_on=D(2024, 1, 1))
    old_owner = account.customer
    new_owner = make.customer(name="王新户")
    request_and_approve(actor, account, ChangeKind.TRANSFER, D(2024, 10, 1), {"customer": new_owner.pk})
    assert account.customer_id == new_owner.pk and account.name == "王新户"
    assert account_as_of(account, D(2024, 9, 30)).customer_id == old_owner.pk
    with pytest.raises(ValidationFailed):
        changes.request_change(actor("custmgr"), account, kind=ChangeKind.TRANSFER, effective_date=D(2025, 1, 1),
                               values={"customer": new_owner.pk}, reason="过户")


def test_close_is_refused_while_a_meter_is_installed_then_allowed(actor, org):
    from powercis.metering import services as metering

    account = make.account(opened_on=D(2024, 1, 1))
    point = metering.create_point(make.system(), org=org("HZ010101"), code=f"MP{account.pk}", voltage_level="AC220V",
                                  account=account)
    meter = metering.register_meter(make.system(), org=org("HZ010101"), asset_no=f"M{account.pk}",
                                    registers=["total"])
    inst = metering.install_meter(make.system(), point, meter, on=D(2024, 1, 1), reads={"total": "0"})
    with pytest.raises(ValidationFailed) as err:
        changes.request_change(actor("custmgr"), account, kind=ChangeKind.CLOSE, effective_date=D(2025, 1, 1),
                               reason="销户")
    assert meter.asset_no in str(err.value.message)
    metering.remove_meter(make.system(), inst, on=D(2025, 1, 1), reads={"total": "1234.5"})
    request_and_approve(actor, account, ChangeKind.CLOSE, D(2025, 1, 1))
    assert (account.status, account.closed_on, account.running_capacity) == ("CLOSED", D(2025, 1, 1),
                                                                             Decimal("0.0"))
    with pytest.raises(ValidationFailed):
        changes.request_change(actor("custmgr"), account, kind=ChangeKind.RENAME, effective_date=D(2025, 2, 1),
                               values={"name": "x"}, reason="更名")


def test_close_re_checks_at_approval(actor, org):
    """A meter installed while the close waits for approval stops the close at approval time."""
    from powercis.metering import services as metering

    account = make.account(opened_on=D(2024, 1, 1))
    doc = changes.request_change(actor("custmgr"), account, kind=ChangeKind.CLOSE, effective_date=D(2025, 1, 1),
                                 reason="销户")
    point = metering.create_point(make.system(), org=org("HZ010101"), code=f"MQ{account.pk}", voltage_level="AC220V",
                                  account=account)
    meter = metering.register_meter(make.system(), org=org("HZ010101"), asset_no=f"N{account.pk}",
                                    registers=["total"])
    metering.install_meter(make.system(), point, meter, on=D(2024, 6, 1), reads={"total": "0"})
    with pytest.raises(ValidationFailed):
        approvals.approve(actor("manager"), approvals.open_request(doc), comment="同意")
    account.refresh_from_db()
    assert account.status == "NORMAL" and account.versions.count() == 1


def test_one_change_at_a_time_and_rejection_changes_nothing(actor):
    account = make.industrial_account(opened_on=D(2024, 1, 1))
    doc = changes.request_change(actor("custmgr"), account, kind=ChangeKind.CAPACITY_INCREASE,
                                 effective_date=D(2024, 6, 1), values={"contract_capacity": "800"}, reason="增容")
    with pytest.raises(ValidationFailed) as err:
        changes.request_change(actor("custmgr"), account, kind=ChangeKind.RENAME, effective_date=D(2024, 6, 1),
                               values={"name": "x"}, reason="更名")
    assert str(doc.pk) in str(err.value.message)
    approvals.reject(actor("manager"), approvals.open_request(doc), comment="资料不全")
    account.refresh_from_db()
    assert account.contract_capacity == Decimal("630.0") and account.versions.count() == 1


def test_who_may_request_and_approve(actor):
    account = make.industrial_account("HZ010101")
    with pytest.raises(NotAuthorized):  # a billing clerk views accounts but does not take changes
        changes.request_change(actor("clerk"), account, kind=ChangeKind.RENAME, effective_date=D(2025, 1, 1),
                               values={"name": "x"}, reason="更名")
    doc = changes.request_change(actor("custmgr"), account, kind=ChangeKind.RENAME, effective_date=D(2025, 1, 1),
                                 values={"name": "新名"}, reason="更名")
    with pytest.raises((NotAuthorized, SeparationOfDutiesViolation)):
        approvals.approve(actor("custmgr"), approvals.open_request(doc), comment="自批")


def test_a_county_account_manager_cannot_change_another_countys_account(actor):
    other = make.account("HZ010201")
    with pytest.raises(NotAuthorized):
        changes.request_change(actor("custmgr"), other, kind=ChangeKind.RENAME, effective_date=D(2025, 1, 1),
                               values={"name": "x"}, reason="更名")
    assert not AccountChange.objects.filter(account=other).exists()


def test_roll_forward_command(actor, capsys):
    from django.core.management import call_command

    today = timezone.localdate()
    account = make.account(opened_on=D(2024, 1, 1))
    request_and_approve(actor, account, ChangeKind.RENAME, today + dt.timedelta(days=3), {"name": "三天后的新名"})
    call_command("accounts", "roll-forward", "--date", (today + dt.timedelta(days=3)).isoformat())
    account.refresh_from_db()
    assert account.name == "三天后的新名" and "1" in capsys.readouterr().out
