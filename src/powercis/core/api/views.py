"""REST endpoints under /api/v1/: thin views that read through the scoped selectors and write through the services.

A row outside the user's data scope does not exist for them (404); a permission they
do not hold anywhere is refused up front (403, naming the permission); everything
else — the permission in this org, separation of duties, the document's state — is
decided by the service, whose typed errors become the one error format.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import OuterRef, Prefetch, Q, Subquery
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import authz, masking, selectors
from ..context import Actor
from ..models import (
    ApiToken,
    ApprovalAction,
    ApprovalRequest,
    AuditAlert,
    AuditAlertRule,
    AuditRecord,
    CodeItem,
    CodeTable,
    Org,
    Permission,
    Post,
    PostAssignment,
    PostGrantRequest,
    SodRule,
    Staff,
)
from ..services import alerts as alert_services
from ..services import approvals as approval_services
from ..services import codes as code_services
from ..services import orgs as org_services
from ..services import posts as post_services
from ..services import sod as sod_services
from ..services import staff as staff_services
from ..services import tokens as token_services
from . import filters
from . import serializers as s
from .permissions import HasPermission
from .schema import ApiSchema

NO_CONTENT = {204: None}


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI whose page loads every script and style from files, as the Content-Security-Policy requires."""

    template_name = "api/swagger_ui.html"


@csrf_exempt  # it changes nothing, and an unknown URL should say so rather than ask for a CSRF token
def unknown_endpoint(request, *args, **kwargs) -> JsonResponse:
    return JsonResponse({"code": "not_found", "message": _("Not found."), "fields": {}}, status=404)


class ApiMixin:
    """What every endpoint shares: JSON in and out, the business-permission gate, the documented errors."""

    permission_classes = [HasPermission]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    schema = ApiSchema()

    @property
    def actor(self) -> Actor:
        return Actor.from_request(self.request)


