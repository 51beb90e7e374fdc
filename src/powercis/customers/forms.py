"""Forms of the customer archive pages: they check input types and offer the company's codes; services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from powercis.core.forms import BootstrapMixin
from powercis.core.models import CodeItem

from .models import CapacityBasis, CertificateType, ChangeKind, CustomerContact, SupplyContract

DATE = forms.DateInput(attrs={"type": "date"})


def code_choices(company_id: int, table: str, blank: bool = True) -> list[tuple[str, str]]:
    items = CodeItem.objects.filter(table__company_id=company_id, table__code=table, is_active=True).order_by(
        "sort_order", "code")
    return ([("", "—")] if blank else []) + [(i.code, f"{i.code} {i.label}") for i in items]


class CodeFieldsMixin:
    """Turn the fields named in ``code_fields`` into selects of the company's code table items."""

    code_fields: dict[str, str] = {}

    def set_codes(self, company_id: int) -> None:
        for name, table in self.code_fields.items():
            if name in self.fields:
                field = self.fields[name]
                self.fields[name] = forms.ChoiceField(label=field.label, required=field.required,
                                                      choices=code_choices(company_id, table),
                                                      help_text=field.help_text,
                                                      widget=forms.Select(attrs={"class": "form-select"}))


class ReasonMixin(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class CustomerForm(CodeFieldsMixin, BootstrapMixin, ReasonMixin):
    code_fields = {"customer_type": "customer_type"}
    name = forms.CharField(label=_("Name"), max_length=120)
    customer_type = forms.CharField(label=_("Customer type"))
    certificate_type = forms.ChoiceField(label=_("Certificate type"), choices=CertificateType.choices)
    certificate_no = forms.CharField(label=_("Certificate number"), max_length=40, required=False)
    mobile = forms.CharField(label=_("Mobile"), max_length=20, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)

    def __init__(self, *args, company_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_codes(company_id)


class CustomerCreateForm(CustomerForm):
    customer_no = forms.CharField(label=_("Customer number"), max_length=32)
    field_order = ["customer_no"]


class AccountEditForm(CodeFieldsMixin, BootstrapMixin, ReasonMixin):
    code_fields = {"industry_class": "industry_class", "importance_level": "importance_level",
                   "payment_method": "payment_method"}
    service_address = forms.CharField(label=_("Service address"), max_length=200)
    industry_class = forms.CharField(label=_("Industry class"), required=False)
    importance_level = forms.CharField(label=_("Importance level"))
    is_key_account = forms.BooleanField(label=_("Key account"), required=False)
    payment_method = forms.CharField(label=_("Payment method"))
    reading_route_code = forms.CharField(label=_("Reading route"), max_length=32, required=False)
    longitude = forms.FloatField(label=_("Longitude"), required=False, min_value=-180, max_value=180)
    latitude = forms.FloatField(label=_("Latitude"), required=False, min_value=-90, max_value=90)

    def __init__(self, *args, company_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_codes(company_id)


class AccountOpenForm(AccountEditForm):
    code_fields = {**AccountEditForm.code_fields, "usage_category": "usage_category",
                   "voltage_level": "voltage_level", "pf_standard": "pf_standard", "metering_mode": "metering_mode"}
    account_no = forms.CharField(label=_("Account number"), max_length=32)
    name = forms.CharField(label=_("Account name"), max_length=120, required=False,
                           help_text=_("Leave empty to use the customer's name."))
    org = forms.ModelChoiceField(queryset=None, label=_("Billing org"))
    opened_on = forms.DateField(label=_("Connected on"), widget=DATE)
    usage_category = forms.CharField(label=_("Usage category"))
    voltage_level = forms.CharField(label=_("Voltage level"))
    tariff_code = forms.CharField(label=_("Tariff code"), max_length=32, required=False)
    contract_capacity = forms.DecimalField(label=_("Contract capacity (kVA)"), min_value=0, max_digits=10,
                                           decimal_places=1, initial=0)
    capacity_basis = forms.ChoiceField(label=_("Capacity charge basis"), choices=CapacityBasis.choices)
    pf_standard = forms.CharField(label=_("Power-factor standard"))
    metering_mode = forms.CharField(label=_("Metering mode"))
    field_order = ["account_no", "name", "org", "opened_on", "service_address", "usage_category", "voltage_level",
                   "tariff_code", "contract_capacity", "capacity_basis", "pf_standard", "metering_mode"]

    def __init__(self, *args, orgs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = orgs
        self.fields["org"].widget.attrs["class"] = "form-select"


class ContactForm(BootstrapMixin, ReasonMixin):
    name = forms.CharField(label=_("Name"), max_length=60)
    role = forms.ChoiceField(label=_("Role"), choices=CustomerContact.Role.choices)
    mobile = forms.CharField(label=_("Mobile"), max_length=20, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    email = forms.EmailField(label=_("Email"), required=False)


class ChangeForm(CodeFieldsMixin, BootstrapMixin, forms.Form):
    """The fields of one kind of change; ``fields_for_kind`` keeps only the ones that kind uses."""

    code_fields = {"usage_category": "usage_category", "voltage_level": "voltage_level",
                   "pf_standard": "pf_standard", "metering_mode": "metering_mode"}
    effective_date = forms.DateField(label=_("Effective date"), widget=DATE)
    end_date = forms.DateField(label=_("Planned end date"), widget=DATE, required=False)
    usage_category = forms.CharField(label=_("Usage category"), required=False)
    tariff_code = forms.CharField(label=_("Tariff code"), max_length=32, required=False)
    voltage_level = forms.CharField(label=_("Voltage level"), required=False)
    pf_standard = forms.CharField(label=_("Power-factor standard"), required=False)
    metering_mode = forms.CharField(label=_("Metering mode"), required=False)
    capacity_basis = forms.ChoiceField(label=_("Capacity charge basis"), required=False,
                                       choices=[("", "—"), *CapacityBasis.choices])
    contract_capacity = forms.DecimalField(label=_("New contract capacity (kVA)"), min_value=0, max_digits=10,
                                           decimal_places=1, required=False)
    running_capacity = forms.DecimalField(label=_("New running capacity (kVA)"), min_value=0, max_digits=10,
                                          decimal_places=1, required=False,
                                          help_text=_("Leave empty when it equals the contract capacity."))
    suspended_capacity = forms.DecimalField(label=_("Capacity suspended (kVA)"), min_value=0, max_digits=10,
                                            decimal_places=1, required=False,
                                            help_text=_("Leave empty to suspend the whole account."))
    name = forms.CharField(label=_("New account name"), max_length=120, required=False)
    customer = forms.ChoiceField(label=_("New owner (customer)"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=300)

    FIELDS = {
        ChangeKind.RECLASSIFY: ("usage_category", "tariff_code", "voltage_level", "pf_standard", "capacity_basis",
                                "metering_mode"),
        ChangeKind.CAPACITY_INCREASE: ("contract_capacity", "running_capacity", "capacity_basis"),
        ChangeKind.CAPACITY_REDUCTION: ("contract_capacity", "running_capacity", "capacity_basis"),
        ChangeKind.SUSPEND: ("end_date", "suspended_capacity"),
        ChangeKind.RESUME: (),
        ChangeKind.RENAME: ("name",),
        ChangeKind.TRANSFER: ("customer", "name"),
        ChangeKind.CLOSE: (),
    }
    VALUE_FIELDS = ("usage_category", "tariff_code", "voltage_level", "pf_standard", "metering_mode",
                    "capacity_basis", "contract_capacity", "running_capacity", "suspended_capacity", "name",
                    "customer")

    def __init__(self, *args, kind: str, company_id: int, customers=(), **kwargs):
        super().__init__(*args, **kwargs)
        keep = {"effective_date", "reason", *self.FIELDS[kind]}
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        self.set_codes(company_id)
        if "customer" in self.fields:
            self.fields["customer"].choices = [("", "—"), *[(str(c.pk), f"{c.customer_no} {c.name}")
                                                            for c in customers]]
        if kind == ChangeKind.SUSPEND:
            self.fields["end_date"].required = True

    def values(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items()
                if k in self.VALUE_FIELDS and v not in (None, "")}


class ContractForm(BootstrapMixin, ReasonMixin):
    contract_no = forms.CharField(label=_("Contract number"), max_length=40)
    kind = forms.ChoiceField(label=_("Contract type"), choices=SupplyContract.Kind.choices)
    signed_on = forms.DateField(label=_("Signed on"), widget=DATE)
    valid_from = forms.DateField(label=_("Valid from"), widget=DATE)
    expires_on = forms.DateField(label=_("Expires on"), widget=DATE)
    customer_signatory = forms.CharField(label=_("Signed for the customer by"), max_length=60, required=False)
    terms = forms.CharField(label=_("Special terms"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class ContractRenewForm(BootstrapMixin, ReasonMixin):
    signed_on = forms.DateField(label=_("Signed on"), widget=DATE)
    valid_from = forms.DateField(label=_("Valid from"), widget=DATE)
    expires_on = forms.DateField(label=_("Expires on"), widget=DATE)
    terms = forms.CharField(label=_("Special terms"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
