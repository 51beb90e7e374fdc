"""Validation thresholds per org: a new dated profile, never an edit of one in force.

A profile valid from a date applies to the periods from that date on; the earlier
periods keep being validated (and re-validated) with the values they had, so a change
of policy never changes the verdict on a month already reviewed.  A profile whose date
has not come yet may be replaced; one in force may not.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from powercis.core import audit, authz
from powercis.core.context import Actor
from powercis.core.errors import InvalidTransition
from powercis.core.models import Org

from ..models import ValidationProfile
from ..thresholds import clean_values


@transaction.atomic
def save_profile(actor: Actor, *, org: Org, valid_from: dt.date, values: dict, note: str = "") -> ValidationProfile:
    grant = authz.require(actor, "reading.configure", org)
    cleaned = clean_values(values)
    existing = ValidationProfile.objects.select_for_update().filter(org=org, valid_from=valid_from).first()
    if existing is not None:
        if valid_from <= timezone.localdate():
            raise InvalidTransition(_("The thresholds valid from %(date)s are in force; add a profile with a later "
                                      "date instead.") % {"date": valid_from})
        before = audit.snapshot(existing)
        existing.values = cleaned
        existing.note = note
        existing.save(update_fields=["values", "note"])
        audit.record_update(actor, existing, before, grant=grant, org=org, reason=note)
        return existing
    profile = ValidationProfile.objects.create(org=org, valid_from=valid_from, values=cleaned, note=note,
                                               created_by=actor.user)
    audit.record_create(actor, profile, grant=grant, org=org, reason=note)
    return profile
