"""API serializers of meter reading: the output shape of routes, plans, tasks, reads, deliveries, exceptions,
thresholds, indicators and collection channels, and the input of each service call.

Input serializers check types, lengths and references only; the services decide the
rest (the meter's registers and digits, plan states, thresholds, who may act where).
Referenced objects are looked up within the requesting user's data scope, so an id
outside it reads as "does not exist".  Register values travel as decimal strings, never
as floating-point numbers.
"""

from __future__ import annotations

import datetime as dt
import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from powercis.core.codelists import codes_of, unknown_code_message
from powercis.core.api.filters import MAX_ID
from powercis.core.api.serializers import OrgRefSerializer, ScopedPrimaryKeyField, StaffRefSerializer, within
from powercis.core.models import Org, Staff, WorkOrder
from powercis.customers.serializers import AccountRefSerializer, KnownFieldsOnly, PlainDecimalField, reason_field
from powercis.metering.models import REGISTERS, MeteringPoint
from powercis.metering.serializers import MeterRefSerializer, PointRefSerializer, ReadsSerializer

from . import selectors
from .filters import PERIOD_PATTERN
from .models import (
    CollectionChannel,
    CollectionRun,
    Cycle,
    QuarantinedRead,
    ReadBatch,
    ReadException,
    ReadingPlan,
    ReadingRoute,
    ReadingTask,
    ReadMethod,
    RegisterRead,
    Source,
    ValidationProfile,
)
from .services.routes import CODE

MANAGE_ROUTES = "reading.manage_routes"
COLLECT = "reading.collect"
CONFIGURE = "reading.configure"
#: the sources of a field entry and of a delivery (ENUM_NAME_OVERRIDES names them FieldEntrySourceEnum and
#: IngestSourceEnum)
FIELD_SOURCES = [Source.MANUAL.value, Source.HANDHELD.value]
INGEST_SOURCES = [Source.AMI.value, Source.IMPORT.value]
INGEST_FORMATS = ["json", "csv", "parquet", "xlsx"]
#: who may deliver reads: a head-end's are collection work (reading.collect), a reading sheet is entry work
INGEST_PERMS = ("reading.collect", "reading.enter")
MAX_JSON_ROWS = 10_000
RATE = {"max_digits": 5, "decimal_places": 2, "read_only": True, "allow_null": True}


def code_field(what: str) -> serializers.RegexField:
    message = _("Use up to 32 letters, digits, hyphens or underscores.")
    return serializers.RegexField(CODE.pattern, max_length=32, error_messages={"invalid": message},
                                  help_text=f"unique in the company; {what}")


def reader_field(**kwargs) -> ScopedPrimaryKeyField:
    """A meter reader: staff whose home org lies where the user maintains routes (the service checks reading.enter)."""
    return ScopedPrimaryKeyField(within(MANAGE_ROUTES, path_field="org__path"), queryset=Staff.objects.all(),
                                 allow_null=True, **kwargs)


@extend_schema_field({"type": "string", "pattern": PERIOD_PATTERN, "example": "2026-10"})
class PeriodField(serializers.Field):
    """A billing month as ``YYYY-MM``; inside, the month's first day."""

    default_error_messages = {"invalid": _("Enter the period as YYYY-MM, e.g. 2026-10.")}

    def to_internal_value(self, data):
        if not isinstance(data, str) or not re.match(PERIOD_PATTERN, data.strip()):
            self.fail("invalid")
        year, month = data.strip().split("-")
        try:
            return dt.date(int(year), int(month), 1)
        except ValueError:
            self.fail("invalid")

    def to_representation(self, value):
        return f"{value:%Y-%m}"


@extend_schema_field({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$", "example": "02:00",
                     "description": "local time of day, HH:MM or HH:MM:SS"})
class LocalTimeField(serializers.TimeField):
    """A time of day in local time, without an offset (OpenAPI's ``format: time`` would demand one)."""

    def __init__(self, **kwargs):
        super().__init__(input_formats=["%H:%M", "%H:%M:%S"], format="%H:%M:%S", **kwargs)


