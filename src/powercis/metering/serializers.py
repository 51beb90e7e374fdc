"""API serializers of metering: metering points, meters, CT/PT and their installations, and the service inputs.

Input serializers check types, lengths and references only; the services decide the
rest (company, stock status, reads against the meter's registers and digits, the
multiplier).  Referenced objects are looked up within the requesting user's data scope,
so an id outside it reads as "does not exist".
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from powercis.core.api.serializers import OrgRefSerializer, ScopedPrimaryKeyField, within
from powercis.core.models import Org
from powercis.customers.models import Account
from powercis.customers.selectors import visible_accounts
from powercis.customers.serializers import (
    LATITUDE,
    LONGITUDE,
    AccountRefSerializer,
    KnownFieldsOnly,
    PlainDecimalField,
    reason_field,
)
from powercis.grid.models import Building, TransformerArea
from powercis.grid.selectors import visible_areas, visible_buildings

from . import selectors
from .models import (
    REGISTERS,
    InstrumentTransformer,
    Meter,
    MeteringPoint,
    MeterInstallation,
    TransformerInstallation,
)

EDIT = "metering.edit"
WORK_ORDER = {"max_length": 40, "required": False, "allow_blank": True, "default": "",
              "help_text": "the work order of the field job; the audit record refers to it"}


def visible(selector):
    """Scope: the rows ``selector(user)`` shows."""
    return lambda user, queryset: selector(user)


def history_of(asset, serializer_class) -> list:
    """Where a meter or CT/PT was installed, newest first."""
    rows = asset.installations.select_related("metering_point").order_by("-installed_on", "-id")
    return serializer_class(rows, many=True).data


def owner_org_field(help_text: str) -> ScopedPrimaryKeyField:
    """The org that keeps a new record: one where the user holds metering.edit."""
    return ScopedPrimaryKeyField(within(EDIT), queryset=Org.objects.all(), help_text=help_text)


# --- references -------------------------------------------------------------------


class PointRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = MeteringPoint
        fields = ["id", "code", "name"]


class MeterRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Meter
        fields = ["id", "asset_no", "registers", "digits"]


class InstrumentTransformerRefSerializer(serializers.ModelSerializer):
    ratio = serializers.CharField(source="ratio_text", read_only=True, help_text="primary/secondary, e.g. 200/5")

    class Meta:
        model = InstrumentTransformer
        fields = ["id", "asset_no", "kind", "ratio"]


# --- register reads ---------------------------------------------------------------


class ReadsSerializer(KnownFieldsOnly, serializers.Serializer):
    """One read per register of the meter (which registers it has is the meter's ``registers``)."""

    unknown_message = _("Not a register code; use total, sharp, peak, flat, valley, reactive, demand or reverse.")

    def get_fields(self):
        return {register: PlainDecimalField(16, 4, required=False, allow_null=True) for register in REGISTERS}

    def to_internal_value(self, data):
        """The reads as given (checked here for form and precision), not padded to four decimal places."""
        checked = super().to_internal_value(data)
        return {k: Decimal(str(data[k]).strip()) for k, v in checked.items() if v is not None}


class ReadsField(serializers.DictField):
    """Reads as stored: register code → decimal string."""

    child = serializers.CharField()


# --- installations ----------------------------------------------------------------


class MeterInstallationSerializer(serializers.ModelSerializer):
    metering_point = PointRefSerializer(read_only=True)
    meter = MeterRefSerializer(read_only=True)
    install_reads = ReadsField(read_only=True)
    removal_reads = ReadsField(read_only=True)

    class Meta:
        model = MeterInstallation
        fields = ["id", "metering_point", "meter", "installed_on", "removed_on", "install_reads", "removal_reads",
                  "work_order_ref"]


class TransformerInstallationSerializer(serializers.ModelSerializer):
    metering_point = PointRefSerializer(read_only=True)
    transformer = InstrumentTransformerRefSerializer(read_only=True)

    class Meta:
        model = TransformerInstallation
        fields = ["id", "metering_point", "transformer", "phase", "installed_on", "removed_on", "work_order_ref"]


class InstallMeterSerializer(KnownFieldsOnly, serializers.Serializer):
    meter = ScopedPrimaryKeyField(visible(selectors.visible_meters), queryset=Meter.objects.all(),
                                  help_text="a meter in stock")
    on = serializers.DateField()
    reads = ReadsSerializer(help_text="the meter's reads at installation, one per register")
    work_order_ref = serializers.CharField(**WORK_ORDER)
    reason = reason_field()


class RemoveMeterSerializer(KnownFieldsOnly, serializers.Serializer):
    on = serializers.DateField()
    reads = ReadsSerializer(help_text="the meter's reads at removal, one per register")
    work_order_ref = serializers.CharField(**WORK_ORDER)
    reason = reason_field()


class ReplaceMeterSerializer(KnownFieldsOnly, serializers.Serializer):
    meter = ScopedPrimaryKeyField(visible(selectors.visible_meters), queryset=Meter.objects.all(),
                                  help_text="the new meter, in stock")
    on = serializers.DateField(help_text="the day of the exchange (换表)")
    removal_reads = ReadsSerializer(help_text="the old meter's reads, one per register")
    install_reads = ReadsSerializer(help_text="the new meter's reads, one per register")
    work_order_ref = serializers.CharField(**WORK_ORDER)
    reason = reason_field()


class InstallTransformerSerializer(KnownFieldsOnly, serializers.Serializer):
    transformer = ScopedPrimaryKeyField(visible(selectors.visible_transformers),
                                        queryset=InstrumentTransformer.objects.all(), help_text="a CT or PT in stock")
    on = serializers.DateField()
    phase = serializers.ChoiceField(choices=["", "A", "B", "C"], required=False, default="")
    work_order_ref = serializers.CharField(**WORK_ORDER)
    reason = reason_field()


class RemoveTransformerSerializer(KnownFieldsOnly, serializers.Serializer):
    on = serializers.DateField()
    work_order_ref = serializers.CharField(**WORK_ORDER)
    reason = reason_field()


# --- metering points --------------------------------------------------------------


class PointSerializer(serializers.ModelSerializer):
    org = OrgRefSerializer(read_only=True)
    account = AccountRefSerializer(read_only=True, allow_null=True)
    multiplier = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True,
                                          help_text="today's: CT ratio × PT ratio of the installed CT/PT")

    class Meta:
        model = MeteringPoint
        fields = ["id", "code", "name", "kind", "org", "account", "transformer_area", "building", "position",
                  "voltage_level", "multiplier", "parent", "deduction", "deduction_value", "deduction_checked_on",
                  "usage_category", "route_order", "longitude", "latitude", "is_active"]


