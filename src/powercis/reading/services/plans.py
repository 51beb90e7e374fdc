"""Reading plans: generate a period's plans, reassign a reader, validate, release to billing.

Generation and validation are set-based engines (``reading.engine``); these services
are their permission-checked, audited entry points.  Release is the gate billing waits
on: a plan is released when none of its exceptions that block billing is open — or
when a supervisor (``reading.release_override``) releases it anyway with a reason, in
which case every open exception is resolved as "overridden" with that reason, so the
worklist and the audit trail both say who let what through and why.  Warnings still open
at release are resolved as "noted": releasing is the reviewer's acknowledgement of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from powercis.core import audit, authz
from powercis.core.context import Actor
from powercis.core.errors import InvalidTransition, ValidationFailed
from powercis.core.models import AuditCategory, Org, Staff

from ..models import PlanStatus, ReadException, ReadingPlan, ReadingRoute, Resolution, Severity
from .routes import check_reader


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _routes_in(org: Org):
    return ReadingRoute.objects.filter(org_path__startswith=org.path, is_active=True)


@transaction.atomic
def generate(actor: Actor, *, org: Org, period: dt.date, now=None, opening: bool = False):
    """Generate (or complete) the plans of ``period`` for every active route in ``org`` and below.

    With ``opening`` the plans are opening plans (期初): they take the last readings of the system used before
    go-live, as the start reads of the month after.  They come before every month read here, so an org that
    already has an ordinary plan of that period or earlier is refused, as is an ordinary generation of the opening
    period or of one before it.
    """
    from ..engine.plans import generate_plans

    grant = authz.require(actor, "reading.manage_routes", org)
    period = first_of_month(period)
    _check_opening(org, period, opening)
    route_ids = list(_routes_in(org).values_list("pk", flat=True))
    report = generate_plans(company_id=org.company_id or org.pk, period=period, route_ids=route_ids, now=now,
                            opening=opening)
    audit.record(actor, action="reading.plans.generate", category=AuditCategory.ACTION, org=org, grant=grant,
                 object_type="reading.readingplan", object_repr=f"{org.name} {period:%Y-%m}",
                 changes={"period": f"{period:%Y-%m}", "routes": len(route_ids), "opening": opening,
                          "report": _report_dict(report)})
    return report


def _check_opening(org: Org, period: dt.date, opening: bool) -> None:
    in_scope = ReadingPlan.objects.filter(org_path__startswith=org.path).select_related("route")
    if opening:
        ordinary = in_scope.filter(opening=False, period__lte=period).order_by("period", "route__code").first()
        if ordinary is not None:
            raise ValidationFailed(fields={"period": [
                _("Opening readings come before the first month read in the system, but %(org)s already has the "
                  "plan %(plan)s.") % {"org": org.name, "plan": ordinary}]})
    else:
        held = in_scope.filter(opening=True, period__gte=period).order_by("-period", "route__code").first()
        if held is not None:
            raise ValidationFailed(fields={"period": [
                _("%(org)s went live with the opening readings of %(opening)s (%(plan)s); plans are generated for "
                  "the months after it.") % {"org": org.name, "opening": f"{held.period:%Y-%m}", "plan": held}]})


def _report_dict(report) -> dict:
    if hasattr(report, "__dataclass_fields__"):
        return {k: getattr(report, k) for k in report.__dataclass_fields__ if isinstance(getattr(report, k), int | str)}
    return {}


@transaction.atomic
def reassign(actor: Actor, plan: ReadingPlan, *, reader: Staff | None, reason: str = "") -> ReadingPlan:
    """Give a plan to another reader (sickness, leave, workload) without changing the route's own reader."""
    grant = authz.require(actor, "reading.manage_routes", plan.org)
    if plan.status != PlanStatus.OPEN:
        raise InvalidTransition(_("The plan has been released and can no longer be reassigned."))
    check_reader(reader, plan.org)
    before = audit.snapshot(plan)
    plan.reader = reader
    plan.save(update_fields=["reader"])
    audit.record_update(actor, plan, before, grant=grant, reason=reason)
    return plan


