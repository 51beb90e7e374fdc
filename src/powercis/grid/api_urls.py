"""URLs under /api/v1/grid/ (mounted by the root URLconf; core's API must not import grid)."""

from rest_framework.routers import SimpleRouter

from .api import KINDS, VIEWSETS

router = SimpleRouter()
for kind, (_model, _parent, _filter, _service, prefix) in KINDS.items():
    router.register(prefix, VIEWSETS[kind], basename=f"grid-{kind}")

urlpatterns = router.urls
