"""Bulk import and export of customers and accounts (the generic engine is ``core.bulkio``).

An account row references its customer by customer number and is written with its
first :class:`~.models.AccountVersion`, valid from the connection date, as
``services.records.open_account`` does for one account — here set-based, two COPYs.
Its billing attributes are checked against the company's code tables and by the same
capacity rule the single-account service applies.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from powercis.core.bulkio import cells as c
from powercis.core.bulkio import problems as P
from powercis.core.bulkio.spec import Column, EntitySpec, Ref, geo_columns, org_column, register
from powercis.core.errors import ValidationFailed
from powercis.core.masking import mask_id_number, mask_phone

from .models import Account, AccountStatus, AccountVersion, CapacityBasis, CertificateType, Customer
from .services.records import NUMBER, PHONE, check_capacities
from .signals import notify_accounts_changed

#: a customer or account referenced from a file must be one the user may see or manage
CUSTOMER_REF_PERMS = ("customers.view", "customers.edit", "customers.import")

NUMBER_RULE = gettext_noop("Use 1 to 32 letters, digits or '-'.")
PHONE_RULE = gettext_noop("Use digits, spaces, '+' and '-' only.")


def number(max_length: int = 32) -> c.Text:
    return c.Text(max_length, NUMBER, NUMBER_RULE)


class CustomerSpec(EntitySpec):
    code = "customers"
    label = _("customers")
    model = Customer
    key = "customer_no"
    order = 10
    description = gettext_noop("The legal parties (客户) that accounts belong to; import them before their accounts.")
    columns = (
        Column("customer_no", "客户编号", "Customer number", number(), required=True),
        Column("name", "客户名称", "Name", c.Text(120), required=True),
        Column("customer_type", "客户分类", "Customer type", c.Code("customer_type"), required=True),
        Column("certificate_type", "证件类型", "Certificate type", c.Choice({
            CertificateType.ID_CARD: ("居民身份证", "身份证", "ID card"),
            CertificateType.USCC: ("统一社会信用代码", "信用代码", "USCC"),
            CertificateType.PASSPORT: ("护照", "Passport"),
            CertificateType.OTHER: ("其他证件", "其他", "Other"),
        }), default=CertificateType.ID_CARD),
        Column("certificate_no", "证件号码", "Certificate number", c.Text(40), default="", mask=mask_id_number,
               note=gettext_noop("Identity card numbers and unified social credit codes are checked by their check character.")),
        Column("mobile", "手机号码", "Mobile", c.Text(20, PHONE, PHONE_RULE), default="", mask=mask_phone),
        Column("phone", "联系电话", "Phone", c.Text(30, PHONE, PHONE_RULE), default="", mask=mask_phone),
        Column("email", "电子邮箱", "Email", c.Email(), default=""),
        Column("address", "通讯地址", "Address", c.Text(200), default=""),
        org_column(),
    )

    def check(self, ctx, rows) -> None:
        for row in rows:
            cert = row.values.get("certificate_no")
            if not cert:
                continue
            kind = row.values.get("certificate_type")
            if kind == CertificateType.ID_CARD and not c.valid_id_number(cert):
                ctx.error(row, "certificate_no", P.BAD_ID_NUMBER)
            elif kind == CertificateType.USCC and not c.valid_uscc(cert):
                ctx.error(row, "certificate_no", P.BAD_USCC)


class AccountSpec(EntitySpec):
    code = "accounts"
    label = _("accounts")
    model = Account
    key = "account_no"
    order = 20
    description = gettext_noop("Billing accounts (用电户) with their billing attributes; each gets its first version, "
                     "valid from the connection date. Their customers must exist.")
    columns = (
        Column("account_no", "户号", "Account number", number(), required=True),
        Column("customer_no", "客户编号", "Customer number", c.Text(32), required=True, attr=None,
               source="customer__customer_no"),
        Column("name", "户名", "Account name", c.Text(120), default="",
               note=gettext_noop("Empty means the customer's name.")),
        Column("service_address", "用电地址", "Service address", c.Text(200), required=True),
        Column("opened_on", "立户日期", "Connected on", c.Date(past_only=True), required=True),
        Column("usage_category", "用电类别", "Usage category", c.Code("usage_category"), required=True),
        Column("voltage_level", "供电电压", "Supply voltage", c.Code("voltage_level"), required=True),
        Column("tariff_code", "电价码", "Tariff code", c.Text(32), default=""),
        Column("contract_capacity", "合同容量(kVA)", "Contract capacity (kVA)", c.Number(10, 1), default=Decimal("0")),
        Column("running_capacity", "运行容量(kVA)", "Running capacity (kVA)", c.Number(10, 1),
               note=gettext_noop("Empty means the contract capacity.")),
        Column("capacity_basis", "基本电费计收方式", "Capacity charge basis", c.Choice({
            CapacityBasis.NONE: ("不计收", "单一制", "None"),
            CapacityBasis.CAPACITY: ("按容量", "容量", "Capacity"),
            CapacityBasis.DEMAND: ("按需量", "需量", "Demand"),
        }), default=CapacityBasis.NONE),
        Column("pf_standard", "功率因数考核标准", "Power-factor standard", c.Code("pf_standard"), default="NONE"),
        Column("metering_mode", "计量方式", "Metering mode", c.Code("metering_mode"), default="LL"),
        Column("industry_class", "行业分类", "Industry class", c.Code("industry_class"), default=""),
        Column("importance_level", "重要用户等级", "Importance level", c.Code("importance_level"), default="NONE"),
        Column("is_key_account", "重点客户", "Key account", c.Boolean(), default=False),
        Column("payment_method", "缴费方式", "Payment method", c.Code("payment_method"), default="COUNTER"),
        Column("reading_route_code", "抄表段", "Reading route", c.Text(32), default=""),
        *geo_columns(),
        org_column(),
    )
    refs = (Ref("customer_no", Customer, "customer_no", CUSTOMER_REF_PERMS, fetch=("name",), attr="customer_id"),)

    def check(self, ctx, rows) -> None:
        for row in rows:
            values = row.values
            if row.refs.get("customer_no") and not values.get("name"):
                values["name"] = row.refs["customer_no"]["name"]
            if values.get("running_capacity") is None:
                values["running_capacity"] = values.get("contract_capacity")
            if None in (values.get("contract_capacity"), values.get("running_capacity"), values.get("capacity_basis")):
                continue
            try:  # the single-account rule (services.records.open_account applies it too)
                check_capacities({k: values[k] for k in ("contract_capacity", "running_capacity", "capacity_basis")})
            except ValidationFailed as exc:
                for field, messages in exc.fields.items():
                    ctx.error(row, field, str(messages[0]))

    def write(self, ctx, rows, writer) -> None:
        ids = writer.reserve_ids(Account, len(rows))
        names, values = self.base_values(ctx, rows, ids)
        writer.insert(Account, names, values)
        version_fields = ["customer_id", "name", "usage_category", "voltage_level", "tariff_code",
                          "contract_capacity", "running_capacity", "capacity_basis", "pf_standard", "metering_mode"]
        at = {name: names.index(name) for name in version_fields}
        opened = names.index("opened_on")
        writer.insert(
            AccountVersion,
            ["id", "account_id", "valid_from", "status", *version_fields],
            [(vid, aid, account[opened], AccountStatus.NORMAL, *(account[at[f]] for f in version_fields))
             for vid, aid, account in zip(writer.reserve_ids(AccountVersion, len(rows)), ids, values)],
        )
        notify_accounts_changed(ids)


register(CustomerSpec())
register(AccountSpec())
