"""Fixtures of the grid and topology tests: a grid maintainer, page and API clients for any login."""

import pytest
from django.conf import settings
from django.utils import translation
from rest_framework.test import APIClient

from .builders import grid_editor


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English (the msgids); the Chinese catalogue is filled separately."""
    with translation.override("en"):
        yield


@pytest.fixture
def editor(db):
    """A grid maintainer of HZ0101 and below (grid.view, grid.edit, customers.view)."""
    return grid_editor()


def _user(staff, user):
    return staff(user) if isinstance(user, str) else user


@pytest.fixture
def login(client, staff):
    """``login("custmgr")`` or ``login(editor)`` → the page test client, logged in as that staff member."""

    def as_user(user):
        client.force_login(_user(staff, user), backend="powercis.core.auth.StaffBackend")
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return as_user


@pytest.fixture
def api(staff):
    """``api("custmgr")`` → a DRF client with that staff member's session, JSON bodies by default."""

    def as_user(user):
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(_user(staff, user))
        client.default_format = "json"
        return client

    return as_user
