"""Metering's section of the account 360 page: metering points, installed meters, CT/PT, multiplier, grid position."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from powercis.customers.panels import Panel, register

from .models import MeterInstallation, MeteringPoint, TransformerInstallation
from .selectors import multiplier_of


def _context(request, account):
    points = list(MeteringPoint.objects.filter(account=account).select_related(
        "transformer_area__feeder__substation", "parent", "building__community").order_by("code"))
    ids = [p.pk for p in points]
    meters = {i.metering_point_id: i for i in MeterInstallation.objects.filter(
        metering_point_id__in=ids, removed_on__isnull=True).select_related("meter")}
    transformers: dict[int, list] = {}
    for inst in TransformerInstallation.objects.filter(metering_point_id__in=ids, removed_on__isnull=True) \
            .select_related("transformer"):
        transformers.setdefault(inst.metering_point_id, []).append(inst)
    rows = [{"point": p, "installation": meters.get(p.pk), "transformers": transformers.get(p.pk, []),
             "derived_multiplier": multiplier_of(transformers.get(p.pk, []))} for p in points]
    return {"rows": rows, "today": timezone.localdate()}


def register_panel() -> None:
    register(Panel("metering", _("Metering points, meters and grid position"), "metering/panels/metering.html", 30,
                   _context))