class CoreViewSet(ApiMixin, viewsets.GenericViewSet):
    """A viewset over rows limited to the user's data scope, with helpers to call a service and answer."""

    #: a row is in scope when the user holds any of these permissions over its org
    scope_permissions: tuple[str, ...] = ()
    path_field = "org__path"
    #: output serializer per action, where it differs from ``serializer_class``
    serializer_classes: dict[str, type] = {}

    def get_queryset(self):
        queryset = self.queryset.all()
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        return self.scoped(queryset)

    def scoped(self, queryset):
        return authz.restrict_any(queryset, self.request.user, self.scope_permissions, self.path_field)

    def get_serializer_class(self):
        return self.serializer_classes.get(self.action, self.serializer_class)

    def validated(self, serializer_class, *, partial: bool = False) -> dict:
        serializer = serializer_class(data=self.request.data, partial=partial, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def respond(self, instance, *, status_code: int = 200, serializer_class=None, **context) -> Response:
        serializer_class = serializer_class or self.get_serializer_class()
        data = serializer_class(instance, context={**self.get_serializer_context(), **context}).data
        return Response(data, status=status_code)

    def paginated(self, queryset) -> Response:
        page = self.paginate_queryset(self.filter_queryset(queryset))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def fresh(self, instance):
        """The object as the list shows it (annotations, prefetches), after a service changed it."""
        return self.get_queryset().filter(pk=instance.pk).first() or instance

    def act_on_object(self, service, serializer_class, *, partial: bool = False, rename: dict | None = None):
        """Look the object up in scope, validate the body, call ``service(actor, object, **body)``, answer with it.

        ``rename`` maps body fields to the service's parameter names (``{"is_active": "active"}``).
        """
        instance = self.get_object()
        data = self.validated(serializer_class, partial=partial)
        for field, parameter in (rename or {}).items():
            data[parameter] = data.pop(field)
        return self.respond(self.fresh(service(self.actor, instance, **data)))


# --- who am I, what can be granted --------------------------------------------------


class MeView(ApiMixin, APIView):
    @extend_schema(summary="The current user, their posts and the permission codes they hold",
                   responses=s.MeSerializer, operation_id="me_retrieve", tags=["me"])
    def get(self, request):
        return Response(s.MeSerializer(request.user, context={"request": request}).data)


@extend_schema_view(list=extend_schema(summary="The permission catalogue (business units that posts bundle)"))
class PermissionViewSet(mixins.ListModelMixin, CoreViewSet):
    queryset = Permission.objects.filter(is_active=True)
    serializer_class = s.PermissionSerializer
    filterset_class = filters.PermissionFilter

    def scoped(self, queryset):
        return queryset


# --- orgs -------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Orgs in your scope (core.view_orgs), deactivated ones included"),
    retrieve=extend_schema(summary="One org"),
)
class OrgViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    queryset = Org.objects.all()
    serializer_class = s.OrgSerializer
    filterset_class = filters.OrgFilter
    scope_permissions = s.ORG_PERMS
    path_field = "path"
    required_permission = "core.view_orgs"
    required_permissions = dict.fromkeys(["create", "partial_update", "move", "set_active"], "core.manage_orgs")

    @extend_schema(summary="Create an org below a parent, or a new company when no parent is given",
                   request=s.OrgCreateSerializer, responses={201: s.OrgSerializer})
    def create(self, request):
        data = self.validated(s.OrgCreateSerializer)
        parent = data.pop("parent", None)
        if parent is None:
            data.pop("sort_order", None)
            org = org_services.create_company(self.actor, **data)
        else:
            org = org_services.create_org(self.actor, parent=parent, **data)
        return self.respond(org, status_code=201)

    @extend_schema(summary="Change an org's code, names, level or contact details",
                   request=s.OrgUpdateSerializer, responses=s.OrgSerializer)
    def partial_update(self, request, pk=None):
        return self.act_on_object(org_services.update_org, s.OrgUpdateSerializer, partial=True)

    @extend_schema(summary="Move the org and everything below it under another parent",
                   request=s.OrgMoveSerializer, responses=s.OrgSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        return self.act_on_object(org_services.move_org, s.OrgMoveSerializer, rename={"parent": "new_parent"})

    @extend_schema(summary="Activate or deactivate an org", request=s.SetActiveSerializer, responses=s.OrgSerializer)
    @action(detail=True, methods=["post"])
    def set_active(self, request, pk=None):
        return self.act_on_object(org_services.set_org_active, s.SetActiveSerializer, rename={"is_active": "active"})

    @extend_schema(summary="The org and its descendants (within your scope)", responses=s.OrgSerializer(many=True))
    @action(detail=True, methods=["get"])
    def subtree(self, request, pk=None):
        return self.paginated(self.get_queryset().subtree(self.get_object()))


# --- staff ------------------------------------------------------------------------


@extend_schema_view(list=extend_schema(summary="Staff in your scope (core.view_staff); mobile numbers masked"))
class StaffViewSet(mixins.ListModelMixin, CoreViewSet):
    queryset = Staff.objects.select_related("org").prefetch_related(
        Prefetch("assignments", queryset=PostAssignment.objects.select_related("post", "org").order_by("post__code", "id"))
    )
    serializer_class = s.StaffSerializer
    filterset_class = filters.StaffFilter
    scope_permissions = s.STAFF_PERMS
    required_permission = "core.view_staff"
    required_permissions = dict.fromkeys(
        ["create", "partial_update", "set_active", "reset_password", "unlock"], "core.manage_staff"
    )

    @extend_schema(
        summary="One staff member",
        parameters=[OpenApiParameter(
            "reveal", str, enum=["mobile"],
            description="`mobile` shows the full number if you hold core.view_personal_data for the member's org; "
                        "each reveal is written to the audit trail",
        )],
    )
    def retrieve(self, request, pk=None):
        staff = self.get_object()
        shown = masking.phone_for(self.actor, staff, reveal=request.query_params.get("reveal") == "mobile")
        return self.respond(staff, shown={staff.pk: shown})

    @extend_schema(summary="Create a staff account; the response holds its initial password, shown only once",
                   request=s.StaffCreateSerializer, responses={201: s.StaffCreatedSerializer})
    def create(self, request):
        data = self.validated(s.StaffCreateSerializer)
        staff, password = staff_services.create_staff(self.actor, **data)
        created = self.fresh(staff)
        created.initial_password = password
        return self.respond(created, status_code=201, serializer_class=s.StaffCreatedSerializer)

    @extend_schema(summary="Change a staff member's details or home org",
                   request=s.StaffUpdateSerializer, responses=s.StaffSerializer)
    def partial_update(self, request, pk=None):
        return self.act_on_object(staff_services.update_staff, s.StaffUpdateSerializer, partial=True)

    @extend_schema(summary="Activate or deactivate an account (a reason is required)",
                   request=s.RequiredReasonSetActiveSerializer, responses=s.StaffSerializer)
    @action(detail=True, methods=["post"])
    def set_active(self, request, pk=None):
        return self.act_on_object(staff_services.set_staff_active, s.RequiredReasonSetActiveSerializer,
                                  rename={"is_active": "active"})

    @extend_schema(summary="Set a temporary password (to be changed at next login) and unlock the account",
                   request=s.ReasonSerializer, responses=s.TemporaryPasswordSerializer)
    @action(detail=True, methods=["post"])
    def reset_password(self, request, pk=None):
        staff = self.get_object()
        data = self.validated(s.ReasonSerializer)
        password = staff_services.reset_password(self.actor, staff, reason=data["reason"])
        return Response(s.TemporaryPasswordSerializer({"temporary_password": password}).data)

    @extend_schema(summary="Unlock an account locked after failed logins",
                   request=s.ReasonSerializer, responses=s.StaffSerializer)
    @action(detail=True, methods=["post"])
    def unlock(self, request, pk=None):
        return self.act_on_object(staff_services.unlock_staff, s.ReasonSerializer)


# --- posts, assignments, grant requests ---------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Posts of the companies where you hold core.view_staff"),
    retrieve=extend_schema(summary="One post with its permission codes"),
)
class PostViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    queryset = Post.objects.select_related("company").prefetch_related("permissions")
    serializer_class = s.PostSerializer
    filterset_class = filters.PostFilter
    required_permission = "core.view_staff"
    required_permissions = dict.fromkeys(["create", "partial_update", "set_permissions"], "core.manage_posts")

    def scoped(self, queryset):
        user = self.request.user
        return queryset.filter(
            Q(pk__in=selectors.visible_posts(user, "core.view_staff").values("pk"))
            | Q(pk__in=selectors.visible_posts(user, "core.manage_posts").values("pk"))
        )

    @extend_schema(summary="Create a post in a company", request=s.PostCreateSerializer, responses={201: s.PostSerializer})
    def create(self, request):
        data = self.validated(s.PostCreateSerializer)
        company = data.pop("company", None) or request.user.org.company
        post = post_services.create_post(self.actor, company, **data)
        return self.respond(self.fresh(post), status_code=201)

    @extend_schema(summary="Rename, describe, activate or deactivate a post",
                   request=s.PostUpdateSerializer, responses=s.PostSerializer)
    def partial_update(self, request, pk=None):
        return self.act_on_object(post_services.update_post, s.PostUpdateSerializer, partial=True)

    @extend_schema(summary="Replace the post's permissions (checked against separation of duties)",
                   request=s.PostPermissionsSerializer, responses=s.PostSerializer)
    @action(detail=True, methods=["post"])
    def set_permissions(self, request, pk=None):
        return self.act_on_object(post_services.set_post_permissions, s.PostPermissionsSerializer,
                                  rename={"permissions": "codes"})


