"""REST endpoints under /api/v1/grid/: the grid records, read in the user's scope and written through the services.

Every kind of record has the same endpoints (list with filters and pages, retrieve,
create, partial update, set_active), built by :func:`_viewset` from the same field lists
the pages use (``forms.FORM_FIELDS``); transformer areas also have ``move``.
"""

from __future__ import annotations

from django.utils import translation
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action

from powercis.core.api.serializers import (
    OrgRefSerializer,
    RequiredReasonSerializer,
    ScopedPrimaryKeyField,
    SetActiveSerializer,
    within,
)
from powercis.core.api.views import CoreViewSet
from powercis.core.models import Org

from . import filters, selectors, services
from .forms import form_fields
from .models import Building, Community, Feeder, Substation, Transformer, TransformerArea
from .selectors import GRID_PERMS

#: kind → (model, parent field, list filter, create service, URL prefix)
KINDS = {
    "substation": (Substation, None, filters.SubstationFilter, services.create_substation, "substations"),
    "feeder": (Feeder, "substation", filters.FeederFilter, services.create_feeder, "feeders"),
    "area": (TransformerArea, "feeder", filters.AreaFilter, services.create_area, "areas"),
    "transformer": (Transformer, "area", filters.TransformerFilter, services.create_transformer, "transformers"),
    "community": (Community, None, filters.CommunityFilter, services.create_community, "communities"),
    "building": (Building, "community", filters.BuildingFilter, services.create_building, "buildings"),
}
PARENT_MODELS = {"substation": Substation, "feeder": Feeder, "area": TransformerArea, "community": Community}
OUTPUT_EXTRA = ["id", "code", "org", "is_active"]
SERIALIZER_NAMES = {TransformerArea: "TransformerArea"}


def _in_grid_scope(user, queryset):
    return selectors.scoped(queryset, user)


def _name(model) -> str:
    return SERIALIZER_NAMES.get(model, model.__name__)


def _output_serializer(model):
    fields = [f for f in form_fields(model, creating=True) if f not in ("org", "code")]
    meta = type("Meta", (), {"model": model, "fields": [*OUTPUT_EXTRA, *fields]})
    return type(f"{_name(model)}Serializer", (serializers.ModelSerializer,), {
        "org": OrgRefSerializer(read_only=True), "Meta": meta,
        "__doc__": f"A {_name(model)}; parents are given by id, shapes as GeoJSON geometries."})


def _input_serializer(model, *, creating: bool):
    names = form_fields(model, creating=creating)
    attrs = {
        "org": ScopedPrimaryKeyField(within("grid.edit"), queryset=Org.objects.all(), required=creating,
                                     help_text="the org that keeps the record (you need grid.edit there)"),
        "reason": serializers.CharField(max_length=500, required=False, allow_blank=True, default="",
                                        help_text="why; written to the audit trail"),
    }
    for field, parent in PARENT_MODELS.items():
        if field in names:
            attrs[field] = ScopedPrimaryKeyField(_in_grid_scope, queryset=parent.objects.all(),
                                                 allow_null=field != "community",
                                                 required=creating and field == "community")
    extra = {"code": {"max_length": 32}} if creating else {}
    attrs["Meta"] = type("Meta", (), {"model": model, "fields": [*names, "reason"], "extra_kwargs": extra})
    suffix = "Create" if creating else "Update"
    return type(f"{_name(model)}{suffix}Serializer", (serializers.ModelSerializer,), attrs)


class AreaMoveSerializer(RequiredReasonSerializer):
    feeder = ScopedPrimaryKeyField(_in_grid_scope, queryset=Feeder.objects.all(), allow_null=True,
                                   help_text="the feeder the area hangs on from now on; null detaches it")


class GridViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    """List and read records in the user's grid scope; write them through the grid services."""

    scope_permissions = GRID_PERMS
    path_field = "org_path"
    required_permission = GRID_PERMS
    required_permissions = dict.fromkeys(["create", "partial_update", "set_active", "move"], "grid.edit")
    create_serializer: type
    update_serializer: type
    create_service = None

    def create(self, request):
        data = self.validated(self.create_serializer)
        obj = self.create_service(self.actor, **data)
        return self.respond(self.fresh(obj), status_code=201)

    def partial_update(self, request, pk=None):
        return self.act_on_object(services.update_record, self.update_serializer, partial=True)

    @action(detail=True, methods=["post"])
    def set_active(self, request, pk=None):
        return self.act_on_object(services.set_active, SetActiveSerializer, rename={"is_active": "active"})


def _viewset(kind: str, bases=(GridViewSet,)):
    model, parent, filterset, create_service, _prefix = KINDS[kind]
    output = _output_serializer(model)
    with translation.override("en"):  # the API documentation is in English, whatever the server's language
        label, plural = str(model._meta.verbose_name), str(model._meta.verbose_name_plural)
    create_serializer = _input_serializer(model, creating=True)
    update_serializer = _input_serializer(model, creating=False)
    related = ["org", parent] if parent else ["org"]
    viewset = type(f"{_name(model)}ViewSet", bases, {
        "queryset": model.objects.select_related(*related),
        "serializer_class": output,
        "filterset_class": filterset,
        "create_serializer": create_serializer,
        "update_serializer": update_serializer,
        "create_service": staticmethod(create_service),
        "__doc__": f"The {plural} of the grid topology.",
    })
    return extend_schema_view(
        list=extend_schema(summary=f"{plural.capitalize()} in your scope (grid.view or grid.edit)"),
        retrieve=extend_schema(summary=f"One {label}"),
        create=extend_schema(summary=f"Create a {label} (grid.edit in its org; the code is unique in the company)",
                             request=create_serializer, responses={201: output}),
        partial_update=extend_schema(summary=f"Change a {label} (its code never changes)",
                                     request=update_serializer, responses=output),
        set_active=extend_schema(summary=f"Take a {label} out of service or back (audited, with a reason)",
                                 request=SetActiveSerializer, responses=output),
    )(viewset)


class AreaMoveMixin:
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        area = self.get_object()
        data = self.validated(AreaMoveSerializer)
        services.move_area(self.actor, area, data["feeder"], reason=data["reason"])
        return self.respond(self.fresh(area))


SubstationViewSet = _viewset("substation")
FeederViewSet = _viewset("feeder")
_AreaViewSet = _viewset("area", bases=(AreaMoveMixin, GridViewSet))
TransformerAreaViewSet = extend_schema_view(
    move=extend_schema(summary="Hang the area on another feeder (a reason is required; audited as a move)",
                       request=AreaMoveSerializer, responses=_AreaViewSet.serializer_class),
)(_AreaViewSet)
TransformerViewSet = _viewset("transformer")
CommunityViewSet = _viewset("community")
BuildingViewSet = _viewset("building")

VIEWSETS = {"substation": SubstationViewSet, "feeder": FeederViewSet, "area": TransformerAreaViewSet,
            "transformer": TransformerViewSet, "community": CommunityViewSet, "building": BuildingViewSet}