@transaction.atomic
def validate(actor: Actor, plans: list[ReadingPlan], *, now=None):
    """Run validation before billing over whole plans (the reviewer's "validate" button, the nightly job)."""
    from ..engine.validate import run_validation

    for plan in plans:
        authz.require(actor, "reading.review", plan.org)
        if plan.status != PlanStatus.OPEN:
            raise InvalidTransition(_("The plan %(plan)s has been released; it is not validated again.") % {"plan": plan})
    return run_validation(plan_ids=[p.pk for p in plans], now=now)


def blocking_exceptions(plan: ReadingPlan):
    return ReadException.objects.filter(plan=plan, status=ReadException.Status.OPEN, severity=Severity.BLOCK)


@dataclass
class ReleaseResult:
    released: list[ReadingPlan] = field(default_factory=list)
    #: plan → number of open blocking exceptions that kept it back
    blocked: dict[ReadingPlan, int] = field(default_factory=dict)
    overridden: int = 0


@transaction.atomic
def release(actor: Actor, plan: ReadingPlan, *, override_reason: str = "") -> ReadingPlan:
    """Release one plan's reads to billing; with open blocking exceptions only by override with a reason."""
    plan = ReadingPlan.objects.select_for_update().select_related("org").get(pk=plan.pk)
    override_reason = (override_reason or "").strip()
    # a release over open exceptions is the supervisor's; an ordinary release the reviewer's
    grant = authz.require(actor, "reading.release_override" if override_reason else "reading.review", plan.org)
    if plan.status != PlanStatus.OPEN:
        raise InvalidTransition(_("The plan %(plan)s has already been released.") % {"plan": plan})
    if plan.validated_at is None:
        raise InvalidTransition(_("Validate the plan's reads before releasing them."))
    open_blocking = blocking_exceptions(plan)
    count = open_blocking.count()
    if count:
        if not override_reason:
            raise InvalidTransition(
                _("%(n)s exceptions of %(plan)s must be resolved first, or a supervisor releases it with a reason.")
                % {"n": count, "plan": plan})
        now = timezone.now()
        ReadException.objects.filter(plan=plan, status=ReadException.Status.OPEN).update(
            status=ReadException.Status.RESOLVED, resolution=Resolution.OVERRIDDEN, note=override_reason[:300],
            resolved_by=actor.user, resolved_at=now)
    ReadException.objects.filter(plan=plan, status=ReadException.Status.OPEN, severity=Severity.WARN).update(
        status=ReadException.Status.RESOLVED, resolution=Resolution.NOTED, resolved_by=actor.user,
        resolved_at=timezone.now())
    before = audit.snapshot(plan)
    plan.status = PlanStatus.RELEASED
    plan.released_at = timezone.now()
    plan.released_by = actor.user
    plan.override_reason = override_reason[:200] if count else ""
    plan.save(update_fields=["status", "released_at", "released_by", "override_reason"])
    audit.record_update(actor, plan, before, grant=grant, reason=override_reason,
                        ref=f"overridden:{count}" if count else "")
    return plan


def release_period(actor: Actor, *, org: Org, period: dt.date) -> ReleaseResult:
    """Release every open plan of the period in ``org`` and below that has nothing blocking; report the rest."""
    result = ReleaseResult()
    authz.require(actor, "reading.review", org)
    plans = ReadingPlan.objects.filter(org_path__startswith=org.path, period=first_of_month(period),
                                       status=PlanStatus.OPEN).select_related("route", "org")
    for plan in plans:
        blocking = blocking_exceptions(plan).count()
        if blocking or plan.validated_at is None:
            result.blocked[plan] = blocking
            continue
        result.released.append(release(actor, plan))
    return result


def check_period(value: str) -> dt.date:
    """Parse ``YYYY-MM`` into the period's first day, with a message in the user's language."""
    try:
        return dt.datetime.strptime((value or "").strip(), "%Y-%m").date()
    except ValueError as exc:
        raise ValidationFailed(fields={"period": [_("Enter the period as YYYY-MM, e.g. 2026-10.")]}) from exc