class FlagsField(serializers.ListField):
    """The comma-separated check codes of a read, as a list."""

    child = serializers.CharField()

    def to_representation(self, value):
        return [code for code in (value or "").split(",") if code]


# --- references -------------------------------------------------------------------


class RouteRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReadingRoute
        fields = ["id", "code", "name"]


class PlanRefSerializer(serializers.ModelSerializer):
    route = RouteRefSerializer(read_only=True)
    period = PeriodField(read_only=True)

    class Meta:
        model = ReadingPlan
        fields = ["id", "route", "period", "status"]


class WorkOrderRefSerializer(serializers.ModelSerializer):
    assignee = StaffRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = WorkOrder
        fields = ["id", "number", "status", "title", "due_on", "assignee"]


# --- routes -----------------------------------------------------------------------


class ReadingRouteSerializer(serializers.ModelSerializer):
    org = OrgRefSerializer(read_only=True)
    reader = StaffRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ReadingRoute
        fields = ["id", "code", "name", "org", "reader", "read_day", "cycle", "odd_months", "method", "is_active",
                  "created_at"]


class RouteWriteSerializer(KnownFieldsOnly, serializers.Serializer):
    """A route's attributes; the code and the org are fixed once the route exists."""

    name = serializers.CharField(max_length=100)
    reader = reader_field(required=False, help_text="the meter reader (must hold reading.enter in the route's org)")
    read_day = serializers.IntegerField(min_value=1, max_value=31, required=False,
                                        help_text="抄表例日: day of the month; 31 is the last day of every month")
    cycle = serializers.ChoiceField(choices=Cycle.choices, required=False)
    odd_months = serializers.BooleanField(required=False,
                                          help_text="two-monthly cycle: read in odd months (else even months)")
    method = serializers.ChoiceField(choices=ReadMethod.choices, required=False)


class RouteCreateSerializer(RouteWriteSerializer):
    org = ScopedPrimaryKeyField(within(MANAGE_ROUTES), queryset=Org.objects.all(),
                                help_text="the org that keeps the route (where you hold reading.manage_routes)")
    code = code_field("accounts name their route by it (reading_route_code)")

    def get_fields(self):
        fields = super().get_fields()
        return {"org": fields.pop("org"), "code": fields.pop("code"), **fields}


class RouteUpdateSerializer(RouteWriteSerializer):
    is_active = serializers.BooleanField(required=False)
    reason = reason_field()


# --- plans ------------------------------------------------------------------------


class TallySerializer(serializers.Serializer):
    """A plan's (or a group of plans') progress; rates are percentages with two decimals, null when undefined."""

    due = serializers.IntegerField(help_text="tasks (metering points) to read: the denominator of the rates")
    done = serializers.IntegerField(help_text="read + estimated + unreadable")
    read = serializers.IntegerField(help_text="read on site or remotely")
    estimated = serializers.IntegerField()
    unreadable = serializers.IntegerField()
    pending = serializers.IntegerField()
    on_time = serializers.IntegerField(help_text="read on or before the scheduled read day")
    corrected = serializers.IntegerField(help_text="tasks whose read had to be corrected")
    open_exceptions = serializers.IntegerField()
    progress = serializers.DecimalField(**RATE, help_text="done / due × 100")
    actual_read_rate = serializers.DecimalField(**RATE, help_text="实抄率: read / due × 100")
    error_rate = serializers.DecimalField(**RATE, help_text="抄表差错率: corrected / read × 100")
    on_time_rate = serializers.DecimalField(**RATE, help_text="on time / read × 100")


