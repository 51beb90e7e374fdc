"""Remote collection: maintain channels and their targets, run a channel, run the channels that are due.

A run reads every target's meter over the channel with the asyncio collector, outside
any database transaction (a bus of a hundred meters at 2400 bps takes minutes), and then
stores what came back in one delivery through the ingest engine — the same checks and
the same idempotency as a head-end file — keyed by the run, so a retried store writes
nothing twice.  Meters that did not answer are listed with the reason in the run's
failures: that list is the collection troubleshooting worklist (采集运维), and the
collection success rate counts from the reads that did arrive.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import polars as pl
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from powercis.core import audit, authz
from powercis.core.context import Actor
from powercis.core.errors import InvalidTransition, ValidationFailed
from powercis.core.models import Org
from powercis.core.services.base import apply_changes, validated
from powercis.metering.models import MeterInstallation, MeteringPoint

from ..collection import dlt645, transport
from ..models import CollectionChannel, CollectionRun, CollectionTarget, Source
from ..models.collection import DEFAULT_DIS

CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
EDITABLE = {"name", "host", "port", "timeout_seconds", "retries", "data_ids", "run_at", "is_active"}


def clean_data_ids(data_ids) -> list[str]:
    """DIs as 8 hex digits that the codec knows, so a channel never asks its meters for something unreadable."""
    result = []
    for di in data_ids or DEFAULT_DIS:
        try:
            normal = dlt645.normalize_di(str(di))
        except dlt645.Dlt645Error as exc:
            raise ValidationFailed(fields={"data_ids": [str(exc)]}) from exc
        if dlt645.lookup(normal) is None:
            raise ValidationFailed(fields={"data_ids": [
                _("The data identifier %(di)s is not supported.") % {"di": normal}]})
        result.append(normal)
    return list(dict.fromkeys(result))


@transaction.atomic
def create_channel(actor: Actor, *, org: Org, code: str, name: str, host: str, port: int, data_ids=None,
                   **fields) -> CollectionChannel:
    grant = authz.require(actor, "reading.collect", org)
    code = (code or "").strip()
    if not CODE.match(code):
        raise ValidationFailed(fields={"code": [_("Use up to 32 letters, digits, hyphens or underscores.")]})
    company_id = org.company_id or org.pk
    if CollectionChannel.objects.filter(company_id=company_id, code=code).exists():
        raise ValidationFailed(fields={"code": [_("The channel code %(code)s is already in use.") % {"code": code}]})
    unknown = sorted(set(fields) - EDITABLE)
    if unknown:
        raise ValidationFailed(fields={k: [_("This field cannot be changed here.")] for k in unknown})
    channel = CollectionChannel(org=org, code=code, name=name, host=host, port=port,
                                data_ids=clean_data_ids(data_ids), **fields)
    channel.org_path = org.path
    channel.company_id = company_id
    validated(channel)
    channel.save()
    audit.record_create(actor, channel, grant=grant)
    return channel


@transaction.atomic
def update_channel(actor: Actor, channel: CollectionChannel, *, reason: str = "", **changes) -> CollectionChannel:
    grant = authz.require(actor, "reading.collect", channel.org)
    if "data_ids" in changes:
        changes["data_ids"] = clean_data_ids(changes["data_ids"])
    apply_changes(actor, channel, changes, allowed=EDITABLE, grant=grant, reason=reason)
    return channel


@transaction.atomic
def add_targets(actor: Actor, channel: CollectionChannel, *, metering_point_codes: list[str]) -> int:
    """Put metering points behind the channel by number; unknown numbers are named, nothing is added then."""
    grant = authz.require(actor, "reading.collect", channel.org)
    codes = [c.strip() for c in metering_point_codes if c and c.strip()]
    points = {p.code: p for p in MeteringPoint.objects.filter(company_id=channel.company_id, code__in=codes)}
    missing = [c for c in codes if c not in points]
    if missing:
        raise ValidationFailed(fields={"metering_point_codes": [
            _("No metering point with the number %(codes)s.") % {"codes": ", ".join(missing[:10])}]})
    outside = [c for c, p in points.items() if not p.org_path.startswith(channel.org_path)]
    if outside:
        raise ValidationFailed(fields={"metering_point_codes": [
            _("%(codes)s lie outside the channel's org.") % {"codes": ", ".join(outside[:10])}]})
    existing = set(channel.targets.values_list("metering_point_id", flat=True))
    new = [CollectionTarget(channel=channel, metering_point=p) for p in points.values() if p.pk not in existing]
    CollectionTarget.objects.bulk_create(new)
    audit.record(actor, action="reading.channel.targets", obj=channel, grant=grant,
                 changes={"added": sorted(p.metering_point.code for p in new)})
    return len(new)


@dataclass(frozen=True)
class TargetsRemoved:
    """What a removal did: the points taken off the channel, and those named that were not on it."""

    removed: list[str] = field(default_factory=list)
    not_on_channel: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        """The outcome in the user's language, so a repeated removal says that it changed nothing."""
        parts = []
        if self.removed:
            parts.append(_("Removed from the channel: %(codes)s.") % {"codes": ", ".join(self.removed)})
        if self.not_on_channel:
            parts.append(_("Not on the channel, nothing to remove: %(codes)s.")
                         % {"codes": ", ".join(self.not_on_channel)})
        return " ".join(parts)


