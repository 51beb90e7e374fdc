"""Forms of the reading pages: input types only; the services decide what is allowed."""

from __future__ import annotations

import re

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from powercis.core.forms import BootstrapMixin, org_choices_field
from powercis.core.models import Staff
from powercis.metering.models import REGISTER_LABELS, REGISTERS

from .models import Check, Cycle, ReadException, ReadMethod, Severity, Source
from .thresholds import CATALOGUE

PERIOD = re.compile(r"^\d{4}-\d{2}$")
DI = re.compile(r"^[0-9A-Fa-f]{8}$")
MONTH = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"})
DECIMAL = {"inputmode": "decimal", "autocomplete": "off"}


def staff_choice_field(label, queryset, required=False) -> forms.ModelChoiceField:
    field = forms.ModelChoiceField(queryset=queryset.order_by("full_name", "username"), label=label,
                                   required=required, widget=forms.Select(attrs={"class": "form-select"}))
    field.label_from_instance = lambda staff: f"{staff.full_name} ({staff.username} · {staff.org.name})"
    return field


def active_staff(orgs) -> QuerySet:
    """Active staff of the companies of ``orgs``: whom a route or plan may be given to (the service checks the rest)."""
    companies = {org.company_id or org.pk for org in orgs}
    return Staff.objects.filter(Q(org__company_id__in=companies) | Q(org_id__in=companies), is_active=True) \
        .select_related("org")


class PeriodField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Period"))
        kwargs.setdefault("max_length", 7)
        kwargs.setdefault("widget", MONTH)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value and not PERIOD.match(value):
            raise forms.ValidationError(_("Enter the period as YYYY-MM, e.g. 2026-10."))
        return value


# --- routes --------------------------------------------------------------------------------------------------------


