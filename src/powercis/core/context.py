"""Who is acting, from where: passed to every service and written into the audit trail."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from .models import Staff


@dataclass
class Actor:
    """The person (or the system) performing a service call, and the channel it came through.

    ``system`` is true only for the installation itself (bootstrap, scheduled jobs);
    such calls are audited as the system and bypass authorisation because no person
    is acting.  An anonymous web request has ``user=None`` and ``system=False`` and is
    refused everything.
    """

    user: Staff | None
    ip: str = ""
    channel: str = "system"
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    system: bool = False

    @classmethod
    def as_system(cls, channel: str = "system") -> "Actor":
        """The installation itself (bootstrap, migrations, scheduled jobs): no person is acting."""
        return cls(user=None, channel=channel, system=True)

    @classmethod
    def from_request(cls, request) -> "Actor":
        channel = "api" if request.path.startswith("/api/") else "web"
        user = request.user if getattr(request, "user", None) is not None and request.user.is_authenticated else None
        return cls(
            user=user,
            ip=client_ip(request),
            channel=channel,
            request_id=getattr(request, "request_id", "") or uuid.uuid4().hex,
        )

    @property
    def is_system(self) -> bool:
        return self.system and self.user is None

    @property
    def name(self) -> str:
        return self.user.full_name if self.user else "system"


def client_ip(request) -> str:
    """The client's address; X-Forwarded-For is trusted only behind a configured proxy."""
    from django.conf import settings

    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()[:45]
    return (request.META.get("REMOTE_ADDR") or "")[:45]
