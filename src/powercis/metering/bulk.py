"""Bulk import and export of metering points and meters (the generic engine is ``core.bulkio``).

Metering points refer to their account, transformer area, building and parent point by
number; a parent may be in the same file.  The rules are the metering services' own
(``check_parent``, ``check_deduction``: a 定比 is a share between 0 and 1, a 定量 a
positive kWh figure, both only under a parent point of the same account, billing rules
§6.5), applied to each row before anything is written.  The multiplier is not a column:
it is derived from the CT/PT installed (§6.1) and starts at 1.

A meter row may carry an installation: the metering point, the date and one read per
register (checked by ``services.checked_reads``).  The meter is then written as
installed with its :class:`~.models.MeterInstallation`, referenced to the import batch.
"""

from __future__ import annotations

import re

from django.db.models import Max, OuterRef, Subquery
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from powercis.core import authz
from powercis.core.bulkio import cells as c
from powercis.core.bulkio import problems as P
from powercis.core.bulkio.spec import Column, EntitySpec, Ref, geo_columns, org_column, register
from powercis.core.bulkio.validation import chunks, where_in
from powercis.core.errors import ValidationFailed
from powercis.customers.bulk import CUSTOMER_REF_PERMS, number
from powercis.customers.models import Account, AccountStatus
from powercis.customers.signals import notify_accounts_changed
from powercis.grid.models import Building, TransformerArea
from powercis.grid.selectors import GRID_PERMS

from .models import REGISTERS, AssetStatus, Meter, MeterInstallation, MeteringPoint
from .selectors import VIEW_PERMS
from .services import check_deduction, check_parent, check_registers, checked_reads

#: metering points and meters: the archive import role or the metering staff's own permission
METERING_PERMS = ("customers.import", "metering.edit")

SETTLEMENT_NEEDS_ACCOUNT = gettext_noop("A settlement metering point belongs to an account.")
ACCOUNT_CLOSED = gettext_noop("The account is closed.")
PARENT_CYCLE = gettext_noop("The parent points of this row lead back to it.")
ONLY_WITH_INSTALLATION = gettext_noop("Only with a metering point to install the meter on.")
POINT_TAKEN = gettext_noop("Meter %(meter)s is still installed here; replace it instead.")
POINT_TWICE = gettext_noop("Row %(first)s installs a meter on the same metering point.")
REMOVED_LATER = gettext_noop("The previous meter was removed on %(date)s; install on or after it.")
BEFORE_MANUFACTURE = gettext_noop("The meter cannot be installed before it was made (%(date)s).")

REGISTER_WORDS = {
    "total": ("总", "Total"), "sharp": ("尖", "Sharp"), "peak": ("峰", "Peak"), "flat": ("平", "Flat"),
    "valley": ("谷", "Valley"), "reactive": ("无功", "Reactive"), "demand": ("需量", "Demand"),
    "reverse": ("反向", "Reverse"),
}


