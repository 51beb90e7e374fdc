"""Forms of the grid pages: one form class for every kind of record, built from the model's own fields.

Forms check input types and offer only the orgs and parents the user may use; the
services decide what is allowed and validate the record as a whole.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from powercis.core import authz, codelists
from powercis.core.forms import BootstrapMixin

from . import selectors
from .models import Building, Community, Feeder, Substation, Transformer, TransformerArea

#: the fields of each form, in display order; ``code`` only when creating, an area's feeder only
#: when creating (afterwards it moves with AreaMoveForm)
FORM_FIELDS = {
    Substation: ["org", "code", "name", "voltage_level", "longitude", "latitude"],
    Feeder: ["org", "code", "name", "voltage_level", "substation", "geometry"],
    TransformerArea: ["org", "code", "name", "feeder", "ownership", "capacity_kva", "longitude", "latitude",
                      "geometry"],
    Transformer: ["org", "code", "area", "model_name", "capacity_kva", "no_load_loss_kw", "load_loss_kw",
                  "no_load_current_pct", "impedance_voltage_pct"],
    Community: ["org", "code", "name", "address", "longitude", "latitude", "geometry"],
    Building: ["org", "code", "community", "name", "longitude", "latitude", "geometry"],
}
CREATE_ONLY = {"code", "feeder"}
#: where a parent field's choices come from (the user's scope, active records only)
PARENT_CHOICES = {
    "substation": selectors.visible_substations,
    "feeder": selectors.visible_feeders,
    "area": selectors.visible_areas,
    "community": selectors.visible_communities,
}
GEOMETRY_HELP = _('A GeoJSON geometry in longitude/latitude (WGS 84), e.g. {"type": "LineString", '
                  '"coordinates": [[114.30, 30.60], [114.31, 30.61]]}; a polygon\'s rings repeat their first '
                  'point at the end.  Leave empty when the shape is not known.')


def form_fields(model, *, creating: bool) -> list[str]:
    return [f for f in FORM_FIELDS[model] if creating or f not in CREATE_ONLY]


def _org_field(user) -> forms.ModelChoiceField:
    orgs = authz.orgs_in_scope(user, "grid.edit").order_by("path")
    field = forms.ModelChoiceField(queryset=orgs, label=_("Org"))
    field.label_from_instance = lambda org: f"{'　' * org.depth}{org.name} ({org.code})"
    return field


class GridRecordForm(BootstrapMixin, forms.Form):
    """The create or edit form of one kind of grid record, plus the reason for the audit trail."""

    def __init__(self, *args, user, model, creating: bool, **kwargs):
        names = form_fields(model, creating=creating)
        self.base_fields = {**forms.fields_for_model(model, fields=names), "reason": forms.CharField(
            label=_("Reason for the change"), max_length=200, required=False)}
        super().__init__(*args, **kwargs)
        self.fields["org"] = _org_field(user)
        company_id = user.org.company_id or user.org_id
        if "voltage_level" in self.fields:
            items = codelists.codes_of(company_id, "voltage_level")
            self.fields["voltage_level"] = forms.ChoiceField(
                label=self.fields["voltage_level"].label,
                choices=[("", "—")] + [(code, item.label) for code, item in items.items()])
        for name, selector in PARENT_CHOICES.items():
            if name in self.fields:
                self.fields[name].queryset = selector(user).filter(is_active=True).order_by("code")
        if "community" in self.fields:
            self.fields["community"].required = True
        if "geometry" in self.fields:
            self.fields["geometry"].widget = forms.Textarea(attrs={"rows": 4, "class": "form-control font-monospace"})
            self.fields["geometry"].help_text = GEOMETRY_HELP
        # BootstrapMixin ran before the fields above were replaced; style them too.
        for field in self.fields.values():
            if isinstance(field.widget, forms.Select):
                field.widget.attrs.setdefault("class", "form-select")

    def service_values(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("reason", None)
        return data


class AreaMoveForm(BootstrapMixin, forms.Form):
    feeder = forms.ModelChoiceField(queryset=Feeder.objects.none(), label=_("New feeder"), required=False,
                                    empty_label=_("— no feeder —"))
    reason = forms.CharField(label=_("Reason for the move"), max_length=200)

    def __init__(self, *args, user, area, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["feeder"].queryset = (selectors.visible_feeders(user).filter(is_active=True,
                                                                                company_id=area.company_id)
                                          .exclude(pk=area.feeder_id).order_by("code"))
