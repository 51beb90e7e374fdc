"""FilterSets of metering, shared by the list pages and the API."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from powercis.core.api.filters import IdFilter, OrgSubtreeFilter

from .models import AssetStatus, InstrumentTransformer, Meter, MeteringPoint


class MeteringPointFilter(django_filters.FilterSet):
    code = django_filters.CharFilter(lookup_expr="startswith", label=_("Metering point number"))
    org = OrgSubtreeFilter(label=_("Org and below"))
    kind = django_filters.ChoiceFilter(choices=MeteringPoint.Kind.choices, label=_("Kind"))
    account = IdFilter(label=_("Account"))
    transformer_area = IdFilter(label=_("Transformer area"))
    deduction = django_filters.ChoiceFilter(choices=MeteringPoint.Deduction.choices, label=_("Deduction from parent"))

    class Meta:
        model = MeteringPoint
        fields = ["code", "org", "kind", "account", "transformer_area", "deduction"]


class MeterFilter(django_filters.FilterSet):
    asset_no = django_filters.CharFilter(lookup_expr="startswith", label=_("Asset number"))
    org = OrgSubtreeFilter(label=_("Org and below"))
    status = django_filters.ChoiceFilter(choices=AssetStatus.choices, label=_("Status"))
    phase = django_filters.ChoiceFilter(choices=Meter.Phase.choices, label=_("Wiring"))

    class Meta:
        model = Meter
        fields = ["asset_no", "org", "status", "phase"]


class InstrumentTransformerFilter(django_filters.FilterSet):
    asset_no = django_filters.CharFilter(lookup_expr="startswith", label=_("Asset number"))
    org = OrgSubtreeFilter(label=_("Org and below"))
    kind = django_filters.ChoiceFilter(choices=InstrumentTransformer.Kind.choices, label=_("Kind"))
    status = django_filters.ChoiceFilter(choices=AssetStatus.choices, label=_("Status"))

    class Meta:
        model = InstrumentTransformer
        fields = ["asset_no", "org", "kind", "status"]
