"""Approvals: the inbox (待办), my requests, a request's page with its history, and the decisions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.template.loader import select_template
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import selectors, workflow
from ..forms import DecisionForm
from ..services import approvals as approval_services
from .common import actor, page, run, scoped_get


@login_required
def inbox(request):
    return render(request, "core/approval_list.html", {
        "title": _("My inbox"), "mode": "inbox", **page(request, selectors.inbox(request.user)),
    })


@login_required
def my_requests(request):
    return render(request, "core/approval_list.html", {
        "title": _("My requests"), "mode": "mine", **page(request, selectors.submitted_by(request.user)),
    })


@login_required
def approval_detail(request, pk):
    approval = scoped_get(selectors.visible_approvals(request.user), pk=pk)
    doc = approval.document
    doc_type = workflow.get(approval.doc_type)
    user = request.user
    excluded = approval_services.excluded_reason(user, approval, doc) if approval.is_open else None
    doc_template = select_template([f"core/approval_docs/{approval.doc_type.replace('.', '_')}.html",
                                    "core/approval_docs/generic.html"])
    return render(request, "core/approval_detail.html", {
        "approval": approval,
        "doc": doc,
        "doc_type": doc_type,
        "doc_template": doc_template.template.name,
        "steps": [{"index": i, "step": s, "state": "done" if i < approval.step_index or approval.status == "approved"
                   else ("current" if i == approval.step_index and approval.is_open else "waiting")}
                  for i, s in enumerate(doc_type.steps)],
        "actions": approval.actions.select_related("actor").order_by("at", "id"),
        "can_decide": approval.is_open and approval_services.step_grant(user, approval) is not None and not excluded,
        "excluded_reason": excluded if approval.is_open and approval_services.step_grant(user, approval) else None,
        "can_withdraw": approval.is_open and user.pk in (approval.submitted_by_id, approval.created_by_id),
        "form": DecisionForm(),
    })


def _decide(request, pk, fn, success: str):
    approval = scoped_get(selectors.visible_approvals(request.user), pk=pk)
    form = DecisionForm(request.POST)
    comment = form.data.get("comment", "")[:500]
    if run(request, None, fn, actor(request), approval, comment=comment) is not None:
        messages.success(request, success)
    return redirect("core:approval_detail", approval.pk)


@require_POST
@login_required
def approval_approve(request, pk):
    return _decide(request, pk, approval_services.approve, _("Approved."))


@require_POST
@login_required
def approval_reject(request, pk):
    return _decide(request, pk, approval_services.reject, _("Rejected; the submitter sees your comment."))


@require_POST
@login_required
def approval_withdraw(request, pk):
    return _decide(request, pk, approval_services.withdraw, _("Withdrawn."))
