"""Handling audit alerts and maintaining the rules that raise them."""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import audit, authz
from ..context import Actor
from ..errors import InvalidTransition, NotAuthorized, ValidationFailed
from ..models import AlertKind, AuditAlert, AuditAlertRule, Org

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _alert_org(alert: AuditAlert) -> Org:
    ids = [int(seg) for seg in alert.org_path.split("/") if seg]
    return Org.objects.get(pk=ids[-1]) if ids else Org.objects.get(pk=alert.company_id)


@transaction.atomic
def acknowledge(actor: Actor, alert: AuditAlert, *, note: str) -> AuditAlert:
    alert = AuditAlert.objects.select_for_update().get(pk=alert.pk)
    grant = authz.require(actor, "core.handle_alerts", _alert_org(alert))
    if alert.status != AuditAlert.Status.OPEN:
        raise InvalidTransition(_("The alert was already handled."))
    if actor.user is not None and alert.actor_id == actor.user.pk:
        raise NotAuthorized(_("An alert about your own changes must be handled by someone else."))
    if not (note or "").strip():
        raise ValidationFailed(fields={"note": [_("Say what was found.")]})
    alert.status = AuditAlert.Status.ACKNOWLEDGED
    alert.acknowledged_by = actor.user
    alert.acknowledged_at = timezone.now()
    alert.note = note.strip()[:300]
    alert.save(update_fields=["status", "acknowledged_by", "acknowledged_at", "note"])
    audit.record(actor, action="alert.acknowledge", obj=alert, object_repr=alert.message, org=_alert_org(alert),
                 grant=grant, reason=alert.note, changes={"status": ["open", "acknowledged"]})
    return alert


def _whole_number(value) -> int | None:
    """``value`` as a whole number, or None when it is not one (parameters arrive as any JSON type)."""
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
        return number if float(value) == number else None
    except (TypeError, ValueError, OverflowError):
        return None


def clean_params(kind: str, params: dict) -> dict:
    """Validate a rule's parameters and return them in canonical form."""
    if not isinstance(params, dict):
        raise ValidationFailed(fields={"params": [_("Give the parameters as an object.")]})
    if kind == AlertKind.UNREFERENCED_CHANGE:
        raw = params.get("fields", [])
        fields = [str(f).strip() for f in raw if str(f).strip()] if isinstance(raw, list) else []
        bad = [f for f in fields if f.count(".") != 2]
        if bad or not fields:
            raise ValidationFailed(fields={"params": [_("List fields as app.model.field, one per line.")]})
        return {"fields": fields}
    if kind == AlertKind.OFF_HOURS:
        start, end = params.get("start"), params.get("end")
        if not (isinstance(start, str) and isinstance(end, str) and HHMM.fullmatch(start) and HHMM.fullmatch(end)
                and start < end):
            raise ValidationFailed(fields={"params": [_("Give working hours as HH:MM, start before end.")]})
        raw = params.get("weekdays", [])
        days = {_whole_number(d) for d in raw} if isinstance(raw, list) else set()
        if not days or not days <= set(range(1, 8)):
            raise ValidationFailed(fields={"params": [_("Working days are numbers 1 (Monday) to 7 (Sunday).")]})
        weekdays = sorted(days)
        return {"start": start, "end": end, "weekdays": weekdays}
    if kind == AlertKind.CHANGE_VOLUME:
        limit = _whole_number(params.get("max_per_day"))
        if limit is None or limit < 1:
            raise ValidationFailed(fields={"params": [_("The daily limit must be a whole number of at least 1.")]})
        return {"max_per_day": limit}
    raise ValidationFailed(fields={"kind": [_("Unknown rule kind.")]})


@transaction.atomic
def update_rule(actor: Actor, rule: AuditAlertRule, *, name: str | None = None, params: dict | None = None,
                is_active: bool | None = None, reason: str = "") -> AuditAlertRule:
    rule = AuditAlertRule.objects.select_for_update().select_related("company").get(pk=rule.pk)
    grant = authz.require(actor, "core.manage_alert_rules", rule.company)
    before = audit.snapshot(rule)
    if name is not None:
        if not name.strip():
            raise ValidationFailed(fields={"name": [_("Give the rule a name.")]})
        rule.name = name.strip()
    if params is not None:
        rule.params = clean_params(rule.kind, params)
    if is_active is not None:
        rule.is_active = is_active
    rule.save()
    audit.record_update(actor, rule, before, org=rule.company, grant=grant, reason=reason)
    return rule
