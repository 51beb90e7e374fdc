"""URLs under /api/v1/topology/ (mounted by the root URLconf; core's API must not import topology)."""

from django.urls import path

from . import api

urlpatterns = [
    path("faults/", api.FaultListView.as_view(), name="topology-faults"),
    path("faults/counts/", api.FaultCountsView.as_view(), name="topology-fault-counts"),
    path("areas/<int:pk>/accounts/", api.AreaAccountsView.as_view(), name="topology-area-accounts"),
]
