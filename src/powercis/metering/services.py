"""Metering services: metering points, meter and CT/PT registration, install, remove and replace.

Installing or removing a CT/PT re-derives the point's multiplier (倍率, billing-rules §6.1)
and audits the change with the work order as its reference, so that the audit alert
for unreferenced changes of billing fields stays quiet for legitimate field work.
Install and removal reads are checked against the meter's registers and digits: they
are the start and end of the energy a bill will compute (§6.3).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from powercis.core import audit, authz, codelists
from powercis.core.context import Actor
from powercis.core.errors import ValidationFailed
from powercis.core.models import Org
from powercis.core.services.base import apply_changes, validated
from powercis.customers.models import Account, AccountStatus
from powercis.customers.signals import notify_accounts_changed

from .models import (
    REGISTERS,
    AssetStatus,
    InstrumentTransformer,
    Meter,
    MeterInstallation,
    MeteringPoint,
    TransformerInstallation,
)
from .selectors import current_meter_installation, multiplier_of, transformers_on

POINT_EDITABLE = {"name", "position", "transformer_area", "building", "route_order", "parent", "deduction",
                  "deduction_value", "deduction_checked_on", "usage_category", "longitude", "latitude", "is_active"}


def _same_company(field: str, obj, company_id: int) -> None:
    if obj is not None and obj.company_id != company_id:
        raise ValidationFailed(fields={field: [_("It belongs to another company.")]})


def check_deduction(point: MeteringPoint) -> None:
    """A deduction needs a parent point; a fixed ratio is a share (0–1), a fixed quantity a positive kWh figure."""
    if point.deduction == MeteringPoint.Deduction.NONE:
        return
    if point.parent_id is None:
        raise ValidationFailed(fields={"parent": [_("A fixed ratio or fixed quantity needs a parent metering point.")]})
    value = point.deduction_value
    if value is None:
        raise ValidationFailed(fields={"deduction_value": [_("This field is required.")]})
    if point.deduction == MeteringPoint.Deduction.FIXED_RATIO and not Decimal("0") < value < Decimal("1"):
        raise ValidationFailed(fields={"deduction_value": [_("A fixed ratio is a share between 0 and 1.")]})
    if point.deduction == MeteringPoint.Deduction.FIXED_QUANTITY and not value > 0:
        raise ValidationFailed(fields={"deduction_value": [_("A fixed quantity is a positive number of kWh.")]})


def check_parent(point: MeteringPoint) -> None:
    parent = point.parent
    if parent is None:
        return
    if parent.pk == point.pk or (parent.parent_id is not None and parent.parent_id == point.pk):
        raise ValidationFailed(fields={"parent": [_("A metering point cannot be its own parent.")]})
    if parent.account_id != point.account_id:
        raise ValidationFailed(fields={"parent": [_("A sub-metered point hangs under a point of the same account.")]})


@transaction.atomic
def create_point(actor: Actor, *, org: Org, code: str, voltage_level: str, kind: str = MeteringPoint.Kind.SETTLEMENT,
                 account: Account | None = None, reason: str = "", **fields) -> MeteringPoint:
    grant = authz.require(actor, "metering.edit", org)
    company_id = org.company_id or org.pk
    unknown = sorted(set(fields) - POINT_EDITABLE)
    if unknown:
        raise ValidationFailed(fields={k: [_("This field cannot be changed here.")] for k in unknown})
    if MeteringPoint.objects.filter(company_id=company_id, code=code).exists():
        raise ValidationFailed(fields={"code": [_("The metering point number %(no)s is already in use.") % {"no": code}]})
    _same_company("account", account, company_id)
    for name in ("transformer_area", "building", "parent"):
        _same_company(name, fields.get(name), company_id)
    if kind == MeteringPoint.Kind.SETTLEMENT and account is None:
        raise ValidationFailed(fields={"account": [_("A settlement metering point belongs to an account.")]})
    if account is not None and account.status == AccountStatus.CLOSED:
        raise ValidationFailed(fields={"account": [_("The account is closed.")]})
    codelists.check(company_id, {"voltage_level": ("voltage_level", voltage_level),
                                 "usage_category": ("usage_category", fields.get("usage_category", ""))})
    point = MeteringPoint(org=org, company_id=company_id, code=code, kind=kind, account=account,
                          voltage_level=voltage_level, **fields)
    check_parent(point)
    check_deduction(point)
    validated(point, exclude=["org_path"])
    point.save()
    audit.record_create(actor, point, org=org, grant=grant, reason=reason)
    if account is not None:
        notify_accounts_changed([account.pk])
    return point


@transaction.atomic
def update_point(actor: Actor, point: MeteringPoint, *, reason: str = "", ref: str = "", **changes) -> MeteringPoint:
    """Edit a point; moving it to another transformer area (户变关系) is audited like any change, with its reference."""
    point = MeteringPoint.objects.select_for_update().get(pk=point.pk)
    grant = authz.require(actor, "metering.edit", point.org)
    for name in ("transformer_area", "building", "parent"):
        if name in changes:
            _same_company(name, changes[name], point.company_id)
    if "usage_category" in changes:
        codelists.check(point.company_id, {"usage_category": ("usage_category", changes["usage_category"])})
    before = audit.snapshot(point)
    unknown = sorted(set(changes) - POINT_EDITABLE)
    if unknown:
        raise ValidationFailed(fields={k: [_("This field cannot be changed here.")] for k in unknown})
    for name, value in changes.items():
        setattr(point, name, value)
    check_parent(point)
    check_deduction(point)
    validated(point, exclude=["org_path"])
    point.save()
    audit.record_update(actor, point, before, grant=grant, reason=reason, ref=ref)
    return point


def check_registers(registers) -> list[str]:
    regs = [r for r in (registers or []) if r]
    bad = [r for r in regs if r not in REGISTERS]
    if bad or "total" not in regs:
        raise ValidationFailed(fields={"registers": [
            _("Registers are a list of %(codes)s and include total.") % {"codes": ", ".join(REGISTERS)}]})
    return [r for r in REGISTERS if r in regs]


@transaction.atomic
def register_meter(actor: Actor, *, org: Org, asset_no: str, registers=("total",), reason: str = "",
                   **fields) -> Meter:
    """Record a meter asset (in stock) with its registers and digits."""
    grant = authz.require(actor, "metering.edit", org)
    company_id = org.company_id or org.pk
    if Meter.objects.filter(company_id=company_id, asset_no=asset_no).exists():
        raise ValidationFailed(fields={"asset_no": [_("The asset number %(no)s is already in use.") % {"no": asset_no}]})
    meter = Meter(org=org, company_id=company_id, asset_no=asset_no, registers=check_registers(registers),
                  status=AssetStatus.IN_STOCK, **fields)
    if not 4 <= meter.digits <= 10:
        raise ValidationFailed(fields={"digits": [_("A register has 4 to 10 integer digits.")]})
    validated(meter, exclude=["org_path"])
    meter.save()
    audit.record_create(actor, meter, org=org, grant=grant, reason=reason)
    return meter


@transaction.atomic
def register_transformer(actor: Actor, *, org: Org, asset_no: str, kind: str, primary_rating, secondary_rating,
                         reason: str = "", **fields) -> InstrumentTransformer:
    grant = authz.require(actor, "metering.edit", org)
    company_id = org.company_id or org.pk
    if InstrumentTransformer.objects.filter(company_id=company_id, asset_no=asset_no).exists():
        raise ValidationFailed(fields={"asset_no": [_("The asset number %(no)s is already in use.") % {"no": asset_no}]})
    primary, secondary = _number(primary_rating, "primary_rating"), _number(secondary_rating, "secondary_rating")
    if not primary > 0 or not secondary > 0:
        raise ValidationFailed(fields={"secondary_rating": [_("Both ratings must be above zero.")]})
    it = InstrumentTransformer(org=org, company_id=company_id, asset_no=asset_no, kind=kind, primary_rating=primary,
                               secondary_rating=secondary, status=AssetStatus.IN_STOCK, **fields)
    validated(it, exclude=["org_path"])
    it.save()
    audit.record_create(actor, it, org=org, grant=grant, reason=reason)
    return it


def _number(raw, field: str) -> Decimal:
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, AttributeError) as exc:
        raise ValidationFailed(fields={field: [_("Enter a number.")]}) from exc
    if not value.is_finite():
        raise ValidationFailed(fields={field: [_("Enter a number.")]})
    return value


def checked_reads(meter: Meter, reads: dict, field: str) -> dict:
    """One read per register of the meter, each 0 ≤ read < 10^digits, kept as decimal strings."""
    reads = reads or {}
    missing = [r for r in meter.registers if reads.get(r) in (None, "")]
    extra = sorted(set(k for k, v in reads.items() if v not in (None, "")) - set(meter.registers))
    if missing or extra:
        raise ValidationFailed(fields={field: [
            _("Give one read for each register of meter %(meter)s: %(registers)s.")
            % {"meter": meter.asset_no, "registers": ", ".join(meter.registers)}]})
    limit = Decimal(10) ** meter.digits
    result = {}
    for register in meter.registers:
        value = _number(reads[register], field)
        if not Decimal("0") <= value < limit:
            raise ValidationFailed(fields={field: [
                _("The %(register)s read must be at least 0 and below %(limit)s.")
                % {"register": register, "limit": limit}]})
        result[register] = str(value)
    return result


def _refresh_multiplier(actor: Actor, point: MeteringPoint, ref: str, grant=None) -> None:
    installed = transformers_on(point)
    for kind in (InstrumentTransformer.Kind.CT, InstrumentTransformer.Kind.PT):
        ratios = {i.transformer.ratio for i in installed if i.transformer.kind == kind}
        if len(ratios) > 1:
            raise ValidationFailed(fields={"transformer": [
                _("All %(kind)s of one metering point must have the same ratio.") % {"kind": kind}]})
    multiplier = multiplier_of(installed)
    if multiplier != point.multiplier:
        before = audit.snapshot(point)
        point.multiplier = multiplier
        point.save(update_fields=["multiplier"])
        audit.record_update(actor, point, before, grant=grant, ref=ref)


def _work_ref(work_order_ref: str, fallback: str) -> str:
    return f"work-order:{work_order_ref}" if work_order_ref else fallback


@transaction.atomic
def install_meter(actor: Actor, point: MeteringPoint, meter: Meter, *, on: dt.date, reads: dict,
                  work_order_ref: str = "", reason: str = "") -> MeterInstallation:
    point = MeteringPoint.objects.select_for_update(of=("self",)).select_related("account").get(pk=point.pk)
    meter = Meter.objects.select_for_update().get(pk=meter.pk)
    grant = authz.require(actor, "metering.install", point.org)
    _same_company("meter", meter, point.company_id)
    if meter.status != AssetStatus.IN_STOCK:
        raise ValidationFailed(fields={"meter": [
            _("Meter %(meter)s is not in stock (%(status)s).") % {"meter": meter.asset_no,
                                                                  "status": meter.get_status_display()}]})
    current = current_meter_installation(point)
    if current is not None:
        raise ValidationFailed(fields={"meter": [
            _("Meter %(meter)s is still installed here; replace it instead.") % {"meter": current.meter.asset_no}]})
    last = MeterInstallation.objects.filter(metering_point=point).order_by("-removed_on").first()
    if last is not None and last.removed_on and on < last.removed_on:
        raise ValidationFailed(fields={"on": [
            _("The previous meter was removed on %(date)s; install on or after it.") % {"date": last.removed_on}]})
    if point.account is not None and point.account.status == AccountStatus.CLOSED:
        raise ValidationFailed(_("The account is closed."))
    inst = MeterInstallation.objects.create(metering_point=point, meter=meter, installed_on=on,
                                            install_reads=checked_reads(meter, reads, "reads"),
                                            work_order_ref=work_order_ref, installed_by=actor.user)
    meter.status = AssetStatus.INSTALLED
    meter.save(update_fields=["status"])
    audit.record_create(actor, inst, org=point.org, grant=grant, reason=reason,
                        ref=_work_ref(work_order_ref, f"meter-installation:{inst.pk}"))
    if point.account_id:
        notify_accounts_changed([point.account_id])
    return inst


@transaction.atomic
def remove_meter(actor: Actor, installation: MeterInstallation, *, on: dt.date, reads: dict,
                 work_order_ref: str = "", reason: str = "") -> MeterInstallation:
    inst = MeterInstallation.objects.select_for_update().select_related("meter", "metering_point").get(
        pk=installation.pk)
    point = inst.metering_point
    grant = authz.require(actor, "metering.install", point.org)
    if inst.removed_on is not None:
        raise ValidationFailed(_("This meter was already removed on %(date)s.") % {"date": inst.removed_on})
    if on < inst.installed_on:
        raise ValidationFailed(fields={"on": [
            _("The meter was installed on %(date)s; it cannot be removed before.") % {"date": inst.installed_on}]})
    before = audit.snapshot(inst)
    inst.removed_on = on
    inst.removal_reads = checked_reads(inst.meter, reads, "reads")
    inst.removed_by = actor.user
    inst.work_order_ref = work_order_ref or inst.work_order_ref
    inst.save()
    Meter.objects.filter(pk=inst.meter_id).update(status=AssetStatus.REMOVED)
    audit.record_update(actor, inst, before, grant=grant, reason=reason,
                        ref=_work_ref(work_order_ref, f"meter-installation:{inst.pk}"))
    if point.account_id:
        notify_accounts_changed([point.account_id])
    return inst


@transaction.atomic
def replace_meter(actor: Actor, point: MeteringPoint, new_meter: Meter, *, on: dt.date, removal_reads: dict,
                  install_reads: dict, work_order_ref: str = "", reason: str = "") -> MeterInstallation:
    """换表: remove the installed meter and install another on the same day, as one operation (§6.3)."""
    current = current_meter_installation(point)
    if current is None:
        raise ValidationFailed(_("No meter is installed on this metering point; install one instead."))
    remove_meter(actor, current, on=on, reads=removal_reads, work_order_ref=work_order_ref, reason=reason)
    return install_meter(actor, point, new_meter, on=on, reads=install_reads, work_order_ref=work_order_ref,
                         reason=reason)


@transaction.atomic
def install_transformer(actor: Actor, point: MeteringPoint, transformer: InstrumentTransformer, *, on: dt.date,
                        phase: str = "", work_order_ref: str = "", reason: str = "") -> TransformerInstallation:
    point = MeteringPoint.objects.select_for_update().get(pk=point.pk)
    transformer = InstrumentTransformer.objects.select_for_update().get(pk=transformer.pk)
    grant = authz.require(actor, "metering.install", point.org)
    _same_company("transformer", transformer, point.company_id)
    if transformer.status != AssetStatus.IN_STOCK:
        raise ValidationFailed(fields={"transformer": [
            _("%(asset)s is not in stock (%(status)s).") % {"asset": transformer.asset_no,
                                                            "status": transformer.get_status_display()}]})
    inst = TransformerInstallation.objects.create(metering_point=point, transformer=transformer, installed_on=on,
                                                  phase=phase, work_order_ref=work_order_ref,
                                                  installed_by=actor.user)
    transformer.status = AssetStatus.INSTALLED
    transformer.save(update_fields=["status"])
    ref = _work_ref(work_order_ref, f"transformer-installation:{inst.pk}")
    audit.record_create(actor, inst, org=point.org, grant=grant, reason=reason, ref=ref)
    _refresh_multiplier(actor, point, ref, grant)
    return inst


@transaction.atomic
def remove_transformer(actor: Actor, installation: TransformerInstallation, *, on: dt.date,
                       work_order_ref: str = "", reason: str = "") -> TransformerInstallation:
    inst = TransformerInstallation.objects.select_for_update().select_related("metering_point").get(
        pk=installation.pk)
    point = inst.metering_point
    grant = authz.require(actor, "metering.install", point.org)
    if inst.removed_on is not None:
        raise ValidationFailed(_("This transformer was already removed on %(date)s.") % {"date": inst.removed_on})
    if on < inst.installed_on:
        raise ValidationFailed(fields={"on": [
            _("It was installed on %(date)s; it cannot be removed before.") % {"date": inst.installed_on}]})
    before = audit.snapshot(inst)
    inst.removed_on = on
    inst.removed_by = actor.user
    inst.save()
    InstrumentTransformer.objects.filter(pk=inst.transformer_id).update(status=AssetStatus.REMOVED)
    ref = _work_ref(work_order_ref, f"transformer-installation:{inst.pk}")
    audit.record_update(actor, inst, before, grant=grant, reason=reason, ref=ref)
    _refresh_multiplier(actor, point, ref, grant)
    return inst


def update_meter(actor: Actor, meter: Meter, *, reason: str = "", **changes) -> Meter:
    """Edit descriptive fields of a meter asset (registers and digits only while it is in stock)."""
    with transaction.atomic():
        meter = Meter.objects.select_for_update().get(pk=meter.pk)
        grant = authz.require(actor, "metering.edit", meter.org)
        allowed = {"meter_type", "accuracy_class", "manufacturer", "model_name", "rated_current", "rated_voltage",
                   "constant", "comm_address", "manufactured_on", "verified_on", "phase"}
        if meter.status == AssetStatus.IN_STOCK:
            allowed |= {"registers", "digits", "decimals"}
            if "registers" in changes:
                changes["registers"] = check_registers(changes["registers"])
        apply_changes(actor, meter, changes, allowed=allowed, grant=grant, reason=reason,
                      exclude_validation=["org_path"])
        return meter
