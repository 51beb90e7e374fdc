"""Validation thresholds per org (and usage category): a new dated profile, never an edit of one in force.

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

from powercis.core import audit, authz, codelists
from powercis.core.context import Actor
from powercis.core.errors import InvalidTransition
from powercis.core.models import Org

from ..models import ValidationProfile
from ..thresholds import clean_values


@transaction.atomic
def save_profile(actor: Actor, *, org: Org, valid_from: dt.date, values: dict, note: str = "",
                 usage_category: str = "") -> ValidationProfile:
    """Thresholds for ``org`` from ``valid_from`` — for every account, or for one usage category and those below it."""
    grant = authz.require(actor, "reading.configure", org)
    usage_category = (usage_category or "").strip()
    cleaned = clean_values(values)
    if usage_category:
        codelists.check(org.company_id or org.pk, {"usage_category": ("usage_category", usage_category)})
    existing = (ValidationProfile.objects.select_for_update()
                .filter(org=org, usage_category=usage_category, valid_from=valid_from).first())
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
    profile = ValidationProfile.objects.create(org=org, usage_category=usage_category, valid_from=valid_from,
                                               values=cleaned, note=note, created_by=actor.user)
    audit.record_create(actor, profile, grant=grant, org=org, reason=note)
    return profile