class MeteringPointSpec(EntitySpec):
    code = "metering_points"
    label = _("metering points")
    model = MeteringPoint
    key = "code"
    order = 30
    permissions = METERING_PERMS
    description = gettext_noop("Metering points (计量点) of accounts and transformer areas; import accounts and the "
                     "topology first. A parent point may be in the same file.")
    columns = (
        Column("code", "计量点编号", "Metering point number", number(), required=True),
        Column("name", "计量点名称", "Name", c.Text(100), default=""),
        Column("kind", "计量点分类", "Kind", c.Choice({
            MeteringPoint.Kind.SETTLEMENT: ("结算", "结算计量点", "Settlement"),
            MeteringPoint.Kind.ASSESSMENT: ("考核", "考核计量点", "Assessment"),
        }), default=MeteringPoint.Kind.SETTLEMENT),
        Column("account_no", "户号", "Account number", c.Text(32), attr=None, source="account__account_no",
               note=SETTLEMENT_NEEDS_ACCOUNT),
        Column("area_code", "台区编号", "Transformer area code", c.Text(32), attr=None,
               source="transformer_area__code"),
        Column("building_code", "楼栋编号", "Building code", c.Text(32), attr=None, source="building__code"),
        Column("parent_code", "上级计量点编号", "Parent metering point", c.Text(32), attr=None, source="parent__code",
               note=gettext_noop("The point this one is sub-metered under (for 定比/定量).")),
        Column("position", "安装位置", "Position", c.Text(100), default=""),
        Column("voltage_level", "电压等级", "Voltage level", c.Code("voltage_level"), required=True),
        Column("deduction", "扣减方式", "Deduction from parent", c.Choice({
            MeteringPoint.Deduction.NONE: ("无", "None"),
            MeteringPoint.Deduction.FIXED_RATIO: ("定比", "Fixed ratio"),
            MeteringPoint.Deduction.FIXED_QUANTITY: ("定量", "Fixed quantity"),
        }), default=MeteringPoint.Deduction.NONE),
        Column("deduction_value", "定比定量值", "Deduction value", c.Number(12, 4),
               note=gettext_noop("定比: the share of the parent's energy, between 0 and 1; 定量: kWh per month.")),
        Column("deduction_checked_on", "核定日期", "Deduction checked on", c.Date(past_only=True)),
        Column("usage_category", "用电类别", "Usage category", c.Code("usage_category"), default="",
               note=gettext_noop("Only when it differs from the account's, as for sub-metered lighting.")),
        Column("route_order", "抄表顺序", "Order in reading route", c.Integer(0, 999_999_999), default=0),
        *geo_columns(),
        org_column(),
    )
    refs = (
        Ref("account_no", Account, "account_no", CUSTOMER_REF_PERMS, fetch=("status",), attr="account_id"),
        Ref("area_code", TransformerArea, "code", GRID_PERMS, attr="transformer_area_id"),
        Ref("building_code", Building, "code", GRID_PERMS, attr="building_id"),
    )

    def check(self, ctx, rows) -> None:
        in_file = {row.values["code"]: row for row in rows if row.values.get("code")}
        wanted = {r.values["parent_code"] for r in rows if r.values.get("parent_code")} - set(in_file)
        stored = _stored_parents(ctx, wanted)
        for row in rows:
            values, account = row.values, row.refs.get("account_no")
            if values.get("kind") == MeteringPoint.Kind.SETTLEMENT and not values.get("account_no") and row.ok:
                ctx.error(row, "account_no", SETTLEMENT_NEEDS_ACCOUNT)
            if account and account["status"] == AccountStatus.CLOSED:
                ctx.error(row, "account_no", ACCOUNT_CLOSED)
            parent = None
            code = values.get("parent_code")
            if code in in_file:
                parent = _unsaved(in_file[code])
            elif code:
                parent = stored.get(code)
                if parent is None:
                    ctx.error(row, "parent_code", P.NOT_FOUND, value=code)
                    continue
            if code and code in in_file and _cycles(in_file, row):
                ctx.error(row, "parent_code", PARENT_CYCLE)
                continue
            point = _unsaved(row)
            point.parent = parent
            for rule in (check_parent, check_deduction):
                try:
                    rule(point)
                except ValidationFailed as exc:
                    for field, messages in exc.fields.items():
                        ctx.error(row, {"parent": "parent_code"}.get(field, field), str(messages[0]))

    def write(self, ctx, rows, writer) -> None:
        ids = writer.reserve_ids(MeteringPoint, len(rows))
        id_of = {row.values["code"]: pk for pk, row in zip(ids, rows)}
        stored = {code: point.pk for code, point in _stored_parents(
            ctx, {r.values["parent_code"] for r in rows if r.values.get("parent_code")} - set(id_of)).items()}
        names, values = self.base_values(ctx, rows, ids)
        parents = [id_of.get(r.values.get("parent_code")) or stored.get(r.values.get("parent_code")) for r in rows]
        writer.insert(MeteringPoint, [*names, "parent_id"], [(*v, p) for v, p in zip(values, parents)])
        notify_accounts_changed(r.refs["account_no"]["id"] for r in rows if r.refs.get("account_no"))


def _unsaved(row) -> MeteringPoint:
    """The row as an unsaved point for the services' rules; rows of the file get negative ids (row numbers)."""
    account = row.refs.get("account_no")
    return MeteringPoint(pk=-row.no, code=row.values.get("code") or "", account_id=account["id"] if account else None,
                         deduction=row.values.get("deduction") or MeteringPoint.Deduction.NONE,
                         deduction_value=row.values.get("deduction_value"))


