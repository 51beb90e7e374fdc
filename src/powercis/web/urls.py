"""Shell pages: dashboard and language switch."""

from django.urls import path
from django.views.i18n import set_language

from . import views

app_name = "web"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("i18n/setlang/", set_language, name="set_language"),
]
