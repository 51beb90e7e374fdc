"""Forms for the core pages.  They check input types; the services decide what is allowed."""

from __future__ import annotations

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .models import AlertKind, DataScope, OrgLevel, Permission, WorkOrder
from .permission_catalog import SUBSYSTEMS


class BootstrapMixin:
    """Give widgets Bootstrap classes so templates can render any form the same way."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, (forms.CheckboxInput,)):
                css = "form-check-input"
            elif isinstance(widget, forms.CheckboxSelectMultiple):
                css = ""
            elif isinstance(widget, (forms.Select, forms.SelectMultiple)):
                css = "form-select"
            else:
                css = "form-control"
            if css:
                widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()


def org_choices_field(orgs, label, required=True) -> forms.ModelChoiceField:
    field = forms.ModelChoiceField(queryset=orgs.order_by("path"), label=label, required=required,
                                   widget=forms.Select(attrs={"class": "form-select"}))
    field.label_from_instance = lambda org: f"{'　' * org.depth}{org.name} ({org.code})"
    return field


class LoginForm(BootstrapMixin, forms.Form):
    username = forms.CharField(label=_("Login name"), max_length=64,
                               widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}))
    password = forms.CharField(label=_("Password"), max_length=128,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class PasswordChangeForm(BootstrapMixin, forms.Form):
    old_password = forms.CharField(label=_("Current password"), widget=forms.PasswordInput(
        attrs={"autocomplete": "current-password"}))
    new_password = forms.CharField(label=_("New password"), widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}))
    new_password2 = forms.CharField(label=_("New password again"), widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password2"):
            self.add_error("new_password2", _("The two new passwords differ."))
        return data


class ReasonForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class OrgForm(BootstrapMixin, forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=100)
    level = forms.ChoiceField(label=_("Level"), choices=OrgLevel.choices)
    short_name = forms.CharField(label=_("Short name"), max_length=40, required=False)
    name_en = forms.CharField(label=_("English name"), max_length=150, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    sort_order = forms.IntegerField(label=_("Sort order"), initial=0, min_value=-100000, max_value=100000)
    reason = forms.CharField(label=_("Reason for the change"), max_length=200, required=False)


class OrgMoveForm(BootstrapMixin, forms.Form):
    def __init__(self, *args, orgs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_parent"] = org_choices_field(orgs, _("New parent org"))
        self.fields["reason"] = forms.CharField(label=_("Reason"), max_length=200,
                                                widget=forms.TextInput(attrs={"class": "form-control"}))


class StaffCreateForm(BootstrapMixin, forms.Form):
    username = forms.CharField(label=_("Login name"), max_length=64)
    full_name = forms.CharField(label=_("Full name"), max_length=64)
    employee_no = forms.CharField(label=_("Employee number"), max_length=32, required=False)
    mobile = forms.CharField(label=_("Mobile phone"), max_length=20, required=False)
    email = forms.EmailField(label=_("Email"), required=False)

    def __init__(self, *args, orgs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"] = org_choices_field(orgs, _("Home org"))
        self.order_fields(["username", "full_name", "org", "employee_no", "mobile", "email"])


class StaffEditForm(BootstrapMixin, forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=64)
    employee_no = forms.CharField(label=_("Employee number"), max_length=32, required=False)
    mobile = forms.CharField(label=_("Mobile phone"), max_length=20, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    reason = forms.CharField(label=_("Reason for the change"), max_length=200, required=False)

    def __init__(self, *args, orgs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"] = org_choices_field(orgs, _("Home org"))
        self.order_fields(["full_name", "org", "employee_no", "mobile", "email", "reason"])


class GrantRequestForm(BootstrapMixin, forms.Form):
    scope = forms.ChoiceField(label=_("Data scope"), choices=DataScope.choices, initial=DataScope.OWN)
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, posts=None, orgs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["post"] = forms.ModelChoiceField(queryset=posts, label=_("Post"),
                                                     widget=forms.Select(attrs={"class": "form-select"}))
        self.fields["post"].label_from_instance = lambda post: post.label
        self.fields["org"] = org_choices_field(orgs, _("In org"))
        self.order_fields(["post", "org", "scope", "reason"])


class PostForm(BootstrapMixin, forms.Form):
    code = forms.CharField(label=_("Code"), max_length=40, help_text=_("Lower-case letters, digits and '_'."))
    label_zh = forms.CharField(label=_("Chinese name"), max_length=60)
    label_en = forms.CharField(label=_("English name"), max_length=100, required=False)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


def grouped_permissions() -> list[tuple[str, list[Permission]]]:
    """Active permissions grouped under their subsystem's label in the current language."""
    english = (get_language() or "").startswith("en")
    groups: dict[str, list[Permission]] = {}
    for perm in Permission.objects.filter(is_active=True).order_by("code"):
        groups.setdefault(perm.subsystem, []).append(perm)
    return [(SUBSYSTEMS[code][1 if english else 0], groups[code]) for code in SUBSYSTEMS if code in groups]