class ReadingPlanSerializer(serializers.ModelSerializer):
    route = RouteRefSerializer(read_only=True)
    org = OrgRefSerializer(read_only=True)
    period = PeriodField(read_only=True)
    reader = StaffRefSerializer(read_only=True, allow_null=True)
    released_by = StaffRefSerializer(read_only=True, allow_null=True)
    tally = serializers.SerializerMethodField(help_text="progress of the plan's tasks")

    class Meta:
        model = ReadingPlan
        fields = ["id", "route", "org", "period", "scheduled_on", "reader", "status", "tasks_due", "generated_at",
                  "validated_at", "released_at", "released_by", "override_reason", "opening", "tally"]

    @extend_schema_field(TallySerializer)
    def get_tally(self, plan: ReadingPlan):
        tallies = self.context.get("tallies")
        if tallies is None:
            tallies = selectors.plan_tallies(ReadingPlan.objects.filter(pk=plan.pk))
        return TallySerializer(tallies.get(plan.pk, selectors.Tally())).data


class GenerateSerializer(KnownFieldsOnly, serializers.Serializer):
    """Which plans to generate: a period for an org and everything below it."""

    org = ScopedPrimaryKeyField(within(MANAGE_ROUTES), queryset=Org.objects.all(),
                                help_text="plans are generated for every active route of this org and below")
    period = PeriodField()
    opening = serializers.BooleanField(
        default=False, help_text="go-live: opening plans (期初) for the previous system's last readings, the start "
                                 "reads of the month after; refused when the org has plans of this period or earlier")


class GenerateResultSerializer(serializers.Serializer):
    #: the generation report's numbers, as the plan engine counts them
    REPORT_FIELDS = ("routes", "plans_created", "plans_existing", "plans_released", "tasks_created", "tasks_due",
                     "seconds")

    org = OrgRefSerializer()
    period = PeriodField()
    routes = serializers.IntegerField(help_text="active routes read in this month")
    plans_created = serializers.IntegerField()
    plans_existing = serializers.IntegerField(help_text="plans that had been generated before (kept as they are)")
    plans_released = serializers.IntegerField(help_text="plans already released to billing (not touched)")
    tasks_created = serializers.IntegerField(help_text="tasks added (a rerun adds only the missing ones)")
    tasks_due = serializers.IntegerField(help_text="reads due in the period's open plans after the run")
    seconds = serializers.FloatField()


class ReleaseSerializer(KnownFieldsOnly, serializers.Serializer):
    """A release to billing; the override reason only for a supervisor releasing over open exceptions."""

    override_reason = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="",
        help_text="needed (with reading.release_override) only to release with blocking exceptions open; those "
                  "exceptions are then resolved as overridden with this reason")


class ReleasePeriodSerializer(KnownFieldsOnly, serializers.Serializer):
    """Release a whole period of an org and below."""

    org = ScopedPrimaryKeyField(within("reading.review"), queryset=Org.objects.all(),
                                help_text="every open plan of the period in this org and below")
    period = PeriodField()


class BlockedPlanSerializer(serializers.Serializer):
    plan = PlanRefSerializer()
    blocking_exceptions = serializers.IntegerField(help_text="open exceptions that must be resolved first")
    validated = serializers.BooleanField(help_text="false: the plan's reads have not been validated yet")


class ReleasePeriodResultSerializer(serializers.Serializer):
    released = PlanRefSerializer(many=True)
    blocked = BlockedPlanSerializer(many=True)


class ReassignSerializer(KnownFieldsOnly, serializers.Serializer):
    """Another reader for one plan."""

    reader = reader_field(help_text="the reader who reads the plan instead (null: nobody yet)")
    reason = reason_field()


# --- reads and tasks --------------------------------------------------------------


@extend_schema_field({
    "type": "object", "additionalProperties": False,
    "description": "register code → reading as a decimal string; only the registers the read carries",
    "properties": {r: {"type": "string", "format": "decimal", "pattern": r"^-?\d{0,12}(?:\.\d{0,4})?$"}
                   for r in REGISTERS},
    "example": {"total": "12345.6700", "peak": "4321.0000"}})
