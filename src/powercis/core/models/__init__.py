"""Core models, one module per concern."""

from .approvals import ApprovableDocument, ApprovalAction, ApprovalRequest, ApprovalStatus
from .audit import AlertKind, AuditAlert, AuditAlertRule, AuditCategory, AuditChainHead, AuditRecord
from .codes import CodeItem, CodeTable
from .grants import PostGrantRequest
from .imports import ImportBatch
from .orgs import Org, OrgLevel
from .posts import DataScope, Permission, Post, PostAssignment, SodRule
from .scoped import OrgScopedModel, org_scoped_models
from .staff import Staff
from .tokens import ApiToken
from .workorders import WorkOrder

__all__ = [
    "AlertKind",
    "ApiToken",
    "ApprovableDocument",
    "ApprovalAction",
    "ApprovalRequest",
    "ApprovalStatus",
    "AuditAlert",
    "AuditAlertRule",
    "AuditCategory",
    "AuditChainHead",
    "AuditRecord",
    "CodeItem",
    "CodeTable",
    "ImportBatch",
    "DataScope",
    "Org",
    "OrgLevel",
    "OrgScopedModel",
    "Permission",
    "Post",
    "PostAssignment",
    "PostGrantRequest",
    "SodRule",
    "Staff",
    "WorkOrder",
    "org_scoped_models",
]
