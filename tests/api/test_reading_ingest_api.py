"""Read deliveries through the API: JSON rows or a file, idempotent by delivery key (body or Idempotency-Key
header), quarantined rows listed page by page, deliveries scoped like everything else."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from powercis.core.models import AuditRecord
from powercis.reading.models import QuarantinedRead, ReadBatch, RegisterRead
from tests.api.test_reading_api import BASE, EN, error_fields, ids, make_outsider
from tests.reading import factory

FROZEN = "2026-10-25T00:00:00+08:00"


@pytest.fixture
def outsider(org, system_actor) -> str:
    return make_outsider(org, system_actor)


@pytest.fixture
def meter(db):
    _account, point, meter = factory.metered_account("HZ010101", installed_on=dt.date(2026, 1, 5))
    return point, meter


def delivery(org, meter, **extra) -> dict:
    return {"org": org("HZ010101").pk, "source": "ami", "sender": "HES-1", "reads": [
        {"meter": meter.asset_no, "register": "total", "read_at": FROZEN, "value": "1234.56"},
        {"meter": meter.asset_no, "register": "peak", "read_at": FROZEN, "value": "400.10"},
        {"meter": "NO-SUCH-METER", "register": "total", "read_at": FROZEN, "value": "1"},
    ], **extra}


def test_a_head_end_delivery_is_stored_and_its_rejects_quarantined(api, org, meter):
    point, m = meter
    client = api("metering")
    response = client.post(f"{BASE}/ingest/", delivery(org, m, delivery_key="HES-1/2026-10-25"))
    assert response.status_code == 201, response.content
    body = response.json()
    batch = body["batch"]
    assert body["replayed"] is False
    assert (batch["source"], batch["sender"], batch["delivery_key"], batch["org"]["code"], batch["file_format"],
            batch["received_by"]["username"]) == ("ami", "HES-1", "HES-1/2026-10-25", "HZ010101", "json", "metering")
    assert (batch["rows_total"], batch["rows_accepted"], batch["rows_duplicate"], batch["rows_quarantined"]) == (
        3, 2, 0, 1)
    stored = RegisterRead.objects.filter(batch_id=batch["id"])
    assert [({k: str(v) for k, v in r.registers().items()}, r.source, r.metering_point_id) for r in stored] == [
        ({"total": "1234.5600", "peak": "400.1000"}, "ami", point.pk)]
    assert AuditRecord.objects.filter(object_type="reading.readbatch", object_id=str(batch["id"])).exists()

    quarantined = client.get(f"{BASE}/batches/{batch['id']}/quarantined/", **EN)
    assert quarantined.status_code == 200
    assert quarantined.json()["count"] == 1
    row = quarantined.json()["results"][0]
    assert (row["row_no"], row["meter_ref"], row["register"], row["value_text"], row["reason_code"]) == (
        3, "NO-SUCH-METER", "total", "1", "unknown_meter")
    assert row["reason"]
    listed = client.get(f"{BASE}/batches/", {"source": "ami", "sender": "HES-1"})
    assert ids(listed) == {batch["id"]}
    assert client.get(f"{BASE}/batches/{batch['id']}/").json()["rows_accepted"] == 2
    assert ids(client.get(f"{BASE}/reads/", {"batch": batch["id"]})) == set(stored.values_list("pk", flat=True))


def test_a_replayed_delivery_key_writes_nothing_and_answers_with_the_first(api, org, meter):
    _point, m = meter
    client = api("metering")
    first = client.post(f"{BASE}/ingest/", delivery(org, m, delivery_key="K-1")).json()["batch"]
    changed = delivery(org, m, delivery_key="K-1")
    changed["reads"][0]["value"] = "9999.99"
    replay = client.post(f"{BASE}/ingest/", changed)
    assert replay.status_code == 200, replay.content
    assert replay.json()["replayed"] is True and replay.json()["batch"] == first
    assert ReadBatch.objects.count() == 1 and RegisterRead.objects.count() == 1
    assert RegisterRead.objects.get().total == Decimal("1234.56")

    # the key as a header; the same rows under a new key are duplicates, counted and not stored again
    header = client.post(f"{BASE}/ingest/", delivery(org, m), HTTP_IDEMPOTENCY_KEY="K-2")
    assert header.status_code == 201
    again = header.json()["batch"]
    assert (again["delivery_key"], again["rows_accepted"], again["rows_duplicate"]) == ("K-2", 0, 2)
    assert client.post(f"{BASE}/ingest/", delivery(org, m), HTTP_IDEMPOTENCY_KEY="K-2").json() == {
        "replayed": True, "batch": again}
    clash = client.post(f"{BASE}/ingest/", delivery(org, m, delivery_key="K-3"), HTTP_IDEMPOTENCY_KEY="K-4", **EN)
    assert error_fields(clash) == {"delivery_key": ["The delivery key differs from the Idempotency-Key header."]}
    assert ReadBatch.objects.count() == 2 and RegisterRead.objects.count() == 1


def test_a_reading_sheet_uploaded_as_a_file(api, org, meter):
    point, m = meter
    sheet = (f"表号,抄表时间,总,峰\n{m.asset_no},2026-10-25 09:30,1500.5,500.25\n{m.asset_no},2026-10-25 09:30,x,\n"
             ).encode("utf-8")
    upload = SimpleUploadedFile("城关-2026-10.csv", sheet, content_type="text/csv")
    response = api("reader").post(f"{BASE}/ingest/", {"file": upload, "org": org("HZ010101").pk, "source": "import",
                                                      "delivery_key": "sheet-1"}, format="multipart")
    assert response.status_code == 201, response.content
    batch = response.json()["batch"]
    assert (batch["file_name"], batch["file_format"], batch["rows_accepted"], batch["rows_quarantined"]) == (
        "城关-2026-10.csv", "csv", 2, 1)
    assert {k: str(v) for k, v in RegisterRead.objects.get(batch_id=batch["id"]).registers().items()} == {
        "total": "1500.5000", "peak": "500.2500"}
    assert QuarantinedRead.objects.get(batch_id=batch["id"]).reason_code == "bad_value"
    again = api("reader").post(f"{BASE}/ingest/", {
        "file": SimpleUploadedFile("again.csv", sheet), "org": org("HZ010101").pk, "source": "import",
        "delivery_key": "sheet-1"}, format="multipart")
    assert again.status_code == 200 and again.json()["batch"]["id"] == batch["id"]


@pytest.mark.parametrize(("change", "field"), [
    ({"source": "remote"}, "source"),
    ({"reads": []}, "reads"),
    ({"org": None}, "org"),
    ({"delivery_key": "k" * 101}, "delivery_key"),
    ({"reads": [{"meter": "M", "register": "total", "read_at": FROZEN, "value": 12.3}]}, "reads.0.value"),
    ({"reads": [{"meter": "M", "register": "total", "read_at": FROZEN}]}, "reads.0.value"),
    ({"colour": "blue"}, "colour"),
])
def test_refused_deliveries_name_the_field_and_write_nothing(api, org, meter, change, field):
    _point, m = meter
    response = api("metering").post(f"{BASE}/ingest/", {**delivery(org, m), **change}, **EN)
    assert list(error_fields(response)) == [field]
    if field == "reads.0.value" and "value" in change["reads"][0]:
        assert error_fields(response)[field] == ['Send the reading as a decimal string, e.g. "12.30".']
    if field == "reads":
        assert error_fields(response)[field] == ["Send at least one read."]
    assert not ReadBatch.objects.exists()


def test_a_file_that_cannot_be_read_is_refused_whole(api, org, meter):
    upload = SimpleUploadedFile("nonsense.csv", b"a;b\n1;2\n")
    response = api("reader").post(f"{BASE}/ingest/", {"file": upload, "org": org("HZ010101").pk,
                                                      "source": "import"}, format="multipart", **EN)
    assert response.status_code == 400
    assert response.json()["code"] == "file_refused" and "no column for" in response.json()["message"]
    bad_format = api("reader").post(f"{BASE}/ingest/", {"file": SimpleUploadedFile("x.csv", b"x"), "format": "pdf",
                                                        "org": org("HZ010101").pk, "source": "import"},
                                    format="multipart")
    assert list(error_fields(bad_format)) == ["format"]
    assert not ReadBatch.objects.exists()


def test_deliveries_need_the_permission_of_their_source_and_stay_in_scope(api, org, meter, outsider):
    _point, m = meter
    refused = api("reader").post(f"{BASE}/ingest/", delivery(org, m), **EN)  # a head-end's reads: reading.collect
    assert refused.status_code == 403
    assert refused.json()["message"] == "You do not have the permission “Manage remote collection”."
    assert api("clerk").post(f"{BASE}/ingest/", delivery(org, m), **EN).status_code == 403
    elsewhere = api("metering").post(f"{BASE}/ingest/", {**delivery(org, m), "org": org("HZ010201").pk}, **EN)
    assert list(error_fields(elsewhere)) == ["org"]
    batch = api("metering").post(f"{BASE}/ingest/", delivery(org, m)).json()["batch"]
    assert api(outsider).get(f"{BASE}/batches/{batch['id']}/").status_code == 404
    assert api(outsider).get(f"{BASE}/batches/{batch['id']}/quarantined/").status_code == 404
    assert batch["id"] not in ids(api(outsider).get(f"{BASE}/batches/"))
    assert ids(api("reader").get(f"{BASE}/batches/")) == {batch["id"]}  # delivered to 城关, the reader's org


def test_a_task_of_a_remote_route_stands_on_the_head_ends_reads(api, org):
    from powercis.reading.models import ReadingTask
    from powercis.reading.services import plans
    from tests import archive_factory as make

    route = factory.route("HZ010101", code="R-AMI", method="remote", read_day=25)
    _account, point, m = factory.metered_account("HZ010101", route="R-AMI", installed_on=dt.date(2026, 1, 5))
    body = delivery(org, m)
    body["reads"] = body["reads"][:2] + [
        {"meter": m.asset_no, "register": "total", "read_at": "2026-10-20T00:00:00+08:00", "value": "1200"}]
    assert api("metering").post(f"{BASE}/ingest/", body).status_code == 201
    plans.generate(make.system(), org=org("HZ0101"), period=dt.date(2026, 10, 1))
    task = ReadingTask.objects.get(plan__route=route)
    listed = api("clerk").get(f"{BASE}/tasks/", {"plan": task.plan_id}).json()["results"]
    # the latest reading within three days before the read day: the 25th's frozen values, not the 20th's
    assert [(r["registers"], r["source"], r["read_at"]) for r in listed[0]["reads"]] == [
        ({"total": "1234.5600", "peak": "400.1000"}, "ami", "2026-10-25T00:00:00+08:00")]
    assert api("clerk").get(f"{BASE}/tasks/{task.pk}/").json()["reads"] == listed[0]["reads"]
    assert listed[0]["metering_point"]["id"] == point.pk


def test_reads_flagged_on_arrival_are_found_by_their_check(api, org, meter):
    _point, m = meter
    rows = [{"meter": m.asset_no, "register": register, "read_at": FROZEN, "value": value}
            for register, value in (("total", "100"), ("peak", "10"), ("flat", "10"), ("valley", "10"))]
    batch = api("metering").post(f"{BASE}/ingest/", {"org": org("HZ010101").pk, "source": "ami",
                                                     "reads": rows}).json()["batch"]
    assert batch["rows_flagged"] == 1
    flagged = api("clerk").get(f"{BASE}/reads/", {"flags": "tou_sum"}).json()["results"]
    assert [(r["registers"], r["flags"]) for r in flagged] == [
        ({"total": "100.0000", "peak": "10.0000", "flat": "10.0000", "valley": "10.0000"}, ["tou_sum"])]
    assert api("clerk").get(f"{BASE}/reads/", {"flags": "tou"}).json()["count"] == 0  # a whole code, not a part
