"""Web shell: base layout, navigation by subsystem, dashboard, language switch, vendored assets."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "powercis.web"
    label = "web"
    verbose_name = _("Web shell")
