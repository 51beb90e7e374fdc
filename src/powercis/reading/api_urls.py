"""URLs of the meter reading REST API, mounted at /api/v1/reading/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("routes", api.RouteViewSet, basename="reading-route")
router.register("plans", api.PlanViewSet, basename="reading-plan")
router.register("tasks", api.TaskViewSet, basename="reading-task")
router.register("reads", api.ReadViewSet, basename="reading-read")
router.register("batches", api.BatchViewSet, basename="reading-batch")
router.register("exceptions", api.ExceptionViewSet, basename="reading-exception")
router.register("channels", api.ChannelViewSet, basename="reading-channel")
router.register("runs", api.RunViewSet, basename="reading-run")

urlpatterns = [
    path("ingest/", api.IngestView.as_view(), name="reading-ingest"),
    path("thresholds/", api.ThresholdsView.as_view(), name="reading-thresholds"),
    path("indicators/", api.IndicatorsView.as_view(), name="reading-indicators"),
    *router.urls,
]
