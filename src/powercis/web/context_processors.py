"""Template context for the shell: the user's menu, posts and the language switch."""

from __future__ import annotations

from django.conf import settings

from powercis import __version__
from powercis.core import nav


def shell(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"powercis_version": __version__, "languages": settings.LANGUAGES}
    return {
        "powercis_version": __version__,
        "languages": settings.LANGUAGES,
        "menu": nav.menu_for(user),
        "current_path": request.path,
    }