class PointDetailSerializer(PointSerializer):
    current_meter = serializers.SerializerMethodField(help_text="the meter installed now, or null")
    transformers = serializers.SerializerMethodField(help_text="the CT/PT installed now")

    class Meta(PointSerializer.Meta):
        fields = [*PointSerializer.Meta.fields, "current_meter", "transformers"]

    @extend_schema_field(MeterInstallationSerializer(allow_null=True))
    def get_current_meter(self, point: MeteringPoint):
        installation = selectors.current_meter_installation(point)
        return MeterInstallationSerializer(installation).data if installation else None

    @extend_schema_field(TransformerInstallationSerializer(many=True))
    def get_transformers(self, point: MeteringPoint):
        return TransformerInstallationSerializer(selectors.transformers_on(point), many=True).data


class MultiplierSerializer(serializers.Serializer):
    date = serializers.DateField()
    multiplier = serializers.DecimalField(max_digits=12, decimal_places=2,
                                          help_text="CT ratio × PT ratio of what was installed that day")
    transformers = TransformerInstallationSerializer(many=True, help_text="the CT/PT installed that day")


class PointWriteSerializer(KnownFieldsOnly, serializers.ModelSerializer):
    transformer_area = ScopedPrimaryKeyField(visible(visible_areas), queryset=TransformerArea.objects.all(),
                                             required=False, allow_null=True, help_text="the transformer area (台区)")
    building = ScopedPrimaryKeyField(visible(visible_buildings), queryset=Building.objects.all(), required=False,
                                     allow_null=True)
    parent = ScopedPrimaryKeyField(visible(selectors.visible_points), queryset=MeteringPoint.objects.all(),
                                   required=False, allow_null=True,
                                   help_text="the parent point of a sub-metered point (same account)")
    deduction_value = PlainDecimalField(12, 4, required=False, allow_null=True,
                                        help_text="a share between 0 and 1 for a fixed ratio, kWh per month for a "
                                                  "fixed quantity")
    reason = reason_field()

    class Meta:
        model = MeteringPoint
        fields = ["name", "position", "transformer_area", "building", "parent", "route_order", "deduction",
                  "deduction_value", "deduction_checked_on", "usage_category", "longitude", "latitude", "reason"]
        extra_kwargs = {"longitude": LONGITUDE, "latitude": LATITUDE}
        validators = []


