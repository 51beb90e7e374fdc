"""Posts and their permissions, and granting posts to staff through approval (岗位授权)."""

from __future__ import annotations

import re

from django.db import transaction
from django.utils.translation import gettext as _

from .. import audit, authz
from ..context import Actor
from ..errors import NotAuthorized, ValidationFailed
from ..models import (
    ApprovalRequest,
    ApprovalStatus,
    DataScope,
    Org,
    Permission,
    Post,
    PostAssignment,
    PostGrantRequest,
    Staff,
)
from . import approvals, sod
from .base import apply_changes, validated

POST_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def _permissions(codes) -> list[Permission]:
    codes = set(codes)
    found = list(Permission.objects.filter(code__in=codes, is_active=True))
    unknown = codes - {p.code for p in found}
    if unknown:
        raise ValidationFailed(fields={"permissions": [
            _("Unknown permission %(code)s.") % {"code": code} for code in sorted(unknown)
        ]})
    return found


def _check_post_permissions(post: Post, codes: set[str]) -> None:
    """A post may not itself hold a conflicting pair, and no holder may end up with one."""
    rules = sod.conflicting_rules(post.company_id, codes)
    if rules:
        raise sod.refusal(rules, _("every holder of the post “%(post)s”") % {"post": post.label})
    if post.pk is None:
        return
    holders = Staff.objects.filter(assignments__post=post, is_active=True).distinct()
    for staff in holders:
        others = sod.staff_permission_codes(staff, post.company_id, exclude_post_id=post.pk)
        sod.check_staff_permissions(staff, post.company_id, others | codes)


@transaction.atomic
def create_post(actor: Actor, company: Org, *, code: str, label_zh: str, label_en: str = "",
                description: str = "", permissions=()) -> Post:
    grant = authz.require(actor, "core.manage_posts", company)
    if not company.is_company:
        raise ValidationFailed(fields={"company": [_("Posts belong to a company (a root org).")]})
    if not POST_CODE.fullmatch(code or ""):
        raise ValidationFailed(fields={"code": [_("Use 2 to 40 lower-case letters, digits or '_', starting with a letter.")]})
    if Post.objects.filter(company=company, code=code).exists():
        raise ValidationFailed(fields={"code": [_("The company already has a post with code %(code)s.") % {"code": code}]})
    post = Post(company=company, code=code, label_zh=label_zh, label_en=label_en or label_zh, description=description)
    validated(post)
    perms = _permissions(permissions)
    _check_post_permissions(post, {p.code for p in perms})
    post.save()
    post.permissions.set(perms)
    audit.record_create(actor, post, org=company, grant=grant, extra={"permissions": sorted(p.code for p in perms)})
    return post


@transaction.atomic
def update_post(actor: Actor, post: Post, *, reason: str = "", **changes) -> Post:
    post = Post.objects.select_for_update().get(pk=post.pk)
    grant = authz.require(actor, "core.manage_posts", post.company)
    apply_changes(actor, post, changes, allowed={"label_zh", "label_en", "description", "is_active"},
                  grant=grant, reason=reason)
    return post


@transaction.atomic
def set_post_permissions(actor: Actor, post: Post, codes, *, reason: str = "") -> Post:
    post = Post.objects.select_for_update().get(pk=post.pk)
    grant = authz.require(actor, "core.manage_posts", post.company)
    perms = _permissions(codes)
    new_codes = {p.code for p in perms}
    old_codes = set(post.permissions.values_list("code", flat=True))
    if new_codes == old_codes:
        return post
    _check_post_permissions(post, new_codes)
    post.permissions.set(perms)
    audit.record(actor, action="update", category="change", obj=post, org=post.company, grant=grant, reason=reason,
                 changes={"permissions": [sorted(old_codes), sorted(new_codes)]})
    return post


# --- granting posts -------------------------------------------------------


