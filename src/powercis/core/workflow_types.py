"""Document types that core itself sends through approval."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from . import workflow


def _apply_grant(actor, doc, request):
    from .services.posts import apply_approved_grant

    apply_approved_grant(actor, doc, request)


def _grant_title(doc) -> str:
    return f"{doc.staff.full_name} · {doc.post.label_zh} @ {doc.org.name}"


POST_GRANT = workflow.register(
    workflow.DocumentType(
        code="core.post_grant",
        label=_("Post grant request"),
        model="core.PostGrantRequest",
        submit_permission="core.manage_staff",
        steps=(workflow.Step(name=_("Marketing manager approval"), post="marketing_manager",
                             permission="core.approve_grants"),),
        on_approved=_apply_grant,
        # the person who would receive the post may not approve the grant either
        processors=lambda doc: {doc.staff_id},
        title=_grant_title,
    )
)
