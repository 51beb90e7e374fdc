"""Topology pages and the map's GeoJSON."""

from django.urls import path

from . import geojson, views

app_name = "topology"

urlpatterns = [
    path("", views.browser, name="browser"),
    path("browser/substations/<int:pk>/", views.substation_children, name="substation_children"),
    path("browser/substations/none/", views.substation_children, name="unassigned_feeders"),
    path("browser/feeders/<int:pk>/", views.feeder_children, name="feeder_children"),
    path("browser/feeders/none/", views.feeder_children, name="unassigned_areas"),
    path("browser/areas/<int:pk>/", views.area_children, name="area_children"),
    path("areas/<int:pk>/", views.area_detail, name="area"),
    path("faults/", views.fault_list, name="faults"),
    path("map/", views.map_page, name="map"),
    path("geojson/accounts/<int:pk>/", views.account_geojson, name="account_geojson"),
    *(path(f"geojson/{layer}/", views.layer_geojson, {"layer": layer}, name=f"geojson_{layer}")
      for layer in geojson.LAYERS),
]