@extend_schema_view(
    list=extend_schema(summary="Post assignments (who holds which post where) in your scope"),
    retrieve=extend_schema(summary="One post assignment"),
)
class AssignmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    queryset = PostAssignment.objects.select_related("staff", "post", "org", "granted_by").order_by("id")
    serializer_class = s.AssignmentSerializer
    filterset_class = filters.AssignmentFilter
    scope_permissions = s.STAFF_PERMS
    required_permission = "core.view_staff"
    required_permissions = {"revoke": "core.manage_staff"}

    @extend_schema(summary="Revoke the post (takes effect at once, needs a reason, is audited)",
                   request=s.RequiredReasonSerializer, responses=NO_CONTENT)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        assignment = self.get_object()
        data = self.validated(s.RequiredReasonSerializer)
        post_services.revoke_assignment(self.actor, assignment, reason=data["reason"])
        return Response(status=204)


@extend_schema_view(
    list=extend_schema(summary="Post grant requests you handle, approve or audit, and your own"),
    retrieve=extend_schema(summary="One post grant request"),
)
class GrantRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    queryset = PostGrantRequest.objects.select_related("staff", "post", "org", "created_by")
    serializer_class = s.GrantRequestSerializer
    filterset_class = filters.GrantRequestFilter
    scope_permissions = (*s.STAFF_PERMS, "core.approve_grants", "core.view_audit")
    required_permissions = {"create": "core.manage_staff"}

    def scoped(self, queryset):
        user = self.request.user
        in_scope = super().scoped(queryset).values("pk")
        latest_approval = ApprovalRequest.objects.filter(
            content_type=ContentType.objects.get_for_model(PostGrantRequest), object_id=OuterRef("pk")
        ).order_by("-submitted_at", "-id").values("id")[:1]
        return queryset.filter(Q(pk__in=in_scope) | Q(created_by=user) | Q(staff=user)).annotate(
            approval_id=Subquery(latest_approval)
        )

    @extend_schema(summary="Ask for a post to be granted; the request goes to approval at once",
                   request=s.GrantRequestCreateSerializer, responses={201: s.GrantRequestSerializer})
    def create(self, request):
        doc = post_services.request_post_grant(self.actor, **self.validated(s.GrantRequestCreateSerializer))
        return self.respond(self.fresh(doc), status_code=201)