class RegistersField(serializers.Field):
    """The registers a read carries (its non-empty register columns), register → decimal string, in register order."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, read):
        return {register: f"{value:.4f}" for register, value in read.registers().items()}


class RegisterReadSerializer(serializers.ModelSerializer):
    metering_point = PointRefSerializer(read_only=True)
    meter = serializers.CharField(source="meter.asset_no", read_only=True, help_text="the meter's asset number")
    registers = RegistersField()
    flags = FlagsField(read_only=True, help_text="the checks the read failed when it arrived, as stored: a code "
                                                 "(tou_sum, reverse) or code:register (lower:peak)")
    entered_by = StaffRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = RegisterRead
        fields = ["id", "metering_point", "meter", "read_at", "source", "revision", "estimated", "status", "batch",
                  "task", "corrects", "registers", "flags", "photo_ref", "note", "entered_by", "recorded_at"]


class TaskReadSerializer(serializers.ModelSerializer):
    """A read as a task shows it: its registers and where it came from."""

    registers = RegistersField()
    flags = FlagsField(read_only=True, help_text="as stored: a code or code:register")

    class Meta:
        model = RegisterRead
        fields = ["id", "read_at", "registers", "source", "revision", "corrects", "estimated", "flags"]


class ReadingTaskSerializer(serializers.ModelSerializer):
    metering_point = PointRefSerializer(read_only=True)
    account = AccountRefSerializer(read_only=True, allow_null=True)
    meter = MeterRefSerializer(read_only=True, allow_null=True)
    read_by = StaffRefSerializer(read_only=True, allow_null=True)
    reads = serializers.SerializerMethodField(
        help_text="the reads the task stands on (usually one, with every register): its own latest valid read, or "
                  "for a remotely read route the head-end's read of the read day")

    class Meta:
        model = ReadingTask
        fields = ["id", "plan", "seq", "metering_point", "account", "meter", "status", "check_status",
                  "prev_read_on", "read_at", "source", "unreadable_reason", "photo_ref", "read_by", "reads"]

    @extend_schema_field(TaskReadSerializer(many=True))
    def get_reads(self, task: ReadingTask):
        reads = self.context.get("reads")
        if reads is None:
            ids = selectors.effective_read_ids(task)
            rows = RegisterRead.objects.filter(pk__in=set(ids.values())).order_by("read_at", "revision", "id")
        else:
            rows = reads.get(task.pk, [])
        return TaskReadSerializer(rows, many=True).data


class ExceptionBriefSerializer(serializers.ModelSerializer):
    rule_label = serializers.CharField(source="get_rule_display", read_only=True, help_text="in the request's language")

    class Meta:
        model = ReadException
        fields = ["id", "rule", "rule_label", "severity", "register", "detail"]


class RecordReadsSerializer(KnownFieldsOnly, serializers.Serializer):
    """A reader's entry of the register values seen on site."""

    values = ReadsSerializer(help_text="register code → reading as a decimal string; the meter's registers decide "
                                       "which are needed (total always)")
    read_at = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                        help_text="when the meter was read (default: now)")
    source = serializers.ChoiceField(choices=FIELD_SOURCES, default=Source.HANDHELD,
                                     help_text="manual: written on a sheet; handheld: entered on the handheld")
    photo_ref = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                      help_text="reference of the photo of the register display")
    estimated = serializers.BooleanField(required=False, default=False,
                                         help_text="the reader estimated the values (估抄) instead of reading them")

    def to_internal_value(self, data):
        checked = super().to_internal_value(data)
        # the service takes the readings as text, exactly as entered
        checked["values"] = {register: str(value) for register, value in checked["values"].items()}
        return checked


class EntryResultSerializer(serializers.Serializer):
    repeated = serializers.BooleanField(help_text="true: the same values had been recorded already; nothing changed")
    task = ReadingTaskSerializer()
    reads = TaskReadSerializer(many=True, help_text="the read of this entry, one with every register (or the one "
                                                    "already recorded)")
    exceptions = ExceptionBriefSerializer(many=True, help_text="the task's open exceptions after validation")


class UnreadableSerializer(KnownFieldsOnly, serializers.Serializer):
    """Why a meter could not be read."""

    reason_code = serializers.CharField(max_length=16, help_text="a code of the company's code table unread_reason")
    photo_ref = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="",
                                 help_text="written to the audit trail")


