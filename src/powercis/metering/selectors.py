"""Read queries of metering: scoped lists, what was installed on a date, the multiplier on a date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Q, QuerySet

from powercis.core import authz

from .models import InstrumentTransformer, Meter, MeterInstallation, MeteringPoint, TransformerInstallation

VIEW_PERMS = ("metering.view", "metering.edit", "metering.install", "customers.view")


def visible_points(user) -> QuerySet:
    return authz.restrict_any(
        MeteringPoint.objects.select_related("account", "transformer_area", "org"), user, VIEW_PERMS,
        path_field="org_path")


def visible_meters(user) -> QuerySet:
    return authz.restrict_any(Meter.objects.select_related("org"), user, VIEW_PERMS, path_field="org_path")


def visible_transformers(user) -> QuerySet:
    return authz.restrict_any(InstrumentTransformer.objects.select_related("org"), user, VIEW_PERMS,
                              path_field="org_path")


def _on(on: dt.date) -> Q:
    """Installed on or before ``on`` and not removed by then (a removal day belongs to the next meter)."""
    return Q(installed_on__lte=on) & (Q(removed_on__isnull=True) | Q(removed_on__gt=on))


def meter_installation_on(point: MeteringPoint, on: dt.date) -> MeterInstallation | None:
    return (MeterInstallation.objects.filter(_on(on), metering_point=point).select_related("meter")
            .order_by("-installed_on", "-id").first())


def current_meter_installation(point: MeteringPoint) -> MeterInstallation | None:
    return (MeterInstallation.objects.filter(metering_point=point, removed_on__isnull=True)
            .select_related("meter").first())


def transformers_on(point: MeteringPoint, on: dt.date | None = None) -> list[TransformerInstallation]:
    qs = TransformerInstallation.objects.filter(metering_point=point).select_related("transformer")
    qs = qs.filter(_on(on)) if on else qs.filter(removed_on__isnull=True)
    return list(qs.order_by("transformer__kind", "phase", "id"))


def multiplier_of(installations: list[TransformerInstallation]) -> Decimal:
    """CT ratio × PT ratio of the installed instrument transformers (1 where there are none).

    All CTs of one point (one per phase) carry the same ratio, as do its PTs; mixed
    ratios are an archive error that ``services`` refuses and the check lists.
    """
    result = Decimal("1")
    for kind in (InstrumentTransformer.Kind.CT, InstrumentTransformer.Kind.PT):
        ratios = {inst.transformer.ratio for inst in installations if inst.transformer.kind == kind}
        if ratios:
            result *= max(ratios)
    return result.quantize(Decimal("0.01"))


def multiplier_as_of(point: MeteringPoint, on: dt.date) -> Decimal:
    """The multiplier in force on ``on``, from the CT/PT installed that day (billing-rules §6.1)."""
    return multiplier_of(transformers_on(point, on))


def meter_history(point: MeteringPoint) -> QuerySet:
    return (MeterInstallation.objects.filter(metering_point=point).select_related("meter", "installed_by", "removed_by")
            .order_by("-installed_on", "-id"))


def transformer_history(point: MeteringPoint) -> QuerySet:
    return (TransformerInstallation.objects.filter(metering_point=point).select_related("transformer")
            .order_by("-installed_on", "-id"))
