"""API tokens for integrations and scripts: created by their owner, stored only as a hash, revocable."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import audit, authz
from ..context import Actor
from ..errors import NotAuthorized, ValidationFailed
from ..models import ApiToken, AuditCategory

TOKEN_PREFIX = "pcis_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@transaction.atomic
def create_token(actor: Actor, *, name: str, days: int | None = 90) -> tuple[ApiToken, str]:
    """Create a token for the acting user; returns it with the secret, which is shown only this once."""
    grant = authz.require(actor, "core.use_api")
    if not (name or "").strip():
        raise ValidationFailed(fields={"name": [_("Name the token after what will use it.")]})
    if days is not None and not (1 <= days <= 366):
        raise ValidationFailed(fields={"days": [_("A token is valid for 1 to 366 days.")]})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        staff=actor.user, name=name.strip()[:60], prefix=secret[: len(TOKEN_PREFIX) + 6], key_hash=hash_key(secret),
        expires_at=timezone.now() + dt.timedelta(days=days) if days else None,
    )
    audit.record(actor, action="token.create", category=AuditCategory.SECURITY, obj=token, grant=grant,
                 changes={"name": [None, token.name], "expires_at": [None, token.expires_at]})
    return token, secret


@transaction.atomic
def revoke_token(actor: Actor, token: ApiToken) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if actor.user is None or (token.staff_id != actor.user.pk and not authz.authorize(actor, "core.manage_staff", token.staff.org)):
        raise NotAuthorized()
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(actor, action="token.revoke", category=AuditCategory.SECURITY, obj=token)
    return token
