"""Validation thresholds of an org: the values in force, where each comes from, and a new dated profile."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from powercis.core import authz
from powercis.core.errors import BusinessError
from powercis.core.models import Org
from powercis.core.views.common import actor, requires

from ..forms import ProfileForm
from ..models import ValidationProfile
from ..services import profiles
from ..thresholds import CATALOGUE, profile_for
from .common import chosen_org, place_errors, scope_orgs

SEE = ("reading.configure", "reading.review", "reading.view")


def origins(org: Org, on) -> dict[str, ValidationProfile]:
    """Per threshold key, the profile its value in force comes from (absent: the documented default)."""
    depth = {org_id: i for i, org_id in enumerate(org.ancestor_ids)}
    latest: dict[int, ValidationProfile] = {}
    for profile in (ValidationProfile.objects.filter(org_id__in=org.ancestor_ids, valid_from__lte=on)
                    .select_related("org").order_by("valid_from")):
        latest[profile.org_id] = profile
    result: dict[str, ValidationProfile] = {}
    for org_id in sorted(latest, key=depth.__getitem__):
        for key in latest[org_id].values:
            result[key] = latest[org_id]
    return result


def _save(request, form, org):
    data = form.cleaned_data
    try:
        return profiles.save_profile(actor(request), org=org, valid_from=data["valid_from"], values=form.values(),
                                     note=data["note"])
    except BusinessError as exc:
        place_errors(form, exc, {spec.key: f"t_{spec.key}" for spec in CATALOGUE})
        return None


@requires(*SEE)
def threshold_page(request):
    orgs = scope_orgs(request.user, SEE)
    org = chosen_org(request, SEE) or scope_orgs(request.user, ("reading.configure",)).first() or orgs.first()
    if org is None:
        return render(request, "reading/thresholds.html", {"orgs": orgs, "org": None})
    today = timezone.localdate()
    can_configure = authz.authorize(request.user, "reading.configure", org)
    form = ProfileForm(request.POST or None) if can_configure else None
    if request.method == "POST" and form is not None and form.is_valid():
        profile = _save(request, form, org)
        if profile is not None:
            messages.success(request, _("The thresholds of %(org)s valid from %(date)s were saved.") % {
                "org": org.name, "date": profile.valid_from.isoformat()})
            return redirect(reverse("reading:thresholds") + f"?org={org.pk}")
    values = profile_for(org, today)
    source_of = origins(org, today)
    rows = [{"spec": spec, "value": values[spec.key], "profile": source_of.get(spec.key),
             "changed": values[spec.key] != spec.default} for spec in CATALOGUE]
    history = (ValidationProfile.objects.filter(org_id__in=org.ancestor_ids).select_related("org", "created_by")
               .order_by("-valid_from", "org__path"))
    return render(request, "reading/thresholds.html", {
        "orgs": orgs, "org": org, "rows": rows, "today": today, "form": form, "history": history,
    })