# --- deliveries -------------------------------------------------------------------


class ReadBatchSerializer(serializers.ModelSerializer):
    org = OrgRefSerializer(read_only=True)
    received_by = StaffRefSerializer(read_only=True, allow_null=True)
    summary = serializers.DictField(read_only=True, help_text="what is worth reporting about the delivery as a whole")

    class Meta:
        model = ReadBatch
        fields = ["id", "org", "source", "delivery_key", "digest", "file_name", "file_format", "sender", "status",
                  "received_at", "received_by", "rows_total", "rows_accepted", "rows_duplicate", "rows_quarantined",
                  "rows_flagged", "seconds", "summary", "message"]


class QuarantinedReadSerializer(serializers.ModelSerializer):
    class Meta:
        model = QuarantinedRead
        fields = ["row_no", "meter_ref", "register", "read_at_text", "value_text", "reason_code", "reason"]


class IngestResultSerializer(serializers.Serializer):
    replayed = serializers.BooleanField(help_text="true: this delivery key was received before; the answer is the "
                                                  "first delivery's and nothing was written")
    batch = ReadBatchSerializer()


class IngestOptionsSerializer(KnownFieldsOnly, serializers.Serializer):
    """What every delivery of reads says about itself."""

    org = ScopedPrimaryKeyField(within(*INGEST_PERMS), queryset=Org.objects.all(),
                                help_text="the org the delivery is for: its meters are found in the org's company and "
                                          "must be installed within the org")
    source = serializers.ChoiceField(choices=INGEST_SOURCES,
                                     help_text="ami: a head-end's daily frozen reads (reading.collect); import: a "
                                               "filled reading sheet (reading.enter)")
    delivery_key = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="",
        help_text="the sender's key of this delivery (or the Idempotency-Key header): a second delivery with the "
                  "same key writes nothing and answers with the first")
    sender = serializers.CharField(max_length=60, required=False, allow_blank=True, default="",
                                   help_text="head-end or system that sent the reads")


class IngestFileSerializer(IngestOptionsSerializer):
    """A delivery as a file."""

    file = serializers.FileField(help_text="the delivery: JSON, CSV (UTF-8 or GBK), Parquet or XLSX; one read per row "
                                           "(meter, register, read_at, value) or one row per meter and time with a "
                                           "column per register")
    format = serializers.ChoiceField(choices=INGEST_FORMATS, required=False, allow_blank=True, default="",
                                     help_text="default: from the file name, else from the content")


class DecimalTextField(serializers.CharField):
    """A number sent as text ("12.30"): a JSON number would have passed through a binary float."""

    default_error_messages = {"not_text": _("Send the reading as a decimal string, e.g. \"12.30\".")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_text")
        return super().to_internal_value(data)


class IngestRowSerializer(serializers.Serializer):
    meter = serializers.CharField(max_length=40, help_text="the meter's asset number or 12-digit communication address")
    register = serializers.CharField(max_length=20, help_text="total, sharp, peak, flat, valley, reactive, demand "
                                                              "or reverse")
    read_at = serializers.CharField(max_length=40, help_text="ISO 8601; a daily frozen read is dated 00:00 local time")
    value = DecimalTextField(max_length=40, help_text="the register reading as a decimal string")
    estimated = serializers.BooleanField(required=False, help_text="the value is an estimate")


class IngestJsonSerializer(IngestOptionsSerializer):
    """A delivery as JSON rows."""

    reads = IngestRowSerializer(many=True, allow_empty=False, max_length=MAX_JSON_ROWS,
                                help_text=f"one register read per item, at most {MAX_JSON_ROWS} (a larger delivery "
                                          "goes as a file); rows that cannot be accepted are quarantined with the "
                                          "reason, the others are stored")

    def to_internal_value(self, data):
        """The number of rows is checked before any row is, and refused under the name ``reads``."""
        reads = data.get("reads") if isinstance(data, dict) else None
        if isinstance(reads, list) and not reads:
            raise serializers.ValidationError({"reads": [_("Send at least one read.")]})
        if isinstance(reads, list) and len(reads) > MAX_JSON_ROWS:
            raise serializers.ValidationError({"reads": [
                _("Send at most %(n)s reads at a time; a larger delivery goes as a file.") % {"n": MAX_JSON_ROWS}]})
        return super().to_internal_value(data)


# --- exceptions -------------------------------------------------------------------


class ReadExceptionSerializer(serializers.ModelSerializer):
    org = OrgRefSerializer(read_only=True)
    plan = PlanRefSerializer(read_only=True)
    reader = StaffRefSerializer(source="plan.reader", read_only=True, allow_null=True,
                                help_text="the plan's meter reader")
    metering_point = PointRefSerializer(read_only=True)
    account = AccountRefSerializer(source="task.account", read_only=True, allow_null=True)
    rule_label = serializers.CharField(source="get_rule_display", read_only=True, help_text="in the request's language")
    detail = serializers.DictField(read_only=True, help_text="the numbers the check compared, as strings")
    resolved_by = StaffRefSerializer(read_only=True, allow_null=True)
    work_order = WorkOrderRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ReadException
        fields = ["id", "org", "plan", "task", "reader", "metering_point", "account", "read", "register", "rule",
                  "rule_label", "severity", "detail", "status", "resolution", "note", "resolved_by", "resolved_at",
                  "work_order", "created_at"]


class NoteSerializer(KnownFieldsOnly, serializers.Serializer):
    """A note on how an exception was resolved."""

    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="",
                                 help_text="why; written to the exception and the audit trail")


