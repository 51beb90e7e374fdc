"""Fixtures of the import tests: the demo company, an account manager of 临江县 (HZ0101 and below)."""

from __future__ import annotations

import pytest
from django.utils import translation

from . import make


@pytest.fixture
def custmgr(actor):
    return actor("custmgr")


@pytest.fixture
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def customers_in_db(custmgr):
    """C100 (HZ010101), C101 (HZ0101), C102 (HZ010102), committed through the import."""
    from powercis.core.bulkio import services

    batch = make.upload(custmgr, "customers", make.customers_file())
    assert batch.status == "validated", make.reasons(batch)
    return services.commit(custmgr, batch)


@pytest.fixture
def table_counts():
    """Row counts of every table an import may write, to show that a refused file wrote nothing."""
    from powercis.core.models import AuditRecord
    from powercis.customers.models import Account, AccountVersion, Customer
    from powercis.grid.models import Building, Community, Feeder, Substation, Transformer, TransformerArea
    from powercis.metering.models import Meter, MeterInstallation, MeteringPoint

    models = (Customer, Account, AccountVersion, MeteringPoint, Meter, MeterInstallation, Substation, Feeder,
              TransformerArea, Transformer, Community, Building, AuditRecord)

    def counts() -> dict[str, int]:
        return {m._meta.label_lower: m.objects.count() for m in models}

    return counts