def _validate_grant(actor: Actor, staff: Staff, post: Post, org: Org, scope: str):
    if scope not in DataScope.values:
        raise ValidationFailed(fields={"scope": [_("Unknown data scope %(scope)s.") % {"scope": scope}]})
    if not staff.is_active:
        raise ValidationFailed(fields={"staff": [_("The staff member is deactivated.")]})
    if not post.is_active:
        raise ValidationFailed(fields={"post": [_("The post is deactivated.")]})
    if not org.is_active:
        raise ValidationFailed(fields={"org": [_("The org is deactivated.")]})
    if post.company_id != org.company_id:
        raise ValidationFailed(fields={"post": [_("The post belongs to another company than the org.")]})
    if staff.org.company_id != org.company_id:
        raise ValidationFailed(fields={"org": [_("The staff member belongs to another company.")]})
    if scope == DataScope.ALL and not actor.is_system:
        if not any(g.scope == DataScope.ALL for g in authz.grants(actor).get("core.manage_staff", [])):
            raise NotAuthorized(_("Only an installation administrator may grant the data scope “all orgs”."))
    if PostAssignment.objects.filter(staff=staff, post=post, org=org).exists():
        raise ValidationFailed(fields={"post": [_("%(staff)s already holds this post in %(org)s.")
                                                % {"staff": staff.full_name, "org": org.name}]})
    codes = sod.staff_permission_codes(staff, org.company_id) | set(post.permissions.values_list("code", flat=True))
    sod.check_staff_permissions(staff, org.company_id, codes)


@transaction.atomic
def request_post_grant(actor: Actor, *, staff: Staff, post: Post, org: Org, scope: str, reason: str,
                       comment: str = "") -> PostGrantRequest:
    """Create a grant request and submit it for approval; the grant takes effect when approved."""
    authz.require(actor, "core.manage_staff", org)
    if not (reason or "").strip():
        raise ValidationFailed(fields={"reason": [_("Give the reason for the grant.")]})
    _validate_grant(actor, staff, post, org, scope)
    if PostGrantRequest.objects.filter(staff=staff, post=post, org=org, approval_status=ApprovalStatus.PENDING).exists():
        raise ValidationFailed(fields={"post": [_("A request for this grant is already in approval.")]})
    doc = PostGrantRequest(staff=staff, post=post, org=org, scope=scope, reason=reason.strip(), created_by=actor.user)
    validated(doc, exclude=["created_by"])
    doc.save()
    audit.record_create(actor, doc, grant=authz.grant_for(actor, "core.manage_staff", org))
    approvals.submit(actor, doc, comment=comment)
    doc.refresh_from_db()
    return doc


def apply_approved_grant(actor: Actor, doc: PostGrantRequest, request: ApprovalRequest) -> PostAssignment:
    """The effect of an approved grant request (called by the workflow inside the approval transaction)."""
    # Re-check against today's rules (a conflicting pair may have been added while the
    # request waited); the requester's authority was checked when it was made.
    _validate_grant(Actor.as_system(), doc.staff, doc.post, doc.org, doc.scope)
    assignment = PostAssignment.objects.create(
        staff=doc.staff, post=doc.post, org=doc.org, scope=doc.scope, granted_by=doc.created_by, grant_request=doc
    )
    audit.record_create(actor, assignment, org=doc.org, ref=f"approval:{request.pk}")
    authz.forget(doc.staff)
    return assignment


@transaction.atomic
def bootstrap_grant(actor: Actor, *, staff: Staff, post: Post, org: Org, scope: str) -> PostAssignment:
    """Grant without approval; only the installation itself may (first administrator, demo data)."""
    if not actor.is_system:
        raise NotAuthorized(_("Posts are granted through an approved grant request."))
    _validate_grant(actor, staff, post, org, scope)
    assignment = PostAssignment.objects.create(staff=staff, post=post, org=org, scope=scope)
    audit.record_create(actor, assignment, org=org, reason="bootstrap")
    authz.forget(staff)
    return assignment


@transaction.atomic
def revoke_assignment(actor: Actor, assignment: PostAssignment, *, reason: str) -> PostAssignment:
    """Take a post away.  Removing rights needs no approval, but a reason, and it is audited."""
    assignment = PostAssignment.objects.select_for_update().select_related("org", "staff", "post").get(pk=assignment.pk)
    grant = authz.require(actor, "core.manage_staff", assignment.org)
    if not (reason or "").strip():
        raise ValidationFailed(fields={"reason": [_("Give the reason for revoking the post.")]})
    if actor.user is not None and assignment.staff_id == actor.user.pk and assignment.post.code == "sysadmin":
        raise ValidationFailed(_("You cannot revoke your own administrator post."))
    before = audit.snapshot(assignment)
    audit.record_delete(actor, assignment, before, org=assignment.org, grant=grant, reason=reason)
    assignment.delete()
    authz.forget(assignment.staff)
    return assignment
