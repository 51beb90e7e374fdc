"""Property-based run of the meter reading API from its OpenAPI schema, as a user who holds every reading
permission over 临江县: no input, valid or not, may cause a 5xx or an answer the schema does not document.

Most generated ids are pointed at records that exist (routes, plans, tasks, reads, deliveries,
exceptions, channels, runs; orgs and staff in bodies), so that writes get past the lookup
and reach the services; each call runs in a savepoint that is rolled back.
"""

from __future__ import annotations

import datetime as dt

import pytest

from powercis.core.models import DataScope
from powercis.core.services import posts as post_services
from powercis.metering import services as metering
from powercis.reading.models import CollectionRun, ReadBatch, ReadException, ReadingPlan, RegisterRead
from powercis.reading.services import collection, entry, plans
from tests import archive_factory as make
from tests.api.test_customers_api import FUZZ_SETTINGS, archive_schema
from tests.reading import factory

READING_PERMISSIONS = ["reading.view", "reading.enter", "reading.review", "reading.manage_routes", "reading.collect",
                       "reading.configure", "reading.release_override", "core.use_api"]
#: body fields that refer to another record by id → the collection of their ids
REFERENCES = {"org": "orgs", "reader": "staff"}


@pytest.fixture
def reading_ids(actor, staff, org, system_actor) -> dict[str, list[int]]:
    """A route of 城关 with two metered accounts, its plan of 2026-10 read and validated, a channel and a run."""
    post = post_services.create_post(actor("admin"), org("HZ"), code="reading_api", label_zh="抄表接口",
                                     permissions=READING_PERMISSIONS)
    post_services.bootstrap_grant(system_actor, staff=staff("clerk"), post=post, org=org("HZ0101"),
                                  scope=DataScope.SUBTREE)
    system = make.system()
    route = factory.route("HZ010101", code="R-FUZZ", reader=staff("reader"))
    for n in (1, 2):
        factory.metered_account("HZ010101", route="R-FUZZ", order=n)
    plans.generate(system, org=org("HZ0101"), period=dt.date(2026, 10, 1))
    plan = ReadingPlan.objects.get(route=route)
    first = plan.tasks.order_by("seq").first()
    entry.record_reads(actor("reader"), first, values={"total": "10", "peak": "3", "flat": "4", "valley": "3"},
                       read_at=dt.datetime(2026, 10, 25, 1, tzinfo=dt.UTC))
    plans.validate(system, [plan])
    bare = metering.create_point(system, org=org("HZ010101"), code="MP-FUZZ-BARE", kind="assessment",
                                 voltage_level="AC220V")
    channel = collection.create_channel(system, org=org("HZ010101"), code="CH-FUZZ", name="串口", host="127.0.0.1",
                                        port=9, timeout_seconds="0.1", retries=0)
    collection.add_targets(system, channel, metering_point_codes=[bare.code])
    collection.run_channel(system, channel)
    return {
        "routes": [route.pk], "plans": [plan.pk], "tasks": list(plan.tasks.values_list("pk", flat=True)),
        "reads": list(RegisterRead.objects.values_list("pk", flat=True)),
        "batches": list(ReadBatch.objects.values_list("pk", flat=True)),
        "exceptions": list(ReadException.objects.values_list("pk", flat=True)),
        "channels": [channel.pk], "runs": list(CollectionRun.objects.values_list("pk", flat=True)),
        "orgs": [org(code).pk for code in ("HZ0101", "HZ010101", "HZ010102")],
        "staff": [staff("reader").pk, staff("clerk").pk],
    }


@pytest.fixture
def reading_token(actor, reading_ids) -> str:
    """The clerk's token; the connection stays open across calls, as with Django's test client."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from powercis.core.services import tokens as token_services

    _token, secret = token_services.create_token(actor("clerk"), name="reading fuzz")
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield secret
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@archive_schema("reading").parametrize()
@FUZZ_SETTINGS
def test_no_input_to_the_reading_api_causes_a_server_error(case, reading_token, reading_ids):
    from django.db import transaction

    from tests.api.test_schemathesis import BASE_URL, CHECKS, _existing

    collection_name = case.operation.path.split("/")[4]  # /api/v1/reading/<collection>/...
    for name, value in (case.path_parameters or {}).items():
        case.path_parameters[name] = _existing(value, reading_ids.get(collection_name, []))
    if isinstance(case.body, dict):
        for field, target in REFERENCES.items():
            if field in case.body:
                case.body[field] = _existing(case.body[field], reading_ids[target])
        if isinstance(case.body.get("ids"), list):
            case.body["ids"] = [_existing(v, reading_ids["exceptions"]) for v in case.body["ids"]]
    with transaction.atomic():
        response = case.call(base_url=BASE_URL, headers={"Authorization": f"Token {reading_token}"})
        transaction.set_rollback(True)
    case.validate_response(response, checks=CHECKS)
