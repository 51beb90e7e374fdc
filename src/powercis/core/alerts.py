"""Alert rules for abnormal changes, evaluated on each audit record as it is written.

Seed 2.2(4) asks for a daily modification log that flags changes made outside the
normal process.  Three kinds of rule, each configured per company with parameters:

* ``unreferenced_change`` — ``{"fields": ["core.org.name", ...]}``: one of these
  fields changed and the record carries no work order or approval reference;
* ``off_hours`` — ``{"start": "08:00", "end": "18:00", "weekdays": [1, 2, 3, 4, 5]}``:
  a change outside working hours (local time; ISO weekdays);
* ``change_volume`` — ``{"max_per_day": 200}``: one person made more changes in a
  day than the limit.

Only changes and business actions made by a person count; security events, views of
personal data and the system's own jobs do not.  ``off_hours`` and ``change_volume``
raise at most one alert per rule, person and day, so a night of work is one alert.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from .models import AlertKind, AuditAlert, AuditAlertRule, AuditCategory, AuditRecord

COUNTED_CATEGORIES = (AuditCategory.CHANGE, AuditCategory.ACTION)


def _hhmm(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours) % 24, int(minutes))


def _local_day_bounds(local: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + dt.timedelta(days=1)


def _rules_for(company_id: int) -> list[AuditAlertRule]:
    return list(AuditAlertRule.objects.filter(company_id=company_id, is_active=True))


def _raise(rule: AuditAlertRule, entry: AuditRecord, day: dt.date, message: str, once_per_day: bool) -> None:
    if once_per_day and AuditAlert.objects.filter(rule=rule, actor_id=entry.actor_id, day=day).exists():
        return
    AuditAlert.objects.create(
        rule=rule,
        record=entry,
        actor_id=entry.actor_id,
        company_id=entry.company_id,
        org_path=entry.org_path,
        day=day,
        message=message[:300],
    )


def unreferenced_fields(rule: AuditAlertRule, entry: AuditRecord) -> list[str]:
    watched = set(rule.params.get("fields", []))
    if entry.ref or not watched:
        return []
    return [name for name in entry.changes if f"{entry.object_type}.{name}" in watched]


def is_off_hours(rule: AuditAlertRule, local: dt.datetime) -> bool:
    start = _hhmm(rule.params.get("start", "08:00"))
    end = _hhmm(rule.params.get("end", "18:00"))
    weekdays = rule.params.get("weekdays", [1, 2, 3, 4, 5])
    if local.isoweekday() not in weekdays:
        return True
    return not (start <= local.time() < end)


def evaluate(entry: AuditRecord) -> None:
    """Raise the alerts that ``entry`` triggers under its company's active rules."""
    if entry.actor_id is None or entry.company_id is None or entry.category not in COUNTED_CATEGORIES:
        return
    rules = _rules_for(entry.company_id)
    if not rules:
        return
    local = timezone.localtime(entry.at)
    day = local.date()
    for rule in rules:
        if rule.kind == AlertKind.UNREFERENCED_CHANGE:
            fields = unreferenced_fields(rule, entry)
            if fields:
                _raise(rule, entry, day, _("%(who)s changed %(fields)s of %(obj)s without a work order or approval")
                       % {"who": entry.actor_name, "fields": ", ".join(fields), "obj": entry.object_repr}, False)
        elif rule.kind == AlertKind.OFF_HOURS:
            if is_off_hours(rule, local):
                _raise(rule, entry, day, _("%(who)s made changes outside working hours, first at %(time)s")
                       % {"who": entry.actor_name, "time": local.strftime("%H:%M")}, True)
        elif rule.kind == AlertKind.CHANGE_VOLUME:
            limit = int(rule.params.get("max_per_day", 200))
            if AuditAlert.objects.filter(rule=rule, actor_id=entry.actor_id, day=day).exists():
                continue
            start, end = _local_day_bounds(local)
            count = AuditRecord.objects.filter(
                actor_id=entry.actor_id, at__gte=start, at__lt=end, category__in=COUNTED_CATEGORIES
            ).count()
            if count > limit:
                _raise(rule, entry, day, _("%(who)s made %(count)s changes today, more than the limit of %(limit)s")
                       % {"who": entry.actor_name, "count": count, "limit": limit}, True)
