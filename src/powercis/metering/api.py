"""REST endpoints of metering under /api/v1/metering/: thin views over the metering selectors and services.

Metering points, meters and CT/PT outside the user's data scope do not exist for them
(404); a permission held nowhere is refused up front (403, naming it); the service
decides whether the user may act in the record's org and every rule of the field job
(stock status, reads against the meter's registers, one CT ratio per point).  The
multiplier is never written here: it follows from the CT/PT installed (billing-rules §6.1).

Retried creations: core's API has no ``Idempotency-Key`` mechanism; a point, meter or
CT/PT is created once per natural key (point number, asset number) and a retried create
answers 400 naming the duplicate.  A retried install finds the meter no longer in stock
and is refused the same way.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from powercis.core.api.errors import ErrorSerializer
from powercis.core.api.filters import IdFilter
from powercis.core.api.views import CoreViewSet
from powercis.core.errors import ValidationFailed

from . import selectors, services
from . import serializers as s
from .filters import InstrumentTransformerFilter, MeterFilter, MeteringPointFilter
from .models import InstrumentTransformer, Meter, MeteringPoint, TransformerInstallation

EDIT = "metering.edit"
INSTALL = "metering.install"
RETRY_NOTE = "A retried create changes nothing: it answers 400 naming the duplicate {key}."
BAD_QUERY = OpenApiResponse(ErrorSerializer, description="A query parameter is missing or not valid; "
                                                         "`fields` names it.")


class DateQuery(serializers.Serializer):
    date = serializers.DateField(help_text="YYYY-MM-DD")


class PointHistorySerializer(serializers.Serializer):
    meters = s.MeterInstallationSerializer(many=True, help_text="meter installations, newest first")
    transformers = s.TransformerInstallationSerializer(many=True, help_text="CT/PT installations, newest first")


@extend_schema_view(
    list=extend_schema(summary="Metering points (计量点) in your scope"),
    retrieve=extend_schema(summary="One metering point with its meter, CT/PT and multiplier today"),
)
class PointViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    queryset = MeteringPoint.objects.all()
    serializer_class = s.PointSerializer
    serializer_classes = dict.fromkeys(["retrieve", "create", "partial_update"], s.PointDetailSerializer)
    filterset_class = MeteringPointFilter
    required_permission = selectors.VIEW_PERMS
    required_permissions = {**dict.fromkeys(["create", "partial_update"], EDIT),
                            **dict.fromkeys(["install_meter", "remove_meter", "replace_meter", "install_transformer"],
                                            INSTALL)}

    def scoped(self, queryset):
        return selectors.visible_points(self.request.user)

    @extend_schema(summary="Create a metering point", description=RETRY_NOTE.format(key="point number"),
                   request=s.PointCreateSerializer, responses={201: s.PointDetailSerializer})
    def create(self, request):
        point = services.create_point(self.actor, **self.validated(s.PointCreateSerializer))
        return self.respond(self.fresh(point), status_code=201)

    @extend_schema(summary="Change a metering point (moving it to another transformer area is audited with `ref`)",
                   request=s.PointUpdateSerializer, responses=s.PointDetailSerializer)
    def partial_update(self, request, pk=None):
        return self.act_on_object(services.update_point, s.PointUpdateSerializer, partial=True)

    @extend_schema(summary="The multiplier in force on a date, from the CT/PT installed that day",
                   parameters=[DateQuery], responses={200: s.MultiplierSerializer, 400: BAD_QUERY})
    @action(detail=True, methods=["get"])
    def multiplier(self, request, pk=None):
        point = self.get_object()
        serializer = DateQuery(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        on = serializer.validated_data["date"]
        installed = selectors.transformers_on(point, on)
        return Response(s.MultiplierSerializer({"date": on, "multiplier": selectors.multiplier_of(installed),
                                                "transformers": installed}).data)

    @extend_schema(summary="What was installed on the point: meters and CT/PT, newest first",
                   responses=PointHistorySerializer)
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        point = self.get_object()
        return Response(PointHistorySerializer({"meters": selectors.meter_history(point),
                                                "transformers": selectors.transformer_history(point)}).data)

    @extend_schema(summary="Install a meter from stock, with its reads at installation",
                   request=s.InstallMeterSerializer, responses={201: s.MeterInstallationSerializer})
    @action(detail=True, methods=["post"], url_path="install-meter")
    def install_meter(self, request, pk=None):
        point = self.get_object()
        data = self.validated(s.InstallMeterSerializer)
        installation = services.install_meter(self.actor, point, data.pop("meter"), **data)
        return self.respond(installation, status_code=201, serializer_class=s.MeterInstallationSerializer)

    @extend_schema(summary="Remove the installed meter, with its reads at removal",
                   request=s.RemoveMeterSerializer, responses=s.MeterInstallationSerializer)
    @action(detail=True, methods=["post"], url_path="remove-meter")
    def remove_meter(self, request, pk=None):
        point = self.get_object()
        data = self.validated(s.RemoveMeterSerializer)
        current = selectors.current_meter_installation(point)
        if current is None:
            raise ValidationFailed(_("No meter is installed on this metering point."))
        installation = services.remove_meter(self.actor, current, **data)
        return self.respond(installation, serializer_class=s.MeterInstallationSerializer)

    @extend_schema(summary="Exchange the installed meter for another (换表), as one operation on one day",
                   request=s.ReplaceMeterSerializer, responses={201: s.MeterInstallationSerializer})
    @action(detail=True, methods=["post"], url_path="replace-meter")
    def replace_meter(self, request, pk=None):
        point = self.get_object()
        data = self.validated(s.ReplaceMeterSerializer)
        installation = services.replace_meter(self.actor, point, data.pop("meter"), **data)
        return self.respond(installation, status_code=201, serializer_class=s.MeterInstallationSerializer)

    @extend_schema(summary="Install a CT or PT from stock; the multiplier follows",
                   request=s.InstallTransformerSerializer, responses={201: s.TransformerInstallationSerializer})
    @action(detail=True, methods=["post"], url_path="install-transformer")
    def install_transformer(self, request, pk=None):
        point = self.get_object()
        data = self.validated(s.InstallTransformerSerializer)
        installation = services.install_transformer(self.actor, point, data.pop("transformer"), **data)
        return self.respond(installation, status_code=201, serializer_class=s.TransformerInstallationSerializer)


class TransformerInstallationFilter(filters.FilterSet):
    metering_point = IdFilter(help_text="installations on this metering point")
    transformer = IdFilter(help_text="installations of this CT/PT")
    current = filters.BooleanFilter(field_name="removed_on", lookup_expr="isnull", help_text="still installed")

    class Meta:
        model = TransformerInstallation
        fields = ["metering_point", "transformer", "current"]


@extend_schema_view(
    list=extend_schema(summary="CT/PT installations on the metering points in your scope"),
    retrieve=extend_schema(summary="One CT/PT installation"),
)
class TransformerInstallationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    queryset = TransformerInstallation.objects.all()
    serializer_class = s.TransformerInstallationSerializer
    filterset_class = TransformerInstallationFilter
    required_permission = selectors.VIEW_PERMS
    required_permissions = {"remove": INSTALL}

    def scoped(self, queryset):
        return (TransformerInstallation.objects.filter(metering_point__in=selectors.visible_points(self.request.user))
                .select_related("metering_point", "transformer").order_by("-installed_on", "-id"))

    @extend_schema(summary="Remove the CT/PT; the multiplier follows",
                   request=s.RemoveTransformerSerializer, responses=s.TransformerInstallationSerializer)
    @action(detail=True, methods=["post"])
    def remove(self, request, pk=None):
        return self.act_on_object(services.remove_transformer, s.RemoveTransformerSerializer)


@extend_schema_view(
    list=extend_schema(summary="Meters (电能表) in your scope"),
    retrieve=extend_schema(summary="One meter with its installation history"),
)
class MeterViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    queryset = Meter.objects.all()
    serializer_class = s.MeterSerializer
    serializer_classes = dict.fromkeys(["retrieve", "create", "partial_update"], s.MeterDetailSerializer)
    filterset_class = MeterFilter
    required_permission = selectors.VIEW_PERMS
    required_permissions = dict.fromkeys(["create", "partial_update"], EDIT)

    def scoped(self, queryset):
        return selectors.visible_meters(self.request.user)

    @extend_schema(summary="Register a meter asset (in stock)", description=RETRY_NOTE.format(key="asset number"),
                   request=s.MeterCreateSerializer, responses={201: s.MeterDetailSerializer})
    def create(self, request):
        meter = services.register_meter(self.actor, **self.validated(s.MeterCreateSerializer))
        return self.respond(self.fresh(meter), status_code=201)

    @extend_schema(summary="Change a meter's descriptive fields (registers and digits only while in stock)",
                   request=s.MeterWriteSerializer, responses=s.MeterDetailSerializer)
    def partial_update(self, request, pk=None):
        return self.act_on_object(services.update_meter, s.MeterWriteSerializer, partial=True)


@extend_schema_view(
    list=extend_schema(summary="Instrument transformers (CT/PT) in your scope"),
    retrieve=extend_schema(summary="One CT/PT with its installation history"),
)
class InstrumentTransformerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    queryset = InstrumentTransformer.objects.all()
    serializer_class = s.InstrumentTransformerSerializer
    serializer_classes = dict.fromkeys(["retrieve", "create"], s.InstrumentTransformerDetailSerializer)
    filterset_class = InstrumentTransformerFilter
    required_permission = selectors.VIEW_PERMS
    required_permissions = {"create": EDIT}

    def scoped(self, queryset):
        return selectors.visible_transformers(self.request.user)

    @extend_schema(summary="Register a CT or PT (in stock)", description=RETRY_NOTE.format(key="asset number"),
                   request=s.InstrumentTransformerCreateSerializer,
                   responses={201: s.InstrumentTransformerDetailSerializer})
    def create(self, request):
        data = self.validated(s.InstrumentTransformerCreateSerializer)
        transformer = services.register_transformer(self.actor, **data)
        return self.respond(self.fresh(transformer), status_code=201)
