"""API serializers of the customer archive: the output shape of each record, and the input of each service call.

Output: personal data (phones, certificate numbers) is always masked here; the full value
comes only from the audited ``personal-data`` endpoints.  Input serializers only check
types, lengths and references; the services decide everything else (codes, capacities,
states, permission in the org).  Referenced objects are looked up within the requesting
user's data scope, so an id outside it reads as "does not exist".
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from powercis.core import masking
from powercis.core.api.serializers import OrgRefSerializer, ScopedPrimaryKeyField, StaffRefSerializer, within
from powercis.core.models import Org

from . import selectors
from .models import (
    VERSIONED_FIELDS,
    Account,
    AccountChange,
    AccountVersion,
    CapacityBasis,
    ChangeKind,
    Customer,
    CustomerContact,
    SupplyContract,
)
from .services.records import NUMBER

#: the permission that lets a user write a record in an org (the scope of referenced orgs and customers)
EDIT = "customers.edit"
LONGITUDE = {"min_value": -180, "max_value": 180}
LATITUDE = {"min_value": -90, "max_value": 90}


def scoped_by(*perms: str):
    """Scope: archive rows (with an ``org_path`` column) in orgs where the user holds any of ``perms``."""
    return within(*perms, path_field="org_path")


def number_field(**kwargs) -> serializers.RegexField:
    """A customer or account number: the service's pattern, documented in the schema."""
    return serializers.RegexField(NUMBER.pattern, max_length=32,
                                  error_messages={"invalid": _("Use 1 to 32 letters, digits or '-'.")}, **kwargs)


def reason_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(max_length=300, required=False, allow_blank=True, default="",
                                 help_text="why; written to the audit trail", **kwargs)


class KnownFieldsOnly:
    """Refuse body fields the operation does not take, rather than ignore them.

    A client that PATCHes a billing attribute, say, must learn that it changes only
    through an account change, not get a 200 with nothing changed.
    """

    #: field name → why it cannot be given here (instead of ``unknown_message``)
    refused: dict = {}
    unknown_message = _("This field cannot be changed here.")

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        if unknown:
            raise serializers.ValidationError(
                {name: [self.refused.get(name, self.unknown_message)] for name in unknown})
        return super().to_internal_value(data)


class PlainDecimalField(serializers.DecimalField):
    """A non-negative decimal given as a string such as "630" or "630.5" (kVA, ratings, register reads).

    Its schema is the pattern of what it takes (``PlainDecimalSchema``), not the looser
    pattern of any decimal, so that a client or a test generator knows the exact form.
    """

    def __init__(self, max_digits: int, decimal_places: int, **kwargs):
        super().__init__(max_digits=max_digits, decimal_places=decimal_places, min_value=0, **kwargs)


class PlainDecimalSchema(OpenApiSerializerFieldExtension):
    target_class = PlainDecimalField

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        whole, places = field.max_digits - field.decimal_places, field.decimal_places
        return {"type": "string", "format": "decimal", "pattern": rf"^\d{{1,{whole}}}(\.\d{{1,{places}}})?$"}


# --- references -------------------------------------------------------------------


class CustomerRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "customer_no", "name"]


class AccountRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ["id", "account_no", "name"]


# --- customers and contacts -------------------------------------------------------


class MaskedPersonalDataMixin:
    """Phones and certificate numbers as lists and details show them: masked, whatever the viewer may do."""

    def get_mobile(self, obj) -> str:
        return masking.mask_phone(obj.mobile)

    def get_phone(self, obj) -> str:
        return masking.mask_phone(obj.phone)


class ContactSerializer(MaskedPersonalDataMixin, serializers.ModelSerializer):
    mobile = serializers.SerializerMethodField(help_text="masked (138****5678); see the contact's personal-data")
    phone = serializers.SerializerMethodField(help_text="masked; see the contact's personal-data")

    class Meta:
        model = CustomerContact
        fields = ["id", "name", "role", "mobile", "phone", "email"]


class CustomerSerializer(MaskedPersonalDataMixin, serializers.ModelSerializer):
    org = OrgRefSerializer(read_only=True)
    mobile = serializers.SerializerMethodField(help_text="masked (138****5678); the full value: personal-data/")
    phone = serializers.SerializerMethodField(help_text="masked; the full value: personal-data/")
    certificate_no = serializers.SerializerMethodField(help_text="masked (4201**********1234); the full value: "
                                                                 "personal-data/")
    can_reveal = serializers.SerializerMethodField(
        help_text="whether you hold core.view_personal_data for the customer's org (personal-data/ answers you)")

    class Meta:
        model = Customer
        fields = ["id", "customer_no", "name", "customer_type", "certificate_type", "certificate_no", "mobile",
                  "phone", "email", "address", "is_active", "org", "can_reveal", "created_at"]

    def get_certificate_no(self, customer: Customer) -> str:
        return masking.mask_id_number(customer.certificate_no)

    def get_can_reveal(self, customer: Customer) -> bool:
        return masking.reveal_allowed(self.context["request"].user, customer.org)


