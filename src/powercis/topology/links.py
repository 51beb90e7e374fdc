"""Links from topology pages, worklists and map popups to record pages (the account's 360 page among them)."""

from __future__ import annotations

from functools import cache

from django.urls import reverse

_MARK = 987654321


@cache
def _pattern(url_name: str) -> str:
    # Reversed once per name: a map answer links thousands of records, and reverse() per row would dominate it.
    return reverse(url_name, args=[_MARK]).replace(str(_MARK), "{}")


def url_for(url_name: str, pk: int) -> str:
    """The URL of a page that takes one record id."""
    return _pattern(url_name).format(pk)


def account_url(account_id: int) -> str:
    """The account's 360 page (``customers:account_detail``)."""
    return url_for("customers:account_detail", account_id)
