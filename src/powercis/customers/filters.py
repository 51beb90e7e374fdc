"""FilterSets of the customer archive, shared by the list pages and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from powercis.core.api.filters import IdFilter, OrgSubtreeFilter

from .models import Account, AccountChange, AccountStatus, ChangeKind, Customer, SupplyContract


class AccountFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Account number or name"))
    org = OrgSubtreeFilter(label=_("Org and below"))
    status = django_filters.ChoiceFilter(choices=AccountStatus.choices, label=_("Status"))
    usage_category = django_filters.CharFilter(label=_("Usage category"))
    voltage_level = django_filters.CharFilter(label=_("Voltage level"))
    is_key_account = django_filters.BooleanFilter(label=_("Key account"))
    reading_route_code = django_filters.CharFilter(label=_("Reading route"))

    class Meta:
        model = Account
        fields = ["q", "org", "status", "usage_category", "voltage_level", "is_key_account", "reading_route_code"]

    def filter_q(self, qs, name, value):
        value = value.strip()
        if not value:
            return qs
        return qs.filter(Q(account_no__startswith=value) | Q(name__contains=value))


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Customer number or name"))
    org = OrgSubtreeFilter(label=_("Org and below"))
    customer_type = django_filters.CharFilter(label=_("Customer type"))

    class Meta:
        model = Customer
        fields = ["q", "org", "customer_type"]

    def filter_q(self, qs, name, value):
        value = value.strip()
        return qs.filter(Q(customer_no__startswith=value) | Q(name__contains=value)) if value else qs


class ChangeFilter(django_filters.FilterSet):
    org = OrgSubtreeFilter(label=_("Org and below"), path_field="account__org_path")
    kind = django_filters.ChoiceFilter(choices=ChangeKind.choices, label=_("Change"))
    approval_status = django_filters.CharFilter(label=_("Approval status"))
    account = IdFilter(label=_("Account"))

    class Meta:
        model = AccountChange
        fields = ["org", "kind", "approval_status", "account"]


class ContractFilter(django_filters.FilterSet):
    org = OrgSubtreeFilter(label=_("Org and below"))
    status = django_filters.ChoiceFilter(choices=SupplyContract.Status.choices, label=_("Status"))
    expires_before = django_filters.DateFilter(field_name="expires_on", lookup_expr="lte", label=_("Expires by"))
    account = IdFilter(label=_("Account"))

    class Meta:
        model = SupplyContract
        fields = ["org", "status", "expires_before", "account"]
