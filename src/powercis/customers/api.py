"""REST endpoints of the customer archive under /api/v1/customers/: thin views over its selectors and services.

The same rules as the web pages: an account, customer, change or contract outside the
user's data scope does not exist for them (404); a permission they hold nowhere is
refused up front (403, naming it); whether they may write *this* record (the permission
in its org), and every business rule, is decided by the service.  Phones and
certificate numbers are masked everywhere except the ``personal-data`` endpoints, which
need ``core.view_personal_data`` over the customer's org and audit every answer.

Retried creations: core's API has no ``Idempotency-Key`` mechanism, so a create is made
safe to retry by its natural key (customer number, account number, contract number): a
second delivery changes nothing and answers 400 naming the duplicate.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from powercis.core import authz, masking
from powercis.core.api.errors import ErrorSerializer
from powercis.core.api.views import NO_CONTENT, CoreViewSet
from powercis.core.errors import ValidationFailed
from powercis.core.models import ApprovalRequest

from . import selectors
from . import serializers as s
from .filters import AccountFilter, ChangeFilter, ContractFilter, CustomerFilter
from .models import Account, AccountChange, Customer, CustomerContact, SupplyContract
from .services import changes, contracts, records

EDIT = "customers.edit"
MANAGE_CONTRACTS = "customers.manage_contracts"
PERSONAL_DATA = "core.view_personal_data"
CHANGE_VIEW_PERMS = ("customers.change_request", "customers.change_approve", "customers.view")
CONTRACT_VIEW_PERMS = ("customers.view", "customers.manage_contracts")
RETRY_NOTE = " A retried create changes nothing: it answers 400 naming the duplicate {key}."
BAD_QUERY = OpenApiResponse(ErrorSerializer, description="A query parameter is missing or not valid; "
                                                         "`fields` names it.")


def query(serializer_class, request) -> dict:
    """The query parameters of a non-list GET, checked like a body: a bad or missing one is a 400 naming it."""
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def with_latest_approval(queryset, model):
    """Annotate ``approval_id``: the latest approval request of each document (what approvals/{id}/ decides)."""
    latest = ApprovalRequest.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_id=OuterRef("pk")
    ).order_by("-submitted_at", "-id").values("id")[:1]
    return queryset.annotate(approval_id=Subquery(latest))


class AsOfQuery(serializers.Serializer):
    date = serializers.DateField(help_text="YYYY-MM-DD")


class CustomerFieldQuery(serializers.Serializer):
    field = serializers.ChoiceField(choices=["mobile", "phone", "certificate_no"])


class ContactFieldQuery(serializers.Serializer):
    field = serializers.ChoiceField(choices=["mobile", "phone"])


def field_parameter(choices: list[str]) -> OpenApiParameter:
    return OpenApiParameter("field", str, enum=choices, required=True,
                            description="the personal field to show in full; each answer is written to the audit "
                                        "trail (personal_data.view)")


CONTACT_ID = OpenApiParameter("contact_id", int, OpenApiParameter.PATH, description="the contact's id")


# --- accounts ---------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Accounts (户号) in your scope, with today's billing attributes"),
    retrieve=extend_schema(summary="One account with the billing attributes in force today"),
)
class AccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    queryset = Account.objects.all()
    serializer_class = s.AccountSerializer
    serializer_classes = {"versions": s.AccountVersionSerializer, "as_of": s.AccountVersionSerializer}
    filterset_class = AccountFilter
    required_permission = selectors.VIEW_PERMS
    required_permissions = dict.fromkeys(["create", "partial_update"], EDIT)

    def scoped(self, queryset):
        return selectors.visible_accounts(self.request.user)

    @extend_schema(summary="Open (record) a connected account with its first billing attributes",
                   description="The attributes are valid from `opened_on`; afterwards they change only through an "
                               "account change (changes/)." + RETRY_NOTE.format(key="account number"),
                   request=s.AccountOpenSerializer, responses={201: s.AccountSerializer})
    def create(self, request):
        account = records.open_account(self.actor, **self.validated(s.AccountOpenSerializer))
        return self.respond(self.fresh(account), status_code=201)

    @extend_schema(summary="Change the attributes that do not affect a bill (address, route, payment method…)",
                   request=s.AccountWriteSerializer, responses=s.AccountSerializer)
    def partial_update(self, request, pk=None):
        return self.act_on_object(records.update_account, s.AccountWriteSerializer, partial=True)

    @extend_schema(summary="The billing attributes in force on a date (a re-bill of a past period uses these)",
                   parameters=[AsOfQuery], responses={200: s.AccountVersionSerializer, 400: BAD_QUERY})
    @action(detail=True, methods=["get"], url_path="as-of")
    def as_of(self, request, pk=None):
        account = self.get_object()
        on = query(AsOfQuery, request)["date"]
        version = selectors.account_as_of(account, on)
        if version is None:
            raise ValidationFailed(fields={"date": [_("The account was connected on %(date)s; nothing was in force "
                                                      "before.") % {"date": account.opened_on}]})
        return self.respond(version)

    @extend_schema(summary="Every version of the billing attributes, oldest first",
                   responses=s.AccountVersionSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def versions(self, request, pk=None):
        rows = selectors.versions_of(self.get_object())
        return Response(s.AccountVersionSerializer(rows, many=True, context=self.get_serializer_context()).data)


# --- customers and contacts -------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Customers in your scope; phones and certificate numbers masked"),
    retrieve=extend_schema(summary="One customer with contacts; phones and certificate numbers masked"),
)
class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    queryset = Customer.objects.all()
    serializer_class = s.CustomerSerializer
    serializer_classes = {"retrieve": s.CustomerDetailSerializer, "create": s.CustomerDetailSerializer,
                          "partial_update": s.CustomerDetailSerializer, "contacts": s.ContactSerializer,
                          "add_contact": s.ContactSerializer}
    filterset_class = CustomerFilter
    required_permission = selectors.VIEW_PERMS
    required_permissions = {**dict.fromkeys(["create", "partial_update", "add_contact", "remove_contact"], EDIT),
                            **dict.fromkeys(["personal_data", "contact_personal_data"], PERSONAL_DATA)}

    def scoped(self, queryset):
        customers = selectors.visible_customers(self.request.user)
        return customers.prefetch_related("contacts") if self.action != "list" else customers

    def contact(self, contact_id) -> CustomerContact:
        """A contact of the customer in the path (itself looked up in scope)."""
        return get_object_or_404(CustomerContact.objects.select_related("customer__org"),
                                 customer=self.get_object(), pk=contact_id)

    @extend_schema(summary="Create a customer (the legal party)",
                   description=RETRY_NOTE.format(key="customer number").strip(),
                   request=s.CustomerCreateSerializer, responses={201: s.CustomerDetailSerializer})
    def create(self, request):
        customer = records.create_customer(self.actor, **self.validated(s.CustomerCreateSerializer))
        return self.respond(self.fresh(customer), status_code=201)

    @extend_schema(summary="Change a customer's name, type, certificate or contact details",
                   request=s.CustomerUpdateSerializer, responses=s.CustomerDetailSerializer)
    def partial_update(self, request, pk=None):
        return self.act_on_object(records.update_customer, s.CustomerUpdateSerializer, partial=True)

    @extend_schema(summary="The full value of a phone or certificate number (core.view_personal_data; audited)",
                   parameters=[field_parameter(["mobile", "phone", "certificate_no"])],
                   responses={200: s.PersonalDataSerializer, 400: BAD_QUERY})
    @action(detail=True, methods=["get"], url_path="personal-data")
    def personal_data(self, request, pk=None):
        customer = self.get_object()
        field = query(CustomerFieldQuery, request)["field"]
        return self.reveal(customer, field, customer.org)

    def reveal(self, obj, field: str, org) -> Response:
        """Answer the full value if the user may see personal data in ``org``; ``masking.show`` audits it."""
        authz.require(self.actor, PERSONAL_DATA, org)
        shown = masking.show(self.actor, obj, field, org, reveal=True)
        return Response(s.PersonalDataSerializer({"field": field, "value": shown.value}).data)

    @extend_schema(summary="The customer's contacts; phones masked", responses=s.ContactSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def contacts(self, request, pk=None):
        rows = self.get_object().contacts.order_by("id")
        return Response(s.ContactSerializer(rows, many=True, context=self.get_serializer_context()).data)

    @extend_schema(summary="Add a contact person", request=s.ContactCreateSerializer,
                   responses={201: s.ContactSerializer})
    @contacts.mapping.post
    def add_contact(self, request, pk=None):
        customer = self.get_object()
        contact = records.add_contact(self.actor, customer, **self.validated(s.ContactCreateSerializer))
        return self.respond(contact, status_code=201)

    @extend_schema(summary="Remove a contact person", parameters=[CONTACT_ID],
                   request=s.ContactRemoveSerializer, responses=NO_CONTENT)
    @action(detail=True, methods=["post"], url_path=r"contacts/(?P<contact_id>[0-9]+)/remove")
    def remove_contact(self, request, pk=None, contact_id=None):
        contact = self.contact(contact_id)
        records.remove_contact(self.actor, contact, **self.validated(s.ContactRemoveSerializer))
        return Response(status=204)

    @extend_schema(summary="The full value of a contact's phone (core.view_personal_data; audited)",
                   parameters=[CONTACT_ID, field_parameter(["mobile", "phone"])],
                   responses={200: s.PersonalDataSerializer, 400: BAD_QUERY})
    @action(detail=True, methods=["get"], url_path=r"contacts/(?P<contact_id>[0-9]+)/personal-data")
    def contact_personal_data(self, request, pk=None, contact_id=None):
        contact = self.contact(contact_id)
        field = query(ContactFieldQuery, request)["field"]
        return self.reveal(contact, field, contact.customer.org)


# --- account changes --------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Account changes (用电变更) in your scope, newest first"),
    retrieve=extend_schema(summary="One account change, each proposed value beside the one in force on its date"),
)
class ChangeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    queryset = AccountChange.objects.all()
    serializer_class = s.ChangeSerializer
    serializer_classes = {"retrieve": s.ChangeDetailSerializer, "create": s.ChangeDetailSerializer}
    filterset_class = ChangeFilter
    required_permission = CHANGE_VIEW_PERMS
    required_permissions = {"create": "customers.change_request"}

    #: body names of the proposed values, so that the service's refusals point at ``values.<name>``
    VALUE_FIELDS = frozenset(s.ChangeValuesSerializer().fields)

    def scoped(self, queryset):
        return with_latest_approval(selectors.visible_changes(self.request.user), AccountChange)

    @extend_schema(
        summary="Take an account change request and send it for approval",
        description="Kinds and the values each needs: reclassify (usage_category, tariff_code, voltage_level, "
                    "pf_standard, capacity_basis, metering_mode), capacity_increase / capacity_reduction "
                    "(contract_capacity, optionally running_capacity, capacity_basis), suspend (end_date, optionally "
                    "suspended_capacity), resume, rename (name), transfer (customer, optionally name), close. "
                    "It is applied from `effective_date` once approved through approvals/{approval}/approve/.",
        request=s.ChangeCreateSerializer, responses={201: s.ChangeDetailSerializer},
    )
    def create(self, request):
        data = self.validated(s.ChangeCreateSerializer)
        try:
            doc = changes.request_change(self.actor, data.pop("account"), **data)
        except ValidationFailed as exc:
            exc.fields = {(f"values.{k}" if k in self.VALUE_FIELDS else k): v for k, v in exc.fields.items()}
            raise
        return self.respond(self.fresh(doc), status_code=201)


# --- contracts --------------------------------------------------------------------


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": 3660})
class DaysFilter(filters.NumberFilter):
    """A whole number of days, at most ten years ahead (so that the date it gives stays a date)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=0, max_value=3660, **kwargs)


