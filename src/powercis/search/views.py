"""The search results page and the live results under the top-bar box; both call ``selectors.search``."""

from __future__ import annotations

from django.shortcuts import render

from powercis.core.views.common import requires

from . import selectors

#: results in the top bar's live list; the page shows up to ``selectors.search``'s default
SUGGESTIONS = 8


@requires(*selectors.SEARCH_PERMS)
def results(request):
    q = request.GET.get("q", "")
    return render(request, "search/results.html", {"q": q, "result": selectors.search(request.user, q)})


@requires(*selectors.SEARCH_PERMS)
def suggest(request):
    """The top bar's live list (an htmx fragment): the best few results, or nothing for a query too short."""
    q = request.GET.get("q", "")
    result = selectors.search(request.user, q, limit=SUGGESTIONS)
    return render(request, "search/_suggest.html", {"q": q, "result": result})
