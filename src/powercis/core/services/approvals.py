"""Approval transitions: submit, approve, reject (with a comment), withdraw.

Rules that hold for every document type:

* only a holder of the step's post, with the step's permission, in an org whose data
  scope covers the document's org, may act on a step;
* nobody may approve or reject a document they created, submitted, processed (or that
  concerns them, as the document type declares) or already approved at an earlier
  step — whatever their permissions (seed 2.2(2));
* a pending document is locked: its services refuse edits (``ensure_editable``);
* every transition is an :class:`ApprovalAction` row and an audit record.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import audit, authz, workflow
from ..authz import Grant
from ..context import Actor
from ..errors import DocumentLocked, InvalidTransition, NotAuthorized, SeparationOfDutiesViolation, ValidationFailed
from ..models import ApprovalAction, ApprovalRequest, ApprovalStatus, Org


def ensure_editable(doc) -> None:
    """Refuse a change to a document that is in approval or already approved."""
    if doc.approval_status == ApprovalStatus.PENDING:
        raise DocumentLocked()
    if doc.approval_status == ApprovalStatus.APPROVED:
        raise DocumentLocked(_("The document is approved and can no longer be changed."))


def open_request(doc) -> ApprovalRequest | None:
    ct = ContentType.objects.get_for_model(type(doc))
    return ApprovalRequest.objects.filter(content_type=ct, object_id=doc.pk, status=ApprovalRequest.Status.PENDING).first()


def step_grant(user, request: ApprovalRequest) -> Grant | None:
    """The user's grant that qualifies them for the request's current step, or None."""
    step = workflow.get(request.doc_type).steps[request.step_index]
    org = request.org
    for grant in authz.grants(user).get(step.permission, []):
        if step.admits(grant) and grant.covers(org):
            return grant
    return None


def excluded_reason(user, request: ApprovalRequest, doc) -> str | None:
    """Why separation of duties bars this user from deciding the request, or None."""
    if user.pk == request.created_by_id:
        return _("You created this document; someone else must approve it.")
    if user.pk == request.submitted_by_id:
        return _("You submitted this document; someone else must approve it.")
    if user.pk in workflow.get(request.doc_type).processors(doc):
        return _("You processed this document or it concerns you; someone else must approve it.")
    if request.actions.filter(actor_id=user.pk, kind=ApprovalAction.Kind.APPROVE).exists():
        return _("You already approved an earlier step of this document; another person must approve this step.")
    return None


def can_decide(user, request: ApprovalRequest) -> bool:
    if not request.is_open or step_grant(user, request) is None:
        return False
    return excluded_reason(user, request, request.document) is None


def _action(request, kind, actor: Actor, grant: Grant | None, comment: str, step_name: str = "") -> ApprovalAction:
    return ApprovalAction.objects.create(
        request=request, step_index=request.step_index, step_name=step_name, kind=kind, actor=actor.user,
        post_code=grant.post_code if grant else "", comment=comment, at=timezone.now(),
    )


def _lock_document(doc):
    return type(doc).objects.select_for_update().get(pk=doc.pk)


@transaction.atomic
def submit(actor: Actor, doc, *, comment: str = "") -> ApprovalRequest:
    doc_type = workflow.for_document(doc)
    doc = _lock_document(doc)
    grant = authz.require(actor, doc_type.submit_permission, doc.org)
    if doc.approval_status == ApprovalStatus.PENDING:
        raise InvalidTransition(_("The document is already in approval."))
    if doc.approval_status == ApprovalStatus.APPROVED:
        raise InvalidTransition(_("The document is already approved."))
    org: Org = doc.org
    request = ApprovalRequest(
        doc_type=doc_type.code, content_type=ContentType.objects.get_for_model(type(doc)), object_id=doc.pk,
        company_id=org.company_id, org=org, title=str(doc_type.title(doc))[:200], step_index=0,
        step_count=len(doc_type.steps), created_by_id=doc.created_by_id, submitted_by=actor.user,
        submitted_at=timezone.now(),
    )
    request.save()
    _action(request, ApprovalAction.Kind.SUBMIT, actor, grant, comment)
    doc.approval_status = ApprovalStatus.PENDING
    doc.save(update_fields=["approval_status"])
    audit.record(actor, action="approval.submit", obj=doc, org=org, grant=grant, ref=f"approval:{request.pk}",
                 reason=comment, changes={"approval_status": [ApprovalStatus.DRAFT, ApprovalStatus.PENDING]})
    return request


def _decide_preconditions(actor: Actor, request: ApprovalRequest):
    request = ApprovalRequest.objects.select_for_update().get(pk=request.pk)
    if not request.is_open:
        raise InvalidTransition(_("This approval is already closed (%(status)s).") % {"status": request.get_status_display()})
    doc_type = workflow.get(request.doc_type)
    step = doc_type.steps[request.step_index]
    if actor.user is None:
        raise NotAuthorized()
    grant = step_grant(actor.user, request)
    if grant is None:
        raise NotAuthorized(
            _("Step “%(step)s” must be decided by a holder of the post “%(post)s” whose scope covers %(org)s.")
            % {"step": step.name, "post": step.post, "org": request.org.name}
        )
    doc = _lock_document(request.document)
    reason = excluded_reason(actor.user, request, doc)
    if reason:
        raise SeparationOfDutiesViolation(reason)
    return request, doc_type, step, grant, doc


@transaction.atomic
def approve(actor: Actor, request: ApprovalRequest, *, comment: str = "") -> ApprovalRequest:
    request, doc_type, step, grant, doc = _decide_preconditions(actor, request)
    _action(request, ApprovalAction.Kind.APPROVE, actor, grant, comment, str(step.name))
    last = request.step_index + 1 >= request.step_count
    if last:
        request.status = ApprovalRequest.Status.APPROVED
        request.closed_at = timezone.now()
        doc.approval_status = ApprovalStatus.APPROVED
        doc.save(update_fields=["approval_status"])
    else:
        request.step_index += 1
    request.save()
    audit.record(actor, action="approval.approve", obj=doc, org=request.org, grant=grant,
                 ref=f"approval:{request.pk}", reason=comment,
                 changes={"step": [step.name, None if last else doc_type.steps[request.step_index].name]})
    if last and doc_type.on_approved:
        doc_type.on_approved(actor, doc, request)
    return request


@transaction.atomic
def reject(actor: Actor, request: ApprovalRequest, *, comment: str) -> ApprovalRequest:
    if not (comment or "").strip():
        raise ValidationFailed(fields={"comment": [_("Say why the document is rejected.")]})
    request, doc_type, step, grant, doc = _decide_preconditions(actor, request)
    _action(request, ApprovalAction.Kind.REJECT, actor, grant, comment, str(step.name))
    request.status = ApprovalRequest.Status.REJECTED
    request.closed_at = timezone.now()
    request.save()
    doc.approval_status = ApprovalStatus.REJECTED
    doc.save(update_fields=["approval_status"])
    audit.record(actor, action="approval.reject", obj=doc, org=request.org, grant=grant,
                 ref=f"approval:{request.pk}", reason=comment,
                 changes={"approval_status": [ApprovalStatus.PENDING, ApprovalStatus.REJECTED]})
    if doc_type.on_rejected:
        doc_type.on_rejected(actor, doc, request)
    return request


@transaction.atomic
def withdraw(actor: Actor, request: ApprovalRequest, *, comment: str = "") -> ApprovalRequest:
    request = ApprovalRequest.objects.select_for_update().get(pk=request.pk)
    if not request.is_open:
        raise InvalidTransition(_("This approval is already closed (%(status)s).") % {"status": request.get_status_display()})
    if actor.user is None or actor.user.pk not in (request.submitted_by_id, request.created_by_id):
        raise NotAuthorized(_("Only the person who created or submitted the document may withdraw it."))
    doc_type = workflow.get(request.doc_type)
    doc = _lock_document(request.document)
    _action(request, ApprovalAction.Kind.WITHDRAW, actor, None, comment)
    request.status = ApprovalRequest.Status.WITHDRAWN
    request.closed_at = timezone.now()
    request.save()
    doc.approval_status = ApprovalStatus.WITHDRAWN
    doc.save(update_fields=["approval_status"])
    audit.record(actor, action="approval.withdraw", obj=doc, org=request.org, ref=f"approval:{request.pk}",
                 reason=comment, changes={"approval_status": [ApprovalStatus.PENDING, ApprovalStatus.WITHDRAWN]})
    if doc_type.on_withdrawn:
        doc_type.on_withdrawn(actor, doc, request)
    return request
