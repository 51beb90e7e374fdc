"""Fixtures: a small synthetic utility generated into the demo company of the test database."""

from __future__ import annotations

import datetime as dt

import pytest

from powercis.core.context import Actor

AS_OF = dt.date(2026, 11, 27)
ACCOUNTS = 300


@pytest.fixture
def demo_company(org):
    return org("HZ")


@pytest.fixture
def generated(db, demo_company):
    """``generated()`` → the result of generating ``ACCOUNTS`` accounts (seed 7) into the demo company.

    The search index is left alone unless asked for (``rebuild_search=True``): only the
    test of that integration depends on the search app.
    """
    from powercis.synthetic.services import generate

    def run(accounts: int = ACCOUNTS, seed: int = 7, rebuild_search: bool = False, **kwargs):
        return generate(Actor.as_system("test"), company=demo_company, accounts=accounts, seed=seed, as_of=AS_OF,
                        rebuild_search=rebuild_search, **kwargs)

    return run
