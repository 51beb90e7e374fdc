"""Forms of the import and export pages; they check input types, the services decide what is allowed."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .. import authz
from ..forms import BootstrapMixin, org_choices_field
from ..models import Org
from . import files, problems, readers, spec


def usable_specs(user) -> list[spec.EntitySpec]:
    """The entities this user may import or export somewhere."""
    return [s for s in spec.all_specs() if any(authz.authorize(user, p) for p in s.permissions)]


def bulk_permissions() -> tuple[str, ...]:
    return tuple(dict.fromkeys(p for s in spec.all_specs() for p in s.permissions))


def target_orgs(user):
    return authz.restrict_any(Org.objects.filter(is_active=True), user, bulk_permissions(), path_field="path")


class _EntityOrgForm(BootstrapMixin, forms.Form):
    entity = forms.ChoiceField(label=_("Data"))

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entity"].choices = [(s.code, str(s.label).capitalize()) for s in usable_specs(user)]
        self.fields["org"] = org_choices_field(target_orgs(user), _("Org"))
        self.order_fields(["entity", "org"])


class ImportForm(_EntityOrgForm):
    file = forms.FileField(label=_("File (CSV or XLSX)"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt"}))

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.fields["org"].help_text = _("Rows without an org code go to this org; rows with one must lie within it.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > readers.MAX_BYTES:  # refused before the upload is read into memory
            raise forms.ValidationError(problems.render(problems.TOO_LARGE, {
                "size": round(upload.size / 1048576, 1), "limit": readers.MAX_BYTES // 1048576}))
        return upload


class ExportForm(_EntityOrgForm):
    fmt = forms.ChoiceField(label=_("Format"), choices=[(f, f.upper()) for f in files.FORMATS])

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.fields["org"].help_text = _("The org and everything below it that lies in your data scope.")
