"""Forms of the metering pages: input types only; the services decide what is allowed."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from powercis.core.forms import BootstrapMixin

from .models import REGISTER_LABELS, REGISTERS, InstrumentTransformer, Meter

DATE = forms.DateInput(attrs={"type": "date"})


class ReadsMixin:
    """One decimal field per register of a meter, named ``<prefix>_<register>``."""

    def add_read_fields(self, registers, prefix: str, label: str) -> None:
        for register in registers:
            self.fields[f"{prefix}_{register}"] = forms.DecimalField(
                label=f"{label} · {REGISTER_LABELS[register]}", max_digits=14, decimal_places=4, min_value=0,
                widget=forms.NumberInput(attrs={"class": "form-control", "step": "any"}))

    def reads(self, prefix: str) -> dict:
        start = f"{prefix}_"
        return {k[len(start):]: v for k, v in self.cleaned_data.items() if k.startswith(start)}


class MeterRegisterForm(BootstrapMixin, forms.Form):
    asset_no = forms.CharField(label=_("Asset number"), max_length=32)
    phase = forms.ChoiceField(label=_("Wiring"), choices=Meter.Phase.choices)
    meter_type = forms.CharField(label=_("Meter type"), max_length=40, initial="smart")
    accuracy_class = forms.CharField(label=_("Accuracy class"), max_length=8, initial="2")
    manufacturer = forms.CharField(label=_("Manufacturer"), max_length=60, required=False)
    model_name = forms.CharField(label=_("Model"), max_length=60, required=False)
    rated_current = forms.CharField(label=_("Rated current"), max_length=20, required=False)
    registers = forms.MultipleChoiceField(label=_("Registers"), choices=[(r, REGISTER_LABELS[r]) for r in REGISTERS],
                                          initial=["total"], widget=forms.CheckboxSelectMultiple)
    digits = forms.IntegerField(label=_("Integer digits"), min_value=4, max_value=10, initial=6)
    decimals = forms.IntegerField(label=_("Decimal places"), min_value=0, max_value=4, initial=2)
    comm_address = forms.CharField(label=_("Communication address"), max_length=12, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class TransformerRegisterForm(BootstrapMixin, forms.Form):
    asset_no = forms.CharField(label=_("Asset number"), max_length=32)
    kind = forms.ChoiceField(label=_("Kind"), choices=InstrumentTransformer.Kind.choices)
    primary_rating = forms.DecimalField(label=_("Primary rating"), max_digits=10, decimal_places=2, min_value=0)
    secondary_rating = forms.DecimalField(label=_("Secondary rating"), max_digits=8, decimal_places=2, min_value=0)
    accuracy_class = forms.CharField(label=_("Accuracy class"), max_length=8, initial="0.2S")
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class InstallForm(ReadsMixin, BootstrapMixin, forms.Form):
    on = forms.DateField(label=_("Date"), widget=DATE)
    work_order_ref = forms.CharField(label=_("Work order"), max_length=40, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class TransformerRemoveForm(BootstrapMixin, forms.Form):
    on = forms.DateField(label=_("Date"), widget=DATE)
    work_order_ref = forms.CharField(label=_("Work order"), max_length=40, required=False)


class TransformerInstallForm(TransformerRemoveForm):
    asset_no = forms.CharField(label=_("CT/PT asset number"), max_length=32)
    phase = forms.ChoiceField(label=_("Phase"), choices=[("", "—"), ("A", "A"), ("B", "B"), ("C", "C")],
                              required=False)
    field_order = ["asset_no", "phase", "on", "work_order_ref"]
