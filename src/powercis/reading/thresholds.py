"""The validation thresholds, their documented defaults, and the profile in force for an org.

Every number a check compares against is here (metering-audit.md §2 and §7: thresholds
are local settings, several unverified, so none is a constant in code).  An org's
profile (``ValidationProfile``) overrides any subset; the nearest ancestor's latest
profile valid on the date applies, and keys it does not set take these defaults.
The source of each default is in ``source`` so that the settings page can show it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from powercis.core.errors import ValidationFailed


@dataclass(frozen=True)
class Threshold:
    key: str
    default: Decimal
    label: object
    source: str
    integer: bool = False
    minimum: Decimal = Decimal("0")


CATALOGUE: tuple[Threshold, ...] = (
    Threshold("zero_streak_cycles", Decimal("3"), _("Zero-consumption cycles in a row before an on-site check"),
              "metering-audit §2 [V]: 3 consecutive cycles", integer=True, minimum=Decimal("1")),
    Threshold("spike_ratio", Decimal("0.5"), _("Increase against last period that is flagged (share)"),
              "metering-audit §2 [U]: ±30 %/±50 % local settings"),
    Threshold("drop_ratio", Decimal("0.5"), _("Decrease against last period that is flagged (share)"),
              "metering-audit §2 [U]"),
    Threshold("yoy_spike_ratio", Decimal("1.0"), _("Increase against the same period last year that is flagged"),
              "metering-audit §2 [U]"),
    Threshold("yoy_drop_ratio", Decimal("0.6"), _("Decrease against the same period last year that is flagged"),
              "metering-audit §2 [U]"),
    Threshold("ratio_floor_kwh", Decimal("50"), _("Below this reference consumption (kWh) changes are not compared"),
              "metering-audit §2 [U]: absolute floor 50 kWh"),
    Threshold("tou_tolerance_lsb", Decimal("1"), _("TOU sum tolerance per tariff register (last digits)"),
              "metering-audit §2 [U]: (n−1)×1 LSB per JJG 596", minimum=Decimal("0")),
    Threshold("estimate_streak_max", Decimal("2"), _("Estimated reads allowed in a row"),
              "metering-audit §2 [V]: consecutive estimates raise an inspection", integer=True),
    Threshold("interval_min_days", Decimal("25"), _("Shortest reading interval of a monthly cycle (days)"),
              "metering-audit §2 [U]: 28–31 days, with a margin", integer=True),
    Threshold("interval_max_days", Decimal("35"), _("Longest reading interval of a monthly cycle (days)"),
              "metering-audit §2 [U]", integer=True),
    Threshold("demand_over_ratio", Decimal("1.05"), _("Demand above contract capacity × this is flagged"),
              "billing-rules: demand over-run starts above 105 % [U]", minimum=Decimal("1")),
    Threshold("hours_per_day_cap", Decimal("24"), _("Plausibility: capacity × days × this many hours"),
              "metering-audit §2 飞走 / §4 Tianjin rule 合同容量×24h×K", minimum=Decimal("1")),
    Threshold("residential_daily_cap_kwh", Decimal("200"), _("Plausibility cap per day where no capacity is recorded (kWh)"),
              "metering-audit §2 飞走: Imax·Un·24 h for a 60 A single-phase meter ≈ 317 kWh [U]"),
    Threshold("future_tolerance_hours", Decimal("24"), _("Reads dated this far past now are rejected (hours)"),
              "clock tolerance of a head-end [U]", integer=True),
)

BY_KEY = {t.key: t for t in CATALOGUE}


def defaults() -> dict[str, Decimal]:
    return {t.key: t.default for t in CATALOGUE}


def clean_values(raw: dict) -> dict[str, str]:
    """Check a profile's values against the catalogue; errors name the field in the user's language."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, str] = {}
    for key, value in raw.items():
        spec = BY_KEY.get(key)
        if spec is None:
            errors[key] = [str(_("This is not a validation threshold."))]
            continue
        if value in (None, ""):
            continue
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            errors[key] = [str(_("Enter a number."))]
            continue
        if not number.is_finite() or number < spec.minimum:
            errors[key] = [str(_("Enter a number of at least %(min)s.") % {"min": spec.minimum})]
        elif spec.integer and number != number.to_integral_value():
            errors[key] = [str(_("Enter a whole number."))]
        else:
            cleaned[key] = str(number)
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def profile_for(org, on: dt.date) -> dict[str, Decimal]:
    """The thresholds in force for ``org`` on ``on``: defaults, overridden from the root down to the org."""
    from .models import ValidationProfile

    ancestor_ids = org.ancestor_ids
    depth = {org_id: i for i, org_id in enumerate(ancestor_ids)}
    values = defaults()
    chosen: dict[int, ValidationProfile] = {}
    for profile in ValidationProfile.objects.filter(org_id__in=ancestor_ids, valid_from__lte=on).order_by("valid_from"):
        chosen[profile.org_id] = profile  # the latest valid one of each org wins
    for org_id in sorted(chosen, key=depth.__getitem__):
        values.update({k: Decimal(v) for k, v in chosen[org_id].values.items() if k in BY_KEY})
    return values
