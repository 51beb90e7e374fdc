"""API route of the archive search (mounted at /api/v1/search/)."""

from django.urls import path

from .api import SearchView

urlpatterns = [path("", SearchView.as_view(), name="search")]
