"""REST endpoints under /api/v1/topology/: the fault worklist, its counts, and the accounts hanging on an area.

Same gates as every other endpoint (core.api): a grid permission somewhere to call them,
and rows outside the user's scope do not exist.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from powercis.core.api.errors import ErrorSerializer
from powercis.core.api.serializers import ScopedPrimaryKeyField, within
from powercis.core.api.views import ApiMixin
from powercis.core.models import Org
from powercis.customers.models import AccountStatus
from powercis.grid import selectors as grid
from powercis.grid.models import TransformerArea
from powercis.grid.selectors import GRID_PERMS

from . import checks, selectors

OBJECT_TYPES = {checks.FaultKind.ACCOUNT_WITHOUT_AREA: "account",
                checks.FaultKind.FEEDER_WITHOUT_SUBSTATION: "feeder"}


class FaultOrgSerializer(serializers.Serializer):
    org = ScopedPrimaryKeyField(within(*GRID_PERMS), queryset=Org.objects.all(), required=False,
                                help_text="only faults of this org and the orgs below it")


class FaultQuerySerializer(FaultOrgSerializer):
    kind = serializers.ChoiceField(choices=checks.FaultKind.choices, required=False,
                                   help_text="only this kind of fault")


class FaultSerializer(serializers.Serializer):
    fault = serializers.ChoiceField(choices=checks.FaultKind.choices, help_text="the kind of fault")
    fault_label = serializers.CharField(help_text="the kind of fault in the request's language")
    object_type = serializers.ChoiceField(choices=["account", "feeder", "transformer_area"],
                                          help_text="what is at fault")
    object_id = serializers.IntegerField()
    code = serializers.CharField(help_text="account number, feeder or area code")
    name = serializers.CharField()
    org_name = serializers.CharField()
    detail = serializers.CharField(help_text="what is wrong, in the request's language")
    url = serializers.CharField(help_text="the page of the object")


class FaultCountsSerializer(serializers.Serializer):
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="fault kind → number of faults")
    total = serializers.IntegerField()


class AreaAccountSerializer(serializers.Serializer):
    account_id = serializers.IntegerField()
    account_no = serializers.CharField(source="account.account_no")
    name = serializers.CharField(source="account.name")
    status = serializers.ChoiceField(choices=AccountStatus.choices, source="account.status")
    metering_point = serializers.CharField(source="code", help_text="the settlement metering point on the area")
    meter_asset_no = serializers.CharField(allow_null=True, help_text="the meter installed on it now")


def _fault_row(row: dict) -> dict:
    return {"fault": row["fault"], "fault_label": str(checks.FaultKind(row["fault"]).label),
            "object_type": OBJECT_TYPES.get(row["fault"], "transformer_area"), "object_id": row["obj_id"],
            "code": row["obj_code"], "name": row["obj_name"], "org_name": row["org_name"],
            "detail": checks.describe(row), "url": checks.object_url(row)}


class TopologyView(ApiMixin, GenericAPIView):
    required_permission = GRID_PERMS
    #: read only by the schema generator (the type of an area id in the path); the views build their own rows
    queryset = TransformerArea.objects.none()

    def query(self, serializer_class=FaultQuerySerializer) -> dict:
        params = serializer_class(data=self.request.query_params, context={"request": self.request})
        params.is_valid(raise_exception=True)
        return params.validated_data


class FaultListView(TopologyView):
    serializer_class = FaultSerializer

    @extend_schema(summary="Topology faults in your scope (grid.view), by kind and code",
                   parameters=[FaultQuerySerializer], responses=FaultSerializer(many=True),
                   operation_id="topology_faults_list", tags=["topology"])
    def get(self, request):
        query = self.query()
        rows, _counts = checks.worklist(request.user, query.get("kind"), query.get("org"))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(FaultSerializer([_fault_row(r) for r in page], many=True).data)


class FaultCountsView(TopologyView):
    serializer_class = FaultCountsSerializer
    pagination_class = None

    @extend_schema(summary="How many topology faults of each kind your scope holds",
                   parameters=[FaultOrgSerializer], operation_id="topology_fault_counts", tags=["topology"],
                   responses={200: FaultCountsSerializer, 400: OpenApiResponse(
                       ErrorSerializer, description="The kind or the org is not valid (or outside your scope).")})
    def get(self, request):
        counts = checks.fault_counts(request.user, self.query(FaultOrgSerializer).get("org"))
        return Response(FaultCountsSerializer({"counts": counts, "total": sum(counts.values())}).data)


class AreaAccountsView(TopologyView):
    serializer_class = AreaAccountSerializer

    @extend_schema(summary="The accounts whose settlement metering points hang on the area (in your scope)",
                   responses=AreaAccountSerializer(many=True), operation_id="topology_area_accounts",
                   tags=["topology"])
    def get(self, request, pk):
        area = get_object_or_404(grid.visible_areas(request.user), pk=pk)
        page = self.paginate_queryset(selectors.accounts_on_area(request.user, area))
        return self.get_paginated_response(AreaAccountSerializer(page, many=True).data)
