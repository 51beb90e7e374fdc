"""One FilterSet per grid model, used by the list pages and the API alike.

They only narrow a list that is already limited to the user's data scope, so an org or
parent id outside that scope simply finds nothing.
"""

from __future__ import annotations

from django_filters import rest_framework as filters

from powercis.core.api.filters import IdFilter, SearchFilter
from powercis.core.models import Org

from .models import Building, Community, Feeder, Substation, Transformer, TransformerArea


class OrgSubtreeFilter(IdFilter):
    """Rows of this org and every org below it."""

    def filter(self, queryset, value):
        if value in (None, ""):
            return queryset
        org = Org.objects.filter(pk=value).only("path").first()
        return queryset.filter(org_path__startswith=org.path) if org else queryset.none()


class GridFilterSet(filters.FilterSet):
    org = OrgSubtreeFilter(help_text="this org and the orgs below it")
    is_active = filters.BooleanFilter()
    q = SearchFilter("code", "name", help_text="part of the code or name")


class SubstationFilter(GridFilterSet):
    voltage_level = filters.CharFilter(max_length=16, help_text="code of the voltage level table")

    class Meta:
        model = Substation
        fields = ["org", "is_active", "q", "voltage_level"]


class FeederFilter(GridFilterSet):
    substation = IdFilter(field_name="substation_id")
    no_substation = filters.BooleanFilter(field_name="substation", lookup_expr="isnull",
                                          help_text="true: only feeders with no substation")
    voltage_level = filters.CharFilter(max_length=16, help_text="code of the voltage level table")

    class Meta:
        model = Feeder
        fields = ["org", "is_active", "q", "substation", "no_substation", "voltage_level"]


class AreaFilter(GridFilterSet):
    feeder = IdFilter(field_name="feeder_id")
    no_feeder = filters.BooleanFilter(field_name="feeder", lookup_expr="isnull",
                                      help_text="true: only areas hanging on no feeder")
    substation = IdFilter(field_name="feeder__substation_id", help_text="areas on the feeders of this substation")
    ownership = filters.ChoiceFilter(choices=TransformerArea.Ownership.choices)

    class Meta:
        model = TransformerArea
        fields = ["org", "is_active", "q", "feeder", "no_feeder", "substation", "ownership"]


class TransformerFilter(GridFilterSet):
    q = SearchFilter("code", "model_name", help_text="part of the code or model")
    area = IdFilter(field_name="area_id")

    class Meta:
        model = Transformer
        fields = ["org", "is_active", "q", "area"]


class CommunityFilter(GridFilterSet):
    q = SearchFilter("code", "name", "address", help_text="part of the code, name or address")

    class Meta:
        model = Community
        fields = ["org", "is_active", "q"]


class BuildingFilter(GridFilterSet):
    community = IdFilter(field_name="community_id")

    class Meta:
        model = Building
        fields = ["org", "is_active", "q", "community"]