@transaction.atomic
def remove_targets(actor: Actor, channel: CollectionChannel, *, metering_point_codes: list[str]) -> TargetsRemoved:
    """Take metering points off the channel by number, so its runs stop reading them.

    Repeating a removal is harmless: a point that is not on the channel changes nothing and
    is named as such, and when nothing was on the channel nothing is written, not even an
    audit record.  A number that is no metering point of the company is a typing error:
    nothing is removed then, so a half-applied list never has to be reconstructed.
    The reads the channel already collected stay; only future runs change.
    """
    grant = authz.require(actor, "reading.collect", channel.org)
    codes = list(dict.fromkeys(c.strip() for c in metering_point_codes or [] if c and c.strip()))
    if not codes:
        raise ValidationFailed(fields={"metering_point_codes": [_("Name at least one metering point to remove.")]})
    points = dict(MeteringPoint.objects.filter(company_id=channel.company_id, code__in=codes)
                  .values_list("code", "pk"))
    missing = [c for c in codes if c not in points]
    if missing:
        raise ValidationFailed(fields={"metering_point_codes": [
            _("No metering point with the number %(codes)s.") % {"codes": ", ".join(missing[:10])}]})
    on_channel = set(CollectionTarget.objects.select_for_update()
                     .filter(channel=channel, metering_point_id__in=points.values())
                     .values_list("metering_point_id", flat=True))
    result = TargetsRemoved(removed=sorted(c for c in codes if points[c] in on_channel),
                            not_on_channel=[c for c in codes if points[c] not in on_channel])
    if result.removed:
        CollectionTarget.objects.filter(channel=channel, metering_point_id__in=on_channel).delete()
        audit.record(actor, action="reading.channel.targets", obj=channel, grant=grant,
                     changes={"removed": result.removed})
    return result


def meter_address(meter) -> str | None:
    """The meter's DL/T 645 address: its communication address, else an asset number of 12 digits."""
    for candidate in (meter.comm_address, meter.asset_no):
        if candidate and len(candidate) == 12 and candidate.isdigit():
            return candidate
    return None


