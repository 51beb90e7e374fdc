"""The account change (用电变更) document type: taken by an account manager, approved by the marketing manager."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from powercis.core import workflow


def _apply(actor, doc, request):
    from .services.changes import apply_approved_change

    apply_approved_change(actor, doc, request)


def _title(doc) -> str:
    return f"{doc.get_kind_display()} · {doc.account.account_no} {doc.account.name} · {doc.effective_date:%Y-%m-%d}"


ACCOUNT_CHANGE = workflow.register(
    workflow.DocumentType(
        code="customers.account_change",
        label=_("Account change"),
        model="customers.AccountChange",
        submit_permission="customers.change_request",
        steps=(workflow.Step(name=_("Marketing manager approval"), post="marketing_manager",
                             permission="customers.change_approve"),),
        on_approved=_apply,
        title=_title,
    )
)
