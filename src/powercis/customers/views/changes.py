"""Account change pages: take a request (改类, 增容/减容, 暂停/恢复, 更名/过户, 销户), the worklist, one change."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from powercis.core import authz
from powercis.core.selectors import latest_approval
from powercis.core.views.common import actor, page, requires, run, scoped_get

from .. import selectors
from ..filters import ChangeFilter
from ..forms import ChangeForm
from ..change_display import change_rows
from ..models import AccountStatus, ChangeKind
from ..services import changes as change_services

CHANGE_PERMS = ("customers.change_request", "customers.change_approve")


def kinds_for(account) -> list[tuple[str, str]]:
    """The kinds of change that make sense for the account as it is today."""
    if account.status == AccountStatus.CLOSED:
        return []
    skip = {ChangeKind.SUSPEND} if account.status == AccountStatus.SUSPENDED else {ChangeKind.RESUME}
    if account.status == AccountStatus.NORMAL and account.running_capacity < account.contract_capacity:
        skip.discard(ChangeKind.RESUME)
    return [(k, label) for k, label in ChangeKind.choices if k not in skip]


@requires("customers.change_request")
def change_create(request, account_pk):
    account = scoped_get(selectors.visible_accounts(request.user, ("customers.change_request",)), pk=account_pk)
    kinds = kinds_for(account)
    kind = request.POST.get("kind") or request.GET.get("kind") or ""
    if kind not in dict(kinds):
        return render(request, "customers/change_kind.html", {"account": account, "kinds": kinds})
    customers = []
    if kind == ChangeKind.TRANSFER:
        customers = (selectors.visible_customers(request.user).filter(company_id=account.company_id)
                     .exclude(pk=account.customer_id).order_by("customer_no")[:500])
    form = ChangeForm(request.POST or None, kind=kind, company_id=account.company_id, customers=customers)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        doc = run(request, form, change_services.request_change, actor(request), account, kind=kind,
                  effective_date=data["effective_date"], end_date=data.get("end_date"), reason=data["reason"],
                  values=form.values())
        if doc is not None:
            messages.success(request, _("The change was sent for approval."))
            return redirect("customers:change_detail", doc.pk)
    return render(request, "customers/change_form.html", {
        "account": account, "form": form, "kind": kind, "kind_label": ChangeKind(kind).label,
    })


@requires(*CHANGE_PERMS, "customers.view")
def change_list(request):
    filterset = ChangeFilter(request.GET or None, queryset=selectors.visible_changes(request.user))
    return render(request, "customers/change_list.html", {
        "filter": filterset, "kinds": ChangeKind.choices, **page(request, filterset.qs),
    })


@requires(*CHANGE_PERMS, "customers.view")
def change_detail(request, pk):
    doc = scoped_get(selectors.visible_changes(request.user), pk=pk)
    account = doc.account
    return render(request, "customers/change_detail.html", {
        "doc": doc, "account": account, "rows": change_rows(doc), "request_obj": latest_approval(doc),
        "can_decide": authz.authorize(request.user, "customers.change_approve", account.org),
    })
