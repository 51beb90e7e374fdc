"""The validation thresholds, their documented defaults, and the profile in force for an org.

Every number a check compares against is here (metering-audit.md §2 and §7: thresholds
are local settings, several unverified, so none is a constant in code).  An org's
profile (``ValidationProfile``) overrides any subset; the nearest ancestor's latest
profile valid on the date applies, and keys it does not set take these defaults.
The source of each default is in ``source`` so that the settings page can show it.

A profile may be for one usage category (用电类别) — the domain notes ask for the
fluctuation limits per customer class: a household's month differs from a factory's.
Such a profile applies to the accounts of that category and of the categories below it
in the code table (RES covers RES_T, RES_C, RES_R).  Precedence, from weakest: the
defaults; then for each org from the root down to the account's, its general profile,
then its profiles for the category's ancestors, then for the category itself.
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
    maximum: Decimal | None = None


CATALOGUE: tuple[Threshold, ...] = (
    Threshold("zero_streak_cycles", Decimal("3"), _("Zero-consumption cycles in a row before an on-site check"),
              "metering-audit §2 [V]: 3 consecutive cycles", integer=True, minimum=Decimal("1")),
    Threshold("spike_ratio", Decimal("0.5"), _("Increase against last period that is flagged (share)"),
              "metering-audit §2 [U]: ±30 %/±50 % local settings"),
    Threshold("drop_ratio", Decimal("0.5"), _("Decrease against last period that is flagged (share)"),
              "metering-audit §2 [U]"),
    Threshold("spike_confirm_yoy", Decimal("1"),
              _("A spike or drop against last period counts only if the same period last year shows it too "
                "(1: yes, 0: no)"),
              "metering-audit §2 [V, local]: E_ref = last period and same period last year (check both)",
              integer=True, maximum=Decimal("1")),
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
        elif spec.maximum is not None and number > spec.maximum:
            errors[key] = [str(_("Enter a number of at most %(max)s.") % {"max": spec.maximum})]
        elif spec.integer and number != number.to_integral_value():
            errors[key] = [str(_("Enter a whole number."))]
        else:
            cleaned[key] = str(number)
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def category_parents(company_id: int) -> dict[str, str]:
    """Usage category code → its parent code (``""`` at the top), from the company's code table."""
    from powercis.core.codelists import codes_of

    return {code: item.parent_code for code, item in codes_of(company_id, "usage_category", active_only=False).items()}


def category_chain(company_id: int, category: str, parents: dict[str, str] | None = None) -> list[str]:
    """``""`` (every category), then the category's ancestors in the code table from the top, then itself."""
    if not category:
        return [""]
    parents = category_parents(company_id) if parents is None else parents
    chain, code, seen = [], category, set()
    while code and code not in seen:
        seen.add(code)
        chain.append(code)
        code = parents.get(code, "")
    return ["", *reversed(chain)]


def _latest_profiles(queryset) -> dict[tuple[int, str], object]:
    """(org, usage category) → the latest profile valid on the date, of the profiles in ``queryset``."""
    chosen = {}
    for profile in queryset.order_by("valid_from", "pk"):
        chosen[(profile.org_id, profile.usage_category)] = profile  # the latest valid one of each wins
    return chosen


def _in_order(chosen: dict[tuple[int, str], object], org, chain: list[str]) -> list:
    """The profiles of ``chosen`` that apply to ``org``'s accounts of the category whose ``chain`` is given,
    weakest first: by the org's depth from the root, then by the category's depth in the chain."""
    depth = {org_id: i for i, org_id in enumerate(org.ancestor_ids)}
    rank = {code: i for i, code in enumerate(chain)}
    applying = [k for k in chosen if k[0] in depth and k[1] in rank]
    return [chosen[k] for k in sorted(applying, key=lambda k: (depth[k[0]], rank[k[1]]))]


def _values(profiles: list) -> dict[str, Decimal]:
    values = defaults()
    for profile in profiles:
        values.update({k: Decimal(v) for k, v in profile.values.items() if k in BY_KEY})
    return values


def layers(org, on: dt.date, category: str = "", parents: dict[str, str] | None = None) -> list:
    """The profiles in force for ``org``'s accounts of ``category`` on ``on``, weakest first (see the module).

    ``parents`` (:func:`category_parents`) saves reading the code table again when many are asked at once.
    """
    from .models import ValidationProfile

    chain = category_chain(org.company_id or org.pk, category, parents)
    chosen = _latest_profiles(ValidationProfile.objects.filter(
        org_id__in=org.ancestor_ids, usage_category__in=chain, valid_from__lte=on).select_related("org"))
    return _in_order(chosen, org, chain)


def profile_table(orgs, categories, on: dt.date) -> dict[tuple[int, str], dict[str, Decimal]]:
    """The thresholds in force on ``on`` for every pair of the ``orgs`` (of one company) and usage ``categories``.

    What :func:`profile_for` gives for one pair, for all of them from one query of the
    profiles: a delivery of reads or a month's plans name a few hundred pairs.
    """
    from .models import ValidationProfile

    orgs, categories = list(orgs), sorted(set(categories))
    if not orgs:
        return {}
    parents = category_parents(orgs[0].company_id or orgs[0].pk)
    chains = {category: category_chain(orgs[0].company_id or orgs[0].pk, category, parents) for category in categories}
    chosen = _latest_profiles(ValidationProfile.objects.filter(
        org_id__in={pk for org in orgs for pk in org.ancestor_ids},
        usage_category__in={code for chain in chains.values() for code in chain}, valid_from__lte=on))
    return {(org.pk, category): _values(_in_order(chosen, org, chains[category]))
            for org in orgs for category in categories}


def set_by(org, on: dt.date, category: str = "") -> dict[str, object]:
    """Per threshold key, the profile its value in force comes from (absent: the documented default)."""
    result = {}
    for profile in layers(org, on, category):
        result.update({key: profile for key in profile.values if key in BY_KEY})
    return result


def profile_for(org, on: dt.date, category: str = "", parents: dict[str, str] | None = None) -> dict[str, Decimal]:
    """The thresholds in force for ``org``'s accounts of usage ``category`` (``""``: any) on ``on``."""
    return _values(layers(org, on, category, parents))
