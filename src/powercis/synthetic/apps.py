"""Synthetic utility generator (``powercis demo --accounts N --seed S``); sits above metering and search."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SyntheticConfig(AppConfig):
    name = "powercis.synthetic"
    label = "synthetic"
    verbose_name = _("Synthetic utility")
    default_auto_field = "django.db.models.BigAutoField"
