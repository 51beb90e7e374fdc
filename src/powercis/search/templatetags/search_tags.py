"""The top-bar search box and the highlighting of matched terms in results."""

from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .. import selectors

register = template.Library()


@register.inclusion_tag("search/_topbar.html", takes_context=True)
def search_box(context) -> dict:
    """The box, for users who may search; it keeps the query on the results page."""
    request = context.get("request")
    user = getattr(request, "user", None)
    show = user is not None and user.is_authenticated and selectors.searchable(user)
    q = request.GET.get("q", "") if show and request.resolver_match and request.resolver_match.namespace == "search" else ""
    return {"show": show, "q": q}


def _spans(folded: str, terms) -> list[tuple[int, int]]:
    """Merged (start, end) ranges of every occurrence of every term."""
    found = []
    for term in terms:
        start = folded.find(term)
        while start >= 0 and term:
            found.append((start, start + len(term)))
            start = folded.find(term, start + 1)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


@register.filter
def highlight(value, terms) -> SafeString:
    """The value, escaped, with each occurrence of a (normalised, lower-case) term wrapped in <mark>."""
    value = "" if value is None else str(value)
    folded = value.lower()
    if not terms or len(folded) != len(value):
        return escape(value)
    out, position = [], 0
    for start, end in _spans(folded, terms):
        out.append(escape(value[position:start]))
        out.append(f"<mark>{escape(value[start:end])}</mark>")
        position = end
    out.append(escape(value[position:]))
    return mark_safe("".join(out))
