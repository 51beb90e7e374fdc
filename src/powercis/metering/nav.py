"""Menu entries of metering."""

from django.utils.translation import gettext_lazy as _

from powercis.core.nav import section


def register_menu() -> None:
    section("metering", _("Metering"), "bi-speedometer2", 30)
