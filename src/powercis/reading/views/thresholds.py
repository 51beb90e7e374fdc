"""Validation thresholds of an org: the values in force, where each comes from, and a new dated profile."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from powercis.core import authz
from powercis.core.codelists import codes_of
from powercis.core.errors import BusinessError
from powercis.core.models import Org
from powercis.core.views.common import actor, requires

from ..forms import ProfileForm
from ..models import ValidationProfile
from ..services import profiles
from ..thresholds import CATALOGUE, profile_for, set_by
from .common import chosen_org, place_errors, scope_orgs

SEE = ("reading.configure", "reading.review", "reading.view")


def category_choices(org: Org) -> list[tuple[str, str]]:
    """The usage categories of the org's company, as (code, "code label"), in the code table's order."""
    items = codes_of(org.company_id or org.pk, "usage_category")
    return [(code, f"{code} {item.label}") for code, item in sorted(
        items.items(), key=lambda pair: (pair[1].sort_order, pair[0]))]


def _save(request, form, org):
    data = form.cleaned_data
    try:
        return profiles.save_profile(actor(request), org=org, valid_from=data["valid_from"], values=form.values(),
                                     note=data["note"], usage_category=data["usage_category"])
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
    categories = category_choices(org)
    category = request.GET.get("category", "")
    category = category if category in dict(categories) else ""
    can_configure = authz.authorize(request.user, "reading.configure", org)
    form = (ProfileForm(request.POST or None, categories=categories, initial={"usage_category": category})
            if can_configure else None)
    if request.method == "POST" and form is not None and form.is_valid():
        profile = _save(request, form, org)
        if profile is not None:
            messages.success(request, _("The thresholds of %(org)s valid from %(date)s were saved.") % {
                "org": org.name, "date": profile.valid_from.isoformat()})
            return redirect(reverse("reading:thresholds") + f"?org={org.pk}&category={profile.usage_category}")
    values = profile_for(org, today, category)
    source_of = set_by(org, today, category)
    rows = [{"spec": spec, "value": values[spec.key], "profile": source_of.get(spec.key),
             "changed": values[spec.key] != spec.default} for spec in CATALOGUE]
    history = (ValidationProfile.objects.filter(org_id__in=org.ancestor_ids).select_related("org", "created_by")
               .order_by("-valid_from", "org__path"))
    return render(request, "reading/thresholds.html", {
        "orgs": orgs, "org": org, "rows": rows, "today": today, "form": form, "history": history,
        "categories": categories, "category": category,
    })