class ContractApiFilter(ContractFilter):
    """The list page's filters, plus the API's ``expiring_within``: contracts in force that expire within N days."""

    expiring_within = DaysFilter(
        method="filter_expiring",
        help_text="days: contracts in force that expire within this many days (already expired ones first)")

    class Meta(ContractFilter.Meta):
        fields = [*ContractFilter.Meta.fields, "expiring_within"]

    def filter_expiring(self, queryset, name, value):
        limit = timezone.localdate() + dt.timedelta(days=value)
        return (queryset.filter(status=SupplyContract.Status.ACTIVE, expires_on__lte=limit)
                .order_by("expires_on", "contract_no"))


@extend_schema_view(
    list=extend_schema(summary="Supply contracts (供用电合同) in your scope, every version"),
    retrieve=extend_schema(summary="One contract version"),
)
class ContractViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    queryset = SupplyContract.objects.all()
    serializer_class = s.ContractSerializer
    filterset_class = ContractApiFilter
    required_permission = CONTRACT_VIEW_PERMS
    required_permissions = dict.fromkeys(["create", "renew", "terminate"], MANAGE_CONTRACTS)

    def scoped(self, queryset):
        return selectors.visible_contracts(self.request.user).select_related("created_by")

    @extend_schema(summary="Sign a contract (version 1) for an account",
                   description=RETRY_NOTE.format(key="contract number").strip(),
                   request=s.ContractCreateSerializer, responses={201: s.ContractSerializer})
    def create(self, request):
        data = self.validated(s.ContractCreateSerializer)
        contract = contracts.sign_contract(self.actor, data.pop("account"), **data)
        return self.respond(self.fresh(contract), status_code=201)

    @extend_schema(summary="Renew or amend: the next version supersedes the one in force",
                   request=s.ContractRenewSerializer, responses={201: s.ContractSerializer})
    @action(detail=True, methods=["post"])
    def renew(self, request, pk=None):
        contract = self.get_object()
        renewed = contracts.renew_contract(self.actor, contract, **self.validated(s.ContractRenewSerializer))
        return self.respond(self.fresh(renewed), status_code=201)

    @extend_schema(summary="Terminate the version in force (a reason is required)",
                   request=s.ContractTerminateSerializer, responses=s.ContractSerializer)
    @action(detail=True, methods=["post"])
    def terminate(self, request, pk=None):
        return self.act_on_object(contracts.terminate_contract, s.ContractTerminateSerializer)
