"""The navigation registry: each app registers its menu entries with the permission they need.

The web shell renders only the entries the user may use (``menu_for``); the pages
themselves check the same permission, so hiding an entry never replaces the check.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import authz


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permissions: tuple[str, ...] = ()  # any one of them suffices; empty = every logged-in user

    def visible_to(self, user) -> bool:
        return not self.permissions or any(authz.authorize(user, p) for p in self.permissions)

    @property
    def url(self) -> str:
        return reverse(self.url_name)


@dataclass
class NavSection:
    code: str
    label: str
    icon: str
    order: int
    items: list[NavItem] = field(default_factory=list)


_SECTIONS: dict[str, NavSection] = {}


def section(code: str, label: str, icon: str, order: int) -> NavSection:
    if code not in _SECTIONS:
        _SECTIONS[code] = NavSection(code, label, icon, order)
    return _SECTIONS[code]


def register(section_code: str, item: NavItem) -> None:
    items = _SECTIONS[section_code].items
    if all(existing.url_name != item.url_name for existing in items):
        items.append(item)


@dataclass(frozen=True)
class VisibleSection:
    code: str
    label: str
    icon: str
    items: list[NavItem]


def menu_for(user) -> list[VisibleSection]:
    if user is None or not user.is_authenticated:
        return []
    result = []
    for sec in sorted(_SECTIONS.values(), key=lambda s: s.order):
        items = [item for item in sec.items if item.visible_to(user)]
        if items:
            result.append(VisibleSection(sec.code, sec.label, sec.icon, items))
    return result


@dataclass(frozen=True)
class WorkOrderNavItem(NavItem):
    """The work-order list: shown to whoever may see some kind of order, as the apps registered them."""

    def visible_to(self, user) -> bool:
        from . import workorders

        return workorders.may_view_any(user)


def register_core_menu() -> None:
    section("workbench", _("Workbench"), "bi-house", 0)
    section("archive_io", _("Import and export"), "bi-arrow-left-right", 40)
    section("admin", _("Administration"), "bi-diagram-3", 90)
    section("audit", _("Audit"), "bi-shield-check", 95)
    register("workbench", NavItem(_("Dashboard"), "web:dashboard"))
    register("workbench", NavItem(_("My inbox"), "core:inbox"))
    register("workbench", NavItem(_("My requests"), "core:my_requests"))
    register("workbench", WorkOrderNavItem(_("Work orders"), "core:workorder_list"))
    # the permissions of the importable entities (core.bulkio specs): the archive, metering and the grid
    bulk_perms = ("customers.import", "metering.edit", "grid.edit")
    register("archive_io", NavItem(_("Import"), "core:bulk_import", bulk_perms))
    register("archive_io", NavItem(_("Export"), "core:bulk_export", bulk_perms))
    register("admin", NavItem(_("Org tree"), "core:org_tree", ("core.view_orgs",)))
    register("admin", NavItem(_("Staff"), "core:staff_list", ("core.view_staff",)))
    register("admin", NavItem(_("Posts"), "core:post_list", ("core.view_staff",)))
    register("admin", NavItem(_("Post grant requests"), "core:grant_list", ("core.manage_staff", "core.approve_grants")))
    register("admin", NavItem(_("Separation of duties"), "core:sod_rules", ("core.manage_sod",)))
    register("admin", NavItem(_("Code tables"), "core:code_tables", ("core.manage_codes",)))
    register("audit", NavItem(_("Audit trail"), "core:audit_search", ("core.view_audit",)))
    register("audit", NavItem(_("Daily modification report"), "core:audit_daily", ("core.view_audit",)))
    register("audit", NavItem(_("Audit alerts"), "core:alert_list", ("core.handle_alerts",)))
    register("audit", NavItem(_("Alert rules"), "core:alert_rules", ("core.manage_alert_rules",)))
    register("audit", NavItem(_("Duty conflicts report"), "core:sod_conflicts", ("core.manage_sod", "core.view_audit")))
