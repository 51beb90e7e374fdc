"""The org tree page: browse (children load on demand), view, create, edit, move, deactivate."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import authz, selectors
from ..forms import OrgForm, OrgMoveForm, ReasonForm
from ..models import Org, OrgLevel, Staff
from ..services import orgs as org_services
from .common import actor, changed_fields, refuse_unless, requires, run, scoped_get


def _with_child_counts(queryset):
    return queryset.annotate(child_count=Count("children", filter=Q(children__is_active=True)))


@requires("core.view_orgs")
def org_tree(request):
    visible = selectors.visible_orgs(request.user)
    roots = _with_child_counts(visible.exclude(parent__in=visible)).order_by("path")
    return render(request, "core/org_tree.html", {"roots": roots, "total": visible.count()})


@requires("core.view_orgs")
def org_children(request, pk):
    parent = scoped_get(selectors.visible_orgs(request.user), pk=pk)
    children = _with_child_counts(selectors.visible_orgs(request.user).filter(parent=parent)).order_by("sort_order", "code")
    return render(request, "core/_org_nodes.html", {"nodes": children})


@requires("core.view_orgs")
def org_detail(request, pk):
    org = scoped_get(selectors.visible_orgs(request.user), pk=pk)
    return render(request, "core/org_detail.html", {
        "org": org,
        "ancestors": Org.objects.ancestors_of(org),
        "children": org.children.order_by("sort_order", "code"),
        "staff_count": Staff.objects.filter(org=org, is_active=True).count(),
        "can_manage": authz.authorize(request.user, "core.manage_orgs", org),
    })


def _org_payload(form) -> dict:
    data = dict(form.cleaned_data)
    data.pop("reason", None)
    return data


@requires("core.manage_orgs")
def org_create(request, parent_pk):
    parent = scoped_get(authz.orgs_in_scope(request.user, "core.manage_orgs"), pk=parent_pk)
    next_levels = [lv for lv in OrgLevel.values if OrgLevel.values.index(lv) > OrgLevel.values.index(parent.level)]
    form = OrgForm(request.POST or None, initial={"level": next_levels[0] if next_levels else None})
    form.fields["level"].choices = [(v, OrgLevel(v).label) for v in next_levels]
    if request.method == "POST" and form.is_valid():
        org = run(request, form, org_services.create_org, actor(request), parent=parent, **_org_payload(form))
        if org is not None:
            messages.success(request, _("Org %(name)s was created.") % {"name": org.name})
            return redirect("core:org_detail", org.pk)
    return render(request, "core/org_form.html", {"form": form, "parent": parent, "title": _("New org")})


@requires("core.manage_orgs")
def org_edit(request, pk):
    org = scoped_get(authz.orgs_in_scope(request.user, "core.manage_orgs"), pk=pk)
    initial = {f: getattr(org, f) for f in ("code", "name", "level", "short_name", "name_en", "address", "phone", "sort_order")}
    form = OrgForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = changed_fields(form.cleaned_data, initial)
        done = run(request, form, org_services.update_org, actor(request), org, reason=form.cleaned_data["reason"],
                   **changes)
        if done is not None:
            messages.success(request, _("The org was saved."))
            return redirect("core:org_detail", org.pk)
    return render(request, "core/org_form.html", {"form": form, "org": org, "title": _("Edit org")})


@requires("core.manage_orgs")
def org_move(request, pk):
    managed = authz.orgs_in_scope(request.user, "core.manage_orgs")
    org = scoped_get(managed, pk=pk)
    refuse_unless(not org.is_company, _("A company cannot be moved."))
    targets = managed.filter(company_id=org.company_id).exclude(path__startswith=org.path)
    form = OrgMoveForm(request.POST or None, orgs=targets)
    if request.method == "POST" and form.is_valid():
        done = run(request, form, org_services.move_org, actor(request), org, form.cleaned_data["new_parent"],
                   reason=form.cleaned_data["reason"])
        if done is not None:
            messages.success(request, _("The org and everything below it moved."))
            return redirect("core:org_detail", org.pk)
    return render(request, "core/org_form.html", {"form": form, "org": org, "title": _("Move org")})


@require_POST
@requires("core.manage_orgs")
def org_set_active(request, pk):
    org = scoped_get(authz.restrict(Org.objects.all(), request.user, "core.manage_orgs", path_field="path"), pk=pk)
    form = ReasonForm(request.POST)
    active = request.POST.get("active") == "1"
    if form.is_valid():
        if run(request, None, org_services.set_org_active, actor(request), org, active,
               reason=form.cleaned_data["reason"]) is not None:
            messages.success(request, _("The org was activated.") if active else _("The org was deactivated."))
    else:
        messages.error(request, _("Give a reason."))
    return redirect("core:org_detail", org.pk)
