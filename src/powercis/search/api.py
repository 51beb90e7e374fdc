"""``GET /api/v1/search/?q=…``: the archive search as JSON, the same results as the page (``selectors.search``).

It uses core's API conventions — token or session authentication, the business
permission gate, the one error format — and the user's data scope, which the
selector applies in its query.  Phone numbers come masked, as on the page.
"""

from __future__ import annotations

from dataclasses import asdict

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from powercis.core.api.errors import ErrorSerializer
from powercis.core.api.permissions import HasPermission
from powercis.core.api.schema import ERROR_RESPONSES, ApiSchema

from . import selectors, text


class SearchParamsSerializer(serializers.Serializer):
    q = serializers.CharField(max_length=text.MAX_QUERY_LENGTH, allow_blank=True, trim_whitespace=True,
                              help_text="account number (whole or part), name, address fragment, meter asset number "
                                        "or the last four digits of a phone; terms separated by spaces must all match")
    limit = serializers.IntegerField(min_value=1, max_value=selectors.MAX_LIMIT, default=50,
                                     help_text=f"most results to return (1–{selectors.MAX_LIMIT}, default 50)")

    def validate_q(self, value: str) -> str:
        if "\x00" in value:
            raise serializers.ValidationError(_("The query contains a character that cannot be searched."))
        if not text.parse(value).terms:
            raise serializers.ValidationError(
                _("Type at least %(n)d characters: a term shorter than that is not searched.") % {"n": text.MIN_TERM})
        return value


class SearchHitSerializer(serializers.Serializer):
    account_id = serializers.IntegerField()
    account_no = serializers.CharField()
    name = serializers.CharField()
    customer_name = serializers.CharField(help_text="the customer's name where it differs from the account's")
    address = serializers.CharField(help_text="service address")
    status = serializers.CharField()
    status_label = serializers.CharField()
    org_id = serializers.IntegerField(help_text="billing org")
    org_name = serializers.CharField()
    meters = serializers.ListField(child=serializers.CharField(), help_text="asset numbers of the meters installed now")
    phones = serializers.ListField(child=serializers.CharField(), help_text="the customer's phone numbers, masked")
    rank = serializers.IntegerField(help_text="0: a term equals a field or phone tail; 1: a field starts with a "
                                              "term; 2: a field contains a term")
    matched = serializers.ListField(
        child=serializers.ChoiceField(choices=list(selectors.FIELD_LABELS)),
        help_text="the fields that contain a term")


class SearchResultSerializer(serializers.Serializer):
    query = serializers.CharField(help_text="the query as searched (normalised)")
    terms = serializers.ListField(child=serializers.CharField(), help_text="the terms that were searched")
    ignored = serializers.ListField(child=serializers.CharField(),
                                    help_text="terms not searched: shorter than 2 characters, or beyond the fifth")
    more = serializers.BooleanField(help_text="more accounts match than were returned: add a term")
    results = SearchHitSerializer(many=True)


class SearchView(APIView):
    """The archive search box: accounts in your scope matching every term, best first."""

    permission_classes = [HasPermission]
    renderer_classes = [JSONRenderer]
    schema = ApiSchema()
    required_permission = selectors.SEARCH_PERMS

    @extend_schema(
        summary="Find accounts by number, name, address, meter asset number or phone tail",
        parameters=[SearchParamsSerializer], operation_id="search_list", tags=["search"],
        responses={200: SearchResultSerializer,
                   400: OpenApiResponse(ErrorSerializer, description=ERROR_RESPONSES[400])},
    )
    def get(self, request):
        params = SearchParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        result = selectors.search(request.user, params.validated_data["q"], limit=params.validated_data["limit"])
        body = {
            "query": result.query.text,
            "terms": list(result.query.terms),
            "ignored": list(result.query.ignored),
            "more": result.more,
            "results": [asdict(hit) for hit in result.hits],
        }
        return Response(SearchResultSerializer(body).data)
