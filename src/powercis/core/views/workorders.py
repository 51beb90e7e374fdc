"""Work-order pages (工单): the list staff work from, one order with where it came from, complete and cancel.

Orders are raised by the business that needs them (a re-read from the reading worklist);
these pages only find, show and close them.  Who sees which order and who may close it
is the registry's (``core.workorders``): the kinds' view permissions in the order's org,
and always the orders assigned to the user.  Closing goes through
``services.workorders`` with the kind's permission, which refuses what the page hides.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import authz, workorders
from ..forms import WorkOrderCloseForm, WorkOrderFilterForm
from ..models import Org, Staff, WorkOrder
from ..services import workorders as services
from .common import actor, page, run, scoped_get


def _gate(request) -> None:
    """The pages are for whoever may see some kind of order (the same test as the menu entry)."""
    if not workorders.may_view_any(request.user) and not WorkOrder.objects.filter(assignee=request.user).exists():
        raise PermissionDenied(_("You do not have permission to see work orders."))


def visible_orders(user):
    return workorders.visible(WorkOrder.objects.select_related("org", "assignee", "created_by"), user)


#: filter field → the lookup it narrows by
LOOKUPS = {"kind": "kind", "assignee": "assignee", "due_from": "due_on__gte", "due_to": "due_on__lte"}


def filter_orders(orders, data: dict):
    """Narrow the visible orders by the list's filters (the form has checked them)."""
    status = data.get("status") or WorkOrder.Status.OPEN
    if status != WorkOrderFilterForm.ALL:
        orders = orders.filter(status=status)
    orders = orders.filter(**{lookup: data[name] for name, lookup in LOOKUPS.items() if data.get(name)})
    if data.get("org"):
        orders = orders.filter(org_path__startswith=data["org"].path)
    if data.get("q"):
        q = data["q"].strip()
        orders = orders.filter(Q(number__icontains=q) | Q(account_no__icontains=q) |
                               Q(metering_point_code__icontains=q))
    return orders


@login_required
def workorder_list(request):
    _gate(request)
    visible = visible_orders(request.user)
    orgs = authz.restrict_any(Org.objects.filter(is_active=True), request.user, workorders.view_permissions(),
                              path_field="path")
    assignees = Staff.objects.filter(pk__in=visible.exclude(assignee=None).values("assignee")).order_by("full_name")
    data = request.GET.copy()
    data.setdefault("status", WorkOrder.Status.OPEN)
    form = WorkOrderFilterForm(data, orgs=orgs, assignees=assignees)
    orders = filter_orders(visible, form.cleaned_data) if form.is_valid() else visible.none()
    return render(request, "core/workorder_list.html", {
        "form": form, **page(request, orders.order_by("due_on", "-created_at", "-id")),
    })


@login_required
def workorder_detail(request, pk):
    _gate(request)
    order = scoped_get(visible_orders(request.user), pk=pk)
    may_close = workorders.may_close(request.user, order)
    return render(request, "core/workorder_detail.html", {
        "order": order, "sources": workorders.source_links(request.user, order), "may_close": may_close,
        "complete_form": WorkOrderCloseForm(prefix="complete") if may_close else None,
        "cancel_form": _cancel_form() if may_close else None,
    })


def _cancel_form(data=None) -> WorkOrderCloseForm:
    form = WorkOrderCloseForm(data, prefix="cancel")
    form.fields["text"].label = _("Reason for cancelling")
    return form


@require_POST
@login_required
def workorder_close(request, pk, outcome: str):
    """Complete (``done``) or cancel (``cancelled``) the order with the text typed; the service checks who may."""
    _gate(request)
    order = scoped_get(visible_orders(request.user), pk=pk)
    spec = workorders.kind(order.kind)
    perm = spec.close_permission if spec else ""
    if outcome == WorkOrder.Status.DONE:
        form, service, name = WorkOrderCloseForm(request.POST, prefix="complete"), services.complete_order, "result"
    else:
        form, service, name = _cancel_form(request.POST), services.cancel_order, "reason"
    if form.is_valid():
        closed = run(request, None, service, actor(request), order, perm=perm, **{name: form.cleaned_data["text"]})
        if closed is not None:
            text = (_("Work order %(no)s was completed: %(text)s") if outcome == WorkOrder.Status.DONE
                    else _("Work order %(no)s was cancelled: %(text)s"))
            messages.success(request, text % {"no": closed.number, "text": closed.result})
    else:
        for error in form.errors.get("text", []):
            messages.error(request, error)
    return redirect("core:workorder_detail", order.pk)
