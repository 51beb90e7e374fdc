"""Generate the synthetic utility into a company: one transaction, one audit record, then the search index.

``generate`` is idempotent per company: the first run records a :class:`GenerationRun`;
a later run for the same company finds it and writes nothing, whatever its parameters
(the rows of a company are generated once; to get another size or seed, generate into
a fresh database).  This matches ``powercis demo``, which reuses the demo company.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from powercis.core import audit, authz
from powercis.core.context import Actor
from powercis.core.errors import ValidationFailed
from powercis.core.models import AuditCategory, Org, OrgLevel

from .models import GenerationRun, LoadProfile
from .plan import build_plan
from .profiles import shipped_profiles
from .spec import Spec, county_of, station_of
from .writer import OrgRef, WriteReport, write_plan

log = logging.getLogger(__name__)

MAX_ACCOUNTS = 20_000_000
#: from this many rows the PostgreSQL writer drops and recreates indexes and constraints (measured, see
#: docs/performance.md "Synthetic utility generation")
BULK_MODE_ROWS = 200_000
PERMISSIONS = ("customers.import", "grid.edit", "metering.edit")


@dataclass
class GenerationResult:
    created: bool
    run: GenerationRun | None
    report: WriteReport | None = None
    #: phase → seconds: "build", "write", "search index"…
    seconds: dict[str, float] = field(default_factory=dict)
    search_rows: int | None = None


def company_spec(company: Org, *, accounts: int, seed: int, as_of: dt.date) -> Spec:
    """The generation spec for ``company``: its supply stations, with their counties and prefectures, by code."""
    orgs = {o.pk: o for o in Org.objects.filter(company_id=company.pk)}
    stations = sorted((o for o in orgs.values() if o.level == OrgLevel.STATION and o.is_active), key=lambda o: o.code)
    if not stations:
        raise ValidationFailed(_("The company %(company)s has no supply stations to place accounts in.")
                               % {"company": company.name})
    counties = sorted({orgs.get(s.parent_id, s).pk: orgs.get(s.parent_id, s) for s in stations}.values(),
                      key=lambda o: o.code)
    cities = sorted({c.parent_id for c in counties if c.parent_id}, key=lambda pk: orgs[pk].code if pk in orgs else "")
    county_specs = {
        c.pk: county_of(c.code, c.name, i, cities.index(c.parent_id) if c.parent_id in cities else 0)
        for i, c in enumerate(counties)
    }
    return Spec(
        accounts=accounts, seed=seed, as_of=as_of, company_code=company.code,
        stations=tuple(station_of(s.code, s.name, county_specs[orgs.get(s.parent_id, s).pk], i)
                       for i, s in enumerate(stations)),
    )


def ensure_profiles() -> tuple[list[dict], dict[str, int]]:
    """The shipped load profiles, written to the profile table once; returns them and their ids by code."""
    profiles = shipped_profiles()
    existing = dict(LoadProfile.objects.values_list("code", "pk"))
    new = [LoadProfile(code=p["code"], source=p["source"], source_customer=p["source_customer"], days=p["days"],
                       monthly_kwh=p["monthly_kwh"], mean_monthly_kwh=Decimal(p["mean_monthly_kwh"]),
                       daytime_share=Decimal(p["daytime_share"]), shapes=p["shapes"])
           for p in profiles if p["code"] not in existing]
    if new:
        LoadProfile.objects.bulk_create(new)
        existing = dict(LoadProfile.objects.values_list("code", "pk"))
    return profiles, existing


def _org_refs(company: Org) -> dict[str, OrgRef]:
    return {o.code: OrgRef(o.pk, o.path, o.company_id or o.pk) for o in Org.objects.filter(company_id=company.pk)}


def generate(actor: Actor, *, company: Org, accounts: int, seed: int = 1, as_of: dt.date | None = None,
             bulk: bool | None = None, rebuild_search: bool = True) -> GenerationResult:
    """Generate ``accounts`` accounts (with grid, metering and loads) into ``company``, or find an earlier run.

    ``bulk`` forces the PostgreSQL bulk mode on or off; by default it is on from
    ``BULK_MODE_ROWS`` rows.  The search index is rebuilt after the data commit.
    """
    if not actor.is_system:
        for perm in PERMISSIONS:
            authz.require(actor, perm, company)
    if not 0 <= accounts <= MAX_ACCOUNTS:
        raise ValidationFailed(fields={"accounts": [
            _("Enter a number of accounts from 0 to %(max)s.") % {"max": f"{MAX_ACCOUNTS:,}"}]})
    if not 0 <= seed < 2**63:
        raise ValidationFailed(fields={"seed": [_("Enter a seed from 0 to 2^63 - 1.")]})
    as_of = as_of or timezone.localdate()
    started = time.perf_counter()
    result = _generate(actor, company, accounts, seed, as_of, bulk)
    if result.created:
        # what the transaction's end cost: deferred constraint checks (outside bulk mode) and the commit itself
        result.seconds["commit"] = time.perf_counter() - started - sum(result.seconds.values())
    if result.created and rebuild_search:
        started = time.perf_counter()
        result.search_rows = rebuild_search_index(company)
        result.seconds["search index"] = time.perf_counter() - started
    return result


@transaction.atomic
def _generate(actor: Actor, company: Org, accounts: int, seed: int, as_of: dt.date, bulk: bool | None):
    existing = GenerationRun.objects.select_for_update().filter(company=company).first()
    if existing is not None or accounts == 0:
        return GenerationResult(created=False, run=existing)
    started = time.perf_counter()
    spec = company_spec(company, accounts=accounts, seed=seed, as_of=as_of)
    profiles, profile_ids = ensure_profiles()
    plan = build_plan(spec, profiles)
    digest = plan.digest()
    built = time.perf_counter()
    rows = sum(plan.counts().values())
    report = write_plan(plan, orgs=_org_refs(company), profiles=profile_ids,
                        bulk=rows >= BULK_MODE_ROWS if bulk is None else bulk)
    written = time.perf_counter()
    run = GenerationRun.objects.create(
        company=company, accounts=accounts, seed=seed, as_of=as_of, counts=report.rows, digest=digest,
        seconds=Decimal(f"{written - started:.2f}"))
    audit.record(actor, action="generate", category=AuditCategory.ACTION, obj=run, org=company,
                 object_repr=f"{company.code}: {accounts} accounts, seed {seed}",
                 changes={"accounts": accounts, "seed": seed, "as_of": as_of, "digest": digest, "rows": report.rows},
                 reason=_("Synthetic utility generated for demonstration and benchmarks"))
    return GenerationResult(created=True, run=run, report=report,
                            seconds={"build": built - started, "write": written - built})


def rebuild_search_index(company: Org) -> int | None:
    """Rebuild the archive search index for the generated company (one set-based rebuild, nothing per row).

    When the company is the only one, the whole index is rebuilt, which lets the search
    app drop and recreate its indexes around the load.  Returns the rows written, or
    None when the rebuild failed (logged; ``powercis search rebuild`` repeats it).
    """
    from powercis.search.indexing import rebuild

    only_company = not Org.objects.filter(parent__isnull=True).exclude(pk=company.pk).exists()
    try:
        return rebuild(None if only_company else company.pk).rows
    except Exception:
        log.exception("search index rebuild after generation failed")
        if connection.in_atomic_block:
            raise
        return None
