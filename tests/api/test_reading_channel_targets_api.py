"""POST /api/v1/reading/channels/{id}/remove-targets/: all or none, a repeat changes nothing, scoped, in the schema."""

from __future__ import annotations

import pytest

from powercis.core.models import AuditRecord, Org
from powercis.reading.models import CollectionTarget
from powercis.reading.services import collection
from tests import archive_factory as make
from tests.reading import factory

BASE = "/api/v1/reading"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def channel(db):
    """Channel CH-API of 城关 (HZ0101) with two metering points; returns (channel, [codes])."""
    codes = sorted(factory.metered_account("HZ010101")[1].code for _ in range(2))
    ch = collection.create_channel(make.system(), org=Org.objects.get(code="HZ0101"), code="CH-API", name="集中器",
                                   host="127.0.0.1", port=9)
    collection.add_targets(make.system(), ch, metering_point_codes=codes)
    return ch, codes


def remove(client, ch, codes, **extra):
    return client.post(f"{BASE}/channels/{ch.pk}/remove-targets/", {"metering_point_codes": codes}, **extra)


def test_removing_answers_what_was_removed_and_a_repeat_changes_nothing(api, channel):
    ch, codes = channel
    client = api("metering")
    first = remove(client, ch, [codes[0]], **EN)
    assert first.status_code == 200, first.content
    body = first.json()
    assert (body["removed"], body["not_on_channel"], body["detail"]) == (
        [codes[0]], [], f"Removed from the channel: {codes[0]}.")
    assert ([p["code"] for p in body["channel"]["targets"]], body["channel"]["target_count"]) == ([codes[1]], 1)
    again = remove(client, ch, [codes[0]], **EN).json()
    assert (again["removed"], again["not_on_channel"], again["detail"]) == (
        [], [codes[0]], f"Not on the channel, nothing to remove: {codes[0]}.")
    assert AuditRecord.objects.filter(action="reading.channel.targets", object_id=str(ch.pk), channel="api",
                                      changes={"removed": [codes[0]]}).count() == 1


def test_bad_input_is_refused_whole_in_the_error_format(api, channel):
    ch, codes = channel
    client = api("metering")
    unknown = remove(client, ch, [codes[1], "MP-NOPE"], **EN)
    assert unknown.status_code == 400
    assert unknown.json()["fields"] == {"metering_point_codes": ["No metering point with the number MP-NOPE."]}
    empty = remove(client, ch, [], **EN)
    assert empty.status_code == 400 and list(empty.json()["fields"]) == ["metering_point_codes"]
    extra = client.post(f"{BASE}/channels/{ch.pk}/remove-targets/", {"metering_point_codes": [codes[0]], "x": 1})
    assert extra.status_code == 400 and list(extra.json()["fields"]) == ["x"]
    assert sorted(CollectionTarget.objects.filter(channel=ch).values_list("metering_point__code", flat=True)) == codes


def test_who_may_remove(api, channel):
    ch, codes = channel
    refused = remove(api("clerk"), ch, [codes[0]])  # views channels, does not collect
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert remove(api("reader"), ch, [codes[0]]).status_code == 403
    assert CollectionTarget.objects.filter(channel=ch).count() == 2


def test_the_schema_describes_the_removal(anonymous):
    schema = anonymous.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/reading/channels/{id}/remove-targets/"]["post"]
    request = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    response = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    components = schema["components"]["schemas"]
    assert components[request]["required"] == ["metering_point_codes"]
    assert set(components[response]["properties"]) == {"removed", "not_on_channel", "detail", "channel"}
