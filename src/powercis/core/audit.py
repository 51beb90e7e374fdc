"""Writing and verifying the hash-chained audit trail.

Services call :func:`record_create`, :func:`record_update`, :func:`record_delete` or
:func:`record_action` inside their transaction, so a change and its audit record
commit together or not at all.  Appending locks the single chain-head row; the lock
is held until the surrounding transaction ends, which keeps the chain linear.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterable

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .context import Actor
from .models import AuditCategory, AuditChainHead, AuditRecord, Org

GENESIS_HASH = "0" * 64

#: the fields covered by the hash, in a fixed order (the order does not matter for
#: the canonical JSON, which sorts keys, but the set does)
HASHED_FIELDS = (
    "seq",
    "at",
    "category",
    "action",
    "actor_id",
    "actor_name",
    "post_code",
    "acting_org_id",
    "company_id",
    "org_path",
    "source_ip",
    "channel",
    "request_id",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "reason",
    "ref",
    "prev_hash",
)


def _json_default(value: Any):
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value, key=str)
    return str(value)


def to_json(value: Any) -> Any:
    """Normalise a value to plain JSON types, exactly as it will read back from the database."""
    return json.loads(json.dumps(value, default=_json_default, ensure_ascii=False))


def _at_text(at: dt.datetime) -> str:
    return at.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def compute_hash(content: dict) -> str:
    """SHA-256 of the canonical JSON of a record's hashed fields."""
    payload = {name: content.get(name) for name in HASHED_FIELDS}
    payload["at"] = _at_text(payload["at"]) if isinstance(payload["at"], dt.datetime) else payload["at"]
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def object_label(obj: models.Model) -> str:
    return f"{obj._meta.app_label}.{obj._meta.model_name}"


def snapshot(obj: models.Model) -> dict:
    """The audited fields of a model instance as JSON values (``audit_fields()`` names them)."""
    names = obj.audit_fields() if hasattr(obj, "audit_fields") else [f.attname for f in obj._meta.concrete_fields]
    return to_json({name: getattr(obj, name) for name in names})


def diff(before: dict, after: dict) -> dict:
    """Field-level changes: ``{field: [before, after]}`` for every field whose value differs."""
    keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


def _org_of(obj: models.Model | None) -> Org | None:
    if obj is None:
        return None
    if isinstance(obj, Org):
        return obj
    org = getattr(obj, "org", None)
    return org if isinstance(org, Org) else None


def record(
    actor: Actor,
    *,
    action: str,
    category: str = AuditCategory.ACTION,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    org: Org | None = None,
    changes: dict | None = None,
    reason: str = "",
    ref: str = "",
    grant=None,
) -> AuditRecord:
    """Append one record to the chain and evaluate the alert rules on it."""
    from .alerts import evaluate  # the alert rules read audit records; imported late to keep this module low

    org = org or _org_of(obj)
    if org is None and grant is not None:
        org = Org.objects.filter(pk=grant.org_id).first()
    if org is None and actor.user is not None:
        org = actor.user.org
    user = actor.user
    fields = {
        "at": timezone.now(),
        "category": str(category),
        "action": action,
        "actor_id": user.pk if user else None,
        "actor_name": (f"{user.full_name} ({user.username})" if user else "system")[:140],
        "post_code": grant.post_code if grant else "",
        "acting_org_id": grant.org_id if grant else (user.org_id if user else None),
        "company_id": (org.company_id or org.pk) if org else None,
        "org_path": org.path if org else "",
        "source_ip": actor.ip or "",
        "channel": actor.channel or "",
        "request_id": actor.request_id or "",
        "object_type": object_type or (object_label(obj) if obj is not None else ""),
        "object_id": object_id or (str(obj.pk) if obj is not None and obj.pk is not None else ""),
        "object_repr": (object_repr or (str(obj) if obj is not None else ""))[:200],
        "changes": to_json(changes or {}),
        "reason": (reason or "")[:500],
        "ref": ref or "",
    }
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().get(pk=1)
        fields["seq"] = head.last_seq + 1
        fields["prev_hash"] = head.last_hash
        entry = AuditRecord(**fields)
        entry.hash = compute_hash(fields)
        entry.save(force_insert=True)
        AuditChainHead.objects.filter(pk=1).update(last_seq=entry.seq, last_hash=entry.hash)
        evaluate(entry)
    return entry


def record_create(actor: Actor, obj: models.Model, *, extra: dict | None = None, **kwargs) -> AuditRecord:
    """Audit a new object: every audited field as [None, value], plus ``extra`` facts (e.g. its permissions)."""
    after = {**snapshot(obj), **to_json(extra or {})}
    return record(
        actor, action="create", category=AuditCategory.CHANGE, obj=obj,
        changes={k: [None, v] for k, v in after.items()}, **kwargs,
    )


def record_update(actor: Actor, obj: models.Model, before: dict, **kwargs) -> AuditRecord | None:
    """Audit an update; returns None (and writes nothing) when no audited field changed."""
    changes = diff(before, snapshot(obj))
    if not changes:
        return None
    return record(actor, action="update", category=AuditCategory.CHANGE, obj=obj, changes=changes, **kwargs)


def record_delete(actor: Actor, obj: models.Model, before: dict, **kwargs) -> AuditRecord:
    return record(
        actor, action="delete", category=AuditCategory.CHANGE, obj=obj,
        changes={k: [v, None] for k, v in before.items()}, **kwargs,
    )


# ---------------------------------------------------------------------------
# verification


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    last_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str = ""


def _rows(chunk_size: int) -> Iterable[dict]:
    return (
        AuditRecord.objects.order_by("seq")
        .values(*HASHED_FIELDS, "hash")
        .iterator(chunk_size=chunk_size)
    )


def verify(chunk_size: int = 5000) -> VerifyResult:
    """Walk the whole chain in order and report the first record that fails.

    Detects an altered record (its hash no longer matches its content), a removed
    record (a gap in ``seq`` or a broken link) and a truncated tail (the chain head
    remembers more than the table holds).
    """
    expected_seq = 1
    prev_hash = GENESIS_HASH
    checked = 0
    for row in _rows(chunk_size):
        seq = row["seq"]
        if seq != expected_seq:
            return VerifyResult(False, checked, seq, prev_hash, expected_seq,
                                _("records #%(first)s..#%(last)s are missing (removed from the trail)")
                                % {"first": expected_seq, "last": seq - 1})
        if row["prev_hash"] != prev_hash:
            return VerifyResult(False, checked, seq, prev_hash, seq,
                                _("record #%(seq)s does not link to record #%(prev)s (a record was removed or replaced)")
                                % {"seq": seq, "prev": seq - 1})
        if compute_hash(row) != row["hash"]:
            return VerifyResult(False, checked, seq, prev_hash, seq,
                                _("record #%(seq)s was altered: its content no longer matches its hash") % {"seq": seq})
        prev_hash = row["hash"]
        expected_seq += 1
        checked += 1
    head = AuditChainHead.objects.get(pk=1)
    if head.last_seq != checked or head.last_hash != prev_hash:
        return VerifyResult(False, checked, checked, prev_hash, checked + 1,
                            _("the chain head records %(head)s records but the trail holds %(held)s (records were removed from the end)")
                            % {"head": head.last_seq, "held": checked})
    return VerifyResult(True, checked, checked, prev_hash)
