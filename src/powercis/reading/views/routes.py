"""Reading route pages (抄表段): the list with the accounts on each route, the route with its plans, create and edit."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from powercis.core import authz
from powercis.core.views.common import actor, changed_fields, page, requires, run, scoped_get
from powercis.customers.models import Account, AccountStatus

from .. import selectors
from ..forms import RouteFilterForm, RouteForm, active_staff
from ..services import routes as route_services
from .common import VIEW, scope_orgs, within

MANAGE = ("reading.manage_routes",)
EDIT_FIELDS = ("name", "reader", "read_day", "cycle", "odd_months", "method", "is_active")


def with_account_counts(routes):
    """Each route with the number of accounts (not closed) that name it: one correlated count in the same query."""
    accounts = (Account.objects.filter(company_id=OuterRef("company_id"), reading_route_code=OuterRef("code"))
                .exclude(status=AccountStatus.CLOSED).order_by().values("reading_route_code")
                .annotate(n=Count("pk")).values("n"))
    return routes.annotate(account_count=Coalesce(Subquery(accounts, output_field=IntegerField()), Value(0)))


@requires(*VIEW)
def route_list(request):
    orgs = scope_orgs(request.user)
    form = RouteFilterForm(request.GET or None, orgs=orgs, readers=active_staff(list(orgs)))
    routes = selectors.visible_routes(request.user).order_by("code")
    if form.is_valid():
        data = form.cleaned_data
        routes = within(routes, data.get("org"))
        if data.get("q"):
            routes = routes.filter(Q(code__icontains=data["q"]) | Q(name__icontains=data["q"]))
        if data.get("reader"):
            routes = routes.filter(reader=data["reader"])
        if data.get("method"):
            routes = routes.filter(method=data["method"])
        if data.get("cycle"):
            routes = routes.filter(cycle=data["cycle"])
    return render(request, "reading/route_list.html", {
        "form": form, "can_create": authz.authorize(request.user, "reading.manage_routes"),
        **page(request, with_account_counts(routes)),
    })


@requires(*VIEW)
def route_detail(request, pk):
    route = scoped_get(with_account_counts(selectors.visible_routes(request.user)), pk=pk)
    plans = selectors.visible_plans(request.user).filter(route=route).order_by("-period")[:24]
    tallies = selectors.plan_tallies(selectors.visible_plans(request.user).filter(pk__in=[p.pk for p in plans]))
    return render(request, "reading/route_detail.html", {
        "route": route, "rows": [(plan, tallies.get(plan.pk, selectors.Tally())) for plan in plans],
        "accounts": Account.objects.filter(company_id=route.company_id, reading_route_code=route.code)
        .exclude(status=AccountStatus.CLOSED).order_by("account_no")[:50],
        "can_edit": authz.authorize(request.user, "reading.manage_routes", route.org),
    })


@requires(*MANAGE)
def route_create(request):
    orgs = scope_orgs(request.user, MANAGE)
    form = RouteForm(request.POST or None, orgs=orgs)
    if request.method == "POST" and form.is_valid():
        route = run(request, form, route_services.create_route, actor(request), **form.cleaned_data)
        if route is not None:
            messages.success(request, _("Route %(code)s was created.") % {"code": route.code})
            return redirect("reading:route_detail", route.pk)
    return render(request, "reading/form.html", {"form": form, "title": _("New reading route"),
                                                 "cancel": reverse("reading:route_list")})


@requires(*MANAGE)
def route_edit(request, pk):
    route = scoped_get(selectors.visible_routes(request.user), pk=pk)
    if not authz.authorize(request.user, "reading.manage_routes", route.org):
        return redirect("reading:route_detail", route.pk)
    initial = {name: getattr(route, name) for name in EDIT_FIELDS}
    form = RouteForm(request.POST or None, orgs=scope_orgs(request.user, MANAGE), editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason", "")
        changes = changed_fields(data, initial)
        if not changes:
            messages.info(request, _("Nothing was changed."))
            return redirect("reading:route_detail", route.pk)
        if run(request, form, route_services.update_route, actor(request), route, reason=reason, **changes) is not None:
            messages.success(request, _("Route %(code)s was saved.") % {"code": route.code})
            return redirect("reading:route_detail", route.pk)
    return render(request, "reading/form.html", {
        "form": form, "title": _("Edit route %(code)s") % {"code": route.code},
        "cancel": reverse("reading:route_detail", args=[route.pk]),
    })
