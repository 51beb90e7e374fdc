"""Metering pages: metering points and their install history, meters, CT/PT; install, remove, replace."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from powercis.core import authz
from powercis.core.forms import org_choices_field
from powercis.core.views.common import actor, page, requires, run, scoped_get

from . import selectors, services
from .filters import MeteringPointFilter, MeterFilter
from .forms import (
    InstallForm,
    MeterRegisterForm,
    TransformerInstallForm,
    TransformerRegisterForm,
    TransformerRemoveForm,
)
from .models import AssetStatus, InstrumentTransformer, MeterInstallation, TransformerInstallation

VIEW = selectors.VIEW_PERMS


@requires(*VIEW)
def point_list(request):
    filterset = MeteringPointFilter(request.GET or None, queryset=selectors.visible_points(request.user)
                                    .order_by("code"))
    return render(request, "metering/point_list.html", {"filter": filterset, **page(request, filterset.qs)})


def _install_form(request, point, current):
    """The form for the next field job on the point: replace when a meter is installed, else install."""
    meter = None
    asset_no = (request.POST.get("asset_no") or request.GET.get("asset_no") or "").strip()
    if asset_no:
        meter = selectors.visible_meters(request.user).filter(company_id=point.company_id, asset_no=asset_no).first()
    form = InstallForm(request.POST or None, initial={"on": timezone.localdate()})
    if current is not None:
        form.add_read_fields(current.meter.registers, "removal", _("Removal read"))
    if meter is not None:
        form.add_read_fields(meter.registers, "install", _("Install read"))
    return form, meter, asset_no


@requires(*VIEW)
def point_detail(request, pk):
    point = scoped_get(selectors.visible_points(request.user), pk=pk)
    current = selectors.current_meter_installation(point)
    can_install = authz.authorize(request.user, "metering.install", point.org)
    form, meter, asset_no = _install_form(request, point, current) if can_install else (None, None, "")
    if request.method == "POST" and can_install and form.is_valid():
        me = actor(request)
        data = form.cleaned_data
        common = {"on": data["on"], "work_order_ref": data["work_order_ref"], "reason": data["reason"]}
        action = request.POST.get("action")
        if action == "remove" and current is not None:
            done = run(request, form, services.remove_meter, me, current, reads=form.reads("removal"), **common)
        elif meter is None:
            form.add_error(None, _("No meter with asset number %(no)s in your scope.") % {"no": asset_no or "—"})
            done = None
        elif current is not None:
            done = run(request, form, services.replace_meter, me, point, meter, removal_reads=form.reads("removal"),
                       install_reads=form.reads("install"), **common)
        else:
            done = run(request, form, services.install_meter, me, point, meter, reads=form.reads("install"), **common)
        if done is not None:
            messages.success(request, _("Metering point %(code)s was updated.") % {"code": point.code})
            return redirect("metering:point_detail", point.pk)
    today = timezone.localdate()
    return render(request, "metering/point_detail.html", {
        "point": point, "current": current, "meters": selectors.meter_history(point),
        "transformers": selectors.transformer_history(point),
        "multiplier_today": selectors.multiplier_as_of(point, today), "children": point.children.all(),
        "form": form, "asset_no": asset_no, "new_meter": meter, "can_install": can_install,
        "ct_form": TransformerInstallForm(initial={"on": today}) if can_install else None,
    })


@require_POST
@requires("metering.install")
def point_transformer_install(request, pk):
    point = scoped_get(selectors.visible_points(request.user), pk=pk)
    form = TransformerInstallForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        it = selectors.visible_transformers(request.user).filter(company_id=point.company_id,
                                                                 asset_no=data["asset_no"]).first()
        if it is None:
            messages.error(request, _("No CT/PT with asset number %(no)s in your scope.") % {"no": data["asset_no"]})
        elif run(request, None, services.install_transformer, actor(request), point, it, on=data["on"],
                 phase=data["phase"], work_order_ref=data["work_order_ref"]) is not None:
            messages.success(request, _("%(asset)s was installed.") % {"asset": it.asset_no})
    else:
        messages.error(request, _("Fill in the asset number and the date."))
    return redirect("metering:point_detail", point.pk)


@require_POST
@requires("metering.install")
def point_transformer_remove(request, pk):
    inst = scoped_get(TransformerInstallation.objects.filter(
        metering_point__in=selectors.visible_points(request.user)), pk=pk)
    form = TransformerRemoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Fill in the date."))
    elif run(request, None, services.remove_transformer, actor(request), inst, **form.cleaned_data) is not None:
        messages.success(request, _("The CT/PT was removed."))
    return redirect("metering:point_detail", inst.metering_point_id)


@requires(*VIEW)
def meter_list(request):
    filterset = MeterFilter(request.GET or None, queryset=selectors.visible_meters(request.user).order_by("asset_no"))
    return render(request, "metering/meter_list.html", {
        "filter": filterset, "statuses": AssetStatus.choices,
        "can_register": authz.authorize(request.user, "metering.edit"), **page(request, filterset.qs),
    })


@requires(*VIEW)
def meter_detail(request, pk):
    meter = scoped_get(selectors.visible_meters(request.user), pk=pk)
    history = (MeterInstallation.objects.filter(meter=meter).select_related("metering_point__account")
               .order_by("-installed_on", "-id"))
    return render(request, "metering/meter_detail.html", {"meter": meter, "history": history})


def _register(request, form_class, service, title, redirect_to):
    orgs = authz.orgs_in_scope(request.user, "metering.edit")
    form = form_class(request.POST or None)
    form.fields["org"] = org_choices_field(orgs, _("Asset owner org"))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        asset = run(request, form, service, actor(request), **data)
        if asset is not None:
            messages.success(request, _("%(asset)s was registered.") % {"asset": asset.asset_no})
            return redirect(redirect_to)
    return render(request, "metering/form.html", {"form": form, "title": title})


@requires("metering.edit")
def meter_register(request):
    return _register(request, MeterRegisterForm, services.register_meter, _("Register a meter"), "metering:meter_list")


@requires("metering.edit")
def transformer_register(request):
    return _register(request, TransformerRegisterForm, services.register_transformer, _("Register a CT/PT"),
                     "metering:transformer_list")


@requires(*VIEW)
def transformer_list(request):
    transformers = selectors.visible_transformers(request.user).order_by("asset_no")
    asset_no = request.GET.get("asset_no", "").strip()
    if asset_no:
        transformers = transformers.filter(asset_no__startswith=asset_no)
    return render(request, "metering/transformer_list.html", {
        "asset_no": asset_no, "kinds": InstrumentTransformer.Kind.choices,
        "can_register": authz.authorize(request.user, "metering.edit"), **page(request, transformers),
    })