class CustomerDetailSerializer(CustomerSerializer):
    contacts = ContactSerializer(many=True, read_only=True)

    class Meta(CustomerSerializer.Meta):
        fields = [*CustomerSerializer.Meta.fields, "contacts"]


class CustomerWriteSerializer(KnownFieldsOnly, serializers.ModelSerializer):
    reason = reason_field()

    class Meta:
        model = Customer
        fields = ["name", "customer_type", "certificate_type", "certificate_no", "mobile", "phone", "email",
                  "address", "reason"]
        validators = []


class CustomerCreateSerializer(CustomerWriteSerializer):
    org = ScopedPrimaryKeyField(within(EDIT), queryset=Org.objects.all(),
                                help_text="the org that keeps the record (where you hold customers.edit)")
    customer_no = number_field(help_text="unique in the company; a retried create answers 400 naming the duplicate")

    class Meta(CustomerWriteSerializer.Meta):
        fields = ["org", "customer_no", *CustomerWriteSerializer.Meta.fields]


class CustomerUpdateSerializer(CustomerWriteSerializer):
    class Meta(CustomerWriteSerializer.Meta):
        fields = [*CustomerWriteSerializer.Meta.fields, "is_active"]


class ContactCreateSerializer(KnownFieldsOnly, serializers.ModelSerializer):
    reason = reason_field()

    class Meta:
        model = CustomerContact
        fields = ["name", "role", "mobile", "phone", "email", "reason"]


class ContactRemoveSerializer(KnownFieldsOnly, serializers.Serializer):
    reason = reason_field()


class PersonalDataSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="the field shown")
    value = serializers.CharField(help_text="its full value (empty when none is recorded)")


# --- accounts and their versions ---------------------------------------------------


BILLING_FIELDS = ["name", "usage_category", "voltage_level", "tariff_code", "contract_capacity", "running_capacity",
                  "capacity_basis", "pf_standard", "metering_mode", "status"]


class AccountSerializer(serializers.ModelSerializer):
    customer = CustomerRefSerializer(read_only=True)
    org = OrgRefSerializer(read_only=True, help_text="the billing org")

    class Meta:
        model = Account
        fields = ["id", "account_no", "customer", "org", *BILLING_FIELDS, "service_address", "industry_class",
                  "importance_level", "is_key_account", "payment_method", "reading_route_code", "longitude",
                  "latitude", "opened_on", "closed_on", "created_at"]


class AccountVersionSerializer(serializers.ModelSerializer):
    customer = CustomerRefSerializer(read_only=True)
    change = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True,
                                                help_text="the account change that wrote this version (changes/)")
    scheduled_resumption = serializers.BooleanField(
        read_only=True, help_text="written by a suspension to restore the account at its planned end")

    class Meta:
        model = AccountVersion
        fields = ["valid_from", "valid_to", "customer", *BILLING_FIELDS, "change", "scheduled_resumption"]


class AccountWriteSerializer(KnownFieldsOnly, serializers.ModelSerializer):
    refused = dict.fromkeys(VERSIONED_FIELDS, _("A billing attribute changes only through an account change "
                                                "(changes/), so that it is approved and dated."))
    reason = reason_field()

    class Meta:
        model = Account
        fields = ["service_address", "industry_class", "importance_level", "is_key_account", "payment_method",
                  "reading_route_code", "longitude", "latitude", "reason"]
        extra_kwargs = {"longitude": LONGITUDE, "latitude": LATITUDE}
        validators = []


class AccountOpenSerializer(AccountWriteSerializer):
    customer = ScopedPrimaryKeyField(scoped_by(EDIT), queryset=Customer.objects.all(), help_text="the owner")
    org = ScopedPrimaryKeyField(within(EDIT), queryset=Org.objects.all(),
                                help_text="the billing org (where you hold customers.edit)")
    account_no = number_field(help_text="unique in the company; a retried create answers 400 naming the duplicate")
    contract_capacity = PlainDecimalField(10, 1, required=False, help_text="kVA; 0 unless given")
    running_capacity = PlainDecimalField(10, 1, required=False, help_text="kVA; the contract capacity unless given")
    capacity_basis = serializers.ChoiceField(choices=CapacityBasis.choices, required=False)

    class Meta(AccountWriteSerializer.Meta):
        fields = ["customer", "org", "account_no", "name", "opened_on", "usage_category", "voltage_level",
                  "tariff_code", "contract_capacity", "running_capacity", "capacity_basis", "pf_standard",
                  "metering_mode", *AccountWriteSerializer.Meta.fields]
        extra_kwargs = {**AccountWriteSerializer.Meta.extra_kwargs,
                        "name": {"required": False, "help_text": "the customer's name unless given"}}


# --- account changes --------------------------------------------------------------


