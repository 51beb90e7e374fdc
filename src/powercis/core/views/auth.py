"""Login, logout, password change and the user's own account page."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from .. import authz, ratelimit
from ..forms import LoginForm, PasswordChangeForm
from ..middleware import IdleTimeoutMiddleware
from ..models import Permission, PostAssignment
from ..services import staff as staff_services
from .common import actor, run

LOGIN_ATTEMPTS_PER_ADDRESS = 30  # per 5 minutes; the per-account lockout is the main defence


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return settings.LOGIN_REDIRECT_URL


@never_cache
def login_view(request):
    if request.user.is_authenticated:
        return redirect(_next_url(request))
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        who = actor(request)
        if not ratelimit.hit(f"login:{who.ip}", LOGIN_ATTEMPTS_PER_ADDRESS, 300):
            form.add_error(None, _("Too many login attempts from your address. Wait five minutes and try again."))
        else:
            staff = run(request, form, staff_services.attempt_login, who, form.cleaned_data["username"],
                        form.cleaned_data["password"])
            if staff is not None:
                auth_login(request, staff, backend="powercis.core.auth.StaffBackend")
                request.session[IdleTimeoutMiddleware.SESSION_KEY] = int(time.time())
                return redirect(_next_url(request))
    return render(request, "core/login.html", {"form": form, "next": request.GET.get("next", "")})


@require_POST
def logout_view(request):
    if request.user.is_authenticated:
        staff_services.record_logout(actor(request))
    auth_logout(request)
    messages.info(request, _("You have logged out."))
    return redirect("core:login")


@never_cache
@login_required
def password_change(request):
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        staff = run(request, form, staff_services.change_own_password, actor(request),
                    old_password=form.cleaned_data["old_password"], new_password=form.cleaned_data["new_password"])
        if staff is not None:
            update_session_auth_hash(request, staff)
            messages.success(request, _("Your password was changed."))
            return redirect("web:dashboard")
    from django.contrib.auth.password_validation import password_validators_help_texts

    return render(request, "core/password_change.html", {
        "form": form, "forced": request.user.must_change_password,
        "policy": password_validators_help_texts(),
    })


@login_required
def profile(request):
    assignments = PostAssignment.objects.filter(staff=request.user).select_related("post", "org").order_by("post__code")
    held = Permission.objects.filter(code__in=authz.held_permissions(request.user)).order_by("code")
    return render(request, "core/profile.html", {
        "assignments": assignments, "held": held, "can_use_api": authz.authorize(request.user, "core.use_api"),
    })
