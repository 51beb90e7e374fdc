"""Why an exception was raised, in words: one sentence per check built from the numbers in its ``detail``.

The validation (``engine.validate``) stores the numbers it compared, as strings, so that
the reviewer reads the reason rather than the check's name — "this period 1234.00 is
below last period's 1300.00 …".  A detail that lacks a number a sentence needs (an
exception written by an older version) falls back to the check's name followed by the
numbers it has, so nothing is ever hidden.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from powercis.core import codelists
from powercis.metering.models import REGISTER_LABELS

from ..models import Check


def _percent(value, signed: bool = False) -> str:
    """A ratio ("0.8") as a percentage ("+80.0%")."""
    try:
        number = (Decimal(str(value)) * 100).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError, TypeError):
        return str(value)
    return f"{'+' if signed and number > 0 else ''}{number}%"


def _sentences() -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """Check → candidate (sentence, detail keys it needs); the first whose keys are all present is used."""
    change = ("per_day", "reference_per_day", "change", "limit_pct")
    return {
        Check.LOWER: [(_("This period %(end)s is below last period's %(start)s (%(difference)s); too far from the "
                         "register's maximum %(register_max)s to be a rollover — check the reading."),
                       ("end", "start", "difference", "register_max"))],
        Check.ROLLOVER: [(_("This period %(end)s is below last period's %(start)s: taken as a rollover of the register "
                            "at %(register_max)s, consumption %(consumption)s (%(energy_kwh)s kWh in %(days)s days) — "
                            "check it is not a misread."),
                          ("end", "start", "register_max", "consumption", "energy_kwh", "days"))],
        Check.IMPLAUSIBLE: [
            (_("This period %(end)s is below last period's %(start)s; as a rollover it would mean %(energy_kwh)s kWh "
               "in %(days)s days, more than the supply can deliver (%(limit)s kWh)."),
             ("rollover", "end", "start", "energy_kwh", "days", "limit")),
            (_("%(energy_kwh)s kWh in %(days)s days (%(start)s → %(end)s) is more than the supply can deliver "
               "(%(limit)s kWh)."), ("energy_kwh", "days", "start", "end", "limit")),
        ],
        Check.ZERO: [(_("No consumption in %(days)s days: this period %(end)s equals the reading of %(start_date)s."),
                      ("days", "end", "start_date"))],
        Check.ZERO_STREAK: [(_("No consumption for %(cycles)s cycles in a row (an on-site check is due from "
                               "%(limit)s)."), ("cycles", "limit"))],
        Check.SPIKE: [(_("%(per_day)s kWh a day against %(reference_per_day)s kWh a day last period: "
                         "%(change)s, beyond the %(limit_pct)s allowed."), change)],
        Check.DROP: [(_("%(per_day)s kWh a day against %(reference_per_day)s kWh a day last period: "
                        "%(change)s, beyond the %(limit_pct)s allowed."), change)],
        Check.YOY_SPIKE: [(_("%(per_day)s kWh a day against %(reference_per_day)s kWh a day in %(reference_period)s: "
                             "%(change)s, beyond the %(limit_pct)s allowed."), change + ("reference_period",))],
        Check.YOY_DROP: [(_("%(per_day)s kWh a day against %(reference_per_day)s kWh a day in %(reference_period)s: "
                            "%(change)s, beyond the %(limit_pct)s allowed."), change + ("reference_period",))],
        Check.TOU_SUM: [
            (_("The time-of-use consumption adds up to %(tou_consumption)s but the total's is %(total_consumption)s "
               "(off by %(increment_difference)s, tolerance %(tolerance)s)."),
             ("increments", "tou_consumption", "total_consumption", "increment_difference", "tolerance")),
            (_("The time-of-use registers add up to %(tou_sum)s but the total shows %(total)s (off by %(difference)s, "
               "tolerance %(tolerance)s)."), ("tou_sum", "total", "difference", "tolerance")),
        ],
        Check.MISSING: [(_("No reading was recorded for the read date %(scheduled_on)s."), ("scheduled_on",)),
                        (_("No reading was recorded for this period."), ())],
        Check.ESTIMATED: [(_("The reading of %(read_on)s is an estimate."), ("read_on",))],
        Check.ESTIMATE_STREAK: [(_("Estimated %(periods)s periods in a row; at most %(limit)s are allowed."),
                                 ("periods", "limit"))],
        Check.INTERVAL: [(_("%(days)s days from %(start_date)s to %(end_date)s; the cycle allows %(minimum)s to "
                            "%(maximum)s."), ("days", "start_date", "end_date", "minimum", "maximum"))],
        Check.DEMAND_OVER: [(_("Maximum demand %(demand_kw)s kW (%(demand)s × %(multiplier)s) is above %(limit)s kW "
                               "(contract %(capacity)s × %(ratio)s)."),
                             ("demand_kw", "demand", "multiplier", "limit", "capacity", "ratio"))],
        Check.REVERSE: [(_("Reverse energy %(consumption)s (%(start)s → %(end)s) on an account of category "
                           "%(usage_category)s, which does not generate."),
                         ("consumption", "start", "end", "usage_category"))],
        Check.METER_CHANGE: [(_("Meter %(old_meter)s was replaced by %(new_meter)s on %(changed_on)s: "
                                "(%(removal)s − %(start)s) + (%(end)s − %(install)s) = %(consumption)s."),
                              ("old_meter", "new_meter", "changed_on", "removal", "start", "end", "install",
                               "consumption"))],
        Check.REMOVAL_LOWER: [(_("The removal reading %(removal)s of meter %(old_meter)s is below its last billed "
                                 "reading %(start)s (%(difference)s)."), ("removal", "old_meter", "start",
                                                                          "difference"))],
        Check.UNREADABLE: [(_("The meter could not be read: %(reason)s."), ("reason",))],
    }


def describe_detail(rule: str, detail: dict | None, register: str = "", reasons: dict | None = None) -> str:
    """The sentence for one exception; ``reasons`` maps unread-reason codes to their labels."""
    values = {k: str(v) for k, v in (detail or {}).items() if v is not None and not isinstance(v, (dict, list))}
    if "ratio" in values and rule in (Check.SPIKE, Check.DROP, Check.YOY_SPIKE, Check.YOY_DROP):
        values["change"] = _percent(values["ratio"], signed=True)
        if "limit" in values:
            values["limit_pct"] = _percent(values["limit"])
    if values.get("compared") == "increments":
        values["increments"] = "1"
    if values.get("rollover") != "true":
        values.pop("rollover", None)
    if "reason" in values and reasons:
        values["reason"] = str(reasons.get(values["reason"], values["reason"]))
    text = ""
    for sentence, needed in _sentences().get(rule, []):
        if all(k in values for k in needed):
            text = sentence % values
            break
    if not text:
        label = dict(Check.choices).get(rule, rule)
        numbers = "; ".join(f"{k} {v}" for k, v in values.items())
        text = f"{label}: {numbers}" if numbers else str(label)
    if register and register != "total" and rule != Check.DEMAND_OVER:
        text = f"{REGISTER_LABELS.get(register, register)} · {text}"
    return text


def unread_reasons(company_id: int) -> dict[str, str]:
    return {code: item.label for code, item in codelists.codes_of(company_id, "unread_reason",
                                                                  active_only=False).items()}


def describe(exc, reasons: dict | None = None) -> str:
    if reasons is None and exc.rule == Check.UNREADABLE:
        reasons = unread_reasons(exc.company_id)
    return describe_detail(exc.rule, exc.detail, exc.register, reasons)


def describe_all(exceptions) -> dict[int, str]:
    """Sentences for many exceptions, reading each company's unread-reason table once."""
    tables: dict[int, dict[str, str]] = {}
    result = {}
    for exc in exceptions:
        if exc.rule == Check.UNREADABLE and exc.company_id not in tables:
            tables[exc.company_id] = unread_reasons(exc.company_id)
        result[exc.pk] = describe(exc, tables.get(exc.company_id, {}))
    return result