class RouteForm(BootstrapMixin, forms.Form):
    code = forms.CharField(label=_("Route code"), max_length=32,
                           help_text=_("Accounts name their route by this code; it cannot be changed later."))
    name = forms.CharField(label=_("Route name"), max_length=100)
    read_day = forms.IntegerField(label=_("Scheduled read day"), min_value=1, max_value=31, initial=25,
                                  help_text=_("31 means the last day of the month."))
    cycle = forms.ChoiceField(label=_("Cycle"), choices=Cycle.choices, initial=Cycle.MONTHLY)
    odd_months = forms.BooleanField(label=_("Read in odd months (two-monthly cycle)"), required=False, initial=True)
    method = forms.ChoiceField(label=_("Reading method"), choices=ReadMethod.choices, initial=ReadMethod.MANUAL)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    reason = forms.CharField(label=_("Reason for the change"), max_length=200, required=False)

    def __init__(self, *args, orgs=None, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reader"] = staff_choice_field(_("Meter reader"), active_staff(list(orgs)))
        if editing:
            del self.fields["code"]
        else:
            self.fields["org"] = org_choices_field(orgs, _("Org"))
            del self.fields["is_active"]
            del self.fields["reason"]
        order = ["org", "code", "name", "reader", "read_day", "cycle", "odd_months", "method", "is_active", "reason"]
        self.order_fields([name for name in order if name in self.fields])


class RouteFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Code or name"), max_length=64, required=False)
    method = forms.ChoiceField(label=_("Reading method"), required=False,
                               choices=[("", _("All"))] + list(ReadMethod.choices))
    cycle = forms.ChoiceField(label=_("Cycle"), required=False, choices=[("", _("All"))] + list(Cycle.choices))

    def __init__(self, *args, orgs=None, readers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"] = org_choices_field(orgs, _("Org"), required=False)
        self.fields["reader"] = staff_choice_field(_("Meter reader"), readers)
        self.order_fields(["org", "q", "reader", "method", "cycle"])


# --- plans ---------------------------------------------------------------------------------------------------------


class PlanActionForm(BootstrapMixin, forms.Form):
    """The org and period a period-wide action applies to (generate, validate, release all)."""

    period = PeriodField()

    def __init__(self, *args, orgs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"] = org_choices_field(orgs, _("Org"))
        self.order_fields(["org", "period"])


class GenerateForm(PlanActionForm):
    """Generate a period's plans; at go-live, as opening plans for the previous system's last readings."""

    opening = forms.BooleanField(
        label=_("Opening readings (go-live)"), required=False,
        help_text=_("Plans of the month before the first one read here, for the previous system's last readings: "
                    "import them as a reading sheet, then validate and release."))


class OverrideForm(BootstrapMixin, forms.Form):
    override_reason = forms.CharField(label=_("Reason for releasing with open exceptions"), max_length=200,
                                      widget=forms.Textarea(attrs={"rows": 2}))


class ReassignForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, *args, orgs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reader"] = staff_choice_field(_("Meter reader"), active_staff(list(orgs)))
        self.order_fields(["reader", "reason"])


class SheetImportForm(BootstrapMixin, forms.Form):
    file = forms.FileField(label=_("Filled reading sheet (xlsx)"))


# --- handheld ------------------------------------------------------------------------------------------------------


class StopForm(forms.Form):
    """The values of one stop: one decimal text per register the meter has, a photo reference, or why not read."""

    photo_ref = forms.CharField(label=_("Photo reference"), max_length=200, required=False,
                                widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}))

    def __init__(self, *args, registers=(), reasons=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.registers = [r for r in REGISTERS if r in (registers or ["total"])]
        for register in self.registers:
            attrs = {**DECIMAL, "class": "form-control form-control-lg"}
            if register == "total":
                attrs["data-total"] = "1"
            self.fields[f"reg_{register}"] = forms.CharField(label=REGISTER_LABELS[register], max_length=20,
                                                             required=False, widget=forms.TextInput(attrs=attrs))
        self.fields["reason_code"] = forms.ChoiceField(
            label=_("Could not be read because"), required=False, choices=[("", "—")] + list(reasons),
            widget=forms.Select(attrs={"class": "form-select"}))
        self.fields["note"] = forms.CharField(label=_("Note"), max_length=200, required=False,
                                             widget=forms.TextInput(attrs={"class": "form-control"}))

    def values(self) -> dict:
        return {r: self.cleaned_data.get(f"reg_{r}", "").strip() for r in self.registers
                if self.cleaned_data.get(f"reg_{r}", "").strip()}

    def register_fields(self):
        return [self[f"reg_{r}"] for r in self.registers]


# --- exceptions ----------------------------------------------------------------------------------------------------


class ExceptionFilterForm(BootstrapMixin, forms.Form):
    period = PeriodField(required=False)
    rule = forms.ChoiceField(label=_("Check"), required=False, choices=[("", _("All"))] + list(Check.choices))
    severity = forms.ChoiceField(label=_("Severity"), required=False,
                                 choices=[("", _("All"))] + list(Severity.choices))
    status = forms.ChoiceField(label=_("Status"), required=False, initial=ReadException.Status.OPEN,
                               choices=[(ReadException.Status.OPEN, _("Open")),
                                        (ReadException.Status.RESOLVED, _("Resolved")), ("all", _("All"))])
    route = forms.CharField(label=_("Route code"), max_length=32, required=False)

    def __init__(self, *args, orgs=None, readers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"] = org_choices_field(orgs, _("Org"), required=False)
        self.fields["reader"] = staff_choice_field(_("Meter reader"), readers)
        self.order_fields(["period", "org", "route", "reader", "rule", "severity", "status"])


class NoteForm(BootstrapMixin, forms.Form):
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class ReasonForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class CorrectForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Reason for the correction"), max_length=200)

    def __init__(self, *args, registers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.registers = [r for r in REGISTERS if r in (registers or ["total"])]
        for register in self.registers:
            self.fields[f"reg_{register}"] = forms.CharField(
                label=REGISTER_LABELS[register], max_length=20, required=False,
                widget=forms.TextInput(attrs={**DECIMAL, "class": "form-control"}))
        self.order_fields([f"reg_{r}" for r in self.registers] + ["reason"])

    def values(self) -> dict:
        return {r: self.cleaned_data[f"reg_{r}"].strip() for r in self.registers
                if self.cleaned_data.get(f"reg_{r}", "").strip()}


# --- deliveries ----------------------------------------------------------------------------------------------------


UPLOAD_SOURCES = [(Source.AMI, Source.AMI.label), (Source.IMPORT, Source.IMPORT.label),
                  (Source.REMOTE, Source.REMOTE.label)]


class UploadForm(BootstrapMixin, forms.Form):
    source = forms.ChoiceField(label=_("Source"), choices=UPLOAD_SOURCES, initial=Source.AMI)
    file = forms.FileField(label=_("File (csv, xlsx, json or parquet)"))
    sender = forms.CharField(label=_("Sender"), max_length=60, required=False,
                             help_text=_("Head-end or system that produced the file."))
    delivery_key = forms.CharField(label=_("Delivery key"), max_length=100, required=False,
                                   help_text=_("The sender's key; the same key again is not imported twice."))

    def __init__(self, *args, orgs=None, sources=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"] = org_choices_field(orgs, _("Org"))
        if sources is not None:
            self.fields["source"].choices = sources
        self.order_fields(["org", "source", "file", "sender", "delivery_key"])


# --- collection ----------------------------------------------------------------------------------------------------


class ChannelForm(BootstrapMixin, forms.Form):
    code = forms.CharField(label=_("Channel code"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=100)
    host = forms.CharField(label=_("Host"), max_length=100)
    port = forms.IntegerField(label=_("Port"), min_value=1, max_value=65535)
    timeout_seconds = forms.DecimalField(label=_("Timeout (s)"), max_digits=5, decimal_places=1, min_value=0,
                                         initial=3)
    retries = forms.IntegerField(label=_("Retries"), min_value=0, max_value=10, initial=2)
    data_ids = forms.CharField(label=_("Data identifiers"), required=False,
                               help_text=_("8 hex digits each (DI3…DI0), separated by spaces or commas; "
                                           "empty for the standard set."))
    run_at = forms.TimeField(label=_("Daily run time"), required=False,
                             widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    reason = forms.CharField(label=_("Reason for the change"), max_length=200, required=False)

    def __init__(self, *args, orgs=None, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["code"]
        else:
            self.fields["org"] = org_choices_field(orgs, _("Org"))
            del self.fields["reason"]
            self.order_fields(["org", "code"] + [n for n in self.fields if n not in ("org", "code")])

    def clean_data_ids(self):
        text = self.cleaned_data.get("data_ids", "")
        ids = [part for part in re.split(r"[\s,;]+", text.strip()) if part]
        bad = [part for part in ids if not DI.match(part)]
        if bad:
            raise forms.ValidationError(_("Not a data identifier of 8 hex digits: %(ids)s") % {"ids": ", ".join(bad)})
        return [part.upper() for part in ids]


class TargetsForm(BootstrapMixin, forms.Form):
    codes = forms.CharField(label=_("Metering point numbers"), widget=forms.Textarea(attrs={"rows": 3}),
                            help_text=_("One or more, separated by spaces, commas or new lines."))

    def clean_codes(self):
        codes = [c for c in re.split(r"[\s,;]+", self.cleaned_data["codes"].strip()) if c]
        if not codes:
            raise forms.ValidationError(_("Enter at least one metering point number."))
        return list(dict.fromkeys(codes))


class CheckedCodesField(forms.MultipleChoiceField):
    """The metering point numbers ticked in a list; any number is passed on, the service says which are not there."""

    def valid_value(self, value) -> bool:
        return bool(value) and len(value) <= 32


class RemoveTargetsForm(forms.Form):
    codes = CheckedCodesField(label=_("Metering points"), error_messages={
        "required": _("Tick at least one meter to remove.")})


# --- thresholds ----------------------------------------------------------------------------------------------------


class ProfileForm(BootstrapMixin, forms.Form):
    usage_category = forms.ChoiceField(label=_("Usage category"), required=False,
                                       help_text=_("Empty: every account of the org. A category also covers the "
                                                   "categories below it."))
    valid_from = forms.DateField(label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["usage_category"].choices = [("", _("All categories")), *categories]
        for spec in CATALOGUE:
            self.fields[f"t_{spec.key}"] = forms.CharField(
                label=spec.label, max_length=20, required=False,
                widget=forms.TextInput(attrs={**DECIMAL, "placeholder": str(spec.default)}),
                help_text=_("Empty: inherited. Default %(default)s — %(source)s") % {"default": spec.default,
                                                                                    "source": spec.source})

    def values(self) -> dict:
        return {spec.key: self.cleaned_data[f"t_{spec.key}"].strip() for spec in CATALOGUE
                if self.cleaned_data.get(f"t_{spec.key}", "").strip()}


# --- indicators ----------------------------------------------------------------------------------------------------


class IndicatorForm(BootstrapMixin, forms.Form):
    BY = [("route", _("Route")), ("reader", _("Meter reader")), ("org", _("Org")), ("period", _("Period"))]
    period_from = PeriodField(label=_("From period"), required=False)
    period_to = PeriodField(label=_("To period"), required=False)
    by = forms.ChoiceField(label=_("Per"), choices=BY, required=False, initial="route")
    day_from = forms.DateField(label=_("Collection from day"), required=False,
                               widget=forms.DateInput(attrs={"type": "date"}))
    day_to = forms.DateField(label=_("Collection to day"), required=False,
                             widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, orgs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"] = org_choices_field(orgs, _("Org"), required=False)
        self.order_fields(["org", "period_from", "period_to", "by", "day_from", "day_to"])