class ConfirmManySerializer(NoteSerializer):
    """Several exceptions confirmed with one note."""

    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID), allow_empty=False,
                                max_length=500, help_text="the exceptions to confirm; all or none are confirmed")

    def validate_ids(self, ids: list[int]) -> list[ReadException]:
        """The exceptions, found in one query within the user's scope; ids that are not there are named."""
        wanted = list(dict.fromkeys(ids))
        found = {e.pk: e for e in selectors.visible_exceptions(self.context["request"].user).filter(pk__in=wanted)}
        missing = [str(pk) for pk in wanted if pk not in found]
        if missing:
            raise serializers.ValidationError(_("No exception with the id %(ids)s.") % {"ids": ", ".join(missing[:10])})
        return [found[pk] for pk in wanted]


class ConfirmedSerializer(serializers.Serializer):
    confirmed = serializers.IntegerField()


class CorrectSerializer(KnownFieldsOnly, serializers.Serializer):
    """The right readings and why the recorded ones were wrong."""

    values = ReadsSerializer(help_text="register code → the right reading as a decimal string; registers left out "
                                       "keep their reads")
    reason = serializers.CharField(max_length=200, help_text="why the reads were wrong; written to the corrected reads "
                                                             "and the audit trail")

    def to_internal_value(self, data):
        checked = super().to_internal_value(data)
        checked["values"] = {register: str(value) for register, value in checked["values"].items()}
        return checked


class EstimateSerializer(KnownFieldsOnly, serializers.Serializer):
    """Why the reads are replaced by an estimate."""

    reason = serializers.CharField(max_length=200, help_text="why the meter is estimated (估抄)")


class RereadResultSerializer(serializers.Serializer):
    work_order = WorkOrderRefSerializer(help_text="the re-read order (one per task while it is open)")
    exception = ReadExceptionSerializer()


# --- thresholds -------------------------------------------------------------------


class ThresholdQuerySerializer(serializers.Serializer):
    org = ScopedPrimaryKeyField(within(*selectors.VIEW_PERMS, CONFIGURE), queryset=Org.objects.all())
    on = serializers.DateField(required=False, help_text="YYYY-MM-DD (default: today)")
    usage_category = serializers.CharField(max_length=16, required=False, allow_blank=True, default="",
                                           help_text="a code of the usage_category table: the thresholds for the "
                                                     "accounts of that category and those below it; empty: every "
                                                     "account")

    def validate(self, attrs):
        category, org = attrs.get("usage_category", ""), attrs["org"]
        if category and category not in codes_of(org.company_id or org.pk, "usage_category"):
            raise serializers.ValidationError({"usage_category": [unknown_code_message(category, "usage_category")]})
        return attrs


