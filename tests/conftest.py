"""Shared fixtures.

The demo company (``powercis.core.demo``) is loaded once per test database, right after
migrations, so every test starts from the same org tree and one login per standard
post; each test runs in a transaction that is rolled back.
"""

from __future__ import annotations

import pytest

from powercis.core.context import Actor


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from powercis.core.demo import load_demo

    with django_db_blocker.unblock():
        load_demo()


@pytest.fixture(autouse=True)
def _test_http(settings):
    """The test client speaks plain http and serves static files without a collected manifest.

    TLS itself (secure cookies, HSTS, redirect) is checked by ``tests/cli/test_deploy_check.py``
    and the browser tests run a real server.
    """
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Argon2 is the production hasher (tested in test_passwords); tests hash with MD5 for speed."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]


@pytest.fixture
def staff(db):
    """``staff("manager")`` → the demo Staff with that login name."""
    from powercis.core.models import Staff

    def get(username: str) -> Staff:
        return Staff.objects.select_related("org").get(username=username)

    return get


@pytest.fixture
def actor(staff):
    """``actor("admin")`` → an Actor for that demo login, as a service call from the web would have."""

    def make(username: str) -> Actor:
        return Actor(user=staff(username), ip="10.0.0.8", channel="web")

    return make


@pytest.fixture
def system_actor() -> Actor:
    return Actor.as_system("test")


@pytest.fixture
def org(db):
    """``org("HZ0101")`` → the demo Org with that code."""
    from powercis.core.models import Org

    def get(code: str) -> Org:
        return Org.objects.get(code=code)

    return get
