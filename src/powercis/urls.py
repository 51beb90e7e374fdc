"""Root URL configuration."""

from django.urls import include, path

from powercis.web import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/", include("powercis.core.api.urls")),
    path("", include("powercis.core.urls")),
    path("", include("powercis.web.urls")),
]

handler403 = "powercis.web.views.permission_denied"
handler404 = "powercis.web.views.not_found"
handler500 = "powercis.web.views.server_error"
