"""URLs of the metering REST API, mounted at /api/v1/metering/."""

from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("points", api.PointViewSet, basename="metering-point")
router.register("meters", api.MeterViewSet, basename="metering-meter")
router.register("transformers", api.InstrumentTransformerViewSet, basename="metering-transformer")
router.register("transformer-installations", api.TransformerInstallationViewSet,
                basename="metering-transformer-installation")

urlpatterns = router.urls
