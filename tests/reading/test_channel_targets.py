"""Taking meters off a collection channel: the service (all or none, idempotent, audited, scoped) and the page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from powercis.core.errors import NotAuthorized, ValidationFailed
from powercis.core.models import AuditRecord, Org
from powercis.reading.models import CollectionTarget
from powercis.reading.services import collection
from tests import archive_factory as make

from . import factory
from .test_pages import _english, login  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(actor):
    """Channel CH-T of 城关 (HZ0101) with three metering points behind it; returns (channel, [codes])."""
    points = [factory.metered_account("HZ010101")[1] for _ in range(3)]
    ch = collection.create_channel(actor("metering"), org=Org.objects.get(code="HZ0101"), code="CH-T",
                                   name="城关集中器", host="127.0.0.1", port=9)
    collection.add_targets(actor("metering"), ch, metering_point_codes=[p.code for p in points])
    return ch, sorted(p.code for p in points)


def on_channel(ch) -> list[str]:
    return sorted(CollectionTarget.objects.filter(channel=ch).values_list("metering_point__code", flat=True))


def removals(ch) -> list[dict]:
    return [r.changes for r in AuditRecord.objects.filter(action="reading.channel.targets", object_id=str(ch.pk))
            .order_by("seq") if "removed" in r.changes]


def test_removing_takes_the_points_off_and_audits_what_was_removed(actor, channel):
    ch, codes = channel
    result = collection.remove_targets(actor("metering"), ch, metering_point_codes=[codes[0], f" {codes[2]} "])
    assert (result.removed, result.not_on_channel) == (sorted([codes[0], codes[2]]), [])
    assert result.message == f"Removed from the channel: {', '.join(sorted([codes[0], codes[2]]))}."
    assert on_channel(ch) == [codes[1]]
    assert removals(ch) == [{"removed": sorted([codes[0], codes[2]])}]
    record = AuditRecord.objects.filter(action="reading.channel.targets", object_id=str(ch.pk)).latest("seq")
    assert record.actor_name and record.channel == "web"


def test_removing_again_changes_nothing_and_says_so(actor, channel):
    ch, codes = channel
    collection.remove_targets(actor("metering"), ch, metering_point_codes=[codes[0]])
    again = collection.remove_targets(actor("metering"), ch, metering_point_codes=[codes[0]])
    assert (again.removed, again.not_on_channel) == ([], [codes[0]])
    assert again.message == f"Not on the channel, nothing to remove: {codes[0]}."
    assert on_channel(ch) == codes[1:]
    assert len(removals(ch)) == 1  # the repeat wrote no audit record
    mixed = collection.remove_targets(actor("metering"), ch, metering_point_codes=[codes[0], codes[1]])
    assert (mixed.removed, mixed.not_on_channel) == ([codes[1]], [codes[0]])
    assert on_channel(ch) == [codes[2]]


def test_an_unknown_number_removes_nothing_and_is_named(actor, channel):
    ch, codes = channel
    with pytest.raises(ValidationFailed) as bad:
        collection.remove_targets(actor("metering"), ch, metering_point_codes=[codes[0], "NO-SUCH-POINT"])
    assert bad.value.fields == {"metering_point_codes": ["No metering point with the number NO-SUCH-POINT."]}
    with pytest.raises(ValidationFailed) as empty:
        collection.remove_targets(actor("metering"), ch, metering_point_codes=["  ", ""])
    assert empty.value.fields == {"metering_point_codes": ["Name at least one metering point to remove."]}
    assert on_channel(ch) == codes and removals(ch) == []


def test_only_collection_staff_of_the_channels_org_may_remove(actor, channel):
    ch, codes = channel
    with pytest.raises(NotAuthorized):
        collection.remove_targets(actor("clerk"), ch, metering_point_codes=[codes[0]])  # views, does not collect
    qingshan = collection.create_channel(make.system(), org=Org.objects.get(code="HZ0102"), code="CH-QS",
                                         name="青山集中器", host="127.0.0.1", port=9)
    point = factory.metered_account("HZ010201")[1]
    collection.add_targets(make.system(), qingshan, metering_point_codes=[point.code])
    with pytest.raises(NotAuthorized):  # 周强 collects in 城关 (HZ0101), not in 青山
        collection.remove_targets(actor("metering"), qingshan, metering_point_codes=[point.code])
    assert on_channel(ch) == codes and on_channel(qingshan) == [point.code]


# --------------------------------------------------------------------------------------------------------- the page


def test_the_channel_page_removes_the_ticked_meters_after_confirmation(login, channel):
    ch, codes = channel
    client = login("metering")
    page = client.get(reverse("reading:channel_detail", args=[ch.pk])).content.decode()
    assert 'id="targets-remove"' in page and 'data-confirm="Take the selected meters off this channel?' in page
    assert all(f'name="codes" value="{code}"' in page for code in codes)
    url = reverse("reading:channel_targets_remove", args=[ch.pk])
    done = client.post(url, {"codes": [codes[0], codes[1]]}, follow=True).content.decode()
    assert f"Removed from the channel: {codes[0]}, {codes[1]}." in done
    assert on_channel(ch) == [codes[2]] and f'data-target="{codes[0]}"' not in done
    again = client.post(url, {"codes": [codes[0]]}, follow=True).content.decode()
    assert f"Not on the channel, nothing to remove: {codes[0]}." in again and on_channel(ch) == [codes[2]]
    nothing = client.post(url, {}, follow=True).content.decode()
    assert "Tick at least one meter to remove." in nothing and on_channel(ch) == [codes[2]]
    unknown = client.post(url, {"codes": [codes[2], "NO-SUCH"]}, follow=True).content.decode()
    assert "No metering point with the number NO-SUCH." in unknown and on_channel(ch) == [codes[2]]


def test_viewers_get_no_remove_form_and_are_refused(login, channel):
    ch, codes = channel
    viewer = login("clerk")
    page = viewer.get(reverse("reading:channel_detail", args=[ch.pk])).content.decode()
    assert codes[0] in page and 'id="targets-remove"' not in page and 'name="codes"' not in page
    assert viewer.post(reverse("reading:channel_targets_remove", args=[ch.pk]), {"codes": [codes[0]]}).status_code \
        == 403
    assert on_channel(ch) == codes
