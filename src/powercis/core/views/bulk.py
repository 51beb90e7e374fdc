"""Import and export pages: template download, upload and validation, the error list, commit, export.

The pages are thin: the services (``core.bulkio.services``) check permissions and data
scope, validate and write.  A batch page belongs to the person who uploaded the file;
for anyone else it does not exist.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import authz
from ..bulkio import files, services, spec
from ..bulkio.forms import ExportForm, ImportForm, bulk_permissions, usable_specs
from ..models import ImportBatch
from .common import actor, run, scoped_get

#: errors shown on the page; the downloads hold all of them
ERRORS_SHOWN = 200


def bulk_access(view):
    """The user must hold one of the permissions of some importable entity."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        perms = bulk_permissions()
        if not any(authz.authorize(request.user, p) for p in perms):
            raise PermissionDenied(_("You do not have the permission “%(perm)s”.")
                                   % {"perm": authz.permission_label(perms[0] if perms else "customers.import")})
        return view(request, *args, **kwargs)

    return wrapper


def _download(name: str, content_type: str, content):
    """A file download: bytes, an open file, or an iterator of bytes streamed as it is produced."""
    if hasattr(content, "read"):
        return FileResponse(content, as_attachment=True, filename=name, content_type=content_type)
    kind = HttpResponse if isinstance(content, bytes) else StreamingHttpResponse
    response = kind(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


@bulk_access
def import_page(request):
    form = ImportForm(request.user, request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        batch = run(request, form, services.validate_upload, actor(request), entity=form.cleaned_data["entity"],
                    org=form.cleaned_data["org"], file_name=upload.name, content=upload.read())
        if batch is not None:
            return redirect("core:bulk_batch", batch.pk)
    labels = {s.code: s.label for s in spec.all_specs()}
    recent = [(batch, labels.get(batch.entity, batch.entity)) for batch in services.visible_batches(request.user)[:20]]
    return render(request, "core/bulk_import.html", {"form": form, "specs": usable_specs(request.user),
                                                     "recent": recent})


@bulk_access
def import_template(request, entity, fmt):
    found = spec.get(entity)
    if found is None or fmt not in files.FORMATS or found not in usable_specs(request.user):
        raise Http404
    company_id = request.user.org.company_id or request.user.org_id
    return _download(*files.template(found, company_id, fmt))


def _own_batch(request, pk) -> ImportBatch:
    return scoped_get(services.visible_batches(request.user), pk=pk)


@bulk_access
def batch_detail(request, pk):
    batch = _own_batch(request, pk)
    found = spec.get(batch.entity)
    errors = services.errors_of(batch)
    return render(request, "core/bulk_batch.html", {
        "batch": batch, "label": found.label if found else batch.entity, "errors": errors[:ERRORS_SHOWN],
        "more_errors": max(0, len(errors) - ERRORS_SHOWN), "errors_not_kept": max(0, batch.error_count - len(errors)),
        "can_commit": batch.status == ImportBatch.Status.VALIDATED,
        "written": sorted(batch.written.items()),
    })


@bulk_access
@require_POST
def batch_commit(request, pk):
    batch = _own_batch(request, pk)
    done = run(request, None, services.commit, actor(request), batch)
    if done is not None:
        if done.status == ImportBatch.Status.COMMITTED:
            messages.success(request, _("%(rows)s rows were imported.") % {"rows": done.row_count})
        else:
            messages.error(request, _("The records changed since the file was checked; nothing was imported. "
                                      "See the errors below."))
    return redirect("core:bulk_batch", batch.pk)


@bulk_access
def batch_errors(request, pk, fmt):
    if fmt not in files.FORMATS:
        raise Http404
    batch = _own_batch(request, pk)
    return _download(*files.error_report(batch.pk, services.errors_of(batch), fmt))


@bulk_access
def export_page(request):
    form = ExportForm(request.user, request.GET if "entity" in request.GET else None)
    if form.is_bound and form.is_valid():
        result = run(request, form, services.export, actor(request), entity=form.cleaned_data["entity"],
                     org=form.cleaned_data["org"], fmt=form.cleaned_data["fmt"])
        if result is not None:
            return _download(*result)
    return render(request, "core/bulk_export.html", {"form": form})
