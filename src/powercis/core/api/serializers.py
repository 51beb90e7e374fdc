"""API serializers: the output shape of each core object, and the input of each service call.

Input serializers only validate; the views hand ``validated_data`` to the service that
does the work.  Related objects are given by id and looked up within the requesting
user's data scope, so an id outside it reads as "does not exist".
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import authz, masking, selectors, workflow
from ..models import (
    ApiToken,
    ApprovalAction,
    ApprovalRequest,
    AuditAlert,
    AuditAlertRule,
    AuditRecord,
    CodeItem,
    CodeTable,
    DataScope,
    Org,
    Permission,
    Post,
    PostAssignment,
    PostGrantRequest,
    SodRule,
    Staff,
)
from ..services.approvals import can_decide
from ..services.codes import ITEM_CODE
from ..services.orgs import CODE_PATTERN
from ..services.posts import POST_CODE
from ..services.staff import USERNAME

INT32 = {"min_value": -(2**31), "max_value": 2**31 - 1}


def matching(pattern, message) -> dict:
    """Field options that document the service's format in the schema and check it before the service does.

    Only the pattern is checked here; uniqueness (case-insensitive where the service says so)
    stays with the service.
    """
    return {"validators": [RegexValidator(pattern, message)]}


def within(*perms: str, path_field: str = "path"):
    """Scope: rows in orgs where the user holds any of ``perms``."""
    return lambda user, queryset: authz.restrict_any(queryset, user, perms, path_field)


def of_own_companies(field: str = "company_id"):
    """Scope: rows of the companies the user works in."""
    return lambda user, queryset: queryset.filter(**{f"{field}__in": selectors.company_ids(user)})


class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """An object by id, found only among those ``scope(user, queryset)`` lets the requesting user reach."""

    def __init__(self, scope, **kwargs):
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.scope(self.context["request"].user, super().get_queryset())


ORG_PERMS = ("core.view_orgs", "core.manage_orgs")
STAFF_PERMS = ("core.view_staff", "core.manage_staff")


# --- references to other objects --------------------------------------------------


class OrgRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Org
        fields = ["id", "code", "name"]


class StaffRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Staff
        fields = ["id", "username", "full_name"]


class PostRefSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True, help_text="in the request's language")

    class Meta:
        model = Post
        fields = ["id", "code", "label"]


# --- shared inputs ----------------------------------------------------------------


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="",
                                   help_text="why; written to the audit trail")


class RequiredReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="why; written to the audit trail")


class SetActiveSerializer(ReasonSerializer):
    is_active = serializers.BooleanField()


class RequiredReasonSetActiveSerializer(RequiredReasonSerializer):
    is_active = serializers.BooleanField()


# --- me, permissions --------------------------------------------------------------


class PermissionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Permission
        fields = ["code", "subsystem", "label_zh", "label_en"]


class StaffAssignmentSerializer(serializers.ModelSerializer):
    post = PostRefSerializer(read_only=True)
    org = OrgRefSerializer(read_only=True)

    class Meta:
        model = PostAssignment
        fields = ["id", "post", "org", "scope", "granted_at"]


class AssignmentSerializer(StaffAssignmentSerializer):
    staff = StaffRefSerializer(read_only=True)
    granted_by = StaffRefSerializer(read_only=True, allow_null=True)

    class Meta(StaffAssignmentSerializer.Meta):
        fields = ["id", "staff", "post", "org", "scope", "granted_at", "granted_by", "grant_request"]


class MeSerializer(serializers.ModelSerializer):
    org = OrgRefSerializer(read_only=True)
    posts = serializers.SerializerMethodField(help_text="the posts held, each in an org with a data scope")
    permissions = serializers.SerializerMethodField(help_text="codes of every permission held through the posts")

    class Meta:
        model = Staff
        fields = ["id", "username", "full_name", "org", "language", "posts", "permissions"]

    @extend_schema_field(StaffAssignmentSerializer(many=True))
    def get_posts(self, staff: Staff):
        return StaffAssignmentSerializer(selectors.assignments_of(staff), many=True, context=self.context).data

    def get_permissions(self, staff: Staff) -> list[str]:
        return sorted(authz.held_permissions(staff))


# --- orgs -------------------------------------------------------------------------


class OrgSerializer(serializers.ModelSerializer):
    class Meta:
        model = Org
        fields = ["id", "code", "name", "name_en", "short_name", "level", "parent", "company", "depth", "address",
                  "phone", "sort_order", "is_active", "created_at", "updated_at"]


class OrgWriteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Org
        fields = ["code", "name", "level", "name_en", "short_name", "address", "phone", "sort_order"]
        extra_kwargs = {"code": matching(CODE_PATTERN, _("Use 1 to 32 letters, digits, '-' or '_'.")),
                        "sort_order": INT32}


class OrgCreateSerializer(OrgWriteSerializer):
    parent = ScopedPrimaryKeyField(within(*ORG_PERMS), queryset=Org.objects.all(), allow_null=True, required=False,
                                   help_text="the parent org; leave out to create a new company (a new root)")

    class Meta(OrgWriteSerializer.Meta):
        fields = ["parent", *OrgWriteSerializer.Meta.fields]


class OrgUpdateSerializer(OrgWriteSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)

    class Meta(OrgWriteSerializer.Meta):
        fields = [*OrgWriteSerializer.Meta.fields, "reason"]


class OrgMoveSerializer(ReasonSerializer):
    parent = ScopedPrimaryKeyField(within(*ORG_PERMS), queryset=Org.objects.all(), help_text="the new parent org")


# --- staff ------------------------------------------------------------------------


class StaffSerializer(serializers.ModelSerializer):
    org = OrgRefSerializer(read_only=True)
    mobile = serializers.SerializerMethodField(help_text="masked (138****5678) unless revealed with ?reveal=mobile")
    mobile_masked = serializers.SerializerMethodField()
    can_reveal_mobile = serializers.SerializerMethodField(
        help_text="whether you hold core.view_personal_data for the member's org")
    is_locked = serializers.SerializerMethodField()
    assignments = StaffAssignmentSerializer(many=True, read_only=True)

    class Meta:
        model = Staff
        fields = ["id", "username", "full_name", "org", "employee_no", "mobile", "mobile_masked", "can_reveal_mobile",
                  "email", "language", "is_active", "must_change_password", "is_locked", "assignments"]

    def _shown(self, staff: Staff) -> masking.Shown:
        shown = self.context.get("shown", {}).get(staff.pk)
        if shown is None:
            allowed = masking.reveal_allowed(self.context["request"].user, staff.org)
            shown = masking.Shown(masking.mask_phone(staff.mobile), bool(staff.mobile), allowed)
        return shown

    def get_mobile(self, staff: Staff) -> str:
        return self._shown(staff).value

    def get_mobile_masked(self, staff: Staff) -> bool:
        return self._shown(staff).masked

    def get_can_reveal_mobile(self, staff: Staff) -> bool:
        return self._shown(staff).can_reveal

    def get_is_locked(self, staff: Staff) -> bool:
        return staff.is_locked()


class StaffCreatedSerializer(StaffSerializer):
    initial_password = serializers.CharField(read_only=True, help_text="shown only in this response")

    class Meta(StaffSerializer.Meta):
        fields = [*StaffSerializer.Meta.fields, "initial_password"]


class StaffWriteSerializer(serializers.ModelSerializer):
    org = ScopedPrimaryKeyField(within(*STAFF_PERMS), queryset=Org.objects.all(), help_text="the home org")
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)

    class Meta:
        model = Staff
        fields = ["full_name", "org", "employee_no", "mobile", "email", "language"]


class StaffCreateSerializer(StaffWriteSerializer):
    password = serializers.CharField(write_only=True, required=False, max_length=128, style={"input_type": "password"},
                                     help_text="leave out to have a temporary password generated")
    must_change_password = serializers.BooleanField(default=True)

    class Meta(StaffWriteSerializer.Meta):
        fields = ["username", "full_name", "org", "password", "employee_no", "mobile", "email",
                  "must_change_password"]
        extra_kwargs = {"username": matching(USERNAME, _("Use 3 to 64 letters, digits, '.', '_' or '-'."))}


class StaffUpdateSerializer(StaffWriteSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)

    class Meta(StaffWriteSerializer.Meta):
        fields = [*StaffWriteSerializer.Meta.fields, "reason"]


class TemporaryPasswordSerializer(serializers.Serializer):
    temporary_password = serializers.CharField(help_text="must be changed at the next login; shown only once")


# --- posts, assignments, grant requests ---------------------------------------------


class PostSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True, help_text="in the request's language")
    permissions = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")

    class Meta:
        model = Post
        fields = ["id", "company", "code", "label_zh", "label_en", "label", "description", "is_standard", "is_active",
                  "permissions"]


class PermissionCodesField(serializers.ListField):
    child = serializers.CharField(max_length=64)


class PostCreateSerializer(serializers.ModelSerializer):
    company = ScopedPrimaryKeyField(of_own_companies("pk"), queryset=Org.objects.companies(), required=False,
                                    help_text="the company (root org); defaults to your own")
    permissions = PermissionCodesField(required=False, help_text="permission codes, e.g. billing.view")

    class Meta:
        model = Post
        fields = ["company", "code", "label_zh", "label_en", "description", "permissions"]
        validators = []
        extra_kwargs = {
            "code": matching(POST_CODE, _("Use 2 to 40 lower-case letters, digits or '_', starting with a letter.")),
            "label_en": {"required": False, "help_text": "defaults to the Chinese name"},
        }


class PostUpdateSerializer(serializers.ModelSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)

    class Meta:
        model = Post
        fields = ["label_zh", "label_en", "description", "is_active", "reason"]


class PostPermissionsSerializer(ReasonSerializer):
    permissions = PermissionCodesField(allow_empty=True, help_text="the complete new set of permission codes")


class GrantRequestSerializer(serializers.ModelSerializer):
    staff = StaffRefSerializer(read_only=True)
    post = PostRefSerializer(read_only=True)
    org = OrgRefSerializer(read_only=True)
    created_by = StaffRefSerializer(read_only=True)
    approval = serializers.IntegerField(source="approval_id", read_only=True, allow_null=True,
                                        help_text="id of the latest approval request (see approvals/)")

    class Meta:
        model = PostGrantRequest
        fields = ["id", "staff", "post", "org", "scope", "reason", "approval_status", "approval", "created_by",
                  "created_at"]


class GrantRequestCreateSerializer(serializers.ModelSerializer):
    staff = ScopedPrimaryKeyField(within(*STAFF_PERMS, path_field="org__path"), queryset=Staff.objects.all())
    post = ScopedPrimaryKeyField(of_own_companies(), queryset=Post.objects.all())
    org = ScopedPrimaryKeyField(within(*STAFF_PERMS), queryset=Org.objects.all(), help_text="where the post is held")
    scope = serializers.ChoiceField(choices=DataScope.choices, default=DataScope.OWN)
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="",
                                    help_text="comment for the approver")

    class Meta:
        model = PostGrantRequest
        fields = ["staff", "post", "org", "scope", "reason", "comment"]


# --- approvals --------------------------------------------------------------------


class ApprovalActionSerializer(serializers.ModelSerializer):
    actor = StaffRefSerializer(read_only=True)

    class Meta:
        model = ApprovalAction
        fields = ["step_index", "step_name", "kind", "actor", "post_code", "comment", "at"]


class ApprovalSerializer(serializers.ModelSerializer):
    doc_type_label = serializers.SerializerMethodField()
    current_post_code = serializers.CharField(read_only=True,
                                              help_text="the post that decides the current step; empty once closed")
    org = OrgRefSerializer(read_only=True)
    created_by = StaffRefSerializer(read_only=True)
    submitted_by = StaffRefSerializer(read_only=True)

    class Meta:
        model = ApprovalRequest
        fields = ["id", "doc_type", "doc_type_label", "object_id", "title", "status", "step_index", "step_count",
                  "current_post_code", "company", "org", "created_by", "submitted_by", "submitted_at", "closed_at"]

    def get_doc_type_label(self, request: ApprovalRequest) -> str:
        return str(workflow.get(request.doc_type).label)


class ApprovalDetailSerializer(ApprovalSerializer):
    actions = ApprovalActionSerializer(many=True, read_only=True, help_text="the history, oldest first")
    can_decide = serializers.SerializerMethodField(help_text="whether you may approve or reject the current step")

    class Meta(ApprovalSerializer.Meta):
        fields = [*ApprovalSerializer.Meta.fields, "can_decide", "actions"]

    def get_can_decide(self, request: ApprovalRequest) -> bool:
        return can_decide(self.context["request"].user, request)


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RequiredCommentSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=2000, help_text="why the document is rejected")


# --- separation of duties ---------------------------------------------------------


class SodRuleSerializer(serializers.ModelSerializer):
    permission_a = serializers.SlugRelatedField(read_only=True, slug_field="code")
    permission_b = serializers.SlugRelatedField(read_only=True, slug_field="code")

    class Meta:
        model = SodRule
        fields = ["id", "company", "permission_a", "permission_b", "reason", "is_active"]


class SodRuleCreateSerializer(serializers.ModelSerializer):
    company = ScopedPrimaryKeyField(of_own_companies("pk"), queryset=Org.objects.companies(), required=False,
                                    help_text="the company (root org); defaults to your own")
    permission_a = serializers.CharField(max_length=64, help_text="a permission code")
    permission_b = serializers.CharField(max_length=64, help_text="the permission code that conflicts with it")

    class Meta:
        model = SodRule
        fields = ["company", "permission_a", "permission_b", "reason"]
        validators = []


class SodConflictStaffSerializer(StaffRefSerializer):
    org = OrgRefSerializer(read_only=True)

    class Meta(StaffRefSerializer.Meta):
        fields = [*StaffRefSerializer.Meta.fields, "org"]


class SodConflictSerializer(serializers.Serializer):
    staff = SodConflictStaffSerializer()
    rule = SodRuleSerializer()


# --- audit ------------------------------------------------------------------------


class AuditRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditRecord
        fields = ["seq", "at", "category", "action", "actor", "actor_name", "post_code", "acting_org_id", "company_id",
                  "org_path", "source_ip", "channel", "request_id", "object_type", "object_id", "object_repr",
                  "changes", "reason", "ref", "prev_hash", "hash"]


class AlertRuleSerializer(serializers.ModelSerializer):
    params = serializers.DictField(read_only=True, help_text="depends on the kind; see the rule kinds")

    class Meta:
        model = AuditAlertRule
        fields = ["id", "company", "kind", "name", "params", "is_active"]


class AlertRuleUpdateSerializer(serializers.ModelSerializer):
    params = serializers.DictField(
        required=False,
        help_text='unreferenced_change: {"fields": ["app.model.field", ...]}; '
                  'off_hours: {"start": "08:00", "end": "18:00", "weekdays": [1, 2, 3, 4, 5]}; '
                  'change_volume: {"max_per_day": 200}',
    )
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)

    class Meta:
        model = AuditAlertRule
        fields = ["name", "params", "is_active", "reason"]


class AlertRuleRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditAlertRule
        fields = ["id", "kind", "name"]


class AuditAlertSerializer(serializers.ModelSerializer):
    rule = AlertRuleRefSerializer(read_only=True)
    record_seq = serializers.IntegerField(source="record.seq", read_only=True,
                                          help_text="the audit record that raised the alert (audit-records/{seq}/)")
    actor = StaffRefSerializer(read_only=True, allow_null=True)
    acknowledged_by = StaffRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = AuditAlert
        fields = ["id", "rule", "record_seq", "actor", "day", "message", "status", "created_at", "acknowledged_by",
                  "acknowledged_at", "note"]


class AcknowledgeSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300, help_text="what was found")


# --- code tables ------------------------------------------------------------------


class CodeItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = CodeItem
        fields = ["id", "code", "label_zh", "label_en", "parent_code", "sort_order", "is_active"]


class CodeTableSerializer(serializers.ModelSerializer):
    class Meta:
        model = CodeTable
        fields = ["id", "company", "code", "label_zh", "label_en", "description", "source", "parent_table"]


class CodeTableDetailSerializer(CodeTableSerializer):
    items = CodeItemSerializer(many=True, read_only=True)

    class Meta(CodeTableSerializer.Meta):
        fields = [*CodeTableSerializer.Meta.fields, "items"]


class CodeItemCreateSerializer(serializers.ModelSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)

    class Meta:
        model = CodeItem
        fields = ["code", "label_zh", "label_en", "parent_code", "sort_order", "reason"]
        extra_kwargs = {"code": matching(ITEM_CODE, _("Use 1 to 40 letters, digits, '.', '_' or '-'.")),
                        "label_en": {"required": False, "help_text": "defaults to the Chinese label"},
                        "sort_order": INT32}


class CodeItemUpdateSerializer(serializers.ModelSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)

    class Meta:
        model = CodeItem
        fields = ["label_zh", "label_en", "parent_code", "sort_order", "is_active", "reason"]
        extra_kwargs = {"sort_order": INT32}


# --- tokens -----------------------------------------------------------------------


class TokenSerializer(serializers.ModelSerializer):
    is_usable = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at", "is_usable"]

    def get_is_usable(self, token: ApiToken) -> bool:
        return token.is_usable()


class TokenCreatedSerializer(TokenSerializer):
    secret = serializers.CharField(read_only=True, help_text="send as `Authorization: Token <secret>`; shown only once")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "secret"]


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60, help_text="what will use the token")
    days = serializers.IntegerField(min_value=1, max_value=366, default=90, help_text="valid for this many days")
