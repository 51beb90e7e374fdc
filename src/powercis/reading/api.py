"""REST endpoints of meter reading under /api/v1/reading/: thin views over the reading selectors and services.

Routes, plans, tasks, reads, deliveries, exceptions and channels outside the user's
data scope do not exist for them (404); a permission held nowhere is refused up front
(403, naming it); the service decides whether the user may act in the record's org and
every rule of the work (the meter's registers, plan states, release gates).

Progress numbers of plans are counted for the page of plans being shown (two aggregate
queries), never for every plan in scope; a task list fetches the reads of its page in
two queries.

Retries: a read delivery (``ingest/``) carries a delivery key (body field or the
``Idempotency-Key`` header); a second delivery with the same key writes nothing and is
answered with the first one's batch (200, ``replayed``).  Field entry of the same values
again answers 200 with ``repeated``; routes and channels are created once per code and a
retried create answers 400 naming the duplicate.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from contextlib import contextmanager

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from powercis.core.api.errors import ErrorSerializer
from powercis.core.api.views import ApiMixin, CoreViewSet
from powercis.core.errors import ValidationFailed

from . import selectors
from . import serializers as s
from .filters import (
    BatchFilter,
    ChannelFilter,
    ExceptionFilter,
    PlanFilter,
    ReadFilter,
    RouteFilter,
    RunFilter,
    TaskFilter,
)
from .models import (
    CollectionChannel,
    CollectionRun,
    ReadBatch,
    ReadException,
    ReadingPlan,
    ReadingRoute,
    ReadingTask,
    RegisterRead,
    ValidationProfile,
)
from .services import entry, plans, profiles, routes
from .services import exceptions as exception_services
from .thresholds import CATALOGUE, set_by

VIEW = selectors.VIEW_PERMS
MANAGE_ROUTES = "reading.manage_routes"
ENTER = "reading.enter"
REVIEW = "reading.review"
COLLECT = "reading.collect"
CONFIGURE = "reading.configure"
BAD_QUERY = OpenApiResponse(ErrorSerializer, description="A query parameter is missing or not valid; "
                                                         "`fields` names it.")


@contextmanager
def fields_under(prefix: str, own: set[str]):
    """Name the service's field errors as the body does: a key that is not a body field lies under ``prefix``.

    The services name a register or a threshold by its code (``total``); in the body it is
    ``values.total``.
    """
    try:
        yield
    except ValidationFailed as exc:
        exc.fields = {(k if k in own else f"{prefix}.{k}"): v for k, v in exc.fields.items()}
        raise


def task_reads(tasks: list[ReadingTask]) -> dict[int, list[RegisterRead]]:
    """The reads each task stands on — the validation engine's rule (``engine.validate``) — for a page of tasks at
    once: its own latest valid read, or for a remotely read route the head-end's read of the read day (each read
    once, with all its registers, in the order they were taken)."""
    if not tasks:
        return {}
    from .engine.validate import effective_reads_of_tasks

    chosen = effective_reads_of_tasks([t.pk for t in tasks]).select("task_id", "read_id").unique(maintain_order=True)
    reads = RegisterRead.objects.in_bulk(chosen["read_id"].to_list())
    by_task: dict[int, list[RegisterRead]] = defaultdict(list)
    for task_id, read_id in chosen.iter_rows():
        if read_id in reads:
            by_task[task_id].append(reads[read_id])
    return {task_id: sorted(rows, key=lambda r: (r.read_at, r.revision, r.pk)) for task_id, rows in by_task.items()}


# --- routes -----------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Reading routes (抄表段) in your scope"),
    retrieve=extend_schema(summary="One reading route"),
)
class RouteViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    queryset = ReadingRoute.objects.all()
    serializer_class = s.ReadingRouteSerializer
    filterset_class = RouteFilter
    required_permission = VIEW
    required_permissions = dict.fromkeys(["create", "partial_update"], MANAGE_ROUTES)

    def scoped(self, queryset):
        return selectors.visible_routes(self.request.user)

    @extend_schema(summary="Create a reading route",
                   description="Accounts join the route through their reading_route_code. A retried create changes "
                               "nothing: it answers 400 naming the duplicate code.",
                   request=s.RouteCreateSerializer, responses={201: s.ReadingRouteSerializer})
    def create(self, request):
        route = routes.create_route(self.actor, **self.validated(s.RouteCreateSerializer))
        return self.respond(self.fresh(route), status_code=201)

    @extend_schema(summary="Change a route's name, reader, read day, cycle or method (plans not yet generated follow)",
                   request=s.RouteUpdateSerializer, responses=s.ReadingRouteSerializer)
    def partial_update(self, request, pk=None):
        return self.act_on_object(routes.update_route, s.RouteUpdateSerializer, partial=True)


# --- plans ------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Reading plans in your scope, with the progress of each plan on the page"),
    retrieve=extend_schema(summary="One reading plan with its progress"),
)
class PlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    queryset = ReadingPlan.objects.all()
    serializer_class = s.ReadingPlanSerializer
    filterset_class = PlanFilter
    required_permission = VIEW
    required_permissions = {**dict.fromkeys(["generate", "reassign"], MANAGE_ROUTES),
                            **dict.fromkeys(["validate", "release_period"], REVIEW),
                            "release": (REVIEW, "reading.release_override")}

    def scoped(self, queryset):
        return selectors.visible_plans(self.request.user).select_related("released_by")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        tallies = selectors.plan_tallies(ReadingPlan.objects.filter(pk__in=[p.pk for p in page]))
        data = self.get_serializer(page, many=True, context={**self.get_serializer_context(), "tallies": tallies}).data
        return self.get_paginated_response(data)

    @extend_schema(summary="Generate (or complete) the plans of a period for every active route of an org and below",
                   description="Generating again adds what is missing and changes nothing else.",
                   request=s.GenerateSerializer, responses={200: s.GenerateResultSerializer})
    @action(detail=False, methods=["post"])
    def generate(self, request):
        data = self.validated(s.GenerateSerializer)
        report = plans.generate(self.actor, org=data["org"], period=data["period"], opening=data["opening"])
        fields = {name: getattr(report, name) for name in s.GenerateResultSerializer.REPORT_FIELDS}
        return Response(s.GenerateResultSerializer({"org": data["org"], "period": data["period"], **fields}).data)

    @extend_schema(summary="Validate the plan's reads (数据审核); exceptions found appear in exceptions/",
                   request=None, responses=s.ReadingPlanSerializer)
    @action(detail=True, methods=["post"])
    def validate(self, request, pk=None):
        plan = self.get_object()
        plans.validate(self.actor, [plan])
        return self.respond(self.fresh(plan))

    @extend_schema(summary="Release the plan's reads to billing",
                   description="A reviewer (reading.review) releases a plan with no blocking exception open; "
                               "otherwise it is refused (409) unless a supervisor (reading.release_override) gives "
                               "`override_reason`, which resolves the open exceptions as overridden.",
                   request=s.ReleaseSerializer, responses=s.ReadingPlanSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        return self.act_on_object(plans.release, s.ReleaseSerializer)

    @extend_schema(summary="Release every open plan of a period that has nothing blocking; list the others",
                   request=s.ReleasePeriodSerializer, responses=s.ReleasePeriodResultSerializer)
    @action(detail=False, methods=["post"], url_path="release-period")
    def release_period(self, request):
        data = self.validated(s.ReleasePeriodSerializer)
        result = plans.release_period(self.actor, org=data["org"], period=data["period"])
        blocked = [{"plan": plan, "blocking_exceptions": count, "validated": plan.validated_at is not None}
                   for plan, count in result.blocked.items()]
        return Response(s.ReleasePeriodResultSerializer({"released": result.released, "blocked": blocked}).data)

    @extend_schema(summary="Give the plan to another reader (the route keeps its own reader)",
                   request=s.ReassignSerializer, responses=s.ReadingPlanSerializer)
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        return self.act_on_object(plans.reassign, s.ReassignSerializer)


# --- tasks and reads --------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Reading tasks in your scope, in walk order, with their current reads"),
    retrieve=extend_schema(summary="One reading task with its current reads"),
)
class TaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    queryset = ReadingTask.objects.all()
    serializer_class = s.ReadingTaskSerializer
    filterset_class = TaskFilter
    required_permission = VIEW
    required_permissions = dict.fromkeys(["reads", "unreadable"], ENTER)

    def scoped(self, queryset):
        return selectors.visible_tasks(self.request.user).select_related("plan__route", "meter", "read_by")

    def get_serializer(self, *args, **kwargs):
        """Every task serialized here carries its reads, fetched for all of them at once."""
        instance = args[0] if args else kwargs.get("instance")
        if instance is not None and "context" not in kwargs:
            tasks = list(instance) if kwargs.get("many") else [instance]
            kwargs["context"] = {**self.get_serializer_context(), "reads": task_reads(tasks)}
        return super().get_serializer(*args, **kwargs)

    def task_data(self, task: ReadingTask) -> dict:
        task = self.get_queryset().get(pk=task.pk)
        return s.ReadingTaskSerializer(task, context={**self.get_serializer_context(),
                                                      "reads": task_reads([task])}).data

    @extend_schema(
        summary="Record the task's register readings (field entry)",
        description="201 with the read (one, with every register entered) and the exceptions the validation "
                    "found at once. The same values sent again change nothing and answer 200 with `repeated`: "
                    "true. Different values for a task already read are a re-entry: the read's next revision, "
                    "with every register, which supersedes the earlier one (kept).",
        request=s.RecordReadsSerializer,
        responses={201: s.EntryResultSerializer, 200: s.EntryResultSerializer},
        examples=[OpenApiExample("A four-register meter read by handheld", request_only=True, value={
            "values": {"total": "12345.67", "peak": "4321.00", "flat": "5000.12", "valley": "3024.55"},
            "source": "handheld", "photo_ref": "IMG_20261025_0931.jpg"})],
    )
    @action(detail=True, methods=["post"])
    def reads(self, request, pk=None):
        task = self.get_object()
        data = self.validated(s.RecordReadsSerializer)
        with fields_under("values", {"values", "read_at", "source", "photo_ref", "estimated"}):
            result = entry.record_reads(self.actor, task, **data)
        open_exceptions = result.task.exceptions.filter(status=ReadException.Status.OPEN).order_by("rule", "id")
        body = {"repeated": result.repeated, "task": self.task_data(result.task),
                "reads": s.TaskReadSerializer(result.reads, many=True).data,
                "exceptions": s.ExceptionBriefSerializer(open_exceptions, many=True).data}
        return Response(body, status=200 if result.repeated else 201)

    @extend_schema(summary="Record why the meter could not be read (a code of the table unread_reason)",
                   request=s.UnreadableSerializer, responses=s.ReadingTaskSerializer)
    @action(detail=True, methods=["post"])
    def unreadable(self, request, pk=None):
        task = self.get_object()
        data = self.validated(s.UnreadableSerializer)
        entry.mark_unreadable(self.actor, task, **data)
        return Response(self.task_data(task))


@extend_schema_view(
    list=extend_schema(summary="Meter reads (示数) of the metering points in your scope: one per meter and instant, "
                               "with the registers it carries"),
    retrieve=extend_schema(summary="One meter read with its registers"),
)
class ReadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    queryset = RegisterRead.objects.all()
    serializer_class = s.RegisterReadSerializer
    filterset_class = ReadFilter
    required_permission = VIEW

    def scoped(self, queryset):
        return selectors.visible_reads(self.request.user).select_related("entered_by")


# --- deliveries -------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Read deliveries (files, head-end calls, collection runs) in your scope, newest first"),
    retrieve=extend_schema(summary="One delivery with its counts"),
)
class BatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    queryset = ReadBatch.objects.all()
    serializer_class = s.ReadBatchSerializer
    serializer_classes = {"quarantined": s.QuarantinedReadSerializer}
    filterset_class = BatchFilter
    required_permission = VIEW

    def scoped(self, queryset):
        return selectors.visible_batches(self.request.user)

    @extend_schema(summary="The rows of the delivery that were not accepted, with the reason, by row number",
                   responses=s.QuarantinedReadSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def quarantined(self, request, pk=None):
        rows = self.get_object().quarantined.order_by("row_no", "id")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(s.QuarantinedReadSerializer(page, many=True).data)


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
    description="the delivery key, as a header (max. 100 characters); if `delivery_key` is also given they must "
                "be equal")

INGEST_EXAMPLES = [
    OpenApiExample("A head-end's daily frozen reads (JSON)", media_type="application/json", request_only=True, value={
        "org": 5, "source": "ami", "sender": "HES-1", "delivery_key": "HES-1/2026-10-25",
        "reads": [{"meter": "330000007920", "register": "total", "read_at": "2026-10-25T00:00:00+08:00",
                   "value": "12345.67"},
                  {"meter": "330000007920", "register": "peak", "read_at": "2026-10-25T00:00:00+08:00",
                   "value": "4321.00"}]}),
    OpenApiExample("A new delivery", response_only=True, status_codes=["201"], value={
        "replayed": False, "batch": {
            "id": 41, "org": {"id": 5, "code": "HZ010101", "name": "城关供电所"}, "source": "ami",
            "delivery_key": "HES-1/2026-10-25", "digest": "9f2c…", "file_name": "", "file_format": "json",
            "sender": "HES-1", "status": "done", "received_at": "2026-10-25T02:10:04+08:00",
            "received_by": {"id": 9, "username": "metering", "full_name": "周强"}, "rows_total": 2,
            "rows_accepted": 1, "rows_duplicate": 0, "rows_quarantined": 1, "rows_flagged": 0, "seconds": 0.04,
            "summary": {}, "message": ""}}),
    OpenApiExample("The same delivery key again", response_only=True, status_codes=["200"], value={
        "replayed": True, "batch": {
            "id": 41, "org": {"id": 5, "code": "HZ010101", "name": "城关供电所"}, "source": "ami",
            "delivery_key": "HES-1/2026-10-25", "digest": "9f2c…", "file_name": "", "file_format": "json",
            "sender": "HES-1", "status": "done", "received_at": "2026-10-25T02:10:04+08:00",
            "received_by": {"id": 9, "username": "metering", "full_name": "周强"}, "rows_total": 2,
            "rows_accepted": 1, "rows_duplicate": 0, "rows_quarantined": 1, "rows_flagged": 0, "seconds": 0.04,
            "summary": {}, "message": ""}}),
]


class IngestView(ApiMixin, APIView):
    """A delivery of register reads: a file (multipart) or the rows themselves (JSON)."""

    parser_classes = [JSONParser, MultiPartParser]
    required_permission = s.INGEST_PERMS

    @extend_schema(
        summary="Deliver register reads: a file (multipart: JSON, CSV, Parquet, XLSX) or JSON rows",
        description="The whole delivery is checked before anything is stored; rows that cannot be accepted "
                    "(unknown meter or register, not a number, dated in the future) are quarantined with the "
                    "reason (batches/{id}/quarantined/) and the others stored. Reads already received are "
                    "counted as duplicates, not stored twice. 201: a new delivery. 200 with `replayed`: true: "
                    "the delivery key was used before; nothing was written and the answer is the first "
                    "delivery's.",
        request={"multipart/form-data": s.IngestFileSerializer, "application/json": s.IngestJsonSerializer},
        parameters=[IDEMPOTENCY_KEY],
        responses={201: s.IngestResultSerializer, 200: s.IngestResultSerializer},
        examples=INGEST_EXAMPLES, operation_id="reading_ingest_create",
    )
    def post(self, request):
        from . import ingest

        multipart = request.content_type.startswith("multipart/")
        serializer_class = s.IngestFileSerializer if multipart else s.IngestJsonSerializer
        serializer = serializer_class(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        header = (request.headers.get("Idempotency-Key") or "").strip()
        if header and data["delivery_key"] and header != data["delivery_key"]:
            raise ValidationFailed(fields={"delivery_key": [
                _("The delivery key differs from the Idempotency-Key header.")]})
        if len(header) > 100:
            raise ValidationFailed(fields={"Idempotency-Key": [_("Use at most 100 characters.")]})
        options = {"org": data["org"], "source": data["source"], "delivery_key": data["delivery_key"] or header,
                   "sender": data["sender"]}
        if multipart:
            upload = data["file"]
            content = upload.temporary_file_path() if hasattr(upload, "temporary_file_path") else upload.read()
            result = ingest.ingest_file(self.actor, path_or_bytes=content, file_name=upload.name[:200],
                                        file_format=data["format"], **options)
        else:
            result = ingest.ingest_rows(self.actor, rows=[dict(row) for row in data["reads"]], **options)
        stored = ReadBatch.objects.select_related("org", "received_by").get(pk=result.batch.pk)  # as a replay shows it
        body = s.IngestResultSerializer({"replayed": result.replayed, "batch": stored},
                                        context={"request": request}).data
        return Response(body, status=200 if result.replayed else 201)


# --- exceptions -------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="The exception worklist: reads that failed a check before billing, in your scope"),
    retrieve=extend_schema(summary="One exception with the numbers its check compared"),
)
class ExceptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    queryset = ReadException.objects.all()
    serializer_class = s.ReadExceptionSerializer
    filterset_class = ExceptionFilter
    required_permission = VIEW
    required_permissions = dict.fromkeys(["confirm", "confirm_many", "correct", "reread", "estimate"], REVIEW)

    def scoped(self, queryset):
        return selectors.visible_exceptions(self.request.user).select_related("org", "work_order__assignee")

    @extend_schema(summary="Confirm the read is right (the exception is resolved with the note)",
                   request=s.NoteSerializer, responses=s.ReadExceptionSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self.act_on_object(exception_services.confirm, s.NoteSerializer)

    @extend_schema(summary="Confirm several exceptions at once; all or none",
                   request=s.ConfirmManySerializer, responses=s.ConfirmedSerializer,
                   operation_id="reading_exceptions_confirm_many")
    @action(detail=False, methods=["post"], url_path="confirm")
    def confirm_many(self, request):
        data = self.validated(s.ConfirmManySerializer)
        count = exception_services.confirm_many(self.actor, data["ids"], note=data["note"])
        return Response(s.ConfirmedSerializer({"confirmed": count}).data)

    @extend_schema(summary="Correct the reads (new reads with the reason; the originals are kept, superseded)",
                   request=s.CorrectSerializer, responses=s.ReadExceptionSerializer)
    @action(detail=True, methods=["post"])
    def correct(self, request, pk=None):
        exc = self.get_object()
        data = self.validated(s.CorrectSerializer)
        with fields_under("values", {"values", "reason"}):
            exception_services.correct(self.actor, exc, **data)
        return self.respond(self.fresh(exc))

    @extend_schema(summary="Order a re-read: a work order for the plan's reader; the exception stays open until "
                           "the new reading arrives",
                   request=s.NoteSerializer, responses=s.RereadResultSerializer)
    @action(detail=True, methods=["post"])
    def reread(self, request, pk=None):
        exc = self.get_object()
        order = exception_services.order_reread(self.actor, exc, **self.validated(s.NoteSerializer))
        return Response(s.RereadResultSerializer({"work_order": order, "exception": self.fresh(exc)},
                                                 context=self.get_serializer_context()).data)

    @extend_schema(summary="Replace the reads by an estimate (估抄) by the documented method",
                   request=s.EstimateSerializer, responses=s.ReadExceptionSerializer)
    @action(detail=True, methods=["post"])
    def estimate(self, request, pk=None):
        return self.act_on_object(exception_services.estimate, s.EstimateSerializer)


# --- thresholds -------------------------------------------------------------------


def effective_thresholds(org, on: dt.date, category: str = "") -> list[dict]:
    """Each threshold in force for ``org``'s accounts of ``category`` on ``on`` with the profile that sets it, as
    ``thresholds.profile_for`` resolves it."""
    source_of = set_by(org, on, category)
    rows = []
    for spec in CATALOGUE:
        profile = source_of.get(spec.key)
        value = profile.values[spec.key] if profile is not None else spec.default
        rows.append({"key": spec.key, "label": str(spec.label), "value": str(value), "default": str(spec.default),
                     "integer": spec.integer, "minimum": str(spec.minimum), "basis": spec.source,
                     "set_by": {"org": profile.org, "usage_category": profile.usage_category,
                                "valid_from": profile.valid_from} if profile else None})
    return rows


class MethodActionMixin:
    """Plain API views name their action by the HTTP method, so that ``required_permissions`` can differ per method."""

    @property
    def action(self) -> str:
        return self.request.method.lower()


class ThresholdsView(MethodActionMixin, ApiMixin, APIView):
    required_permission = (*VIEW, CONFIGURE)
    required_permissions = {"post": CONFIGURE}

    @extend_schema(summary="The validation thresholds in force for an org on a day, with defaults and who set them",
                   parameters=[s.ThresholdQuerySerializer],
                   responses={200: s.ThresholdsSerializer, 400: BAD_QUERY}, operation_id="reading_thresholds_retrieve")
    def get(self, request):
        query = s.ThresholdQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        org, on = query.validated_data["org"], query.validated_data.get("on") or timezone.localdate()
        category = query.validated_data.get("usage_category", "")
        return Response(s.ThresholdsSerializer({"org": org, "usage_category": category, "on": on,
                                                "values": effective_thresholds(org, on, category)}).data)

    @extend_schema(summary="Set thresholds for an org from a date (a new dated profile; one in force is never edited)",
                   description="201: a new profile. 200: the profile of that org and date had not come into force "
                               "yet and was replaced.",
                   request=s.ProfileCreateSerializer,
                   responses={201: s.ValidationProfileSerializer, 200: s.ValidationProfileSerializer},
                   operation_id="reading_thresholds_create")
    def post(self, request):
        serializer = s.ProfileCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        replaced = ValidationProfile.objects.filter(org=data["org"], usage_category=data.get("usage_category", ""),
                                                    valid_from=data["valid_from"]).exists()
        with fields_under("values", {"org", "usage_category", "valid_from", "values", "note"}):
            profile = profiles.save_profile(self.actor, **data)
        return Response(s.ValidationProfileSerializer(profile).data, status=200 if replaced else 201)


# --- indicators -------------------------------------------------------------------


class IndicatorsView(ApiMixin, APIView):
    required_permission = VIEW

    @extend_schema(summary="Reading indicators (实抄率, 抄表差错率, on-time rate) by route, reader, org or period",
                   description="Counted from the tasks of the plans in your scope whose period lies in the range; "
                               "rates are percentages with two decimals, null where the denominator is zero.",
                   parameters=[s.IndicatorQuerySerializer],
                   responses={200: s.IndicatorsSerializer, 400: BAD_QUERY}, operation_id="reading_indicators_retrieve")
    def get(self, request):
        query = s.IndicatorQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        q = query.validated_data
        scope = selectors.visible_plans(request.user).filter(period__gte=q["period_from"], period__lte=q["period_to"])
        if q.get("org") is not None:
            scope = scope.filter(org_path__startswith=q["org"].path)
        rows, total = [], selectors.Tally()
        for row in selectors.indicators(scope, q["by"]):
            key = f"{row.key:%Y-%m}" if isinstance(row.key, dt.date) else (None if row.key is None else str(row.key))
            rows.append({"key": key, "label": row.label, **tally_fields(row.tally)})
            total.add(row.tally)
        return Response(s.IndicatorsSerializer({"by": q["by"], "period_from": q["period_from"],
                                                "period_to": q["period_to"], "rows": rows,
                                                "total": tally_fields(total)}).data)


def tally_fields(tally: selectors.Tally) -> dict:
    return {name: getattr(tally, name) for name in s.TallySerializer().fields}


# --- collection -------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Collection channels (serial servers, concentrators) in your scope"),
    retrieve=extend_schema(summary="One collection channel with the metering points behind it"),
)
class ChannelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    queryset = CollectionChannel.objects.all()
    serializer_class = s.CollectionChannelSerializer
    serializer_classes = dict.fromkeys(["retrieve", "create", "partial_update"], s.CollectionChannelDetailSerializer)
    filterset_class = ChannelFilter
    required_permission = VIEW
    required_permissions = dict.fromkeys(["create", "partial_update", "targets", "remove_targets", "run"], COLLECT)

    def scoped(self, queryset):
        return (selectors.visible_channels(self.request.user).annotate(target_count=Count("targets"))
                .order_by("company_id", "code"))  # an aggregate query does not apply Meta.ordering

    @extend_schema(summary="Create a collection channel",
                   description="A retried create changes nothing: it answers 400 naming the duplicate code.",
                   request=s.ChannelCreateSerializer, responses={201: s.CollectionChannelDetailSerializer})
    def create(self, request):
        from .services import collection

        channel = collection.create_channel(self.actor, **self.validated(s.ChannelCreateSerializer))
        return self.respond(self.fresh(channel), status_code=201)

    @extend_schema(summary="Change a channel's endpoint, timing, data identifiers or schedule",
                   request=s.ChannelUpdateSerializer, responses=s.CollectionChannelDetailSerializer)
    def partial_update(self, request, pk=None):
        from .services import collection

        return self.act_on_object(collection.update_channel, s.ChannelUpdateSerializer, partial=True)

    @extend_schema(summary="Put metering points behind the channel by number (all or none)",
                   request=s.TargetsSerializer, responses=s.TargetsResultSerializer)
    @action(detail=True, methods=["post"])
    def targets(self, request, pk=None):
        from .services import collection

        channel = self.get_object()
        added = collection.add_targets(self.actor, channel, **self.validated(s.TargetsSerializer))
        return Response(s.TargetsResultSerializer({"added": added, "channel": self.fresh(channel)},
                                                  context=self.get_serializer_context()).data)

    @extend_schema(summary="Take metering points off the channel by number (all or none)",
                   description="Points that are not on the channel change nothing and are listed in "
                               "``not_on_channel``: a repeated removal answers 200 and writes nothing. "
                               "A number that is no metering point is refused (400) and nothing is removed.",
                   request=s.RemoveTargetsSerializer, responses=s.TargetsRemovedSerializer)
    @action(detail=True, methods=["post"], url_path="remove-targets")
    def remove_targets(self, request, pk=None):
        from .services import collection

        channel = self.get_object()
        result = collection.remove_targets(self.actor, channel, **self.validated(s.RemoveTargetsSerializer))
        return Response(s.TargetsRemovedSerializer(
            {"removed": result.removed, "not_on_channel": result.not_on_channel, "detail": result.message,
             "channel": self.fresh(channel)}, context=self.get_serializer_context()).data)

    @extend_schema(summary="Read every meter behind the channel now; the values are stored as one delivery",
                   description="Meters that do not answer are listed in the run's failures with the reason.",
                   request=None, responses={201: s.CollectionRunSerializer})
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        from .services import collection

        run = collection.run_channel(self.actor, self.get_object())
        return self.respond(CollectionRun.objects.select_related("channel", "triggered_by").get(pk=run.pk),
                            status_code=201, serializer_class=s.CollectionRunSerializer)


@extend_schema_view(
    list=extend_schema(summary="Collection runs of the channels in your scope, newest first"),
    retrieve=extend_schema(summary="One collection run with its failures"),
)
class RunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    queryset = CollectionRun.objects.all()
    serializer_class = s.CollectionRunSerializer
    filterset_class = RunFilter
    required_permission = VIEW

    def scoped(self, queryset):
        return (CollectionRun.objects.filter(channel__in=selectors.visible_channels(self.request.user))
                .select_related("channel", "triggered_by").order_by("-started_at", "-id"))
