"""Personal data masking (PIPL): phone and ID numbers are masked unless the viewer may and asks to see them.

Seeing a full value needs ``core.view_personal_data`` over the person's org and is
audited each time it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from . import audit, authz
from .context import Actor
from .models import AuditCategory, Org


def mask_phone(value: str) -> str:
    """``13812345678`` → ``138****5678``; short numbers keep only their last two digits."""
    if not value:
        return ""
    if len(value) >= 8:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    return "*" * (len(value) - 2) + value[-2:]


def mask_id_number(value: str) -> str:
    """``420102199001011234`` → ``4201**********1234`` (keeps the first four and last four characters)."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


@dataclass(frozen=True)
class Shown:
    value: str
    masked: bool
    can_reveal: bool


def reveal_allowed(actor: Actor, org: Org) -> bool:
    return authz.authorize(actor, "core.view_personal_data", org)


def show(actor: Actor, obj: models.Model, field: str, org: Org, *, reveal: bool, masker=mask_phone) -> Shown:
    """The value to display: masked, or in full (and audited) when asked for and allowed."""
    raw = getattr(obj, field) or ""
    allowed = reveal_allowed(actor, org)
    if reveal and allowed and raw:
        audit.record(actor, action="personal_data.view", category=AuditCategory.ACCESS, obj=obj, org=org,
                     changes={field: ["masked", "shown"]})
        return Shown(raw, False, True)
    return Shown(masker(raw), bool(raw), allowed)


def phone_for(actor: Actor, staff, *, reveal: bool) -> Shown:
    return show(actor, staff, "mobile", staff.org, reveal=reveal)
