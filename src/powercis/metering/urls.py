"""Metering pages."""

from django.urls import path

from . import views

app_name = "metering"

urlpatterns = [
    path("points/", views.point_list, name="point_list"),
    path("points/<int:pk>/", views.point_detail, name="point_detail"),
    path("points/<int:pk>/transformers/", views.point_transformer_install, name="point_transformer_install"),
    path("transformer-installations/<int:pk>/remove/", views.point_transformer_remove,
         name="point_transformer_remove"),
    path("meters/", views.meter_list, name="meter_list"),
    path("meters/new/", views.meter_register, name="meter_register"),
    path("meters/<int:pk>/", views.meter_detail, name="meter_detail"),
    path("transformers/", views.transformer_list, name="transformer_list"),
    path("transformers/new/", views.transformer_register, name="transformer_register"),
]
