"""Grid pages: the same five pages for every kind of record (views.KINDS), plus moving an area to a feeder."""

from django.urls import path

from . import views

app_name = "grid"


def _kind_patterns(kind: views.Kind) -> list:
    extra = {"kind": kind.key}
    return [
        path(f"{kind.slug}/", views.record_list, extra, name=f"{kind.key}_list"),
        path(f"{kind.slug}/new/", views.record_create, extra, name=f"{kind.key}_create"),
        path(f"{kind.slug}/<int:pk>/", views.record_detail, extra, name=f"{kind.key}_detail"),
        path(f"{kind.slug}/<int:pk>/edit/", views.record_edit, extra, name=f"{kind.key}_edit"),
        path(f"{kind.slug}/<int:pk>/active/", views.record_set_active, extra, name=f"{kind.key}_set_active"),
    ]


urlpatterns = [
    *(pattern for kind in views.KINDS.values() for pattern in _kind_patterns(kind)),
    path("areas/<int:pk>/move/", views.area_move, name="area_move"),
]
