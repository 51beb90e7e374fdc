"""Customer archive pages."""

from django.urls import path

from .views import accounts, changes, contracts, customers

app_name = "customers"

urlpatterns = [
    path("accounts/", accounts.account_list, name="account_list"),
    path("accounts/<int:pk>/", accounts.account_detail, name="account_detail"),
    path("accounts/<int:pk>/edit/", accounts.account_edit, name="account_edit"),
    path("accounts/<int:account_pk>/changes/new/", changes.change_create, name="change_create"),
    path("accounts/<int:account_pk>/contracts/new/", contracts.contract_create, name="contract_create"),
    path("customers/", customers.customer_list, name="customer_list"),
    path("customers/new/", customers.customer_create, name="customer_create"),
    path("customers/<int:pk>/", customers.customer_detail, name="customer_detail"),
    path("customers/<int:pk>/edit/", customers.customer_edit, name="customer_edit"),
    path("customers/<int:pk>/contacts/", customers.contact_add, name="contact_add"),
    path("customers/<int:customer_pk>/accounts/new/", accounts.account_open, name="account_open"),
    path("contacts/<int:pk>/remove/", customers.contact_remove, name="contact_remove"),
    path("changes/", changes.change_list, name="change_list"),
    path("changes/<int:pk>/", changes.change_detail, name="change_detail"),
    path("contracts/", contracts.contract_list, name="contract_list"),
    path("contracts/<int:pk>/renew/", contracts.contract_renew, name="contract_renew"),
    path("contracts/<int:pk>/terminate/", contracts.contract_terminate, name="contract_terminate"),
]
