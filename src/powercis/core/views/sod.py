"""Separation of duties: the conflicting pairs per company and the report of people who hold both."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import selectors
from ..forms import SodRuleForm
from ..models import SodRule
from ..services import sod as sod_services
from .common import actor, requires, run, scoped_get


def _rules(user):
    companies = selectors.companies_of(user, "core.manage_sod")
    return companies, SodRule.objects.filter(company__in=companies).select_related(
        "company", "permission_a", "permission_b").order_by("company__code", "permission_a__code")


@requires("core.manage_sod")
def sod_rules(request):
    companies, rules = _rules(request.user)
    form = SodRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        company = scoped_get(companies, pk=request.POST.get("company") or companies.first().pk)
        rule = run(request, form, sod_services.add_rule, actor(request), company, **form.cleaned_data)
        if rule is not None:
            messages.success(request, _("The rule was added. Check the conflicts report for people who already hold both."))
            return redirect("core:sod_rules")
    return render(request, "core/sod_rules.html", {"rules": rules, "form": form, "companies": companies})


@require_POST
@requires("core.manage_sod")
def sod_rule_set_active(request, pk):
    _companies, rules = _rules(request.user)
    rule = scoped_get(rules, pk=pk)
    active = request.POST.get("active") == "1"
    if run(request, None, sod_services.set_rule_active, actor(request), rule, active,
           reason=request.POST.get("reason", "")) is not None:
        messages.success(request, _("The rule was switched on.") if active else _("The rule was switched off."))
    return redirect("core:sod_rules")


@requires("core.manage_sod", "core.view_audit")
def sod_conflicts(request):
    """Everyone in the viewer's scope who holds both permissions of an active rule of their company."""
    return render(request, "core/sod_conflicts.html", {"rows": selectors.sod_conflicts(request.user)})
