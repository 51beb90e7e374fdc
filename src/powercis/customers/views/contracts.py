"""Supply contract pages: the list and the expiring-contracts worklist, sign, renew, terminate."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from powercis.core.views.common import actor, page, requires, run, scoped_get

from .. import selectors
from ..filters import ContractFilter
from ..forms import ContractForm, ContractRenewForm
from ..models import SupplyContract
from ..services import contracts as contract_services

VIEW = ("customers.view", "customers.manage_contracts")


@requires(*VIEW)
def contract_list(request):
    """All contracts, or with ``?within=N`` the worklist of contracts in force that expire within N days."""
    within = request.GET.get("within", "")
    today = timezone.localdate()
    if within.isdigit():
        contracts = selectors.expiring_contracts(request.user, int(within), today)
    else:
        contracts = selectors.visible_contracts(request.user).order_by("contract_no", "-version")
    filterset = ContractFilter(request.GET or None, queryset=contracts)
    return render(request, "customers/contract_list.html", {
        "filter": filterset, "within": within, "today": today, "statuses": SupplyContract.Status.choices,
        **page(request, filterset.qs),
    })


@requires("customers.manage_contracts")
def contract_create(request, account_pk):
    account = scoped_get(selectors.visible_accounts(request.user, ("customers.manage_contracts",)), pk=account_pk)
    today = timezone.localdate()
    form = ContractForm(request.POST or None, initial={
        "signed_on": today, "valid_from": today, "expires_on": today + dt.timedelta(days=5 * 365)})
    if request.method == "POST" and form.is_valid():
        contract = run(request, form, contract_services.sign_contract, actor(request), account, **form.cleaned_data)
        if contract is not None:
            messages.success(request, _("Contract %(no)s was recorded.") % {"no": contract.contract_no})
            return redirect("customers:account_detail", account.pk)
    return render(request, "customers/form.html", {
        "form": form, "title": _("New supply contract for %(no)s") % {"no": account.account_no},
        "cancel": reverse("customers:account_detail", args=[account.pk]),
    })


@requires("customers.manage_contracts")
def contract_renew(request, pk):
    contract = scoped_get(selectors.visible_contracts(request.user), pk=pk)
    form = ContractRenewForm(request.POST or None, initial={
        "signed_on": timezone.localdate(), "valid_from": contract.expires_on + dt.timedelta(days=1),
        "terms": contract.terms})
    if request.method == "POST" and form.is_valid():
        nxt = run(request, form, contract_services.renew_contract, actor(request), contract, **form.cleaned_data)
        if nxt is not None:
            messages.success(request, _("Version %(v)s of contract %(no)s was recorded.")
                             % {"v": nxt.version, "no": nxt.contract_no})
            return redirect("customers:account_detail", contract.account_id)
    return render(request, "customers/form.html", {
        "form": form, "title": _("Renew contract %(no)s (version %(v)s)") % {"no": contract.contract_no,
                                                                              "v": contract.version},
        "cancel": reverse("customers:account_detail", args=[contract.account_id]),
    })


@require_POST
@requires("customers.manage_contracts")
def contract_terminate(request, pk):
    contract = scoped_get(selectors.visible_contracts(request.user), pk=pk)
    if run(request, None, contract_services.terminate_contract, actor(request), contract,
           reason=request.POST.get("reason", "")) is not None:
        messages.success(request, _("Contract %(no)s was terminated.") % {"no": contract.contract_no})
    return redirect("customers:account_detail", contract.account_id)
