"""The user's own API tokens: create (the secret is shown once), list, revoke."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ..forms import TokenForm
from ..models import ApiToken
from ..services import tokens as token_services
from .common import actor, requires, run, scoped_get


@never_cache
@requires("core.use_api")
def token_list(request):
    form = TokenForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        result = run(request, form, token_services.create_token, actor(request), name=form.cleaned_data["name"],
                     days=form.cleaned_data["days"])
        if result is not None:
            _token, secret = result
            form = TokenForm()
    tokens = ApiToken.objects.filter(staff=request.user).order_by("-created_at")
    return render(request, "core/token_list.html", {"form": form, "tokens": tokens, "secret": secret})


@require_POST
@requires("core.use_api")
def token_revoke(request, pk):
    token = scoped_get(ApiToken.objects.filter(staff=request.user), pk=pk)
    if run(request, None, token_services.revoke_token, actor(request), token) is not None:
        messages.success(request, _("The token was revoked."))
    return redirect("core:token_list")
