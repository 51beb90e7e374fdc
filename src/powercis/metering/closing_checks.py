"""An account cannot close while a meter is installed on one of its metering points."""

from __future__ import annotations

from django.utils.translation import gettext as _

from powercis.customers import closing

from .models import MeterInstallation


@closing.register
def meter_installed(account, on):
    inst = (MeterInstallation.objects.filter(metering_point__account=account, removed_on__isnull=True)
            .select_related("meter", "metering_point").first())
    if inst is None:
        return None
    return _("Meter %(meter)s is still installed on metering point %(point)s; remove it first.") % {
        "meter": inst.meter.asset_no, "point": inst.metering_point.code}
