"""Separation of duties (职责分离): conflicting permission pairs, checks on every grant, and the conflicts report."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from .. import audit, authz
from ..context import Actor
from ..errors import SeparationOfDutiesViolation, ValidationFailed
from ..models import Org, Permission, PostAssignment, SodRule, Staff


def active_rules(company_id: int) -> list[SodRule]:
    return list(
        SodRule.objects.filter(company_id=company_id, is_active=True).select_related("permission_a", "permission_b")
    )


def conflicting_rules(company_id: int, permission_codes: set[str]) -> list[SodRule]:
    """The active rules of the company that a holder of ``permission_codes`` would break."""
    return [
        rule for rule in active_rules(company_id)
        if rule.permission_a.code in permission_codes and rule.permission_b.code in permission_codes
    ]


def staff_permission_codes(staff: Staff, company_id: int, *, exclude_post_id: int | None = None) -> set[str]:
    """Permission codes a staff member holds through the company's active posts."""
    qs = PostAssignment.objects.filter(staff=staff, post__company_id=company_id, post__is_active=True)
    if exclude_post_id is not None:
        qs = qs.exclude(post_id=exclude_post_id)
    return set(qs.filter(post__permissions__is_active=True).values_list("post__permissions__code", flat=True))


def refusal(rules: list[SodRule], who: str) -> SeparationOfDutiesViolation:
    rule = rules[0]
    return SeparationOfDutiesViolation(
        _("Refused by separation of duties: %(who)s would hold both “%(a)s” and “%(b)s” (%(reason)s).")
        % {"who": who, "a": rule.permission_a.label, "b": rule.permission_b.label, "reason": rule.reason}
    )


def check_staff_permissions(staff: Staff, company_id: int, codes: set[str]) -> None:
    rules = conflicting_rules(company_id, codes)
    if rules:
        raise refusal(rules, staff.full_name)


@dataclass(frozen=True)
class ConflictRow:
    staff: Staff
    rule: SodRule


def conflicts_report(company: Org) -> list[ConflictRow]:
    """Everyone who currently holds both permissions of an active rule (e.g. after a rule was added)."""
    rows: list[ConflictRow] = []
    for rule in active_rules(company.pk):
        def holders(perm_id):
            return PostAssignment.objects.filter(
                post__company=company, post__is_active=True, post__permissions=perm_id
            ).values("staff_id")

        staff = Staff.objects.filter(id__in=holders(rule.permission_a_id), is_active=True).filter(
            id__in=holders(rule.permission_b_id)
        ).select_related("org").order_by("username")
        rows.extend(ConflictRow(s, rule) for s in staff)
    return rows


@transaction.atomic
def add_rule(actor: Actor, company: Org, *, permission_a: str, permission_b: str, reason: str) -> SodRule:
    grant = authz.require(actor, "core.manage_sod", company)
    if permission_a == permission_b:
        raise ValidationFailed(fields={"permission_b": [_("Choose two different permissions.")]})
    perms = {p.code: p for p in Permission.objects.filter(code__in=[permission_a, permission_b], is_active=True)}
    for field, code in (("permission_a", permission_a), ("permission_b", permission_b)):
        if code not in perms:
            raise ValidationFailed(fields={field: [_("Unknown permission %(code)s.") % {"code": code}]})
    a, b = perms[permission_a], perms[permission_b]
    if SodRule.objects.filter(company=company).filter(
        Q(permission_a=a, permission_b=b) | Q(permission_a=b, permission_b=a)
    ).exists():
        raise ValidationFailed(fields={"permission_b": [_("This pair is already a rule.")]})
    if not reason.strip():
        raise ValidationFailed(fields={"reason": [_("Give the reason for the rule.")]})
    rule = SodRule.objects.create(company=company, permission_a=a, permission_b=b, reason=reason.strip())
    audit.record_create(actor, rule, org=company, grant=grant)
    return rule


@transaction.atomic
def set_rule_active(actor: Actor, rule: SodRule, active: bool, *, reason: str = "") -> SodRule:
    rule = SodRule.objects.select_for_update().get(pk=rule.pk)
    grant = authz.require(actor, "core.manage_sod", rule.company)
    before = audit.snapshot(rule)
    rule.is_active = active
    rule.save(update_fields=["is_active"])
    audit.record_update(actor, rule, before, org=rule.company, grant=grant, reason=reason)
    return rule