def _cycles(in_file: dict, row) -> bool:
    seen = {row.values["code"]}
    code = row.values.get("parent_code")
    while code in in_file:
        if code in seen:
            return True
        seen.add(code)
        code = in_file[code].values.get("parent_code")
    return False


def _stored_parents(ctx, codes) -> dict[str, MeteringPoint]:
    """Parent points already in the archive, of the company and in the user's scope, by code."""
    found = {}
    base = authz.restrict_any(MeteringPoint.objects.filter(company_id=ctx.company_id), ctx.actor,
                              VIEW_PERMS + METERING_PERMS, path_field="org_path")
    for chunk in chunks(sorted(codes)):
        found.update((p.code, p) for p in where_in(base, "code", chunk).only("id", "code", "account_id", "parent_id"))
    return found


def _read_column(register: str) -> Column:
    zh, en = REGISTER_WORDS[register]
    return Column(f"read_{register}", f"装表示数-{zh}", f"Install read {en.lower()}", c.Number(16, 4), attr=None,
                  source=None)


READ_COLUMNS = tuple(f"read_{register}" for register in REGISTERS)
DIGITS = re.compile(r"\d{1,12}")
DIGITS_RULE = gettext_noop("Up to 12 digits.")


class MeterSpec(EntitySpec):
    code = "meters"
    label = _("meters")
    model = Meter
    key = "asset_no"
    order = 40
    permissions = METERING_PERMS
    description = gettext_noop("Meters (电能表) with their registers; with a metering point, date and reads they are "
                     "installed there. Import the metering points first.")
    columns = (
        Column("asset_no", "资产编号", "Asset number", number(), required=True),
        Column("phase", "接线方式", "Wiring", c.Choice({
            Meter.Phase.SINGLE: ("单相", "Single-phase"),
            Meter.Phase.THREE_3W: ("三相三线", "Three-phase three-wire"),
            Meter.Phase.THREE_4W: ("三相四线", "Three-phase four-wire"),
        }), default=Meter.Phase.SINGLE),
        Column("meter_type", "电能表类型", "Meter type", c.Text(40), default="smart"),
        Column("accuracy_class", "准确度等级", "Accuracy class", c.Text(8), default="2"),
        Column("manufacturer", "生产厂家", "Manufacturer", c.Text(60), default=""),
        Column("model_name", "型号", "Model", c.Text(60), default=""),
        Column("rated_current", "额定电流", "Rated current", c.Text(20), default=""),
        Column("rated_voltage", "额定电压", "Rated voltage", c.Text(20), default=""),
        Column("constant", "电能表常数(imp/kWh)", "Meter constant (imp/kWh)", c.Integer(1, 10_000_000)),
        Column("registers", "示数类型", "Registers", c.ChoiceList(REGISTER_WORDS), required=True,
               note=gettext_noop("Include total, e.g. total,peak,flat,valley or 总,峰,平,谷.")),
        Column("digits", "整数位数", "Integer digits", c.Integer(4, 10), default=6),
        Column("decimals", "小数位数", "Decimal places", c.Integer(0, 4), default=2),
        Column("comm_address", "通信地址", "Communication address", c.Text(12, DIGITS, DIGITS_RULE), default=""),
        Column("manufactured_on", "出厂日期", "Manufactured on", c.Date(past_only=True)),
        Column("verified_on", "检定日期", "Last verified on", c.Date(past_only=True)),
        org_column(),
        Column("point_code", "安装计量点编号", "Install on metering point", c.Text(32), attr=None,
               source="installed_point", note=gettext_noop("Empty for a meter in stock.")),
        Column("installed_on", "装表日期", "Installed on", c.Date(past_only=True), attr=None, source="installed_since"),
        *(_read_column(register) for register in REGISTERS),
    )
    refs = (Ref("point_code", MeteringPoint, "code", VIEW_PERMS + METERING_PERMS, fetch=("account_id",)),)

    def check(self, ctx, rows) -> None:
        point_ids = sorted({r.refs["point_code"]["id"] for r in rows if r.refs.get("point_code")})
        taken, removed, closed = _installation_facts(point_ids, {
            r.refs["point_code"]["account_id"] for r in rows if r.refs.get("point_code")} - {None})
        first_row: dict[int, int] = {}
        for row in rows:
            values = row.values
            if values.get("registers") is not None:
                try:
                    values["registers"] = check_registers(values["registers"])
                except ValidationFailed as exc:
                    ctx.error(row, "registers", str(exc.fields["registers"][0]))
            point = row.refs.get("point_code")
            values["status"] = AssetStatus.INSTALLED if values.get("point_code") else AssetStatus.IN_STOCK
            if not values.get("point_code"):
                for key in ("installed_on", *READ_COLUMNS):
                    if ctx.raw_text(row, key):
                        ctx.error(row, key, ONLY_WITH_INSTALLATION)
                continue
            if point is None:
                continue
            on = values.get("installed_on")
            if on is None and not ctx.raw_text(row, "installed_on"):
                ctx.error(row, "installed_on", P.REQUIRED)
            pid = point["id"]
            if pid in first_row:
                ctx.error(row, "point_code", POINT_TWICE, first=first_row[pid])
            first_row.setdefault(pid, row.no)
            if pid in taken:
                ctx.error(row, "point_code", POINT_TAKEN, meter=taken[pid])
            if point["account_id"] in closed:
                ctx.error(row, "point_code", ACCOUNT_CLOSED)
            if on is not None and removed.get(pid) and on < removed[pid]:
                ctx.error(row, "installed_on", REMOVED_LATER, date=removed[pid].isoformat())
            made = values.get("manufactured_on")
            if on is not None and made is not None and on < made:
                ctx.error(row, "installed_on", BEFORE_MANUFACTURE, date=made.isoformat())
            if row.ok:
                meter = Meter(asset_no=values["asset_no"], registers=values["registers"], digits=values["digits"])
                reads = {r: values[f"read_{r}"] for r in REGISTERS if values.get(f"read_{r}") is not None}
                try:
                    values["install_reads"] = checked_reads(meter, reads, "reads")
                except ValidationFailed as exc:
                    ctx.error(row, f"read_{meter.registers[0]}", str(exc.fields["reads"][0]))

    def write(self, ctx, rows, writer) -> None:
        ids = writer.reserve_ids(Meter, len(rows))
        names, values = self.base_values(ctx, rows, ids)
        writer.insert(Meter, [*names, "status"], [(*v, r.values["status"]) for v, r in zip(values, rows)])
        installed = [(pk, row) for pk, row in zip(ids, rows) if row.refs.get("point_code")]
        reference = f"import-batch:{ctx.batch_id}"
        writer.insert(
            MeterInstallation,
            ["id", "metering_point_id", "meter_id", "installed_on", "install_reads", "installed_by_id",
             "work_order_ref"],
            [(iid, row.refs["point_code"]["id"], pk, row.values["installed_on"], row.values["install_reads"],
              ctx.actor.user.pk if ctx.actor.user else None, reference)
             for iid, (pk, row) in zip(writer.reserve_ids(MeterInstallation, len(installed)), installed)],
        )
        notify_accounts_changed(r.refs["point_code"]["account_id"] for _pk, r in installed
                                if r.refs["point_code"]["account_id"])

    def export_queryset(self, queryset):
        current = MeterInstallation.objects.filter(meter=OuterRef("pk"), removed_on__isnull=True)
        return queryset.annotate(installed_point=Subquery(current.values("metering_point__code")[:1]),
                                 installed_since=Subquery(current.values("installed_on")[:1]))


def _installation_facts(point_ids: list[int], account_ids: set[int]):
    """Per point: the meter still installed, the last removal date; and which of the accounts are closed."""
    taken, removed = {}, {}
    for chunk in chunks(point_ids):
        installations = where_in(MeterInstallation.objects.all(), "metering_point", chunk)
        taken.update(installations.filter(removed_on__isnull=True)
                     .values_list("metering_point_id", "meter__asset_no"))
        removed.update(installations.filter(removed_on__isnull=False)
                       .values("metering_point_id").annotate(last=Max("removed_on"))
                       .values_list("metering_point_id", "last"))
    closed = set()
    for chunk in chunks(sorted(account_ids)):
        closed.update(where_in(Account.objects.filter(status=AccountStatus.CLOSED), "id", chunk)
                      .values_list("pk", flat=True))
    return taken, removed, closed


register(MeteringPointSpec())
register(MeterSpec())
