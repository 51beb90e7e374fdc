"""A small archive for the search tests: accounts in three counties, meters, phones and contacts.

Accounts are opened through the customer services, and the index is filled the way it
is in production: by the ``accounts_changed`` signal those services send when their
transaction commits (executed here with ``django_capture_on_commit_callbacks``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from powercis.core.models import Org
from powercis.customers.models import Account
from powercis.metering.models import Meter, MeteringPoint, MeterInstallation
from powercis.search import indexing
from tests import archive_factory as make


@dataclass
class Archive:
    accounts: dict[str, Account]

    def __getitem__(self, key: str) -> Account:
        return self.accounts[key]


def install_meter(account: Account, asset_no: str) -> Meter:
    """A meter on a new metering point of the account (models directly: the metering services are not under test)."""
    org = Org.objects.get(pk=account.org_id)
    point = MeteringPoint.objects.create(org=org, code=f"MP-{asset_no}", account=account, voltage_level="AC220V")
    meter = Meter.objects.create(org=org, asset_no=asset_no, status="installed")
    MeterInstallation.objects.create(metering_point=point, meter=meter, installed_on=dt.date(2024, 1, 2))
    indexing.refresh([account.pk])
    return meter


#: key → (org, account number, account name, service address, mobile, landline)
ACCOUNTS = {
    "zhangwei": ("HZ010101", "3100000001", "张伟", "临江县城关镇幸福路12号", "13812345678", ""),
    "zhangweiming": ("HZ010101", "3100000002", "张伟明", "临江县城关镇人民路8号", "13900001111", "0716-5552222"),
    "factory": ("HZ010102", "3100000103", "临江宏达机械有限公司", "临江县河口镇工业路1号", "", ""),
    "qingshan": ("HZ010201", "3200000001", "张伟", "青山区幸福路3号", "13812345678", ""),
    "baisha": ("HZ020101", "3300000001", "张伟", "白沙县白沙镇幸福路5号", "13812345678", ""),
}


@pytest.fixture
def archive(db, django_capture_on_commit_callbacks) -> Archive:
    accounts = {}
    with django_capture_on_commit_callbacks(execute=True):
        for key, (org_code, number, name, address, mobile, phone) in ACCOUNTS.items():
            owner = make.customer(org_code, name=name, mobile=mobile, phone=phone)
            accounts[key] = make.account(org_code, owner=owner, account_no=number, service_address=address)
    install_meter(accounts["zhangwei"], "3330001000000000012345")
    install_meter(accounts["qingshan"], "3330001000000000099999")
    return Archive(accounts)
