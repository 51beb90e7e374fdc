"""Collection channel pages: the channels, one channel with its meters and run history, create / edit, run now.

A channel's writes (create, change, targets, run) go through ``services.collection``.
"Run now" reads the meters while the request waits: a bus of a few dozen meters answers
in seconds; the scheduled runs of large channels are the job runner's.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from powercis.core import authz
from powercis.core.views.common import actor, changed_fields, page, requires, run, scoped_get

from .. import selectors
from ..forms import ChannelForm, RemoveTargetsForm, TargetsForm
from ..models import CollectionRun, CollectionTarget
from ..models.collection import DEFAULT_DIS
from ..services import collection
from .common import VIEW, chosen_org, flash, scope_orgs, within

COLLECT = ("reading.collect",)
EDIT_FIELDS = ("name", "host", "port", "timeout_seconds", "retries", "data_ids", "run_at", "is_active")


def failure_rows(failures) -> list[dict]:
    """A run's failures, one row per meter: which meter (asset, address or point), and why, per data identifier."""
    rows = []
    for failure in failures or []:
        if not isinstance(failure, dict):
            rows.append({"meter": "", "where": "", "reasons": [str(failure)]})
            continue
        reasons = [f"{e.get('di', '')} {e.get('reason', '')}".strip() for e in failure.get("errors", [])
                   if isinstance(e, dict)]
        if failure.get("reason"):
            reasons.insert(0, str(failure["reason"]))
        rows.append({"meter": failure.get("meter") or "", "reasons": reasons,
                     "where": failure.get("address") or failure.get("metering_point") or ""})
    return rows


@requires(*VIEW)
def channel_list(request):
    org = chosen_org(request)
    channels = within(selectors.visible_channels(request.user), org).annotate(target_count=Count("targets"))
    return render(request, "reading/channel_list.html", {
        "orgs": scope_orgs(request.user), "org": org,
        "can_create": authz.authorize(request.user, "reading.collect"),
        **page(request, channels.order_by("code")),
    })


@requires(*VIEW)
def channel_detail(request, pk):
    channel = scoped_get(selectors.visible_channels(request.user), pk=pk)
    may_collect = authz.authorize(request.user, "reading.collect", channel.org)
    targets = (CollectionTarget.objects.filter(channel=channel)
               .select_related("metering_point", "metering_point__account").order_by("metering_point__code"))
    runs = CollectionRun.objects.filter(channel=channel).select_related("triggered_by", "batch") \
        .order_by("-started_at", "-id")[:30]
    return render(request, "reading/channel_detail.html", {
        "channel": channel, "targets": targets, "runs": [(r, failure_rows(r.failures)) for r in runs],
        "data_ids": channel.data_ids or DEFAULT_DIS,
        "can_edit": may_collect,
        "can_run": may_collect and channel.is_active,
        "targets_form": TargetsForm() if may_collect else None,
    })


@requires(*COLLECT)
def channel_create(request):
    form = ChannelForm(request.POST or None, orgs=scope_orgs(request.user, COLLECT),
                       initial={"data_ids": " ".join(DEFAULT_DIS)})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["data_ids"] = data["data_ids"] or list(DEFAULT_DIS)
        channel = run(request, form, collection.create_channel, actor(request), **data)
        if channel is not None:
            messages.success(request, _("Channel %(code)s was created.") % {"code": channel.code})
            return redirect("reading:channel_detail", channel.pk)
    return render(request, "reading/form.html", {"form": form, "title": _("New collection channel"),
                                                 "cancel": reverse("reading:channel_list")})


@requires(*COLLECT)
def channel_edit(request, pk):
    channel = scoped_get(selectors.visible_channels(request.user), pk=pk)
    if not authz.authorize(request.user, "reading.collect", channel.org):
        return redirect("reading:channel_detail", channel.pk)
    initial = {name: getattr(channel, name) for name in EDIT_FIELDS}
    form = ChannelForm(request.POST or None, editing=True,
                       initial={**initial, "data_ids": " ".join(channel.data_ids or [])})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason", "")
        changes = changed_fields(data, initial)
        if not changes:
            messages.info(request, _("Nothing was changed."))
            return redirect("reading:channel_detail", channel.pk)
        if run(request, form, collection.update_channel, actor(request), channel, reason=reason,
               **changes) is not None:
            messages.success(request, _("Channel %(code)s was saved.") % {"code": channel.code})
            return redirect("reading:channel_detail", channel.pk)
    return render(request, "reading/form.html", {
        "form": form, "title": _("Edit channel %(code)s") % {"code": channel.code},
        "cancel": reverse("reading:channel_detail", args=[channel.pk]),
    })


def _change_targets(request, pk, form, service, report, invalid: str | None = None):
    """Add or remove the channel's meters named in ``form`` through ``service``; ``report`` turns its result
    into a message.  A refusal (unknown numbers, another org) is shown and nothing changes."""
    channel = scoped_get(selectors.visible_channels(request.user), pk=pk)
    if not form.is_valid():
        messages.error(request, invalid or form.errors["codes"][0])
        return redirect("reading:channel_detail", channel.pk)
    result = flash(request, service, actor(request), channel, metering_point_codes=form.cleaned_data["codes"])
    if result is not None:
        report(result)
    return redirect("reading:channel_detail", channel.pk)


@require_POST
@requires(*COLLECT)
def channel_targets(request, pk):
    """Put the metering points named in the form behind the channel (the service names unknown numbers)."""
    return _change_targets(
        request, pk, TargetsForm(request.POST), collection.add_targets,
        lambda added: messages.success(request, _("%(n)s meters were added to the channel.") % {"n": added}),
        invalid=_("Enter at least one metering point number."))


@require_POST
@requires(*COLLECT)
def channel_targets_remove(request, pk):
    """Take the ticked meters off the channel; the result says what was removed and what was not on it."""
    return _change_targets(
        request, pk, RemoveTargetsForm(request.POST), collection.remove_targets,
        lambda result: (messages.success if result.removed else messages.info)(request, result.message))


@require_POST
@requires(*COLLECT)
def channel_run(request, pk):
    channel = scoped_get(selectors.visible_channels(request.user), pk=pk)
    record = flash(request, collection.run_channel, actor(request), channel)
    if record is not None:
        messages.success(request, _("Run finished: %(ok)s of %(n)s meters read, %(failed)s failed.") % {
            "ok": record.succeeded, "n": record.targets, "failed": record.failed})
    return redirect("reading:channel_detail", channel.pk)
