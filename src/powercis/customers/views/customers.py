"""Customer pages: the customer with its accounts and contacts, create, edit, contacts."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from powercis.core import authz, codelists, masking
from powercis.core.forms import org_choices_field
from powercis.core.views.common import actor, changed_fields, page, requires, run, scoped_get

from .. import selectors
from ..filters import CustomerFilter
from ..forms import ContactForm, CustomerCreateForm, CustomerForm
from ..models import CustomerContact
from ..services import records

EDIT_FIELDS = ("name", "customer_type", "certificate_type", "certificate_no", "mobile", "phone", "email", "address")


@requires(*selectors.VIEW_PERMS)
def customer_list(request):
    filterset = CustomerFilter(request.GET or None, queryset=selectors.visible_customers(request.user)
                               .order_by("customer_no"))
    return render(request, "customers/customer_list.html", {
        "filter": filterset, "can_create": authz.authorize(request.user, "customers.edit"),
        **page(request, filterset.qs),
    })


@requires(*selectors.VIEW_PERMS)
def customer_detail(request, pk):
    customer = scoped_get(selectors.visible_customers(request.user), pk=pk)
    me = actor(request)
    reveal = request.GET.get("reveal", "")
    return render(request, "customers/customer_detail.html", {
        "customer": customer,
        "customer_type": codelists.label(customer.company_id, "customer_type", customer.customer_type),
        "mobile": masking.show(me, customer, "mobile", customer.org, reveal=reveal == "mobile"),
        "phone": masking.show(me, customer, "phone", customer.org, reveal=reveal == "phone"),
        "certificate": masking.show(me, customer, "certificate_no", customer.org, reveal=reveal == "certificate",
                                    masker=masking.mask_id_number),
        "contacts": [(c, masking.mask_phone(c.mobile), masking.mask_phone(c.phone)) for c in customer.contacts.all()],
        "accounts": selectors.visible_accounts(request.user).filter(customer=customer).order_by("account_no"),
        "can_edit": authz.authorize(request.user, "customers.edit", customer.org),
        "contact_form": ContactForm(),
    })


@requires("customers.edit")
def customer_create(request):
    orgs = authz.orgs_in_scope(request.user, "customers.edit")
    form = CustomerCreateForm(request.POST or None, company_id=request.user.org.company_id or request.user.org_id)
    form.fields["org"] = org_choices_field(orgs, _("Org"))
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        customer = run(request, form, records.create_customer, actor(request), **data)
        if customer is not None:
            messages.success(request, _("Customer %(no)s was created.") % {"no": customer.customer_no})
            return redirect("customers:customer_detail", customer.pk)
    return render(request, "customers/form.html", {"form": form, "title": _("New customer"),
                                                   "cancel": reverse("customers:customer_list")})


@requires("customers.edit")
def customer_edit(request, pk):
    customer = scoped_get(selectors.visible_customers(request.user, ("customers.edit",)), pk=pk)
    initial = {f: getattr(customer, f) for f in EDIT_FIELDS}
    form = CustomerForm(request.POST or None, initial=initial, company_id=customer.company_id)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason")
        changes = changed_fields(data, initial)
        if run(request, form, records.update_customer, actor(request), customer, reason=reason, **changes) is not None:
            messages.success(request, _("Customer %(no)s was saved.") % {"no": customer.customer_no})
            return redirect("customers:customer_detail", customer.pk)
    return render(request, "customers/form.html", {
        "form": form, "title": _("Edit customer %(no)s") % {"no": customer.customer_no},
        "cancel": reverse("customers:customer_detail", args=[customer.pk]),
    })


@require_POST
@requires("customers.edit")
def contact_add(request, pk):
    customer = scoped_get(selectors.visible_customers(request.user, ("customers.edit",)), pk=pk)
    form = ContactForm(request.POST)
    if form.is_valid():
        if run(request, None, records.add_contact, actor(request), customer, **form.cleaned_data) is not None:
            messages.success(request, _("The contact was added."))
    else:
        messages.error(request, _("The contact was not added: %(errors)s") % {
            "errors": "; ".join(f"{form.fields[k].label}: {' '.join(v)}" for k, v in form.errors.items()
                                if k in form.fields)})
    return redirect("customers:customer_detail", customer.pk)


@require_POST
@requires("customers.edit")
def contact_remove(request, pk):
    contact = scoped_get(CustomerContact.objects.filter(
        customer__in=selectors.visible_customers(request.user, ("customers.edit",))).select_related("customer"), pk=pk)
    if run(request, None, records.remove_contact, actor(request), contact,
           reason=request.POST.get("reason", "")) is not None:
        messages.success(request, _("The contact was removed."))
    return redirect("customers:customer_detail", contact.customer_id)