def _targets(channel: CollectionChannel) -> tuple[list[transport.Target], dict, list[dict]]:
    """The meters to read: address → meter, and the targets that cannot be read (no meter, no address)."""
    point_ids = list(channel.targets.values_list("metering_point_id", flat=True))
    installed = {i.metering_point_id: i.meter for i in
                 MeterInstallation.objects.filter(metering_point_id__in=point_ids, removed_on__isnull=True)
                 .select_related("meter", "metering_point")}
    codes = dict(MeteringPoint.objects.filter(pk__in=point_ids).values_list("pk", "code"))
    targets, assets, problems = [], {}, []
    dis = tuple(channel.data_ids or DEFAULT_DIS)
    for point_id in point_ids:
        meter = installed.get(point_id)
        if meter is None:
            problems.append({"metering_point": codes.get(point_id, ""), "reason": str(_("No meter installed."))})
            continue
        address = meter_address(meter)
        if address is None:
            problems.append({"metering_point": codes.get(point_id, ""), "meter": meter.asset_no,
                             "reason": str(_("The meter has no 12-digit communication address."))})
            continue
        assets[address] = meter
        targets.append(transport.Target(channel.host, channel.port, address, dis))
    return targets, assets, problems


def run_channel(actor: Actor, channel: CollectionChannel, *, now: dt.datetime | None = None) -> CollectionRun:
    """Read every target of the channel now and store the values as remote reads."""
    from ..ingest.engine import ingest_frame

    grant = authz.require(actor, "reading.collect", channel.org)
    if not channel.is_active:
        raise InvalidTransition(_("The channel %(code)s is not active.") % {"code": channel.code})
    started = now or timezone.now()
    targets, assets, problems = _targets(channel)
    results = transport.run_sync(transport.collect(targets, timeout=float(channel.timeout_seconds),
                                            retries=channel.retries)) if targets else []
    read_at = started.replace(second=0, microsecond=0)
    # a block read answers every tariff; keep the registers this meter is recorded with
    rows = [{"meter": assets[r.address].asset_no, "register": reading.register, "read_at": read_at.isoformat(),
             "value": str(reading.value)}
            for r in results for reading in r.readings if reading.register in (assets[r.address].registers or [])]
    failures = problems + [{"address": r.address, "meter": assets[r.address].asset_no if r.address in assets else "",
                            "errors": [{"di": di, "reason": reason} for di, reason in r.errors]}
                           for r in results if not r.ok]
    with transaction.atomic():
        run = CollectionRun.objects.create(channel=channel, started_at=started, targets=len(targets) + len(problems),
                                           succeeded=sum(1 for r in results if r.ok),
                                           failed=len(problems) + sum(1 for r in results if not r.ok),
                                           failures=failures, triggered_by=actor.user)
        if rows:
            frame = pl.DataFrame(rows, schema={"meter": pl.Utf8, "register": pl.Utf8, "read_at": pl.Utf8,
                                               "value": pl.Utf8})
            frame = frame.with_row_index("row_no", offset=1)
            result = ingest_frame(actor, org=channel.org, source=Source.REMOTE, frame=frame,
                                  delivery_key=f"run:{run.pk}", sender=channel.code, now=started)
            run.batch = result.batch
        run.finished_at = timezone.now()
        run.save(update_fields=["batch", "finished_at"])
        CollectionChannel.objects.filter(pk=channel.pk).update(last_run_at=started)
        audit.record(actor, action="reading.collect", obj=channel, grant=grant,
                     changes={"run": run.pk, "targets": run.targets, "succeeded": run.succeeded,
                              "failed": run.failed})
    return run


def due_channels(now: dt.datetime | None = None) -> list[CollectionChannel]:
    """Active channels whose daily run time has passed since their last run (the scheduler's question)."""
    now = timezone.localtime(now or timezone.now())
    channels = {c.code: c for c in CollectionChannel.objects.filter(is_active=True).exclude(run_at=None)
                .select_related("org")}
    entries = [transport.ScheduleEntry(name=c.code, at=c.run_at, host=c.host, port=c.port, dis=tuple(c.data_ids))
               for c in channels.values()]
    last_runs = {c.code: c.last_run_at for c in channels.values() if c.last_run_at is not None}
    return [channels[entry.name] for entry in transport.due_entries(entries, now, last_runs)]
