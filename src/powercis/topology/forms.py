"""The filter of the topology fault worklist."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from powercis.core.forms import BootstrapMixin, org_choices_field

from .checks import FaultKind


class FaultFilterForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Fault"), required=False, choices=[("", _("All faults")), *FaultKind.choices])

    def __init__(self, *args, orgs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"] = org_choices_field(orgs, _("Org and below"), required=False)
        self.fields["org"].empty_label = _("All in my scope")
        for field in self.fields.values():
            field.widget.attrs["data-autosubmit"] = ""
