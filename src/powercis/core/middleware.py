"""Request middleware: language choice, request ids and access log, idle timeout, forced password change."""

from __future__ import annotations

import logging
import re
import time
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import get_supported_language_variant, parse_accept_lang_header

from .context import Actor

access_log = logging.getLogger("powercis.access")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,40}$")


def _supported(code: str | None) -> str | None:
    if not code:
        return None
    try:
        return get_supported_language_variant(code)
    except LookupError:
        return None


def _from_accept_language(header: str) -> str | None:
    for code, _q in parse_accept_lang_header(header or ""):
        found = _supported(code) if code != "*" else None
        if found:
            return found
    return None


def is_api(request) -> bool:
    return request.path.startswith("/api/")


class LanguageMiddleware:
    """Chinese first: pages use the chosen language (cookie) or zh-hans; never the browser's guess.

    API clients get messages in the language of their Accept-Language header.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_api(request):
            lang = (
                _from_accept_language(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
                or _supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
                or settings.LANGUAGE_CODE
            )
        else:
            lang = _supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)) or settings.LANGUAGE_CODE
        translation.activate(lang)
        request.LANGUAGE_CODE = lang
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", lang)
        patch_vary_headers(response, ("Accept-Language", "Cookie") if is_api(request) else ("Cookie",))
        return response


class RequestContextMiddleware:
    """Give every request an id (kept from X-Request-ID when sane) and write one access log line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
        started = time.monotonic()
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        if request.path not in ("/healthz", "/readyz") and not request.path.startswith(settings.STATIC_URL):
            user = getattr(request, "user", None)
            access_log.info(
                "%s %s %s", request.method, request.path, response.status_code,
                extra={
                    "request_id": request.request_id,
                    "user": user.username if user is not None and user.is_authenticated else "",
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
        return response


class IdleTimeoutMiddleware:
    """Log a session out after ``POWERCIS_SESSION_IDLE_MINUTES`` without a request (default 30).

    The last-seen time is written back at most once a minute so that browsing does
    not write the session on every request.
    """

    SESSION_KEY = "powercis_last_seen"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            last = request.session.get(self.SESSION_KEY)
            idle_limit = settings.POWERCIS_SESSION_IDLE_MINUTES * 60
            if last is not None and now - int(last) > idle_limit:
                from .services.staff import record_logout

                record_logout(Actor.from_request(request), reason="idle timeout")
                logout(request)
                return self._expired(request)
            if last is None or now - int(last) >= 60:
                request.session[self.SESSION_KEY] = now
        return self.get_response(request)

    def _expired(self, request):
        message = _("Your session ended after %(minutes)s minutes without activity. Please log in again.") % {
            "minutes": settings.POWERCIS_SESSION_IDLE_MINUTES
        }
        if is_api(request) or request.headers.get("HX-Request"):
            return JsonResponse({"code": "session_expired", "message": message, "fields": {}}, status=401)
        messages.warning(request, message)
        target = request.get_full_path()
        query = urlencode({"next": target}) if url_has_allowed_host_and_scheme(target, None) else ""
        return redirect(f"{reverse('core:login')}?{query}" if query else reverse("core:login"))


class PasswordChangeRequiredMiddleware:
    """Until a new account (or one an administrator reset) changes its password, nothing else opens."""

    ALLOWED_NAMES = ("core:password_change", "core:logout", "web:set_language")

    def __init__(self, get_response):
        self.get_response = get_response
        self._allowed_paths: set[str] | None = None

    def allowed(self, path: str) -> bool:
        if self._allowed_paths is None:
            self._allowed_paths = {reverse(name) for name in self.ALLOWED_NAMES}
        return path in self._allowed_paths or path.startswith(settings.STATIC_URL) or path in ("/healthz", "/readyz")

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and user.must_change_password
                and not self.allowed(request.path)):
            message = _("You must change your password before you continue.")
            if is_api(request):
                return JsonResponse({"code": "password_change_required", "message": message, "fields": {}}, status=403)
            messages.info(request, message)
            return redirect("core:password_change")
        return self.get_response(request)
