"""API authentication: ``Authorization: Token <key>`` (hashed tokens) and the browser session."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .. import authz
from ..models import ApiToken
from ..services.tokens import hash_key


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed token header: use “Token <key>”."))
        try:
            key = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(_("Malformed token header: use “Token <key>”.")) from exc
        token = ApiToken.objects.select_related("staff", "staff__org").filter(key_hash=hash_key(key)).first()
        now = timezone.now()
        if token is None or not token.is_usable(now):
            raise exceptions.AuthenticationFailed(_("The token is unknown, expired or revoked."))
        if not token.staff.is_active:
            raise exceptions.AuthenticationFailed(_("The account is deactivated."))
        if token.staff.is_locked(now):
            raise exceptions.AuthenticationFailed(_("The account is locked."))
        if not authz.authorize(token.staff, "core.use_api"):
            # Tokens stop working as soon as the owner no longer holds a post with the permission.
            raise exceptions.AuthenticationFailed(
                _("You do not have the permission “%(perm)s”.") % {"perm": authz.permission_label("core.use_api")}
            )
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.staff, token

    def authenticate_header(self, request):
        return self.keyword


class SessionAuthentication(authentication.SessionAuthentication):
    """The browser session, with CSRF enforced for unsafe methods."""


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "powercis.core.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "Token authentication: `Authorization: Token pcis_…`"}


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "powercis.core.api.authentication.SessionAuthentication"
    name = "sessionAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME,
                "description": "The web session; unsafe methods also need the CSRF token header."}
