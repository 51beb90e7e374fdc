"""Staff administration: list, view, create, edit, reset password, unlock, (de)activate, request and revoke posts."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Prefetch, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from .. import authz, masking, selectors
from ..forms import GrantRequestForm, ReasonForm, StaffCreateForm, StaffEditForm, StaffFilterForm
from ..models import Post, PostAssignment, PostGrantRequest, Staff
from ..services import posts as post_services
from ..services import staff as staff_services
from .common import actor, changed_fields, page, requires, run, scoped_get


@requires("core.view_staff")
def staff_list(request):
    form = StaffFilterForm(request.GET or None)
    orgs = selectors.visible_orgs(request.user)
    staff = selectors.visible_staff(request.user).prefetch_related(
        Prefetch("assignments", queryset=PostAssignment.objects.select_related("post", "org"))
    )
    if form.is_valid():
        q = form.cleaned_data.get("q")
        if q:
            staff = staff.filter(Q(username__icontains=q) | Q(full_name__icontains=q) | Q(employee_no__icontains=q))
        if form.cleaned_data.get("active") in ("0", "1"):
            staff = staff.filter(is_active=form.cleaned_data["active"] == "1")
    org_id = request.GET.get("org")
    selected_org = orgs.filter(pk=org_id).first() if org_id and org_id.isdigit() else None
    if selected_org is not None:
        staff = staff.filter(org__path__startswith=selected_org.path)
    return render(request, "core/staff_list.html", {
        "form": form, "orgs": orgs.order_by("path"), "selected_org": selected_org,
        "can_create": authz.authorize(request.user, "core.manage_staff"),
        "now": timezone.now(), **page(request, staff.order_by("org__path", "username")),
    })


@requires("core.view_staff")
def staff_detail(request, pk):
    member = scoped_get(selectors.visible_staff(request.user), pk=pk)
    can_manage = authz.authorize(request.user, "core.manage_staff", member.org)
    mobile = masking.phone_for(actor(request), member, reveal=request.GET.get("reveal") == "mobile")
    return render(request, "core/staff_detail.html", {
        "member": member,
        "mobile": mobile,
        "assignments": selectors.assignments_of(member),
        "grant_requests": PostGrantRequest.objects.filter(staff=member).select_related("post", "org")[:20],
        "can_manage": can_manage,
        "is_locked": member.is_locked(),
        "reason_form": ReasonForm(),
    })


@never_cache
@requires("core.manage_staff")
def staff_create(request):
    orgs = authz.orgs_in_scope(request.user, "core.manage_staff")
    form = StaffCreateForm(request.POST or None, orgs=orgs)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = run(request, form, staff_services.create_staff, actor(request), username=data["username"],
                     full_name=data["full_name"], org=data["org"], employee_no=data["employee_no"],
                     mobile=data["mobile"], email=data["email"])
        if result is not None:
            member, password = result
            return render(request, "core/staff_password_once.html", {
                "member": member, "password": password, "created": True,
            })
    return render(request, "core/staff_form.html", {"form": form, "title": _("New staff account")})


@requires("core.manage_staff")
def staff_edit(request, pk):
    member = scoped_get(authz.restrict(Staff.objects.select_related("org"), request.user, "core.manage_staff"), pk=pk)
    orgs = authz.orgs_in_scope(request.user, "core.manage_staff").filter(company_id=member.org.company_id)
    initial = {"full_name": member.full_name, "org": member.org, "employee_no": member.employee_no,
               "mobile": member.mobile, "email": member.email}
    form = StaffEditForm(request.POST or None, initial=initial, orgs=orgs)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason")
        new_org = data.pop("org")
        changes = changed_fields(data, initial)
        done = run(request, form, staff_services.update_staff, actor(request), member, reason=reason,
                   org=new_org if new_org != member.org else None, **changes)
        if done is not None:
            messages.success(request, _("The account was saved."))
            return redirect("core:staff_detail", member.pk)
    return render(request, "core/staff_form.html", {"form": form, "member": member, "title": _("Edit staff account")})


def _managed(request, pk) -> Staff:
    return scoped_get(authz.restrict(Staff.objects.select_related("org"), request.user, "core.manage_staff"), pk=pk)


@never_cache
@require_POST
@requires("core.manage_staff")
def staff_reset_password(request, pk):
    member = _managed(request, pk)
    password = run(request, None, staff_services.reset_password, actor(request), member,
                   reason=request.POST.get("reason", ""))
    if password is None:
        return redirect("core:staff_detail", member.pk)
    return render(request, "core/staff_password_once.html", {"member": member, "password": password, "created": False})


@require_POST
@requires("core.manage_staff")
def staff_unlock(request, pk):
    member = _managed(request, pk)
    if run(request, None, staff_services.unlock_staff, actor(request), member, reason=request.POST.get("reason", "")):
        messages.success(request, _("The account was unlocked."))
    return redirect("core:staff_detail", member.pk)


@require_POST
@requires("core.manage_staff")
def staff_set_active(request, pk):
    member = _managed(request, pk)
    active = request.POST.get("active") == "1"
    if run(request, None, staff_services.set_staff_active, actor(request), member, active,
           reason=request.POST.get("reason", "")):
        messages.success(request, _("The account was activated.") if active else _("The account was deactivated."))
    return redirect("core:staff_detail", member.pk)


@requires("core.manage_staff")
def grant_request_create(request, pk):
    member = _managed(request, pk)
    posts = Post.objects.filter(company_id=member.org.company_id, is_active=True).order_by("code")
    orgs = authz.orgs_in_scope(request.user, "core.manage_staff").filter(company_id=member.org.company_id)
    form = GrantRequestForm(request.POST or None, posts=posts, orgs=orgs, initial={"org": member.org})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        doc = run(request, form, post_services.request_post_grant, actor(request), staff=member, post=data["post"],
                  org=data["org"], scope=data["scope"], reason=data["reason"])
        if doc is not None:
            messages.success(request, _("The grant request was submitted for approval."))
            return redirect("core:grant_detail", doc.pk)
    return render(request, "core/grant_form.html", {"form": form, "member": member})


@require_POST
@requires("core.manage_staff")
def assignment_revoke(request, pk):
    assignment = scoped_get(
        authz.restrict(PostAssignment.objects.select_related("staff", "org", "post"), request.user, "core.manage_staff"),
        pk=pk,
    )
    if run(request, None, post_services.revoke_assignment, actor(request), assignment,
           reason=request.POST.get("reason", "")) is not None:
        messages.success(request, _("The post was revoked."))
    return redirect("core:staff_detail", assignment.staff_id)


@requires("core.manage_staff", "core.approve_grants")
def grant_list(request):
    visible = authz.restrict_any(PostGrantRequest.objects.all(), request.user, ("core.manage_staff", "core.approve_grants"))
    status = request.GET.get("status", "")
    if status:
        visible = visible.filter(approval_status=status)
    visible = visible.select_related("staff", "post", "org", "created_by").order_by("-created_at", "-id")
    return render(request, "core/grant_list.html", {"status": status, **page(request, visible)})


@requires("core.manage_staff", "core.approve_grants", "core.view_audit")
def grant_detail(request, pk):
    doc = scoped_get(authz.restrict_any(PostGrantRequest.objects.select_related("staff", "post", "org", "created_by"),
                                        request.user, ("core.manage_staff", "core.approve_grants", "core.view_audit")),
                     pk=pk)
    return render(request, "core/grant_detail.html", {"doc": doc, "approval": selectors.latest_approval(doc)})
