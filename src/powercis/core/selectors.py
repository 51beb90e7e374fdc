"""Read queries for core pages and the API, each already restricted to the user's data scope."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from . import authz, workflow
from .models import (
    ApprovalAction,
    ApprovalRequest,
    AuditAlert,
    AuditCategory,
    AuditRecord,
    DataScope,
    Org,
    Post,
    PostAssignment,
    Staff,
)
from .services.sod import ConflictRow, conflicts_report


def visible_orgs(user, perm: str = "core.view_orgs") -> QuerySet:
    """Orgs the user may look at, deactivated ones included (pickers use ``authz.orgs_in_scope``)."""
    return authz.restrict(Org.objects.all(), user, perm, path_field="path")


def visible_staff(user, perm: str = "core.view_staff") -> QuerySet:
    return authz.restrict(Staff.objects.select_related("org"), user, perm, path_field="org__path")


def visible_posts(user, perm: str = "core.view_staff") -> QuerySet:
    """Posts of the companies in which the user holds ``perm`` anywhere."""
    held = authz.grants(user).get(perm, [])
    if any(g.scope == DataScope.ALL for g in held):
        return Post.objects.select_related("company")
    company_ids = set(Org.objects.filter(pk__in={g.org_id for g in held}).values_list("company_id", flat=True))
    return Post.objects.filter(company_id__in=company_ids).select_related("company")


def companies_of(user, perm: str) -> QuerySet:
    """The companies whose root org the user covers with ``perm`` (for company-wide settings)."""
    return authz.restrict(Org.objects.companies(), user, perm, path_field="path")


def inbox(user) -> QuerySet:
    """Pending approvals whose current step this user may decide (待办).

    For each step of each document type, every grant that the step admits adds "requests
    of this type at this step, in the grant's scope"; documents the user created,
    submitted or already approved are left out.
    """
    condition = Q(pk__in=[])
    held = authz.grants(user)
    for doc_type in workflow.all_types():
        for index, step in enumerate(doc_type.steps):
            for grant in held.get(step.permission, []):
                if step.admits(grant):
                    condition |= Q(doc_type=doc_type.code, step_index=index) & grant.q("org__path")
    already = ApprovalAction.objects.filter(request=OuterRef("pk"), actor=user, kind=ApprovalAction.Kind.APPROVE)
    return (
        ApprovalRequest.objects.filter(status=ApprovalRequest.Status.PENDING)
        .filter(condition)
        .exclude(created_by=user)
        .exclude(submitted_by=user)
        .exclude(Exists(already))
        .select_related("org", "submitted_by")
        .order_by("submitted_at", "id")
    )


def latest_approval(doc) -> ApprovalRequest | None:
    """The document's most recent approval request (open or closed)."""
    return (
        ApprovalRequest.objects.filter(content_type=ContentType.objects.get_for_model(type(doc)), object_id=doc.pk)
        .order_by("-submitted_at", "-id")
        .first()
    )


def submitted_by(user) -> QuerySet:
    return (
        ApprovalRequest.objects.filter(Q(submitted_by=user) | Q(created_by=user))
        .select_related("org")
        .order_by("-submitted_at", "-id")
    )


def visible_approvals(user) -> QuerySet:
    """Approvals the user may look at: their own, their inbox, and those in their audit scope."""
    scoped = authz.restrict(ApprovalRequest.objects.all(), user, "core.view_audit", path_field="org__path")
    return (
        ApprovalRequest.objects.filter(
            Q(pk__in=inbox(user).values("pk")) | Q(submitted_by=user) | Q(created_by=user)
            | Q(pk__in=scoped.values("pk")) | Q(actions__actor=user)
        )
        .distinct()
        .select_related("org", "submitted_by")
    )


def audit_records(user) -> QuerySet:
    return authz.restrict(AuditRecord.objects.all(), user, "core.view_audit", path_field="org_path")


def open_alerts(user) -> QuerySet:
    return authz.restrict(AuditAlert.objects.filter(status=AuditAlert.Status.OPEN), user, "core.handle_alerts",
                          path_field="org_path").select_related("rule", "actor")


def alerts(user) -> QuerySet:
    return authz.restrict(AuditAlert.objects.all(), user, "core.handle_alerts", path_field="org_path").select_related(
        "rule", "actor", "acknowledged_by"
    )


def local_day_range(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return start, start + dt.timedelta(days=1)


def daily_changes(user, day: dt.date) -> QuerySet:
    """The day's master-data changes and business actions in the user's scope (日修订日志)."""
    start, end = local_day_range(day)
    return (
        audit_records(user)
        .filter(at__gte=start, at__lt=end, category__in=[AuditCategory.CHANGE, AuditCategory.ACTION])
        .order_by("seq")
    )


def daily_summary(records) -> dict:
    by_actor = Counter(r.actor_name for r in records)
    by_type = Counter(r.object_type for r in records)
    unreferenced = sum(1 for r in records if r.category == AuditCategory.CHANGE and not r.ref)
    return {"by_actor": by_actor.most_common(), "by_type": by_type.most_common(), "unreferenced": unreferenced,
            "total": len(records)}


def assignments_of(staff: Staff) -> QuerySet:
    return PostAssignment.objects.filter(staff=staff).select_related("post", "org").order_by("post__code")


def company_ids(user) -> set[int]:
    """The companies the user works in: their home org's and those of the orgs where they hold a post."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    held = [g for gs in authz.grants(user).values() for g in gs]
    if any(g.scope == DataScope.ALL for g in held):
        return set(Org.objects.companies().values_list("pk", flat=True))
    orgs = Org.objects.filter(pk__in={g.org_id for g in held})
    return {user.org.company_id, *orgs.values_list("company_id", flat=True)}


def sod_conflicts(user, perms=("core.manage_sod", "core.view_audit")) -> list[ConflictRow]:
    """People in the user's scope (of any of ``perms``) who hold both permissions of an active rule of their company."""
    held = [g for perm in perms for g in authz.grants(user).get(perm, [])]
    companies = Org.objects.filter(pk__in=Org.objects.filter(pk__in={g.org_id for g in held}).values("company_id"))
    return [row for company in companies for row in conflicts_report(company)
            if any(g.covers(row.staff.org) for g in held)]