class PointCreateSerializer(PointWriteSerializer):
    org = owner_org_field("the org that keeps the point (where you hold metering.edit)")
    account = ScopedPrimaryKeyField(visible(visible_accounts), queryset=Account.objects.all(), required=False,
                                    allow_null=True, help_text="required for a settlement point")

    class Meta(PointWriteSerializer.Meta):
        fields = ["org", "code", "kind", "account", "voltage_level", *PointWriteSerializer.Meta.fields]
        extra_kwargs = {**PointWriteSerializer.Meta.extra_kwargs,
                        "code": {"help_text": "unique in the company; a retried create answers 400 naming the "
                                              "duplicate"}}


class PointUpdateSerializer(PointWriteSerializer):
    ref = serializers.CharField(max_length=40, required=False, allow_blank=True, default="",
                                help_text="work order or document behind the change (e.g. moving the point to "
                                          "another transformer area); written to the audit trail")

    class Meta(PointWriteSerializer.Meta):
        fields = [*PointWriteSerializer.Meta.fields, "is_active", "ref"]


# --- meters and CT/PT ---------------------------------------------------------------


class MeterSerializer(serializers.ModelSerializer):
    org = OrgRefSerializer(read_only=True)
    registers = serializers.ListField(child=serializers.ChoiceField(choices=REGISTERS), read_only=True)

    class Meta:
        model = Meter
        fields = ["id", "asset_no", "org", "status", "phase", "meter_type", "accuracy_class", "manufacturer",
                  "model_name", "rated_current", "rated_voltage", "constant", "registers", "digits", "decimals",
                  "comm_address", "manufactured_on", "verified_on"]


class MeterDetailSerializer(MeterSerializer):
    installations = serializers.SerializerMethodField(help_text="where the meter was installed, newest first")

    class Meta(MeterSerializer.Meta):
        fields = [*MeterSerializer.Meta.fields, "installations"]

    @extend_schema_field(MeterInstallationSerializer(many=True))
    def get_installations(self, meter: Meter):
        return history_of(meter, MeterInstallationSerializer)


class MeterWriteSerializer(KnownFieldsOnly, serializers.ModelSerializer):
    registers = serializers.ListField(child=serializers.ChoiceField(choices=REGISTERS), max_length=len(REGISTERS),
                                      required=False, help_text="register codes; total is required")
    digits = serializers.IntegerField(min_value=4, max_value=10, required=False,
                                      help_text="integer digits: the register rolls over at 10^digits")
    decimals = serializers.IntegerField(min_value=0, max_value=4, required=False)
    reason = reason_field()

    class Meta:
        model = Meter
        fields = ["phase", "meter_type", "accuracy_class", "manufacturer", "model_name", "rated_current",
                  "rated_voltage", "constant", "registers", "digits", "decimals", "comm_address", "manufactured_on",
                  "verified_on", "reason"]
        validators = []


class MeterCreateSerializer(MeterWriteSerializer):
    org = owner_org_field("the asset owner org (where you hold metering.edit)")

    class Meta(MeterWriteSerializer.Meta):
        fields = ["org", "asset_no", *MeterWriteSerializer.Meta.fields]
        extra_kwargs = {"asset_no": {"help_text": "unique in the company; a retried create answers 400 naming the "
                                                  "duplicate"}}


class InstrumentTransformerSerializer(serializers.ModelSerializer):
    org = OrgRefSerializer(read_only=True)
    ratio = serializers.CharField(source="ratio_text", read_only=True, help_text="primary/secondary, e.g. 200/5")

    class Meta:
        model = InstrumentTransformer
        fields = ["id", "asset_no", "org", "kind", "primary_rating", "secondary_rating", "ratio", "accuracy_class",
                  "manufacturer", "status"]


class InstrumentTransformerDetailSerializer(InstrumentTransformerSerializer):
    installations = serializers.SerializerMethodField(help_text="where it was installed, newest first")

    class Meta(InstrumentTransformerSerializer.Meta):
        fields = [*InstrumentTransformerSerializer.Meta.fields, "installations"]

    @extend_schema_field(TransformerInstallationSerializer(many=True))
    def get_installations(self, transformer: InstrumentTransformer):
        return history_of(transformer, TransformerInstallationSerializer)


class InstrumentTransformerCreateSerializer(KnownFieldsOnly, serializers.ModelSerializer):
    org = owner_org_field("the asset owner org (where you hold metering.edit)")
    primary_rating = PlainDecimalField(10, 2, help_text="e.g. 200 (A) for a 200/5 CT")
    secondary_rating = PlainDecimalField(8, 2, help_text="e.g. 5 (A)")
    reason = reason_field()

    class Meta:
        model = InstrumentTransformer
        fields = ["org", "asset_no", "kind", "primary_rating", "secondary_rating", "accuracy_class", "manufacturer",
                  "reason"]
        extra_kwargs = {"asset_no": {"help_text": "unique in the company; a retried create answers 400 naming the "
                                                  "duplicate"}}
        validators = []