class PostPermissionsForm(forms.Form):
    permissions = forms.MultipleChoiceField(label=_("Permissions"), required=False,
                                            widget=forms.CheckboxSelectMultiple)
    reason = forms.CharField(label=_("Reason for the change"), max_length=200, required=False,
                             widget=forms.TextInput(attrs={"class": "form-control"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["permissions"].choices = [(p.code, p.label) for p in Permission.objects.filter(is_active=True)]


class SodRuleForm(BootstrapMixin, forms.Form):
    permission_a = forms.ChoiceField(label=_("Permission A"))
    permission_b = forms.ChoiceField(label=_("Permission B"))
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(p.code, f"{p.label} ({p.code})") for p in Permission.objects.filter(is_active=True)]
        self.fields["permission_a"].choices = choices
        self.fields["permission_b"].choices = choices


class DecisionForm(BootstrapMixin, forms.Form):
    comment = forms.CharField(label=_("Comment"), max_length=500, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))


class AuditSearchForm(BootstrapMixin, forms.Form):
    user = forms.CharField(label=_("User"), max_length=64, required=False,
                           help_text=_("Login name or part of the name"))
    action = forms.CharField(label=_("Action"), max_length=64, required=False)
    object_type = forms.CharField(label=_("Object type"), max_length=64, required=False)
    object_id = forms.CharField(label=_("Object id"), max_length=64, required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        from .models import AuditCategory

        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("All"))] + list(AuditCategory.choices)


class DayForm(BootstrapMixin, forms.Form):
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))


class AlertAckForm(BootstrapMixin, forms.Form):
    note = forms.CharField(label=_("Finding"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class AlertRuleForm(BootstrapMixin, forms.Form):
    """One form for every rule kind; the fields that do not apply to the kind are removed."""

    name = forms.CharField(label=_("Name"), max_length=100)
    is_active = forms.BooleanField(label=_("Active"), required=False)
    fields_text = forms.CharField(label=_("Watched fields (app.model.field, one per line)"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 6}))
    start = forms.CharField(label=_("Working hours start (HH:MM)"), max_length=5, required=False)
    end = forms.CharField(label=_("Working hours end (HH:MM)"), max_length=5, required=False)
    weekdays = forms.MultipleChoiceField(
        label=_("Working days"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(str(d), label) for d, label in enumerate(
            [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")],
            start=1)],
    )
    max_per_day = forms.IntegerField(label=_("Most changes per person per day"), required=False, min_value=1,
                                     max_value=1_000_000)
    reason = forms.CharField(label=_("Reason for the change"), max_length=200, required=False)

    KIND_FIELDS = {
        AlertKind.UNREFERENCED_CHANGE: {"fields_text"},
        AlertKind.OFF_HOURS: {"start", "end", "weekdays"},
        AlertKind.CHANGE_VOLUME: {"max_per_day"},
    }

    def __init__(self, *args, kind=None, **kwargs):
        super().__init__(*args, **kwargs)
        keep = self.KIND_FIELDS.get(kind, set()) | {"name", "is_active", "reason"}
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]

    def params(self) -> dict:
        data = self.cleaned_data
        if "fields_text" in self.fields:
            return {"fields": [line.strip() for line in data["fields_text"].splitlines() if line.strip()]}
        if "start" in self.fields:
            return {"start": data["start"], "end": data["end"], "weekdays": [int(d) for d in data["weekdays"]]}
        return {"max_per_day": data["max_per_day"]}


class CodeItemForm(BootstrapMixin, forms.Form):
    code = forms.CharField(label=_("Code"), max_length=40)
    label_zh = forms.CharField(label=_("Chinese label"), max_length=100)
    label_en = forms.CharField(label=_("English label"), max_length=150, required=False)
    parent_code = forms.CharField(label=_("Parent code"), max_length=40, required=False)
    sort_order = forms.IntegerField(label=_("Sort order"), initial=0, min_value=-100000, max_value=100000)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    reason = forms.CharField(label=_("Reason for the change"), max_length=200, required=False)


class TokenForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60, help_text=_("What will use the token, e.g. the bank gateway."))
    days = forms.IntegerField(label=_("Valid for days"), min_value=1, max_value=366, initial=90)


class StaffFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Search"), max_length=64, required=False)
    active = forms.ChoiceField(label=_("Status"), required=False, choices=[
        ("", _("All")), ("1", _("Active")), ("0", _("Deactivated"))])



class WorkOrderFilterForm(BootstrapMixin, forms.Form):
    """The work-order list's filters; ``org`` and ``assignee`` offer only what lies in the user's scope."""

    ALL = "all"

    q = forms.CharField(label=_("Number or account"), max_length=32, required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, initial="open",
                               choices=[*WorkOrder.Status.choices, (ALL, _("All"))])
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All")), *WorkOrder.Kind.choices])
    due_from = forms.DateField(label=_("Due from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    due_to = forms.DateField(label=_("Due until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, orgs=None, assignees=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"] = org_choices_field(orgs, _("Org and below"), required=False)
        self.fields["assignee"] = forms.ModelChoiceField(queryset=assignees, label=_("Assigned to"), required=False,
                                                         widget=forms.Select(attrs={"class": "form-select"}))
        self.fields["assignee"].label_from_instance = lambda staff: staff.full_name
        self.order_fields(["q", "status", "kind", "org", "assignee", "due_from", "due_to"])

    def clean(self):
        data = super().clean()
        if data.get("due_from") and data.get("due_to") and data["due_from"] > data["due_to"]:
            self.add_error("due_to", _("The end of the due range lies before its start."))
        return data


class WorkOrderCloseForm(BootstrapMixin, forms.Form):
    """Complete or cancel: what was done, or why the order is not needed."""

    text = forms.CharField(label=_("Result"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}),
                           error_messages={"required": _("Say what was done or why the order is closed.")})
