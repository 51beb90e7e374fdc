"""Shared steps of core services: model validation into typed errors and audited field updates."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from .. import audit
from ..context import Actor
from ..errors import ValidationFailed


def validated(obj: models.Model, exclude: list[str] | None = None) -> None:
    """Run the model's own validation and turn Django's error into :class:`ValidationFailed`."""
    try:
        obj.full_clean(exclude=exclude, validate_unique=True)
    except ValidationError as exc:
        fields = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
        raise ValidationFailed(fields=fields) from exc


def apply_changes(
    actor: Actor,
    obj: models.Model,
    changes: dict,
    *,
    allowed: set[str],
    grant=None,
    reason: str = "",
    ref: str = "",
    exclude_validation: list[str] | None = None,
):
    """Set ``changes`` on ``obj``, validate, save and audit the field-level difference.

    Refuses unknown or read-only fields by name so that an API client learns which one.
    """
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationFailed(fields={name: [_("This field cannot be changed here.")] for name in unknown})
    before = audit.snapshot(obj)
    for name, value in changes.items():
        setattr(obj, name, value)
    validated(obj, exclude=exclude_validation)
    obj.save()
    return audit.record_update(actor, obj, before, grant=grant, reason=reason, ref=ref)
