"""FilterSets of meter reading, shared by the list pages and the API.

Periods are given as ``YYYY-MM`` (the billing month a plan is for); a value that is not
one is a validation error naming the filter, never an empty list.
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from powercis.core.api.filters import IdFilter, OrgSubtreeFilter
from powercis.metering.models import REGISTERS, MeterInstallation

from .models import (
    Check,
    CheckStatus,
    CollectionChannel,
    CollectionRun,
    Cycle,
    PlanStatus,
    ReadBatch,
    ReadException,
    ReadingPlan,
    ReadingRoute,
    ReadingTask,
    ReadMethod,
    RegisterRead,
    Severity,
    Source,
    TaskStatus,
)

PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


class PeriodFormField(forms.DateField):
    """A billing month as ``YYYY-MM``, cleaned to the month's first day."""

    input_formats = ["%Y-%m"]
    default_error_messages = {"invalid": _("Enter the period as YYYY-MM, e.g. 2026-10.")}

    def __init__(self, *args, **kwargs):
        kwargs.pop("input_formats", None)
        super().__init__(*args, input_formats=self.input_formats, **kwargs)

    def to_python(self, value):
        day = super().to_python(value)
        return day.replace(day=1) if isinstance(day, dt.date) else day


@extend_schema_field({"type": "string", "pattern": PERIOD_PATTERN, "example": "2026-10"})
class PeriodFilter(django_filters.DateFilter):
    """``?period=YYYY-MM``: rows of that billing month."""

    field_class = PeriodFormField


class RouteFilter(django_filters.FilterSet):
    code = django_filters.CharFilter(lookup_expr="startswith", max_length=32, label=_("Route code"))
    org = OrgSubtreeFilter(label=_("Org and below"))
    reader = IdFilter(label=_("Meter reader"))
    method = django_filters.ChoiceFilter(choices=ReadMethod.choices, label=_("Reading method"))
    cycle = django_filters.ChoiceFilter(choices=Cycle.choices, label=_("Cycle"))
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = ReadingRoute
        fields = ["code", "org", "reader", "method", "cycle", "is_active"]


class PlanFilter(django_filters.FilterSet):
    period = PeriodFilter(label=_("Period"))
    org = OrgSubtreeFilter(label=_("Org and below"))
    route = IdFilter(label=_("Reading route"))
    reader = IdFilter(label=_("Meter reader"))
    status = django_filters.ChoiceFilter(choices=PlanStatus.choices, label=_("Status"))

    class Meta:
        model = ReadingPlan
        fields = ["period", "org", "route", "reader", "status"]


class TaskFilter(django_filters.FilterSet):
    plan = IdFilter(label=_("Reading plan"))
    status = django_filters.ChoiceFilter(choices=TaskStatus.choices, label=_("Status"))
    check_status = django_filters.ChoiceFilter(choices=CheckStatus.choices, label=_("Validation"))
    metering_point = django_filters.CharFilter(field_name="metering_point__code", max_length=32,
                                               label=_("Metering point number"))
    account = django_filters.CharFilter(field_name="account__account_no", max_length=32, label=_("Account number"))

    class Meta:
        model = ReadingTask
        fields = ["plan", "status", "check_status", "metering_point", "account"]


class FlagFilter(django_filters.CharFilter):
    """Reads that failed the given check on arrival: one code of the comma-separated ``flags``, for the read or for
    any register (``lower`` finds ``lower:peak``); ``lower:peak`` finds that register's only."""

    def filter(self, qs, value):
        value = (value or "").strip()
        if not value:
            return qs
        match = (Q(flags=value) | Q(flags__startswith=f"{value},") | Q(flags__endswith=f",{value}")
                 | Q(flags__contains=f",{value},"))
        if ":" not in value:
            match |= Q(flags__startswith=f"{value}:") | Q(flags__contains=f",{value}:")
        return qs.filter(match)


class RegisterFilter(django_filters.ChoiceFilter):
    """Reads that carry the register (its column is not empty)."""

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        return qs.filter(**{f"{value}__isnull": False})


class PointReadsFilter(IdFilter):
    """``?metering_point=<id>``: the point's reads, found through the meters ever installed on it.

    The reads table has no index on the metering point (every index is written for every
    head-end read; decision 0012, point 14): the unique key, which leads with the meter, finds
    them instead.
    """

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        meters = MeterInstallation.objects.filter(metering_point_id=value).values("meter_id")
        return qs.filter(meter_id__in=meters, metering_point_id=value)


class ReadFilter(django_filters.FilterSet):
    metering_point = PointReadsFilter(label=_("Metering point"))
    meter = django_filters.CharFilter(field_name="meter__asset_no", max_length=40, label=_("Meter asset number"))
    register = RegisterFilter(choices=[(r, r) for r in REGISTERS], label=_("Register"))
    source = django_filters.ChoiceFilter(choices=Source.choices, label=_("Source"))
    read_at_after = django_filters.IsoDateTimeFilter(field_name="read_at", lookup_expr="gte",
                                                     label=_("Read at or after (ISO 8601)"))
    read_at_before = django_filters.IsoDateTimeFilter(field_name="read_at", lookup_expr="lte",
                                                      label=_("Read at or before (ISO 8601)"))
    flags = FlagFilter(max_length=40, label=_("Failed this check on arrival (one check code)"))
    batch = IdFilter(label=_("Delivery"))
    status = django_filters.ChoiceFilter(choices=RegisterRead.Status.choices, label=_("Status"))

    class Meta:
        model = RegisterRead
        fields = ["metering_point", "meter", "register", "source", "read_at_after", "read_at_before", "flags",
                  "batch", "status"]


class BatchFilter(django_filters.FilterSet):
    org = OrgSubtreeFilter(label=_("Org and below"))
    source = django_filters.ChoiceFilter(choices=Source.choices, label=_("Source"))
    status = django_filters.ChoiceFilter(choices=ReadBatch.Status.choices, label=_("Status"))
    sender = django_filters.CharFilter(max_length=60, label=_("Sender"))
    received_after = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="gte",
                                                      label=_("Received at or after (ISO 8601)"))

    class Meta:
        model = ReadBatch
        fields = ["org", "source", "status", "sender", "received_after"]


class ExceptionFilter(django_filters.FilterSet):
    period = PeriodFilter(field_name="plan__period", label=_("Period"))
    org = OrgSubtreeFilter(label=_("Org and below"))
    plan = IdFilter(label=_("Reading plan"))
    route = IdFilter(field_name="plan__route", label=_("Reading route"))
    reader = IdFilter(field_name="plan__reader", label=_("Meter reader"))
    task = IdFilter(label=_("Reading task"))
    rule = django_filters.ChoiceFilter(choices=Check.choices, label=_("Check"))
    severity = django_filters.ChoiceFilter(choices=Severity.choices, label=_("Severity"))
    status = django_filters.ChoiceFilter(choices=ReadException.Status.choices, label=_("Status"))

    class Meta:
        model = ReadException
        fields = ["period", "org", "plan", "route", "reader", "task", "rule", "severity", "status"]


class ChannelFilter(django_filters.FilterSet):
    code = django_filters.CharFilter(lookup_expr="startswith", max_length=32, label=_("Channel code"))
    org = OrgSubtreeFilter(label=_("Org and below"))
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = CollectionChannel
        fields = ["code", "org", "is_active"]


class RunFilter(django_filters.FilterSet):
    channel = IdFilter(label=_("Channel"))

    class Meta:
        model = CollectionRun
        fields = ["channel"]