class ProfileRefSerializer(serializers.Serializer):
    org = OrgRefSerializer()
    usage_category = serializers.CharField(help_text="empty: a profile for every account of the org")
    valid_from = serializers.DateField()


class ThresholdValueSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField(help_text="in the request's language")
    value = serializers.CharField(help_text="the value in force, as a decimal string")
    default = serializers.CharField(help_text="the documented default")
    integer = serializers.BooleanField(help_text="the value is a whole number")
    minimum = serializers.CharField()
    basis = serializers.CharField(help_text="where the default comes from")
    set_by = ProfileRefSerializer(allow_null=True, help_text="the profile that sets the value; null: the default")


class ThresholdsSerializer(serializers.Serializer):
    org = OrgRefSerializer()
    usage_category = serializers.CharField()
    on = serializers.DateField()
    values = ThresholdValueSerializer(many=True)


class ProfileCreateSerializer(KnownFieldsOnly, serializers.Serializer):
    """A dated set of thresholds for an org."""

    org = ScopedPrimaryKeyField(within(CONFIGURE), queryset=Org.objects.all(),
                                help_text="the org whose thresholds these are (it and the orgs below it)")
    usage_category = serializers.CharField(max_length=16, required=False, allow_blank=True, default="",
                                           help_text="a code of the usage_category table: the thresholds for the "
                                                     "accounts of that category and those below it; empty: every "
                                                     "account")
    valid_from = serializers.DateField(help_text="applies to the periods from this date on")
    values = serializers.DictField(child=serializers.CharField(max_length=20), allow_empty=False,
                                   help_text="threshold key → value as a decimal string; keys left out keep the "
                                             "inherited value")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ValidationProfileSerializer(serializers.ModelSerializer):
    org = OrgRefSerializer(read_only=True)
    values = serializers.DictField(child=serializers.CharField(), read_only=True)
    created_by = StaffRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ValidationProfile
        fields = ["id", "org", "usage_category", "valid_from", "values", "note", "created_by", "created_at"]


# --- indicators -------------------------------------------------------------------


class IndicatorQuerySerializer(serializers.Serializer):
    period_from = PeriodField()
    period_to = PeriodField()
    by = serializers.ChoiceField(choices=["route", "reader", "org", "period"], default="route")
    org = ScopedPrimaryKeyField(within(*selectors.VIEW_PERMS), queryset=Org.objects.all(), required=False,
                                help_text="this org and below (default: everything in your scope)")

    def validate(self, attrs):
        if attrs["period_from"] > attrs["period_to"]:
            raise serializers.ValidationError({"period_to": [_("The period range ends before it starts.")]})
        return attrs


class IndicatorRowSerializer(TallySerializer):
    key = serializers.CharField(allow_null=True, help_text="route, reader or org id, or the period YYYY-MM")
    label = serializers.CharField()

    def get_fields(self):
        fields = super().get_fields()
        return {"key": fields.pop("key"), "label": fields.pop("label"), **fields}


class IndicatorsSerializer(serializers.Serializer):
    by = serializers.CharField()
    period_from = PeriodField()
    period_to = PeriodField()
    rows = IndicatorRowSerializer(many=True)
    total = TallySerializer(help_text="all rows together")


# --- collection -------------------------------------------------------------------


class CollectionChannelSerializer(serializers.ModelSerializer):
    org = OrgRefSerializer(read_only=True)
    timeout_seconds = serializers.DecimalField(max_digits=5, decimal_places=1, read_only=True)
    data_ids = serializers.ListField(child=serializers.CharField(), read_only=True,
                                     help_text="DL/T 645 data identifiers read from every meter (8 hex digits)")
    target_count = serializers.IntegerField(read_only=True, help_text="metering points behind the channel")
    run_at = LocalTimeField(read_only=True, allow_null=True, help_text="daily run time (local); null: run by hand")

    class Meta:
        model = CollectionChannel
        fields = ["id", "code", "name", "org", "host", "port", "protocol", "timeout_seconds", "retries", "data_ids",
                  "run_at", "is_active", "last_run_at", "target_count"]


