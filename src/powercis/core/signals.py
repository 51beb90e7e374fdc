"""Keep the permission table in step with the catalogue after every migrate."""

from __future__ import annotations

from django.db.models.signals import post_migrate
from django.dispatch import receiver


@receiver(post_migrate)
def sync_permission_catalogue(sender, app_config=None, using="default", **kwargs):
    if app_config is None or app_config.label != "core":
        return
    from .models import Permission
    from .permission_catalog import sync_permissions

    sync_permissions(Permission)
