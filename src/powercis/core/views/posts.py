"""Posts (岗位): list, view with holders, create, rename, change the bundled permissions."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from .. import authz, selectors
from ..forms import PostForm, PostPermissionsForm, grouped_permissions
from ..models import PostAssignment
from ..services import posts as post_services
from .common import actor, changed_fields, refuse_unless, requires, run, scoped_get


@requires("core.view_staff")
def post_list(request):
    posts = selectors.visible_posts(request.user).annotate(
        holder_count=Count("assignments", distinct=True), permission_count=Count("permissions", distinct=True)
    ).order_by("company__path", "code")
    return render(request, "core/post_list.html", {
        "posts": posts,
        "can_create": selectors.companies_of(request.user, "core.manage_posts").exists(),
    })


@requires("core.view_staff")
def post_detail(request, pk):
    post = scoped_get(selectors.visible_posts(request.user), pk=pk)
    can_manage = authz.authorize(request.user, "core.manage_posts", post.company)
    held = set(post.permissions.values_list("code", flat=True))
    form = PostPermissionsForm(request.POST or None, initial={"permissions": sorted(held)})
    if request.method == "POST":
        refuse_unless(can_manage, _("Only an administrator of the post's company may change its permissions."))
        if form.is_valid():
            done = run(request, form, post_services.set_post_permissions, actor(request), post,
                       form.cleaned_data["permissions"], reason=form.cleaned_data["reason"])
            if done is not None:
                messages.success(request, _("The post's permissions were saved."))
                return redirect("core:post_detail", post.pk)
    holders = authz.restrict(
        PostAssignment.objects.filter(post=post).select_related("staff", "org"), request.user, "core.view_staff"
    ).order_by("org__path", "staff__username")
    return render(request, "core/post_detail.html", {
        "post": post, "held": held, "groups": grouped_permissions(), "form": form, "can_manage": can_manage,
        "holders": holders, "submitted": form.data.getlist("permissions") if form.is_bound else sorted(held),
    })


@requires("core.manage_posts")
def post_create(request):
    companies = selectors.companies_of(request.user, "core.manage_posts")
    form = PostForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        company = scoped_get(companies, pk=request.POST.get("company") or companies.first().pk)
        post = run(request, form, post_services.create_post, actor(request), company, **form.cleaned_data)
        if post is not None:
            messages.success(request, _("Post %(name)s was created; now choose its permissions.") % {"name": post.label})
            return redirect("core:post_detail", post.pk)
    return render(request, "core/post_form.html", {"form": form, "companies": companies, "title": _("New post")})


@requires("core.manage_posts")
def post_edit(request, pk):
    post = scoped_get(selectors.visible_posts(request.user, "core.manage_posts"), pk=pk)
    initial = {"code": post.code, "label_zh": post.label_zh, "label_en": post.label_en, "description": post.description}
    form = PostForm(request.POST or None, initial=initial)
    form.fields["code"].disabled = True
    if request.method == "POST" and form.is_valid():
        changes = changed_fields(form.cleaned_data, initial, skip=("code",))
        if run(request, form, post_services.update_post, actor(request), post, **changes) is not None:
            messages.success(request, _("The post was saved."))
            return redirect("core:post_detail", post.pk)
    return render(request, "core/post_form.html", {"form": form, "post": post, "title": _("Edit post")})
