"""URLs under /api/: the OpenAPI schema, its Swagger UI, and the v1 endpoints."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("permissions", views.PermissionViewSet, basename="permission")
router.register("orgs", views.OrgViewSet, basename="org")
router.register("staff", views.StaffViewSet, basename="staff")
router.register("posts", views.PostViewSet, basename="post")
router.register("assignments", views.AssignmentViewSet, basename="assignment")
router.register("grant-requests", views.GrantRequestViewSet, basename="grant-request")
router.register("approvals", views.ApprovalViewSet, basename="approval")
router.register("sod-rules", views.SodRuleViewSet, basename="sod-rule")
router.register("audit-records", views.AuditRecordViewSet, basename="audit-record")
router.register("audit-alerts", views.AuditAlertViewSet, basename="audit-alert")
router.register("audit-alert-rules", views.AlertRuleViewSet, basename="audit-alert-rule")
router.register("code-tables", views.CodeTableViewSet, basename="code-table")
router.register("code-items", views.CodeItemViewSet, basename="code-item")
router.register("tokens", views.TokenViewSet, basename="token")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", views.ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("v1/me/", views.MeView.as_view(), name="me"),
    path("v1/sod-conflicts/", views.SodConflictsView.as_view(), name="sod-conflicts"),
    path("v1/", include(router.urls)),
    # Anything else under /api/ is answered in the API's error format, not with the web 404 page.
    re_path(r"", views.unknown_endpoint),
]
