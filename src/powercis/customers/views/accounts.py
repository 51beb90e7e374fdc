"""Account pages: the list, the 360 page, editing the non-billing attributes, opening an account."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from powercis.core import authz
from powercis.core.views.common import actor, changed_fields, page, requires, run, scoped_get

from .. import selectors
from ..filters import AccountFilter
from ..forms import AccountEditForm, AccountOpenForm
from ..models import AccountStatus
from ..panels import panels_for
from ..services import records

EDIT_FIELDS = ("service_address", "industry_class", "importance_level", "is_key_account", "payment_method",
               "reading_route_code", "longitude", "latitude")


@requires(*selectors.VIEW_PERMS)
def account_list(request):
    accounts = selectors.visible_accounts(request.user).order_by("account_no")
    filterset = AccountFilter(request.GET or None, queryset=accounts)
    for field in filterset.form.fields.values():
        field.widget.attrs.setdefault("class", "form-control form-control-sm")
    return render(request, "customers/account_list.html", {
        "filter": filterset, "statuses": AccountStatus.choices,
        "orgs": authz.orgs_in_scope(request.user, "customers.view").order_by("path"),
        **page(request, filterset.qs),
    })


@requires(*selectors.VIEW_PERMS)
def account_detail(request, pk):
    account = scoped_get(selectors.visible_accounts(request.user), pk=pk)
    return render(request, "customers/account_detail.html", {
        "account": account, "panels": panels_for(request, account),
    })


@requires("customers.edit")
def account_edit(request, pk):
    account = scoped_get(selectors.visible_accounts(request.user, ("customers.edit",)), pk=pk)
    initial = {f: getattr(account, f) for f in EDIT_FIELDS}
    form = AccountEditForm(request.POST or None, initial=initial, company_id=account.company_id)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason")
        changes = changed_fields(data, initial)
        if run(request, form, records.update_account, actor(request), account, reason=reason, **changes) is not None:
            messages.success(request, _("Account %(no)s was saved.") % {"no": account.account_no})
            return redirect("customers:account_detail", account.pk)
    return render(request, "customers/form.html", {
        "form": form, "title": _("Edit account %(no)s") % {"no": account.account_no},
        "note": _("Billing attributes (category, tariff, capacity, status…) change only through an account change."),
        "cancel": reverse("customers:account_detail", args=[account.pk]),
    })


@requires("customers.edit")
def account_open(request, customer_pk):
    customer = scoped_get(selectors.visible_customers(request.user, ("customers.edit",)), pk=customer_pk)
    orgs = authz.orgs_in_scope(request.user, "customers.edit").filter(company_id=customer.company_id).order_by("path")
    form = AccountOpenForm(request.POST or None, company_id=customer.company_id, orgs=orgs,
                           initial={"org": customer.org_id, "importance_level": "NONE", "payment_method": "COUNTER",
                                    "pf_standard": "NONE", "metering_mode": "LL"})
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        data.setdefault("is_key_account", False)
        account = run(request, form, records.open_account, actor(request), customer=customer, **data)
        if account is not None:
            messages.success(request, _("Account %(no)s was opened.") % {"no": account.account_no})
            return redirect("customers:account_detail", account.pk)
    return render(request, "customers/form.html", {
        "form": form, "title": _("Open an account for %(name)s") % {"name": customer.name},
        "cancel": reverse("customers:customer_detail", args=[customer.pk]),
    })