# --- approvals --------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Approvals you may look at: your own, your inbox, those in your audit scope"),
    retrieve=extend_schema(summary="One approval with its history"),
)
class ApprovalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    queryset = ApprovalRequest.objects.all()
    serializer_class = s.ApprovalSerializer
    serializer_classes = dict.fromkeys(["retrieve", "approve", "reject", "withdraw"], s.ApprovalDetailSerializer)
    filterset_class = filters.ApprovalFilter

    def scoped(self, queryset):
        visible = selectors.visible_approvals(self.request.user).select_related("created_by")
        if self.action == "list":
            return visible
        return visible.prefetch_related(Prefetch("actions", queryset=ApprovalAction.objects.select_related("actor")))

    @extend_schema(summary="Your inbox (待办): pending steps you may decide, oldest first",
                   responses=s.ApprovalSerializer(many=True))
    @action(detail=False, methods=["get"])
    def inbox(self, request):
        return self.paginated(selectors.inbox(request.user).select_related("created_by"))

    @extend_schema(summary="Approve the current step", request=s.CommentSerializer,
                   responses=s.ApprovalDetailSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self.act_on_object(approval_services.approve, s.CommentSerializer)

    @extend_schema(summary="Reject (a comment is required)", request=s.RequiredCommentSerializer,
                   responses=s.ApprovalDetailSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self.act_on_object(approval_services.reject, s.RequiredCommentSerializer)

    @extend_schema(summary="Withdraw your own pending request", request=s.CommentSerializer,
                   responses=s.ApprovalDetailSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self.act_on_object(approval_services.withdraw, s.CommentSerializer)


# --- separation of duties ---------------------------------------------------------


@extend_schema_view(list=extend_schema(summary="Conflicting permission pairs of the companies you administer"))
class SodRuleViewSet(mixins.ListModelMixin, CoreViewSet):
    queryset = SodRule.objects.select_related("permission_a", "permission_b").order_by("company_id", "id")
    serializer_class = s.SodRuleSerializer
    filterset_class = filters.SodRuleFilter
    required_permission = "core.manage_sod"

    def scoped(self, queryset):
        return queryset.filter(company__in=selectors.companies_of(self.request.user, "core.manage_sod"))

    @extend_schema(summary="Add a conflicting pair", request=s.SodRuleCreateSerializer,
                   responses={201: s.SodRuleSerializer})
    def create(self, request):
        data = self.validated(s.SodRuleCreateSerializer)
        company = data.pop("company", None) or request.user.org.company
        return self.respond(sod_services.add_rule(self.actor, company, **data), status_code=201)

    @extend_schema(summary="Switch a rule on or off", request=s.SetActiveSerializer, responses=s.SodRuleSerializer)
    @action(detail=True, methods=["post"])
    def set_active(self, request, pk=None):
        return self.act_on_object(sod_services.set_rule_active, s.SetActiveSerializer, rename={"is_active": "active"})


class SodConflictsView(ApiMixin, APIView):
    required_permission = ("core.manage_sod", "core.view_audit")

    @extend_schema(summary="People in your scope who hold both permissions of an active rule",
                   responses=s.SodConflictSerializer(many=True), operation_id="sod_conflicts_list",
                   tags=["sod-conflicts"])
    def get(self, request):
        rows = selectors.sod_conflicts(request.user)
        return Response(s.SodConflictSerializer(rows, many=True, context={"request": request}).data)


# --- audit ------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="The audit trail in your scope (core.view_audit), newest first"),
    retrieve=extend_schema(summary="One audit record by its sequence number"),
)
class AuditRecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    queryset = AuditRecord.objects.all()
    serializer_class = s.AuditRecordSerializer
    filterset_class = filters.AuditRecordFilter
    lookup_field = "seq"
    required_permission = "core.view_audit"

    def scoped(self, queryset):
        return selectors.audit_records(self.request.user)


@extend_schema_view(
    list=extend_schema(summary="Audit alerts in your scope (core.handle_alerts)"),
    retrieve=extend_schema(summary="One audit alert"),
)
class AuditAlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    queryset = AuditAlert.objects.all()
    serializer_class = s.AuditAlertSerializer
    filterset_class = filters.AuditAlertFilter
    required_permission = "core.handle_alerts"

    def scoped(self, queryset):
        return selectors.alerts(self.request.user).select_related("record")

    @extend_schema(summary="Mark the alert handled, saying what was found",
                   request=s.AcknowledgeSerializer, responses=s.AuditAlertSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self.act_on_object(alert_services.acknowledge, s.AcknowledgeSerializer)


@extend_schema_view(
    list=extend_schema(summary="Alert rules of the companies you administer"),
    retrieve=extend_schema(summary="One alert rule"),
)
class AlertRuleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    queryset = AuditAlertRule.objects.all()
    serializer_class = s.AlertRuleSerializer
    filterset_class = filters.AlertRuleFilter
    required_permission = "core.manage_alert_rules"

    def scoped(self, queryset):
        return queryset.filter(company__in=selectors.companies_of(self.request.user, "core.manage_alert_rules"))

    @extend_schema(summary="Rename a rule, change its parameters, switch it on or off",
                   request=s.AlertRuleUpdateSerializer, responses=s.AlertRuleSerializer)
    def partial_update(self, request, pk=None):
        return self.act_on_object(alert_services.update_rule, s.AlertRuleUpdateSerializer, partial=True)


# --- code tables ------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Code tables (数据字典) of your companies"),
    retrieve=extend_schema(summary="One code table with its items"),
)
class CodeTableViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CoreViewSet):
    queryset = CodeTable.objects.all()
    serializer_class = s.CodeTableSerializer
    serializer_classes = {"retrieve": s.CodeTableDetailSerializer, "items": s.CodeItemSerializer}
    filterset_class = filters.CodeTableFilter
    required_permissions = {"items": "core.manage_codes"}

    def scoped(self, queryset):
        tables = queryset.filter(company_id__in=selectors.company_ids(self.request.user))
        return tables.prefetch_related("items") if self.action == "retrieve" else tables

    @extend_schema(summary="Add an item to the table", request=s.CodeItemCreateSerializer,
                   responses={201: s.CodeItemSerializer})
    @action(detail=True, methods=["post"])
    def items(self, request, pk=None):
        table = self.get_object()
        item = code_services.add_item(self.actor, table, **self.validated(s.CodeItemCreateSerializer))
        return self.respond(item, status_code=201)


@extend_schema_view(retrieve=extend_schema(summary="One code item"))
class CodeItemViewSet(mixins.RetrieveModelMixin, CoreViewSet):
    queryset = CodeItem.objects.select_related("table")
    serializer_class = s.CodeItemSerializer
    required_permissions = {"partial_update": "core.manage_codes"}

    def scoped(self, queryset):
        return queryset.filter(table__company_id__in=selectors.company_ids(self.request.user))

    @extend_schema(summary="Change an item's labels, parent, order or active flag (its code never changes)",
                   request=s.CodeItemUpdateSerializer, responses=s.CodeItemSerializer)
    def partial_update(self, request, pk=None):
        return self.act_on_object(code_services.update_item, s.CodeItemUpdateSerializer, partial=True)


# --- tokens -----------------------------------------------------------------------


@extend_schema_view(list=extend_schema(summary="Your API tokens (the secrets are never shown again)"))
class TokenViewSet(mixins.ListModelMixin, CoreViewSet):
    queryset = ApiToken.objects.all()
    serializer_class = s.TokenSerializer
    required_permissions = {"create": "core.use_api"}

    def scoped(self, queryset):
        return queryset.filter(staff=self.request.user)

    @extend_schema(summary="Create a token; the response holds its secret, shown only once",
                   request=s.TokenCreateSerializer, responses={201: s.TokenCreatedSerializer})
    def create(self, request):
        token, secret = token_services.create_token(self.actor, **self.validated(s.TokenCreateSerializer))
        token.secret = secret
        return self.respond(token, status_code=201, serializer_class=s.TokenCreatedSerializer)

    @extend_schema(summary="Revoke a token (it stops working at once)", responses=NO_CONTENT)
    def destroy(self, request, pk=None):
        token_services.revoke_token(self.actor, self.get_object())
        return Response(status=204)
