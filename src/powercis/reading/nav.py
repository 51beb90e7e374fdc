"""Menu entries of meter reading (抄表采集)."""

from django.utils.translation import gettext_lazy as _

from powercis.core.nav import NavItem, register, section

from .selectors import VIEW_PERMS


def register_menu() -> None:
    section("reading", _("Meter reading"), "bi-clipboard-data", 35)
    register("reading", NavItem(_("My routes"), "reading:my_routes", ("reading.enter",)))
    register("reading", NavItem(_("Reading plans"), "reading:plan_list", VIEW_PERMS))
    register("reading", NavItem(_("Reading exceptions"), "reading:exception_list", VIEW_PERMS))
    register("reading", NavItem(_("Reading routes"), "reading:route_list", VIEW_PERMS))
    register("reading", NavItem(_("Read deliveries"), "reading:batch_list",
                                ("reading.view", "reading.review", "reading.collect")))
    register("reading", NavItem(_("Collection channels"), "reading:channel_list", ("reading.collect", "reading.view")))
    register("reading", NavItem(_("Validation thresholds"), "reading:thresholds",
                                ("reading.configure", "reading.review", "reading.view")))
    register("reading", NavItem(_("Reading indicators"), "reading:indicators", VIEW_PERMS))