class ChangeValuesSerializer(KnownFieldsOnly, serializers.Serializer):
    """The proposed values; which ones a kind needs is decided (and explained) by the service."""

    usage_category = serializers.CharField(max_length=16, required=False, allow_blank=True, help_text="reclassify")
    tariff_code = serializers.CharField(max_length=32, required=False, allow_blank=True, help_text="reclassify")
    voltage_level = serializers.CharField(max_length=16, required=False, allow_blank=True, help_text="reclassify")
    pf_standard = serializers.CharField(max_length=8, required=False, allow_blank=True, help_text="reclassify")
    metering_mode = serializers.CharField(max_length=4, required=False, allow_blank=True, help_text="reclassify")
    capacity_basis = serializers.ChoiceField(choices=CapacityBasis.choices, required=False,
                                             help_text="reclassify, capacity_increase, capacity_reduction")
    contract_capacity = PlainDecimalField(10, 1, required=False, help_text="kVA: capacity_increase, capacity_reduction")
    running_capacity = PlainDecimalField(10, 1, required=False, help_text="kVA: capacity_increase, capacity_reduction "
                                                                          "(default: the new contract capacity)")
    suspended_capacity = PlainDecimalField(10, 1, required=False,
                                           help_text="kVA: suspend part of the capacity (default: all)")
    name = serializers.CharField(max_length=120, required=False, allow_blank=True, help_text="rename, transfer")
    customer = ScopedPrimaryKeyField(scoped_by(*selectors.VIEW_PERMS), queryset=Customer.objects.all(),
                                     required=False, help_text="the new owner: transfer")

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        if "customer" in values:
            values["customer"] = values["customer"].pk
        return values


class ChangeSerializer(serializers.ModelSerializer):
    account = AccountRefSerializer(read_only=True)
    org = OrgRefSerializer(read_only=True)
    values = serializers.DictField(read_only=True, help_text="the proposed values by attribute "
                                                             "(decimals as strings, the new owner as an id)")
    approval = serializers.IntegerField(source="approval_id", read_only=True, allow_null=True,
                                        help_text="id of the latest approval request (see approvals/)")
    created_by = StaffRefSerializer(read_only=True)

    class Meta:
        model = AccountChange
        fields = ["id", "account", "org", "kind", "effective_date", "end_date", "values", "reason",
                  "approval_status", "approval", "created_by", "created_at", "applied_at"]


class ChangeRowSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField(help_text="in the request's language")
    before = serializers.CharField(help_text="in force on the effective date ('—' for none)")
    after = serializers.CharField(help_text="proposed")


class ChangeDetailSerializer(ChangeSerializer):
    rows = serializers.SerializerMethodField(help_text="each proposed value beside the one in force on the date")

    class Meta(ChangeSerializer.Meta):
        fields = [*ChangeSerializer.Meta.fields, "rows"]

    @extend_schema_field(ChangeRowSerializer(many=True))
    def get_rows(self, doc: AccountChange):
        from .change_display import change_rows

        rows = [{"field": key, "label": label, "before": before, "after": after}
                for key, (label, before, after) in zip(doc.values or {}, change_rows(doc), strict=True)]
        return ChangeRowSerializer(rows, many=True).data


class ChangeCreateSerializer(KnownFieldsOnly, serializers.Serializer):
    account = ScopedPrimaryKeyField(scoped_by("customers.change_request"), queryset=Account.objects.all())
    kind = serializers.ChoiceField(choices=ChangeKind.choices)
    effective_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True, help_text="planned end: suspend")
    values = ChangeValuesSerializer(required=False, default=dict)
    reason = serializers.CharField(max_length=300, help_text="why the account changes; written to the audit trail")


# --- contracts --------------------------------------------------------------------


class ContractSerializer(serializers.ModelSerializer):
    account = AccountRefSerializer(read_only=True)
    org = OrgRefSerializer(read_only=True)
    supersedes = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True,
                                                    help_text="the version this one renewed")
    created_by = StaffRefSerializer(read_only=True)

    class Meta:
        model = SupplyContract
        fields = ["id", "contract_no", "version", "kind", "status", "account", "org", "signed_on", "valid_from",
                  "expires_on", "customer_signatory", "terms", "supersedes", "created_by", "created_at"]


class ContractCreateSerializer(KnownFieldsOnly, serializers.ModelSerializer):
    account = ScopedPrimaryKeyField(scoped_by("customers.manage_contracts"), queryset=Account.objects.all())
    reason = reason_field()

    class Meta:
        model = SupplyContract
        fields = ["account", "contract_no", "kind", "signed_on", "valid_from", "expires_on", "customer_signatory",
                  "terms", "reason"]
        extra_kwargs = {"contract_no": {"help_text": "unique in the company; a retried create answers 400 naming "
                                                     "the duplicate"}}
        validators = []


class ContractRenewSerializer(KnownFieldsOnly, serializers.ModelSerializer):
    terms = serializers.CharField(required=False, allow_blank=True, help_text="the current terms unless given")
    customer_signatory = serializers.CharField(max_length=60, required=False, allow_blank=True,
                                               help_text="the current signatory unless given")
    reason = reason_field()

    class Meta:
        model = SupplyContract
        fields = ["signed_on", "valid_from", "expires_on", "terms", "customer_signatory", "reason"]


class ContractTerminateSerializer(KnownFieldsOnly, serializers.Serializer):
    reason = serializers.CharField(max_length=300, help_text="why the contract ends; written to the audit trail")
