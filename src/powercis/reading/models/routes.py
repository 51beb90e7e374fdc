"""Reading routes (抄表段), the monthly reading plan of each route and its tasks, one per metering point.

An account belongs to a route through ``Account.reading_route_code`` (the archive sits
below this app); the order of the walk is ``MeteringPoint.route_order``.  A plan is the
route's work for one period: generated set-based for every route at once
(``services.plans.generate_plans``), it lists a task per settlement metering point with
the meter installed and the last read, so that "reads due" — the denominator of the
actual-read rate (实抄率) — is a fixed fact of the period, not a moving query.

A plan is released to billing (``released_at``) when its reads have been reviewed; a
release with unresolved exceptions needs a supervisor's override and a reason.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from powercis.core.models import OrgScopedModel


class Cycle(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    BIMONTHLY = "bimonthly", _("Every two months")


class ReadMethod(models.TextChoices):
    MANUAL = "manual", _("Manual reading")
    HANDHELD = "handheld", _("Handheld reading")
    REMOTE = "remote", _("Remote collection")


class ReadingRoute(OrgScopedModel):
    code = models.CharField(_("route code"), max_length=32)
    name = models.CharField(_("route name"), max_length=100)
    reader = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("meter reader"), on_delete=models.PROTECT,
                               related_name="reading_routes", null=True, blank=True)
    #: 抄表例日: day of the month the route is read; 31 means the last day of the month
    read_day = models.PositiveSmallIntegerField(_("scheduled read day"), default=25)
    cycle = models.CharField(_("cycle"), max_length=10, choices=Cycle.choices, default=Cycle.MONTHLY)
    #: for a two-monthly cycle: read in odd (1) or even (0) months
    odd_months = models.BooleanField(_("read in odd months"), default=True,
                                     help_text=_("For a two-monthly cycle: read in January, March, … (else February, April, …)."))
    method = models.CharField(_("reading method"), max_length=10, choices=ReadMethod.choices, default=ReadMethod.MANUAL)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reading route")
        verbose_name_plural = _("reading routes")
        ordering = ["company_id", "code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="reading_route_uniq")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class PlanStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RELEASED = "released", _("Released to billing")


class ReadingPlan(OrgScopedModel):
    route = models.ForeignKey(ReadingRoute, verbose_name=_("reading route"), on_delete=models.PROTECT,
                              related_name="plans")
    #: first day of the billing month the reads are for
    period = models.DateField(_("period"))
    scheduled_on = models.DateField(_("scheduled read date"))
    reader = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("meter reader"), on_delete=models.PROTECT,
                               related_name="reading_plans", null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.OPEN)
    tasks_due = models.PositiveIntegerField(_("reads due"), default=0)
    generated_at = models.DateTimeField(_("generated at"), auto_now_add=True)
    validated_at = models.DateTimeField(_("last validated at"), null=True, blank=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("released by"), on_delete=models.PROTECT,
                                    related_name="+", null=True, blank=True)
    #: set when a supervisor released the plan with exceptions still open
    override_reason = models.CharField(_("override reason"), max_length=200, blank=True)
    #: opening readings (期初示数): the last readings of the system used before go-live, loaded into the plans of
    #: the month before the first one read here.  They are the start reads of that first month; the plan is not
    #: validated (there is nothing before it to compare with) and its reads are not billed.
    opening = models.BooleanField(_("opening readings"), default=False)

    class Meta:
        verbose_name = _("reading plan")
        verbose_name_plural = _("reading plans")
        ordering = ["-period", "route_id"]
        constraints = [models.UniqueConstraint(fields=["route", "period"], name="reading_plan_uniq")]
        indexes = [models.Index(fields=["period", "org_path"], name="reading_plan_period_scope")]

    def __str__(self) -> str:
        return f"{self.route.code} {self.period:%Y-%m}"


class TaskStatus(models.TextChoices):
    PENDING = "pending", _("Not read")
    READ = "read", _("Read")
    ESTIMATED = "estimated", _("Estimated")
    UNREADABLE = "unreadable", _("Could not be read")


class CheckStatus(models.TextChoices):
    UNCHECKED = "unchecked", _("Not validated")
    PASSED = "passed", _("Passed")
    EXCEPTIONS = "exceptions", _("Exceptions open")
    CLEARED = "cleared", _("Exceptions resolved")


class ReadingTask(models.Model):
    """One metering point to read in a plan: what was installed, what was read last, and what happened.

    A month's plans hold a task per settlement metering point (a million at a large company),
    written in one COPY by ``engine.plans`` from the archive rows it has just read, in the same
    transaction. Like the reads table, this table therefore has no foreign-key constraint in
    the database — PostgreSQL would check each one again for every row at commit, which took
    longer than generating the plans — and only the indexes something reads by, each
    written for every task of a month: the unique key (metering point, plan), which also
    finds a point's tasks; the route walk (plan, order), which also finds a plan's tasks;
    the account's tasks (its page); and the reader's. Nothing looks tasks up by meter (a
    meter's reads are found in the reads table), so the meter has no index (migration
    0007, decision 0012 point 12).
    ``CASCADE`` and ``PROTECT`` still apply through the ORM. Its pages are filled to 60 % on
    PostgreSQL (migration 0002) so that validation's update of every task's state touches no
    index.
    """

    plan = models.ForeignKey(ReadingPlan, verbose_name=_("reading plan"), on_delete=models.CASCADE,
                             related_name="tasks", db_constraint=False, db_index=False)
    metering_point = models.ForeignKey("metering.MeteringPoint", verbose_name=_("metering point"),
                                       on_delete=models.PROTECT, related_name="+", db_constraint=False,
                                       db_index=False)
    account = models.ForeignKey("customers.Account", verbose_name=_("account"), on_delete=models.PROTECT,
                                related_name="+", null=True, blank=True, db_constraint=False)
    meter = models.ForeignKey("metering.Meter", verbose_name=_("meter"), on_delete=models.PROTECT, related_name="+",
                              null=True, blank=True, db_constraint=False, db_index=False)
    seq = models.PositiveIntegerField(_("order"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.PENDING)
    check_status = models.CharField(_("validation"), max_length=10, choices=CheckStatus.choices,
                                    default=CheckStatus.UNCHECKED)
    #: date of the last accepted read before this plan (the start of the reading interval)
    prev_read_on = models.DateField(_("last read on"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=8, blank=True)
    unreadable_reason = models.CharField(_("reason not read"), max_length=16, blank=True)
    photo_ref = models.CharField(_("photo"), max_length=200, blank=True)
    read_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("read by"), on_delete=models.PROTECT,
                                related_name="+", null=True, blank=True, db_constraint=False, db_index=False)

    class Meta:
        verbose_name = _("reading task")
        verbose_name_plural = _("reading tasks")
        ordering = ["plan_id", "seq", "id"]
        constraints = [models.UniqueConstraint(fields=["metering_point", "plan"], name="reading_task_point_plan")]
        indexes = [
            models.Index(fields=["plan", "seq"], name="reading_task_walk"),
            # remote reads name nobody: index only the tasks a person read
            models.Index(fields=["read_by"], name="reading_task_read_by", condition=models.Q(read_by__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.plan} #{self.seq}"
