"""Query filters of the API lists.  They only narrow a list that the view has already limited to the user's scope."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from .. import workflow
from ..models import (
    AlertKind,
    ApprovalRequest,
    ApprovalStatus,
    AuditAlert,
    AuditAlertRule,
    AuditCategory,
    AuditRecord,
    CodeTable,
    Org,
    OrgLevel,
    Permission,
    Post,
    PostAssignment,
    PostGrantRequest,
    SodRule,
    Staff,
)
from ..permission_catalog import SUBSYSTEMS

MAX_ID = 2**63 - 1


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.NumberFilter):
    """An object id; values that cannot be an id are a validation error, not a database error."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=MAX_ID, **kwargs)


class OrgSubtreeFilter(IdFilter):
    """``?org=<id>``: rows of that org and everything below it, by the row's org path (scope still applies)."""

    def __init__(self, *args, path_field: str = "org_path", **kwargs):
        self.path_field = path_field
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        org = Org.objects.filter(pk=value).first()
        return qs.filter(**{f"{self.path_field}__startswith": org.path}) if org else qs.none()


class SearchFilter(filters.CharFilter):
    """Case-insensitive substring search over ``fields``."""

    def __init__(self, *fields: str, **kwargs):
        self.search_fields = fields
        super().__init__(method=self.search, max_length=100, **kwargs)

    def search(self, queryset, name, value):
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)


class PermissionFilter(filters.FilterSet):
    subsystem = filters.ChoiceFilter(choices=[(code, code) for code in SUBSYSTEMS])

    class Meta:
        model = Permission
        fields = ["subsystem"]


class OrgFilter(filters.FilterSet):
    parent = IdFilter(field_name="parent_id", help_text="direct children of this org")
    company = IdFilter(field_name="company_id")
    level = filters.ChoiceFilter(choices=OrgLevel.choices)
    is_active = filters.BooleanFilter()
    q = SearchFilter("code", "name", "name_en", "short_name", help_text="part of the code or name")

    class Meta:
        model = Org
        fields = ["parent", "company", "level", "is_active", "q"]


class StaffFilter(filters.FilterSet):
    org = IdFilter(field_name="org_id", help_text="home org")
    is_active = filters.BooleanFilter()
    q = SearchFilter("username", "full_name", "employee_no", help_text="part of the login name, name or employee number")

    class Meta:
        model = Staff
        fields = ["org", "is_active", "q"]


class CompanyThingsFilter(filters.FilterSet):
    """Lists of what a company owns and can switch off (posts, separation-of-duties rules)."""

    company = IdFilter(field_name="company_id")
    is_active = filters.BooleanFilter()


class PostFilter(CompanyThingsFilter):
    class Meta:
        model = Post
        fields = ["company", "is_active"]


class AssignmentFilter(filters.FilterSet):
    staff = IdFilter(field_name="staff_id")
    post = IdFilter(field_name="post_id")
    org = IdFilter(field_name="org_id", help_text="where the post is held")

    class Meta:
        model = PostAssignment
        fields = ["staff", "post", "org"]


class GrantRequestFilter(filters.FilterSet):
    staff = IdFilter(field_name="staff_id")
    approval_status = filters.ChoiceFilter(choices=ApprovalStatus.choices)

    class Meta:
        model = PostGrantRequest
        fields = ["staff", "approval_status"]


def _doc_types():
    return [(t.code, t.code) for t in workflow.all_types()]


class ApprovalFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=ApprovalRequest.Status.choices)
    doc_type = filters.ChoiceFilter(choices=_doc_types)

    class Meta:
        model = ApprovalRequest
        fields = ["status", "doc_type"]


class SodRuleFilter(CompanyThingsFilter):
    class Meta:
        model = SodRule
        fields = ["company", "is_active"]


class AuditRecordFilter(filters.FilterSet):
    actor = IdFilter(field_name="actor_id", help_text="id of the staff member who acted")
    action = filters.CharFilter(max_length=64, help_text="e.g. create, update, approval.approve")
    object_type = filters.CharFilter(max_length=64, help_text="e.g. core.org")
    object_id = filters.CharFilter(max_length=64)
    category = filters.ChoiceFilter(choices=AuditCategory.choices)
    at_after = filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte", help_text="from this time (ISO 8601)")
    at_before = filters.IsoDateTimeFilter(field_name="at", lookup_expr="lte", help_text="up to this time (ISO 8601)")

    class Meta:
        model = AuditRecord
        fields = ["actor", "action", "object_type", "object_id", "category", "at_after", "at_before"]


class AuditAlertFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=AuditAlert.Status.choices)

    class Meta:
        model = AuditAlert
        fields = ["status"]


class AlertRuleFilter(filters.FilterSet):
    company = IdFilter(field_name="company_id")
    kind = filters.ChoiceFilter(choices=AlertKind.choices)

    class Meta:
        model = AuditAlertRule
        fields = ["company", "kind"]


class CodeTableFilter(filters.FilterSet):
    company = IdFilter(field_name="company_id")
    code = filters.CharFilter(max_length=40)

    class Meta:
        model = CodeTable
        fields = ["company", "code"]