class CollectionChannelDetailSerializer(CollectionChannelSerializer):
    targets = serializers.SerializerMethodField(help_text="the metering points behind the channel")

    class Meta(CollectionChannelSerializer.Meta):
        fields = [*CollectionChannelSerializer.Meta.fields, "targets"]

    @extend_schema_field(PointRefSerializer(many=True))
    def get_targets(self, channel: CollectionChannel):
        points = MeteringPoint.objects.filter(pk__in=channel.targets.values("metering_point_id")).order_by("code")
        return PointRefSerializer(points, many=True).data


class ChannelWriteSerializer(KnownFieldsOnly, serializers.Serializer):
    """A channel's endpoint, timing, data identifiers and schedule; its code and org are fixed."""

    name = serializers.CharField(max_length=100)
    host = serializers.CharField(max_length=100, help_text="the serial server or concentrator")
    port = serializers.IntegerField(min_value=1, max_value=65535)
    timeout_seconds = PlainDecimalField(5, 1, required=False, help_text="seconds to wait for each reply")
    retries = serializers.IntegerField(min_value=0, max_value=10, required=False)
    data_ids = serializers.ListField(child=serializers.CharField(max_length=8), max_length=32, required=False,
                                     help_text="DL/T 645 data identifiers as 8 hex digits (default: energy block, "
                                               "reverse total, maximum demand)")
    run_at = LocalTimeField(required=False, allow_null=True, help_text="daily run time (local); null: run by hand")
    is_active = serializers.BooleanField(required=False)


class ChannelCreateSerializer(ChannelWriteSerializer):
    org = ScopedPrimaryKeyField(within(COLLECT), queryset=Org.objects.all(),
                                help_text="the org that keeps the channel (where you hold reading.collect)")
    code = code_field("a retried create answers 400 naming the duplicate")

    def get_fields(self):
        fields = super().get_fields()
        return {"org": fields.pop("org"), "code": fields.pop("code"), **fields}


class ChannelUpdateSerializer(ChannelWriteSerializer):
    reason = reason_field()


def point_codes_field(help_text: str) -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(max_length=32), allow_empty=False, max_length=5000,
                                 help_text=help_text)


class TargetsSerializer(KnownFieldsOnly, serializers.Serializer):
    """Metering points to put behind a channel."""

    metering_point_codes = point_codes_field("metering point numbers to put behind the channel")


class TargetsResultSerializer(serializers.Serializer):
    added = serializers.IntegerField(help_text="points added (those already behind the channel are not counted)")
    channel = CollectionChannelDetailSerializer()


class RemoveTargetsSerializer(KnownFieldsOnly, serializers.Serializer):
    """Metering points to take off a channel."""

    metering_point_codes = point_codes_field("metering point numbers to take off the channel")


class TargetsRemovedSerializer(serializers.Serializer):
    removed = serializers.ListField(child=serializers.CharField(), help_text="points taken off the channel")
    not_on_channel = serializers.ListField(child=serializers.CharField(),
                                           help_text="points named that were not on the channel (nothing changed)")
    detail = serializers.CharField(help_text="the outcome in the user's language")
    channel = CollectionChannelDetailSerializer()


class ChannelRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = CollectionChannel
        fields = ["id", "code", "name"]


class CollectionRunSerializer(serializers.ModelSerializer):
    channel = ChannelRefSerializer(read_only=True)
    triggered_by = StaffRefSerializer(read_only=True, allow_null=True)
    failures = serializers.ListField(child=serializers.DictField(), read_only=True,
                                     help_text="per meter that failed: address or metering point, reason(s)")

    class Meta:
        model = CollectionRun
        fields = ["id", "channel", "started_at", "finished_at", "targets", "succeeded", "failed", "batch", "failures",
                  "triggered_by"]
