"""Root URL configuration."""

from django.urls import include, path

from powercis.web import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/v1/grid/", include("powercis.grid.api_urls")),
    path("api/v1/topology/", include("powercis.topology.api_urls")),
    path("api/v1/customers/", include("powercis.customers.api_urls")),
    path("api/v1/metering/", include("powercis.metering.api_urls")),
    path("api/v1/search/", include("powercis.search.api_urls")),
    path("api/v1/reading/", include("powercis.reading.api_urls")),
    path("api/", include("powercis.core.api.urls")),
    path("customers/", include("powercis.customers.urls")),
    path("metering/", include("powercis.metering.urls")),
    path("grid/", include("powercis.grid.urls")),
    path("topology/", include("powercis.topology.urls")),
    path("search/", include("powercis.search.urls")),
    path("reading/", include("powercis.reading.urls")),
    path("", include("powercis.core.urls")),
    path("", include("powercis.web.urls")),
]

handler403 = "powercis.web.views.permission_denied"
handler404 = "powercis.web.views.not_found"
handler500 = "powercis.web.views.server_error"
